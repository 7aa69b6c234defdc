"""The audit log: append-only and chained with a keyed hash.

Every write through an action appends one ``AuditEntry``. Each entry's hash
is an HMAC-SHA256, under a key kept outside the database
(``KANAL_AUDIT_KEYS``), of its own content and the previous entry's hash, so
editing or deleting a row anywhere breaks the chain from that point, and
someone who can write to the database but lacks the key cannot compute a new
chain (``kanal verify-audit``). Signed checkpoints of the head, written
outside the database (``kanal.core.checkpoints``), catch a cut-off tail.
The chain head (``AuditChain``) is locked while appending, so concurrent
writers on PostgreSQL (``select_for_update``) and SQLite (IMMEDIATE
transactions) take turns instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


def audit_key_id(key: str) -> str:
    """A short public name for an audit key (stored with each entry, so a
    rotated-out key can still verify the entries it signed)."""
    return hashlib.sha256(b"kanal-audit-key-id\0" + key.encode()).hexdigest()[:16]


def audit_keys() -> dict[str, str]:
    """``{key_id: key}`` for every key in ``KANAL_AUDIT_KEYS`` (newest first)."""
    keys = [k.strip() for k in settings.KANAL_AUDIT_KEYS.split(",") if k.strip()]
    return {audit_key_id(k): k for k in keys}


def current_audit_key() -> tuple[str, str]:
    """``(key_id, key)`` of the newest key: the one new entries are keyed with."""
    key_id, key = next(iter(audit_keys().items()))
    return key_id, key


def keyed_digest(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


class AuditChain(models.Model):
    """The single head of the chain: the last sequence number and hash."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain at #{self.last_seq}"


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit entries are append-only.")

    def delete(self):
        raise TypeError("Audit entries are append-only.")


class AuditEntry(models.Model):
    seq = models.BigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(db_index=True, editable=False)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    # Kept as text too, so the entry still reads right if the user is renamed.
    actor_label = models.CharField(max_length=200)
    event = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    # Which of KANAL_AUDIT_KEYS keyed ``hash`` (``audit_key_id``).
    key_id = models.CharField(max_length=16, editable=False, default="")

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("revisionsspor")
        verbose_name_plural = _("revisionsspor")
        indexes = [models.Index(fields=["organisation", "-seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit entries are append-only.")

    @property
    def object_kind(self) -> str:
        """What the object is, in the reader's language ("opslag", "kanal")."""
        from django.apps import apps

        try:
            return apps.get_model(self.object_type)._meta.verbose_name
        except (LookupError, ValueError):
            return self.object_type

    def payload(self) -> dict:
        """The fields the hash covers, in a canonical form."""
        return {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "organisation": self.organisation_id,
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "event": self.event,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "changes": self.changes,
            "prev_hash": self.prev_hash,
            "key_id": self.key_id,
        }

    def canonical(self) -> str:
        return json.dumps(
            self.payload(),
            sort_keys=True,
            separators=(",", ":"),
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )

    def compute_hash(self, key: str) -> str:
        """The entry's HMAC under ``key`` (the one named by ``key_id``)."""
        return keyed_digest(key, self.canonical())
