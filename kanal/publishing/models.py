"""Publications (one approved variant revision on one channel) and crisis
mode.

The publication row is the truth: the worker claims it by an atomic state
change with a lease before any network call, and records the result on it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PublicationStatus(models.TextChoices):
    QUEUED = "queued", _("Planlagt")
    RETRYING = "retrying", _("Prøver igen")
    WAITING = "waiting", _("Venter")
    UNKNOWN = "unknown", _("Afklares")
    PUBLISHING = "publishing", _("Udgives nu")
    PUBLISHED = "published", _("Udgivet")
    FAILED = "failed", _("Fejlet")
    MISSED = "missed", _("Ikke udgivet i tide")
    PAUSED = "paused", _("Sat på pause (krise)")
    CANCELLED = "cancelled", _("Annulleret")


#: The worker picks these up when ``due_at`` has come.
CLAIMABLE = (
    PublicationStatus.QUEUED,
    PublicationStatus.RETRYING,
    PublicationStatus.WAITING,
    PublicationStatus.UNKNOWN,
)
#: Not started yet: a person or planning may still move, withdraw or pause them.
NOT_STARTED = (*CLAIMABLE, PublicationStatus.PAUSED)
#: A person must decide what happens next.
NEEDS_DECISION = (PublicationStatus.FAILED, PublicationStatus.MISSED)

#: What each state means for the person looking at it, and what to do now.
WHAT_TO_DO = {
    PublicationStatus.QUEUED: _(
        "Opslaget sendes automatisk på det planlagte tidspunkt. Du behøver "
        "ikke gøre noget."
    ),
    PublicationStatus.RETRYING: _(
        "Netværket havde en midlertidig fejl. Kanal prøver igen automatisk "
        "på det viste tidspunkt. Du kan også prøve igen nu."
    ),
    PublicationStatus.WAITING: _(
        "Opslaget venter (se årsagen) og sendes automatisk, når det kan. "
        "Kommer det ikke ud i tide, markeres det som ikke udgivet."
    ),
    PublicationStatus.UNKNOWN: _(
        "Kanal ved ikke, om opslaget kom ud, og tjekker det hos netværket, "
        "før noget sendes igen. Du behøver ikke gøre noget."
    ),
    PublicationStatus.PUBLISHING: _("Opslaget sendes lige nu."),
    PublicationStatus.PUBLISHED: _("Opslaget er ude. Se det via linket."),
    PublicationStatus.FAILED: _(
        "Opslaget kom ikke ud. Læs årsagen, ret det der skal rettes, og vælg "
        "'Prøv igen nu', 'Flyt' eller 'Annullér'. Er det lagt op i hånden, så "
        "marker det som udgivet med adressen."
    ),
    PublicationStatus.MISSED: _(
        "Opslaget nåede ikke ud i tide og sendes ikke for sent af sig selv. "
        "Vælg 'Prøv igen nu', 'Flyt' til et nyt tidspunkt eller 'Annullér'."
    ),
    PublicationStatus.PAUSED: _(
        "Krisetilstand er slået til. Opslaget venter, til krisestyringen slår "
        "den fra og vælger, hvad der skal ske med det."
    ),
    PublicationStatus.CANCELLED: _("Opslaget sendes ikke."),
}


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Publication(models.Model):
    """A frozen copy of exactly what goes out on one channel, and its fate."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="publications",
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="publications"
    )
    planned_at = models.DateTimeField(_("planlagt til"))
    # Soft references to planning (no FK, so neither app's migrations depend
    # on the other).
    post_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    variant_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    revision_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    text = models.TextField(_("tekst"), blank=True)
    link = models.URLField(_("link"), max_length=1000, blank=True)
    media = models.JSONField(_("medier"), default=list, blank=True)
    first_comment = models.TextField(_("første kommentar"), blank=True)
    is_crisis = models.BooleanField(_("krisebesked"), default=False)
    pin = models.BooleanField(_("fastgør"), default=False)

    idempotency_key = models.CharField(
        max_length=64, unique=True, default=new_idempotency_key, editable=False
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PublicationStatus.choices,
        default=PublicationStatus.QUEUED,
    )
    # When the worker may next pick it up (planned time, retry time, quota reset).
    due_at = models.DateTimeField()
    # After this it is "missed" instead of going out late.
    late_after = models.DateTimeField()
    lease_token = models.CharField(max_length=64, blank=True)
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set after a send whose outcome is not known: ask the network first.
    needs_reconcile = models.BooleanField(default=False)
    checkpoint = models.JSONField(default=dict, blank=True)
    first_sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    remote_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(_("adresse"), max_length=1000, blank=True)
    published_at = models.DateTimeField(_("udgivet"), null=True, blank=True)
    published_manually = models.BooleanField(default=False)
    # Recorded from a lookup (reconciling), not from the network's answer to
    # this publication's own send: a direct answer naming the same post for
    # another publication wins over it.
    found_by_lookup = models.BooleanField(default=False)
    first_comment_remote_id = models.CharField(max_length=200, blank=True)

    # Set when the approval of what this row sends was withdrawn (an edit
    # after approval, a cancelled post). The send fence refuses a write once
    # it is set, also for a publication already claimed by a worker.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    # Why the publication is in its state: ``error_kind`` is the reason's
    # code (see ``outcomes.REASONS``) and ``reason_params`` its values; the
    # page renders them in the reader's language. ``last_error`` keeps the
    # Danish text as it was written (audit, notifications); ``error_detail``
    # is what the network itself said, for support.
    last_error = models.TextField(_("årsag"), blank=True)
    error_kind = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    error_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_at", "pk"]
        verbose_name = _("udgivelse")
        verbose_name_plural = _("udgivelser")
        indexes = [
            models.Index(fields=["status", "due_at"], name="publication_due"),
            models.Index(fields=["status", "lease_expires_at"], name="pub_lease"),
            models.Index(fields=["channel", "status"], name="pub_channel_status"),
            models.Index(fields=["status", "late_after"], name="pub_late"),
            models.Index(fields=["channel", "remote_id"], name="pub_channel_remote"),
            # What went out on a day (insights' rollups, the records sweep).
            models.Index(fields=["organisation", "published_at"],
                         name="pub_org_published"),
        ]

    def __str__(self) -> str:
        # The audit log keeps this as the object's name: words in no language.
        return f"#{self.pk} · {self.text[:60]}"

    @property
    def what_to_do(self) -> str:
        return str(WHAT_TO_DO.get(self.status, ""))

    @property
    def is_being_checked(self) -> bool:
        """Kanal is asking the network whether an earlier send went out."""
        return self.needs_reconcile and self.status in CLAIMABLE

    @property
    def reason(self) -> str:
        """Why it is in its state, in the active language."""
        from kanal.channels.wording import network_sentence

        from .outcomes import render_reason

        return render_reason(
            self.error_kind, self.reason_params
        ) or network_sentence(self.last_error)

    @property
    def is_late(self) -> bool:
        return timezone.now() > self.late_after


