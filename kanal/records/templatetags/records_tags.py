from __future__ import annotations

from django import template

from ..models import WithholdingGround
from ..selectors import redacted_text

register = template.Library()


@register.filter
def for_requester(text: str, redactions) -> str:
    """The text as the requester gets it (redacted passages blacked out)."""
    return redacted_text(text or "", redactions or [])


@register.filter
def ground_label(value: str) -> str:
    if value in WithholdingGround.values:
        return str(WithholdingGround(value).label)
    return value or ""


@register.simple_tag(takes_context=True)
def records_menu(context) -> dict:
    """Where the menu's "Journal" leads the signed-in member, if anywhere
    (asked of the policies, so the menu never shows a page they cannot open)."""
    from django.urls import reverse

    from ..policies import access_request_policy, record_policy

    membership = context.get("membership")
    if membership is None:
        return {}
    match = getattr(context.get("request"), "resolver_match", None)
    here = bool(match and match.namespace == "records")
    if record_policy.can(membership, "list"):
        return {"url": reverse("records:list"), "here": here}
    if access_request_policy.can(membership, "list"):
        return {"url": reverse("records:access_requests"), "here": here}
    return {}
