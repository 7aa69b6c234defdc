"""The publishing engine: claim due publications, call the network outside
any transaction, fence every write, record the result.

Zulip's ``try_deliver_one_scheduled_message`` pattern, in batches:
``claim_due`` moves due rows to ``publishing`` with a lease in one short
transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's
IMMEDIATE transactions serialise claimers), re-checking what may have changed
since scheduling. ``execute`` runs in a worker thread; immediately before
every non-idempotent write the adapter calls ``fence``: one conditional
UPDATE that proves the lease is still this job's and valid for the longest
time the write can take (extending it), and that approval, crisis mode and
the channel still allow the send. Zero rows: ``Fenced``, nothing is sent.
``record`` stores the outcome through the outcome table (``outcomes.py``).

Leases are measured with the database's clock (``Now()`` in SQL), never the
worker's, so workers whose clocks are minutes apart agree on who holds a row.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import (
    DatabaseError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
)
from django.db.models.functions import Coalesce, Greatest, Now
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from kanal.channels import adapters, vault
from kanal.channels.actions import mark_channel_needs_reconnect
from kanal.channels.adapters import build_adapter
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.base import (
    Connection,
    MediaItem,
    OutgoingPost,
    PublishResult,
)
from kanal.channels.networks.errors import (
    AuthExpired,
    Fenced,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.core import audit, database
from kanal.core.database import (
    is_conflict,
    is_unavailable,
    retry_conflicts,
)
from kanal.core.safety import safe_url
from kanal.notifications.actions import notify
from kanal.notifications.audience import channel_desk

from . import conf, outcomes, signals
from .actions import publication_changed, wake_workers_on_commit
from .models import (
    CLAIMABLE,
    FollowUp,
    FollowUpKind,
    OutcomeTally,
    Publication,
    PublicationStatus,
)
from .scope import CrisisScopes, held_back_in_sql

logger = logging.getLogger("kanal.publishing.engine")
S = PublicationStatus

# ---------------------------------------------------------------------------
# The database's clock and connections


def db_in(delta: timedelta):
    """``now + delta`` by the database's clock, as an SQL expression."""
    return ExpressionWrapper(Now() + delta, output_field=DateTimeField())


def db_now() -> datetime:
    """The database's clock, read in one query."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            value = datetime.fromisoformat(cursor.fetchone()[0])
            return value.replace(tzinfo=UTC)
        cursor.execute("SELECT CURRENT_TIMESTAMP")
        value = cursor.fetchone()[0]
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


class DatabaseClock:
    """This host's clock corrected by its measured offset from the
    database's, so a worker on a host whose clock is minutes off still sends
    nothing early and marks nothing late (the offset is measured again every
    ``CLOCK_CHECK_SECONDS``)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.next_check = 0.0

    def now(self) -> datetime:
        if time.monotonic() >= self.next_check:
            self.measure()
        return timezone.now() + self.offset

    def measure(self) -> None:
        try:
            before = timezone.now()
            database = db_now()
            after = timezone.now()
        except DatabaseError:
            drop_connection()
            self.next_check = time.monotonic() + 1.0
            return
        self.offset = database - (before + (after - before) / 2)
        if abs(self.offset) > timedelta(seconds=5):
            logger.warning("this host's clock is %.1f s off the database's",
                           -self.offset.total_seconds())
        self.next_check = time.monotonic() + float(conf.get("CLOCK_CHECK_SECONDS"))


