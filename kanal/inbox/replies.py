"""Answers to citizens: one answer a form, checked against the network's
rules and its length as sent, queued for the publishing worker, and the
conversation settled when it went out."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.base import OutgoingMessage
from kanal.channels.wording import network_sentence
from kanal.core import audit
from kanal.organisations.models import Membership
from kanal.publishing import followup

from . import meanwhile, reach, signals, targets
from .models import (
    OPEN_STATUSES,
    Answer,
    Conversation,
    ConversationStatus,
    InboxItem,
    InboxSettings,
    ItemKind,
    ReferralTemplate,
    StandardAnswer,
)
from .policies import (
    conversation_policy,
    referral_template_policy,
    standard_answer_policy,
)
from .selectors import answer_length, with_footer
from .templating import (
    fill_standard_answer,
    footer_problem,
    known_variables,
    unknown_variables,
)

MAX_ANSWER = 2000


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


def _check_footer(organisation) -> None:
    """An answer is refused, nothing queued, when the guidance footer that
    would go under it holds a brace (kept before the settings form refused
    them): it is never filled in, so "{kanalnavn}" would reach the citizen."""
    row = InboxSettings.objects.filter(organisation=organisation).first()
    if row is None or not row.require_footer:
        return
    variable = footer_problem(row)
    if variable:
        raise ValidationError(
            _("Svaret er ikke sendt: vejledningsteksten, der står under hvert "
              "svar, indeholder %(variable)s, som Kanal ikke udfylder. En "
              "administrator skal rette den under Indbakke → Indstillinger; "
              "send så svaret igen.") % {"variable": variable})


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
                   "known": known_variables()})
    if not text:
        raise ValidationError(_("Skriv et svar, eller vælg et standardsvar."))
    _check_footer(conversation.organisation)
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
    if _recipient_known_gone(item):
        raise ValidationError(_("Borgerens konto findes ikke længere på "
                                "netværket (et tidligere svar kunne ikke "
                                "sendes derfor), så Kanal kan ikke sende "
                                "beskeden. Dit svar er ikke sendt."))
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


def _comment_was_deleted(answer: Answer) -> None:
    """The network says the comment ``answer`` was for is gone (the citizen
    deleted it before the answer went out): the comment is recorded as
    deleted on the network, as polling records it, and the conversation
    timed again. Nothing reached the citizen, so it is not *answered*; when
    no other item in it waits for the desk, it needs no reply (*Kræver ikke
    svar*, audited ``inbox.reply.parent_gone``), else it stays open. The
    answer keeps its text; its reason says why it was not sent."""
    from .intake import ingest
    from .moderation import waiting_items
    from .polling import as_network_item

    item = answer.item
    ingest(item.channel, as_network_item(item), action="remove",
           at=timezone.now())
    conversation = Conversation.objects.select_for_update().get(
        pk=answer.conversation_id)
    before = conversation.status
    if before in OPEN_STATUSES and not waiting_items(conversation).exists():
        conversation.status = ConversationStatus.NO_REPLY
        conversation.save(update_fields=["status", "updated_at"])
    audit.record("inbox.reply.parent_gone", organisation=conversation.organisation,
                 target=conversation,
                 changes={"item": item.remote_id, "network": item.network,
                          "status": [before, conversation.status]})


def _recipient_was_gone(answer: Answer) -> None:
    """The network says the citizen whose message ``answer`` was for has no
    account any more: nothing reached them, and nothing can. Their messages
    stop waiting for the desk; when no one else's item waits, the
    conversation needs no reply (*Kræver ikke svar*, no due time), audited
    ``inbox.reply.recipient_gone``. The answer keeps its text; its reason
    says why it was not sent."""
    conversation = Conversation.objects.select_for_update().get(
        pk=answer.conversation_id)
    before = conversation.status
    author_id = answer.item.author_id
    from .moderation import waiting_items

    others = waiting_items(conversation).exclude(
        kind=ItemKind.MESSAGE, author_id=author_id)
    if before in OPEN_STATUSES and not others.exists():
        conversation.status = ConversationStatus.NO_REPLY
        conversation.due_at = None
        conversation.overdue_notified_at = None
        conversation.save(update_fields=["status", "due_at",
                                         "overdue_notified_at", "updated_at"])
    audit.record("inbox.reply.recipient_gone",
                 organisation=conversation.organisation, target=conversation,
                 changes={"item": answer.item.remote_id,
                          "network": answer.item.network,
                          "status": [before, conversation.status]})


def _recipient_known_gone(item: InboxItem) -> bool:
    """Whether an earlier answer to ``item``'s author found their account
    gone (``followup.RECIPIENT_GONE``) after the newest message they sent:
    a new answer would only fail the same way."""
    newest = InboxItem.objects.filter(
        conversation_id=item.conversation_id, kind=ItemKind.MESSAGE,
        author_id=item.author_id,
    ).order_by("-received_at").values_list("received_at", flat=True).first()
    gone = Answer.objects.filter(
        conversation_id=item.conversation_id, item__author_id=item.author_id,
        follow_up__error_kind=followup.RECIPIENT_GONE)
    if newest is not None:
        gone = gone.filter(follow_up__updated_at__gt=newest)
    return gone.exists()


@transaction.atomic
def record_reply_outcome(answer: Answer) -> None:
    """The worker sent (or gave up on) ``answer``: settle the conversation
    (system action).

    An answer not sent because the citizen deleted the comment meanwhile
    records the deletion (``_comment_was_deleted``). Otherwise only an
    answer that went out changes it: the first response time is
    kept, and the conversation becomes *answered* (*referred* for a
    referral, audited ``inbox.conversation.referred``). One that failed or
    was given up leaves it as it was, open: nothing reached the citizen.
    When the citizen wrote again after the newest sent answer was written
    (``targets.waiting_since``), the conversation stays open (or opens
    again) and is due by the target counted from that item: an answer never
    closes a question it was not written for.
    """
    follow_up = answer.follow_up
    if follow_up.error_kind == followup.PARENT_GONE:
        _comment_was_deleted(answer)
        return
    if follow_up.error_kind == followup.RECIPIENT_GONE:
        _recipient_was_gone(answer)
        return
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
