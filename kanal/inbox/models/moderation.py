"""Moderation by the house rules: the reasons, and every hide, unhide and
delete with its reason."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .conversations import InboxItem


class Reason(models.TextChoices):
    """The house rules' reason codes for hiding or deleting a comment."""

    PERSONAL_DATA = "personal_data", _("Personoplysninger")
    THREATS = "threats", _("Trusler eller chikane")
    DISCRIMINATION = "discrimination", _("Diskrimination")
    SPAM = "spam", _("Spam")
    ADVERTISING = "advertising", _("Reklame")
    PARTY_POLITICS = "party_politics", _("Partipolitik")
    OFF_TOPIC = "off_topic", _("Uden for emnet")
    OTHER = "other", _("Andet brud på husreglerne")



class ModerationAction(models.Model):
    """A hide, unhide or delete on the network, with its house-rule reason."""

    class Kind(models.TextChoices):
        HIDE = "hide", _("Skjult")
        UNHIDE = "unhide", _("Vist igen")
        DELETE = "delete", _("Slettet")

    item = models.ForeignKey(
        InboxItem, on_delete=models.CASCADE, related_name="moderation"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    actor = models.ForeignKey(
        "organisations.Membership", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    # Copied so a count survives retention and deleted members.
    author_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["author_id"], name="inbox_mod_author")]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_id}"

