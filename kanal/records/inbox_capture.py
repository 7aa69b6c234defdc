"""The inbox → the record: what citizens said and what the desk answered or did.

The inbox (a layer below) announces its changes with signals
(``kanal.inbox.signals``) after they commit; the receivers here write them
into the record: a citizen's comment or message as received, later edits
and deletions seen on the network as new versions (never an overwrite), the
desk's answer with the exact text that went out, and every moderation action
with its reason. (Retention and erasure of the inbox's items are the
records app's too: ``retention``.) A failure here is logged and never breaks
the inbox.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from kanal.inbox.models import InboxItem, ItemKind, ItemVersion

from . import actions
from .models import RecordChange, RecordKind

logger = logging.getLogger(__name__)

SOURCE = "inbox"
#: An inbox item's entries share the key ``inbox:item:<id>``.
ITEM_KEY = "inbox:item:"


def item_key(item: InboxItem) -> str:
    return f"{ITEM_KEY}{item.pk}"


def _item_content(item: InboxItem) -> dict:
    return {
        "kind": item.kind,
        "network": item.network,
        "channel": item.channel.display_name,
        "remote_id": item.remote_id,
        "post_remote_id": item.post_remote_id,
        "parent_remote_id": item.parent_remote_id,
        "author_id": item.author_id,
        "author_name": item.author_name,
        "text": item.text,
        "url": item.url,
        "created_at": item.created_at,
        "hidden_on_network": item.hidden_on_network,
    }


def _administration(item: InboxItem):
    conversation = item.conversation
    return conversation.assigned_administration if conversation else None


def record_item(item: InboxItem, *, change: str | None = None,
                original: ItemVersion | None = None):
    """Record ``item`` as it is now (a new version when it changed), or,
    with ``original``, its original text as written (at ``created_at``, the
    network's time: before any edit already recorded)."""
    if item.redacted_at is not None:
        return None  # the personal data is gone; nothing to keep
    text = item.text if original is None else original.text
    return actions.record(
        organisation=item.organisation,
        kind=(RecordKind.MESSAGE if item.kind == ItemKind.MESSAGE
              else RecordKind.COMMENT),
        source=SOURCE,
        source_key=item_key(item),
        content={**_item_content(item), "text": text},
        occurred_at=(item.created_at if original is not None
                     else item.edited_at or item.created_at),
        channel=item.channel,
        administration=_administration(item),
        person=item.author_name or item.author_id,
        text=text,
        permalink=item.url,
        change=change,
    )


def _safely(what: str, work) -> None:
    try:
        work()
    except Exception:
        logger.exception("records: could not record %s from the inbox", what)


def on_item_received(sender, item, **kwargs) -> None:
    # An item first seen by its edit (events out of order) is an edit; its
    # original is recorded when it arrives (``on_item_changed``).
    first_seen_edited = item.edited_at is not None
    _safely("a received item", lambda: record_item(
        item, change=RecordChange.EDITED if first_seen_edited else None))


def on_item_changed(sender, item, change, **kwargs) -> None:
    def work():
        if change == "deleted":
            if actions.record_deleted(
                organisation=item.organisation, source_key=item_key(item),
                occurred_at=item.deleted_on_network_at or timezone.now(),
            ) is None:
                record_item(item)  # never recorded before: keep what there is
            return
        if change == "original":
            # The add of an item first seen by its edit: the text it was
            # written with, ordered and labelled by the network's time.
            original = item.versions.filter(
                change=ItemVersion.Change.ORIGINAL).order_by("pk").first()
            if original is not None:
                record_item(item, original=original)
            return
        record_item(item, change="edited")

    _safely(f"a change ({change})", work)


def on_reply_sent(sender, conversation, item, remote_id, answer=None, **kwargs) -> None:
    def work():
        sent = answer.follow_up.text if answer is not None else ""
        text = sent or (answer.text if answer is not None else "")
        actions.record(
            organisation=conversation.organisation,
            kind=RecordKind.REPLY,
            source=SOURCE,
            source_key=f"inbox:reply:{conversation.channel_id}:{remote_id}",
            content={
                "network": item.network,
                "channel": item.channel.display_name,
                "remote_id": remote_id,
                "in_reply_to": item.remote_id,
                "text": text,
                "author": str(answer.author.user) if answer and answer.author else "",
                "standard_answer": answer.standard_answer_id if answer else None,
            },
            occurred_at=answer.follow_up.updated_at if answer else timezone.now(),
            channel=conversation.channel,
            administration=conversation.assigned_administration,
            person=item.author_name or item.author_id,
            text=text,
        )

    _safely("an answer", work)


def on_item_moderated(sender, item, action, reason, actor=None, **kwargs) -> None:
    def work():
        now = timezone.now()
        actions.record(
            organisation=item.organisation,
            kind=RecordKind.MODERATION,
            source=SOURCE,
            source_key=f"inbox:moderation:{item.pk}:{now.isoformat()}",
            content={
                "action": action,
                "reason": reason,
                "network": item.network,
                "remote_id": item.remote_id,
                "by": str(actor.user) if actor is not None else "",
            },
            occurred_at=now,
            channel=item.channel,
            administration=_administration(item),
            person=item.author_name or item.author_id,
            text=item.text,
        )

    _safely("a moderation", work)


def connect() -> None:
    from kanal.inbox import signals

    for signal, receiver, name in (
        (signals.item_received, on_item_received, "received"),
        (signals.item_changed, on_item_changed, "changed"),
        (signals.reply_sent, on_reply_sent, "reply"),
        (signals.item_moderated, on_item_moderated, "moderated"),
    ):
        signal.connect(receiver, dispatch_uid=f"records.inbox.{name}")
