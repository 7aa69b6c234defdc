from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import Channel, Purpose
from kanal.core import safety
from kanal.organisations.models import Administration

from .models import SourceKind, Tone
from .parsers import JSON_FIELDS
from .partners import reads_partners


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Navn"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=SourceKind.choices)
    url = forms.URLField(
        label=_("Adresse"),
        max_length=1000,
        assume_scheme="https",
        required=False,
        help_text=_(
            "Feedets adresse, fx https://bibliotek.kk.dk/arrangementer.ics (ikke "
            "for partners opslag)"
        ),
    )
    partner_account = forms.CharField(
        label=_("Partnerens konto"),
        max_length=200,
        required=False,
        help_text=_("Kun for partners opslag: kontoens navn, fx bibliotek@kk.social"),
    )
    partner_channel = forms.ModelChoiceField(
        label=_("Læs partnerens opslag gennem kanalen"),
        queryset=Channel.objects.none(),
        required=False,
        help_text=_("Kun for partners opslag: en kanal på samme netværk."),
    )
    keywords = forms.CharField(
        label=_("Nøgleord"),
        max_length=1000,
        required=False,
        help_text=_(
            "Kun for partners opslag: kun opslag med et af ordene bliver forslag "
            "(adskil med komma). Tom: alle opslag."
        ),
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
        max_length=2000,
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
        readers = [
            c.pk for c in self.fields["channels"].queryset if reads_partners(c)
        ]
        self.fields["partner_channel"].queryset = Channel.objects.filter(
            pk__in=readers
        ).order_by("network", "display_name")
        if not may_allow_private:
            self.fields["allow_private"].disabled = True

    def clean_partner_account(self):
        return safety.typed_text(
            self.cleaned_data.get("partner_account") or "", max_length=200
        ).lstrip("@")

    def clean_keywords(self):
        raw = safety.typed_text(
            self.cleaned_data.get("keywords") or "", max_length=1000
        )
        return [word.strip() for word in raw.split(",") if word.strip()][:50]

    def clean(self):
        data = super().clean()
        if data.get("kind") == SourceKind.PARTNER:
            if not data.get("partner_account"):
                self.add_error(
                    "partner_account",
                    _("Skriv partnerens konto, fx bibliotek@kk.social."),
                )
            if not data.get("partner_channel"):
                self.add_error(
                    "partner_channel",
                    _("Vælg kanalen, partnerens opslag skal læses gennem."),
                )
        elif "url" in data and not data.get("url"):
            self.add_error("url", _("Skriv feedets adresse."))
        return data

    def clean_name(self):
        return safety.typed_text(self.cleaned_data["name"], max_length=200)

    def clean_json_mapping(self):
        raw = (self.cleaned_data.get("json_mapping") or "").strip()
        if not raw:
            return {}
        try:
            mapping = json.loads(raw)
        except (ValueError, RecursionError):
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

    def clean_planned_at(self):
        planned_at = self.cleaned_data["planned_at"]
        if not safety.in_window(planned_at):
            # Year 9999 would be kept here and refused only at *Tag i brug*.
            raise forms.ValidationError(safety.day_window_message())
        return planned_at


class ToneForm(forms.Form):
    channel = forms.IntegerField(widget=forms.HiddenInput)
    tone = forms.ChoiceField(label=_("Tone"), choices=Tone.choices)
