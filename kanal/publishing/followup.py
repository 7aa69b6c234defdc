"""Follow-up work on a published post: its first comment and a crisis pin;
and replies to citizens that an app above asks for (``queue_reply``).

Each is a ``FollowUp`` row, created in the same transaction that records the
publication as published (so it cannot be lost), claimed by the worker with a
lease like a publication, fenced immediately before its write, retried with
backoff, and a person is told when it finally fails. A first comment whose
write may have gone out (its worker died, or the answer was lost) is sent
again only where the network keeps replies idempotent (Mastodon's key,
Bluesky's record key); elsewhere a person checks.

A reply (``FollowUpKind.REPLY``) goes through the same claim, fence, send and
record as a first comment, on its own channel and text; when it is done or
has finally failed, ``signals.reply_finished`` tells the app that asked. An
answer to a citizen's direct message (``FollowUpKind.MESSAGE``,
``queue_message``) is a reply sent privately (``send_message``); a write of
it that may have gone out is first looked up in the citizen's conversation
(``find_message``), wherever the network can be asked, before it is sent
again, with the same key.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest, Now
from django.utils import timezone, translation

from kanal.channels import vault
from kanal.channels.adapters import build_adapter
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.base import Connection, OutgoingMessage, stable_key
from kanal.channels.networks.errors import (
    AuthExpired,
    Duplicate,
    Fenced,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    RecipientGone,
    Rejected,
    TransientError,
)
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.notifications.audience import channel_desk, crisis_leads
from kanal.notifications.kinds import render

from . import conf, signals
from .models import FollowUp, FollowUpKind, FollowUpStatus
from .scope import CrisisScope, held_back_in_sql

logger = logging.getLogger("kanal.publishing.followup")
F_ = FollowUpStatus
#: Why a reply was not sent when its comment was deleted before it went out.
PARENT_GONE = "reply_parent_gone"
#: Why an answer to a direct message was not sent when the citizen's account
#: is no longer on the network.
RECIPIENT_GONE = "reply_recipient_gone"
#: Follow-ups that answer something on the network (reply with a key).
REPLIES = frozenset({FollowUpKind.FIRST_COMMENT, FollowUpKind.REPLY,
                     FollowUpKind.MESSAGE})
#: Follow-ups an app above asked for: a channel, no publication.
ANSWERS = frozenset({FollowUpKind.REPLY, FollowUpKind.MESSAGE})

#: Networks whose adapters send a reply with the same key only once, for
#: adapters that do not say so themselves (``idempotent_replies``).
IDEMPOTENT_REPLIES = frozenset({"mastodon", "bluesky"})
#: A lost message is looked for from this long before it was queued (clocks).
LOOKUP_MARGIN = timedelta(minutes=5)



@dataclass
class FollowUpJob:
    follow_up_id: int
    lease_token: str
    kind: str
    publication_id: int | None
    remote_id: str
    text: str
    idempotency_key: str
    channel_id: int
    network: str
    connection: Connection | None
    # A write of an earlier try may have gone out.
    uncertain: bool
    setup_error: str = ""
    write_started: bool = False
    # The network sends a reply with the same key only once.
    idempotent: bool = False
    # The adapter can look its own reply up (``find_reply``/``find_message``).
    can_look_up: bool = False
    # A message: what ``send_message`` gets.
    message: OutgoingMessage | None = None
    # When the follow-up was queued: a lost message is no older.
    queued_at: datetime | None = None
    # done | error | fenced | local_error | crash | unverifiable
    outcome: str = ""
    error: BaseException | None = None
    result_id: str = ""
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Claim


def claim_follow_ups(
    *, owner: str, limit: int, now: datetime | None = None
) -> list[FollowUpJob]:
    """Claim up to ``limit`` due follow-ups for ``owner`` with a lease."""
    from .engine import db_in

    if limit <= 0:
        return []
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = FollowUp.objects.filter(status=F_.PENDING, due_at__lte=now).order_by(
            "due_at", "pk"
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("publication__channel", "channel")[:limit])
        if not rows:
            return []
        FollowUp.objects.filter(
            pk__in=[r.pk for r in rows], status=F_.PENDING
        ).update(
            status=F_.RUNNING,
            lease_token=token,
            lease_owner=owner[:120],
            lease_expires_at=db_in(conf.lease()),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    return [_job(row, token) for row in rows]


def _job(row: FollowUp, token: str) -> FollowUpJob:
    pub = row.publication
    channel = row.channel if pub is None else pub.channel
    conn, setup_error = None, ""
    try:
        conn = channel.connection()
    except vault.VaultError as e:
        setup_error = str(e)
    if pub is None:
        remote_id, text, key = row.target_remote_id, row.text, row.idempotency_key
    else:
        remote_id, text, key = pub.remote_id, pub.first_comment, pub.idempotency_key
    return FollowUpJob(
        follow_up_id=row.pk,
        lease_token=token,
        kind=row.kind,
        publication_id=pub.pk if pub is not None else None,
        remote_id=remote_id,
        text=text,
        idempotency_key=key,
        channel_id=channel.pk,
        network=channel.network,
        connection=conn,
        uncertain=row.write_started,
        setup_error=setup_error,
        message=_outgoing_message(row) if row.kind == FollowUpKind.MESSAGE
        else None,
        queued_at=row.created_at,
    )


def _outgoing_message(row: FollowUp) -> OutgoingMessage:
    recipient = row.recipient if isinstance(row.recipient, dict) else {}
    try:
        last = datetime.fromisoformat(str(recipient.get("last_received_at")))
    except ValueError:  # never stored: the network's own window decides
        last = None
    return OutgoingMessage(
        text=row.text,
        recipient_id=str(recipient.get("recipient_id") or ""),
        reply_to_remote_id=row.target_remote_id,
        conversation_id=str(recipient.get("conversation_id") or ""),
        last_received_at=last,
    )


# ---------------------------------------------------------------------------
# The fence and the call (in a worker thread)


def fence_follow_up(job: FollowUpJob, operation: str = "") -> None:
    """The follow-up's send fence (see ``engine.fence``): its lease is still
    this job's and valid (database clock), the channel is connected, and a
    first comment on an ordinary post does not go out in a crisis."""
    from .engine import PREPARATORY_WRITES, db_in, grant_write

    preparing = operation in PREPARATORY_WRITES

    def update() -> int:
        if job.kind in ANSWERS:
            channel = Channel.objects.filter(
                pk=OuterRef("channel_id"), status=ChannelStatus.CONNECTED
            )
        else:
            channel = Channel.objects.filter(
                publications__pk=OuterRef("publication_id"),
                status=ChannelStatus.CONNECTED,
            )
        qs = FollowUp.objects.filter(
            pk=job.follow_up_id,
            lease_token=job.lease_token,
            status=F_.RUNNING,
            lease_expires_at__gt=Now(),
        ).filter(Exists(channel))
        if job.kind == FollowUpKind.FIRST_COMMENT:
            qs = qs.exclude(held_back_in_sql(OuterRef("publication_id")))
        changes = {"lease_expires_at": Greatest(F("lease_expires_at"),
                                                db_in(conf.write_lease()))}
        if not preparing:
            changes["write_started"] = True
        return qs.update(**changes)

    grant_write(job, operation, update=update, stopped=lambda: _stop_reason(job),
                log_as=f"follow-up {job.follow_up_id}", refused="lease_lost")


def _stop_reason(job: FollowUpJob) -> str | None:
    """What forbids the follow-up's write now; None: nothing."""
    row = (
        FollowUp.objects.filter(pk=job.follow_up_id)
        .annotate(lease_valid=Q(lease_expires_at__gt=Now()))
        .select_related("publication__channel", "channel")
        .first()
    )
    if row is None:
        return "gone"
    if (
        row.lease_token != job.lease_token
        or row.status != F_.RUNNING
        or not row.lease_valid
    ):
        return "lease_lost"
    channel = row.channel if row.publication is None else row.publication.channel
    if channel.status == ChannelStatus.DISABLED:
        return "channel_disabled"
    if channel.status != ChannelStatus.CONNECTED:
        return "channel"
    # Replies are not held back in a crisis: nothing else can stop them.
    if row.kind == FollowUpKind.FIRST_COMMENT and CrisisScope.current(
        row.publication.organisation_id
    ).holds_back(row.publication):
        return "crisis"
    return None


