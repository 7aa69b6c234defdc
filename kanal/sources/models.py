"""Feeds the desk follows (sources), what they hold (items) and the posts
Kanal suggests from them (suggestions)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import reasons


class SourceKind(models.TextChoices):
    ICAL = "ical", _("Kalender (iCalendar, .ics)")
    RSS = "rss", _("Nyheder (RSS)")
    ATOM = "atom", _("Nyheder (Atom)")
    JSON = "json", _("Begivenheder (JSON)")
    PARTNER = "partner", _("Partners opslag (konto på et socialt netværk)")


#: Kinds whose items are events (with a start); the others are news.
EVENT_KINDS = frozenset({SourceKind.ICAL, SourceKind.JSON})


class SourceStatus(models.TextChoices):
    NEW = "new", _("Ikke hentet endnu")
    OK = "ok", _("Hentet")
    FAILING = "failing", _("Fejler")
    PAUSED = "paused", _("Sat på pause")


class Source(models.Model):
    """A feed of events or news that Kanal fetches on a schedule."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    owner_administration = models.ForeignKey(
        "organisations.Administration",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ejer (forvaltning)"),
    )
    name = models.CharField(_("navn"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=SourceKind.choices)
    url = models.URLField(_("adresse"), max_length=1000, blank=True)
    #: A partner source: the account followed, read through this channel's
    #: connection (a network that offers ``account_posts``).
    partner_channel = models.ForeignKey(
        "channels.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("læses gennem kanalen"),
    )
    partner_account = models.CharField(
        _("partnerens konto"), max_length=200, blank=True
    )
    #: Only the partner's posts with one of these words become suggestions
    #: (all of them without any).
    keywords = models.JSONField(_("nøgleord"), default=list, blank=True)
    #: Where the last reading of the partner's posts ended (the network's own).
    cursor = models.CharField(max_length=200, blank=True)
    json_mapping = models.JSONField(_("felter i JSON"), default=dict, blank=True)
    default_channels = models.ManyToManyField(
        "channels.Channel",
        blank=True,
        related_name="+",
        verbose_name=_("kanaler"),
    )
    category = models.CharField(_("indholdskategori"), max_length=100, blank=True)
    purposes = models.JSONField(_("formål"), default=list, blank=True)
    allow_private = models.BooleanField(
        _("må hente fra interne adresser"), default=False
    )
    fetch_every_minutes = models.PositiveIntegerField(
        _("hent hvert (minutter)"), default=60
    )
    status = models.CharField(
        max_length=10, choices=SourceStatus.choices, default=SourceStatus.NEW
    )
    #: Why the last fetch failed: a message id and its values (``reasons``),
    #: read in the reader's language.
    last_error = models.TextField(blank=True)
    last_error_params = models.JSONField(default=dict, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("kilde")
        verbose_name_plural = _("kilder")

    def __str__(self) -> str:
        return self.name

    @property
    def error_message(self) -> str:
        return reasons.read(self.last_error, self.last_error_params)

    @property
    def is_events(self) -> bool:
        return self.kind in EVENT_KINDS

    @property
    def is_partner(self) -> bool:
        return self.kind == SourceKind.PARTNER


class SourceItem(models.Model):
    """One event occurrence or one news item as the feed last described it."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="items")
    guid = models.CharField(max_length=500)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    link = models.URLField(max_length=1000, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    location = models.CharField(max_length=300, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    all_day = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)
    #: A partner's post: its id on the network and who wrote it (credit).
    remote_id = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    fingerprint = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "guid"], name="sources_item_unique_guid"
            )
        ]

    def __str__(self) -> str:
        return self.title


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("Forslag")
    ACCEPTED = "accepted", _("Taget i brug")
    DISMISSED = "dismissed", _("Afvist")
    WITHDRAWN = "withdrawn", _("Trukket tilbage")


class SuggestionKind(models.TextChoices):
    POST = "post", _("Opslag")
    REPOST = "repost", _("Deling af partnerens opslag")


class Suggestion(models.Model):
    """A post Kanal proposes for one channel from one item."""

    item = models.ForeignKey(
        SourceItem, on_delete=models.CASCADE, related_name="suggestions"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=10,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.OPEN,
        db_index=True,
    )
    kind = models.CharField(
        max_length=10, choices=SuggestionKind.choices, default=SuggestionKind.POST
    )
    text = models.TextField(_("tekst"), max_length=5000)
    link = models.URLField(_("link"), max_length=1000, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    planned_at = models.DateTimeField(_("foreslået tid"), db_index=True)
    #: An editor changed the text or time: a changed feed no longer rewrites it.
    edited = models.BooleanField(default=False)
    #: The item changed since the suggestion was made or edited.
    item_changed = models.BooleanField(default=False)
    post = models.ForeignKey(
        "planning.Post",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: A repost made from the suggestion: its address on the network.
    repost_url = models.URLField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "channel"], name="sources_suggestion_one_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.channel}"


class Tone(models.TextChoices):
    FRIENDLY = "friendly", _("Venlig")
    FORMAL = "formal", _("Formel")
    BRIEF = "brief", _("Kort")


class ChannelTone(models.Model):
    """How Kanal words its suggestions for one channel (friendly without
    a row)."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    tone = models.CharField(
        _("tone i forslag"), max_length=10, choices=Tone.choices, default=Tone.FRIENDLY
    )

    def __str__(self) -> str:
        return f"{self.channel}: {self.tone}"
