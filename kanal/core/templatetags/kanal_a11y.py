"""The error summary and the page title's "Fejl:" for every page."""

from __future__ import annotations

from django import template
from django.contrib.messages import constants

from kanal.core.rendering import page_errors

register = template.Library()


@register.simple_tag(takes_context=True)
def page_state(context) -> dict:
    """``{"errors": [...], "has_errors": bool}`` for base.html.

    ``has_errors`` is also true when an error message waits to be shown (an
    action that failed and sent the user back), so the title says so too.
    """
    errors = page_errors(context)
    messages = context.get("messages") or []
    failed = any(m.level >= constants.ERROR for m in messages)
    return {"errors": errors, "has_errors": bool(errors) or failed}
