from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .kinds import GROUPS, KINDS


class PreferenceForm(forms.Form):
    """One checkbox per kind (grouped on the page) and the e-mails' language."""

    language = forms.ChoiceField(label=_("Sprog i e-mails"), choices=())

    def __init__(self, *args, preference, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
        self.fields["language"].initial = preference.language
        for code, kind in KINDS.items():
            self.fields[f"email_{code}"] = forms.BooleanField(
                label=kind.label,
                required=False,
                initial=preference.wants_email(code),
            )

    def groups(self):
        """(group name, [bound fields]) in the order of ``KINDS``."""
        grouped: dict[str, list] = {}
        names = {}
        for code in KINDS:
            group = GROUPS[code]
            names[str(group)] = group
            grouped.setdefault(str(group), []).append(self[f"email_{code}"])
        return [(names[key], fields) for key, fields in grouped.items()]

    def email_kinds(self) -> list[str]:
        return [code for code in KINDS if self.cleaned_data.get(f"email_{code}")]
