"""Every change the desk makes to the inbox: checked, audited, announced."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.organisations.models import Administration, Membership

from .models import Conversation, ConversationStatus, Note
from .policies import conversation_policy


@transaction.atomic
def assign_conversation(
    conversation: Conversation,
    *,
    actor: Membership | None,
    administration: Administration | None = None,
    person: Membership | None = None,
) -> Conversation:
    """Give ``conversation`` to an administration, a person, or both.

    A person alone brings their administration along. A new conversation
    becomes *assigned*; the person (or the administration's contributors)
    are told.
    """
    conversation_policy.check(actor, "assign", conversation)
    org_id = conversation.organisation_id
    if person is not None and person.organisation_id != org_id:
        raise ValidationError(_("Personen er ikke med i organisationen."))
    if administration is not None and administration.organisation_id != org_id:
        raise ValidationError(_("Forvaltningen hører ikke til organisationen."))
    if administration is None and person is not None:
        administration = person.administration
    if administration is None:
        raise ValidationError(_("Vælg en forvaltning eller en person."))
    before = audit.snapshot(conversation, ["assigned_administration", "assigned_to",
                                           "status"])
    conversation.assigned_administration = administration
    conversation.assigned_to = person
    if conversation.status == ConversationStatus.NEW:
        conversation.status = ConversationStatus.ASSIGNED
    conversation.save(update_fields=["assigned_administration", "assigned_to",
                                     "status", "updated_at"])
    audit.record(
        "inbox.conversation.assigned",
        actor=actor,
        organisation=conversation.organisation,
        target=conversation,
        changes={"before": before, "administration": administration.code,
                 "person": person.display_name if person else ""},
    )
    recipients = [person] if person is not None else list(
        Membership.objects.filter(
            organisation_id=org_id, administration=administration, is_active=True,
            role="contributor",
        ).select_related("user", "organisation")
    )
    notify(
        [m for m in recipients if actor is None or m.pk != actor.pk],
        kind="inbox_assigned",
        params={"administration": administration.code,
                "channel": str(conversation.channel)},
        about=conversation,
        url=conversation_url(conversation),
    )
    return conversation


def conversation_url(conversation: Conversation) -> str:
    from django.urls import reverse

    return reverse("inbox:detail", args=[conversation.pk])


#: Statuses a person sets by hand (hidden follows moderation, answered a reply).
MANUAL_STATUSES = frozenset({
    ConversationStatus.NEW, ConversationStatus.WAITING,
    ConversationStatus.ANSWERED, ConversationStatus.NO_REPLY,
    ConversationStatus.REFERRED, ConversationStatus.ASSIGNED,
})


@transaction.atomic
def set_conversation_status(
    conversation: Conversation, *, actor: Membership | None, status: str
) -> Conversation:
    """Mark ``conversation`` waiting, answered, no reply needed, referred …"""
    conversation_policy.check(actor, "set_status", conversation)
    if status not in MANUAL_STATUSES:
        raise ValidationError(_("Den status kan ikke vælges her."))
    if status == ConversationStatus.ASSIGNED and not (
        conversation.assigned_administration_id
    ):
        raise ValidationError(_("Tildel samtalen til en forvaltning først."))
    before = conversation.status
    if before == status:
        return conversation
    conversation.status = status
    conversation.save(update_fields=["status", "updated_at"])
    audit.record(
        "inbox.conversation.status_changed",
        actor=actor,
        organisation=conversation.organisation,
        target=conversation,
        changes={"status": [before, status]},
    )
    return conversation


@transaction.atomic
def add_note(conversation: Conversation, *, actor: Membership, text: str) -> Note:
    """An internal note; members it @mentions by user name are told."""
    conversation_policy.check(actor, "note", conversation)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Skriv noten, før du gemmer den."))
    if len(text) > 5000:
        raise ValidationError(_("Noten er for lang (højst 5.000 tegn)."))
    note = Note.objects.create(conversation=conversation, author=actor, text=text)
    audit.record(
        "inbox.conversation.noted",
        actor=actor,
        organisation=conversation.organisation,
        target=conversation,
        changes={"note": note.pk},
    )
    names = {
        word[1:].rstrip(".,:;!?") for word in text.split() if word.startswith("@")
    }
    if names:
        mentioned = Membership.objects.filter(
            organisation_id=conversation.organisation_id, is_active=True,
            user__username__in=names,
        ).select_related("user", "organisation")
        notify(
            [m for m in mentioned if m.pk != actor.pk
             and conversation_policy.can(m, "view", conversation)],
            kind="inbox_mentioned",
            params={"who": actor.display_name},
            about=conversation,
            url=conversation_url(conversation),
        )
    return note
