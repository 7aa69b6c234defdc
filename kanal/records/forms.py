from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import Channel
from kanal.core.safety import day_window_message, in_window
from kanal.organisations.models import Administration

from .actions import (
    MAX_PERSONS,
    MAX_SEARCH_WORDS,
    MAX_TERM_LENGTH,
    too_many_persons,
    too_many_words,
)
from .models import RecordKind, WithholdingGround

MAX_PERIOD_DAYS = 366 * 10 + 3


def _lines(value: str, *, limit: int, too_many, too_long: str) -> list[str]:
    """The distinct words or names in ``value`` (one a line or separated by
    commas). More than ``limit`` of them, or one longer than
    ``MAX_TERM_LENGTH``, is refused, never cut: an access request must
    search exactly what the officer typed."""
    seen: list[str] = []
    for raw in value.replace(",", "\n").splitlines():
        word = raw.strip()
        if len(word) > MAX_TERM_LENGTH:
            raise forms.ValidationError(too_long % {
                "start": word[:30], "length": len(word), "max": MAX_TERM_LENGTH})
        if word and word not in seen:
            seen.append(word)
    if len(seen) > limit:
        raise forms.ValidationError(too_many(len(seen)))
    return seen


class AccessRequestForm(forms.Form):
    title = forms.CharField(label=_("Titel"), max_length=200)
    requester = forms.CharField(
        label=_("Anmoder"), max_length=200, required=False,
        help_text=_("Navnet på den, der har bedt om aktindsigt."),
    )
    case_ref = forms.CharField(label=_("Sagsnummer"), max_length=100, required=False)
    period_start = forms.DateField(
        label=_("Fra dato"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Til dato"), widget=forms.DateInput(attrs={"type": "date"})
    )
    channels = forms.ModelMultipleChoiceField(
        label=_("Kanaler"), queryset=Channel.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ingen valgt: alle kanaler."),
    )
    administrations = forms.ModelMultipleChoiceField(
        label=_("Forvaltninger"), queryset=Administration.objects.none(),
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Ingen valgt: alle forvaltninger."),
    )
    search_words = forms.CharField(
        label=_("Søgeord"), required=False,
        max_length=MAX_SEARCH_WORDS * (MAX_TERM_LENGTH + 2),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Et pr. linje eller adskilt af komma, højst 20 ord på "
                    "højst 200 tegn. Der søges efter ordene præcis som skrevet "
                    "(også tegn som * og <)."),
    )
    persons = forms.CharField(
        label=_("Personer"), required=False,
        max_length=MAX_PERSONS * (MAX_TERM_LENGTH + 2),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Brugernavne eller navne, et pr. linje, højst 200."),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = Channel.objects.filter(
            organisation=organisation
        ).order_by("network", "display_name")
        self.fields["administrations"].queryset = Administration.objects.filter(
            organisation=organisation
        )

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not in_window(day):
            raise forms.ValidationError(day_window_message())
        return day

    def clean_period_start(self):
        return self._clean_day("period_start")

    def clean_period_end(self):
        return self._clean_day("period_end")

    def clean_search_words(self):
        return _lines(
            self.cleaned_data["search_words"], limit=MAX_SEARCH_WORDS,
            too_many=too_many_words,
            too_long=_("Et søgeord må højst være %(max)s tegn; „%(start)s…“ er "
                       "%(length)s. Gør det kortere, og prøv igen."),
        )

    def clean_persons(self):
        return _lines(
            self.cleaned_data["persons"], limit=MAX_PERSONS,
            too_many=too_many_persons,
            too_long=_("Et navn må højst være %(max)s tegn; „%(start)s…“ er "
                       "%(length)s. Gør det kortere, og prøv igen."),
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end:
            if start > end:
                self.add_error("period_end", _("Til-datoen ligger før fra-datoen."))
            elif end - start > timedelta(days=MAX_PERIOD_DAYS):
                self.add_error(
                    "period_end",
                    _("Perioden må højst være ti år. Del anmodningen op."),
                )
            elif start > timezone.localdate():
                self.add_error("period_start", _("Perioden ligger i fremtiden."))
        return data


class WithholdForm(forms.Form):
    ground = forms.ChoiceField(
        label=_("Hjemmel"), choices=[("", "—"), *WithholdingGround.choices]
    )
    note = forms.CharField(label=_("Bemærkning"), max_length=500, required=False)


class RedactForm(forms.Form):
    passage = forms.CharField(
        label=_("Tekst der skal overstreges"), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ground = forms.ChoiceField(
        label=_("Hjemmel"), choices=[("", "—"), *WithholdingGround.choices]
    )


class FilingForm(forms.Form):
    """The case an entry is filed under (*Journalisér*)."""

    case_ref = forms.CharField(label=_("Sagsnummer"), max_length=100, required=False)


class LegalHoldForm(forms.Form):
    reason = forms.CharField(label=_("Begrundelse"), max_length=300)
    case_ref = forms.CharField(label=_("Sagsnummer"), max_length=100, required=False)
    person = forms.CharField(label=_("Person"), max_length=200, required=False)
    period_start = forms.DateField(
        label=_("Fra dato"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    period_end = forms.DateField(
        label=_("Til dato"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(k) for k in ("case_ref", "person", "period_start",
                                         "period_end")):
            raise forms.ValidationError(
                _("Angiv en sag, en person eller en periode, som holdet gælder.")
            )
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("Til-datoen ligger før fra-datoen."))
        for name in ("period_start", "period_end"):
            if data.get(name) and not in_window(data[name]):
                self.add_error(name, day_window_message())
        return data


class RetentionRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=RecordKind.choices)
    keep_days = forms.IntegerField(
        label=_("Opbevares i dage"), min_value=1, max_value=365 * 100
    )


class ErasureForm(forms.Form):
    person = forms.CharField(label=_("Person (navn eller brugernavn)"),
                             max_length=200)
    reason = forms.CharField(label=_("Begrundelse"), max_length=300)
