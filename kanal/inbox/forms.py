from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kanal.channels.models import Network
from kanal.organisations.models import Administration, Membership
from kanal.organisations.roles import PERMISSIONS

from . import meanwhile, privacy, templating
from .actions import MANUAL_STATUSES
from .models import (
    ConversationStatus,
    InboxSettings,
    Reason,
    ReferralTemplate,
    StandardAnswer,
)


class FilterForm(forms.Form):
    """The list's filters; what it cannot read is an error the list page
    shows (then it lists nothing), never a filter silently left out."""

    q = forms.CharField(label=_("Søg"), required=False, max_length=200,
                        error_messages={"max_length": _(
                            "Søgningen er for lang: højst 200 tegn. Søg på "
                            "nogle få ord fra henvendelsen.")})
    network = forms.ChoiceField(
        label=_("Netværk"), required=False,
        choices=[("", _("Alle netværk")), *Network.choices],
    )
    channel = forms.TypedChoiceField(label=_("Kanal"), required=False, coerce=int,
                                     empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Alle statusser")), *ConversationStatus.choices],
    )
    administration = forms.TypedChoiceField(
        label=_("Forvaltning"), required=False, coerce=int, empty_value=None
    )
    overdue = forms.BooleanField(label=_("Over svarfristen"), required=False)
    personal_data = forms.BooleanField(label=_("Med personoplysninger"),
                                       required=False)
    negative = forms.BooleanField(label=_("Negativ stemning (hint)"),
                                  required=False)
    priority = forms.BooleanField(label=_("Kun krise-prioritet"), required=False)

    def __init__(self, *args, channels=(), administrations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("Alle kanaler"))] + [
            (c.pk, str(c)) for c in channels
        ]
        self.fields["administration"].choices = [("", _("Alle forvaltninger"))] + [
            (a.pk, a.code) for a in administrations
        ]


class AssignForm(forms.Form):
    administration = forms.ModelChoiceField(
        label=_("Forvaltning"), queryset=Administration.objects.none(),
        required=False, empty_label=_("Vælg forvaltning"),
    )
    person = forms.ModelChoiceField(
        label=_("Person"), queryset=Membership.objects.none(), required=False,
        empty_label=_("Ingen bestemt person"),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = Administration.objects.filter(
            organisation=organisation)
        people = Membership.objects.filter(
            organisation=organisation, is_active=True, user__is_active=True,
            role__in=[role for role, held in PERMISSIONS.items()
                      if "inbox.answer" in held],
        ).select_related("user", "administration")
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = (
            lambda m: f"{m.display_name} ({m.administration.code})")

    def clean(self):
        data = super().clean()
        if not data.get("administration") and not data.get("person"):
            raise forms.ValidationError(_("Vælg en forvaltning eller en person."))
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in ConversationStatus.choices if c[0] in MANUAL_STATUSES],
    )

    def __init__(self, *args, current: str = "", **kwargs):
        """``current``: the conversation's status. One that only an action
        sets (hidden) is not offered, so the list starts empty rather than
        show, and on saving set, another status than the conversation's."""
        super().__init__(*args, **kwargs)
        if current and current not in MANUAL_STATUSES:
            field = self.fields["status"]
            field.choices = [("", _("Vælg en ny status")), *field.choices]
            self.initial["status"] = ""


