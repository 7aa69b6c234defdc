"""The inbox's primitives for removing a citizen's personal data.

When that happens is not decided here: the records app is the one home for
retention and legal holds (``kanal.records.retention``). Its deletion job
redacts inbox items past the organisation's period (``retention_days``) and
its erasure action redacts a person's items, both skipping what a legal hold
in the record covers. The inbox only says how long it keeps personal data and
how an item is redacted.

What is removed: the text (and every kept version of it), the author's name,
id and handle, the link, and the personal-data flags, a message
conversation's key (``dm:<the citizen's id>``) once none of its items holds
personal data, a message's conversation id (its parent), the author's id
copied onto moderation actions, the recipient kept on the answers'
follow-ups (a message's citizen id and conversation), and the citizen's
name, handle or id where a note or an answer of the conversation (sent
from Kanal or written on the network) quotes them, or the first name an
answer put in (``quoted_as``; ``REMOVED`` in its place); what stays is
that an item existed, when, on which channel, and what the desk did
(status, answers, audit, whose entries name Kanal's own rows only). Raw
webhook bodies are dropped when processed (``intake``); a failed one is deleted after
``RETENTION_MIN_DAYS`` (``forget_deliveries``) and blanked by an erasure
that names its citizen by any of their names (``erase_deliveries``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from kanal import untrusted
from kanal.organisations.models import Organisation
from kanal.publishing.models import FollowUp

from .changes import recount_personal_data
from .models import (
    RETENTION_MAX_DAYS,
    RETENTION_MIN_DAYS,
    Answer,
    Conversation,
    DeliveryStatus,
    InboxItem,
    InboxSettings,
    ItemKind,
    ItemVersion,
    ModerationAction,
    NetworkAnswer,
    Note,
    WebhookDelivery,
)
from .templating import first_name

DEFAULT_DAYS = 365
#: What a note or an answer shows where it quoted a citizen whose personal
#: data was removed.
REMOVED = "[slettet]"


def retention_days(organisation: Organisation) -> int:
    """How many days the organisation keeps citizens' personal data; a period
    stored before its bounds were checked counts as the nearest bound (0 days
    would blank every comment, the unanswered ones of a minute ago too)."""
    row = InboxSettings.objects.filter(organisation=organisation).first()
    days = row.retention_days if row else DEFAULT_DAYS
    return min(max(days, RETENTION_MIN_DAYS), RETENTION_MAX_DAYS)


def unredacted(organisation: Organisation):
    """The organisation's items that still hold personal data."""
    return InboxItem.objects.filter(organisation=organisation,
                                    redacted_at__isnull=True)


def as_shown(name: str) -> str:
    """``name`` as a person reading it would type it (``untrusted.as_read``:
    as a screen shows it, in NFKC, case folded, its spaces collapsed),
    without a leading @."""
    return untrusted.as_read(name).removeprefix("@")


def by_person(person: str, *, organisation_id: int, among=None) -> Q:
    """Items written by ``person``: their id, or their name or handle on the
    network (with or without the @) compared as shown (``as_shown``), so a
    name typed as read finds a stored one with a zero-width joiner, a soft
    hyphen or a right-to-left override in it. The organisation's distinct
    names and handles of items still holding personal data are compared in
    Python (an erasure or a hold is rare; the distinct names are far fewer
    than the items); ``among`` (ids) narrows that to the items a caller
    looks at (a batch of 500 the retention job is about to redact)."""
    handle = person.removeprefix("@")
    wanted = as_shown(person)
    names, handles = set(), set()
    spellings = InboxItem.objects.filter(
        organisation_id=organisation_id, redacted_at__isnull=True,
    )
    if among is not None:
        spellings = spellings.filter(pk__in=among)
    spellings = spellings.order_by().values_list(
        "author_name", "author_handle").distinct()
    for name, their_handle in spellings.iterator(chunk_size=5000):
        if name and as_shown(name) == wanted:
            names.add(name)
        if their_handle and as_shown(their_handle) == wanted:
            handles.add(their_handle)
    return (Q(author_name__iexact=person) | Q(author_id__iexact=person)
            | Q(author_handle__iexact=handle) | Q(author_name__in=names)
            | Q(author_handle__in=handles))


def names_of(items) -> set[str]:
    """Every name, id and handle the authors of ``items`` go by."""
    return {
        value for row in items.values_list("author_id", "author_name",
                                           "author_handle")
        for value in row if value
    }


