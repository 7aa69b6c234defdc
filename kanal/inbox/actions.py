"""Every change the desk makes to the inbox: checked, audited, announced."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.base import OutgoingMessage
from kanal.channels.wording import network_sentence
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.organisations.models import Administration, Membership, Organisation
from kanal.publishing import followup

from . import meanwhile, reach, signals, targets
from .models import (
    OPEN_STATUSES,
    Answer,
    AssignmentRule,
    Conversation,
    ConversationStatus,
    InboxItem,
    InboxSettings,
    ItemKind,
    Note,
    ReferralTemplate,
    StandardAnswer,
)
from .policies import (
    conversation_policy,
    referral_template_policy,
    standard_answer_policy,
)
from .selectors import answer_length, with_footer

MAX_ANSWER = 2000


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
def add_note(conversation: Conversation, *, actor: Membership, text: str,
             key: str = "") -> Note:
    """An internal note; members it @mentions by user name are told.

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


#: The variables a standard answer or referral template may hold
#: (``fill_standard_answer`` fills them in).
TEMPLATE_VARIABLES = ("fornavn", "kanalnavn", "forvaltningsnavn")
#: A ``{…}`` (or a brace left open to the end, or a lone closing brace).
_BRACED = re.compile(r"\{[^{}]*\}?|\}")


def unknown_variables(text: str) -> list[str]:
    """Every ``{…}`` in a kept text that Kanal cannot fill: a name it does
    not know (``{navn}``, ``{Fornavn}``), a brace left open (``{fornavn``,
    shown to its first word) or a lone closing brace."""
    unknown = []
    for match in _BRACED.finditer(text or ""):
        found = match.group()
        if found.endswith("}") and found[1:-1] in TEMPLATE_VARIABLES:
            continue
        shown = found.split()[0] if found.split() else found
        unknown.append(shown[:40])
    return unknown


def _known_variables() -> str:
    return ", ".join("{" + name + "}" for name in TEMPLATE_VARIABLES)


def fill_standard_answer(answer: StandardAnswer | ReferralTemplate,
                         item: InboxItem) -> str:
    """The standard answer's (or referral template's) text with its
    variables filled in for ``item``; a referral names its own
    administration where it has one.

    ``{fornavn}`` is the citizen's first name as a plain name only
    (``first_name``): the name is whatever the citizen chose on the
    network, and the answer goes out from the organisation's account, so a
    handle, a link, a hashtag or markup never gets into it. Without such a
    name the variable is left out with the space before it ("Hej.").
    """
    conversation = item.conversation
    administration = (getattr(answer, "administration", None)
                      or conversation.assigned_administration)
    values = {
        "fornavn": first_name(item.author_name),
        "kanalnavn": conversation.channel.display_name,
        "forvaltningsnavn": administration.name if administration else "",
    }
    text = answer.text
    for name, value in values.items():
        if not value:
            text = re.sub(r"[ \t]*\{" + name + r"\}", "", text)
        text = text.replace("{" + name + "}", value)
    return text


#: Characters that join the parts of a name (Anne-Marie, D'Angelo, O’Brien).
NAME_JOINERS = "-'’"
FIRST_NAME_LIMIT = 40