def one_line_break(value: str) -> str:
    """``value`` with each line break as one character (LF): a browser
    counts a textarea's line break as one against its ``maxlength`` and
    sends it as two (CR LF)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


class TypedTextField(forms.CharField):
    """Text typed in a textarea, its line breaks one character each
    (``one_line_break``), so a text the browser let through is not refused
    for its length."""

    def to_python(self, value):
        return one_line_break(super().to_python(value))


class NoteForm(forms.Form):
    text = TypedTextField(
        label=_("Intern note"), max_length=5000,
        error_messages={
            "required": _("Skriv noten, før du gemmer den."),
            "max_length": _("Noten er for lang (højst 5.000 tegn)."),
        },
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kun kolleger ser noten. Skriv @brugernavn for at give en "
                    "kollega besked."),
    )
    # Sending the same form twice (a double click) makes one note.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


class _SeenCheckbox(forms.CheckboxInput):
    """A checkbox whose value is what the page showed (``meanwhile.Seen``):
    ticked, it sends that value; it is never drawn ticked."""

    def __init__(self):
        super().__init__(check_test=lambda value: False)

    def value_from_datadict(self, data, files, name):
        return data.get(name, "")


def _seen(value: str) -> meanwhile.Seen:
    seen = meanwhile.Seen.parse(value)
    if seen is None:
        raise ValidationError(_("Siden var forældet. Læs samtalen, og send igen."))
    return seen


class ReplyForm(forms.Form):
    item = forms.TypedChoiceField(label=_("Svar på"), coerce=int)
    standard_answer = forms.ModelChoiceField(
        # One to choose: "Standard answer", not the list's "Standard answers".
        label=pgettext_lazy("the one chosen", "Standardsvar"),
        queryset=StandardAnswer.objects.none(),
        required=False, empty_label=_("Intet – jeg skriver selv"),
    )
    referral = forms.ModelChoiceField(
        label=_("Henvis borgeren"), queryset=ReferralTemplate.objects.none(),
        required=False, empty_label=_("Ingen henvisning"),
        help_text=_("Et svar med en henvisning sætter samtalen til ”Henvist”."),
    )
    text = TypedTextField(
        label=_("Svar"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Tomt felt: standardsvaret eller henvisningen sendes, med "
                    "borgerens navn udfyldt."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # What the page showed when the person began (``meanwhile``).
    seen = forms.CharField(widget=forms.HiddenInput, max_length=meanwhile.LIMIT)
    send_anyway = forms.CharField(
        label=_("Send alligevel"), required=False, max_length=meanwhile.LIMIT,
        widget=_SeenCheckbox(),
        help_text=_("Sæt kryds, hvis dit svar stadig skal ud efter det, der er "
                    "skrevet, mens du skrev."),
    )

    def __init__(self, *args, items=(), organisation=None, **kwargs):
        # Its own ids: the note form on the same page also has a "text".
        kwargs.setdefault("auto_id", "reply-%s")
        super().__init__(*args, **kwargs)
        if not self.data.get("send_anyway"):
            # Offered only on the page that says what was written meanwhile.
            del self.fields["send_anyway"]
        self.fields["item"].choices = [
            (i.pk, f"{i.author_name or _('Borger')}: {privacy.mask(i.text)[:60]}")
            for i in items
        ]
        self.fields["standard_answer"].queryset = StandardAnswer.objects.filter(
            organisation=organisation)
        self.fields["referral"].queryset = ReferralTemplate.objects.filter(
            organisation=organisation)

    def clean_seen(self) -> meanwhile.Seen:
        return _seen(self.cleaned_data["seen"])

    def clean_send_anyway(self) -> meanwhile.Seen | None:
        value = self.cleaned_data["send_anyway"]
        return _seen(value) if value else None

    def seen_by_writer(self) -> meanwhile.Seen:
        """What the person has seen: the page the answer was written on, or,
        when they chose to send anyway, the page that told them more."""
        return self.cleaned_data.get("send_anyway") or self.cleaned_data["seen"]


class KeptTextForm(forms.ModelForm):
    """A kept text's title and text (a standard answer or referral template)."""

    class Meta:
        fields = ["title", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"text": TypedTextField}


class StandardAnswerForm(KeptTextForm):
    class Meta(KeptTextForm.Meta):
        model = StandardAnswer


class ReferralTemplateForm(KeptTextForm):
    class Meta(KeptTextForm.Meta):
        model = ReferralTemplate
        fields = ["title", "administration", "text"]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = Administration.objects.filter(
            organisation=organisation)
        self.fields["administration"].empty_label = _("Ingen bestemt forvaltning")


class ModerationForm(forms.Form):
    action = forms.ChoiceField(choices=[
        ("hide", _("Skjul på netværket")), ("unhide", _("Vis igen")),
        ("delete", _("Slet på netværket")),
    ])
    reason = forms.ChoiceField(
        label=_("Husregel"), required=False,
        choices=[("", _("Vælg husregel")), *Reason.choices],
    )


WEEKDAYS = [(0, _("mandag")), (1, _("tirsdag")), (2, _("onsdag")), (3, _("torsdag")),
            (4, _("fredag")), (5, _("lørdag")), (6, _("søndag"))]


#: The most closed days an organisation keeps (each is checked for every
#: day a due time is counted over).
CLOSED_DAYS_LIMIT = 60
_CLOSED_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})\.?(?:[/.-](\d{4}))?")


def parse_closed_days(value: str) -> list[str]:
    """The closed days written as "24/12" (every year) or "15/5/2026" (once),
    separated by commas or lines, as ``InboxSettings.closed_days`` keeps
    them ("12-24", "2026-05-15"); ``ValidationError`` in Danish names the
    first one that is no date."""
    days: list[str] = []
    for token in re.split(r"[,;\s]+", value or ""):
        if not token:
            continue
        match = _CLOSED_DAY.fullmatch(token)
        try:
            day, month = int(match[1]), int(match[2])
            year = int(match[3]) if match[3] else None
            # A leap year, so 29/2 is a day that comes every fourth year.
            date(year or 2000, month, day)
        except (TypeError, ValueError):
            raise ValidationError(
                _("“%(value)s” er ikke en dato. Skriv dag/måned for en dag hvert "
                  "år (fx 24/12) eller dag/måned/år for én dag (fx 15/5/2026)."),
                params={"value": token[:20]}) from None
        found = (f"{year:04d}-{month:02d}-{day:02d}" if year
                 else f"{month:02d}-{day:02d}")
        if found not in days:
            days.append(found)
    if len(days) > CLOSED_DAYS_LIMIT:
        raise ValidationError(_("Højst %(limit)s lukkedage."),
                              params={"limit": CLOSED_DAYS_LIMIT})
    return days