def execute_follow_up(job: FollowUpJob) -> FollowUpJob:
    """Post the first comment or pin the post; the outcome is set on ``job``."""
    from .engine import send_by

    try:
        return _execute_follow_up(job)
    finally:
        send_by(None)  # no write grant outlives its job (engine.execute)


def _execute_follow_up(job: FollowUpJob) -> FollowUpJob:
    from .engine import drop_connection, fresh_connection

    fresh_connection()
    adapter = None
    try:
        if job.setup_error:
            raise AuthExpired(job.setup_error)
        adapter = build_adapter(
            job.connection,
            channel_id=job.channel_id,
            before_write=lambda operation: fence_follow_up(job, operation),
            timeout=conf.get("HTTP_TIMEOUT_SECONDS"),
        )
        job.idempotent = _idempotent_replies(adapter, job.network)
        if job.kind == FollowUpKind.MESSAGE:
            return _send_message(adapter, job)
        finder = getattr(adapter, "find_reply", None)
        job.can_look_up = finder is not None
        if job.kind in REPLIES:
            if _settled_by_lookup(job, lambda: _look_up_reply(finder, job)):
                return job
            result = adapter.reply(
                job.remote_id, job.text, idempotency_key=_reply_key(job)
            )
            job.result_id = result.remote_id
        elif "pin" in adapter.capabilities().supports:
            adapter.pin(job.remote_id)
        job.outcome = "done"
    except Fenced as e:
        job.outcome, job.extra = "fenced", {"why": e.reason}
    except NetworkError as e:
        job.outcome, job.error = "error", e
        if _parent_gone(adapter, job, e):
            job.outcome = "parent_gone"
        elif job.kind == FollowUpKind.MESSAGE and isinstance(e, RecipientGone):
            job.outcome = "recipient_gone"
    except DatabaseError as e:
        logger.warning("follow-up %s: database error: %s", job.follow_up_id, e)
        drop_connection()
        job.outcome, job.error = "local_error", e
    except Exception as e:
        logger.exception("follow-up %s: unexpected error", job.follow_up_id)
        job.outcome, job.error = "crash", e
    return job