class Crisis(models.Model):
    """One period of crisis mode; active while ``ended_at`` is empty."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="crises"
    )
    reason = models.TextField(_("årsag"))
    whole_organisation = models.BooleanField(_("hele organisationen"), default=True)
    channels = models.ManyToManyField(
        "channels.Channel", blank=True, related_name="crises"
    )
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("krise")
        verbose_name_plural = _("kriser")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_crisis_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.reason[:80]

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class ChannelTokenRefresh(models.Model):
    """The per-channel lock and record of the periodic token refresh."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="token_refresh"
    )
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # When a person was last told that the refresh failed while the access
    # token still worked (told once per failure, not every run).
    alerted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"#{self.channel_id}"


class FollowUpKind(models.TextChoices):
    FIRST_COMMENT = "first_comment", _("Første kommentar")
    PIN = "pin", _("Fastgørelse")
    # An answer to a citizen's comment (``followup.queue_reply``), for an app
    # above publishing (the inbox); it has a channel, no publication.
    REPLY = "reply", _("Svar")
    # An answer to a citizen's direct message (``followup.queue_message``):
    # like a reply, with the citizen it goes to in ``recipient``.
    MESSAGE = "message", _("Besked")


class FollowUpStatus(models.TextChoices):
    PENDING = "pending", _("Venter")
    RUNNING = "running", _("I gang")
    DONE = "done", _("Udført")
    FAILED = "failed", _("Fejlet")


