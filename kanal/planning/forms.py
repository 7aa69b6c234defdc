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
# The networks whose variants have a first comment (the editor shows the field
# only there, so the others cannot lose one they were given elsewhere).
FIRST_COMMENT_NETWORKS = frozenset({"facebook", "instagram", "linkedin"})


def normalise_text(value) -> str:
    """Text as a person sees it: browsers send line breaks as CRLF, and the
    surrounding white space of a field is not something anyone typed."""
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


class TextField(forms.CharField):
    """A text field whose untouched value counts as unchanged.

    A browser sends back a textarea with CRLF line breaks, and ``CharField``
    strips white space; neither is a change the person made, so neither may
    replace the stored text (``changed_values``).
    """

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        return normalise_text(initial) != normalise_text(data)


def changed_values(form, names=None) -> dict:
    """The cleaned values of the fields the person changed (``form`` is valid).

    Saving writes only these, so a value the form cannot show as it is stored
    (an unknown category, a disabled channel, seconds in a time) is kept.
    """
    wanted = set(form.fields) if names is None else set(names)
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in wanted and name in form.cleaned_data
    }


def keep_stored_choices(field, stored, label) -> None:
    """Offer stored values that are no longer (or never were) in the list, so
    the form shows them as chosen instead of silently choosing something
    else. ``label`` is a format string with ``%(value)s``."""
    values = stored if isinstance(stored, list | tuple) else [stored]
    known = {str(value) for value, _label in field.choices}
    extra = [
        (value, label % {"value": value})
        for value in values
        if value not in (None, "") and str(value) not in known
    ]
    if extra:
        field.choices = [*field.choices, *extra]


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
        label = f"{obj.get_network_display()} – {obj.display_name}"
        if obj.status == ChannelStatus.DISABLED:
            label = _("%(channel)s (slået fra)") % {"channel": label}
        return label


