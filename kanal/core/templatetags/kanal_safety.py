"""``{% load kanal_safety %}``: ``{{ value|safe_url }}`` renders an address
only when it is absolute http(s); anything else becomes an empty string, so a
template writes ``{% if value|safe_url %}<a href="{{ value|safe_url }}">``."""

from django import template

from kanal.core.safety import safe_link as _safe_link
from kanal.core.safety import safe_url as _safe_url

register = template.Library()


@register.filter
def safe_url(value) -> str:
    return _safe_url(value)


@register.filter
def safe_link(value) -> str:
    """``safe_url``, or a path on this site."""
    return _safe_link(value)