class FollowUp(models.Model):
    """Work on a published post (its first comment, a crisis pin).

    Claimed by the worker with a lease and fenced before its write like a
    publication, retried with backoff, and a person is told when it finally
    fails; being a row, it survives a killed worker.
    """

    publication = models.ForeignKey(
        Publication, null=True, blank=True, on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    # A reply: the channel it goes out on, what it answers, its text and the
    # key its sender chose (the same key never makes a second reply).
    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE,
        related_name="reply_follow_ups",
    )
    target_remote_id = models.CharField(max_length=200, blank=True)
    # A message: the citizen it goes to (``recipient_id``), the network's
    # ``conversation_id`` and the citizen's latest message
    # (``last_received_at``, ISO 8601), which Messenger's windows count from.
    recipient = models.JSONField(default=dict, blank=True)
    text = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        "organisations.Membership", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(
        max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.PENDING
    )
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_token = models.CharField(max_length=64, blank=True)
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Set by the fence: a write was about to start, so its outcome is unknown
    # until recorded.
    write_started = models.BooleanField(default=False)
    remote_id = models.CharField(max_length=200, blank=True)
    # Why it failed: ``error_kind`` is the notification's kind and
    # ``reason_params`` its values, rendered in the reader's language
    # (``reason``); ``last_error`` keeps the Danish text as it was written.
    last_error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    error_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "kind"], name="one_follow_up_per_kind"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(kind="reply"),
                name="one_reply_per_key",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(kind="message"),
                name="one_message_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="follow_up_due"),
            models.Index(fields=["status", "lease_expires_at"], name="follow_up_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.publication_id} ({self.status})"

    @property
    def reason(self) -> str:
        """Why it failed (or waits to be tried again), in the active language."""
        from kanal.channels.wording import network_sentence
        from kanal.notifications.kinds import render

        if self.error_kind:
            return render(self.error_kind, self.reason_params)
        return network_sentence(self.last_error)


class CrisisEvent(models.TextChoices):
    """The kinds of event the desk prepares crisis messages for."""

    STORM_SURGE = "storm_surge", _("Stormflod")
    CLOUDBURST = "cloudburst", _("Skybrud")
    WATER_SUPPLY = "water_supply", _("Vandforsyning")
    IT_OUTAGE = "it_outage", _("IT-nedbrud")
    OTHER = "other", _("Anden hændelse")


class CrisisTemplate(models.Model):
    """A prepared crisis message for one kind of event, kept by the desk.

    ``text`` goes to every network; ``versions`` holds the desk's own shorter
    versions per network (network slug -> text) for networks with few
    characters. Placeholders such as ``[STED]`` are filled in by the crisis
    lead before sending; Kanal refuses to send while one is left.
    """

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="crisis_templates",
    )
    name = models.CharField(_("navn"), max_length=120)
    event = models.CharField(
        _("hændelse"), max_length=20, choices=CrisisEvent.choices,
        default=CrisisEvent.OTHER,
    )
    text = models.TextField(_("besked"))
    link = models.URLField(_("link"), max_length=1000, blank=True)
    versions = models.JSONField(_("egne versioner pr. netværk"), default=dict,
                                blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["event", "name"]
        verbose_name = _("kriseskabelon")
        verbose_name_plural = _("kriseskabeloner")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="crisis_template_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CrisisUnpin(models.Model):
    """A request to take a pinned crisis message off the top of its profile
    when the crisis is over, and how it went."""

    publication = models.OneToOneField(
        Publication, on_delete=models.CASCADE, related_name="unpin"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("fjernet fastgørelse")
        verbose_name_plural = _("fjernede fastgørelser")

    def __str__(self) -> str:
        return f"Unpin {self.publication_id}"


class WorkerHeartbeat(models.Model):
    """One ``kanal worker`` process: when it started, when its main loop last
    went round (the database's clock), and when it stopped cleanly.

    Read by ``/readyz`` and the metrics; written only by the worker
    (``heartbeat.py``), so a worker that hangs or dies leaves a stale beat.
    """

    owner = models.CharField(max_length=120, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"Worker {self.owner}"


class OutcomeTally(models.Model):
    """How many finished publishing calls ended in each row of the outcome
    table, per network: counted in the transaction that records them, so
    every worker process adds to the same numbers (the metrics read them)."""

    network = models.CharField(max_length=20)
    kind = models.CharField(max_length=40)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "kind"], name="one_tally_per_network_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network}/{self.kind}: {self.count}"
