"""Reads for the inbox pages."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.functional import cached_property

from kanal.channels.adapters import adapter_for
from kanal.channels.models import Channel

from . import search
from .models import OPEN_STATUSES, InboxItem, InboxSettings

logger = logging.getLogger("kanal.inbox.selectors")

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    network: str = ""
    channel: int | None = None
    status: str = ""
    administration: int | None = None
    overdue: bool = False
    personal_data: bool = False
    negative: bool = False
    # Only conversations whose priority crisis words raised (crisis mode).
    priority: bool = False
    q: str = ""


def _latest(field: str):
    return Subquery(
        InboxItem.objects.filter(conversation=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values(field)[:1]
    )


class _CountedPaginator(Paginator):
    """A paginator whose count is given: a search finding very many items is
    not counted (that alone would cost more than the page), and the kept
    status counts (``counts``) already know how many a plain list has."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


#: A list the kept counts cannot count (overdue, personal data, negative
#: sentiment, crisis priority) is counted up to this many conversations;
#: when more match, it says "more than 1,000", as a mature inbox does, and
#: pages on while they are full: counting every match of a common filter
#: cost more than the page.
COUNT_BOUND = 1000


#: The furthest a bounded list's page may start (``_BoundedPaginator``).
MAX_OFFSET = 2**62


class _BoundedPaginator(Paginator):
    """A paginator that counts at most ``bound`` + 1 rows. When more match
    (``bounded``), the number of pages is not known: a page is read with one
    row more, which says whether there is a next one."""

    def __init__(self, object_list, per_page, *, bound: int | None = None):
        super().__init__(object_list, per_page)
        self.bound = COUNT_BOUND if bound is None else bound

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[:self.bound + 1].count()

    @property
    def bounded(self) -> bool:
        """More than ``bound`` rows match (``count`` is then ``bound`` + 1)."""
        return self.count > self.bound

    def validate_number(self, number):
        if not self.bounded:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as e:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from e
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page > MAX_OFFSET:
            # Past any row a table holds, and past what the database's
            # OFFSET (64 bits) takes: a server error, not an empty page.
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        if not self.bounded:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return _OpenPage(rows[:self.per_page], number, self,
                         more=len(rows) > self.per_page)

    def get_page(self, number):
        """As Django's: a page past the end gives the last counted page."""
        try:
            return super().get_page(number)
        except EmptyPage:
            return self.page(self.num_pages)


class _OpenPage(Page):
    """A page of a ``_BoundedPaginator`` past its bound: whether a next page
    exists is known from the page's extra row, not from a count."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


def page_of(visible: QuerySet, filters: Filters, number, *,
            count: int | None = None, items: QuerySet | None = None) -> Page:
    """Page ``number`` of the list: the page is chosen on the conversations
    alone (a deep page skips rows without reading their items), then its 50
    rows get their latest item and item count. A search finding more than
    ``FOUND_AS_IDS`` items shows the newest (``_found_for_page``) and says
    so (``page.capped``, ``page.capped_at``) without reading them all.
    ``count``: how many match, when the caller knows (``counts.list_count``),
    so they are not counted; else a search's few matches are counted, and
    other filters up to ``COUNT_BOUND`` (``page.paginator.bounded`` says when
    more match). ``items``: the items of ``visible`` conversations, as the
    policy asks them of the items themselves
    (``conversation_policy.visible_items``): a search reads them."""
    with _one_process():
        return _page_of(visible, filters, number, count=count, items=items)


@contextmanager
def _one_process():
    """PostgreSQL plans the list's reads without parallel workers. A page
    stops at 50 rows, but each worker walks ahead on its own and must be
    started first: a search's walk took three times as long with two of
    them on a 2-CPU machine (BENCHMARKS.md)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def _page_of(visible: QuerySet, filters: Filters, number, *,
             count: int | None, items: QuerySet | None) -> Page:
    capped = False
    found = None
    if filters.q:
        found, capped = _found_for_page(visible, filters, items)
        if capped and not isinstance(found, list):
            count = FOUND_AS_IDS  # the newest, in the list's order, uncounted
    matching = conversations(visible, filters, found=found, items=items)
    ids_in_order = matching.values_list("pk", flat=True)
    if count is not None:
        paginator = _CountedPaginator(ids_in_order, PAGE_SIZE, count=count)
    elif filters.q:  # at most FOUND_AS_IDS conversations: counted exactly
        paginator = Paginator(ids_in_order, PAGE_SIZE)
    else:
        paginator = _BoundedPaginator(ids_in_order, PAGE_SIZE)
    page = paginator.get_page(number)
    ids = list(page.object_list)
    # The page's rows by their ids alone (they are ``visible`` and matched
    # already): asked through ``matching``, the search's thousand ids were
    # compiled and looked up again for 50 rows.
    rows = conversations(visible, Filters()).filter(pk__in=ids)
    page.object_list = list(with_latest(rows)) if ids else []
    page.capped = capped
    page.capped_at = FOUND_AS_IDS
    return page


