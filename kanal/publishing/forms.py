from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import Channel


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


class CrisisMessageForm(forms.Form):
    text = forms.CharField(
        label=_("Krisebesked"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Kanal forkorter teksten, hvor et netværk kræver det."),
    )
    link = forms.URLField(label=_("Link (valgfrit)"), required=False,
                          assume_scheme="https")
    channels = ChannelChoiceField(queryset=Channel.objects.none(),
                                  label=_("Kanaler"))
    confirm = forms.BooleanField(
        label=_("Jeg bekræfter, at beskeden sendes nu på alle valgte kanaler "
                "uden den normale godkendelse."),
    )

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = channels
        self.fields["channels"].initial = [c.pk for c in channels]
