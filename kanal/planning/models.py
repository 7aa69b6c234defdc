"""Posts, their per-channel variants and immutable revisions, media, campaigns,
comments and calendar feeds."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PostStatus(models.TextChoices):
    PROPOSAL = "proposal", _("Forslag")
    CHANGES_REQUESTED = "changes_requested", _("Forslag: ændringer ønsket")
    DECLINED = "declined", _("Forslag afvist")
    DRAFT = "draft", _("Kladde")
    IN_REVIEW = "in_review", _("Til godkendelse")
    APPROVED = "approved", _("Godkendt")
    SCHEDULED = "scheduled", _("Planlagt")
    PUBLISHED = "published", _("Udgivet")
    PARTIALLY_PUBLISHED = "partially_published", _("Delvist udgivet")
    FAILED = "failed", _("Fejlet")
    MISSED = "missed", _("Ikke nået")
    CANCELLED = "cancelled", _("Annulleret")


PROPOSAL_STATES = frozenset(
    {PostStatus.PROPOSAL, PostStatus.CHANGES_REQUESTED, PostStatus.DECLINED}
)
EDITABLE_STATES = frozenset(
    {
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
    }
)
FINISHED_STATES = frozenset(
    {
        PostStatus.PUBLISHED,
        PostStatus.PARTIALLY_PUBLISHED,
        PostStatus.FAILED,
        PostStatus.MISSED,
        PostStatus.CANCELLED,
        PostStatus.DECLINED,
    }
)
# What counts as "planned" in the calendar, cadence and report.
PLANNED_STATES = frozenset(
    {
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
        PostStatus.PUBLISHED,
        PostStatus.PARTIALLY_PUBLISHED,
        PostStatus.FAILED,
        PostStatus.MISSED,
    }
)
PUBLISHED_STATES = frozenset({PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED})
# Not out yet, but on its way (or being prepared).
UPCOMING_STATES = frozenset(
    {
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
    }
)


class Outcome:
    """What became of one variant, for every count of output."""

    PUBLISHED = "published"
    PLANNED = "planned"
    NOT_PUBLISHED = "not_published"


def variant_outcome(post_status: str, publication_status: str) -> str | None:
    """``Outcome`` of a variant from its post's status and its latest
    publication's status; None for what never was meant to go out
    (proposals, declined, cancelled).

    Only a variant whose publication went out counts as published: a
    partially published post's other variants, and failed or missed ones,
    are "not published", however the post as a whole is labelled.
    """
    if publication_status == "published":
        return Outcome.PUBLISHED
    if post_status == PostStatus.PUBLISHED and not publication_status:
        # Fully published (every live variant went out), recorded before
        # variants carried their publication's status.
        return Outcome.PUBLISHED
    if post_status in UPCOMING_STATES and publication_status not in {
        "failed",
        "missed",
        "cancelled",
    }:
        return Outcome.PLANNED
    if post_status in UPCOMING_STATES or post_status in PLANNED_STATES:
        return Outcome.NOT_PUBLISHED
    return None


class Campaign(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(_("navn"), max_length=200)
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    # utm_campaign on tracked links; empty means the name, slugified.
    utm_campaign = models.CharField(
        _("kampagnenavn i links"), max_length=100, blank=True
    )
    starts_on = models.DateField(_("fra"), null=True, blank=True)
    ends_on = models.DateField(_("til"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("kampagne")
        verbose_name_plural = _("kampagner")

    def __str__(self) -> str:
        return self.name

    @property
    def tracking_name(self) -> str:
        """utm_campaign: as set, else the name in lower case ASCII with
        hyphens (æ, ø, å written ae, oe, aa)."""
        from django.utils.text import slugify

        if self.utm_campaign:
            return self.utm_campaign
        name = self.name.lower()
        for letter, spelled in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
            name = name.replace(letter, spelled)
        return slugify(name)


class LinkTracking(models.Model):
    """UTM parameters added to links, so the organisation's web statistics
    see which post brought a visitor.

    One row without a channel is the organisation's rule; a row for a
    channel replaces it for that channel.
    """

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="link_tracking",
    )
    channel = models.ForeignKey(
        "channels.Channel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="link_tracking",
    )
    enabled = models.BooleanField(_("tilføj UTM-parametre"), default=True)
    source = models.CharField(
        _("utm_source"),
        max_length=100,
        blank=True,
        help_text=_("Tom: netværkets navn, fx facebook."),
    )
    medium = models.CharField(_("utm_medium"), max_length=100, default="social")
    campaign_default = models.CharField(
        _("utm_campaign uden kampagne"),
        max_length=100,
        blank=True,
        help_text=_("Bruges, når opslaget ikke hører til en kampagne. Tom: ingen."),
    )
    domains = models.JSONField(
        _("kun links til disse domæner"),
        default=list,
        blank=True,
        help_text=_("Fx kk.dk (gælder også underdomæner). Tom: alle links."),
    )
    replace_existing = models.BooleanField(
        _("erstat UTM-parametre, der allerede står i linket"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "channel"],
                name="link_tracking_per_channel",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(channel__isnull=True),
                name="link_tracking_per_organisation",
            ),
        ]
        verbose_name = _("linksporing")
        verbose_name_plural = _("linksporing")

    def __str__(self) -> str:
        return f"UTM {self.channel or self.organisation}"


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Billede")
    VIDEO = "video", _("Video")


class MediaTag(models.Model):
    """A word to find media by (a place, an event, a theme)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("navn"), max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="media_tag_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class MediaAsset(models.Model):
    """An uploaded image or video with its accessibility and rights data."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="media"
    )
    administration = models.ForeignKey(
        "organisations.Administration",
        on_delete=models.PROTECT,
        related_name="media",
        verbose_name=_("forvaltning"),
    )
    file = models.FileField(_("fil"), upload_to="media/%Y/%m/", max_length=300)
    thumbnail = models.FileField(upload_to="thumbs/%Y/%m/", max_length=300, blank=True)
    kind = models.CharField(_("type"), max_length=10, choices=MediaKind.choices)
    mime_type = models.CharField(max_length=100)
    original_name = models.CharField(_("filnavn"), max_length=255)
    size = models.PositiveBigIntegerField(_("størrelse"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    alt_text = models.TextField(_("alternativ tekst"), max_length=1500, blank=True)
    credit = models.CharField(_("fotograf/kreditering"), max_length=200, blank=True)
    identifiable_people_consent = models.BooleanField(
        _("samtykke fra genkendelige personer"), default=False
    )
    shows_identifiable_people = models.BooleanField(
        _("viser genkendelige personer"), default=False
    )
    rights_expire_on = models.DateField(_("rettigheder udløber"), null=True, blank=True)
    converted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(
        MediaTag, blank=True, related_name="media", verbose_name=_("mærker")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("medie")
        verbose_name_plural = _("medier")

    def __str__(self) -> str:
        return self.original_name

    @property
    def aspect_ratio(self) -> float | None:
        if self.width and self.height:
            return self.width / self.height
        return None

    def rights_expired(self, on) -> bool:
        return self.rights_expire_on is not None and self.rights_expire_on < on

    def snapshot(self) -> dict:
        """The frozen description a revision and a publication carry."""
        expires = None
        if self.rights_expire_on is not None:
            from datetime import datetime, time, timedelta
            from zoneinfo import ZoneInfo

            # Rights run to the end of the day named, Copenhagen time.
            end = datetime.combine(
                self.rights_expire_on + timedelta(days=1),
                time(0),
                tzinfo=ZoneInfo("Europe/Copenhagen"),
            )
            expires = end.isoformat()
        return {
            "rights_expire_at": expires,
            "id": self.pk,
            "path": self.file.name,
            "mime_type": self.mime_type,
            "alt_text": self.alt_text,
            "width": self.width,
            "height": self.height,
            "kind": self.kind,
        }


class Post(models.Model):
    """One piece of content, published as one variant per target channel."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="posts"
    )
    owner_administration = models.ForeignKey(
        "organisations.Administration",
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("forvaltning"),
    )
    title = models.CharField(_("overskrift"), max_length=200)
    shared_text = models.TextField(_("fælles tekst"), max_length=5000, blank=True)
    category = models.CharField(_("indholdskategori"), max_length=100, blank=True)
    purposes = models.JSONField(_("formål"), default=list, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
        verbose_name=_("kampagne"),
    )
    notes = models.TextField(_("interne noter"), max_length=5000, blank=True)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=PostStatus.choices,
        default=PostStatus.DRAFT,
        db_index=True,
    )
    planned_at = models.DateTimeField(_("planlagt tid"), null=True, blank=True)
    # Optimistic lock: every write bumps it; a form carries the value it saw.
    version = models.PositiveIntegerField(default=1)
    # Proposal (from a contributor)
    proposal_reason = models.TextField(_("hvorfor"), max_length=3000, blank=True)
    wish_from = models.DateField(_("ønsket fra"), null=True, blank=True)
    wish_to = models.DateField(_("ønsket til"), null=True, blank=True)
    wished_channels = models.ManyToManyField(
        "channels.Channel", blank=True, related_name="+"
    )
    event_details = models.TextField(_("begivenhed"), max_length=3000, blank=True)
    proposal_media = models.ManyToManyField(MediaAsset, blank=True, related_name="+")
    decision_reason = models.TextField(_("begrundelse"), max_length=3000, blank=True)
    # People and moments
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When it was last sent for approval: whoever wrote a revision since then
    # may not approve it (four eyes).
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_warning_sent_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_at", "pk"]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["organisation", "planned_at"]),
        ]
        verbose_name = _("opslag")
        verbose_name_plural = _("opslag")

    def __str__(self) -> str:
        return self.title

    @property
    def is_proposal(self) -> bool:
        return self.status in PROPOSAL_STATES

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES


