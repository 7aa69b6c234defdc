"""Who may see and handle inbox conversations.

The desk (``inbox.view_all``: editors, administrators) sees every
conversation in the organisation, assigns them and moderates. Contributors
(``inbox.answer``) see only what is assigned to their administration or to
them, and answer it. The crisis lead (``inbox.read_all``) sees every
conversation and changes nothing. Anything else is a 404.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Q, Value
from django.db.models.functions import Cast

from kanal.core.policies import OrganisationPolicy
from kanal.organisations.models import Membership
from kanal.organisations.roles import PERMISSIONS

from .models import (
    Conversation,
    InboxItem,
    InboxSettings,
    ReferralTemplate,
    StandardAnswer,
)


def _bigint(value):
    return Cast(Value(value), BigIntegerField())


class ConversationPolicy(OrganisationPolicy):
    model = Conversation
    permissions = {
        "list": "inbox.view",
        "view": "inbox.view",
        "note": "inbox.answer",
        "set_status": "inbox.answer",
        "reply": "inbox.answer",
        "assign": "inbox.view_all",
        "moderate": "inbox.moderate",
    }

    def can(self, actor, action, obj=None):
        """``like`` (a like on the network, from the inbox) is for whoever
        may reply to the conversation or moderate it."""
        if action == "like":
            return self.can(actor, "reply", obj) or self.can(actor, "moderate", obj)
        return super().can(actor, action, obj)

    def queryset(self):
        return Conversation.objects.select_related(
            "channel", "assigned_administration", "assigned_to__user"
        )

    def narrow(self, actor, qs):
        """Conversations, or items (``visible_items``: an item carries its
        conversation's assignment, ``scope``), by the same rule."""
        if self.sees_all(actor):
            return qs
        if not actor.has_perm("inbox.answer"):
            return qs.none()
        # As bigint, the ids' own type: the items' search index (``btree_gin``)
        # has no operator for a bigint column against a plain integer, and
        # without it a contributor's search read every match of a word.
        return qs.filter(
            Q(assigned_administration_id=_bigint(actor.administration_id))
            | Q(assigned_to_id=_bigint(actor.pk))
        )

    @staticmethod
    def sees_all(actor) -> bool:
        """Whether ``actor`` sees every conversation of the organisation: the
        desk, and whoever reads them all (the crisis lead)."""
        return actor.has_perm("inbox.view_all") or actor.has_perm("inbox.read_all")

    def visible_items(self, actor):
        """The items of the conversations ``actor`` sees (``visible``), asked
        of each item's own copy of its conversation's assignment, so a search
        narrows by it in the search index instead of looking up every
        match's conversation."""
        items = InboxItem.objects.all()
        if actor is None:
            return items
        return self.narrow(actor, items.filter(organisation_id=actor.organisation_id))


    def viewers(self, conversation):
        """The organisation's active members who may see ``conversation``:
        the desk, and those who answer for it (whom a note can @mention)."""
        def roles(permission):
            return [role for role, held in PERMISSIONS.items() if permission in held]

        answering = Q(role__in=roles("inbox.answer")) & (
            Q(administration_id=conversation.assigned_administration_id)
            | Q(pk=conversation.assigned_to_id))
        return Membership.objects.filter(
            Q(role__in=roles("inbox.view_all") + roles("inbox.read_all"))
            | answering,
            organisation_id=conversation.organisation_id, is_active=True,
            user__is_active=True,
        ).order_by("user__first_name", "user__username")


conversation_policy = ConversationPolicy()


class KeptTextPolicy(OrganisationPolicy):
    """Texts the desk keeps (standard answers, referral templates): kept by
    the desk, used by everyone who answers."""

    permissions = {
        "list": "inbox.answer",
        "use": "inbox.answer",
        "manage": "inbox.view_all",
    }

    def narrow(self, actor, rows):
        # Seen by whoever opens the inbox, so a read-only member asking to
        # change one is refused (403), not told it is missing.
        return rows if actor.has_perm("inbox.view") else rows.none()


class StandardAnswerPolicy(KeptTextPolicy):
    model = StandardAnswer


standard_answer_policy = StandardAnswerPolicy()


class ReferralTemplatePolicy(KeptTextPolicy):
    """Referral templates: like standard answers, but a list of their own."""

    model = ReferralTemplate


referral_template_policy = ReferralTemplatePolicy()


class InboxSettingsPolicy(OrganisationPolicy):
    """The organisation's inbox settings: its administrators keep them."""

    model = InboxSettings
    permissions = {"change": "organisation.manage"}


inbox_settings_policy = InboxSettingsPolicy()
