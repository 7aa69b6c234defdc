from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

from kanal.planning import selectors
from kanal.planning.models import PostStatus
from kanal.planning.policies import (
    campaign_policy,
    link_tracking_policy,
    media_policy,
    post_policy,
)

register = template.Library()


@register.inclusion_tag("planning/_dashboard.html", takes_context=True)
def planning_dashboard(context):
    membership = context.get("membership")
    if membership is None:
        return {"membership": None}
    now = timezone.now()
    upcoming = (
        selectors.all_posts_for(membership)
        .filter(planned_at__gte=now, planned_at__lt=now + timedelta(days=7))
        .exclude(status__in=[PostStatus.CANCELLED, PostStatus.DECLINED])
        .order_by("planned_at")[:8]
    )
    awaiting = selectors.awaiting_approval(membership).order_by("planned_at")[:8]
    return {
        "membership": membership,
        "upcoming": upcoming,
        "awaiting": awaiting if membership.has_perm("posts.approve") else [],
        "proposals": selectors.proposal_queue(membership)[:8]
        if membership.has_perm("posts.plan")
        else [],
        "soon": now + timedelta(hours=24),
    }


# The pages under "Planlægning" in the menu (its section menu shows on them).
PLANNING_SECTION = frozenset(
    f"planning:{name}"
    for name in (
        "calendar",
        "calendar_week",
        "post_list",
        "post_create",
        "post_import",
        "post_detail",
        "post_edit",
        "revisions",
        "campaign_list",
        "link_tracking",
        "ical_settings",
    )
)


@register.simple_tag(takes_context=True)
def menu_access(context) -> dict:
    """What the menu may offer the signed-in member (asked of the policies,
    so the menu never shows a page the member cannot open)."""
    membership = context.get("membership")
    if membership is None:
        return {}
    from kanal.publishing.policies import crisis_policy, publication_policy

    match = getattr(context.get("request"), "resolver_match", None)
    here = f"{match.namespace}:{match.url_name}" if match else ""
    return {
        "in_planning": here in PLANNING_SECTION,
        "planning": post_policy.can(membership, "list"),
        "proposals": post_policy.can(membership, "list_proposals"),
        "media": media_policy.can(membership, "list"),
        "campaigns": campaign_policy.can(membership, "list"),
        "report": post_policy.can(membership, "report"),
        "link_tracking": link_tracking_policy.can(membership, "view"),
        "operations": publication_policy.can(membership, "list"),
        "crisis": crisis_policy.can(membership, "view"),
    }