def conversations(visible: QuerySet, filters: Filters, *, found=None,
                  items: QuerySet | None = None) -> QuerySet:
    """``visible`` conversations matching ``filters``, in the list's order
    (crisis priority, then newest first); ``found`` is the search's result
    when the caller already has it; ``items`` as for ``page_of``."""
    qs = visible
    if filters.network:
        qs = qs.filter(channel__network=filters.network)
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.administration:
        qs = qs.filter(assigned_administration_id=filters.administration)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    if filters.personal_data:
        qs = qs.filter(has_personal_data=True)
    if filters.negative:
        qs = qs.filter(negative=True)
    if filters.priority:
        # The list's indexes lead with the priority after the organisation,
        # status or channel: only the raised conversations are read from
        # them. As "IN (true)": SQLite reads a bare boolean column (what
        # ``priority=True`` writes) as a condition no index answers, and
        # counted the filter by walking all of an organisation's entries.
        qs = qs.filter(priority__in=[True])
    if filters.q:
        if found is None:
            found = _found_conversations(_items_of(visible, items), filters.q)
        qs = qs.filter(pk__in=found) if isinstance(found, list) else qs.filter(found)
    return qs.annotate(
        is_overdue=Case(
            When(status__in=OPEN_STATUSES, due_at__lt=timezone.now(),
                 then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ).order_by("-priority", "-last_item_at", "-pk")


def with_latest(qs: QuerySet) -> QuerySet:
    """``qs`` with each conversation's latest item's text, author, kind and
    personal data, and its number of items."""
    counts = (
        InboxItem.objects.filter(conversation=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(
        latest_text=_latest("text"),
        latest_author=_latest("author_name"),
        latest_kind=_latest("kind"),
        latest_personal=_latest("personal_data"),
        item_count=Subquery(counts),
    ).order_by("-priority", "-last_item_at", "-pk")


#: Up to this many matching items, a search hands the list their
#: conversations' ids; when more match, the list shows the newest, without
#: counting them, and says so (``_found_for_page``). The same bound as the
#: other filters' count (``COUNT_BOUND``): twenty pages of a search are
#: more than anyone reads, and each further thousand cost a common word's
#: search about two thirds more on 1,000,000 items (BENCHMARKS.md).
FOUND_AS_IDS = 1000


def _items_of(visible: QuerySet, items: QuerySet | None) -> QuerySet:
    """The items a search reads: ``items`` when the caller has them from the
    policy, else those of the ``visible`` conversations (the same rows, for
    a contributor found by looking up each match's conversation)."""
    if items is not None:
        return items
    return InboxItem.objects.filter(conversation__in=visible.values("pk"))


def _found_for_page(visible: QuerySet, filters: Filters,
                    items: QuerySet | None = None):
    """What a search hands the list, and whether more items matched than
    ``FOUND_AS_IDS`` (then the list shows the newest and says so).

    SQLite: the conversations of the ``FOUND_AS_IDS`` newest matching items
    in the conversations the other filters let through (so a filter finds
    what a common word alone left out; a sorted list of ids), read from
    FTS5 newest first, so a common word's
    prefix search (``"affald"*``, a fifth of all items) stops there instead
    of collecting every match (seconds). PostgreSQL: ``_found_conversations``
    (the ids, or for a common word a condition the list walks in its own
    order, applying the filters as it goes, so it leaves nothing out); asked
    for the newest matches, its planner walked the whole item table
    backwards for a contributor's common word, and asked with the filters
    first, a common word with a filter cost twice."""
    if connection.vendor == "sqlite":
        scope = conversations(visible, replace(filters, q="")).order_by()
        found = list(search.newest_matching_sqlite(
            InboxItem.objects.filter(
                Exists(scope.filter(pk=OuterRef("conversation_id")))),
            filters.q,
        ).values_list("conversation_id", flat=True)[:FOUND_AS_IDS + 1])
        return sorted(set(found[:FOUND_AS_IDS])), len(found) > FOUND_AS_IDS
    found = _found_conversations(_items_of(visible, items), filters.q)
    return found, not isinstance(found, list)


def _found_conversations(items: QuerySet, q: str):
    """The conversations with ``items`` matching ``q``: a list of ids when
    the search finds few items (read through the search index alone, so a
    rare word costs what its matches cost, not a walk of the whole list),
    else a condition on the conversation (a common word: walking the list in
    order, each conversation asked for a match of its own items, finds a
    page soon). Only the ids are asked of ``items``: the walk's conversations
    are the visible ones already, and narrowed again by the items' copy of
    the assignment, PostgreSQL's planner took a contributor's matches for a
    seventh of what they are and collected them all before the page."""
    found = search.matching_items(items, q, connection.vendor).order_by()
    ids = list(found.values_list("conversation_id", flat=True)[:FOUND_AS_IDS + 1])
    if len(ids) <= FOUND_AS_IDS:
        return sorted(set(ids))
    return Exists(search.matching_items(
        InboxItem.objects.filter(conversation=OuterRef("pk")), q, connection.vendor))


def latest_item_id(visible: QuerySet, organisation_id: int) -> int:
    """The newest item among ``visible`` conversations of the organisation
    (0 when none): the organisation's items are walked newest first on an
    index, each asked whether its conversation is visible, until one is
    (the first, for the desk). Asking ``IN (visible conversations)`` made
    SQLite collect all 250,000 ids on every page and every poll."""
    return (
        InboxItem.objects.filter(organisation_id=organisation_id)
        .filter(Exists(visible.order_by().filter(pk=OuterRef("conversation_id"))))
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def networks_without_messages(organisation_id: int) -> list[str]:
    """The names of the organisation's networks whose messages Kanal cannot
    read (their adapter does not list ``direct_messages``: LinkedIn and
    Threads offer no message API for such accounts), for the inbox to say
    so."""
    names = {}
    for channel in Channel.objects.active().filter(organisation_id=organisation_id):
        if channel.network in names:
            continue
        try:
            supports = adapter_for(channel, credentials=False).capabilities().supports
        except Exception:  # an adapter that cannot even say: nothing to tell
            logger.exception("channel %s: no capabilities to read", channel.pk)
            continue
        if "direct_messages" not in supports:
            names[channel.network] = channel.get_network_display()
    return sorted(names.values())


def with_footer(organisation, text: str) -> str:
    """``text`` with the organisation's guidance footer when it requires one."""
    settings_row = InboxSettings.objects.filter(organisation=organisation).first()
    if settings_row is None or not settings_row.require_footer:
        return text
    footer = settings_row.footer_text.strip()
    if not footer or text.rstrip().endswith(footer):
        return text
    return f"{text.rstrip()}\n\n{footer}"


@dataclass(frozen=True)
class AnswerLength:
    """An answer counted as its network counts it: ``count`` of ``limit`` in
    ``unit`` ("tegn" or "bytes"; no limit: None), and for a network that
    also caps a message's characters (Instagram) ``characters`` of
    ``character_limit``."""

    count: int
    limit: int | None
    unit: str = "tegn"
    characters: int = 0
    character_limit: int | None = None
    #: What the network's adapter puts in front of the answer (Mastodon's
    #: @name of the citizen), counted in ``count``.
    added: str = ""
    #: The organisation's guidance footer is counted in ``count``.
    footer: bool = False

    @property
    def over(self) -> bool:
        return bool(self.limit and self.count > self.limit) or bool(
            self.character_limit and self.characters > self.character_limit)


def answer_length(channel: Channel, text: str, *, message: bool = False,
                  organisation=None, to_handle: str = "") -> AnswerLength:
    """``text`` as an answer on ``channel`` is counted, the way the reply
    form's counter shows it and ``reply_to_item`` refuses it: X's weighted
    characters, Bluesky's graphemes, an instance's own limit; for a private
    ``message`` the network's message limit (Instagram's UTF-8 bytes and
    characters). With ``organisation``, its guidance footer is added first;
    then what the adapter adds for the citizen ``to_handle`` (``answer_text``:
    Mastodon's @name in front), so the text counted is the text sent."""
    footed = with_footer(organisation, text) if organisation is not None else text
    footer, text = footed != text, footed
    adapter = adapter_for(channel, credentials=False)
    capabilities = adapter.capabilities()
    sent = adapter.answer_text(text, to_handle=to_handle)
    added = sent[:len(sent) - len(text)].strip() if sent.endswith(text) else ""
    text = sent
    if message and capabilities.max_message_length is not None:
        return AnswerLength(
            count=adapter.count_message(text),
            limit=capabilities.max_message_length,
            unit="bytes" if capabilities.message_counting == "bytes" else "tegn",
            characters=len(text),
            character_limit=capabilities.max_message_characters,
            added=added, footer=footer,
        )
    return AnswerLength(count=adapter.count_text(text),
                        limit=capabilities.max_text_length, added=added,
                        footer=footer)
