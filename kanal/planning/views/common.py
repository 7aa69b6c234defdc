"""What the planning pages share: form fields, filters, statuses."""

from __future__ import annotations

from kanal.core import safety

from .. import selectors
from ..models import (
    PostStatus,
)
from ..policies import (
    post_policy,
)

POST_FORM_FIELDS = (
    "title",
    "shared_text",
    "category",
    "purposes",
    "campaign",
    "notes",
    "owner_administration",
)
PROPOSAL_FORM_FIELDS = {
    "title": "title",
    "text": "shared_text",
    "reason": "proposal_reason",
    "wish_from": "wish_from",
    "wish_to": "wish_to",
    "event_details": "event_details",
}
VARIANT_FORM_FIELDS = (
    "text",
    "link",
    "hashtags",
    "first_comment",
    "planned_at",
    "media",
)


def _status(request, ok=True):
    return 400 if request.method == "POST" and not ok else 200


def _int(value):
    """An id from the request: ``None`` when empty or not a number; a Danish
    400 (``safety.InvalidInput``) when it is a number no row can have."""
    if value is not None and not isinstance(value, str):
        value = str(value)
    return safety.query_id(value)


def _filters(request) -> selectors.CalendarFilter:
    get = request.GET
    status = get.get("status", "")
    return selectors.CalendarFilter(
        channel=_int(get.get("kanal")),
        administration=_int(get.get("forvaltning")),
        category=safety.query_text(get.get("kategori"), max_length=100),
        purpose=safety.query_text(get.get("formaal"), max_length=30),
        campaign=_int(get.get("kampagne")),
        status=status if status in PostStatus.values else "",
    )


def _query_without(request, *names) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _calendar_context(request, view_name):
    actor = request.membership
    return {
        "filters": _filters(request),
        "choices": selectors.filter_choices(actor),
        "view_name": view_name,
        "query": _query_without(request, "maaned", "uge", "side"),
        "can_create": post_policy.can(actor, "create"),
    }
