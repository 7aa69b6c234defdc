"""What a later event says about an item Kanal already stores: an edit, a
deletion on the network, a hide or unhide, a poll that reads it again, or
the add of an item first seen by its edit (events out of order).

``intake.ingest`` stores a new item itself and hands every event about a
stored one to ``apply`` (in its transaction, the row locked). A text the
network showed is never overwritten but kept as a version; the newest by
the network's time is shown. ``outcome`` is intake's tally
(``intake.Outcome``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem

from . import hints, privacy, signals, targets
from .models import Conversation, InboxItem, ItemVersion


def by_now(at: datetime | None) -> datetime | None:
    """``at`` (a network's time, which orders versions) as Kanal shows and
    records when something happened: never after Kanal's now (a network's
    clock ahead of Kanal's is its error, ``kanal.untrusted.happened_by``)."""
    return None if at is None else min(at, timezone.now())


def apply(existing: InboxItem, item: NetworkItem, action: str, at: datetime,
          outcome) -> None:
    """Apply what the network said (``action``, as ``intake.ingest`` takes
    it) about ``item``, stored as ``existing``, at ``at``."""
    if action == "remove":
        if existing.deleted_on_network_at is None:
            _change(existing, "deleted", "", at, outcome)
        else:
            outcome.skip("already_known")
        return
    if action in ("hide", "unhide", "poll"):
        _hidden(existing, action, item, at, outcome)
        if action != "poll":
            return
    if existing.redacted_at is not None:
        outcome.skip("already_known")
        return
    if action == "poll":
        # A poll reads what the network shows now, not when it changed: it
        # is newer than every version known, whichever clock their network
        # times are on (a network ahead of Kanal's stamps them later than
        # Kanal's now).
        if item.text == existing.text:
            outcome.skip("already_known")
            return
        newest = existing.versions.aggregate(Max("network_time"))[
            "network_time__max"]
        at = max(at, timezone.now(), *(
            [newest + timedelta(microseconds=1)] if newest else []))
    elif action == "edited":
        # A replay of this very edit changes nothing; an edit back to an
        # earlier wording is a new version that the network shows now.
        if existing.versions.filter(text=item.text, network_time=at).exists():
            outcome.skip("already_known")
            return
    elif not existing.versions.filter(change=ItemVersion.Change.ORIGINAL).exists():
        # The add of an item first seen by its edit or its deletion (events
        # out of order): its text is the original, not an edit.
        _original(existing, item, at, outcome)
        return
    elif existing.versions.filter(text=item.text).exists():
        # An "add" (a replay, or one that arrives after an edit) is the
        # original wording, which is known.
        outcome.skip("already_known")
        return
    _change(existing, "edited", item.text, at, outcome)


def _hidden(existing, action, item, at, outcome) -> None:
    """Apply what the network says it shows: a hide/unhide event by its own
    time (a retry delivers an older one after a newer; the newest wins), or
    a poll, which reads the network's flag now. A replayed "add" says
    nothing about it."""
    hidden = {"hide": True, "unhide": False}.get(action, item.is_hidden)
    known = existing.hidden_changed_at
    # A poll reads the flag now: later than every change known, whichever
    # clock stamped it (a network ahead of Kanal's stamps past Kanal's now).
    when = at if action != "poll" else max(
        [timezone.now(), *([known + timedelta(microseconds=1)] if known else [])])
    if action != "poll" and known is not None and when < known:
        outcome.skip("older_change")
        return
    if hidden != existing.hidden_on_network:
        existing.hidden_on_network = hidden
        existing.hidden_changed_at = when
        existing.save(update_fields=["hidden_on_network", "hidden_changed_at"])
        change = "hidden" if hidden else "unhidden"
        outcome.changed.append((existing, change))
        _announce(existing, change)
        return
    if action != "poll":
        if known is None or when > known:
            # The same state, said later: an older opposite event that
            # arrives after this one must not undo it.
            existing.hidden_changed_at = when
            existing.save(update_fields=["hidden_changed_at"])
        outcome.skip("already_known")


def _original(row: InboxItem, item: NetworkItem, at: datetime, outcome) -> None:
    """Keep the late add's text as the original of ``row``: the text it
    shows stays the newest version's (an edit or the deletion came later)."""
    ItemVersion.objects.create(
        item=row, change=ItemVersion.Change.ORIGINAL, text=item.text,
        network_time=at,
    )
    fields = []
    for name in ("author_id", "author_name", "author_handle", "url"):
        if not getattr(row, name) and getattr(item, name):
            setattr(row, name, getattr(item, name))
            fields.append(name)
    if _show_newest(row, fields):
        outcome.exposed.append(row)
    outcome.changed.append((row, "original"))
    _announce(row, "original")


def _change(row: InboxItem, change: str, text: str, at: datetime, outcome) -> None:
    if change == "deleted":
        ItemVersion.objects.create(
            item=row, change=ItemVersion.Change.DELETED, text="", network_time=at
        )
        row.deleted_on_network_at = by_now(at)
        row.save(update_fields=["deleted_on_network_at"])
        targets.retime(row.conversation_id)
    else:
        ItemVersion.objects.create(
            item=row, change=ItemVersion.Change.EDITED, text=text, network_time=at
        )
        if _show_newest(row):
            outcome.exposed.append(row)
    outcome.changed.append((row, change))
    _announce(row, change)


def _show_newest(row: InboxItem, fields: list[str] | None = None) -> bool:
    """Show ``row``'s newest text by the network's time (a deletion keeps
    the last text that was shown); save it with ``fields``. True when the
    text shown now holds a kind of personal data the earlier one did not
    (the personal-data guard looks at it, as at a new item)."""
    fields = list(fields or [])
    exposed = False
    newest = row.versions.exclude(change=ItemVersion.Change.DELETED).order_by(
        "-network_time", "-pk"
    ).first()
    if newest is not None and newest.text != row.text:
        before = set(row.personal_data or [])
        row.text = newest.text
        row.edited_at = (None if newest.change == ItemVersion.Change.ORIGINAL
                         else by_now(newest.network_time))
        row.personal_data = privacy.find(row.text)
        row.sentiment = hints.sentiment(row.text)
        row.language = hints.language(row.text)
        fields += ["text", "edited_at", "personal_data", "sentiment", "language"]
        exposed = bool(set(row.personal_data) - before)
    if fields:
        row.save(update_fields=fields)
    if "personal_data" in fields:
        recount_personal_data([row.conversation_id])
    if "sentiment" in fields:
        recount_negative([row.conversation_id])
    return exposed


def recount_negative(conversation_ids) -> None:
    """Set the conversations' *Negativ stemning* from their newest item's
    sentiment as it is now (by when it was written, as ``intake`` sets it):
    a citizen's edit that turns the newest item says so in the list."""
    newest = InboxItem.objects.filter(conversation=OuterRef("pk")).order_by(
        "-created_at", "-pk").values("sentiment")[:1]
    for pk, negative, score in Conversation.objects.filter(
            pk__in=list(conversation_ids)).annotate(
            score=Subquery(newest)).values_list("pk", "negative", "score"):
        now = hints.sentiment_label(score) == "negative"
        if now != negative:
            Conversation.objects.filter(pk=pk).update(negative=now)


def recount_personal_data(conversation_ids) -> None:
    """Set the conversations' "Personoplysninger" from their items as they
    are now: the flag is cleared when an edit or a redaction removed the
    last personal data, not only set."""
    holding = InboxItem.objects.filter(conversation=OuterRef("pk")).exclude(
        personal_data=[])
    Conversation.objects.filter(pk__in=list(conversation_ids)).update(
        has_personal_data=Exists(holding))


def _announce(row: InboxItem, change: str) -> None:
    transaction.on_commit(
        lambda: signals.item_changed.send(sender=InboxItem, item=row, change=change)
    )
