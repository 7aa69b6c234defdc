from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

from kanal.planning import selectors
from kanal.planning.models import PostStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context) -> int:
    membership = context.get("membership")
    if membership is None:
        return 0
    return selectors.unread_notifications(membership).count()


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
        "notifications": selectors.unread_notifications(membership)[:5],
        "soon": now + timedelta(hours=24),
    }
