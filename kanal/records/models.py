"""The record: what the municipality said and received on its social media,
kept immutable, with content hashes, independent of later edits in Kanal.

A ``RecordEntry`` is one version of one thing (a published post, a first
comment, a citizen comment, an answer, a moderation action). A change seen
later on the network (an edited or deleted comment) is a new version with the
same ``source_key``; nothing is overwritten. Only the retention action
removes entries, and it leaves a ``RecordTombstone`` for each.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    POST = "post", _("Udgivet opslag")
    FIRST_COMMENT = "first_comment", _("Første kommentar")
    COMMENT = "comment", _("Borgerkommentar")
    MESSAGE = "message", _("Borgerbesked")
    REPLY = "reply", _("Svar")
    MODERATION = "moderation", _("Moderering")
    ERASURE = "erasure", _("Anmodning om sletning")


class RecordChange(models.TextChoices):
    CREATED = "created", _("Oprettet")
    EDITED = "edited", _("Ændret")
    DELETED = "deleted", _("Slettet på netværket")


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Record entries are immutable.")

    def delete(self):
        raise TypeError("Record entries are deleted only by the retention action.")

    def purge(self):
        """Delete for good; only ``retention`` calls this, after writing the
        tombstones in the same transaction."""
        return models.QuerySet.delete(self)


class RecordEntry(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("type"), max_length=20, choices=RecordKind.choices)
    #: Which app fed it ("publishing", "inbox"), and its stable key there
    #: ("publication:17"); versions share the key.
    source = models.CharField(max_length=40)
    source_key = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    change = models.CharField(
        _("ændring"),
        max_length=10,
        choices=RecordChange.choices,
        default=RecordChange.CREATED,
    )
    channel = models.ForeignKey(
        "channels.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    administration = models.ForeignKey(
        "organisations.Administration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    network = models.CharField(_("netværk"), max_length=20, blank=True)
    #: The citizen (their handle or name on the network) for received items,
    #: or the member who wrote it for what the municipality said.
    person = models.CharField(_("person"), max_length=200, blank=True, db_index=True)
    case_ref = models.CharField(_("sagsnummer"), max_length=100, blank=True)
    text = models.TextField(_("tekst"), blank=True)
    #: ``text`` case-folded, searched with a literal LIKE: SQLite's LIKE folds
    #: only ASCII letters, so "ØL" would not find "øl" in ``text``.
    search_text = models.TextField(blank=True, editable=False)
    permalink = models.URLField(_("adresse"), max_length=1000, blank=True)
    #: Everything recorded, in the canonical form the hash covers (the media
    #: with their SHA-256).
    content = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    content_hash = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(_("tidspunkt"))
    recorded_at = models.DateTimeField(_("journaliseret"))

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = _("journalpost")
        verbose_name_plural = _("journalposter")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source_key", "version"],
                name="record_entry_version_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "occurred_at"], name="record_when"),
            models.Index(fields=["organisation", "kind", "occurred_at"],
                         name="record_kind_when"),
            models.Index(fields=["organisation", "source_key"], name="record_key"),
        ]

    def __str__(self) -> str:
        return f"{self.source_key} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Record entries are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Record entries are deleted only by the retention action.")

    @property
    def media(self) -> list[dict]:
        return list(self.content.get("media") or [])


class PostReadback(models.Model):
    """When a published post is next read back from its network, to record
    edits and deletions made there (``kanal.records.readback``). Scheduling
    state only: what was seen goes into ``RecordEntry`` versions."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    publication = models.OneToOneField(
        "publishing.Publication", on_delete=models.CASCADE, related_name="+"
    )
    #: The record's key (``publication:<id>``) and the post's id on the
    #: network, as published.
    source_key = models.CharField(max_length=200)
    remote_id = models.CharField(max_length=200)
    published_at = models.DateTimeField()
    #: None once nothing more is to be read (deleted on the network, too old,
    #: or the network cannot be asked).
    next_read_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    reads = models.PositiveIntegerField(default=0)
    #: When the network was first seen saying the post is gone.
    gone_at = models.DateTimeField(null=True, blank=True)
    #: The last failed read's message (cleared by a good read); a failure is
    #: retried and never recorded.
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["next_read_at"], name="readback_due")]

    def __str__(self) -> str:
        return f"readback {self.source_key}"


