from __future__ import annotations

import re
from datetime import time

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import ChannelStatus, Purpose
from kanal.core import safety

from .models import MediaAsset
from .timeutil import from_local

HASHTAG = re.compile(r"^#[\w\u00C0-\u024F]{1,100}$")


class WindowDateField(forms.DateField):
    """A date inside the window Kanal can plan and count (``safety``): year 1
    or 9999 would overflow the date arithmetic behind it."""

    def validate(self, value):
        super().validate(value)
        if value is not None and not safety.in_window(value):
            raise forms.ValidationError(safety.day_window_message(), code="window")


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses values that cannot be an id before they reach the database
    (SQLite raises OverflowError for integers of 2^63 and more)."""

    def _check_values(self, value):
        for pk in value:
            try:
                safety.query_id(str(pk))
            except safety.InvalidInput:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(pk)[:40]},
                ) from None
        return super()._check_values(value)


class LocalDateTimeField(forms.MultiValueField):
    """A Copenhagen date and clock time (two inputs), cleaned to UTC.

    Clock-change nights are interpreted (see ``timeutil.from_local``) and the
    note kept on ``field.notes`` for the view to show. Every form gets its
    own copy of the field (``__deepcopy__``), so a note belongs to the one
    form and request that produced it.
    """

    widget = None

    def __init__(self, **kwargs):
        fields = (WindowDateField(), forms.TimeField())
        kwargs.setdefault("require_all_fields", True)
        super().__init__(fields=fields, widget=LocalDateTimeWidget(), **kwargs)
        self.notes: list[str] = []

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.notes = []
        return result

    def compress(self, data_list):
        if not data_list or data_list[0] is None or data_list[1] is None:
            return None
        result = from_local(data_list[0], data_list[1])
        if result.note:
            self.notes.append(result.note)
        return result.value


class LocalDateTimeWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        super().__init__(
            [
                forms.DateInput(
                    attrs={"type": "date", "aria-label": _("Dato")}, format="%Y-%m-%d"
                ),
                forms.TimeInput(
                    attrs={"type": "time", "aria-label": _("Klokkeslæt")},
                    format="%H:%M",
                ),
            ],
            attrs,
        )

    def decompress(self, value):
        if value is None:
            return [None, None]
        local = timezone.localtime(value)
        return [local.date(), local.time().replace(second=0, microsecond=0)]


def parse_hashtags(raw: str) -> list[str]:
    tags = []
    for word in raw.replace(",", " ").split():
        tag = word if word.startswith("#") else f"#{word}"
        if not HASHTAG.match(tag):
            raise forms.ValidationError(
                _("«%(tag)s» er ikke et gyldigt hashtag. Brug bogstaver, tal og _."),
                params={"tag": word[:40]},
            )
        if tag not in tags:
            tags.append(tag)
    return tags


def active_channels(organisation):
    return organisation.channels.exclude(status=ChannelStatus.DISABLED).select_related(
        "strategy"
    )


def offered_channels(organisation, current_channels=()):
    """The active channels, plus those the post or proposal already has: a
    channel switched off since must still be shown (ticked), or saving the
    form would silently drop it."""
    current = [c.pk for c in current_channels]
    if not current:
        return active_channels(organisation)
    return (
        organisation.channels.exclude(
            Q(status=ChannelStatus.DISABLED) & ~Q(pk__in=current)
        )
        .select_related("strategy")
        .order_by("network", "display_name")
    )


class ChannelChoiceField(SafeModelMultipleChoiceField):
    default_error_messages = {
        "invalid_choice": _(
            "Kanalen findes ikke eller er slået fra. Vælg blandt de viste kanaler."
        ),
        "invalid_pk_value": _("Kanalen findes ikke. Vælg blandt de viste kanaler."),
    }

    def label_from_instance(self, obj):
        return f"{obj.get_network_display()} – {obj.display_name}"


class PostForm(forms.Form):
    title = forms.CharField(label=_("Overskrift (intern)"), max_length=200)
    shared_text = forms.CharField(
        label=_("Fælles tekst"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Udgangspunktet for alle varianter. Tilpas hver kanal nedenfor."),
    )
    channels = ChannelChoiceField(
        label=_("Kanaler"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    planned_at = LocalDateTimeField(label=_("Planlagt tid"), required=False)
    owner_administration = forms.ModelChoiceField(label=_("Forvaltning"), queryset=None)
    category = forms.ChoiceField(label=_("Indholdskategori"), required=False)
    purposes = forms.MultipleChoiceField(
        label=_("Formål"),
        choices=Purpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    campaign = forms.ModelChoiceField(
        label=_("Kampagne"), queryset=None, required=False
    )
    notes = forms.CharField(
        label=_("Interne noter"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organisation, current_channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        channels = offered_channels(organisation, current_channels)
        self.fields["channels"].queryset = channels
        self.fields[
            "owner_administration"
        ].queryset = organisation.administrations.all()
        self.fields["campaign"].queryset = organisation.campaigns.all()
        categories = {c for ch in channels for c in ch.strategy.categories}
        # A category no channel lists any more stays choosable for the post
        # that has it; otherwise saving would silently clear it.
        current = self.initial.get("category")
        if current:
            categories.add(current)
        self.fields["category"].choices = [("", "—")] + [
            (c, c) for c in sorted(categories)
        ]

    def clean_planned_at(self):
        value = self.cleaned_data.get("planned_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(
                _("Tidspunktet er passeret. Vælg et tidspunkt i fremtiden.")
            )
        return value


class VariantForm(forms.Form):
    text = forms.CharField(
        label=_("Tekst"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    link = forms.URLField(
        label=_("Link"), max_length=1000, required=False, assume_scheme="https"
    )
    hashtags = forms.CharField(label=_("Hashtags"), max_length=500, required=False)
    first_comment = forms.CharField(
        label=_("Første kommentar"),
        max_length=2200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    planned_at = LocalDateTimeField(label=_("Planlagt tid"), required=False)
    media = SafeModelMultipleChoiceField(
        label=_("Medier"),
        queryset=MediaAsset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, channel, media_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.fields["media"].queryset = media_queryset
        self.fields["media"].label_from_instance = lambda m: m.original_name

    def clean_hashtags(self):
        return parse_hashtags(self.cleaned_data.get("hashtags", ""))

    def clean_planned_at(self):
        value = self.cleaned_data.get("planned_at")
        initial = self.initial.get("planned_at")
        if value is not None and value != initial and value <= timezone.now():
            raise forms.ValidationError(
                _("Tidspunktet er passeret. Vælg et tidspunkt i fremtiden.")
            )
        return value


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Hvad handler det om?"), max_length=200)
    text = forms.CharField(
        label=_("Forslag til tekst"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    reason = forms.CharField(
        label=_("Hvorfor skal det ud?"),
        max_length=3000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    wish_from = WindowDateField(
        label=_("Ønsket fra"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    wish_to = WindowDateField(
        label=_("Ønsket til"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    channels = ChannelChoiceField(
        label=_("Ønskede kanaler"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    event_details = forms.CharField(
        label=_("Begivenhed (sted, tid, tilmelding)"),
        max_length=3000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    image = forms.FileField(label=_("Billede (valgfrit)"), required=False)
    image_alt_text = forms.CharField(
        label=_("Beskrivelse af billedet (alternativ tekst)"),
        max_length=1500,
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organisation, current_channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = offered_channels(
            organisation, current_channels
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("wish_from"), data.get("wish_to")
        if start and end and end < start:
            self.add_error("wish_to", _("Slutdatoen ligger før startdatoen."))
        if start and start < timezone.localdate():
            self.add_error("wish_from", _("Datoen er passeret. Vælg en senere dato."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Begrundelse"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Kommentar"), max_length=3000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RescheduleForm(forms.Form):
    day = WindowDateField(
        label=_("Ny dato"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    clock = forms.TimeField(
        label=_("Klokkeslæt"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MediaUploadForm(forms.Form):
    file = forms.FileField(label=_("Billede eller video"))
    alt_text = forms.CharField(
        label=_("Alternativ tekst"),
        max_length=1500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Beskriv billedet for dem, der ikke kan se det. Kræves før godkendelse."
        ),
    )
    credit = forms.CharField(
        label=_("Fotograf/kreditering"), max_length=200, required=False
    )
    shows_identifiable_people = forms.BooleanField(
        label=_("Viser genkendelige personer"), required=False
    )
    identifiable_people_consent = forms.BooleanField(
        label=_("Der er samtykke fra de genkendelige personer"), required=False
    )
    rights_expire_on = WindowDateField(
        label=_("Rettigheder udløber"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class MediaEditForm(MediaUploadForm):
    file = None


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Navn"), max_length=200)
    hashtags = forms.CharField(label=_("Hashtags"), max_length=500, required=False)
    starts_on = WindowDateField(
        label=_("Fra"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ends_on = WindowDateField(
        label=_("Til"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_hashtags(self):
        return parse_hashtags(self.cleaned_data.get("hashtags", ""))


class ReportForm(forms.Form):
    first_day = WindowDateField(
        label=_("Fra"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last_day = WindowDateField(
        label=_("Til"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        a, b = data.get("first_day"), data.get("last_day")
        if a and b and b < a:
            raise forms.ValidationError(_("Perioden slutter før den begynder."))
        if a and b and (b - a).days > 800:
            raise forms.ValidationError(_("Vælg en periode på højst to år."))
        return data


DEFAULT_TIME = time(10, 0)