def _parent_gone(adapter, job: FollowUpJob, error: NetworkError) -> bool:
    """Whether a reply the network refused answers a comment that no longer
    exists (the citizen deleted it meanwhile). Each network words that its
    own way (Graph's code 100/33, X's 404 or 403 "deleted", Mastodon's and
    LinkedIn's 404, Bluesky's ``RecordNotFound``), and a 404 may mean other
    things, so the refusal only makes Kanal ask: the network's ``read_post``
    says gone. A failure to ask is no deletion."""
    if (job.kind != FollowUpKind.REPLY or adapter is None
            or not isinstance(error, Rejected) or isinstance(error, Duplicate)):
        return False
    try:
        return adapter.read_post(job.remote_id).gone
    except Exception:  # any failure to ask leaves it a failure
        return False


def _send_message(adapter, job: FollowUpJob) -> FollowUpJob:
    """Answer the citizen privately. A write that may have gone out is looked
    up in the conversation first, on every network that can be asked (even
    where the key makes a resend safe: Mastodon keeps a key for one hour
    only); where none can, only a network that keeps the key resends."""
    finder = getattr(adapter, "find_message", None)
    job.can_look_up = finder is not None
    key = _reply_key(job)

    def look():
        if finder is None:
            return False
        try:
            return finder(job.message, idempotency_key=key,
                          since=job.queued_at - LOOKUP_MARGIN)
        except NotSupported:
            return False

    if _settled_by_lookup(job, look):
        return job
    result = adapter.send_message(job.message, idempotency_key=key)
    job.result_id, job.outcome = result.remote_id, "done"
    return job


