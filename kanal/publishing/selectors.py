"""Reads for views, the banner and the worker."""

from __future__ import annotations

from collections import OrderedDict

from django.db.models import Min

from .models import (
    CLAIMABLE,
    Crisis,
    FollowUp,
    FollowUpStatus,
    Publication,
    PublicationStatus,
)

S = PublicationStatus

OPERATION_GROUPS = OrderedDict(
    [
        ("queued", (S.QUEUED, S.RETRYING, S.WAITING, S.UNKNOWN, S.PAUSED)),
        ("in_flight", (S.PUBLISHING,)),
        ("failed", (S.FAILED,)),
        ("missed", (S.MISSED,)),
        ("published", (S.PUBLISHED,)),
        ("cancelled", (S.CANCELLED,)),
    ]
)


def active_crisis(organisation_id: int) -> Crisis | None:
    return (
        Crisis.objects.filter(organisation_id=organisation_id, ended_at__isnull=True)
        .prefetch_related("channels")
        .first()
    )


def next_due_at():
    """The earliest time anything claimable (a publication or follow-up
    work) is due (indexed MINs)."""
    first = Publication.objects.filter(status__in=CLAIMABLE).aggregate(
        first=Min("due_at")
    )["first"]
    follow_up = FollowUp.objects.filter(status=FollowUpStatus.PENDING).aggregate(
        first=Min("due_at")
    )["first"]
    return min((t for t in (first, follow_up) if t is not None), default=None)


def operations(queryset, group: str):
    statuses = OPERATION_GROUPS.get(group, OPERATION_GROUPS["queued"])
    qs = queryset.filter(status__in=statuses).select_related("channel")
    if group in {"published", "cancelled"}:
        return qs.order_by("-updated_at")
    return qs.order_by("due_at", "pk")


def counts(queryset) -> dict[str, int]:
    return {
        group: queryset.filter(status__in=statuses).count()
        for group, statuses in OPERATION_GROUPS.items()
    }


def paused_groups(organisation_id: int) -> list[dict]:
    """Paused publications grouped per post (a crisis message or loose row
    is its own group), for the resume decision."""
    groups: OrderedDict = OrderedDict()
    for pub in (
        Publication.objects.filter(
            organisation_id=organisation_id, status=PublicationStatus.PAUSED
        )
        .select_related("channel", "channel__strategy")
        .order_by("planned_at", "pk")
    ):
        key = f"post-{pub.post_id}" if pub.post_id else f"pub-{pub.pk}"
        group = groups.setdefault(
            key, {"key": key, "post_id": pub.post_id, "publications": []}
        )
        group["publications"].append(pub)
    return list(groups.values())
