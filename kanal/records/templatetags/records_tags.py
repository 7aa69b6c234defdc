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
