"""Writes of insights: recording what a network answered, and the rollups.

Collection is the system's work (``actor`` None); numbers are not audited
one by one (they are facts from the network, kept as raw responses)."""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kanal.channels.networks.base import MAX_COUNT, Metric, MetricsSnapshot
from kanal.core.safety import plain_text

from . import conf
from .models import (
    AccountSample,
    ChannelCollection,
    DirtyDay,
    MetricKind,
    PostSample,
    PostTracking,
    RawResponse,
)

logger = logging.getLogger(__name__)

KINDS = frozenset(MetricKind.values)
#: A metric's name as the samples keep it (``name`` is 120 characters).
NAME_LIMIT = 120


def clean_value(metric: Metric, *, channel_id: int, where: str) -> int | None:
    """The metric's number, or None (logged) when it is missing, null,
    negative, larger than a database keeps, not a whole number or text:
    skipped, never stored as zero."""
    value = metric.value
    name = str(metric.name or "")
    if not name or len(name) > NAME_LIMIT or plain_text(name) != name:
        logger.warning("insights: channel %s %s metric with an odd name skipped",
                       channel_id, where)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        logger.warning(
            "insights: channel %s %s metric %r skipped: value %r is not a number",
            channel_id, where, metric.name, value,
        )
        return None
    if value < 0 or value > MAX_COUNT:
        logger.warning(
            "insights: channel %s %s metric %r skipped: %s value %r",
            channel_id, where, metric.name,
            "negative" if value < 0 else "absurdly large", value,
        )
        return None
    return value


def kind_of(metric: Metric) -> str:
    return metric.kind if metric.kind in KINDS else MetricKind.OTHER


def next_sample_due(published_at: datetime, now: datetime) -> datetime | None:
    """When to sample a post of this age again: often while young, rarely
    later, never once it is older than the last step."""
    age = (now - published_at).total_seconds()
    for below, every in conf.get("POST_SAMPLING"):
        if age < below:
            return now + timedelta(seconds=every)
    return None


def mark_dirty(organisation_id: int, days, *, now: datetime) -> None:
    for day in set(days):
        DirtyDay.objects.update_or_create(
            organisation_id=organisation_id, day=day, defaults={"marked_at": now}
        )


def track_publications(channel, publications, *, now: datetime) -> int:
    """Start sampling these published publications of ``channel`` (backfill
    when a channel is first collected; new posts afterwards)."""
    # Every post is read at least once, however old, so its lifetime
    # numbers are kept.
    rows = [
        PostTracking(publication_id=p.pk, channel_id=channel.pk, next_due_at=now,
                     published_at=p.published_at)
        for p in publications
    ]
    PostTracking.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _plain(value):
    """A text of a network's answer as JSON both databases keep (PostgreSQL's
    jsonb refuses NUL and lone surrogates)."""
    return plain_text(value, max_length=500) if isinstance(value, str) else value


def _serialise(snapshot: MetricsSnapshot) -> dict:
    def metric(m: Metric) -> dict:
        value = m.value
        if isinstance(value, float) and not math.isfinite(value):
            value = repr(value)  # JSON has no Infinity; PostgreSQL refuses it
        elif not isinstance(value, (int, float, str, type(None))):
            value = repr(value)
        return {"name": _plain(m.name), "value": _plain(value),
                "kind": _plain(m.kind), "api_version": _plain(m.api_version)}

    return {
        "account": [metric(m) for m in snapshot.account],
        "posts": {
            _plain(str(pid)): [metric(m) for m in metrics]
            for pid, metrics in (snapshot.posts or {}).items()
        },
        "taken_at": snapshot.taken_at.isoformat() if snapshot.taken_at else None,
    }


