"""Every change the desk makes to the inbox's conversations and its kept
texts and settings: checked, audited, announced. Answers to citizens are
``replies``; hiding, deleting and blocking are ``moderation``; likes, pins
and reposts ``likes``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kanal import untrusted
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.organisations.models import Administration, Membership, Organisation

from . import targets
from .models import (
    AssignmentRule,
    Conversation,
    ConversationStatus,
    InboxSettings,
    Note,
    ReferralTemplate,
    StandardAnswer,
)
from .policies import (
    conversation_policy,
    referral_template_policy,
    standard_answer_policy,
)
from .templating import known_variables, unknown_variables


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
    if person is not None and not (person.is_active and person.user.is_active
                                   and person.has_perm("inbox.answer")):
        # Theirs, nobody else who could answer it would be told (T5a-5).
        raise ValidationError(_("%(name)s kan ikke se indbakken (deaktiveret, "
                                "lukket login eller en rolle uden indbakken). "
                                "Vælg en anden.") % {"name": person.display_name})
    if administration is not None and administration.organisation_id != org_id:
        raise ValidationError(_("Forvaltningen hører ikke til organisationen."))
    if administration is None and person is not None:
        administration = person.administration
    if administration is None:
        raise ValidationError(_("Vælg en forvaltning eller en person."))
    # Ids: the related rows themselves are not JSON (a conversation given
    # on from one administration to another could not be audited).
    before = audit.snapshot(conversation, ["assigned_administration_id",
                                           "assigned_to_id", "status"])
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
            user__is_active=True, role="contributor",
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
def add_note(conversation: Conversation, *, actor: Membership, text: str,
             key: str = "") -> Note:
    """An internal note; members it @mentions by user name are told.

    The note returned says what came of its mentions: ``told`` (the members
    told) and ``not_told`` (the names that are no colleague who may see the
    conversation, so nobody was told), for the person who wrote it.

    ``key`` comes from the note form: the same form sent again with the same
    text (a double click) is the same note, stored and announced once. A
    used key with another text (a form the Back button restored) is a new
    note: nothing written is dropped."""
    conversation_policy.check(actor, "note", conversation)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Skriv noten, før du gemmer den."))
    if len(text) > 5000:
        raise ValidationError(_("Noten er for lang (højst 5.000 tegn)."))
    if key:
        # Held until the note is stored: two sends at once are one note.
        Conversation.objects.select_for_update().only("pk").get(pk=conversation.pk)
        existing = Note.objects.filter(author=actor, form_key=key).first()
        if existing is not None and (existing.conversation_id, existing.text) == (
            conversation.pk, text
        ):
            existing.told, existing.not_told = [], []
            return existing
        if existing is not None:
            key = ""
    note = Note.objects.create(conversation=conversation, author=actor, text=text,
                               form_key=key)
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
    note.told, note.not_told = [], []
    if names:
        mentioned = Membership.objects.filter(
            organisation_id=conversation.organisation_id, is_active=True,
            user__username__in=names,
        ).select_related("user", "organisation")
        seeing = [m for m in mentioned
                  if conversation_policy.can(m, "view", conversation)]
        note.told = [m for m in seeing if m.pk != actor.pk]
        found = {m.user.username for m in seeing}
        note.not_told = sorted(n for n in names if n and n not in found)
        notify(
            note.told,
            kind="inbox_mentioned",
            params={"who": actor.display_name},
            about=conversation,
            url=conversation_url(conversation),
        )
    return note


def _save_kept_text(policy, model, *, actor: Membership, instance, title: str,
                    event: str, **values):
    """Create or change a standard answer or referral template."""
    policy.check(actor, "manage", instance)
    title, values["text"] = (title or "").strip(), (values["text"] or "").strip()
    if not title or not values["text"]:
        raise ValidationError(_("Skriv både en titel og en tekst."))
    unknown = unknown_variables(values["text"])
    if unknown:
        # On the field it is about: the form marks the text and its page's
        # error summary leads to it.
        raise ValidationError({"text": _(
            "Teksten bruger %(variable)s, som Kanal ikke kan udfylde. Kanal "
            "kender %(known)s (med små bogstaver og begge klammer). Ret eller "
            "fjern %(variable)s.")
            % {"variable": unknown[0], "known": known_variables()}})
    duplicate = model.objects.filter(
        organisation_id=actor.organisation_id, title=title
    ).exclude(pk=instance.pk if instance else None)
    created = instance is None
    if duplicate.exists():
        return _same_kept_text(duplicate.first(), created=created, values=values)
    instance = instance or model(organisation_id=actor.organisation_id)
    instance.title = title
    for name, value in values.items():
        setattr(instance, name, value)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        # The same form sent twice at once: the other request stored it.
        return _same_kept_text(duplicate.first(), created=created, values=values)
    audit.record(f"{event}.created" if created else f"{event}.changed",
                 actor=actor, target=instance, changes={"title": title})
    return instance


def _same_kept_text(duplicate, *, created: bool, values: dict):
    """A new text whose title is taken by ``duplicate``: the same form sent
    twice (a double click: the same title, text and administration) is the
    text the first one stored; anything else is refused."""
    same = duplicate is not None and all(
        getattr(duplicate, name) == value for name, value in values.items())
    if created and same:
        return duplicate
    raise ValidationError(
        {"title": _("Titlen er allerede brugt. Vælg en anden titel.")})


@transaction.atomic
def save_standard_answer(
    *, actor: Membership, title: str, text: str,
    answer: StandardAnswer | None = None,
) -> StandardAnswer:
    """Create or change a standard answer (the desk keeps them)."""
    return _save_kept_text(standard_answer_policy, StandardAnswer, actor=actor,
                           instance=answer, title=title, text=text,
                           event="inbox.standard_answer")


@transaction.atomic
def delete_standard_answer(answer: StandardAnswer, *, actor: Membership) -> None:
    standard_answer_policy.check(actor, "manage", answer)
    audit.record("inbox.standard_answer.deleted", actor=actor, target=answer,
                 changes={"title": answer.title})
    answer.delete()


@transaction.atomic
def save_referral_template(
    *, actor: Membership, title: str, text: str,
    administration: Administration | None = None,
    template: ReferralTemplate | None = None,
) -> ReferralTemplate:
    """Create or change a referral template (editors keep them)."""
    if administration is not None and (
        administration.organisation_id != actor.organisation_id
    ):
        raise ValidationError(
            {"administration": _("Forvaltningen hører ikke til organisationen.")})
    return _save_kept_text(referral_template_policy, ReferralTemplate, actor=actor,
                           instance=template, title=title, text=text,
                           administration=administration, event="inbox.referral")


@transaction.atomic
def delete_referral_template(template: ReferralTemplate, *,
                             actor: Membership) -> None:
    referral_template_policy.check(actor, "manage", template)
    audit.record("inbox.referral.deleted", actor=actor, target=template,
                 changes={"title": template.title})
    template.delete()


@transaction.atomic
def save_inbox_settings(row: InboxSettings, *, actor: Membership,
                        changed: list[str]) -> InboxSettings:
    """Store the organisation's inbox settings (``row`` comes from the form).

    A change of the hours, open weekdays, closed days or target re-times the
    open conversations (``targets.retime_open``).
    """
    from .policies import inbox_settings_policy

    inbox_settings_policy.check(actor, "change")
    row.organisation_id = actor.organisation_id
    row.save()
    changes = {"fields": changed}
    if targets.TIMING_FIELDS.intersection(changed):
        # One rule for every open conversation: the new hours, days or
        # target re-time those waiting now, not only the ones that come.
        changes["retimed"] = targets.retime_open(row.organisation_id, row)
    audit.record("inbox.settings.changed", actor=actor, target=row,
                 changes=changes)
    return row


@transaction.atomic
def add_assignment_rule(*, actor: Membership, administration: Administration,
                        channel=None, keyword: str = "") -> AssignmentRule:
    """A rule that assigns new conversations on ``channel`` and/or with
    ``keyword`` in their text to ``administration``; the same rule again (a
    form sent twice) is the one already there."""
    from .policies import inbox_settings_policy

    inbox_settings_policy.check(actor, "change")
    keyword = (keyword or "").strip()
    if keyword and not untrusted.as_read(keyword):
        raise ValidationError(_("Nøgleordet består kun af tegn, der ikke ses "
                                "(fx mellemrum uden bredde). Skriv ordet, som "
                                "det står i borgernes tekst."))
    if channel is None and not keyword:
        raise ValidationError(_("Vælg en kanal, et nøgleord eller begge."))
    if administration.organisation_id != actor.organisation_id or (
        channel is not None and channel.organisation_id != actor.organisation_id
    ):
        raise ValidationError(_("Forvaltningen hører ikke til organisationen."))
    # Held until the rule is stored: the same form sent twice at once (a
    # double click) is one rule, and positions are counted one at a time.
    Organisation.objects.select_for_update().only("pk").get(
        pk=actor.organisation_id)
    last = AssignmentRule.objects.filter(organisation_id=actor.organisation_id)
    same = last.filter(administration=administration, channel=channel,
                       keyword=keyword).first()
    if same is not None:
        return same
    rule = AssignmentRule.objects.create(
        organisation_id=actor.organisation_id, administration=administration,
        channel=channel, keyword=keyword, position=last.count() + 1,
    )
    audit.record("inbox.rule.created", actor=actor, target=rule,
                 changes={"keyword": keyword,
                          "channel": channel.pk if channel else None,
                          "administration": administration.code})
    return rule


@transaction.atomic
def delete_assignment_rule(rule, *, actor: Membership) -> None:
    from .policies import inbox_settings_policy

    inbox_settings_policy.check(actor, "change")
    if rule.organisation_id != actor.organisation_id:
        raise PermissionDenied
    audit.record("inbox.rule.deleted", actor=actor, target=rule,
                 changes={"keyword": rule.keyword})
    rule.delete()
