"""What arrives before it is an item: ``WebhookDelivery`` keeps a signed
webhook's raw body before anything reads it, ``MentionReadBack`` an Instagram
mention's ids until it is read back, ``PollCursor`` where a channel's polling
stands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Venter")
    PROCESSED = "processed", _("Behandlet")
    IGNORED = "ignored", _("Ignoreret")
    FAILED = "failed", _("Fejlet")



class WebhookDelivery(models.Model):
    """One signed webhook request, stored before it is read.

    The endpoint only checks the signature and stores the body; the worker
    parses and processes it (``intake.process_deliveries``), so the network
    gets its answer fast and nothing is lost when processing fails.
    """

    network = models.CharField(max_length=20)
    # Set when the address named an organisation: pages of others are ignored.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # What processing found: counts and the reasons events were ignored.
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["status", "id"], name="inbox_delivery_due")]

    def __str__(self) -> str:
        return f"{self.network} webhook {self.pk} ({self.status})"



class MentionStatus(models.TextChoices):
    PENDING = "pending", _("Venter")
    READ = "read", _("Hentet")
    GONE = "gone", _("Væk")
    #: Not read within ``mentions.GIVE_UP_AFTER``: asked for no more, and
    #: its channel's desk was told.
    GAVE_UP = "gave_up", _("Opgivet")



class MentionReadBack(models.Model):
    """An Instagram ``mentions`` webhook's ids, kept until the mention is
    read back (the webhook names only the comment and the media).

    One row per (channel, comment, media): a replayed webhook finds its row
    and is not read again. The worker (``inbox.mentions``) reads a pending
    row, stores the mention as an item and marks it read; a failed read
    waits (``next_attempt_at``, growing with ``attempts``) and is tried
    again, never dropped; a mention the network says no longer exists (or
    may not be read) is marked gone.
    """

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE,
                                related_name="+")
    comment_id = models.CharField(max_length=200, blank=True)
    media_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=MentionStatus.choices,
                              default=MentionStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # What the network last answered (for support), untranslated.
    last_error = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "comment_id", "media_id"],
                                    name="inbox_mention_once"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"],
                                name="inbox_mention_due")]

    def __str__(self) -> str:
        return f"mention {self.comment_id or self.media_id} ({self.status})"



class PollCursor(models.Model):
    """Where polling a channel's inbox left off (the adapter's opaque cursor)."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="inbox_cursor"
    )
    cursor = models.TextField(blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # Why the last poll failed, as written: the network's Danish sentence, or
    # Kanal's own (its msgid, with ``last_error_params``); ``polling.
    # poll_problem`` renders it in the reader's language.
    last_error = models.TextField(blank=True)
    last_error_params = models.JSONField(default=dict, blank=True)
    items_seen = models.PositiveIntegerField(default=0)
    # Entries of the network's answers that could not be read and were
    # skipped (the cursor passed them; the log says when).
    items_skipped = models.PositiveIntegerField(default=0)
    # The permission the network says the account lacks to read direct
    # messages (its own name for it), and since when; empty while messages
    # are read (or the network has none).
    messages_denied = models.CharField(max_length=100, blank=True)
    messages_denied_since = models.DateTimeField(null=True, blank=True)
    # The network's throttle said to wait until then (a 429's Retry-After or
    # reset time, at most a day): the channel is not polled before.
    poll_not_before = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Cursor for {self.channel_id}"