def redact_items(ids: list[int], *, now: datetime) -> None:
    """Remove the personal data of the items ``ids`` (and of every kept
    version of their text, and every copy of their author's identity: see
    the module's docstring); what the desk did stays. Call it inside the
    transaction that chose ``ids``."""
    items = InboxItem.objects.filter(pk__in=ids)
    spellings = names_of(items)
    conversations = set(items.values_list("conversation_id", flat=True))
    ItemVersion.objects.filter(item_id__in=ids).update(text="")
    items.update(
        text="", author_name="", author_id="", author_handle="", url="",
        personal_data=[], redacted_at=now,
    )
    # A message's parent is its conversation, whose id names the citizen
    # (X's "<their id>-<ours>", Messenger's and Bluesky's per-person ids).
    items.filter(kind=ItemKind.MESSAGE).update(parent_remote_id="",
                                               post_remote_id="")
    ModerationAction.objects.filter(item_id__in=ids).update(author_id="")
    FollowUp.objects.filter(inbox_answer__item_id__in=ids).update(recipient={})
    _remove_quotes(conversations, spellings | quoted_as(spellings))
    recount_personal_data(conversations)
    # A message conversation is keyed by the citizen's id: once none of its
    # items holds personal data, its key no longer names them (and a new
    # message from them starts a conversation of its own).
    Conversation.objects.filter(
        key__startswith="dm:", items__pk__in=ids
    ).exclude(items__redacted_at__isnull=True).update(
        key=Concat(Value("redacted:"), Cast("pk", CharField())))


def quoted_as(spellings: set[str]) -> set[str]:
    """The names Kanal itself makes of a citizen's ``spellings``: the first
    name ``{fornavn}`` puts in an answer, and each spelling as a screen shows
    it (without invisible characters), as a colleague would type it in a
    note. Only for the citizen's own conversations: a first name alone names
    many people."""
    shown = {untrusted.without_format(s)[0] for s in spellings}
    return {name for name in shown | {first_name(s) for s in shown} if name}


def _remove_quotes(conversations: set[int], spellings: set[str]) -> None:
    """Put ``REMOVED`` where a note or an answer (and the text its
    follow-up sends) of ``conversations`` names the citizen by one of
    ``spellings``, as a whole word, in any case."""
    if not spellings:
        return
    pattern = re.compile("|".join(
        rf"(?<!\w)@?{re.escape(s)}(?!\w)"
        for s in sorted(spellings, key=len, reverse=True)), re.IGNORECASE)
    match = Q()
    for spelling in spellings:
        match |= Q(text__icontains=spelling)
    for model, where in ((Note, Q(conversation_id__in=conversations)),
                         (Answer, Q(conversation_id__in=conversations)),
                         (NetworkAnswer, Q(conversation_id__in=conversations)),
                         (FollowUp,
                          Q(inbox_answer__conversation_id__in=conversations))):
        for pk, text in model.objects.filter(where & match).values_list(
                "pk", "text"):
            cleaned = pattern.sub(REMOVED, text)
            if cleaned != text:
                model.objects.filter(pk=pk).update(text=cleaned)


def forget_deliveries(*, now: datetime, organisation=None, dry_run=False) -> int:
    """Delete the raw webhook bodies Kanal kept for the operator (failed
    ones; processed ones are emptied at once) older than the shortest inbox
    period; returns how many (with ``dry_run``: would be)."""
    kept = WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING).filter(
        received_at__lt=now - timedelta(days=RETENTION_MIN_DAYS))
    if organisation is not None:
        kept = kept.filter(organisation=organisation)
    if dry_run:
        return kept.count()
    return kept.delete()[0]


def erase_deliveries(names, *, organisation) -> int:
    """Blank the kept raw webhook bodies (of ``organisation``, or of no
    organisation named) that mention a citizen by any of ``names`` (their
    name, id, handle), as written or as JSON escapes it; returns how many."""
    spellings = {n for name in names if name
                 for n in (name, json.dumps(name)[1:-1])}
    if not spellings:
        return 0
    match = Q()
    for spelling in spellings:
        match |= Q(body__icontains=spelling)
    return WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING).filter(
        Q(organisation=organisation) | Q(organisation__isnull=True)
    ).filter(match).update(body="")
