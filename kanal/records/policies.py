"""Who may read the record, answer access requests, hold and delete.

The records officer reads everything and is the only role that sees the
content of what was withheld from a requester (``records.view_withheld``).
"""

from __future__ import annotations

from kanal.core.policies import BasePolicy

from .models import (
    AccessExport,
    AccessRequest,
    AccessRequestItem,
    LegalHold,
    RecordEntry,
)


class RecordEntryPolicy(BasePolicy):
    model = RecordEntry
    permissions = {
        "list": "records.view",
        "view": "records.view",
        "erase": "records.delete",
        "apply_retention": "records.delete",
        "manage_retention": "records.delete",
        "file": "records.file",
    }

    def visible(self, actor):
        qs = RecordEntry.objects.select_related("channel", "administration")
        if actor is None:
            return qs
        if not actor.has_perm("records.view"):
            return qs.none()
        qs = qs.filter(organisation_id=actor.organisation_id)
        if not actor.has_perm("records.view_withheld"):
            # What an access request withholds is for records officers only.
            qs = qs.exclude(
                pk__in=AccessRequestItem.objects.filter(withheld=True).values(
                    "entry_id"
                )
            )
        return qs


class AccessRequestPolicy(BasePolicy):
    model = AccessRequest
    permissions = {
        "list": "records.request",
        "view": "records.request",
        "create": "records.request",
        "withhold": "records.withhold",
        "redact": "records.withhold",
        "export": "records.export",
        "close": "records.request",
    }

    def visible(self, actor):
        qs = AccessRequest.objects.all()
        if actor is None:
            return qs
        if not actor.has_perm("records.request"):
            return qs.none()
        return qs.filter(organisation_id=actor.organisation_id)

    def sees_withheld(self, actor) -> bool:
        """May ``actor`` read what was withheld from the requester?"""
        return actor is None or (
            actor.is_active and actor.has_perm("records.view_withheld")
        )


class AccessExportPolicy(BasePolicy):
    model = AccessExport
    permissions = {"view": "records.export", "download": "records.export"}

    def visible(self, actor):
        qs = AccessExport.objects.select_related("request")
        if actor is None:
            return qs
        if not actor.has_perm("records.export"):
            return qs.none()
        return qs.filter(request__organisation_id=actor.organisation_id)


class LegalHoldPolicy(BasePolicy):
    model = LegalHold
    permissions = {
        "list": "records.hold",
        "create": "records.hold",
        "release": "records.hold",
    }

    def visible(self, actor):
        qs = LegalHold.objects.all()
        if actor is None:
            return qs
        if not actor.has_perm("records.hold"):
            return qs.none()
        return qs.filter(organisation_id=actor.organisation_id)


record_policy = RecordEntryPolicy()
access_request_policy = AccessRequestPolicy()
access_export_policy = AccessExportPolicy()
legal_hold_policy = LegalHoldPolicy()