def record_metrics(
    channel,
    snapshot: MetricsSnapshot,
    *,
    trackings: list[PostTracking],
    now: datetime | None = None,
) -> int:
    """Store one answer of ``fetch_metrics`` for ``channel``.

    Account numbers become the day's snapshot (the day on Kanal's clock, not
    the network's, so a skewed network clock cannot move a day); each tracked
    post gets one reading. A metric seen before and missing now is recorded
    as unavailable, and so is one the network gave as null (never zero).
    Returns the number of numbers stored.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    stored = 0
    with transaction.atomic():
        RawResponse.objects.create(channel=channel, taken_at=now,
                                   body=_serialise(snapshot))
        state, _created = ChannelCollection.objects.select_for_update().get_or_create(
            channel=channel
        )
        stored += _record_account(channel, state, snapshot.account, today, now)
        dirty = {today}
        by_remote = {t.publication.remote_id: t for t in trackings}
        for remote_id, tracking in by_remote.items():
            metrics = (snapshot.posts or {}).get(remote_id)
            stored += _record_post(channel, tracking, metrics, now)
            dirty.add(timezone.localdate(tracking.publication.published_at))
        state.last_day = today
        state.last_collected_at = now
        state.last_error = ""
        state.wait_until = None
        state.save()
        mark_dirty(channel.organisation_id, dirty, now=now)
    return stored


def _absent(metrics, seen: dict) -> dict:
    """Names (-> kind, version) to record as unavailable: every name seen
    before that is not in ``metrics``, and every metric given as null."""
    given = {m.name for m in metrics if m.value is not None}
    absent = {m.name: [kind_of(m), m.api_version or ""]
              for m in metrics if m.value is None}
    absent.update({n: kv for n, kv in seen.items() if n not in given})
    return absent


def _record_account(channel, state, metrics, today: date, now: datetime) -> int:
    stored = 0
    absent = _absent(metrics, state.names_seen)
    for metric in metrics:
        if metric.name in absent:
            continue
        value = clean_value(metric, channel_id=channel.pk, where="account")
        if value is None:
            continue
        kind = kind_of(metric)
        AccountSample.objects.update_or_create(
            channel=channel, day=today, name=metric.name,
            defaults={
                "organisation_id": channel.organisation_id, "kind": kind,
                "api_version": metric.api_version or "", "value": value,
                "available": True, "taken_at": now,
            },
        )
        state.names_seen[metric.name] = [kind, metric.api_version or ""]
        stored += 1
    for name, (kind, version) in absent.items():
        logger.info("insights: channel %s no longer offers account metric %r",
                    channel.pk, name)
        AccountSample.objects.update_or_create(
            channel=channel, day=today, name=name,
            defaults={
                "organisation_id": channel.organisation_id, "kind": kind,
                "api_version": version, "value": None, "available": False,
                "taken_at": now,
            },
        )
    return stored


def _record_post(channel, tracking: PostTracking, metrics, now: datetime) -> int:
    publication = tracking.publication
    due = next_sample_due(publication.published_at, now)
    tracking.next_due_at = due or now
    tracking.finished = due is None
    tracking.last_sampled_at = now
    if metrics is None:
        # Not in the answer: deleted on the network, or not readable now.
        # Nothing is stored for it (no zeros); the dashboards show the last
        # numbers it had.
        if tracking.missing_since is None:
            tracking.missing_since = now
        logger.info("insights: publication %s not in the network's answer",
                    publication.pk)
        tracking.save()
        return 0
    tracking.missing_since = None
    rows = []
    absent = _absent(metrics, tracking.names_seen)
    latest: dict[str, int] = {}
    for metric in metrics:
        if metric.name in absent:
            continue
        value = clean_value(metric, channel_id=channel.pk,
                            where=f"publication {publication.pk}")
        if value is None:
            continue
        kind = kind_of(metric)
        tracking.names_seen[metric.name] = [kind, metric.api_version or ""]
        latest[kind] = latest.get(kind, 0) + value
        rows.append(PostSample(
            organisation_id=channel.organisation_id, channel=channel,
            publication=publication, taken_at=now, name=metric.name, kind=kind,
            api_version=metric.api_version or "", value=value,
        ))
    vanished_kinds = set()
    for name, (kind, version) in absent.items():
        vanished_kinds.add(kind)
        rows.append(PostSample(
            organisation_id=channel.organisation_id, channel=channel,
            publication=publication, taken_at=now, name=name, kind=kind,
            api_version=version, value=None, available=False,
        ))
    # A kind whose number was skipped as unreadable keeps its last value; a
    # kind that vanished altogether has none.
    merged = {k: v for k, v in tracking.latest.items()
              if k not in vanished_kinds or k in latest}
    merged.update(latest)
    tracking.latest = merged
    from .rollups import post_numbers

    numbers = post_numbers(merged)
    tracking.engagement = numbers["engagement"]
    tracking.views = numbers["views"]
    tracking.published_at = publication.published_at
    PostSample.objects.bulk_create(rows)
    tracking.save()
    return sum(1 for r in rows if r.available)


def record_collection_failure(channel, *, message: str, wait_until=None) -> None:
    """Remember why collection failed for ``channel`` (and how long to wait)."""
    state, _created = ChannelCollection.objects.get_or_create(channel=channel)
    state.last_error = message[:2000]
    if wait_until is not None:
        state.wait_until = wait_until
    state.save(update_fields=["last_error", "wait_until"])


def prune_raw_responses(*, now: datetime | None = None, dry_run: bool = False) -> int:
    now = now or timezone.now()
    old = RawResponse.objects.filter(
        taken_at__lt=now - timedelta(days=conf.get("RAW_RETENTION_DAYS"))
    )
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    return deleted


def prune_exports(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete background exports (their files are in the row) asked for more
    than ``EXPORT_RETENTION_DAYS`` ago, finished or not. Returns how many."""
    from .models import ExportJob

    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.get("EXPORT_RETENTION_DAYS"))
    old = ExportJob.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    if deleted:
        logger.info("insights: %s exports older than %s deleted", deleted, cutoff)
    return deleted