def _settled_by_lookup(job: FollowUpJob, look) -> bool:
    """For a write that may have gone out: ask the network before sending it
    again, wherever it can be asked, even where the key makes a resend safe
    (Mastodon keeps a key for one hour only). ``look()`` gives the earlier
    write, None when it is certainly not there, False when the network
    cannot tell. True when that settles the job: found, or unverifiable
    where a resend would not be safe."""
    if not job.uncertain:
        return False
    found = look()
    if found is False and not job.idempotent:
        job.outcome = "unverifiable"
        return True
    if found:
        job.result_id, job.outcome = found.remote_id, "done"
        return True
    return False


def _look_up_reply(finder, job: FollowUpJob):
    """The first comment an earlier try left on the post, None when it is
    certainly not there, False when the network cannot tell (``find_reply``
    is the adapter's optional lookup of its own reply by text)."""
    if finder is None:
        return False
    try:
        return finder(
            job.remote_id, text=job.text, idempotency_key=_reply_key(job)
        )
    except NotSupported:
        return False


def _reply_key(job: FollowUpJob) -> str:
    suffix = {FollowUpKind.REPLY: "reply", FollowUpKind.MESSAGE: "message"}.get(
        job.kind, "first_comment")
    return stable_key(job.idempotency_key, suffix)


def _idempotent_replies(adapter, network: str) -> bool:
    said = getattr(adapter, "idempotent_replies", None)
    if said is not None:
        return bool(said)
    return network in IDEMPOTENT_REPLIES


# ---------------------------------------------------------------------------
# Record


