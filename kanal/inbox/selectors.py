"""Reads for the inbox pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from . import search
from .models import OPEN_STATUSES, InboxItem

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


def page_of(visible: QuerySet, filters: Filters, number, *,
            count: int | None = None) -> Page:
    """Page ``number`` of the list: the page is chosen on the conversations
    alone (a deep page skips rows without reading their items), then its 50
    rows get their latest item and item count. A search finding more than
    ``FOUND_AS_IDS`` items shows the newest of them, ``FOUND_AS_IDS`` rows
    at most, and says so (``page.capped``). ``count``: how many match, when
    the caller knows (``counts.list_count``), so they are not counted."""
    found = _found_conversations(visible, filters.q) if filters.q else None
    matching = conversations(visible, filters, found=found)
    capped = found is not None and not isinstance(found, list)
    ids_in_order = matching.values_list("pk", flat=True)
    if capped:
        count = FOUND_AS_IDS
    paginator = (Paginator(ids_in_order, PAGE_SIZE) if count is None else
                 _CountedPaginator(ids_in_order, PAGE_SIZE, count=count))
    page = paginator.get_page(number)
    ids = list(page.object_list)
    page.object_list = list(with_latest(matching.filter(pk__in=ids))) if ids else []
    page.capped = capped
    return page


def conversations(visible: QuerySet, filters: Filters, *, found=None) -> QuerySet:
    """``visible`` conversations matching ``filters``, in the list's order
    (crisis priority, then newest first); ``found`` is the search's result
    when the caller already has it."""
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
    if filters.q:
        if found is None:
            found = _found_conversations(visible, filters.q)
        qs = qs.filter(pk__in=found)
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
#: conversations' ids; more, and the list keeps the search as a subquery
#: and shows at most this many rows, newest first, without counting them.
FOUND_AS_IDS = 2000


def _found_conversations(visible: QuerySet, q: str):
    """The conversations with items matching ``q``: a list of ids when the
    search finds few items (read through the search index alone, so a rare
    word costs what its matches cost, not a walk of the whole list), else a
    subquery (a common word: walking the list in order finds a page soon)."""
    found = search.matching_items(
        InboxItem.objects.filter(conversation__in=visible.values("pk")), q,
        connection.vendor,
    ).order_by()
    ids = list(found.values_list("conversation_id", flat=True)[:FOUND_AS_IDS + 1])
    if len(ids) <= FOUND_AS_IDS:
        return sorted(set(ids))
    return found.values("conversation_id")


def latest_item_id(visible: QuerySet) -> int:
    """The newest item among ``visible`` conversations (0 when none)."""
    return (
        InboxItem.objects.filter(conversation__in=visible.values("pk"))
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