def request_export(*, actor, table: str, file_format: str, start, end):
    """Queue a background export of ``table`` for ``actor`` (audited)."""
    from kanal.core import audit

    from .models import ExportJob
    from .policies import insights_policy

    insights_policy.check(actor, "export")
    with transaction.atomic():
        job = ExportJob.objects.create(
            organisation_id=actor.organisation_id, requested_by=actor, table=table,
            file_format=file_format, start=start, end=end,
        )
        audit.record("insights.export.requested", actor=actor,
                     organisation=actor.organisation, target=job,
                     changes={"table": table, "format": file_format,
                              "period": f"{start}..{end}"})

        def enqueue():
            from .tasks import run_export

            run_export.enqueue(job.pk)

        transaction.on_commit(enqueue)
    return job


def make_export(job_id: int) -> None:
    """Build the file of one export job, writing its progress as it goes."""
    from . import exports
    from .models import ExportJob, ExportStatus
    from .selectors import Period, build_table

    claimed = ExportJob.objects.filter(
        pk=job_id, status=ExportStatus.QUEUED
    ).update(status=ExportStatus.RUNNING, progress=5)
    if not claimed:
        return
    job = ExportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        percent = 10 + int(85 * done / max(total, 1))
        ExportJob.objects.filter(pk=job_id).update(progress=min(percent, 95))

    try:
        table = build_table(job.organisation_id, job.table, Period(job.start, job.end))
        ExportJob.objects.filter(pk=job_id).update(progress=10)
        content = exports.render(table, job.file_format, progress)
    except Exception as error:
        logger.exception("insights: export %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED, error=repr(error)[:2000],
            finished_at=timezone.now(),
        )
        return
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportStatus.DONE, progress=100, content=content,
        file_name=f"kanal-{job.table}-{job.start}-{job.end}.{job.file_format}",
        finished_at=timezone.now(),
    )


def set_report_subscriptions(*, actor, cadences) -> set[str]:
    """Subscribe ``actor`` to exactly the reports in ``cadences`` (monthly,
    quarterly) by e-mail (audited). Returns the cadences now subscribed."""
    from kanal.core import audit

    from .models import ReportCadence, ReportSubscription
    from .policies import insights_policy

    insights_policy.check(actor, "view")
    wanted = set(cadences)
    unknown = wanted - set(ReportCadence.values)
    if unknown:
        raise ValueError(f"Unknown report cadences {sorted(unknown)}")
    with transaction.atomic():
        current = set(ReportSubscription.objects.filter(
            membership=actor).values_list("cadence", flat=True))
        ReportSubscription.objects.filter(
            membership=actor, cadence__in=current - wanted).delete()
        for cadence in sorted(wanted - current):
            ReportSubscription.objects.create(membership=actor, cadence=cadence)
        if wanted != current:
            audit.record("insights.report_subscription.changed", actor=actor,
                         organisation=actor.organisation, target=actor,
                         changes={"before": sorted(current), "after": sorted(wanted)})
    return wanted