def record_follow_up(job: FollowUpJob, *, now: datetime | None = None) -> str:
    """Store a follow-up's outcome; return its new status."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("publication__channel", "publication__organisation",
                            "channel__organisation")
            .get(pk=job.follow_up_id)
        )
        if row.lease_token != job.lease_token or row.status != F_.RUNNING:
            if job.outcome == "done" and row.status == F_.PENDING:
                _done(row, job)
            return row.status
        _record(row, job, now)
        return row.status


def _record(row: FollowUp, job: FollowUpJob, now: datetime) -> None:
    error = job.error
    max_attempts = conf.get("FOLLOW_UP_MAX_ATTEMPTS")
    if job.outcome == "done":
        _done(row, job)
        return
    if job.outcome == "unverifiable":
        _fail(row, _unsure(row), why="", keep_started=True)
        return
    if job.outcome in ("parent_gone", "recipient_gone"):
        _not_sent_gone(row, PARENT_GONE if job.outcome == "parent_gone"
                       else RECIPIENT_GONE)
        return
    if job.outcome == "fenced":
        why = job.extra.get("why")
        if why == "crisis":
            _fail(row, "first_comment_crisis", why="", keep_started=False)
            return
        if why == "channel_disabled" and row.kind in ANSWERS:
            # "Slået fra" stops all use: an answer does not wait to go out
            # weeks later, out of context, when the channel is turned on.
            _fail(row, "reply_channel_disabled", why="", keep_started=False)
            return
        # Nothing was sent. A channel to reconnect is waited for (a person
        # is told about the channel already); anything else is tried again.
        wait = (conf.seconds("RECONNECT_RECHECK_SECONDS")
                if why in ("channel", "channel_disabled") else timedelta(0))
        _again(row, job, now + wait, counts=False)
        return
    if job.outcome == "local_error":
        # The write may have gone out before Kanal's database failed.
        _again(row, job, now + conf.seconds("LOCAL_ERROR_RETRY_SECONDS"),
               counts=False, started=job.write_started)
        return
    uncertain = isinstance(error, OutcomeUnknown) or (
        job.outcome == "crash" and job.write_started
    )
    if (
        uncertain and row.kind in REPLIES
        and not (job.idempotent or job.can_look_up)
    ):
        _fail(row, _unsure(row), why="", keep_started=True)
        return
    if isinstance(error, Rejected | NotSupported):
        _fail(row, _template(row), why=error.message, keep_started=False)
        return
    retryable = uncertain or job.outcome == "crash" or isinstance(
        error, TransientError | AuthExpired
    )
    if retryable and row.attempts < max_attempts:
        _again(row, job, conf.backoff(row.attempts, error, now), counts=True,
               started=uncertain)
        return
    why = getattr(error, "message", "") or type(error).__name__
    _fail(row, _template(row), why=why, keep_started=uncertain)


def _template(row: FollowUp) -> str:
    if row.kind in ANSWERS:
        return "reply_failed"
    return "pin_failed" if row.kind == FollowUpKind.PIN else "first_comment_failed"


def _unsure(row: FollowUp) -> str:
    return "reply_unsure" if row.kind in ANSWERS else "first_comment_unsure"


def _clear_lease(row: FollowUp) -> list[str]:
    row.lease_token = ""
    row.lease_owner = ""
    row.lease_expires_at = None
    return ["lease_token", "lease_owner", "lease_expires_at"]


def _done(row: FollowUp, job: FollowUpJob) -> None:
    pub = row.publication
    row.status = F_.DONE
    row.remote_id = job.result_id
    row.last_error, row.error_kind, row.reason_params = "", "", {}
    row.save(update_fields=["status", "remote_id", "last_error", "error_kind",
                            "reason_params", "updated_at", *_clear_lease(row)])
    if row.kind in ANSWERS:
        audit.record(
            f"publishing.{row.kind}.sent",
            organisation=row.channel.organisation,
            target=row,
            changes={"remote_id": job.result_id, "attempts": row.attempts},
        )
        _announce_reply(row)
        return
    if row.kind == FollowUpKind.FIRST_COMMENT:
        pub.first_comment_remote_id = job.result_id
        pub.save(update_fields=["first_comment_remote_id", "updated_at"])
        event = "publishing.publication.first_comment"
    else:
        event = "publishing.publication.pinned"
    audit.record(
        event,
        organisation=pub.organisation,
        target=pub,
        changes={"remote_id": job.result_id or pub.remote_id,
                 "attempts": row.attempts},
    )


def _again(row, job, due, *, counts: bool, started: bool | None = None) -> None:
    if not counts:
        row.attempts = max(0, row.attempts - 1)
    row.status = F_.PENDING
    row.due_at = due
    row.write_started = job.uncertain if started is None else (
        started or job.uncertain
    )
    row.last_error = getattr(job.error, "message", "") or str(job.error or "")
    row.error_kind, row.reason_params = "", {}
    row.error_detail = getattr(job.error, "support_detail", "") or ""
    row.save(update_fields=["status", "due_at", "attempts", "write_started",
                            "last_error", "error_kind", "reason_params",
                            "error_detail", "updated_at", *_clear_lease(row)])


def _fail(row: FollowUp, kind: str, *, why: str, keep_started: bool) -> None:
    pub = row.publication
    channel = row.channel if pub is None else pub.channel
    params = {"channel": str(channel), "why": why}
    with translation.override(settings.LANGUAGE_CODE):
        message = render(kind, params)
    row.status = F_.FAILED
    row.last_error = message
    row.error_kind, row.reason_params = kind, params
    if not keep_started:
        row.write_started = False
    row.save(update_fields=["status", "last_error", "error_kind", "reason_params",
                            "write_started", "updated_at", *_clear_lease(row)])
    if pub is None:
        audit.record(
            f"publishing.{row.kind}.failed",
            organisation=channel.organisation,
            target=row,
            changes={"message": message, "attempts": row.attempts},
        )
        recipients = [row.requested_by] if row.requested_by else []
        notify(
            recipients or channel_desk(channel.organisation_id,
                                       channel.owner_administration_id),
            kind=kind, params=params, about=row,
        )
        _announce_reply(row)
        return
    audit.record(
        f"publishing.publication.{row.kind}_failed",
        organisation=pub.organisation,
        target=pub,
        changes={"message": message, "attempts": row.attempts},
    )
    # A crisis pin concerns the crisis leads; a first comment its channel.
    notify(
        crisis_leads(pub.organisation_id) if pub.is_crisis
        else channel_desk(pub.organisation_id, channel.owner_administration_id),
        kind=kind,
        params=params,
        about=pub,
        url=pub.url,
    )


def _not_sent_gone(row: FollowUp, kind: str) -> None:
    """End an answer whose comment the citizen deleted before it went out
    (``PARENT_GONE``), or whose citizen has no account on the network any
    more (``RECIPIENT_GONE``): not sent, never tried again, and nobody is
    alarmed (there is nothing to answer any more); the app that asked is
    told (``reply_finished``) and records it."""
    params = {"channel": str(row.channel), "why": ""}
    with translation.override(settings.LANGUAGE_CODE):
        row.last_error = render(kind, params)
    row.status = F_.FAILED
    row.error_kind, row.reason_params = kind, params
    row.write_started = False
    row.save(update_fields=["status", "last_error", "error_kind", "reason_params",
                            "write_started", "updated_at", *_clear_lease(row)])
    audit.record(f"publishing.{row.kind}.{kind.removeprefix('reply_')}",
                 organisation=row.channel.organisation, target=row,
                 changes={"attempts": row.attempts})
    _announce_reply(row)


def _announce_reply(row: FollowUp) -> None:
    transaction.on_commit(
        lambda: signals.reply_finished.send(sender=FollowUp, follow_up=row)
    )


def queue_reply(
    *,
    channel: Channel,
    to_remote_id: str,
    text: str,
    idempotency_key: str,
    requested_by=None,
) -> FollowUp:
    """Send ``text`` as ``channel``'s answer to ``to_remote_id``, exactly once.

    The reply is a follow-up row: the worker claims it with a lease, fences
    the write, retries what is safe to retry, and looks an uncertain reply
    up on the network before sending it again. The same ``idempotency_key``
    always gives the same row (a second call changes nothing). When it is
    sent or has finally failed, ``signals.reply_finished`` is sent with the
    row. Must run inside the caller's transaction.
    """
    if not idempotency_key or not to_remote_id:
        raise ValueError("a reply needs a target and an idempotency key")
    row, _created = FollowUp.objects.get_or_create(
        kind=FollowUpKind.REPLY,
        idempotency_key=idempotency_key,
        defaults={"channel": channel, "target_remote_id": to_remote_id,
                  "text": text, "requested_by": requested_by},
    )
    return row


def queue_message(
    *,
    channel: Channel,
    to_remote_id: str,
    recipient_id: str,
    text: str,
    idempotency_key: str,
    conversation_id: str = "",
    last_received_at: datetime | None = None,
    requested_by=None,
) -> FollowUp:
    """Send ``text`` privately to the citizen ``recipient_id`` as
    ``channel``'s answer to their message ``to_remote_id``, exactly once.

    As ``queue_reply``, with the citizen and their latest message's time
    (``last_received_at``: Messenger's windows count from it) kept on the
    row; the same key always gives the same row; ``signals.reply_finished``
    tells the caller when it is sent or has finally failed. Must run inside
    the caller's transaction.
    """
    if not idempotency_key or not recipient_id:
        raise ValueError("a message needs a recipient and an idempotency key")
    recipient = {"recipient_id": recipient_id, "conversation_id": conversation_id,
                 "last_received_at": last_received_at.isoformat()
                 if last_received_at else ""}
    row, _created = FollowUp.objects.get_or_create(
        kind=FollowUpKind.MESSAGE,
        idempotency_key=idempotency_key,
        defaults={"channel": channel, "target_remote_id": to_remote_id,
                  "recipient": recipient, "text": text,
                  "requested_by": requested_by},
    )
    return row


def sweep_expired_follow_ups(*, now: datetime | None = None, dry_run=False) -> int:
    """Follow-ups whose worker died or stalled past the lease are due again
    (a write that may have gone out is remembered: see ``execute_follow_up``)."""
    now = now or timezone.now()
    qs = FollowUp.objects.filter(status=F_.RUNNING, lease_expires_at__lt=Now())
    if dry_run:
        return qs.count()
    return qs.update(
        status=F_.PENDING, due_at=now, lease_token="", lease_owner="",
        lease_expires_at=None, updated_at=now,
    )
