from __future__ import annotations

from django import template

from ..policies import insights_policy

register = template.Library()


@register.simple_tag(takes_context=True)
def insights_access(context) -> bool:
    """May the signed-in member open insights (for the menu)?"""
    membership = context.get("membership")
    return membership is not None and insights_policy.can(membership, "view")
