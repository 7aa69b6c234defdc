"""Intake: webhooks stored, then processed; every item stored exactly once.

``store_delivery`` keeps a signed webhook's raw body (the endpoint does
nothing else). ``process_deliveries`` (a periodic job) reads stored bodies
and ``ingest``\\ s their events. ``ingest`` is the one writer of items for
webhooks and polling alike: idempotent by (channel, remote id), so a replay,
a webhook and a poll of the same comment, or changes out of order, never
count twice; a text the network showed is never overwritten but kept as a
version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.core import audit
from kanal.core.database import classify, retry_conflicts
from kanal.core.safety import has_control, plain_text, typed_text
from kanal.publishing.scope import CrisisScope
from kanal.untrusted import (
    ID_LIMIT,
    happened_by,
    network_order_time,
    safe_url,
    usable_id,
)

from . import changes, hints, meta, privacy, signals, targets
from .models import (
    OPEN_STATUSES,
    Answer,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    InboxItem,
    ItemKind,
    ItemVersion,
    NetworkAnswer,
    WebhookDelivery,
)

logger = logging.getLogger("kanal.inbox.intake")

BATCH = 200
NAME_LIMIT = 300
URL_LIMIT = 500
#: Items older than this when Kanal first sees them (a backfill) get no
#: response target: nobody waits for an answer to them any more.
OLD_ENOUGH = timedelta(days=14)


def store_delivery(*, network: str, body: bytes, organisation=None) -> int:
    """Keep a verified webhook body for the worker (the endpoint's only
    write); returns the delivery's id. One INSERT written once from the
    model's columns (``_delivery_insert``): building it through a model's
    ``save()`` for every request cost the endpoint a fifth of its CPU."""
    sql, columns, outcome = _delivery_insert(connection)
    values = {
        "network": network,
        "organisation_id": organisation.pk if organisation else None,
        "body": body.decode("utf-8"),
        "received_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        "status": DeliveryStatus.PENDING,
        "processed_at": None,
        "outcome": outcome,
    }
    with connection.cursor() as cursor:
        # A KeyError here: a new column of WebhookDelivery needs its value.
        cursor.execute(sql, [values[c] for c in columns])
        if connection.features.can_return_columns_from_insert:
            return cursor.fetchone()[0]
        return cursor.lastrowid  # pragma: no cover (SQLite before 3.35)


_INSERTS: dict[str, tuple[str, list[str], object]] = {}


def _delivery_insert(connection) -> tuple[str, list[str], object]:
    """The INSERT of a ``WebhookDelivery`` row naming every column but the
    id, the columns in its order, and an empty outcome as the database takes
    it (made once per database vendor)."""
    if connection.vendor not in _INSERTS:
        meta_ = WebhookDelivery._meta
        columns = [f.column for f in meta_.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        # Names from the model, quoted; the values are parameters.
        sql = (f"INSERT INTO {quote(meta_.db_table)} "  # noqa: S608
               f"({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join(['%s'] * len(columns))})")
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(meta_.pk.column)}"
        outcome = meta_.get_field("outcome").get_db_prep_save({}, connection)
        _INSERTS[connection.vendor] = sql, columns, outcome
    return _INSERTS[connection.vendor]


@dataclass
class Outcome:
    """What ingesting changed: new items, changed ones, and skip reasons."""

    created: list[InboxItem] = field(default_factory=list)
    changed: list[tuple[InboxItem, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    #: Items an edit gave personal data they did not hold before.
    exposed: list[InboxItem] = field(default_factory=list)
    #: Mentions kept to be read back (``inbox.mentions``).
    queued: int = 0

    def to_guard(self) -> list[InboxItem]:
        """What the personal-data guard looks at after commit: every new
        item, and every item an edit gave new personal data (an edit that
        adds a CPR number is hidden like a new comment that has one)."""
        return self.created + [i for i in self.exposed if i not in self.created]

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add(self, other: Outcome) -> None:
        """Count ``other`` (one stored item's tally) in this one too."""
        self.created += other.created
        self.changed += other.changed
        self.exposed += other.exposed
        self.queued += other.queued
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def as_json(self) -> dict:
        shown = {"created": len(self.created), "changed": len(self.changed),
                 "skipped": self.skipped}
        if self.queued:
            shown["queued"] = self.queued
        return shown


def process_deliveries(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Process stored webhook bodies, oldest first; returns how many."""
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    if dry_run:
        return pending.count()
    from .moderation import guard_personal_data

    done = 0
    while True:
        batch, to_guard = retry_conflicts(
            lambda: _process_batch(pending, now=now),
            what="processing webhook deliveries")
        # After commit: hiding calls the network.
        guard_personal_data(to_guard)
        done += len(batch)
        if len(batch) < BATCH:
            return done


def _process_batch(pending, *, now: datetime | None):
    """One batch of deliveries in one transaction: the batch, and the items
    to guard after commit."""
    to_guard: list[InboxItem] = []
    with transaction.atomic():
        qs = pending.order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        batch = list(qs[:BATCH])
        for delivery in batch:
            to_guard += _process_guarded(delivery, now=now).to_guard()
    return batch, to_guard


def _process_guarded(delivery: WebhookDelivery, *, now: datetime | None) -> Outcome:
    """``process_delivery`` in a savepoint of its own: a body that fails in a
    way nobody foresaw is marked failed, and the deliveries after it are
    processed (one poisoned body must never stop every organisation's
    intake)."""
    try:
        with transaction.atomic():
            return process_delivery(delivery, now=now)
    except Exception as e:
        if isinstance(e, DatabaseError) and classify(e) is not None:
            # A conflict with another transaction or the database away: no
            # fault of the body, which stays pending (the batch is undone).
            raise
        logger.exception("webhook %s could not be processed", delivery.pk)
        _finish(delivery, DeliveryStatus.FAILED,
                {"error": "unexpected", "type": type(e).__name__},
                now or timezone.now())
        return Outcome()


def process_delivery(
    delivery: WebhookDelivery, *, now: datetime | None = None
) -> Outcome:
    """Read one stored body and ingest its events; record what happened."""
    now = now or timezone.now()
    outcome = Outcome()
    try:
        data = meta.loads(delivery.body.encode("utf-8"))
        events, skipped = meta.events(delivery.network, data, now=now)
    except meta.Malformed as e:
        _finish(delivery, DeliveryStatus.FAILED, {"error": e.reason}, now)
        return outcome
    for reason in skipped:
        outcome.skip(reason)
    for event in events:
        channel = _channel(delivery, event.page_id, outcome)
        if channel is None:
            continue
        if event.action == meta.READ_BACK:
            from .mentions import remember

            remember(channel, *event.mention_ids, now=now, outcome=outcome)
            continue
        ingest(channel, event.item, action=event.action, at=event.at, outcome=outcome)
    status = (
        DeliveryStatus.PROCESSED
        if outcome.created or outcome.changed or outcome.queued
        or not outcome.skipped
        else DeliveryStatus.IGNORED
    )
    _finish(delivery, status, outcome.as_json(), now)
    if outcome.skipped.get("unknown_page") or outcome.skipped.get("other_organisation"):
        logger.warning("webhook %s: events for pages Kanal does not know (%s)",
                       delivery.pk, outcome.skipped)
    return outcome


def _finish(delivery, status, outcome, now) -> None:
    delivery.status = status
    delivery.outcome = outcome
    delivery.processed_at = now
    fields = ["status", "outcome", "processed_at"]
    if status != DeliveryStatus.FAILED:
        # The raw body holds what citizens wrote (names, ids, a CPR number)
        # outside the items that retention and erasure redact: once its
        # events are stored, it is dropped. A failed one is kept for the
        # operator until retention (``inbox.retention.forget_deliveries``).
        delivery.body = ""
        fields.append("body")
    delivery.save(update_fields=fields)


def _channel(delivery: WebhookDelivery, page_id: str, outcome: Outcome):
    channels = Channel.objects.active().filter(
        network=delivery.network, remote_id=page_id
    ).select_related("organisation")
    if delivery.organisation_id is not None:
        own = [c for c in channels if c.organisation_id == delivery.organisation_id]
        if not own:
            outcome.skip(_not_active(delivery, page_id) or (
                "other_organisation" if channels else "unknown_page"))
            return None
        return own[0]
    found = list(channels[:2])
    if not found:
        outcome.skip(_not_active(delivery, page_id) or "unknown_page")
        return None
    if len(found) > 1:
        # The same page in two organisations: only an address that names the
        # organisation says whose it is.
        outcome.skip("ambiguous_page")
        return None
    return found[0]


def _not_active(delivery: WebhookDelivery, page_id: str) -> str:
    """"channel_disabled" when the page is a channel turned off ("Slået
    fra") of the delivery's organisation (of any, without one): nothing is
    stored while it is off, and it is no page Kanal does not know."""
    off = Channel.objects.filter(network=delivery.network, remote_id=page_id,
                                 status=ChannelStatus.DISABLED)
    if delivery.organisation_id is not None:
        off = off.filter(organisation_id=delivery.organisation_id)
    return "channel_disabled" if off.exists() else ""


def conversation_key(channel: Channel, item: NetworkItem) -> str:
    """Which conversation ``item`` belongs to (see ``Conversation.key``).

    Threaded by the parent chain: an item that answers a stored item joins
    that item's conversation, and one that answers the desk's own answer
    (never stored as an item, only as the answer's follow-up) joins the
    conversation that answer was for. Otherwise a comment (or a reply to our
    post) starts its own conversation, a mention its own, and a reply to
    something Kanal never saw is keyed by that parent.
    """
    if item.kind == ItemKind.MESSAGE:
        return f"dm:{item.author_id}"
    parent = item.parent_remote_id
    if parent and parent != item.remote_id:
        known = _thread_of(channel, parent)
        if known:
            return known
    if item.kind == ItemKind.MENTION:
        return f"m:{item.remote_id}"
    if item.kind == ItemKind.COMMENT or not parent or parent == item.post_remote_id:
        return f"c:{item.remote_id}"
    return f"c:{parent}"


def _thread_of(channel: Channel, parent: str) -> str:
    """The key of the conversation ``parent`` belongs to on ``channel``: a
    stored item's, or the one the desk's answer ``parent`` was for, sent
    from Kanal or written on the network (``NetworkAnswer``) ("")."""
    known = (
        InboxItem.objects.filter(channel=channel, remote_id=parent)
        .values_list("conversation__key", flat=True)
        .first()
    )
    if known:
        return known
    return (
        Answer.objects.filter(follow_up__channel=channel,
                              follow_up__remote_id=parent)
        .values_list("conversation__key", flat=True)
        .first()
    ) or (
        NetworkAnswer.objects.filter(channel=channel, remote_id=parent)
        .values_list("conversation__key", flat=True)
        .first()
    ) or ""


def ingest(
    channel: Channel,
    item: NetworkItem,
    *,
    action: str = "add",
    at: datetime | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Store what the network said about ``item`` on ``channel``.

    ``action`` is add, edited, remove, hide, unhide, or poll (an add from
    polling, whose hidden flag is the network's current word); ``at`` is when the
    network says it happened (the newest text wins, older ones are kept as
    versions). Runs in its own savepoint; safe to call twice.
    """
    outcome = outcome if outcome is not None else Outcome()
    if item.kind not in ItemKind.values or not item.remote_id:
        outcome.skip("unknown_kind")
        return outcome
    item = checked(item)
    if item is None:
        outcome.skip("bad_id")
        logger.warning("channel %s: an item with an id Kanal cannot store", channel.pk)
        return outcome
    item = replace(item, url=network_address(channel, item))
    if own_item(channel, item):
        if action in ("add", "poll"):
            retry_conflicts(lambda: answered_on_network(channel, item),
                            what=f"an answer on the network of channel {channel.pk}")
        outcome.skip("own_item")
        return outcome
    # The network's own time, on its clock (minutes off Kanal's either way):
    # it orders the item's versions among themselves, so a few minutes
    # ahead are not pulled back to Kanal's now (two edits would land in the
    # order they were processed, not written: T7b-5); only times shown or
    # counted on Kanal's clock are (``changes.by_now``).
    at = network_order_time(at, now=timezone.now()) or item.created_at
    def store() -> Outcome:
        # A fresh tally per try: what an undone try counted never reaches
        # the caller (nor its personal-data guard after commit).
        tried = Outcome()
        with transaction.atomic():
            _ingest(channel, item, action, at, tried)
        return tried

    try:
        outcome.add(retry_conflicts(
            store, what=f"storing an item of channel {channel.pk}"))
    except IntegrityError:
        # Another process stored the same item a moment ago: it is there.
        outcome.skip("duplicate")
    except DatabaseError as error:
        if classify(error) is not None:
            # A conflict that outlasted its retries, or the database away:
            # not this item's fault, so it is not skipped; the poll or the
            # webhook delivery fails and is read again.
            raise
        # What the network sent, the database would not take: this item is
        # skipped and said; the others of the page or the body go on.
        logger.exception("channel %s: item could not be stored", channel.pk)
        outcome.skip("refused_by_database")
    return outcome


def own_item(channel: Channel, item: NetworkItem) -> bool:
    """Whether the account itself wrote ``item``: its author is the
    channel's id, or (Threads names authors by username) its handle. The
    desk's own answer is no citizen's question, however it arrives (each
    network's webhook or poll): stored, it would reopen the conversation it
    answered."""
    author = item.author_id.lstrip("@").casefold()
    if not author:
        return False
    handle = channel.handle.lstrip("@").casefold()
    return author == channel.remote_id.casefold() or author == handle


@transaction.atomic
def answered_on_network(channel: Channel, reply: NetworkItem) -> bool:
    """The account's own ``reply`` to a citizen's item Kanal holds, or its
    own direct message to a citizen Kanal holds messages from (Meta's
    ``is_echo``: ``parent_remote_id`` names the recipient), written on the
    network directly (Meta Business Suite, the network's app), not sent
    from Kanal: the question is answered, as by an answer from Kanal
    (``replies.record_reply_outcome``), and the answer is kept
    (``NetworkAnswer``) for the conversation's page and for threading a
    citizen's reply to it. The conversation's first response time is the
    reply's; an open conversation with no citizen item after the reply
    becomes *answered* (a citizen who writes again reopens it, as always).
    A conversation the desk closed otherwise stays as it is; a reply Kanal
    sent itself (its follow-up's remote id) is settled by its follow-up,
    and a replay changes nothing. True when the conversation changed."""
    from kanal.publishing.models import FollowUp

    parent = reply.parent_remote_id
    if not parent or parent == reply.remote_id:
        return False
    if reply.kind == ItemKind.MESSAGE:
        question = Conversation.objects.filter(
            channel=channel, key=f"dm:{parent}").values("pk").first()
        conversation_id = question and question["pk"]
    else:
        question = InboxItem.objects.filter(channel=channel, remote_id=parent).values(
            "conversation_id").first()
        conversation_id = question and question["conversation_id"]
    if conversation_id is None or FollowUp.objects.filter(
            channel=channel, remote_id=reply.remote_id).exists():
        return False
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    at = reply.created_at
    _kept, new = NetworkAnswer.objects.get_or_create(
        channel=channel, remote_id=reply.remote_id,
        defaults={"conversation": conversation, "text": reply.text,
                  "written_at": at})
    if not new:
        return False
    before = conversation.status
    changed = []
    if conversation.first_response_at is None:
        conversation.first_response_at = at
        changed.append("first_response_at")
        if conversation.due_at is not None:
            conversation.answered_on_time = at <= conversation.due_at
            changed.append("answered_on_time")
    later = conversation.items.filter(deleted_on_network_at__isnull=True,
                                      created_at__gt=at).exists()
    if before in OPEN_STATUSES and not later:
        conversation.status = ConversationStatus.ANSWERED
        changed.append("status")
    if changed:
        conversation.save(update_fields=[*changed, "updated_at"])
    audit.record(
        "inbox.conversation.answered_on_network",
        organisation=channel.organisation,
        target=conversation,
        changes={"remote_id": reply.remote_id, "status": [before,
                                                          conversation.status]},
    )
    return bool(changed)


def checked(item: NetworkItem) -> NetworkItem | None:
    """``item`` as Kanal stores it, or None when its ids cannot be stored.

    Everything a network sends is untrusted: an item's id (its own, its
    post's, its parent's) that is no id (``kanal.untrusted.usable_id``: too
    long, a control character, a space, ``?``, ``#``, a brace, a ``..``
    step) is refused, never cut or mended, for webhooks and polling alike: a
    stored id goes into the path of a reply, a hide or a delete later. An
    author's id (only compared, never a path) is refused when too long or
    with a control character. Control characters leave the text and the
    name. A link is kept only as ``kanal.untrusted.safe_url`` keeps it (an
    absolute http(s) address, no whitespace, no ``javascript:`` or ``data:``):
    any other, or one too long to keep, is left out, not cut into another.
    """
    ids = [str(getattr(item, name) or "") for name in
           ("remote_id", "post_remote_id", "parent_remote_id", "author_id")]
    if any(i and not usable_id(i) for i in ids[:3]) or (
        len(ids[3]) > ID_LIMIT or has_control(ids[3])
    ):
        return None
    url = safe_url(item.url, max_length=URL_LIMIT)
    # A handle is put in front of an answer (Mastodon): one that is no
    # handle (by the rule for ids: Mastodon's user@domain passes) is left
    # out, never cut or cleaned into another.
    handle = usable_id(str(item.author_handle or ""))
    return replace(
        item, remote_id=ids[0], post_remote_id=ids[1], parent_remote_id=ids[2],
        author_id=ids[3], author_handle=handle,
        author_name=plain_text(item.author_name, max_length=NAME_LIMIT),
        text=typed_text(item.text, max_length=None), url=url,
        created_at=_plausible(item.created_at),
    )


#: The networks whose items come with a link the network gave (Meta's
#: ``permalink``/``permalink_url``, Mastodon's ``url``); X, Bluesky and
#: LinkedIn send none: their adapters make it from the id, on their web.
GIVEN_LINKS = frozenset({"facebook", "instagram", "threads", "mastodon"})


def network_address(channel: Channel, item: NetworkItem) -> str:
    """``item``'s link (already ``safe_url``) when it is on the network's
    own web, else "": the conversation page links it as "Se på netværket",
    so a link to another host (a look-alike login page) is never offered as
    the network's. The network's web is what its adapter's ``permalink``
    keeps (Meta's hosts, the channel's own server); on a federated network
    (Mastodon) also the server in the citizen's handle (``user@server``),
    where their post lives. Webhooks and polling alike (T7a-3)."""
    url = item.url
    if not url or channel.network not in GIVEN_LINKS:
        return url
    try:
        if adapter_for(channel, credentials=False).permalink(url):
            return url
        host = (urlsplit(url).hostname or "").lower()
    except Exception:  # an adapter that cannot even say, or no host: no link
        return ""
    handle = item.author_handle or ""
    server = handle.rpartition("@")[2].lower() if "@" in handle else ""
    if server and (host == server or host.endswith("." + server)):
        return url
    return ""


def _plausible(when) -> datetime:
    """A network's time for an item, or now when it cannot be one (none, no
    zone, before social media, or in the future beyond a clock's error); at
    most now (``happened_by``): the due time, the list's order and the
    response times count from it."""
    now = timezone.now()
    return happened_by(when, now=now) or now


#: What an event first seen for an item says about its text: an add (or a
#: poll, or a hide/unhide, which carry the text the network shows) gives
#: the original; an edit gives a later text; a removal gives none.
FIRST_SEEN_CHANGE = {"edited": "edited", "remove": "deleted"}


def _ingest(channel, item, action, at, outcome) -> None:
    existing = (
        InboxItem.objects.select_for_update()
        .filter(channel=channel, remote_id=item.remote_id)
        .first()
    )
    if existing is None:
        row = _create(channel, item, at,
                      first=FIRST_SEEN_CHANGE.get(action, "original"))
        if action in ("hide", "unhide") or (action == "poll" and item.is_hidden):
            row.hidden_on_network = action in ("hide", "poll")
            row.hidden_changed_at = at if action != "poll" else timezone.now()
            row.save(update_fields=["hidden_on_network", "hidden_changed_at"])
        outcome.created.append(row)
        transaction.on_commit(
            lambda: signals.item_received.send(sender=InboxItem, item=row)
        )
        return
    changes.apply(existing, item, action, at, outcome)


def _create(channel: Channel, item: NetworkItem, at: datetime, *,
            first: str = "original") -> InboxItem:
    """Store a new item; ``first`` is what its first event says of its text
    (``FIRST_SEEN_CHANGE``). An item first seen deleted needs no answer: it
    neither opens nor reopens its conversation, nor gives it a due time."""
    deleted = first == "deleted"
    key = conversation_key(channel, item)
    conversation, _new = Conversation.objects.get_or_create(
        channel=channel, key=key,
        defaults={"organisation_id": channel.organisation_id,
                  "post_remote_id": item.post_remote_id,
                  "last_item_at": item.created_at,
                  "status": (ConversationStatus.NO_REPLY if deleted
                             else ConversationStatus.NEW)},
    )
    found = privacy.find(item.text)
    score = hints.sentiment(item.text)
    row = InboxItem.objects.create(
        sentiment=score, language=hints.language(item.text),
        organisation_id=channel.organisation_id, channel=channel,
        network=channel.network, conversation=conversation,
        remote_id=item.remote_id, kind=item.kind,
        post_remote_id=item.post_remote_id,
        parent_remote_id=item.parent_remote_id, author_id=item.author_id,
        author_name=item.author_name, author_handle=item.author_handle,
        text=item.text, url=item.url,
        created_at=item.created_at, hidden_on_network=item.is_hidden,
        personal_data=found,
        edited_at=changes.by_now(at) if first == "edited" else None,
        deleted_on_network_at=changes.by_now(at) if deleted else None,
    )
    ItemVersion.objects.create(
        item=row, change=first, text="" if deleted else item.text,
        network_time=at,
    )
    updates = {}
    if conversation.last_item_at is None or item.created_at > conversation.last_item_at:
        updates["last_item_at"] = item.created_at
    if found and not conversation.has_personal_data:
        updates["has_personal_data"] = True
    if "last_item_at" in updates or _new:
        updates["negative"] = hints.sentiment_label(score) == "negative"
    if not conversation.priority and hints.crisis_words(item.text) and (
        CrisisScope.current(channel.organisation_id).covers_channel(channel.pk)
    ):
        updates["priority"] = True
    # Answered, no reply needed, hidden or referred: the citizen wrote again
    # and the desk looks again. So does a conversation set "waiting" (for
    # the citizen's details, a colleague's word): what it waited for came,
    # and the due time of the question that waited stays.
    waiting = conversation.status == ConversationStatus.WAITING
    reopened = ((conversation.status not in OPEN_STATUSES or waiting)
                and not _new and not deleted)
    if reopened:
        updates["status"] = conversation.open_status()
    # An open conversation without a due time: its questions were deleted
    # on the network (``targets.retime``), or were too old for one.
    untimed = conversation.status in OPEN_STATUSES and conversation.due_at is None
    if (_new or (reopened and not waiting) or untimed) and not deleted and (
        item.created_at > timezone.now() - OLD_ENOUGH
    ):
        updates["due_at"] = targets.due_at(
            item.created_at, targets.settings_for(channel.organisation_id))
        updates["overdue_notified_at"] = None
    if updates:
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
    if _new:
        _auto_assign(conversation, row)
    return row


def _auto_assign(conversation: Conversation, row: InboxItem) -> None:
    from .actions import assign_conversation
    from .models import AssignmentRule

    for rule in AssignmentRule.objects.filter(
        organisation_id=conversation.organisation_id
    ).select_related("administration"):
        if rule.matches(conversation.channel_id, row.text):
            conversation.refresh_from_db()
            assign_conversation(conversation, actor=None,
                                administration=rule.administration)
            return
