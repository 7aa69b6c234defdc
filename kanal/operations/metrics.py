"""Prometheus metrics, read from the database at scrape time.

The worker is another process (often several, on several machines), so
nothing here is counted in memory: publications, outcomes (counted by the
engine in ``OutcomeTally`` as it records them), channels, crises and worker
heartbeats are read from the tables every worker writes. Only request
latency is this web process's own (``kanal.core.observability``), summed over
the web tier's processes through ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from kanal.channels.models import Channel, ChannelStatus
from kanal.core.observability import REQUESTS
from kanal.organisations.models import Organisation
from kanal.organisations.throttle import parse_address
from kanal.publishing import heartbeat
from kanal.publishing.engine import db_now
from kanal.publishing.models import (
    CLAIMABLE,
    Crisis,
    FollowUp,
    OutcomeTally,
    Publication,
    PublicationStatus,
    WorkerHeartbeat,
)
from kanal.publishing.outcomes import RULES

#: A due publication not claimed within this many seconds is overdue.
OVERDUE_SECONDS = 60
#: Outcomes after which the engine tries the publication again by itself.
RETRY_STATUSES = (PublicationStatus.RETRYING, PublicationStatus.UNKNOWN)


class DatabaseCollector:
    """Gauges and counters from the database, on the database's clock."""

    def collect(self):
        now = db_now()
        yield from self._publications(now)
        yield from self._outcomes()
        yield from self._channels()
        yield from self._crises()
        yield from self._workers(now)

    def _publications(self, now):
        by_status = GaugeMetricFamily(
            "kanal_publications", "Publications by status.", labels=["status"]
        )
        counts = dict(
            Publication.objects.values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in PublicationStatus.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        claimable = Publication.objects.filter(status__in=CLAIMABLE)
        due = claimable.filter(due_at__lte=now)
        yield GaugeMetricFamily(
            "kanal_publications_due",
            "Publications due now and not yet claimed by a worker.",
            value=due.count(),
        )
        yield GaugeMetricFamily(
            "kanal_publications_overdue",
            f"Publications due for more than {OVERDUE_SECONDS} s and not claimed.",
            value=due.filter(
                due_at__lte=now - _seconds(OVERDUE_SECONDS)
            ).count(),
        )
        oldest = due.aggregate(oldest=Min("due_at"))["oldest"]
        yield GaugeMetricFamily(
            "kanal_publishing_lag_seconds",
            "How long the oldest due, unclaimed publication has waited.",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        recent = Publication.objects.filter(
            status=PublicationStatus.PUBLISHED,
            published_manually=False,
            published_at__gte=now - _seconds(3600),
        ).values_list("planned_at", "published_at")
        delays = [max(0.0, (out - planned).total_seconds()) for planned, out in recent]
        delay = GaugeMetricFamily(
            "kanal_publish_delay_seconds",
            "Planned time to publication, over the last hour's publications.",
            labels=["stat"],
        )
        delay.add_metric(["max"], max(delays, default=0.0))
        delay.add_metric(["mean"], sum(delays) / len(delays) if delays else 0.0)
        yield delay
        follow_ups = GaugeMetricFamily(
            "kanal_follow_ups", "Follow-up work (first comments, pins) by status.",
            labels=["status"],
        )
        for status, n in FollowUp.objects.values_list("status").annotate(
            n=Count("pk")
        ).values_list("status", "n"):
            follow_ups.add_metric([status], n)
        yield follow_ups

    def _outcomes(self):
        outcomes = CounterMetricFamily(
            "kanal_publish_outcomes",
            "Finished publishing calls by network and outcome (the outcome "
            "table's row).",
            labels=["network", "kind"],
        )
        retries = CounterMetricFamily(
            "kanal_publish_retries",
            "Finished calls after which the engine tries again by itself.",
            labels=["network"],
        )
        retried: dict[str, int] = {}
        for network, kind, n in OutcomeTally.objects.order_by(
            "network", "kind"
        ).values_list("network", "kind", "count"):
            outcomes.add_metric([network, kind], n)
            rule = RULES.get(kind)
            retried.setdefault(network, 0)
            if rule is not None and rule.status in RETRY_STATUSES:
                retried[network] += n
        for network, n in retried.items():
            retries.add_metric([network], n)
        yield outcomes
        yield retries

    def _channels(self):
        channels = GaugeMetricFamily(
            "kanal_channels", "Channels by network and status.",
            labels=["network", "status"],
        )
        reconnect = 0
        for network, status, n in (
            Channel.objects.values_list("network", "status")
            .annotate(n=Count("pk"))
            .order_by("network", "status")
            .values_list("network", "status", "n")
        ):
            channels.add_metric([network, status], n)
            if status == ChannelStatus.NEEDS_RECONNECT:
                reconnect += n
        yield channels
        yield GaugeMetricFamily(
            "kanal_channels_needing_reconnect",
            "Channels that must be connected again before they can publish.",
            value=reconnect,
        )

    def _crises(self):
        active = GaugeMetricFamily(
            "kanal_crisis_active",
            "1 while the organisation is in crisis mode (publishing paused).",
            labels=["organisation"],
        )
        in_crisis = set(
            Crisis.objects.filter(ended_at__isnull=True).values_list(
                "organisation_id", flat=True
            )
        )
        for pk, slug in Organisation.objects.values_list("pk", "slug"):
            active.add_metric([slug], 1 if pk in in_crisis else 0)
        yield active

    def _workers(self, now):
        age = GaugeMetricFamily(
            "kanal_worker_heartbeat_age_seconds",
            "Seconds since each running worker's main loop last went round.",
            labels=["worker"],
        )
        live = 0
        limit = heartbeat.max_age()
        for owner, beat_at in WorkerHeartbeat.objects.filter(
            stopped_at__isnull=True
        ).values_list("owner", "beat_at"):
            seconds = max(0.0, (now - beat_at).total_seconds())
            age.add_metric([owner], seconds)
            if seconds <= limit.total_seconds():
                live += 1
        yield age
        yield GaugeMetricFamily(
            "kanal_workers_live",
            "Workers whose heartbeat is recent (what /readyz requires).",
            value=live,
        )


def _seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


class _RequestsCollector:
    """This process's request latency, or every web process's."""

    def collect(self):
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=directory)
            yield from registry.collect()
        else:
            yield from REQUESTS.collect()


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    registry.register(_RequestsCollector())
    return generate_latest(registry)


_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def may_scrape(request) -> bool:
    """With ``KANAL_METRICS_TOKEN``: the bearer token, from anywhere. Without
    it: only a direct request from this machine (a request that came through
    a proxy carries X-Forwarded-For and is refused)."""
    token = settings.KANAL_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if "X-Forwarded-For" in request.headers:
        return False
    address = parse_address(request.META.get("REMOTE_ADDR", ""))
    return address is not None and any(
        address.version == network.version and address in network
        for network in _LOOPBACK
    )