def drop_connection() -> None:
    """Forget this thread's database connection (Django reconnects on next
    use). Never inside a transaction: the caller retries outside it."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        connection.connection = None


def with_db_retry(step):
    """Run ``step`` (an idempotent statement, outside any transaction); after
    a conflict, again shortly (``retry_conflicts``); after a broken
    connection, once more on a fresh one."""
    try:
        return retry_conflicts(step, what="a lease or checkpoint statement")
    except DatabaseError:
        if connection.in_atomic_block:
            raise
        drop_connection()
    return step()


def fresh_connection() -> None:
    """Before a job in a long-lived thread: drop a connection that failed or
    outlived ``CONN_MAX_AGE``. (On SQLite, a file with no server to time it
    out, only a failed one is dropped: reopening costs more than it gives.)"""
    if connection.in_atomic_block:
        return
    try:
        if connection.vendor != "sqlite":
            close_old_connections()
        elif connection.errors_occurred:
            drop_connection()
    except DatabaseError:
        drop_connection()


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
    # An earlier write's outcome is not known: ask the network first.
    needs_reconcile: bool
    # "late", "crisis" or "withdrawn": only ask the network, never send.
    reconcile_only: str
    since: datetime
    setup_error: str = ""
    is_crisis: bool = False
    # Set by the fence: a write of this job was about to start.
    write_started: bool = False
    # When the first write was fenced (database clock), if ever.
    first_sent_at: datetime | None = None
    # Posts other publications of the channel hold (for a lookup).
    taken_ids: tuple[str, ...] = ()
    # The channel's stored network limits (``Channel.network_limits``).
    limits: dict = field(default_factory=dict)


@dataclass
class Outcome:
    # published | error | fenced | local_error | cannot_reconcile | not_found
    # | duplicate_unresolved | crash
    kind: str
    result: PublishResult | None = None
    error: BaseException | None = None
    reconciled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _danish(code: str, params: dict) -> str:
    """The reason in the source language, kept as written (audit, e-mail)."""
    with translation.override(settings.LANGUAGE_CODE):
        return outcomes.render_reason(code, params)


# ---------------------------------------------------------------------------
# Claim


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
        crises = CrisisScopes.load()
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
            lease_expires_at=db_in(conf.lease()),
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
    return [_job(pub, token, now, crises) for pub in chosen]


def _recheck(pub, channel, now, crises, quota_used):
    """What changed since scheduling: (status, code, params, due) or None."""
    if channel.status == ChannelStatus.DISABLED:
        if pub.needs_reconcile:
            # The post may be out: ask the network first (the job sends
            # nothing, _reconcile_only); FAILED only when it is not there.
            return None
        return (S.FAILED, "channel_disabled", {}, None)
    if channel.status != ChannelStatus.CONNECTED:
        return (
            S.WAITING,
            "channel_needs_reconnect",
            {},
            now + conf.seconds("RECONNECT_RECHECK_SECONDS"),
        )
    if pub.needs_reconcile:
        # The post may already be out: always ask the network first (the
        # job sends nothing when it is late, withdrawn or in crisis; _job).
        return None
    if now > pub.late_after and not pub.is_crisis:
        return (
            S.MISSED, "late",
            {"cutoff": conf.late_cutoff().total_seconds()}, None,
        )
    if crises.holds_back(pub):
        return (S.PAUSED, "crisis", {}, None)
    if pub.withdrawn_at is not None:
        return (S.CANCELLED, "approval_withdrawn", {}, None)
    expired = _expired_media(pub.media, now)
    if expired:
        return (S.FAILED, "media_rights_expired", {"name": expired}, None)
    if pub.post_id and not _approval_stands(pub):
        return (S.CANCELLED, "approval_withdrawn", {}, None)
    quota = daily_quota(channel.network)
    if quota:
        if channel.pk not in quota_used:
            quota_used[channel.pk] = _quota_usage(channel.pk, now)
        used, oldest = quota_used[channel.pk]
        if used >= quota:
            reset = (oldest or now) + timedelta(hours=24)
            return (
                S.WAITING, "quota_local",
                {"n": quota, "at": reset.isoformat()}, reset,
            )
        quota_used[channel.pk] = (used + 1, oldest or now)
    return None


def daily_quota(network: str) -> int | None:
    """Posts per 24 h Kanal sends on one channel of ``network``: the
    adapter's documented quota unless ``DAILY_QUOTA`` overrides it."""
    override = conf.get("DAILY_QUOTA").get(network)
    if override:
        return int(override)
    try:
        cls = adapters.class_for(network)
    except KeyError:
        return None
    # Only networks with a rolling publishing quota declare one (the Graph
    # adapters: Instagram, Threads).
    return getattr(cls, "default_quota_total", None)


def _apply_verdict(pub, now, status, code, params, due) -> None:
    previous = pub.status
    pub.status = status
    pub.error_kind = code
    pub.reason_params = params
    pub.last_error = _danish(code, params)
    fields = ["status", "last_error", "error_kind", "reason_params", "updated_at"]
    if due is not None:
        pub.due_at = due
        fields.append("due_at")
    pub.save(update_fields=fields)
    if previous != status:
        audit.record(
            f"publishing.publication.{status}",
            organisation=pub.organisation,
            target=pub,
            changes={"status": [previous, status], "reason": code},
        )
        publication_changed([pub.post_id])
        if status in (S.FAILED, S.MISSED):
            _notify_failure(pub)


def _approval_stands(pub) -> bool:
    return signals.approval_stands(post_id=pub.post_id, revision_id=pub.revision_id)


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
            until_at = timezone.make_aware(until_at, UTC)
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


def _job(pub: Publication, token: str, now: datetime, crises: CrisisScopes) -> Job:
    conn = None
    setup_error = ""
    try:
        conn = pub.channel.connection()
    except vault.VaultError:
        setup_error = _danish("auth", {})
    first = pub.first_sent_at or pub.claimed_at or now
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
        reconcile_only=_reconcile_only(pub, now, crises),
        # Generous: the network's clock may be minutes off Kanal's.
        since=first - conf.seconds("RECONCILE_SLACK_SECONDS"),
        setup_error=setup_error,
        is_crisis=pub.is_crisis,
        first_sent_at=pub.first_sent_at,
        taken_ids=_taken_ids(pub, first) if pub.needs_reconcile else (),
        limits=dict(pub.channel.network_limits or {}),
    )


def _taken_ids(pub, first: datetime) -> tuple[str, ...]:
    """Remote ids of the channel's other recent posts (a lookup by text must
    not adopt one of them)."""
    return tuple(
        Publication.objects.filter(
            channel_id=pub.channel_id, published_at__gte=first - timedelta(days=2)
        )
        .exclude(pk=pub.pk)
        .exclude(remote_id="")
        .values_list("remote_id", flat=True)[:500]
    )


def _reconcile_only(pub, now, crises) -> str:
    if not pub.needs_reconcile:
        return ""
    if pub.withdrawn_at is not None or (
        pub.post_id and not pub.is_crisis and not _approval_stands(pub)
    ):
        return "withdrawn"
    if pub.channel.status == ChannelStatus.DISABLED:
        return "channel_disabled"
    if crises.holds_back(pub):
        return "crisis"
    if pub.is_crisis:
        return ""
    if now > pub.late_after:
        return "late"
    return ""


# ---------------------------------------------------------------------------
# The send fence


def _connected_channel():
    return Channel.objects.filter(
        pk=OuterRef("channel_id"), status=ChannelStatus.CONNECTED
    )


#: Writes that publish nothing by themselves (an Instagram/Threads container,
#: a media upload): fenced like the others, but no post can exist after them.
PREPARATORY_WRITES = frozenset({"container", "media", "upload"})


