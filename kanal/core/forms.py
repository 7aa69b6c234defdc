from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .safety import day_window_message, in_window


class AuditFilterForm(forms.Form):
    event = forms.CharField(
        label=_("Hændelse"),
        max_length=100,
        required=False,
        help_text=_("fx channels. eller planning.post.approved"),
    )
    actor = forms.CharField(label=_("Bruger"), max_length=150, required=False)
    object_type = forms.CharField(label=_("Objekttype"), max_length=100, required=False)
    date_from = forms.DateField(
        label=_("Fra dato"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("Til dato"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if not in_window(day):
            raise forms.ValidationError(day_window_message())
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self):
        data = super().clean()
        if (
            data.get("date_from")
            and data.get("date_to")
            and (data["date_from"] > data["date_to"])
        ):
            self.add_error("date_to", _("Til-datoen ligger før fra-datoen."))
        return data

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("event"):
            entries = entries.filter(event__startswith=data["event"])
        if data.get("actor"):
            entries = entries.filter(actor_label__iexact=data["actor"])
        if data.get("object_type"):
            entries = entries.filter(object_type=data["object_type"])
        zone = timezone.get_current_timezone()
        if data.get("date_from"):
            entries = entries.filter(
                created_at__gte=datetime.combine(data["date_from"], time.min, zone)
            )
        if data.get("date_to"):
            entries = entries.filter(
                created_at__lte=datetime.combine(data["date_to"], time.max, zone)
            )
        return entries
