from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .selectors import Period

MAX_DAYS = 3 * 366


class PeriodForm(forms.Form):
    """The period picker: from and to (both included). Empty: the last 28
    days up to today."""

    fra = forms.DateField(label=_("Fra"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    til = forms.DateField(label=_("Til"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        given = [d for d in (data.get("fra"), data.get("til")) if d is not None]
        if any(d.year < 2000 or d.year > 2100 for d in given):
            raise forms.ValidationError(
                _("Vælg datoer mellem år 2000 og 2100.")
            )
        end = data.get("til") or timezone.localdate()
        start = data.get("fra") or end - timedelta(days=27)
        if start > end:
            raise forms.ValidationError(
                _("Perioden skal starte før den slutter. Ret datoerne og prøv igen.")
            )
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(
                _("Vælg en periode på højst tre år.")
            )
        data["period"] = Period(start, end)
        return data

    def period(self) -> Period:
        if self.is_valid():
            return self.cleaned_data["period"]
        end = timezone.localdate()
        return Period(end - timedelta(days=27), end)


class ReportSubscriptionForm(forms.Form):
    """Which reports come by e-mail (none ticked: none)."""

    cadences = forms.MultipleChoiceField(
        label=_("Send mig på e-mail"), required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[("monthly", _("Månedsrapporten, når en måned er slut")),
                 ("quarterly", _("Kvartalsrapporten, når et kvartal er slut"))],
        error_messages={"invalid_choice": _(
            "Vælg månedsrapporten, kvartalsrapporten eller ingen af dem.")},
    )