def fence(job: Job, operation: str = "") -> None:
    """Allow one non-idempotent write of ``job``, or raise ``Fenced``.

    One conditional UPDATE: the lease is still this job's and has not run
    out (database clock), the approval was not withdrawn, no active crisis
    covers the channel (crisis messages excepted) and the channel is
    connected. In the same statement the lease is extended to cover the
    longest write (``conf.write_lease()``), the row is marked as possibly sent
    (``needs_reconcile``) and the first write's time is kept (not for
    ``PREPARATORY_WRITES``, which publish nothing). A withdrawal or
    crisis switch committed before this statement therefore stops the send;
    zero rows means nothing may be sent. One committed after it is caught by
    the last look at the send (``grant_write``).
    """
    preparing = operation in PREPARATORY_WRITES

    def update() -> int:
        qs = Publication.objects.filter(
            pk=job.publication_id,
            lease_token=job.lease_token,
            status=S.PUBLISHING,
            lease_expires_at__gt=Now(),
            withdrawn_at__isnull=True,
        ).filter(Exists(_connected_channel())).exclude(held_back_in_sql())
        changes = {
            "lease_expires_at": Greatest(F("lease_expires_at"),
                                         db_in(conf.write_lease())),
        }
        if not preparing:
            changes["needs_reconcile"] = True
            changes["first_sent_at"] = Coalesce(F("first_sent_at"), Now())
        return qs.update(**changes)

    grant_write(
        job, operation, update=update,
        stopped=lambda: stop_reason(_fence_row(job), job),
        log_as=f"publication {job.publication_id}", refused="gone",
    )


def grant_write(job, operation: str, *, update, stopped, log_as: str,
                refused: str) -> None:
    """What every send fence shares (publications and follow-ups).

    ``update()`` is the fence's one conditional UPDATE (rows changed);
    ``stopped()`` reads, in a statement of its own, what forbids the write now
    (None: nothing). When the update grants a publishing write, the network
    client gets a deadline and ``stopped`` as its last look immediately
    before the request leaves: the fence's statement decides on its own
    snapshot, and on PostgreSQL an UPDATE that waited for a row lock
    re-checks only the row it updates, so a crisis or a disabled channel
    committed while it waited, or after it, is seen only by a later read.
    A refusal raises ``Fenced`` with the reason (``refused`` if none is found).
    """
    started = time.monotonic()
    if with_db_retry(update):
        if operation not in PREPARATORY_WRITES:
            job.write_started = True

            def confirm() -> None:
                reason = with_db_retry(stopped)
                if reason:
                    logger.warning("%s: %s stopped at the send (%s); nothing sent",
                                   log_as, operation or "write", reason)
                    raise Fenced(reason)

            send_by(started + conf.lease().total_seconds(), confirm=confirm)
        return
    reason = with_db_retry(stopped) or refused
    logger.warning("%s: %s fenced (%s); nothing sent",
                   log_as, operation or "write", reason)
    raise Fenced(reason)


def send_by(deadline: float | None, *, confirm=None) -> None:
    """The write just fenced must leave this thread before ``deadline``
    (monotonic): its lease then still covers the whole call. A thread
    stopped between the fence and the send raises ``Fenced("deadline")`` in
    the network client instead of sending late. ``confirm`` runs in the
    network client immediately before the request leaves (``grant_write``)."""
    from kanal.channels.networks import http

    http.set_write_deadline(deadline, confirm)


def _fence_row(job: Job) -> dict | None:
    return (
        Publication.objects.filter(pk=job.publication_id)
        .annotate(
            lease_valid=Q(lease_expires_at__gt=Now()),
            in_crisis=held_back_in_sql(),
            connected=Exists(_connected_channel()),
        )
        .values("lease_token", "status", "lease_valid", "withdrawn_at",
                "in_crisis", "connected")
        .first()
    )


def stop_reason(row: dict | None, job: Job) -> str | None:
    """What forbids ``job``'s write, read from ``_fence_row``; None: nothing."""
    if row is None:
        return "gone"
    if (
        row["lease_token"] != job.lease_token
        or row["status"] != S.PUBLISHING
        or not row["lease_valid"]
    ):
        return "lease_lost"
    if row["withdrawn_at"] is not None:
        return "withdrawn"
    if row["in_crisis"]:
        return "crisis"
    if not row["connected"]:
        return "channel"
    return None


def save_checkpoint(job: Job, checkpoint) -> None:
    """Store an adapter's durable progress; raise ``Fenced`` when the lease
    is gone (the adapter then stops before its write). After a write of this
    job has started, a result is a fact: a lost lease or database error only
    costs the checkpoint, and the result is still recorded."""
    job.checkpoint = {**job.checkpoint, **dict(checkpoint)}
    job.checkpoint.pop(EXCLUDE_KEY, None)

    def update() -> int:
        return Publication.objects.filter(
            pk=job.publication_id,
            lease_token=job.lease_token,
            status=S.PUBLISHING,
            lease_expires_at__gt=Now(),
        ).update(checkpoint=job.checkpoint)

    try:
        saved = with_db_retry(update)
    except DatabaseError:
        if not job.write_started:
            raise
        logger.warning("publication %s: checkpoint not saved (database)",
                       job.publication_id)
        return
    if not saved and not job.write_started:
        raise Fenced("lease_lost")


# ---------------------------------------------------------------------------
# Execute (in a worker thread; no transaction)


def execute(job: Job) -> Outcome:
    try:
        return _execute(job)
    finally:
        # A write this job's fence granted and that never went out (the
        # adapter failed first) must not be granted to this thread's next
        # write, another job's.
        send_by(None)