def format_closed_days(days) -> str:
    """``InboxSettings.closed_days`` as the form shows them ("24/12, 5/6")."""
    shown = []
    for day in days or []:
        parts = str(day).split("-")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            shown.append(f"{int(parts[1])}/{int(parts[0])}")
        elif len(parts) == 3 and all(p.isdigit() for p in parts):
            shown.append(f"{int(parts[2])}/{int(parts[1])}/{parts[0]}")
    return ", ".join(shown)


class InboxSettingsForm(forms.ModelForm):
    open_weekdays = forms.TypedMultipleChoiceField(
        label=_("Åbne ugedage"), choices=WEEKDAYS, coerce=int,
        widget=forms.CheckboxSelectMultiple, required=False,
        help_text=_("Helligdage er altid lukket."),
    )
    closed_days = forms.CharField(
        label=_("Lukkedage ud over helligdagene"), required=False,
        max_length=2000,
        help_text=_("Svarfristen står stille på disse dage. Dag/måned for en dag "
                    "hvert år (fx 24/12, 31/12, 5/6), dag/måned/år for én dag "
                    "(fx 15/5/2026), adskilt med komma."),
    )
    house_rules_url = forms.URLField(
        label=_("Adresse på husreglerne"), required=False, max_length=300,
        assume_scheme="https",
    )

    class Meta:
        model = InboxSettings
        fields = ["opens_at", "closes_at", "open_weekdays", "closed_days",
                  "target_hours",
                  "hide_personal_data", "retention_days", "require_footer",
                  "footer_text", "house_rules_url", "block_at_warning"]
        widgets = {"opens_at": forms.TimeInput(attrs={"type": "time"}),
                   "closes_at": forms.TimeInput(attrs={"type": "time"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["closed_days"] = format_closed_days(
            self.instance.closed_days if self.instance.pk
            else InboxSettings._meta.get_field("closed_days").get_default())

    def clean_closed_days(self) -> list[str]:
        return parse_closed_days(self.cleaned_data.get("closed_days", ""))

    def clean_target_hours(self) -> int:
        """At least one working hour: with none, every question would be
        overdue, and told about, the moment it arrives."""
        hours = self.cleaned_data.get("target_hours")
        if hours is not None and hours < 1:
            raise ValidationError(_("Svarfristen skal være mindst 1 arbejdstime."))
        return hours

    def clean_footer_text(self) -> str:
        """The footer goes under every answer as it is written: a variable
        (or a brace) in it would reach citizens as "{kanalnavn}"."""
        text = self.cleaned_data.get("footer_text", "")
        found = templating.braced(text)
        if found:
            raise ValidationError(
                _("Vejledningsteksten udfyldes ikke, så %(variable)s ville stå "
                  "sådan i hvert svar. Skriv teksten, som den skal stå, uden "
                  "klammer."), params={"variable": found[0]})
        return text

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("Lukketiden skal ligge efter åbningstiden."))
        hours, weekdays = data.get("target_hours"), data.get("open_weekdays")
        if opens and closes and closes > opens and hours and weekdays:
            # A due time is looked for ten years ahead at most; a target
            # beyond a year of opening hours means nobody is ever told.
            minutes = ((closes.hour * 60 + closes.minute)
                       - (opens.hour * 60 + opens.minute))
            limit = minutes * len(set(weekdays)) * 52 // 60
            if hours > limit:
                self.add_error("target_hours", _(
                    "Svarfristen på %(hours)s arbejdstimer er mere end et års "
                    "åbningstid med disse åbningstider og ugedage (højst "
                    "%(limit)s timer). Vælg en kortere svarfrist eller en "
                    "længere åbningstid.") % {"hours": hours, "limit": limit})
        if data.get("require_footer") and not (data.get("footer_text") or "").strip():
            self.add_error("footer_text",
                           _("Skriv vejledningsteksten, når den skal med under svar."))
        return data


class AssignmentRuleForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Kanal"), queryset=None, required=False,
        empty_label=_("Alle kanaler"),
    )
    keyword = forms.CharField(label=_("Nøgleord i teksten"), required=False,
                              max_length=100)
    administration = forms.ModelChoiceField(label=_("Tildel til"), queryset=None)

    def __init__(self, *args, organisation, **kwargs):
        from kanal.channels.models import Channel

        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(
            organisation=organisation)
        self.fields["administration"].queryset = Administration.objects.filter(
            organisation=organisation)