class PostForm(forms.Form):
    title = TextField(label=_("Overskrift (intern)"), max_length=200)
    shared_text = TextField(
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
    notes = TextField(
        label=_("Interne noter"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organisation, current_channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        channels = offered_channels(
            organisation, current_channels or self.initial.get("channels") or ()
        )
        self.fields["channels"].queryset = channels
        self.fields[
            "owner_administration"
        ].queryset = organisation.administrations.all()
        self.fields["campaign"].queryset = organisation.campaigns.all()
        categories = sorted({c for ch in channels for c in ch.strategy.categories})
        self.fields["category"].choices = [("", "—")] + [(c, c) for c in categories]
        keep_stored_choices(
            self.fields["category"],
            self.initial.get("category"),
            _("%(value)s (ikke på kanalernes liste)"),
        )
        keep_stored_choices(
            self.fields["purposes"],
            self.initial.get("purposes") or [],
            _("%(value)s (ukendt formål)"),
        )

    def clean_planned_at(self):
        value = self.cleaned_data.get("planned_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(
                _("Tidspunktet er passeret. Vælg et tidspunkt i fremtiden.")
            )
        return value


class VariantForm(forms.Form):
    text = TextField(
        label=_("Tekst"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    link = forms.URLField(
        label=_("Link"), max_length=1000, required=False, assume_scheme="https"
    )
    hashtags = forms.CharField(label=_("Hashtags"), max_length=500, required=False)
    first_comment = TextField(
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

    def __init__(self, *args, channel, media_queryset, media_shown=None, **kwargs):
        """``media_queryset`` is what may be chosen (the visible library);
        ``media_shown`` what the editor lists (searching adds more)."""
        super().__init__(*args, **kwargs)
        self.channel = channel
        field = self.fields["media"]
        field.queryset = media_queryset
        field.label_from_instance = lambda m: m.original_name
        if media_shown is not None:
            shown = list(media_shown)
            shown_ids = {m.pk for m in shown}
            chosen = set()
            if self.is_bound:
                chosen = {
                    int(v)
                    for v in self.data.getlist(self.add_prefix("media"))
                    if str(v).isdigit()
                }
            # What was picked by searching stays listed when the form returns.
            extra = (
                list(media_queryset.filter(pk__in=chosen - shown_ids))
                if chosen - shown_ids
                else []
            )
            field.widget.choices = [(m.pk, m.original_name) for m in [*shown, *extra]]
        if channel.network not in FIRST_COMMENT_NETWORKS:
            del self.fields["first_comment"]

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
    title = TextField(label=_("Hvad handler det om?"), max_length=200)
    text = TextField(
        label=_("Forslag til tekst"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    reason = TextField(
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
    event_details = TextField(
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
            organisation, current_channels or self.initial.get("channels") or ()
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("wish_from"), data.get("wish_to")
        if start and end and end < start:
            self.add_error("wish_to", _("Slutdatoen ligger før startdatoen."))
        # A date that has passed since the proposal was sent is not an error
        # the contributor made now; only a newly chosen one is.
        if start and start < timezone.localdate() and "wish_from" in self.changed_data:
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
    alt_text = TextField(
        label=_("Alternativ tekst"),
        max_length=1500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Beskriv billedet for dem, der ikke kan se det. Kræves før godkendelse."
        ),
    )
    credit = TextField(label=_("Fotograf/kreditering"), max_length=200, required=False)
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
    tags = forms.CharField(
        label=_("Mærker"),
        max_length=1000,
        required=False,
        help_text=_("Adskilt med komma, fx Islands Brygge, vinterbadning, jul."),
    )

    def clean_tags(self):
        return parse_tags(self.cleaned_data.get("tags", ""))


class MediaEditForm(MediaUploadForm):
    file = None


TAG = re.compile(r"^[\w][\w .&'-]{0,39}$")
MAX_TAGS = 20


def normalise_tag(value: str) -> str:
    return " ".join(value.split()).lower()


def parse_tags(raw: str) -> list[str]:
    """Comma-separated tags, in lower case, each once."""
    tags: list[str] = []
    for part in raw.split(","):
        tag = normalise_tag(part)
        if not tag:
            continue
        if not TAG.match(tag):
            raise forms.ValidationError(
                _(
                    "«%(tag)s» kan ikke bruges som mærke. Brug bogstaver, tal og "
                    "mellemrum, højst 40 tegn."
                ),
                params={"tag": part.strip()[:40]},
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise forms.ValidationError(
            _("Højst %(n)d mærker pr. medie."), params={"n": MAX_TAGS}
        )
    return tags


UTM_VALUE = re.compile(r"^[\w.\-+ ]{1,100}$")
DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9æøå]([a-z0-9æøå-]{0,61}[a-z0-9æøå])?\.)+[a-z]{2,63}$"
)


def clean_utm_value(value: str) -> str:
    value = value.strip()
    if value and not UTM_VALUE.match(value):
        raise forms.ValidationError(
            _(
                "Brug bogstaver, tal, mellemrum og - _ . + (højst 100 tegn), så "
                "webstatistikken kan læse værdien."
            )
        )
    return value


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Navn"), max_length=200)
    hashtags = forms.CharField(label=_("Hashtags"), max_length=500, required=False)
    utm_campaign = forms.CharField(
        label=_("Kampagnenavn i links (utm_campaign)"),
        max_length=100,
        required=False,
        help_text=_("Tom: kampagnens navn med små bogstaver og bindestreger."),
    )
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

    def clean_utm_campaign(self):
        return clean_utm_value(self.cleaned_data.get("utm_campaign", ""))


class LinkTrackingForm(forms.Form):
    """One scope of link tracking: the organisation, or one channel."""

    inherit = forms.BooleanField(
        label=_("Som organisationen"),
        required=False,
        help_text=_("Fjern fluebenet for at give kanalen sine egne regler."),
    )
    enabled = forms.BooleanField(
        label=_("Tilføj UTM-parametre til links"), required=False
    )
    source = forms.CharField(
        label=_("utm_source"),
        max_length=100,
        required=False,
        help_text=_("Tom: netværkets navn (facebook, instagram, x …)."),
    )
    medium = forms.CharField(label=_("utm_medium"), max_length=100, required=False)
    campaign_default = forms.CharField(
        label=_("utm_campaign for opslag uden kampagne"),
        max_length=100,
        required=False,
        help_text=_("Tom: ingen utm_campaign. Kampagnens eget navn går forud."),
    )
    domains = forms.CharField(
        label=_("Kun links til disse domæner"),
        max_length=1000,
        required=False,
        help_text=_(
            "Adskilt med mellemrum eller komma, fx kk.dk (gælder også "
            "underdomæner). Tom: alle links."
        ),
    )
    replace_existing = forms.BooleanField(
        label=_("Erstat UTM-parametre, der allerede står i et link"),
        required=False,
        help_text=_("Uden flueben får et link med egne UTM-parametre lov at stå."),
    )

    def __init__(self, *args, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel is None:
            del self.fields["inherit"]

    def clean_source(self):
        return clean_utm_value(self.cleaned_data.get("source", ""))

    def clean_medium(self):
        return clean_utm_value(self.cleaned_data.get("medium", ""))

    def clean_campaign_default(self):
        return clean_utm_value(self.cleaned_data.get("campaign_default", ""))

    def clean_domains(self):
        from .links import normalise_domain

        domains = []
        for word in self.cleaned_data.get("domains", "").replace(",", " ").split():
            domain = normalise_domain(word)
            if not DOMAIN.match(domain):
                raise forms.ValidationError(
                    _("«%(domain)s» er ikke et domæne. Skriv fx kk.dk."),
                    params={"domain": word[:60]},
                )
            if domain not in domains:
                domains.append(domain)
        return domains

    def clean(self):
        data = super().clean()
        if (
            self.channel is not None
            and data.get("inherit")
            and set(self.changed_data) - {"inherit"}
        ):
            self.add_error(
                "inherit",
                _(
                    "Kanalen følger organisationens regler. Fjern fluebenet ved "
                    "«Som organisationen» for at give den sine egne."
                ),
            )
        if data.get("enabled") and not data.get("inherit") and not data.get("medium"):
            self.add_error(
                "medium", _("Skriv et utm_medium, fx social, eller slå sporingen fra.")
            )
        return data


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