def _execute(job: Job) -> Outcome:
    fresh_connection()
    if job.setup_error:
        return Outcome("error", error=AuthExpired(job.setup_error))
    try:
        adapter = build_adapter(
            job.connection,
            channel_id=job.channel_id,
            limits=job.limits,
            before_write=lambda operation: fence(job, operation),
            timeout=conf.get("HTTP_TIMEOUT_SECONDS"),
        )
        if job.needs_reconcile and not (
            # Where the network keeps Kanal's key, sending again with it is
            # the surest lookup: it returns the post the lost write made, or
            # makes it now (no matching by text or time).
            not job.reconcile_only and key_resend_is_safe(adapter, job)
        ):
            try:
                found = adapter.find_published(
                    idempotency_key=job.idempotency_key,
                    text=job.text,
                    since=job.since,
                    checkpoint=_lookup_checkpoint(job),
                )
            except NotSupported:
                return Outcome("cannot_reconcile")
            if found is not None and taken_by_sibling(job, found.remote_id):
                # Another publication's post with the same text: not proof
                # of this one, and Kanal cannot tell.
                return Outcome("sibling")
            if found is not None:
                return Outcome("published", result=found, reconciled=True)
            if job.reconcile_only:
                return Outcome("not_found", extra={"why": job.reconcile_only})
        post = OutgoingPost(text=job.text, link=job.link,
                            media=_media_items(job.media, adapter.capabilities()))
        try:
            result = adapter.publish(
                post,
                idempotency_key=job.idempotency_key,
                checkpoint=_lookup_checkpoint(job),
                on_checkpoint=lambda cp: save_checkpoint(job, cp),
            )
        except Rejected as refusal:
            if not (job.needs_reconcile and is_duplicate(refusal)):
                raise
            named = getattr(refusal, "existing_id", "")
            if named and taken_by_sibling(job, named):
                # The network names the post it is a duplicate of, and that
                # is another publication's: the same text, refused for good.
                return Outcome("error", error=refusal, extra={"refused": True})
            found = _lost_attempt_named_by(adapter, job, refusal)
            if found is not None and taken_by_sibling(job, found.remote_id):
                return Outcome("sibling", error=refusal)
            if found is None:
                return Outcome("duplicate_unresolved", error=refusal)
            return Outcome("published", result=found, reconciled=True)
        return Outcome("published", result=result)
    except Fenced as e:
        return Outcome("fenced", extra={"why": e.reason})
    except NetworkError as e:
        return Outcome("error", error=e)
    except DatabaseError as e:
        logger.warning("publication %s: database error: %s", job.publication_id, e)
        drop_connection()
        return Outcome("local_error", error=e)
    except Exception as e:
        logger.exception("publication %s: unexpected error", job.publication_id)
        return Outcome("crash", error=e)


def _lookup_checkpoint(job: Job) -> dict | None:
    """The checkpoint for a lookup, with the ids of posts other publications
    of the channel already hold (``exclude_remote_ids``: never this one's)."""
    checkpoint = dict(job.checkpoint)
    if job.taken_ids:
        checkpoint[EXCLUDE_KEY] = ",".join(job.taken_ids)
    return checkpoint or None


#: The checkpoint key listing posts other publications hold (adapters skip
#: them when they look a post up); never stored.
EXCLUDE_KEY = "exclude_remote_ids"


def taken_by_sibling(job: Job, remote_id: str) -> bool:
    """Another publication of the channel already holds this post."""
    if not remote_id:
        return False
    if remote_id in job.taken_ids:
        return True
    return with_db_retry(
        lambda: Publication.objects.filter(
            channel_id=job.channel_id, remote_id=remote_id
        ).exclude(pk=job.publication_id).exists()
    )


#: Networks whose publish call dedupes by Kanal's key (Mastodon's
#: Idempotency-Key for an hour, Bluesky's record key), for adapters that do
#: not say so themselves (``idempotent_publish``).
IDEMPOTENT_PUBLISH = frozenset({"mastodon", "bluesky"})


def key_resend_is_safe(adapter, job: Job) -> bool:
    """Sending again with the same key cannot make a second post: the
    network keeps the key, and the first write is recent enough."""
    said = getattr(adapter, "idempotent_publish", None)
    if said is None:
        said = job.network in IDEMPOTENT_PUBLISH
    if not said:
        return False
    window = conf.seconds("IDEMPOTENCY_KEY_WINDOW_SECONDS")
    first = job.first_sent_at
    return first is not None and db_now() - first < window


#: Duplicate refusals of networks whose adapter predates ``errors.Duplicate``.
DUPLICATE_CODES = frozenset({"duplicate", "duplicate-content", "DUPLICATE_POST"})


def is_duplicate(error: Rejected) -> bool:
    """The network refused the post because the same one is already there."""
    from kanal.channels.networks import errors

    duplicate = getattr(errors, "Duplicate", None)
    if duplicate is not None and isinstance(error, duplicate):
        return True
    return str(error.network_code or "") in DUPLICATE_CODES


def _lost_attempt_named_by(adapter, job: Job, refusal: Rejected):
    """After an uncertain write, a duplicate refusal means the lost write got
    through: look that post up (with the id the network named, if any)
    instead of failing. Returns None when it cannot be found yet."""
    existing = getattr(refusal, "existing_id", "")
    named = getattr(adapter, "duplicate_of", None)
    if not existing and named is not None:
        existing = named(refusal)
    checkpoint = _lookup_checkpoint(job) or {}
    if existing:
        checkpoint["duplicate_of"] = existing
    try:
        return adapter.find_published(
            idempotency_key=job.idempotency_key,
            text=job.text,
            since=job.since,
            checkpoint=checkpoint or None,
        )
    except (NotSupported, TransientError, OutcomeUnknown):
        return None