class RecordMedia(models.Model):
    """A copy of a media file as it went out, stored once by its SHA-256, so
    the record does not depend on the media library keeping it."""

    sha256 = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=300)
    mime_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256


class RecordTombstone(models.Model):
    """That an entry was deleted, why, when and by which policy (never its
    content)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    #: The deleted entry's id; unique, so a resumed job cannot delete twice.
    entry_id = models.BigIntegerField(unique=True)
    source_key = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    content_hash = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    deleted_at = models.DateTimeField()
    policy = models.CharField(_("politik"), max_length=200)
    reason = models.CharField(_("begrundelse"), max_length=300)
    run = models.ForeignKey(
        "RetentionRun", null=True, blank=True, on_delete=models.PROTECT,
        related_name="tombstones",
    )

    class Meta:
        ordering = ["-deleted_at", "-pk"]
        verbose_name = _("slettet journalpost")
        verbose_name_plural = _("slettede journalposter")

    def __str__(self) -> str:
        return f"{self.source_key} v{self.version} ({self.policy})"


class RetentionRule(models.Model):
    """How long one kind of record is kept in one organisation."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("type"), max_length=20, choices=RecordKind.choices)
    keep_days = models.PositiveIntegerField(_("opbevares i dage"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind"], name="retention_rule_unique"
            )
        ]
        verbose_name = _("opbevaringsregel")
        verbose_name_plural = _("opbevaringsregler")

    def __str__(self) -> str:
        return f"{self.kind}: {self.keep_days}"


class LegalHold(models.Model):
    """Nothing it covers is deleted while it is in force: a case (sagsnummer),
    a person, and/or a period. Empty fields do not narrow it. It covers the
    record's entries and the inbox's items alike (the one place a hold is
    placed; ``kanal.records.retention``)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("begrundelse"), max_length=300)
    case_ref = models.CharField(_("sagsnummer"), max_length=100, blank=True)
    person = models.CharField(_("person"), max_length=200, blank=True)
    period_start = models.DateTimeField(_("fra"), null=True, blank=True)
    period_end = models.DateTimeField(_("til"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("retligt hold")
        verbose_name_plural = _("retlige hold")

    def __str__(self) -> str:
        return self.reason

    @property
    def is_active(self) -> bool:
        return self.released_at is None

    def q(self) -> models.Q:
        """The entries this hold covers."""
        q = models.Q()
        if self.case_ref:
            q &= models.Q(case_ref=self.case_ref)
        if self.person:
            q &= models.Q(person__iexact=self.person)
        if self.period_start:
            q &= models.Q(occurred_at__gte=self.period_start)
        if self.period_end:
            q &= models.Q(occurred_at__lte=self.period_end)
        return q


class RetentionRun(models.Model):
    """One run of the deletion job (or erasure), so a run killed half way is
    seen, and the next one picks up what is left."""

    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    deleted = models.PositiveIntegerField(default=0)
    held_back = models.PositiveIntegerField(default=0)
    #: Inbox items whose personal data the run removed.
    inbox_redacted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"retention run {self.pk}"


class ErasureRequest(models.Model):
    """A citizen's request for erasure, handled as one action."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    #: SHA-256 of the person as given, so the request itself keeps no name.
    person_hash = models.CharField(max_length=64)
    reason = models.CharField(_("begrundelse"), max_length=300)
    deleted = models.PositiveIntegerField(default=0)
    held_back = models.PositiveIntegerField(default=0)
    #: The person's inbox items redacted, and those a hold kept.
    inbox_redacted = models.PositiveIntegerField(default=0)
    inbox_held_back = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"erasure {self.pk}"


class WithholdingGround(models.TextChoices):
    """Legal grounds for withholding (offentlighedsloven, LBK nr. 145 af
    24/02/2020), as an access decision cites them."""

    THIRD_PARTY = "ofl_30_1", _(
        "Oplysninger om enkeltpersoners private forhold "
        "(offentlighedsloven § 30, nr. 1)"
    )
    BUSINESS = "ofl_30_2", _(
        "Tekniske indretninger, fremgangsmåder eller forretningsforhold "
        "(offentlighedsloven § 30, nr. 2)"
    )
    INTERNAL = "ofl_23", _("Interne dokumenter (offentlighedsloven § 23)")
    MINISTER = "ofl_24", _("Ministerbetjening (offentlighedsloven § 24)")
    PUBLIC_SAFETY = "ofl_31", _("Statens sikkerhed (offentlighedsloven § 31)")
    CRIME = "ofl_32", _(
        "Forebyggelse, efterforskning og forfølgning af lovovertrædelser "
        "(offentlighedsloven § 33, nr. 1)"
    )
    PRIVATE_INTEREST = "ofl_33_5", _(
        "Væsentlige hensyn til private eller offentlige interesser "
        "(offentlighedsloven § 33, nr. 5)"
    )
    CONFIDENTIALITY = "ofl_35", _("Særlig tavshedspligt (offentlighedsloven § 35)")


