"""The publishing engine: claim due publications, call the network outside
any transaction, record the result.

Zulip's ``try_deliver_one_scheduled_message`` pattern, in batches:
``claim_due`` moves due rows to ``publishing`` with a lease in one short
transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's
IMMEDIATE transactions serialise claimers), re-checking at send time what may
have changed since scheduling. ``execute`` runs in a worker thread and touches
the database only to save an adapter's checkpoint. ``record`` stores the
outcome and decides: published, retry later, wait, reconcile, or fail.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels import vault
from kanal.channels.actions import adapter_options, mark_channel_needs_reconnect
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks import adapter_class
from kanal.channels.networks.base import (
    Connection,
    MediaItem,
    OutgoingPost,
    PublishResult,
)
from kanal.channels.networks.errors import (
    AuthExpired,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.core import audit
from kanal.core.safety import safe_url

from . import conf
from .actions import notify, publication_changed
from .models import CLAIMABLE, Notification, Publication, PublicationStatus
from .selectors import active_crisis_scopes

logger = logging.getLogger("kanal.publishing.engine")
S = PublicationStatus

#: Tests swap adapters here: network slug -> adapter class.
ADAPTER_OVERRIDES: dict[str, type] = {}


_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()


def shared_client(network: str, base_url: str):
    """One ``NetworkClient`` per network and base URL for the whole process.

    Building an httpx client costs ~20 ms of CPU (its TLS context); sharing
    one (httpx clients are thread-safe) keeps a burst from being CPU-bound and
    reuses keep-alive connections.
    """
    from kanal.channels.networks.http import DEFAULT_TIMEOUT, NetworkClient

    key = (network, base_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            timeout = conf.get("HTTP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT
            client = NetworkClient(network=network, base_url=base_url,
                                   timeout=timeout)
            _clients[key] = client
        return client


def build_adapter(conn: Connection, *, channel_id: int | None = None):
    """The adapter for ``conn``; with ``channel_id``, new tokens it receives
    mid-work are stored on that channel."""
    cls = ADAPTER_OVERRIDES.get(conn.network) or adapter_class(conn.network)
    return cls(
        conn,
        client=shared_client(conn.network, conn.base_url),
        **adapter_options(cls, channel_id),
    )


@dataclass
class Job:
    publication_id: int
    lease_token: str
    organisation_id: int
    channel_id: int
    network: str
    connection: Connection | None
    text: str
    link: str
    media: list
    idempotency_key: str
    checkpoint: dict
    needs_reconcile: bool
    # "late" or "crisis": only ask the network, never send.
    reconcile_only: str
    since: datetime
    setup_error: str = ""
    is_crisis: bool = False


@dataclass
class Outcome:
    kind: str  # published | error | cannot_reconcile | not_found | crash
    result: PublishResult | None = None
    error: BaseException | None = None
    reconciled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Claim

#: organisation id -> channel ids in crisis (None: all). Refreshed by the
#: worker's main thread every turn; read by call threads just before a call,
#: so a claimed job still waiting for a thread never starts after a switch.
crisis_scopes: dict[int, set[int] | None] = {}


def refresh_crisis_scopes() -> None:
    global crisis_scopes
    crisis_scopes = active_crisis_scopes()


def _in_crisis(organisation_id: int, channel_id: int, scopes) -> bool:
    scope = scopes.get(organisation_id, False)
    return scope is not False and (scope is None or channel_id in scope)


def claim_due(*, owner: str, limit: int, now: datetime | None = None) -> list[Job]:
    """Claim up to ``limit`` due publications for ``owner``; re-check each."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    token = uuid.uuid4().hex
    channel_limit = conf.get("CHANNEL_CONCURRENCY")
    network_limit = conf.get("NETWORK_CONCURRENCY")
    with transaction.atomic():
        qs = (
            Publication.objects.filter(status__in=CLAIMABLE, due_at__lte=now)
            .order_by("due_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        candidates = list(
            qs.select_related("channel")[: max(limit * 4, limit + 50)]
        )
        if not candidates:
            return []
        in_flight = Publication.objects.filter(status=S.PUBLISHING)
        per_channel = dict(
            in_flight.values_list("channel_id").annotate(n=Count("pk"))
        )
        per_network = dict(
            in_flight.values_list("channel__network").annotate(n=Count("pk"))
        )
        crises = active_crisis_scopes()
        global crisis_scopes
        crisis_scopes = crises
        quota_used: dict[int, tuple[int, datetime | None]] = {}
        chosen: list[Publication] = []
        for pub in candidates:
            if len(chosen) >= limit:
                break
            channel = pub.channel
            verdict = _recheck(pub, channel, now, crises, quota_used)
            if verdict is not None:
                _apply_verdict(pub, now, *verdict)
                continue
            if (
                per_channel.get(channel.pk, 0) >= channel_limit
                or per_network.get(channel.network, 0) >= network_limit
            ):
                continue
            per_channel[channel.pk] = per_channel.get(channel.pk, 0) + 1
            per_network[channel.network] = per_network.get(channel.network, 0) + 1
            chosen.append(pub)
        if not chosen:
            return []
        Publication.objects.filter(
            pk__in=[p.pk for p in chosen], status__in=CLAIMABLE
        ).update(
            status=S.PUBLISHING,
            lease_token=token,
            lease_owner=owner[:120],
            lease_expires_at=now + conf.lease(),
            attempts=F("attempts") + 1,
            first_sent_at=Coalesce(F("first_sent_at"), now),
            claimed_at=now,
            updated_at=now,
        )
    return [_job(pub, token, now, crises) for pub in chosen]


def _recheck(pub, channel, now, crises, quota_used):
    """What changed since scheduling: (status, message, kind, due) or None."""
    if pub.needs_reconcile:
        # The post may already be out: always ask the network first (the
        # job sends nothing when it is late or in crisis, see _job).
        return None
    if now > pub.late_after and not pub.is_crisis:
        return (
            S.MISSED,
            _(
                "Opslaget nåede ikke ud inden for %(h)s efter det planlagte "
                "tidspunkt og sendes ikke for sent af sig selv."
            )
            % {"h": _hours(conf.late_cutoff())},
            "late",
            None,
        )
    scope = crises.get(pub.organisation_id, False)
    if scope is not False and not pub.is_crisis and (
        scope is None or channel.pk in scope
    ):
        return (S.PAUSED, _("Krisetilstand er slået til."), "crisis", None)
    if channel.status == ChannelStatus.DISABLED:
        return (
            S.FAILED,
            _("Kanalen er slået fra. Slå den til igen, eller annullér opslaget."),
            "channel_disabled",
            None,
        )
    if channel.status != ChannelStatus.CONNECTED:
        return (
            S.WAITING,
            _(
                "Kanalen skal forbindes igen. Opslaget venter og sendes, når en "
                "administrator har forbundet den."
            ),
            "channel_needs_reconnect",
            now + timedelta(seconds=60),
        )
    expired = _expired_media(pub.media, now)
    if expired:
        return (
            S.FAILED,
            _(
                "Rettighederne til billedet eller videoen '%(name)s' er udløbet. "
                "Skift mediet, og planlæg opslaget igen."
            )
            % {"name": expired},
            "media_rights_expired",
            None,
        )
    if pub.post_id and not _approval_stands(pub):
        return (
            S.CANCELLED,
            _("Godkendelsen af opslaget gælder ikke længere, så det sendes ikke."),
            "approval_withdrawn",
            None,
        )
    quota = conf.get("DAILY_QUOTA").get(channel.network)
    if quota:
        if channel.pk not in quota_used:
            quota_used[channel.pk] = _quota_usage(channel.pk, now)
        used, oldest = quota_used[channel.pk]
        if used >= quota:
            reset = (oldest or now) + timedelta(hours=24)
            return (
                S.WAITING,
                _(
                    "Kontoens kvote på %(n)d opslag i døgnet er brugt. Opslaget "
                    "venter og sendes, når der er plads (omkring %(at)s)."
                )
                % {"n": quota, "at": _local(reset)},
                "quota",
                reset,
            )
        quota_used[channel.pk] = (used + 1, oldest or now)
    return None


def _apply_verdict(pub, now, status, message, kind, due) -> None:
    previous = pub.status
    pub.status = status
    pub.last_error = message
    pub.error_kind = kind
    fields = ["status", "last_error", "error_kind", "updated_at"]
    if due is not None:
        pub.due_at = due
        fields.append("due_at")
    pub.save(update_fields=fields)
    if previous != status:
        audit.record(
            f"publishing.publication.{status}",
            organisation=pub.organisation,
            target=pub,
            changes={"status": [previous, status], "reason": kind},
        )
        publication_changed([pub.post_id])
        if status in (S.FAILED, S.MISSED):
            _notify_failure(pub)


def _approval_stands(pub) -> bool:
    if not apps.is_installed("kanal.planning"):
        return True
    try:
        from kanal.planning import bridge
    except ImportError:
        return True
    check = getattr(bridge, "approval_stands", None)
    if check is None:
        return True
    return bool(check(post_id=pub.post_id, revision_id=pub.revision_id))


def _expired_media(media, now) -> str:
    for item in media or ():
        until = item.get("rights_expire_at") or item.get("rights_until")
        if not until:
            continue
        try:
            until_at = datetime.fromisoformat(str(until))
        except ValueError:
            continue
        if timezone.is_naive(until_at):
            until_at = timezone.make_aware(until_at, timezone.UTC)
        if until_at <= now:
            return str(item.get("path") or item.get("alt_text") or "?")
    return ""


def _quota_usage(channel_id: int, now: datetime) -> tuple[int, datetime | None]:
    recent = Publication.objects.filter(
        channel_id=channel_id,
        status__in=(S.PUBLISHED, S.PUBLISHING),
        published_manually=False,
        updated_at__gte=now - timedelta(hours=24),
    )
    stamps = sorted(
        t or now for t in recent.values_list("published_at", flat=True)
    )
    return len(stamps), (stamps[0] if stamps else None)


def _job(pub: Publication, token: str, now: datetime, crises=None) -> Job:
    conn = None
    setup_error = ""
    try:
        conn = pub.channel.connection()
    except vault.VaultError:
        setup_error = _(
            "Kanalens adgangsoplysninger kan ikke læses. En administrator skal "
            "forbinde kanalen igen."
        )
    return Job(
        publication_id=pub.pk,
        lease_token=token,
        organisation_id=pub.organisation_id,
        channel_id=pub.channel_id,
        network=pub.channel.network,
        connection=conn,
        text=pub.text,
        link=pub.link,
        media=list(pub.media or ()),
        idempotency_key=pub.idempotency_key,
        checkpoint=dict(pub.checkpoint or {}),
        needs_reconcile=pub.needs_reconcile,
        reconcile_only=_reconcile_only(pub, now, crises or {}),
        since=(pub.first_sent_at or now) - timedelta(minutes=5),
        setup_error=setup_error,
        is_crisis=pub.is_crisis,
    )


def _reconcile_only(pub, now, crises) -> str:
    if not pub.needs_reconcile or pub.is_crisis:
        return ""
    scope = crises.get(pub.organisation_id, False)
    if scope is not False and (scope is None or pub.channel_id in scope):
        return "crisis"
    if now > pub.late_after:
        return "late"
    return ""


# ---------------------------------------------------------------------------
# Execute (in a worker thread; no transaction)


def execute(job: Job) -> Outcome:
    if job.setup_error:
        return Outcome("error", error=AuthExpired(job.setup_error))
    if not job.is_crisis and _in_crisis(
        job.organisation_id, job.channel_id, crisis_scopes
    ):
        return Outcome("paused")
    try:
        adapter = build_adapter(job.connection, channel_id=job.channel_id)
        if job.needs_reconcile:
            try:
                found = adapter.find_published(
                    idempotency_key=job.idempotency_key,
                    text=job.text,
                    since=job.since,
                    checkpoint=job.checkpoint or None,
                )
            except NotSupported:
                return Outcome("cannot_reconcile")
            if found is not None:
                return Outcome("published", result=found, reconciled=True)
            if job.reconcile_only:
                return Outcome("not_found", extra={"why": job.reconcile_only})
        post = OutgoingPost(text=job.text, link=job.link, media=_media_items(job.media))
        try:
            result = adapter.publish(
                post,
                idempotency_key=job.idempotency_key,
                checkpoint=job.checkpoint or None,
                on_checkpoint=lambda cp: save_checkpoint(job, cp),
            )
        except Rejected as refusal:
            found = _lost_attempt_named_by(adapter, job, refusal)
            if found is None:
                raise
            return Outcome("published", result=found, reconciled=True)
        return Outcome("published", result=result)
    except NetworkError as e:
        return Outcome("error", error=e)
    except Exception as e:
        logger.exception("publication %s: unexpected error", job.publication_id)
        return Outcome("crash", error=e)


def _lost_attempt_named_by(adapter, job: Job, refusal: Rejected):
    """After an unknown outcome, a duplicate refusal that names the existing
    post (LinkedIn's 422 DUPLICATE_POST) means the lost attempt got through:
    look that post up instead of failing. Returns None when it is not so."""
    if not job.needs_reconcile:
        return None
    named = getattr(adapter, "duplicate_of", None)
    existing = named(refusal) if named is not None else ""
    if not existing:
        return None
    return adapter.find_published(
        idempotency_key=job.idempotency_key,
        text=job.text,
        since=job.since,
        checkpoint={**job.checkpoint, "duplicate_of": existing},
    )


def _media_items(media) -> tuple[MediaItem, ...]:
    items = []
    base = settings.KANAL_BASE_URL.rstrip("/") + "/" + settings.MEDIA_URL.strip("/")
    for item in media or ():
        path = item.get("path", "")
        data = b""
        if path:
            with default_storage.open(path, "rb") as f:
                data = f.read()
        items.append(
            MediaItem(
                kind=item.get("kind", "image"),
                mime_type=item.get("mime_type", "image/jpeg"),
                alt_text=item.get("alt_text", ""),
                data=data,
                public_url=f"{base}/{path}" if path else "",
                filename=path.rsplit("/", 1)[-1],
                width=item.get("width"),
                height=item.get("height"),
            )
        )
    return tuple(items)


def save_checkpoint(job: Job, checkpoint) -> None:
    job.checkpoint = {**job.checkpoint, **dict(checkpoint)}
    Publication.objects.filter(
        pk=job.publication_id, lease_token=job.lease_token
    ).update(checkpoint=job.checkpoint)


# ---------------------------------------------------------------------------
# Record


def backoff(attempts: int, error: BaseException | None, now: datetime) -> datetime:
    base = conf.get("BACKOFF_BASE_SECONDS")
    cap = conf.get("BACKOFF_MAX_SECONDS")
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    delay = random.uniform(delay / 2, delay)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        delay = max(delay, float(retry_after))
    at = now + timedelta(seconds=delay)
    reset_at = getattr(error, "reset_at", None)
    if reset_at and reset_at > at:
        at = reset_at
    return at


_deferred = threading.local()


def _audit(event: str, **kwargs) -> None:
    """``audit.record``, or, inside ``record_many``, queued until just before
    the batch commits: the audit chain's head is one locked row, so taking it
    last keeps concurrent workers from queueing behind each other's batches."""
    queue = getattr(_deferred, "audits", None)
    if queue is None:
        audit.record(event, **kwargs)
    else:
        queue.append((event, kwargs))


def record_many(results, *, now: datetime | None = None) -> list[str]:
    """Record several finished calls in one transaction; if that fails, one
    by one (a row that still cannot be recorded is left to the sweeper)."""
    now = now or timezone.now()
    try:
        _deferred.audits = []
        _deferred.notes = []
        with transaction.atomic():
            pubs = Publication.objects.select_for_update(of=("self",)).select_related(
                "channel", "organisation"
            ).in_bulk([job.publication_id for job, _ in results])
            statuses = [
                _record_locked(pubs[job.publication_id], job, outcome, now)
                for job, outcome in results
            ]
            notes, _deferred.notes = _deferred.notes, None
            Notification.objects.bulk_create(notes)
            audits, _deferred.audits = _deferred.audits, None
            for event, kwargs in audits:
                audit.record(event, **kwargs)
        return statuses
    except Exception:
        logger.exception("batch record failed; recording one by one")
    finally:
        _deferred.audits = None
        _deferred.notes = None
    statuses = []
    for job, outcome in results:
        try:
            statuses.append(record(job, outcome, now=now))
        except Exception:
            logger.exception("could not record publication %s", job.publication_id)
            statuses.append("")
    return statuses


def record(job: Job, outcome: Outcome, *, now: datetime | None = None) -> str:
    """Store the outcome of one call; return the publication's new status."""
    now = now or timezone.now()
    with transaction.atomic():
        pub = (
            Publication.objects.select_for_update(of=("self",))
            .select_related("channel", "organisation")
            .get(pk=job.publication_id)
        )
        return _record_locked(pub, job, outcome, now)


def _record_locked(pub, job, outcome, now) -> str:
    if pub.lease_token != job.lease_token or pub.status != S.PUBLISHING:
        return _record_stale(pub, outcome, now)
    if outcome.kind == "published":
        _published(pub, outcome, now)
    else:
        _not_published(pub, outcome, now)
    return pub.status


def _record_stale(pub, outcome, now) -> str:
    # The lease ran out during a slow call and the sweeper took the row back.
    # A success is still a fact: record it unless someone else already did.
    if outcome.kind == "published" and pub.status in (*CLAIMABLE, S.FAILED):
        _published(pub, outcome, now)
        return pub.status
    logger.warning(
        "publication %s: result of an expired claim ignored (%s)",
        pub.pk,
        outcome.kind,
    )
    return pub.status


def _clear_lease(pub) -> list[str]:
    pub.lease_token = ""
    pub.lease_owner = ""
    pub.lease_expires_at = None
    return ["lease_token", "lease_owner", "lease_expires_at"]


def _published(pub, outcome, now) -> None:
    from .tasks import after_publication

    previous = pub.status
    result = outcome.result
    pub.status = S.PUBLISHED
    pub.remote_id = result.remote_id
    pub.url = safe_url(result.url)  # a network's answer: http(s) only
    pub.published_at = result.published_at or now
    pub.needs_reconcile = False
    pub.last_error = ""
    pub.error_kind = ""
    pub.save(
        update_fields=[
            "status",
            "remote_id",
            "url",
            "published_at",
            "needs_reconcile",
            "last_error",
            "error_kind",
            "updated_at",
            *_clear_lease(pub),
        ]
    )
    _audit(
        "publishing.publication.published",
        organisation=pub.organisation,
        target=pub,
        changes={
            "status": [previous, pub.status],
            "remote_id": pub.remote_id,
            "url": pub.url,
            "attempts": pub.attempts,
            "reconciled": outcome.reconciled,
        },
    )
    publication_changed([pub.post_id])
    note = Notification(
        organisation_id=pub.organisation_id,
        administration_id=pub.channel.owner_administration_id,
        kind="published",
        message=_("%(channel)s: opslaget er udgivet.") % {"channel": pub.channel},
        publication=pub,
        url=pub.url,
    )
    pending = getattr(_deferred, "notes", None)
    if pending is None:
        note.save()
    else:
        pending.append(note)
    if (pub.first_comment or pub.pin) and pub.remote_id:
        publication_id = pub.pk
        transaction.on_commit(lambda: after_publication.enqueue(publication_id))


def _not_published(pub, outcome, now) -> None:
    error = outcome.error
    fields = ["status", "last_error", "error_kind", "error_detail", "due_at",
              "needs_reconcile", "attempts", "updated_at", *_clear_lease(pub)]
    max_attempts = conf.get("MAX_ATTEMPTS")
    pub.error_detail = getattr(error, "support_detail", "") or repr(error or "")
    notify_channel_owners = False
    if outcome.kind == "paused":
        status, kind = S.PAUSED, "crisis"
        message = _("Krisetilstand er slået til.")
        pub.attempts = max(0, pub.attempts - 1)
    elif outcome.kind == "cannot_reconcile":
        # A person checks the account; "Prøv igen nu" then sends anyway.
        status, kind = S.FAILED, "unverifiable"
        message = _(
            "Kanal ved ikke, om opslaget kom ud, og netværket kan ikke svare på "
            "det. Tjek kanalen: er opslaget der, så marker det som udgivet med "
            "adressen; ellers vælg 'Prøv igen nu'."
        )
    elif outcome.kind == "not_found" and outcome.extra.get("why") == "crisis":
        status, kind = S.PAUSED, "crisis"
        pub.needs_reconcile = False
        message = _("Krisetilstand er slået til.")
    elif outcome.kind == "not_found":
        status, kind = S.MISSED, "late"
        pub.needs_reconcile = False
        message = _(
            "Opslaget kom ikke ud, og det er nu for sent til at sende det af sig "
            "selv. Vælg 'Prøv igen nu', 'Flyt' eller 'Annullér'."
        )
    elif isinstance(error, QuotaExhausted):
        status, kind, message = S.WAITING, "quota", error.message
        pub.attempts = max(0, pub.attempts - 1)
        pub.due_at = error.reset_at or backoff(1, error, now)
        if pub.due_at < now + timedelta(seconds=30):
            pub.due_at = now + timedelta(hours=1)
    elif isinstance(error, AuthExpired):
        status, kind = S.WAITING, "auth"
        message = _(
            "Adgangen til kanalen er udløbet. En administrator skal forbinde "
            "kanalen igen; derefter sendes opslaget automatisk."
        )
        pub.attempts = max(0, pub.attempts - 1)
        pub.due_at = now + timedelta(seconds=60)
        notify_channel_owners = True
    elif isinstance(error, Rejected | NotSupported):
        status, kind, message = S.FAILED, "rejected", error.message
    elif isinstance(error, OutcomeUnknown) or outcome.kind == "crash" or (
        outcome.kind == "error" and pub.needs_reconcile
        and not isinstance(error, TransientError)
    ):
        pub.needs_reconcile = True
        kind = "unknown_outcome"
        if pub.attempts >= max_attempts:
            status = S.FAILED
            message = _(
                "Kanal fik ikke svar fra netværket efter %(n)d forsøg og ved ikke, "
                "om opslaget kom ud. Tjek kanalen: er opslaget der, så marker det "
                "som udgivet; ellers vælg 'Prøv igen nu'."
            ) % {"n": pub.attempts}
        else:
            status = S.UNKNOWN
            message = getattr(error, "message", "") or str(
                OutcomeUnknown.default_message
            )
            pub.due_at = backoff(1, error, now)
    elif isinstance(error, TransientError):
        kind = "rate_limited" if isinstance(error, RateLimited) else "transient"
        if pub.attempts >= max_attempts:
            status = S.FAILED
            message = _(
                "Netværket svarede med fejl %(n)d gange i træk (%(why)s). Prøv "
                "igen senere med 'Prøv igen nu', eller flyt opslaget."
            ) % {"n": pub.attempts, "why": error.message}
        else:
            status = S.RETRYING
            message = error.message
            pub.due_at = backoff(pub.attempts, error, now)
    else:
        status, kind = S.FAILED, "error"
        message = getattr(error, "message", "") or _(
            "Der skete en fejl. Prøv igen, eller kontakt support."
        )
    previous = pub.status
    pub.status = status
    pub.last_error = message
    pub.error_kind = kind
    pub.save(update_fields=fields)
    if status in (S.FAILED, S.MISSED) or previous != status:
        _audit(
            f"publishing.publication.{status}",
            organisation=pub.organisation,
            target=pub,
            changes={
                "status": [previous, status],
                "reason": kind,
                "message": message,
                "detail": pub.error_detail,
                "attempts": pub.attempts,
            },
        )
    publication_changed([pub.post_id])
    if status in (S.FAILED, S.MISSED):
        _notify_failure(pub)
    if notify_channel_owners:
        _channel_auth_expired(pub.channel, error)


def _channel_auth_expired(channel: Channel, error) -> None:
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if channel.status == ChannelStatus.NEEDS_RECONNECT:
        return
    mark_channel_needs_reconnect(channel, error=getattr(error, "message", str(error)))
    notify(
        organisation_id=channel.organisation_id,
        administration_id=channel.owner_administration_id,
        kind="channel_needs_reconnect",
        message=_(
            "%(channel)s skal forbindes igen: adgangen er udløbet. Planlagte "
            "opslag venter, til kanalen er forbundet."
        )
        % {"channel": channel},
        url=f"/kanaler/{channel.pk}/",
    )


def _notify_failure(pub) -> None:
    notify(
        organisation_id=pub.organisation_id,
        administration_id=pub.channel.owner_administration_id,
        kind=f"publication_{pub.status}",
        message=_("%(channel)s: opslaget blev ikke udgivet. %(why)s")
        % {"channel": pub.channel, "why": pub.last_error},
        publication=pub,
    )


# ---------------------------------------------------------------------------
# Leases and periodic sweeps


def renew_leases(tokens, *, now: datetime | None = None) -> int:
    if not tokens:
        return 0
    now = now or timezone.now()
    return Publication.objects.filter(
        lease_token__in=list(tokens), status=S.PUBLISHING
    ).update(lease_expires_at=now + conf.lease())


def sweep_expired_leases(*, now: datetime | None = None, dry_run=False) -> int:
    """Take back publications whose worker died mid-call; reconcile them."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = Publication.objects.filter(
            status=S.PUBLISHING, lease_expires_at__lt=now
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        stuck = list(qs.select_related("organisation"))
        if dry_run:
            return len(stuck)
        for pub in stuck:
            owner = pub.lease_owner
            pub.status = S.UNKNOWN
            pub.needs_reconcile = True
            pub.due_at = now
            pub.last_error = _(
                "Udgivelsen blev afbrudt (arbejderen stoppede). Kanal tjekker hos "
                "netværket, om opslaget kom ud, før noget sendes igen."
            )
            pub.error_kind = "lease_expired"
            pub.save(
                update_fields=[
                    "status", "needs_reconcile", "due_at", "last_error",
                    "error_kind", "updated_at", *_clear_lease(pub),
                ]
            )
            audit.record(
                "publishing.publication.lease_expired",
                organisation=pub.organisation,
                target=pub,
                changes={"owner": owner},
            )
            publication_changed([pub.post_id])
    return len(stuck)


def mark_missed(*, now: datetime | None = None, dry_run=False) -> int:
    """Publications past the late cutoff become 'missed' (a person decides)."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = Publication.objects.filter(
            status__in=(S.QUEUED, S.RETRYING, S.WAITING),
            late_after__lt=now,
            is_crisis=False,
            needs_reconcile=False,
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        late = list(qs.select_related("channel", "organisation"))
        if dry_run:
            return len(late)
        for pub in late:
            _apply_verdict(
                pub,
                now,
                S.MISSED,
                _(
                    "Opslaget nåede ikke ud inden for %(h)s efter det planlagte "
                    "tidspunkt (%(why)s) og sendes ikke for sent af sig selv."
                )
                % {
                    "h": _hours(conf.late_cutoff()),
                    "why": pub.last_error or _("ingen arbejder kørte"),
                },
                "late",
                None,
            )
    return len(late)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 1 and hours == int(hours):
        return _("%(n)d timer") % {"n": hours} if hours != 1 else _("1 time")
    return _("%(n)d minutter") % {"n": delta.total_seconds() // 60}


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%d.%m. kl. %H:%M")