def first_name(author_name: str) -> str:
    """The first word of ``author_name`` when it is a plain name, else "".

    A plain name is letters (any script, with their combining marks) joined
    by a hyphen or an apostrophe; punctuation or an emoji after it is left
    off ("Mette," and "Mette🌸" give "Mette"). A word that starts with
    anything else (@handle, #tag, a link, markup) or holds anything else
    (borgmester_kbh, svindel.dk, https://…) is no name: nothing is used.
    """
    words = (author_name or "").split()
    if not words:
        return ""
    word = words[0]
    while word and not _is_letter(word[-1]):
        word = word[:-1]
    if not word or len(word) > FIRST_NAME_LIMIT or not _is_letter(word[0]):
        return ""
    for before, char in pairwise(word):
        if char in NAME_JOINERS:
            if before in NAME_JOINERS:
                return ""
        elif not (_is_letter(char) or unicodedata.category(char).startswith("M")):
            return ""
    return word


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _check_network_length(item: InboxItem, text: str) -> None:
    """An answer the network cannot take is refused now, counted as the
    network counts (``selectors.answer_length``: the count the reply form's
    counter shows) on the text exactly as it is sent: with the guidance
    footer and what the adapter adds (Mastodon's @name of the citizen in
    front, ``answer_text``)."""
    channel = item.conversation.channel
    message = item.kind == ItemKind.MESSAGE
    length = answer_length(channel, text, message=message,
                           to_handle=item.author_handle)
    if not length.over:
        return
    values = {"network": channel.get_network_display(), "count": length.count,
              "limit": length.limit, "added": length.added}
    if length.character_limit and length.characters > length.character_limit:
        raise ValidationError(_(
            "Svaret er for langt til %(network)s: %(count)s tegn, højst "
            "%(limit)s (med vejledningen). Forkort det.") % {
                **values, "count": length.characters,
                "limit": length.character_limit})
    if length.added and length.unit != "bytes":
        raise ValidationError(_(
            "Svaret er for langt til %(network)s: det bliver %(count)s tegn "
            "med %(added)s foran (%(network)s nævner den, der svares, og "
            "vejledningen er med); %(network)s tillader %(limit)s. Forkort "
            "det.") % values)
    if length.unit == "bytes":
        raise ValidationError(_(
            "Svaret er for langt til %(network)s: %(count)s bytes, højst "
            "%(limit)s (æ, ø og å fylder 2, de fleste emoji 4; med "
            "vejledningen). Forkort det.") % values)
    raise ValidationError(_(
        "Svaret er for langt til %(network)s: %(count)s tegn, højst %(limit)s "
        "(som netværket tæller, med vejledningen). Forkort det.") % values)