def _media_items(media, capabilities=None) -> tuple[MediaItem, ...]:
    """The publication's media as the network gets it.

    With the network's ``capabilities`` each image is Kanal's own rendition
    for that network (``networks.mediafit``: format, aspect ratio, pixels,
    bytes, metadata). It is made once and stored beside the media
    (``renditions/<key>.<ext>``, with ``<key>.json`` saying what was done), so
    every retry sends the same bytes and a network that fetches the file
    itself (Instagram, Threads) finds the rendition at its public URL. An
    image that cannot be fitted is refused (``Rejected``) before anything is
    sent.
    """
    import hashlib
    import json
    from dataclasses import replace

    from django.core.files.base import ContentFile

    from kanal.channels.networks import mediafit

    items = []
    base = settings.KANAL_BASE_URL.rstrip("/") + "/" + settings.MEDIA_URL.strip("/")
    caps_key = mediafit.caps_key(capabilities) if capabilities is not None else ""
    for item in media or ():
        path = item.get("path", "")
        data = b""
        if path:
            with default_storage.open(path, "rb") as f:
                data = f.read()
        original = MediaItem(
            kind=item.get("kind", "image"),
            mime_type=item.get("mime_type", "image/jpeg"),
            alt_text=item.get("alt_text", ""),
            data=data,
            public_url=f"{base}/{path}" if path else "",
            filename=path.rsplit("/", 1)[-1],
            width=item.get("width"),
            height=item.get("height"),
        )
        if not caps_key or original.kind != "image" or not data:
            items.append(original)
            continue
        digest = hashlib.sha256(f"{path}\x1f{caps_key}".encode()).hexdigest()[:40]
        record_name = f"renditions/{digest}.json"
        record = None
        if default_storage.exists(record_name):
            with default_storage.open(record_name, "rb") as f:
                record = json.loads(f.read() or b"{}")
        if record is None:
            try:
                rendition = mediafit.fit_image(original, capabilities)
            except mediafit.CannotFit as e:
                raise Rejected(e.message, network_code=e.code,
                               network_message=path) from e
            record = {"unchanged": not rendition.changed}
            if rendition.changed:
                fitted = rendition.item
                extension = mediafit.EXTENSIONS.get(fitted.mime_type, "")
                record.update(
                    path=default_storage.save(f"renditions/{digest}{extension}",
                                              ContentFile(fitted.data)),
                    mime_type=fitted.mime_type, width=fitted.width,
                    height=fitted.height,
                    changes=[c.code for c in rendition.changes],
                    bytes=[rendition.original_bytes, fitted.size],
                )
                logger.info("rendition of %s: %s (%s -> %s bytes)", path,
                            ", ".join(record["changes"]), *record["bytes"])
            default_storage.save(record_name,
                                 ContentFile(json.dumps(record).encode()))
        if record.get("unchanged") or not record.get("path"):
            items.append(original)
            continue
        with default_storage.open(record["path"], "rb") as f:
            fitted_data = f.read()
        items.append(replace(
            original, data=fitted_data, mime_type=record["mime_type"],
            width=record.get("width"), height=record.get("height"),
            public_url=f"{base}/{record['path']}",
            filename=record["path"].rsplit("/", 1)[-1],
        ))
    return tuple(items)


# ---------------------------------------------------------------------------
# Record


_deferred = threading.local()
_follow_up_signal = threading.local()


def take_follow_up_signal() -> bool:
    """Whether this thread recorded a publication with follow-up work since
    it last asked (the worker then claims follow-ups at once)."""
    created = getattr(_follow_up_signal, "created", False)
    _follow_up_signal.created = False
    return created


def _audit(event: str, **kwargs) -> None:
    """``audit.record``, or, inside ``record_many``, queued until just before
    the batch commits: the audit chain's head is one locked row, so taking it
    last keeps concurrent workers from queueing behind each other's batches."""
    queue = getattr(_deferred, "audits", None)
    if queue is None:
        audit.record(event, **kwargs)
    else:
        queue.append((event, kwargs))


#: ``record_many``'s status for a result it could not store (the database
#: failed): the caller keeps the result and tries again.
NOT_RECORDED = None


def record_many(results, *, now: datetime | None = None) -> list[str | None]:
    """Record several finished calls in one transaction (run again shortly
    after a conflict with another transaction); if that fails, one by one. A
    result the database does not take (it is unreachable, or the conflict
    outlasted its retries) gets ``NOT_RECORDED``: the caller keeps it and
    tries again while its lease is renewed (``take_kept_error`` says why)."""
    now = now or timezone.now()
    _kept.error = None
    try:
        return retry_conflicts(lambda: _record_batch(results, now),
                               what=f"recording {len(results)} results")
    except DatabaseError as error:
        if is_unavailable(error):
            logger.warning("database unavailable; %d results kept", len(results))
            drop_connection()
            _kept.error = error
            return [NOT_RECORDED] * len(results)
        if is_conflict(error):
            logger.warning("database conflict recording %d results; recording "
                           "one by one", len(results))
        else:
            logger.exception("batch record failed; recording one by one")
    except Exception:
        logger.exception("batch record failed; recording one by one")
    statuses = []
    for job, outcome in results:
        try:
            statuses.append(retry_conflicts(
                lambda job=job, outcome=outcome: record(job, outcome, now=now),
                what=f"recording publication {job.publication_id}"))
        except DatabaseError as error:
            if database.classify(error) is None:
                # Left to the sweeper: the lease expires and the row is
                # reconciled.
                logger.exception("could not record publication %s",
                                 job.publication_id)
                statuses.append("")
                continue
            if is_unavailable(error):
                drop_connection()
            if _kept.error is None or is_conflict(_kept.error):
                _kept.error = error  # the database away outweighs a conflict
            statuses.append(NOT_RECORDED)
        except Exception:
            logger.exception("could not record publication %s", job.publication_id)
            statuses.append("")
    return statuses


