"""An organisation's inbox settings (opening hours, response target,
guidance footer, retention, personal-data hiding) and its assignment rules."""

from __future__ import annotations

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kanal import untrusted


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


#: The days a Danish municipality's offices close beyond the public holidays
#: (``holidays``): Juleaftensdag, Nytårsaftensdag and Grundlovsdag, as
#: "MM-DD" (every year); a single date is "YYYY-MM-DD".



#: The days a Danish municipality's offices close beyond the public holidays
#: (``holidays``): Juleaftensdag, Nytårsaftensdag and Grundlovsdag, as
#: "MM-DD" (every year); a single date is "YYYY-MM-DD".
DEFAULT_CLOSED_DAYS = ("12-24", "12-31", "06-05")



def default_closed_days() -> list[str]:
    return list(DEFAULT_CLOSED_DAYS)



DEFAULT_FOOTER = (
    "Svaret er vejledning og ikke en afgørelse. Skriv til os på kk.dk, hvis du "
    "har brug for en afgørelse."
)


#: The inbox period's bounds: never so short that a citizen's comment is
#: blanked before the desk has read and answered it, never so long that the
#: date arithmetic of the retention job overflows.



#: The inbox period's bounds: never so short that a citizen's comment is
#: blanked before the desk has read and answered it, never so long that the
#: date arithmetic of the retention job overflows.
RETENTION_MIN_DAYS = 30



RETENTION_MAX_DAYS = 36_500



class InboxSettings(models.Model):
    """An organisation's choices for its inbox."""

    organisation = models.OneToOneField(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="inbox_settings",
    )
    hide_personal_data = models.BooleanField(
        _("skjul kommentarer med personoplysninger på netværket med det samme"),
        default=False,
    )
    retention_days = models.PositiveIntegerField(
        _("slet borgeres personoplysninger efter (dage)"), default=365,
        validators=[
            MinValueValidator(RETENTION_MIN_DAYS, message=_(
                "Opbevaringsperioden skal være mindst %(limit_value)s dage, så "
                "ingen henvendelse slettes, før nogen har set og besvaret den.")),
            MaxValueValidator(RETENTION_MAX_DAYS, message=_(
                "Opbevaringsperioden kan højst være %(limit_value)s dage.")),
        ],
    )
    require_footer = models.BooleanField(
        _("sæt vejledningsteksten under hvert svar"), default=False
    )
    footer_text = models.CharField(
        _("vejledningstekst"), max_length=300, blank=True,
        default=DEFAULT_FOOTER,
    )
    opens_at = models.TimeField(_("åbningstid fra"), default=datetime.time(8, 0))
    closes_at = models.TimeField(_("åbningstid til"), default=datetime.time(16, 0))
    open_weekdays = models.JSONField(
        _("åbne ugedage"), default=default_weekdays,
        help_text=_("0 = mandag … 6 = søndag. Helligdage er altid lukket."),
    )
    closed_days = models.JSONField(
        _("lukkedage ud over helligdagene"), default=default_closed_days,
        blank=True,
        help_text=_("Dage hvor svarfristen står stille, ud over de offentlige "
                    "helligdage."),
    )
    target_hours = models.PositiveSmallIntegerField(
        _("svarfrist (arbejdstimer)"), default=8,
        help_text=_("Fx 8 = inden for én arbejdsdag, regnet i åbningstiden."),
    )
    house_rules_url = models.URLField(
        _("adresse på husreglerne"), max_length=300, blank=True
    )
    block_at_warning = models.PositiveSmallIntegerField(
        _("bloker ved advarsel nr."), default=3,
        help_text=_("Organisationens politik: ved denne advarsel blokeres "
                    "afsenderen på netværket (0 = ingen blokering)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("indbakkeindstillinger")
        verbose_name_plural = _("indbakkeindstillinger")

    def __str__(self) -> str:
        return f"Indbakke for {self.organisation_id}"



class AssignmentRule(models.Model):
    """Assign new conversations automatically: by channel, by a keyword in
    the citizen's text, or both. The first matching rule (by ``position``)
    wins."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE,
        related_name="inbox_rules",
    )
    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+", verbose_name=_("kanal"),
    )
    keyword = models.CharField(_("nøgleord"), max_length=100, blank=True)
    administration = models.ForeignKey(
        "organisations.Administration", on_delete=models.CASCADE,
        related_name="+", verbose_name=_("forvaltning"),
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("tildelingsregel")
        verbose_name_plural = _("tildelingsregler")

    def __str__(self) -> str:
        return f"Regel {self.pk}"

    def matches(self, channel_id: int, text: str) -> bool:
        """Whether the rule takes a new conversation on ``channel_id`` whose
        first item says ``text``, both read as shown (``untrusted.as_read``):
        an invisible character or an override inside the word hides
        nothing."""
        if self.channel_id and self.channel_id != channel_id:
            return False
        if self.keyword:
            keyword = untrusted.as_read(self.keyword)
            # A keyword that reads as nothing (only invisible characters,
            # kept before the action refused it) is in every text: it
            # matches none, never every conversation.
            if not keyword or keyword not in untrusted.as_read(text):
                return False
        return bool(self.channel_id or self.keyword)