def rendered_report(organisation, cadence: str, period, *, now: datetime):
    """The stored report of ``period``, rendered now if it is not yet."""
    from . import report
    from .models import RenderedReport

    found = RenderedReport.objects.filter(
        organisation=organisation, cadence=cadence, period_start=period.start
    ).first()
    if found is not None:
        return found
    content = report.render_report(organisation, cadence, period.start)
    kind = "maanedsrapport" if cadence == report.MONTHLY else "kvartalsrapport"
    stored, _created = RenderedReport.objects.get_or_create(
        organisation=organisation, cadence=cadence, period_start=period.start,
        defaults={"period_end": period.end, "content": content, "rendered_at": now,
                  "file_name": f"kanal-{kind}-{period.start}.pdf"},
    )
    return stored


def send_due_reports(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """E-mail the last complete month's (quarter's) report to each member
    who subscribed to it: rendered once per organisation and period, sent
    once per member and period however often this runs. Returns how many
    members were sent a report (would be, with ``dry_run``)."""
    from kanal.organisations.models import Organisation
    from kanal.publishing.periodic import each_guarded

    from . import report
    from .models import ReportDelivery, ReportSubscription
    from .policies import insights_policy

    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    for cadence in report.CADENCES:
        period = report.last_complete_period(cadence, today)
        done = ReportDelivery.objects.filter(
            cadence=cadence, period_start=period.start).values("membership_id")
        due = list(
            ReportSubscription.objects.filter(
                cadence=cadence, membership__is_active=True,
                membership__user__is_active=True,
            ).exclude(membership_id__in=done)
            .select_related("membership__user", "membership__organisation")
            .order_by("membership__organisation_id", "pk")
        )
        due = [s for s in due if insights_policy.can(s.membership, "view")]
        if dry_run:
            sent += len(due)
            continue
        by_org: dict[int, list] = {}
        for subscription in due:
            by_org.setdefault(subscription.membership.organisation_id, []).append(
                subscription)

        def send(organisation_id, cadence=cadence, period=period, by_org=by_org):
            organisation = Organisation.objects.get(pk=organisation_id)
            stored = rendered_report(organisation, cadence, period, now=now)
            return sum(deliver_report(subscription.membership, stored, now=now)
                       for subscription in by_org[organisation_id])

        # Each organisation guarded: one whose report cannot be made never
        # keeps the others' members from theirs.
        sent += each_guarded("insights_report_emails", list(by_org), send)
    return sent


def deliver_report(member, stored, *, now: datetime) -> int:
    """Send ``stored`` to ``member`` through notifications (in the app, and
    by e-mail with the PDF attached unless they turned that kind off), once:
    the delivery row is the claim, written in the same transaction. The
    e-mail leaves after that commits, so a crash in between loses one e-mail
    (the report stays in the app) rather than sending it twice."""
    from django.db import IntegrityError
    from django.urls import reverse

    from kanal.notifications.actions import notify

    from .models import ReportDelivery

    try:
        with transaction.atomic():
            ReportDelivery.objects.create(
                membership=member, report=stored, cadence=stored.cadence,
                period_start=stored.period_start, sent_at=now,
            )
            notify(
                [member], kind="report_ready",
                params={"report_cadence": stored.cadence,
                        "report_period": f"{stored.cadence}:{stored.period_start}"},
                about=stored,
                url=reverse("insights:stored_report", args=[stored.pk]),
                attachments=((stored.file_name, bytes(stored.content),
                              "application/pdf"),),
            )
    except IntegrityError:
        # Another run delivered it first.
        return 0
    return 1