_kept = threading.local()


def take_kept_error() -> DatabaseError | None:
    """Why this thread's last ``record_many`` kept results (a conflict that
    outlasted its retries, or the database away), or None."""
    error, _kept.error = getattr(_kept, "error", None), None
    return error


def _record_batch(results, now) -> list[str]:
    try:
        _deferred.audits = []
        with transaction.atomic():
            # In id order, the order every transaction locks publications in
            # (``actions.lock_publications``); ``in_bulk`` drops the order.
            pubs = {pub.pk: pub for pub in Publication.objects.select_for_update(
                of=("self",)).select_related("channel", "organisation").filter(
                pk__in=[job.publication_id for job, _ in results]).order_by("pk")}
            _lock_channels(results)
            statuses = [
                _record_locked(pubs[job.publication_id], job, outcome, now)
                for job, outcome in results
            ]
            audits, _deferred.audits = _deferred.audits, None
            for event, kwargs in audits:
                audit.record(event, **kwargs)
        return statuses
    finally:
        _deferred.audits = None


def record(job: Job, outcome: Outcome, *, now: datetime | None = None) -> str:
    """Store the outcome of one call; return the publication's new status."""
    now = now or timezone.now()
    with transaction.atomic():
        pub = (
            Publication.objects.select_for_update(of=("self",))
            .select_related("channel", "organisation")
            .get(pk=job.publication_id)
        )
        _lock_channels([(job, outcome)])
        return _record_locked(pub, job, outcome, now)


def _record_locked(pub, job, outcome, now) -> str:
    if pub.lease_token != job.lease_token or pub.status != S.PUBLISHING:
        return _record_stale(pub, outcome, now)
    key = classify(outcome, job, pub)
    if key == "published" and _adopts_anothers_post(pub, outcome):
        key = "sibling"
    _tally(pub.channel.network, key)
    if key == "published":
        _published(pub, outcome, now)
    else:
        _not_published(pub, key, job, outcome, now)
    return pub.status


def _tally(network: str, key: str) -> None:
    """Count the outcome for the metrics, in the recording transaction."""
    tally, _created = OutcomeTally.objects.get_or_create(network=network, kind=key)
    OutcomeTally.objects.filter(pk=tally.pk).update(count=F("count") + 1)


def _lock_channels(results) -> None:
    """Lock the channels of published results (in id order), so two records
    naming the same post are decided one after the other."""
    ids = sorted({job.channel_id for job, outcome in results
                  if outcome.kind == "published"})
    if ids:
        list(Channel.objects.select_for_update().filter(pk__in=ids)
             .order_by("pk").values_list("pk", flat=True))


def _adopts_anothers_post(pub, outcome) -> bool:
    """A post found by a lookup that another publication of the channel
    already holds is that one's, not proof of this one."""
    if not outcome.reconciled:
        return False
    taken = Publication.objects.filter(
        channel_id=pub.channel_id, remote_id=outcome.result.remote_id
    ).exclude(pk=pub.pk).exists()
    if taken:
        logger.warning("publication %s: found post %s belongs to another "
                       "publication; not adopted", pub.pk, outcome.result.remote_id)
    return taken


def _record_stale(pub, outcome, now) -> str:
    # The lease ran out and another worker took the row back (or a decision
    # was made without this job). A success is still a fact: it is recorded
    # whatever the row says now; a row another worker holds is thereby
    # taken from it, so that worker's fence stops its send.
    if outcome.kind != "published" or _adopts_anothers_post(pub, outcome):
        logger.warning(
            "publication %s: result of an expired claim ignored (%s)",
            pub.pk,
            outcome.kind,
        )
        return pub.status
    if pub.status != S.PUBLISHED:
        _published(pub, outcome, now)
        return pub.status
    if outcome.result.remote_id != pub.remote_id:
        _duplicate_found(pub, outcome.result)
    return pub.status


def _duplicate_found(pub, result) -> None:
    """Two posts exist for one publication (a send Kanal could not stop).
    The first recorded stays; a person is told about the other."""
    logger.error("publication %s: a second post %s exists besides %s",
                 pub.pk, result.remote_id, pub.remote_id)
    _audit(
        "publishing.publication.duplicate_found",
        organisation=pub.organisation,
        target=pub,
        changes={"kept": pub.remote_id, "other": result.remote_id,
                 "other_url": result.url},
    )
    notify(
        channel_desk(pub.organisation_id, pub.channel.owner_administration_id),
        kind="publication_duplicate",
        params={"channel": str(pub.channel), "url": result.url or result.remote_id},
        about=pub,
        url=result.url or pub.url,
    )