class AccessRequestStatus(models.TextChoices):
    OPEN = "open", _("Under behandling")
    CLOSED = "closed", _("Afsluttet")


class AccessRequest(models.Model):
    """A request for access (aktindsigt): what to search, and what was found."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("titel"), max_length=200)
    requester = models.CharField(_("anmoder"), max_length=200, blank=True)
    case_ref = models.CharField(_("sagsnummer"), max_length=100, blank=True)
    period_start = models.DateField(_("fra dato"))
    period_end = models.DateField(_("til dato"))
    channels = models.ManyToManyField("channels.Channel", blank=True, related_name="+")
    administrations = models.ManyToManyField(
        "organisations.Administration", blank=True, related_name="+"
    )
    search_words = models.JSONField(_("søgeord"), default=list, blank=True)
    persons = models.JSONField(_("personer"), default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=AccessRequestStatus.choices,
        default=AccessRequestStatus.OPEN,
    )
    found = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("aktindsigt")
        verbose_name_plural = _("aktindsigter")

    def __str__(self) -> str:
        return self.title


class AccessRequestItem(models.Model):
    """One entry found for a request, and the officer's decision on it."""

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="items"
    )
    # The retention job never deletes an entry of a request under treatment;
    # once the request is closed, a deleted entry leaves its request too.
    entry = models.ForeignKey(RecordEntry, on_delete=models.CASCADE, related_name="+")
    withheld = models.BooleanField(_("undtaget"), default=False)
    ground = models.CharField(
        _("hjemmel"), max_length=20, choices=WithholdingGround.choices, blank=True
    )
    note = models.CharField(_("bemærkning"), max_length=500, blank=True)
    #: ``[{"text": ..., "ground": ...}]``: each passage blacked out in the text.
    redactions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["entry__occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "entry"], name="access_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.entry_id}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("I kø")
    RUNNING = "running", _("I gang")
    DONE = "done", _("Klar")
    FAILED = "failed", _("Fejlet")


class AccessExport(models.Model):
    """One export of a request (PDF for the requester + ZIP archive), made in
    the background; every officer's export is its own row and files."""

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="exports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    pdf_path = models.CharField(max_length=300, blank=True)
    zip_path = models.CharField(max_length=300, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    zip_sha256 = models.CharField(max_length=64, blank=True)
    missing_media = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"export {self.pk}"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == ExportStatus.DONE else 0
        return min(100, round(100 * self.done / self.total))


class FilingStatus(models.TextChoices):
    WAITING = "waiting", _("Venter")
    FILED = "filed", _("Journaliseret i sagssystemet")
    FAILED = "failed", _("Fejlet")


class Filing(models.Model):
    """An entry marked for filing in the case system, and its receipt once
    the files are in the filing folder."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    # Kept (with its receipt) when retention later deletes a filed entry;
    # an entry still waiting to be filed is never deleted.
    entry = models.OneToOneField(
        RecordEntry, null=True, on_delete=models.SET_NULL, related_name="filing"
    )
    source_key = models.CharField(max_length=200, blank=True)
    case_ref = models.CharField(_("sagsnummer"), max_length=100, blank=True)
    status = models.CharField(
        max_length=10, choices=FilingStatus.choices, default=FilingStatus.WAITING
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    marked_at = models.DateTimeField()
    filed_at = models.DateTimeField(null=True, blank=True)
    #: What was written and its checksums: ``{"folder", "files": {name: sha}}``.
    receipt = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-marked_at", "-pk"]
        verbose_name = _("journalisering")
        verbose_name_plural = _("journaliseringer")
        indexes = [models.Index(fields=["status", "marked_at"],
                                name="filing_status")]

    def __str__(self) -> str:
        return f"filing {self.entry_id}"
