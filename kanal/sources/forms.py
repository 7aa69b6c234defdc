from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import Channel, Purpose
from kanal.core import safety
from kanal.organisations.models import Administration

from .models import SourceKind
from .parsers import JSON_FIELDS


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Navn"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=SourceKind.choices)
    url = forms.URLField(
        label=_("Adresse"),
        max_length=1000,
        assume_scheme="https",
        help_text=_("Feedets adresse, fx https://bibliotek.kk.dk/arrangementer.ics"),
    )
    owner_administration = forms.ModelChoiceField(
        label=_("Ejer (forvaltning)"), queryset=Administration.objects.none()
    )
    channels = forms.ModelMultipleChoiceField(
        label=_("Kanaler, der får forslag"),
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    category = forms.CharField(
        label=_("Indholdskategori"), max_length=100, required=False
    )
    purposes = forms.MultipleChoiceField(
        label=_("Formål"),
        choices=Purpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    json_mapping = forms.CharField(
        label=_("Felter i JSON"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            'Kun for JSON: hvilket felt der er hvad, fx {"items": "events", '
            '"title": "name", "start": "startDate", "location": "venue.name"}.'
        ),
    )
    fetch_every_minutes = forms.IntegerField(
        label=_("Hent hvert (minutter)"), min_value=5, max_value=7 * 24 * 60, initial=60
    )
    allow_private = forms.BooleanField(
        label=_("Må hente fra interne adresser (kun administratorer)"), required=False
    )

    def __init__(self, *args, actor, may_allow_private: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_administration"].queryset = Administration.objects.filter(
            organisation_id=actor.organisation_id
        )
        self.fields["channels"].queryset = Channel.objects.filter(
            organisation_id=actor.organisation_id
        ).order_by("network", "display_name")
        if not may_allow_private:
            self.fields["allow_private"].disabled = True

    def clean_name(self):
        return safety.typed_text(self.cleaned_data["name"], max_length=200)

    def clean_json_mapping(self):
        raw = (self.cleaned_data.get("json_mapping") or "").strip()
        if not raw:
            return {}
        try:
            mapping = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(
                _('Felterne skal skrives som JSON, fx {"title": "name"}.')
            ) from None
        if not isinstance(mapping, dict) or not all(
            isinstance(v, str) for v in mapping.values()
        ):
            raise forms.ValidationError(
                _('Felterne skal skrives som JSON, fx {"title": "name"}.')
            )
        unknown = sorted(set(mapping) - set(JSON_FIELDS))
        if unknown:
            raise forms.ValidationError(
                _("Kanal kender ikke felterne %(names)s. Brug %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(JSON_FIELDS)}
            )
        return mapping


class SuggestionForm(forms.Form):
    text = forms.CharField(
        label=_("Tekst"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
    planned_at = forms.DateTimeField(
        label=_("Tidspunkt"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def clean_text(self):
        return safety.typed_text(self.cleaned_data["text"], max_length=5000)
