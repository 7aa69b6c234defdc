"""Kanal's own record of its social media: numbers as the networks named them,
and the day rollups every dashboard reads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kanal.channels.models import Network


class MetricKind(models.TextChoices):
    """Kanal's normalised family of a network's metric (it survives renames)."""

    FOLLOWERS = "followers", _("Følgere")
    VIEWS = "views", _("Visninger")
    REACH = "reach", _("Rækkevidde")
    ENGAGEMENT = "engagement", _("Engagement")
    LIKES = "likes", _("Reaktioner")
    COMMENTS = "comments", _("Kommentarer")
    SHARES = "shares", _("Delinger")
    CLICKS = "clicks", _("Klik")
    SAVES = "saves", _("Gemt")
    PROFILE_VISITS = "profile_visits", _("Profilbesøg")
    VIDEO_VIEWS = "video_views", _("Videovisninger")
    OTHER = "other", _("Andet")


#: Kinds that count as a post's interactions (engagement).
INTERACTION_KINDS = ("likes", "comments", "shares", "saves")


class AccountSample(models.Model):
    """One account number of a channel on one day (the day's last reading).

    ``value`` is None and ``available`` False when the network no longer
    offers a metric it gave before: unavailable, never zero.
    """

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    name = models.CharField(max_length=120)  # the network's own name
    kind = models.CharField(max_length=20, choices=MetricKind.choices)
    api_version = models.CharField(max_length=40, blank=True)
    value = models.BigIntegerField(null=True)
    available = models.BooleanField(default=True)
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "day", "name"], name="insights_account_day_name"
            )
        ]
        indexes = [models.Index(fields=["channel", "kind", "day"])]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.day} {self.name}"


class PostSample(models.Model):
    """One reading of one number of a published post (a time series)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    publication = models.ForeignKey(
        "publishing.Publication", on_delete=models.CASCADE, related_name="+"
    )
    taken_at = models.DateTimeField()
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=MetricKind.choices)
    api_version = models.CharField(max_length=40, blank=True)
    value = models.BigIntegerField(null=True)
    available = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["publication", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.publication_id} {self.taken_at:%Y-%m-%d %H:%M} {self.name}"


class PostTracking(models.Model):
    """When a published post is sampled next, and its latest numbers.

    ``latest`` (kind -> value) saves rollups from reading the samples."""

    publication = models.OneToOneField(
        "publishing.Publication", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    next_due_at = models.DateTimeField(db_index=True)
    last_sampled_at = models.DateTimeField(null=True)
    latest = models.JSONField(default=dict)
    #: Names seen for this post, so a vanished one is recorded as unavailable.
    names_seen = models.JSONField(default=dict)  # name -> [kind, api_version]
    missing_since = models.DateTimeField(null=True)  # not on the network any more
    finished = models.BooleanField(default=False)
    # Copies for the top-posts list: ordered in the database, not in Python.
    published_at = models.DateTimeField(null=True)
    engagement = models.BigIntegerField(null=True)
    views = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["published_at", "engagement"])]

    def __str__(self) -> str:
        return f"{self.publication_id}"


class ChannelCollection(models.Model):
    """Per channel: what collection knows (names seen, backfill, rate limit)."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    names_seen = models.JSONField(default=dict)  # name -> [kind, api_version]
    last_day = models.DateField(null=True)
    last_collected_at = models.DateTimeField(null=True)
    backfilled_at = models.DateTimeField(null=True)
    wait_until = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.channel_id}"


class RawResponse(models.Model):
    """What an adapter answered, kept ``RAW_RETENTION_DAYS`` (then pruned)."""

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    taken_at = models.DateTimeField(db_index=True)
    body = models.JSONField()

    def __str__(self) -> str:
        return f"{self.channel_id} {self.taken_at:%Y-%m-%d %H:%M}"


class Dimension(models.TextChoices):
    CHANNEL = "channel", _("Kanal")
    CATEGORY = "category", _("Indholdskategori")
    PURPOSE = "purpose", _("Formål")
    ADMINISTRATION = "administration", _("Forvaltning")
    CAMPAIGN = "campaign", _("Kampagne")


class DailyRollup(models.Model):
    """One day × one dimension value: what the dashboards read.

    Post numbers (views, reach, interactions, clicks) are each post's latest
    numbers, on the day it was published; account numbers (followers, their
    change, profile visits, the account's views) only for channels. None is
    "ingen data", never zero.
    """

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    key = models.CharField(max_length=200)
    label = models.CharField(max_length=200)
    network = models.CharField(max_length=20, blank=True)
    posts = models.PositiveIntegerField(default=0)
    views = models.BigIntegerField(null=True)
    reach = models.BigIntegerField(null=True)
    engagement = models.BigIntegerField(null=True)
    clicks = models.BigIntegerField(null=True)
    followers = models.BigIntegerField(null=True)
    followers_change = models.BigIntegerField(null=True)
    account_views = models.BigIntegerField(null=True)
    profile_visits = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "day", "dimension", "key"],
                name="insights_rollup_day_key",
            )
        ]
        indexes = [models.Index(fields=["organisation", "dimension", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.label}"


class DirtyDay(models.Model):
    """A day whose rollups must be recomputed. Written in the same transaction
    as the numbers that changed it; deleted in the transaction that
    recomputes it, so a crash in between leaves it to the next run."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    # Bumped by every change: the rollup deletes the row only if nothing
    # changed while it computed.
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "day"], name="insights_dirty_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("I kø")
    RUNNING = "running", _("I gang")
    DONE = "done", _("Klar")
    FAILED = "failed", _("Fejlet")


