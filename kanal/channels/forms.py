from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kanal.core import safety

from . import hosts
from .models import CadencePeriod, Channel, Network, Purpose

HASHTAG = re.compile(r"^#[\w\u00C0-\u024F]{1,100}$")
API_SETTING_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class ChannelForm(forms.Form):
    network = forms.ChoiceField(label=_("Netværk"), choices=Network.choices)
    display_name = forms.CharField(label=_("Visningsnavn"), max_length=200)
    handle = forms.CharField(
        label=_("Brugernavn hos netværket"), max_length=200, required=False
    )
    remote_id = forms.CharField(
        label=_("Konto-id hos netværket"), max_length=200, required=False
    )
    owner_administration = forms.ModelChoiceField(
        label=_("Ejer (forvaltning)"), queryset=None
    )
    base_url = forms.URLField(
        label=_("API-adresse"),
        max_length=300,
        assume_scheme="https",
        help_text=_("Netværkets API, eller øvebanens adresse for træning."),
    )

    api_settings = forms.CharField(
        label=_("API-indstillinger"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Valgfrit, én pr. linje som navn=værdi, fx linkedin_version=202607 "
            "eller graph_version=v25.0."
        ),
    )

    def clean_api_settings(self):
        settings = {}
        for number, line in enumerate(
            self.cleaned_data["api_settings"].splitlines(), start=1
        ):
            line = line.strip()
            if not line:
                continue
            name, sep, value = line.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not API_SETTING_NAME.match(name) or len(value) > 300:
                raise forms.ValidationError(
                    _(
                        "Linje %(n)s skal have formen navn=værdi (navn med små "
                        "bogstaver, tal og _; værdi højst 300 tegn)."
                    )
                    % {"n": number}
                )
            settings[name] = value
        if len(settings) > 20:
            raise forms.ValidationError(_("Højst 20 API-indstillinger."))
        return settings

    def __init__(self, *args, organisation, channel: Channel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.channel = channel
        self.fields[
            "owner_administration"
        ].queryset = organisation.administrations.all()
        if channel is not None:
            # The network of an existing account cannot change.
            self.fields["network"].disabled = True
            self.fields["base_url"].help_text = _(
                "Netværkets API, eller øvebanens adresse for træning. Flytter du "
                "kanalen til en anden server, slettes de gemte adgangsnøgler, og "
                "du skal indtaste dem igen."
            )

    def clean(self):
        data = super().clean()
        remote_id = data.get("remote_id")
        network = data.get("network")
        base_url = data.get("base_url")
        unchanged = self.channel is not None and base_url == self.channel.base_url
        if (
            network
            and base_url
            and not unchanged
            and not hosts.is_allowed(network, base_url)
        ):
            self.add_error("base_url", hosts.refusal(network))
        if remote_id and network:
            clash = Channel.objects.filter(
                organisation=self.organisation, network=network, remote_id=remote_id
            )
            if self.channel is not None:
                clash = clash.exclude(pk=self.channel.pk)
            if clash.exists():
                self.add_error(
                    "remote_id",
                    _("Kontoen er allerede registreret som kanal i organisationen."),
                )
        return data


def _secret_field(label, max_length: int = 4000) -> forms.CharField:
    """A write-only secret: never pre-filled, never rendered back."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class CredentialsForm(forms.Form):
    """Secrets are write-only: fields are never pre-filled or shown back."""

    access_token = _secret_field(_("Adgangsnøgle (access token)"))
    refresh_token = _secret_field(_("Fornyelsesnøgle (refresh token)"))
    app_secret = _secret_field(_("App-hemmelighed (app secret)"))
    client_id = _secret_field(_("App-id (client id)"), max_length=500)
    client_secret = _secret_field(_("App-nøgle (client secret)"))
    app_password = _secret_field(_("App-adgangskode (Bluesky)"), max_length=200)
    token_expires_at = forms.DateTimeField(
        label=_("Adgangen udløber"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def _secret_names(self) -> list[str]:
        return [
            name
            for name, field in self.fields.items()
            if isinstance(field.widget, forms.PasswordInput)
        ]

    def clean_token_expires_at(self):
        value = self.cleaned_data.get("token_expires_at")
        if value is not None and not safety.in_window(value):
            raise forms.ValidationError(safety.day_window_message())
        return value

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in self._secret_names()):
            raise forms.ValidationError(_("Udfyld mindst én nøgle."))
        return data

    def expiry_for(self, channel: Channel):
        """The expiry to store: the one typed; otherwise unknown for a new
        access token, and the stored one when only other keys changed (a new
        client secret must not wipe what the form did not show)."""
        typed = self.cleaned_data.get("token_expires_at")
        if typed is not None:
            return typed
        if self.cleaned_data.get("access_token"):
            return None
        return channel.token_expires_at

    def secrets(self) -> dict[str, str]:
        return {
            n: self.cleaned_data[n]
            for n in self._secret_names()
            if self.cleaned_data.get(n)
        }


class StrategyForm(forms.Form):
    purposes = forms.MultipleChoiceField(
        label=_("Formål"),
        choices=Purpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.CharField(
        label=_("Indholdskategorier"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Én kategori pr. linje."),
    )
    cadence_min = forms.IntegerField(
        label=_("Mindst antal opslag"), min_value=0, max_value=100
    )
    cadence_max = forms.IntegerField(
        label=_("Højst antal opslag"), min_value=0, max_value=100
    )
    cadence_period = forms.ChoiceField(label=_("Pr."), choices=CadencePeriod.choices)
    default_hashtags = forms.CharField(
        label=_("Faste hashtags"),
        required=False,
        max_length=1000,
        help_text=_("Adskilt af mellemrum, fx #voreskbh"),
    )
    tone_notes = forms.CharField(
        label=_("Tone og stil"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_categories(self):
        lines = [line.strip() for line in self.cleaned_data["categories"].splitlines()]
        categories = list(dict.fromkeys(line for line in lines if line))
        if any(len(c) > 100 for c in categories):
            raise forms.ValidationError(_("En kategori må højst være 100 tegn."))
        if len(categories) > 40:
            raise forms.ValidationError(_("Højst 40 kategorier pr. kanal."))
        return categories

    def clean_default_hashtags(self):
        tags = self.cleaned_data["default_hashtags"].split()
        bad = [t for t in tags if not HASHTAG.match(t)]
        if bad:
            raise forms.ValidationError(
                _(
                    "Ugyldigt hashtag: %(tags)s. Et hashtag starter med # og "
                    "indeholder kun bogstaver, tal og _."
                )
                % {"tags": ", ".join(bad)}
            )
        return list(dict.fromkeys(tags))

    def clean(self):
        data = super().clean()
        low, high = data.get("cadence_min"), data.get("cadence_max")
        if low is not None and high is not None and low > high:
            self.add_error(
                "cadence_max", _("Højst skal være mindst lige så stort som mindst.")
            )
        return data
