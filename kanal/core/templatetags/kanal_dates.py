"""``{% load kanal_dates %}``: ``{{ value|when:"style" }}`` writes a date or
time in the reader's language, in Kanal's one style for it
(``kanal.core.formatting``)."""

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from kanal.core.formatting import readable
from kanal.core.formatting import when as _when

register = template.Library()


# Not ``expects_localtime``: ``_when`` writes Copenhagen time itself, and
# converting each moment twice cost a list page's dates a third more.
@register.filter
def when(value, style: str = "date") -> str:
    return _when(value, style)


def _choice_labels(object_type: str, name: str) -> dict:
    try:
        field = apps.get_model(object_type)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return {}
    return dict(field.choices or ())


@register.filter
def readable_changes(entry) -> list[tuple[str, str]]:
    """An audit entry's changes as (field, what it became) pairs: moments in
    Danish time, a status by its label in the reader's language."""
    changes = entry.changes
    if not isinstance(changes, dict):
        return [("", readable(changes))] if changes else []
    return [
        (str(key), readable(value, _choice_labels(entry.object_type, str(key))))
        for key, value in changes.items()
    ]