class ExportJob(models.Model):
    """A long export made in the background, with its progress and, when it
    is done, the file to download (only by the member who asked)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        "organisations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    table = models.CharField(max_length=40)
    file_format = models.CharField(max_length=4)  # csv | xlsx
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    content = models.BinaryField(null=True, editable=False)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.table}.{self.file_format} ({self.status})"


class HashtagUse(models.Model):
    """One public post found using a tracked hashtag. Kept once per
    (network, post, tag) however often it is found: de-duplicated. Only the
    permalink, author, time and a text excerpt are kept, never the image."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    network = models.CharField(max_length=20, choices=Network.choices)
    tag = models.CharField(max_length=100)  # lower case, without "#"
    remote_id = models.CharField(max_length=200)
    author_name = models.CharField(max_length=200, blank=True)
    text = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    posted_at = models.DateTimeField(null=True)
    found_at = models.DateTimeField()
    day = models.DateField()  # posted_at's day (found_at's without it)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "network", "tag", "remote_id"],
                name="insights_hashtag_use_once",
            )
        ]
        indexes = [models.Index(fields=["organisation", "tag", "day"])]

    def __str__(self) -> str:
        return f"#{self.tag} {self.network} {self.remote_id}"


class HashtagDay(models.Model):
    """Uses of one hashtag on one network on one day (what the page reads)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    network = models.CharField(max_length=20)
    tag = models.CharField(max_length=100)
    day = models.DateField()
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "network", "tag", "day"],
                name="insights_hashtag_day",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.tag} {self.network} {self.day}: {self.uses}"


class HashtagSearch(models.Model):
    """When a channel's account first searched a hashtag in the current
    window (Instagram counts 30 unique hashtags per rolling 7 days, and
    searching one again neither counts again nor resets its timer), and when
    it searched it last (on every network: the tag searched longest ago goes
    first in the next run)."""

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    tag = models.CharField(max_length=100)
    first_searched_at = models.DateTimeField()
    last_searched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "tag"], name="insights_hashtag_search_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} #{self.tag}"


class ReportCadence(models.TextChoices):
    MONTHLY = "monthly", _("Månedsrapport")
    QUARTERLY = "quarterly", _("Kvartalsrapport")


class ReportSubscription(models.Model):
    """A member who wants the monthly (quarterly) report by e-mail."""

    membership = models.ForeignKey(
        "organisations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    cadence = models.CharField(max_length=10, choices=ReportCadence.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "cadence"], name="insights_report_subscription"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.cadence}"


class RenderedReport(models.Model):
    """One period's report, rendered once and kept: every subscriber gets
    these bytes, and a run after a crash does not render it again."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    cadence = models.CharField(max_length=10, choices=ReportCadence.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    content = models.BinaryField(editable=False)
    file_name = models.CharField(max_length=200)
    rendered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "cadence", "period_start"],
                name="insights_rendered_report_once",
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class ReportDelivery(models.Model):
    """A period's report sent to one member: at most once (the unique
    constraint is the claim; a second run, or one racing this one, finds it)."""

    membership = models.ForeignKey(
        "organisations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    report = models.ForeignKey(RenderedReport, on_delete=models.CASCADE,
                               related_name="deliveries")
    cadence = models.CharField(max_length=10, choices=ReportCadence.choices)
    period_start = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "cadence", "period_start"],
                name="insights_report_delivered_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.cadence} {self.period_start}"
