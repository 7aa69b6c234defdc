from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import Channel, Network

from .models import CrisisEvent


def local_input(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"},
                                 format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class RescheduleForm(forms.Form):
    planned_at = LocalDateTimeField(label=_("Nyt tidspunkt (dansk tid)"))


class MarkPublishedForm(forms.Form):
    url = forms.URLField(label=_("Opslagets adresse"), max_length=1000,
                         assume_scheme="https")


class ChannelChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Channel) -> str:
        return f"{obj.get_network_display()}: {obj.display_name}"


class StartCrisisForm(forms.Form):
    reason = forms.CharField(
        label=_("Årsag (skal udfyldes)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Fx 'Brand på Amager – al planlagt kommunikation stoppes'."),
    )
    scope = forms.ChoiceField(
        label=_("Gælder"),
        choices=[("all", _("Hele organisationen")),
                 ("channels", _("Kun de valgte kanaler"))],
        widget=forms.RadioSelect,
        initial="all",
    )
    channels = ChannelChoiceField(queryset=Channel.objects.none(), required=False,
                                  label=_("Kanaler"))

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = channels

    def clean(self):
        data = super().clean()
        if data.get("scope") == "channels" and not data.get("channels"):
            self.add_error("channels", _("Vælg mindst én kanal."))
        return data


def network_label(network: str) -> str:
    return dict(Network.choices).get(network, network)


class VersionFieldsMixin:
    """A field ``version_<network>`` per network: the lead's own (shorter)
    version for that network's channels."""

    version_help = _("Tom: netværket får beskeden ovenfor.")

    def add_version_fields(self, networks) -> None:
        for network in networks:
            self.fields[f"version_{network}"] = forms.CharField(
                label=_("Egen version til %(network)s")
                % {"network": network_label(network)},
                required=False,
                max_length=10000,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=self.version_help,
            )

    def versions(self) -> dict[str, str]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            name.removeprefix("version_"): (data.get(name) or "").strip()
            for name in self.fields
            if name.startswith("version_") and (data.get(name) or "").strip()
        }

    def raw_versions(self) -> dict[str, str]:
        """The versions as typed, for live counting (no validation)."""
        return {
            name.removeprefix("version_"): str(self[name].value() or "")[:10000]
            for name in self.fields
            if name.startswith("version_")
        }


def _networks(channels) -> list[str]:
    return sorted({c.network for c in channels})


class CrisisMessageForm(VersionFieldsMixin, forms.Form):
    text = forms.CharField(
        label=_("Krisebesked"), max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Kanal forkorter aldrig en krisebesked. Passer den ikke til "
                    "et netværk, så skriv en kort version til netværket "
                    "herunder. Udfyld pladsholdere som [STED]."),
    )
    link = forms.URLField(label=_("Link (valgfrit)"), required=False,
                          max_length=1000, assume_scheme="https")
    channels = ChannelChoiceField(queryset=Channel.objects.none(),
                                  label=_("Kanaler"))
    confirm = forms.BooleanField(
        label=_("Jeg bekræfter, at beskeden sendes nu på alle valgte kanaler "
                "uden den normale godkendelse."),
    )

    def __init__(self, *args, channels, initial_channels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = channels
        self.fields["channels"].initial = (
            initial_channels if initial_channels is not None
            else [c.pk for c in channels]
        )
        self.add_version_fields(_networks(channels))

    def raw_channel_ids(self) -> list[int] | None:
        """The ticked channels as typed (for live counting)."""
        if not self.is_bound:
            return list(self.fields["channels"].initial or [])
        ids = []
        for value in self.data.getlist(self.add_prefix("channels")):
            try:
                ids.append(int(value))
            except (TypeError, ValueError):
                continue
        return ids


class AllClearForm(CrisisMessageForm):
    """The all-clear sent when the crisis ends (optional)."""

    prefix = "all_clear"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["confirm"]
        self.fields["text"].required = False
        self.fields["text"].label = _("Afblæsning (valgfri)")
        self.fields["text"].help_text = _(
            "Sendes med det samme, når krisetilstand slås fra, uden den normale "
            "godkendelse. Tom: ingen afblæsning."
        )
        self.fields["channels"].required = False

    def clean(self):
        data = super().clean()
        if (data.get("text") or "").strip() and not data.get("channels"):
            self.add_error("channels", _("Vælg mindst én kanal til afblæsningen."))
        return data


class CrisisTemplateForm(VersionFieldsMixin, forms.Form):
    version_help = _("Tom: netværket får beskeden ovenfor. Skriv en kort "
                     "version til netværk med få tegn.")

    name = forms.CharField(label=_("Navn"), max_length=120)
    event = forms.ChoiceField(label=_("Hændelse"), choices=CrisisEvent.choices)
    text = forms.CharField(
        label=_("Besked"), max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Skriv pladsholdere med store bogstaver i kantede parenteser, "
                    "fx [STED] eller [TIDSPUNKT]. Krisestyringen udfylder dem, "
                    "før beskeden sendes."),
    )
    link = forms.URLField(label=_("Link (valgfrit)"), required=False,
                          max_length=1000, assume_scheme="https")

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_version_fields(networks)
