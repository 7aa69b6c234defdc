"""How every form in Kanal is drawn, so that errors are tied to their fields.

``KanalFormRenderer`` is the project's ``FORM_RENDERER``: ``{{ form }}`` and
``{{ field.as_field_group }}`` render through ``core/templates/forms/``, where
each error list and help text carries the id that Django's
``aria-describedby`` points at, a group of checkboxes or radios keeps its
label, help text and error inside its ``<fieldset>``, and a form's own errors
(not about one field) get an id the error summary links to.

``page_errors`` collects every bound form with errors in a template context
for the error summary at the top of each page and the "Fejl:" in its title
(``templatetags/kanal_a11y.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.forms import BaseForm
from django.forms.forms import NON_FIELD_ERRORS
from django.forms.renderers import DjangoTemplates


class KanalFormRenderer(DjangoTemplates):
    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"


def form_errors_id(form: BaseForm) -> str:
    """The id of the list of ``form``'s own (non-field) errors."""
    return f"{form.prefix or 'form'}-errors"


def reject_form(form: BaseForm, message: str, *, fields: tuple[str, ...]) -> None:
    """Add ``message`` as ``form``'s own error and mark ``fields`` invalid.

    For an answer that concerns several fields at once without saying which
    (a wrong user name or password): each field is marked ``aria-invalid``
    and described by the message, as a field error would be.
    """
    form.add_error(None, message)
    for name in fields:
        attrs = form.fields[name].widget.attrs
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = form_errors_id(form)


@dataclass(frozen=True)
class ErrorItem:
    href: str
    label: str
    message: str


def _forms_in(value, depth: int = 0):
    if isinstance(value, BaseForm):
        yield value
    elif isinstance(value, list | tuple) and depth < 2:
        for item in value:
            yield from _forms_in(item, depth + 1)


def _first_input_id(field) -> str:
    """The id to move focus to for ``field``: its input, or the first of a
    group of checkboxes or radios (whose label points nowhere)."""
    if field.is_hidden:
        return ""
    if field.id_for_label:
        return field.id_for_label
    for widget in field.subwidgets:
        return widget.id_for_label or ""
    return f"{field.auto_id}_error" if field.auto_id else ""


def page_errors(context) -> list[ErrorItem]:
    """Every error of every bound form in ``context``, in field order."""
    items: list[ErrorItem] = []
    seen: set[int] = set()
    for value in context.flatten().values():
        for form in _forms_in(value):
            if id(form) in seen or not form.is_bound:
                continue
            seen.add(id(form))
            errors = form.errors
            for message in errors.get(NON_FIELD_ERRORS, []):
                items.append(ErrorItem(f"#{form_errors_id(form)}", "", message))
            for name in form.fields:
                if name not in errors:
                    continue
                field = form[name]
                target = _first_input_id(field) or form_errors_id(form)
                for message in errors[name]:
                    items.append(ErrorItem(f"#{target}", str(field.label), message))
    return items