@transaction.atomic
def reply_to_item(
    item: InboxItem,
    *,
    actor: Membership,
    text: str = "",
    standard_answer: StandardAnswer | None = None,
    referral: ReferralTemplate | None = None,
    key: str,
    seen: meanwhile.Seen | None = None,
) -> Answer:
    """Answer ``item`` on the network, exactly once for ``key``.

    ``key`` comes from the form the person submitted, so sending the same
    form twice makes one answer. The text (or the filled-in standard answer
    or referral template) gets the organisation's guidance footer where it is
    required; the publishing worker sends it (``followup.queue_reply``). An
    answer with a ``referral`` marks the conversation *referred* once it went
    out (``record_reply_outcome``), never while it only waits. A direct
    message is answered privately (``followup.queue_message``) where the
    network allows it, and refused at once when its rules forbid the answer
    (Messenger's 7 days). With ``seen`` (what the person's page showed), an
    answer is refused (``meanwhile.WrittenMeanwhile``) when a colleague
    answered, or the citizen wrote, since.
    """
    conversation = item.conversation
    conversation_policy.check(actor, "reply", conversation)
    # Held until the answer is queued: two answers sent at once are checked
    # one after the other (a double click finds its first answer by its key,
    # a colleague's answer finds the other's in ``meanwhile.check``).
    Conversation.objects.select_for_update().only("pk").get(pk=conversation.pk)
    existing = Answer.objects.filter(follow_up__idempotency_key=key).first()
    if item.deleted_on_network_at is not None:
        raise ValidationError(_("Borgeren har slettet kommentaren på netværket; "
                                "den kan ikke besvares."))
    reach.check_on(conversation.channel)
    if standard_answer is not None and referral is not None:
        raise ValidationError(_("Vælg enten et standardsvar eller en henvisning, "
                                "ikke begge."))
    if standard_answer is not None:
        standard_answer_policy.check(actor, "use", standard_answer)
    if referral is not None:
        referral_template_policy.check(actor, "use", referral)
        if referral.organisation_id != conversation.organisation_id:
            raise ValidationError(_("Henvisningen hører ikke til organisationen."))
    text = (text or "").strip()
    template = standard_answer or referral
    if not text and template is not None:
        text = fill_standard_answer(template, item)
    if template is not None:
        # Filled in empty or shown in the form and sent on: what the
        # template holds that Kanal cannot fill never goes out as "{navn}".
        left = [v for v in unknown_variables(template.text) if v in text]
        if left:
            raise ValidationError(
                _("Svaret er ikke sendt: skabelonen ”%(title)s” bruger "
                  "%(variable)s, som Kanal ikke kan udfylde. Ret skabelonen "
                  "(Kanal kender %(known)s), eller skriv svaret selv.")
                % {"title": template.title, "variable": left[0],
                   "known": _known_variables()})
    if not text:
        raise ValidationError(_("Skriv et svar, eller vælg et standardsvar."))
    text = with_footer(conversation.organisation, text)
    if existing is not None:
        # The key says "this form was sent": the same answer again is the
        # same answer; another text with a used key (a form the browser's
        # Back button restored, a stale tab) is refused, never dropped.
        if existing.item_id == item.pk and existing.text == text:
            return existing
        raise ValidationError(_("Formularen er allerede brugt til et andet svar. "
                                "Dit svar er ikke sendt; send det igen herfra."))
    if seen is not None:
        meanwhile.check(conversation, seen)
    if len(text) > MAX_ANSWER:
        raise ValidationError(_("Svaret er for langt (højst 2.000 tegn)."))
    _check_network_length(item, text)
    if item.kind == ItemKind.MESSAGE:
        message = _private_answer(item, text)
        follow_up = followup.queue_message(
            channel=conversation.channel, to_remote_id=item.remote_id,
            recipient_id=message.recipient_id, text=text, idempotency_key=key,
            conversation_id=message.conversation_id,
            last_received_at=message.last_received_at, requested_by=actor,
        )
    else:
        follow_up = followup.queue_reply(
            channel=conversation.channel, to_remote_id=item.remote_id, text=text,
            idempotency_key=key, requested_by=actor,
        )
    # The same form sent twice at once (a double click): both requests pass
    # the check above; the second finds the first's answer here.
    answer, created = Answer.objects.get_or_create(follow_up=follow_up, defaults={
        "conversation": conversation, "item": item, "author": actor, "text": text,
        "standard_answer": standard_answer, "referral": referral,
    })
    if not created:
        return answer
    audit.record(
        "inbox.reply.queued",
        actor=actor,
        organisation=conversation.organisation,
        target=conversation,
        changes={"item": item.remote_id, "standard_answer": standard_answer.pk
                 if standard_answer else None,
                 "referral": referral.pk if referral else None},
    )
    return answer


def can_answer_messages(channel) -> bool:
    """Whether ``channel``'s network lets Kanal answer direct messages."""
    try:
        adapter = adapter_for(channel, credentials=False)
        return "send_message" in adapter.capabilities().supports
    except Exception:  # an adapter that cannot even say: offer nothing
        return False


def _private_answer(item: InboxItem, text: str) -> OutgoingMessage:
    """The answer to the message ``item`` as its network gets it; refused
    (``ValidationError``, in Danish) where the network does not take answers
    or its rules forbid this one now (Messenger after 7 days)."""
    channel = item.conversation.channel
    if not item.author_id:
        raise ValidationError(_("Netværket oplyste ikke, hvem beskeden er fra, så "
                                "Kanal kan ikke svare. Svar borgeren direkte på "
                                "netværket."))
    if not can_answer_messages(channel):
        raise ValidationError(
            _("%(network)s lader ikke Kanal besvare beskeder. Svar borgeren "
              "direkte på netværket.") % {"network": channel.get_network_display()})
    # Messenger's windows count from the citizen's latest message.
    latest = InboxItem.objects.filter(
        conversation_id=item.conversation_id, kind=ItemKind.MESSAGE,
        author_id=item.author_id,
    ).order_by("-created_at").values_list("created_at", flat=True).first()
    message = OutgoingMessage(
        text=text, recipient_id=item.author_id, reply_to_remote_id=item.remote_id,
        conversation_id=item.parent_remote_id,
        last_received_at=latest or item.created_at,
    )
    refusal = adapter_for(channel, credentials=False).message_refusal(
        message, now=timezone.now())
    if refusal:
        raise ValidationError(network_sentence(refusal))
    return message