class Variant(models.Model):
    """A post as it goes out on one channel."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="variants"
    )
    text = models.TextField(_("tekst"), max_length=10000, blank=True)
    link = models.URLField(_("link"), max_length=1000, blank=True)
    media = models.ManyToManyField(MediaAsset, blank=True, related_name="variants")
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    first_comment = models.TextField(_("første kommentar"), max_length=2200, blank=True)
    planned_at = models.DateTimeField(_("planlagt tid"), null=True, db_index=True)
    current_revision = models.ForeignKey(
        "VariantRevision", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_revision = models.ForeignKey(
        "VariantRevision", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    publication_status = models.CharField(max_length=30, blank=True)
    published_url = models.URLField(max_length=1000, blank=True)

    class Meta:
        ordering = ["channel__network", "pk"]
        # The calendar reads a date range per channel.
        indexes = [
            models.Index(fields=["channel", "planned_at"], name="variant_channel_time")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "channel"], name="variant_post_channel_unique"
            )
        ]
        verbose_name = _("variant")
        verbose_name_plural = _("varianter")

    def __str__(self) -> str:
        return f"{self.post} · {self.channel}"

    @property
    def publication_status_label(self) -> str:
        """The publication's state in the reader's language ("" before any)."""
        from kanal.publishing.models import PublicationStatus

        if not self.publication_status:
            return ""
        try:
            return PublicationStatus(self.publication_status).label
        except ValueError:
            return self.publication_status


class VariantRevisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Revisions are immutable.")


class VariantRevision(models.Model):
    """An immutable copy of a variant as saved; the approved one goes out."""

    variant = models.ForeignKey(
        Variant, on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    link = models.URLField(max_length=1000, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    media = models.JSONField(default=list, blank=True)
    first_comment = models.TextField(blank=True)
    planned_at = models.DateTimeField(null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VariantRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["variant", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "number"], name="revision_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.variant} rev. {self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Revisions are immutable.")
        super().save(*args, **kwargs)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("kommentar"), max_length=3000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:50]


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A secret iCal address of the plan, as one member may see it."""

    membership = models.ForeignKey(
        "organisations.Membership",
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"iCal for {self.membership}"
