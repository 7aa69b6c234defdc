from django import template

from kanal.inbox import privacy

register = template.Library()


@register.filter
def masked(text):
    """The text with personal data replaced (lists and previews)."""
    return privacy.mask(text or "")


@register.filter
def personal_labels(kinds):
    return ", ".join(privacy.labels(list(kinds or [])))