def classify(outcome: Outcome, job: Job, pub) -> str:
    """The outcome table's key for a finished job."""
    kind = outcome.kind
    error = outcome.error
    if kind == "published":
        return "published"
    if kind == "fenced":
        why = outcome.extra.get("why")
        if not pub.needs_reconcile and why == "crisis":
            return "paused"
        if not pub.needs_reconcile and why == "withdrawn":
            return "not_found_withdrawn"
        return "fenced"
    if kind == "not_found":
        return f"not_found_{outcome.extra.get('why')}"
    if kind in ("local_error", "cannot_reconcile", "duplicate_unresolved",
                "sibling"):
        return kind
    if kind == "crash":
        return "unknown" if job.write_started else "error"
    if isinstance(error, QuotaExhausted):
        return "quota"
    if isinstance(error, AuthExpired):
        return "auth"
    if isinstance(error, OutcomeUnknown):
        return "unknown"
    if isinstance(error, TransientError) and (
        job.needs_reconcile or job.write_started
    ):
        # An earlier write may be out and this try could not find out (a
        # lookup that timed out, a 429 on the resend), or this try's fence
        # let a write start and then something transient came back (a 5xx,
        # a timeout of the write or of a read after it): still unknown,
        # looked up before anything is sent again; never a plain retry, and
        # never "the network answered with errors" and FAILED.
        return "unknown"
    if isinstance(error, RateLimited):
        return "rate_limited"
    if isinstance(error, TransientError):
        return "transient"
    if job.needs_reconcile and not outcome.extra.get("refused"):
        # An earlier write may be out: a refusal now does not settle it.
        return "unknown"
    return "rejected"


def _clear_lease(pub) -> list[str]:
    pub.lease_token = ""
    pub.lease_owner = ""
    pub.lease_expires_at = None
    return ["lease_token", "lease_owner", "lease_expires_at"]


def _published(pub, outcome, now) -> None:
    previous = pub.status
    result = outcome.result
    pub.status = S.PUBLISHED
    pub.remote_id = result.remote_id
    pub.url = safe_url(result.url)  # a network's answer: http(s) only
    pub.published_at = result.published_at or now
    pub.needs_reconcile = False
    pub.found_by_lookup = outcome.reconciled
    pub.last_error = ""
    pub.error_kind = ""
    pub.reason_params = {}
    pub.save(
        update_fields=[
            "status",
            "remote_id",
            "url",
            "published_at",
            "needs_reconcile",
            "found_by_lookup",
            "last_error",
            "error_kind",
            "reason_params",
            "updated_at",
            *_clear_lease(pub),
        ]
    )
    if not outcome.reconciled:
        _take_back_lookups_of(pub, now)
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
    if pub.remote_id and (pub.first_comment or pub.pin):
        # Rows in the same transaction: follow-up work cannot be lost.
        kinds = []
        if pub.first_comment and not pub.first_comment_remote_id:
            kinds.append(FollowUpKind.FIRST_COMMENT)
        if pub.pin:
            kinds.append(FollowUpKind.PIN)
        existing = set(
            FollowUp.objects.filter(publication=pub).values_list("kind", flat=True)
        )
        FollowUp.objects.bulk_create(
            [FollowUp(publication=pub, kind=k, due_at=now)
             for k in kinds if k not in existing]
        )
        if kinds:
            _follow_up_signal.created = True
            wake_workers_on_commit()


def _take_back_lookups_of(pub, now) -> None:
    """The network named this post as this publication's own: another
    publication that adopted it by a lookup (the same text) was wrong and is
    checked again before anything is sent for it."""
    adopted = list(
        Publication.objects.select_for_update()
        .filter(channel_id=pub.channel_id, remote_id=pub.remote_id,
                found_by_lookup=True)
        .exclude(pk=pub.pk)
        .select_related("organisation")
    )
    for other in adopted:
        previous = other.status
        other.status = S.UNKNOWN
        other.needs_reconcile = True
        other.found_by_lookup = False
        other.remote_id = ""
        other.url = ""
        other.published_at = None
        other.due_at = now
        other.error_kind = "lookup_taken_back"
        other.reason_params = {}
        other.last_error = _danish("lookup_taken_back", {})
        other.save(update_fields=[
            "status", "needs_reconcile", "found_by_lookup", "remote_id", "url",
            "published_at", "due_at", "error_kind", "reason_params", "last_error",
            "updated_at",
        ])
        _audit(
            "publishing.publication.lookup_taken_back",
            organisation=other.organisation,
            target=other,
            changes={"status": [previous, other.status], "post": pub.remote_id,
                     "owner": pub.pk},
        )
        publication_changed([other.post_id])


