from __future__ import annotations

from .models import AuditEntry
from .policies import BasePolicy


class AuditEntryPolicy(BasePolicy):
    model = AuditEntry
    permissions = {"list": "audit.view"}

    def visible(self, actor):
        if actor is None:
            return AuditEntry.objects.all()
        if not actor.has_perm("audit.view"):
            return AuditEntry.objects.none()
        return AuditEntry.objects.filter(organisation_id=actor.organisation_id)


audit_policy = AuditEntryPolicy()
