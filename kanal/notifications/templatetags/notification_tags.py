from __future__ import annotations

from django import template

from kanal.notifications import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context) -> int:
    membership = context.get("membership")
    if membership is None:
        return 0
    return selectors.unread(membership).count()


@register.simple_tag(takes_context=True)
def unread_notifications(context, limit: int = 5) -> list:
    membership = context.get("membership")
    if membership is None:
        return []
    return list(selectors.unread(membership)[:limit])