def _in_danish(text) -> str:
    """A lazy text rendered in the source language (stored as written)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _not_published(pub, key: str, job: Job, outcome: Outcome, now) -> None:
    error = outcome.error
    rule = outcomes.RULES[key]
    max_attempts = conf.get("MAX_ATTEMPTS")
    if not rule.counts:
        pub.attempts = max(0, pub.attempts - 1)
    elif rule.exhausted and pub.attempts >= max_attempts:
        key, rule = rule.exhausted, outcomes.RULES[rule.exhausted]
    if rule.reconcile is None:
        # Definite answers from the network leave what was known before this
        # try; anything else after this job's fence may have sent the post.
        pub.needs_reconcile = job.needs_reconcile or (
            job.write_started and not isinstance(error, NetworkError)
        )
    else:
        pub.needs_reconcile = rule.reconcile
    status = rule.status
    if pub.needs_reconcile and key in ("fenced", "local_error"):
        status = S.UNKNOWN
    params: dict[str, Any] = {}
    if isinstance(error, NetworkError):
        params["why"] = error.message
    elif error is not None:
        params["why"] = type(error).__name__
    if key == "fenced":
        params["fence"] = outcome.extra.get("why", "")
    if rule.exhausted or key.endswith("_exhausted"):
        params["n"] = pub.attempts
    pub.due_at = _next_due(rule.due, pub, error, now)
    if rule.due == outcomes.RESET:
        params["at"] = pub.due_at.isoformat()
    # What the network said, for support; of Kanal's own errors only the kind.
    pub.error_detail = (
        error.support_detail if isinstance(error, NetworkError)
        else (type(error).__name__ if error else "")
    )
    previous, previous_reason = pub.status, pub.error_kind
    pub.status = status
    pub.error_kind = rule.reason
    pub.reason_params = params
    message = _danish(rule.reason, params)
    pub.last_error = message
    pub.save(
        update_fields=[
            "status", "last_error", "error_kind", "reason_params", "error_detail",
            "due_at", "needs_reconcile", "attempts", "updated_at",
            *_clear_lease(pub),
        ]
    )
    if status in (S.FAILED, S.MISSED) or previous != status:
        _audit(
            f"publishing.publication.{status}",
            organisation=pub.organisation,
            target=pub,
            changes={
                "status": [previous, status],
                "reason": rule.reason,
                "outcome": key,
                "message": message,
                "detail": pub.error_detail,
                "attempts": pub.attempts,
            },
        )
    publication_changed([pub.post_id])
    if rule.tell == outcomes.OWNERS and (
        status in (S.FAILED, S.MISSED)
        or (status == S.UNKNOWN and rule.reason != previous_reason)
    ):
        # Settled as not published; or still unknown after MAX_ATTEMPTS
        # (told once, while Kanal keeps asking the network).
        _notify_failure(pub)
    elif rule.tell == outcomes.CHANNEL_OWNERS:
        _channel_auth_expired(pub.channel, error)


def _next_due(due: str, pub, error, now) -> datetime:
    if due == outcomes.NOW:
        return now
    if due == outcomes.BACKOFF:
        return conf.backoff(pub.attempts, error, now)
    if due == outcomes.RECONCILE:
        return conf.backoff(pub.attempts, error, now,
                            base="RECONCILE_RETRY_SECONDS")
    if due == outcomes.RESET:
        reset = getattr(error, "reset_at", None)
        fallback = now + conf.seconds("QUOTA_FALLBACK_SECONDS")
        if reset is None or reset < now + conf.seconds("QUOTA_RESET_MIN_SECONDS"):
            return fallback
        return reset
    if due == outcomes.RECONNECT:
        return now + conf.seconds("RECONNECT_RECHECK_SECONDS")
    if due == outcomes.LOCAL:
        return now + conf.seconds("LOCAL_ERROR_RETRY_SECONDS")
    return pub.due_at


def _channel_auth_expired(channel: Channel, error) -> None:
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if channel.status == ChannelStatus.NEEDS_RECONNECT:
        return
    mark_channel_needs_reconnect(channel, error=getattr(error, "message", str(error)))
    notify(
        channel_desk(channel.organisation_id, channel.owner_administration_id),
        kind="channel_needs_reconnect",
        params={"channel": str(channel)},
        about=channel,
        url=reverse("channel_detail", args=[channel.pk]),
    )


def _notify_failure(pub) -> None:
    notify(
        channel_desk(pub.organisation_id, pub.channel.owner_administration_id),
        kind=f"publication_{pub.status}",
        params={"channel": str(pub.channel), "why": reason_param(pub)},
        about=pub,
        url=reverse("publishing:operations"),
    )


def reason_param(pub) -> dict:
    """A publication's reason as a notification value: its code and values,
    rendered in the reader's language (``outcomes.render_notification_reason``),
    and the Danish text as written for a code without a text."""
    return {
        "code": pub.error_kind,
        "params": pub.reason_params,
        "text": pub.last_error,
    }


# ---------------------------------------------------------------------------
# Leases and periodic sweeps


def renew_leases(tokens, *, now: datetime | None = None) -> int:
    """Extend the live leases ``tokens`` (publications and follow-ups) by the
    database's clock; a lease already run out is not brought back (another
    worker may hold the row), and a longer one (a fenced write's) is kept."""
    tokens = [t for t in tokens if t]
    if not tokens:
        return 0
    renewed = 0
    for model, status in ((Publication, S.PUBLISHING), (FollowUp, "running")):
        renewed += model.objects.filter(
            lease_token__in=tokens, status=status, lease_expires_at__gt=Now()
        ).update(
            lease_expires_at=Greatest(F("lease_expires_at"), db_in(conf.lease()))
        )
    return renewed


def sweep_expired_leases(*, now: datetime | None = None, dry_run=False) -> int:
    """Take back publications whose worker died or stalled past its lease
    (database clock). A row whose fence had let a write start is reconciled
    with the network before anything is sent again; one that never reached
    its fence is simply due again."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = Publication.objects.filter(
            status=S.PUBLISHING, lease_expires_at__lt=Now()
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        stuck = list(qs.select_related("organisation"))
        if dry_run:
            return len(stuck)
        for pub in stuck:
            owner = pub.lease_owner
            if pub.needs_reconcile:
                pub.status, pub.error_kind = S.UNKNOWN, "lease_expired"
            else:
                pub.status, pub.error_kind = S.RETRYING, "lease_expired_unsent"
            pub.due_at = now
            pub.reason_params = {}
            pub.last_error = _danish(pub.error_kind, {})
            pub.save(
                update_fields=[
                    "status", "due_at", "last_error", "error_kind",
                    "reason_params", "updated_at", *_clear_lease(pub),
                ]
            )
            audit.record(
                "publishing.publication.lease_expired",
                organisation=pub.organisation,
                target=pub,
                changes={"owner": owner, "status": pub.status},
            )
            publication_changed([pub.post_id])
    return len(stuck)


NO_WORKER = _("ingen arbejder kørte")


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
        cutoff = conf.late_cutoff().total_seconds()
        for pub in late:
            params = {"cutoff": cutoff}
            if outcomes.REASONS.get(pub.error_kind):
                params["because"] = pub.error_kind
                params["because_params"] = pub.reason_params
            else:
                params["why"] = pub.last_error or _in_danish(NO_WORKER)
            _apply_verdict(pub, now, S.MISSED, "late_because", params, None)
    return len(late)
