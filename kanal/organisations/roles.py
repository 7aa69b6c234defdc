"""Roles and what each may do. The single source for role → permissions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    EDITOR = "editor", _("Redaktør")
    APPROVER = "approver", _("Godkender")
    CONTRIBUTOR = "contributor", _("Bidragyder")
    CRISIS_LEAD = "crisis_lead", _("Krisestyring")
    ANALYST = "analyst", _("Analytiker")
    RECORDS_OFFICER = "records_officer", _("Journalansvarlig")


# Permission names are "<area>.<verb>". Policies map actions to these.
# The inbox: ``inbox.view`` opens it (list, search, conversations);
# ``inbox.view_all`` is the desk (every conversation, assigns, keeps the
# standard answers); ``inbox.read_all`` sees every conversation and changes
# nothing; ``inbox.answer`` answers, notes and sets the status of what one
# sees; ``inbox.moderate`` hides and deletes on the network.
PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            "organisation.manage",
            "members.manage",
            "audit.view",
            "channels.view",
            "channels.manage",
            "strategy.manage",
            "posts.propose",
            "posts.plan",
            "posts.approve",
            "posts.publish",
            "posts.view_all",
            "crisis.manage",
            "crisis.publish",
            "inbox.view",
            "inbox.view_all",
            "inbox.answer",
            "inbox.moderate",
            "reports.view",
            "records.view",
            "records.request",
            "records.export",
            "insights.view",
        }
    ),
    Role.EDITOR: frozenset(
        {
            "channels.view",
            "posts.propose",
            "posts.plan",
            "posts.publish",
            "posts.view_all",
            "crisis.manage",
            "inbox.view",
            "inbox.view_all",
            "inbox.answer",
            "inbox.moderate",
            "reports.view",
            "records.request",
            "records.export",
            "insights.view",
        }
    ),
    Role.APPROVER: frozenset(
        {
            "channels.view",
            "posts.approve",
            "posts.view_all",
            "reports.view",
        }
    ),
    Role.CONTRIBUTOR: frozenset(
        {
            "channels.view",
            "posts.propose",
            "inbox.view",
            "inbox.answer",
        }
    ),
    Role.CRISIS_LEAD: frozenset(
        {
            "channels.view",
            "posts.view_all",
            "crisis.manage",
            "crisis.publish",
            # In a crisis the crisis lead must see what citizens write: every
            # conversation, read only (no answers, notes, assignment,
            # moderation or setup).
            "inbox.view",
            "inbox.read_all",
            "reports.view",
        }
    ),
    Role.ANALYST: frozenset({"channels.view", "reports.view", "insights.view"}),
    # The records officer (journalansvarlig): reads the whole record, answers
    # access requests (withholds and redacts; the only role that sees what was
    # withheld), exports, places legal holds and deletes by retention policy.
    Role.RECORDS_OFFICER: frozenset(
        {
            "channels.view",
            "records.view",
            "records.request",
            "records.withhold",
            "records.view_withheld",
            "records.export",
            "records.hold",
            "records.delete",
            "records.file",
        }
    ),
}

# Roles that must use two-factor login where the organisation demands it.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.EDITOR})
