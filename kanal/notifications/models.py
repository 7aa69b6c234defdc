"""One notification per member, and each member's choice of what is mailed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS, render


class Notification(models.Model):
    """Something one member must act on or know. Stores the kind's code and
    its values; the sentence is made in the reader's language (``message``)."""

    recipient = models.ForeignKey(
        "organisations.Membership",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(max_length=60)
    params = models.JSONField(default=dict, blank=True)
    # What it is about, as "<app>.<model>:<pk>" (``subject_of``): this app
    # knows no model above it.
    subject = models.CharField(max_length=80, blank=True, db_index=True)
    url = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = _("notifikation")
        verbose_name_plural = _("notifikationer")

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"

    @property
    def message(self) -> str:
        """The sentence in the active language."""
        return render(self.kind, self.params)


def subject_of(obj) -> str:
    """The ``subject`` value for a model instance (empty for None)."""
    if obj is None:
        return ""
    return f"{obj._meta.label_lower}:{obj.pk}"


class Preference(models.Model):
    """What one member wants by e-mail, and the language of those e-mails.
    Without a row, each kind's default applies (``Kind.by_email``)."""

    membership = models.OneToOneField(
        "organisations.Membership",
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    # kind code → True/False where the member chose differently from the
    # default; a kind added later follows its default.
    email = models.JSONField(default=dict, blank=True)
    language = models.CharField(
        _("sprog i e-mails"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )

    class Meta:
        verbose_name = _("notifikationsvalg")
        verbose_name_plural = _("notifikationsvalg")

    def __str__(self) -> str:
        return f"Notifikationsvalg for {self.membership_id}"

    def wants_email(self, kind: str) -> bool:
        if kind in self.email:
            return bool(self.email[kind])
        known = KINDS.get(kind)
        return known is not None and known.by_email