@transaction.atomic
def record_reply_outcome(answer: Answer) -> None:
    """The worker sent (or gave up on) ``answer``: settle the conversation
    (system action).

    Only an answer that went out changes it: the first response time is
    kept, and the conversation becomes *answered* (*referred* for a
    referral, audited ``inbox.conversation.referred``). One that failed or
    was given up leaves it as it was, open: nothing reached the citizen.
    When the citizen wrote again after the newest sent answer was written
    (``targets.waiting_since``), the conversation stays open (or opens
    again) and is due by the target counted from that item: an answer never
    closes a question it was not written for.
    """
    follow_up = answer.follow_up
    if follow_up.status != "done":
        return
    conversation = Conversation.objects.select_for_update().get(
        pk=answer.conversation_id
    )
    before = conversation.status
    changed = ["status", "updated_at"]
    if conversation.first_response_at is None:
        conversation.first_response_at = follow_up.updated_at
        changed.append("first_response_at")
        if conversation.due_at is not None:
            conversation.answered_on_time = (
                conversation.first_response_at <= conversation.due_at)
            changed.append("answered_on_time")
    waiting = targets.waiting_since(conversation)
    if waiting is not None:
        if conversation.status not in OPEN_STATUSES:
            conversation.status = conversation.open_status()
        conversation.due_at = targets.due_at(
            waiting, targets.settings_for(conversation.organisation_id))
        conversation.overdue_notified_at = None
        changed += ["due_at", "overdue_notified_at"]
    else:
        conversation.status = (ConversationStatus.REFERRED if answer.referral_id
                               else ConversationStatus.ANSWERED)
    conversation.save(update_fields=changed)
    audit.record(
        "inbox.reply.sent",
        organisation=conversation.organisation,
        target=conversation,
        changes={"remote_id": follow_up.remote_id},
    )
    if conversation.status == ConversationStatus.REFERRED != before:
        audit.record(
            "inbox.conversation.referred",
            actor=answer.author,
            organisation=conversation.organisation,
            target=conversation,
            changes={"status": [before, conversation.status],
                     "referral": answer.referral.title if answer.referral else ""},
        )
    transaction.on_commit(lambda: signals.reply_sent.send(
        sender=Answer, conversation=conversation, item=answer.item,
        remote_id=follow_up.remote_id, answer=answer,
    ))


def _save_kept_text(policy, model, *, actor: Membership, instance, title: str,
                    event: str, **values):
    """Create or change a standard answer or referral template."""
    policy.check(actor, "manage", instance)
    title, values["text"] = (title or "").strip(), (values["text"] or "").strip()
    if not title or not values["text"]:
        raise ValidationError(_("Skriv både en titel og en tekst."))
    unknown = unknown_variables(values["text"])
    if unknown:
        raise ValidationError(
            _("Teksten bruger %(variable)s, som Kanal ikke kan udfylde. Kanal "
              "kender %(known)s (med små bogstaver og begge klammer). Ret eller "
              "fjern %(variable)s.")
            % {"variable": unknown[0], "known": _known_variables()})
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
    raise ValidationError(_("Titlen er allerede brugt. Vælg en anden titel."))


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
        raise ValidationError(_("Forvaltningen hører ikke til organisationen."))
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
