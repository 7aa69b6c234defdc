"""Reading stored items' hints again after the hint rules changed.

Items stored before ``hints`` read Danish the way it does now (a negator
turning the word after it, a question's words counting half, a compound
counted by its last word) keep the sentiment and language they were given
then, and their conversations the *Negativ stemning* of that old sentiment.
``rehint`` reads every item that still holds its text, in batches of
``batch`` (each its own transaction), and gives it the sentiment and
language a new item gets now; then every conversation's *negative* is set
from its newest item, as intake sets it. Running it again changes nothing
(it writes only what differs). A redacted item has no text to read: it
keeps its hint. Each organisation's run is audited
(``inbox.hints.recomputed``) with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Subquery

from kanal.core import audit

from . import changes, hints
from .models import Conversation, InboxItem

BATCH = 1000


@dataclass
class Rehinted:
    """What a run read and changed (with ``dry_run``: would change)."""

    read: int = 0
    sentiment: int = 0  # items whose sentiment changed
    language: int = 0  # items whose language changed
    negative: int = 0  # conversations whose "negative" changed
    per_organisation: dict[int, dict[str, int]] = field(default_factory=dict)

    def count(self, organisation_id: int, key: str) -> None:
        setattr(self, key, getattr(self, key) + 1)
        counts = self.per_organisation.setdefault(
            organisation_id, {"sentiment": 0, "language": 0, "negative": 0})
        counts[key] += 1


def rehint(*, batch: int = BATCH, dry_run: bool = False) -> Rehinted:
    """Give every unredacted item its hints by the rules of now, and every
    conversation its *negative* (see the module's docstring)."""
    done = Rehinted()
    last = 0
    while True:
        rows = list(InboxItem.objects.filter(
            pk__gt=last, redacted_at__isnull=True,
        ).order_by("pk").only("pk", "text", "sentiment", "language",
                              "organisation_id")[:batch])
        if not rows:
            break
        last = rows[-1].pk
        changed = []
        for row in rows:
            done.read += 1
            sentiment, language = hints.sentiment(row.text), hints.language(row.text)
            if sentiment == row.sentiment and language == row.language:
                continue
            if sentiment != row.sentiment:
                done.count(row.organisation_id, "sentiment")
            if language != row.language:
                done.count(row.organisation_id, "language")
            row.sentiment, row.language = sentiment, language
            changed.append(row)
        if changed and not dry_run:
            _write_items([row.pk for row in changed])
    _renegative(done, batch=batch, dry_run=dry_run)
    if not dry_run:
        for organisation_id, counts in done.per_organisation.items():
            audit.record("inbox.hints.recomputed",
                         organisation=_organisation(organisation_id),
                         changes=counts)
    return done


def _renegative(done: Rehinted, *, batch: int, dry_run: bool) -> None:
    """Set each conversation's *negative* from its newest item's sentiment
    (by when it was written, as ``intake`` sets it). In a dry run the
    items keep their old sentiment, so what would change is read from the
    new one."""
    newest = InboxItem.objects.filter(conversation=OuterRef("pk")).order_by(
        "-created_at", "-pk")
    last = 0
    while True:
        rows = list(Conversation.objects.filter(pk__gt=last).order_by("pk").annotate(
            newest_id=Subquery(newest.values("pk")[:1]),
            newest_sentiment=Subquery(newest.values("sentiment")[:1]),
            newest_text=Subquery(newest.values("text")[:1]),
            newest_redacted=Subquery(newest.values("redacted_at")[:1]),
        ).only("pk", "negative", "organisation_id")[:batch])
        if not rows:
            break
        last = rows[-1].pk
        changed = []
        for row in rows:
            if row.newest_id is None:
                continue
            score = row.newest_sentiment
            if dry_run and row.newest_redacted is None:
                score = hints.sentiment(row.newest_text)
            negative = hints.sentiment_label(score) == "negative"
            if negative != row.negative:
                done.count(row.organisation_id, "negative")
                row.negative = negative
                changed.append(row)
        if changed and not dry_run:
            with transaction.atomic():
                # Locked and read again: an item taken in or edited since
                # the batch was read sets the conversation's 'negative' too.
                # In order of pk, as every run: two runs never deadlock.
                list(Conversation.objects.select_for_update().filter(
                    pk__in=[row.pk for row in changed]).order_by("pk")
                    .values_list("pk"))
                changes.recount_negative([row.pk for row in changed])


def _write_items(pks: list[int]) -> None:
    """Give the items ``pks`` the hints of their text as it is when written:
    locked and read again, so a citizen's edit since the batch was read
    keeps the hints of its new text, and an item redacted meanwhile keeps
    its own."""
    with transaction.atomic():
        rows = list(InboxItem.objects.select_for_update().filter(
            pk__in=pks, redacted_at__isnull=True,
        ).order_by("pk").only("pk", "text", "sentiment", "language"))
        for row in rows:
            row.sentiment = hints.sentiment(row.text)
            row.language = hints.language(row.text)
        InboxItem.objects.bulk_update(rows, ["sentiment", "language"])


def _organisation(pk: int):
    from kanal.organisations.models import Organisation

    return Organisation.objects.get(pk=pk)
