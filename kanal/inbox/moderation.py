"""Moderation on the network by the house rules, and the personal-data guard.

Each hide, unhide or delete calls the network first (outside any
transaction: a network call never holds a database lock), then records what
was done with its house-rule reason, audits it and announces it
(``signals.item_moderated``). A warning is a hide or a delete for breaking
the house rules; the count per author is shown with the organisation's
policy (blocked at the n-th warning).
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.errors import (
    AuthExpired,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.vault import VaultError
from kanal.channels.wording import direct_failure
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.notifications.audience import members_with

from . import privacy, reach, signals, targets
from .models import (
    OPEN_STATUSES,
    Conversation,
    ConversationStatus,
    InboxItem,
    InboxSettings,
    ItemKind,
    ModerationAction,
    Reason,
)
from .policies import conversation_policy

logger = logging.getLogger("kanal.inbox.moderation")

NETWORK_OPERATION = {"hide": "hide", "unhide": "hide", "delete": "delete"}
WARNINGS = ("hide", "delete")


def can_on_network(item: InboxItem, kind: str) -> bool:
    """Whether ``item``'s network lets Kanal do ``kind`` (hide/unhide/delete)."""
    return network_supports(item, NETWORK_OPERATION[kind])


def network_supports(item: InboxItem, operation: str) -> bool:
    """Whether ``item``'s network offers ``operation`` (an adapter operation
    name) on it; never on a direct message."""
    if item.kind == "message":
        return False
    try:
        supports = adapter_for(item.channel, credentials=False).capabilities().supports
    except Exception:  # an adapter that cannot even say: offer nothing
        return False
    return operation in supports


def moderate_item(
    item: InboxItem, *, actor, kind: str, reason: str = ""
) -> ModerationAction:
    """Hide, unhide or delete ``item`` on the network, for ``reason``.

    Raises ``ValidationError`` with a Danish message when the reason is
    missing, the network cannot do it, or the network refused.
    """
    conversation_policy.check(actor, "moderate", item.conversation)
    if kind not in NETWORK_OPERATION:
        raise ValidationError(_("Ukendt handling."))
    if kind in WARNINGS and reason not in Reason.values:
        raise ValidationError(_("Vælg den husregel, kommentaren bryder."))
    already = {
        "hide": item.hidden_on_network and _("Kommentaren er allerede skjult."),
        "unhide": not item.hidden_on_network and _("Kommentaren er ikke skjult."),
        "delete": item.deleted_on_network_at is not None
        and _("Kommentaren er allerede slettet."),
    }[kind]
    if already:
        raise ValidationError(already)
    reach.check_on(item.channel)
    if not can_on_network(item, kind):
        raise ValidationError(_("%(network)s lader ikke Kanal gøre det. Gør det "
                                "direkte på netværket.") % {
            "network": item.channel.get_network_display()})
    try:
        adapter = adapter_for(item.channel)
    except VaultError as e:
        raise ValidationError(
            _("Netværket afviste det: %(why)s") % {"why": direct_failure(e)}
        ) from e
    try:
        _on_network(adapter, item, kind)
    except NotSupported as e:
        raise ValidationError(_("Netværket kan ikke det her. Gør det direkte på "
                                "netværket.")) from e
    except (NetworkError, VaultError) as e:
        logger.warning("moderation (%s) of item %s failed: %s", kind, item.pk,
                       getattr(e, "support_detail", "") or e)
        _settle(adapter, item, kind=kind, reason=reason, actor=actor, error=e)
    return _record(item, actor=actor, kind=kind, reason=reason)


def _on_network(adapter, item: InboxItem, kind: str) -> None:
    if kind == "delete":
        adapter.delete(item.remote_id)
    else:
        adapter.hide(item.remote_id, hidden=kind == "hide")


def _uncertain(error: Exception) -> bool:
    """Whether the network may have done what it answered with ``error``: a
    5xx, no answer, or an unreadable one (a refusal or a throttle did
    nothing)."""
    return isinstance(error, (TransientError, OutcomeUnknown)) and not isinstance(
        error, RateLimited)


def _gone(adapter, item: InboxItem) -> bool | None:
    """Whether the network says ``item`` no longer exists (None: it cannot
    tell, or cannot be asked)."""
    try:
        return adapter.read_post(item.remote_id).gone
    except Exception:  # any failure to ask leaves it open, never a deletion
        return None


def _settle(adapter, item: InboxItem, *, kind: str, reason: str, actor,
            error: Exception) -> None:
    """Find out what a hide or delete that failed did on the network.

    Returns when it was done after all (the caller records it); raises
    ``ValidationError`` with what the moderator should do otherwise. A hide
    sets a flag, so it is sent once more; a delete is looked up (gone after
    Kanal's own attempt = deleted). A delete the network could not confirm
    either way is kept on the item (``moderation_uncertain``) and audited,
    so the next attempt that finds the comment gone records it."""
    uncertain = (isinstance(error, NetworkError) and _uncertain(error)) or (
        kind == "delete" and item.moderation_uncertain == "delete")
    if uncertain and kind == "delete":
        gone = _gone(adapter, item)
        if gone:
            return
        if gone is None:
            _keep_uncertain(item, kind=kind, reason=reason, actor=actor)
            raise ValidationError(_(
                "Netværket svarede med en fejl, og Kanal kan ikke se, om "
                "kommentaren blev slettet. Se efter på netværket, og slet den "
                "igen her: er den allerede væk, registrerer Kanal sletningen.")
            ) from error
        if isinstance(error, NetworkError) and _uncertain(error):
            raise ValidationError(_(
                "Netværket svarede med en fejl, og kommentaren er der stadig. "
                "Prøv igen om lidt.")) from error
    elif uncertain:
        try:
            _on_network(adapter, item, kind)
        except (NetworkError, VaultError) as again:
            check_still_there(adapter, item, kind=kind, actor=actor, error=again)
            raise ValidationError(_(
                "Netværket svarede med en fejl to gange, så Kanal ved ikke, om "
                "det lykkedes. Prøv igen om lidt (det giver ikke noget dobbelt).")
            ) from again
        return
    check_still_there(adapter, item, kind=kind, actor=actor, error=error)
    raise ValidationError(
        _("Netværket afviste det: %(why)s") % {"why": direct_failure(error)}
    ) from error


def check_still_there(adapter, item: InboxItem, *, kind: str, actor,
                       error: Exception) -> None:
    """A refusal may say that the comment no longer exists (Graph's "does
    not exist", a 404; each network words it its own way): the network is
    asked (``read_post``), and a comment it says is gone (the citizen
    deleted it before Kanal noticed) is recorded as deleted on the network,
    as polling records it, and the conversation is retimed. The moderator
    is told (``ValidationError``); nothing was done by Kanal, so nothing is
    counted as a warning."""
    refused = isinstance(error, Rejected) and not isinstance(
        error, (AuthExpired, NotSupported))
    if not refused or not _gone(adapter, item):
        return
    from .intake import ingest
    from .polling import as_network_item

    with transaction.atomic():
        ingest(item.channel, as_network_item(item), action="remove",
               at=timezone.now())
        audit.record("inbox.item.found_deleted", actor=actor,
                     organisation=item.organisation, target=item,
                     changes={"kind": kind, "network": item.network})
    raise ValidationError(_(
        "Kommentaren findes ikke længere på netværket (borgeren har slettet "
        "den), så der var intet at gøre. Kanal har nu registreret den som "
        "slettet, og den skal ikke besvares.")) from error


@transaction.atomic
def _keep_uncertain(item: InboxItem, *, kind: str, reason: str, actor) -> None:
    InboxItem.objects.filter(pk=item.pk).update(moderation_uncertain=kind)
    item.moderation_uncertain = kind
    audit.record("inbox.item.moderation_uncertain", actor=actor,
                 organisation=item.organisation, target=item,
                 changes={"kind": kind, "reason": reason, "network": item.network})


@transaction.atomic
def _record(item: InboxItem, *, actor, kind: str, reason: str) -> ModerationAction:
    # Two moderators (or a double click) hid it at once: the network hid it
    # once, and the citizen gets one warning, not two.
    current = InboxItem.objects.select_for_update().get(pk=item.pk)
    done = {"hide": current.hidden_on_network,
            "unhide": not current.hidden_on_network,
            "delete": current.deleted_on_network_at is not None}[kind]
    if done:
        earlier = ModerationAction.objects.filter(item=item, kind=kind).last()
        if earlier is not None:
            return earlier
    row = ModerationAction.objects.create(
        item=item, kind=kind, reason=reason if kind in WARNINGS else "",
        actor=actor, author_id=item.author_id,
    )
    if kind == "delete":
        item.deleted_on_network_at = row.created_at
        item.moderation_uncertain = ""
        item.save(update_fields=["deleted_on_network_at", "moderation_uncertain"])
        targets.retime(item.conversation_id)
    else:
        item.hidden_on_network = kind == "hide"
        item.hidden_changed_at = row.created_at
        item.save(update_fields=["hidden_on_network", "hidden_changed_at"])
    _settle_conversation(item.conversation_id, kind=kind)
    audit.record(
        f"inbox.item.{'hidden' if kind == 'hide' else kind + 'd'}"
        if kind != "unhide" else "inbox.item.unhidden",
        actor=actor,
        organisation=item.organisation,
        target=item,
        changes={"reason": reason, "network": item.network,
                 "warnings": warnings_for(item)},
    )
    transaction.on_commit(lambda: signals.item_moderated.send(
        sender=InboxItem, item=item, action=kind, reason=reason, actor=actor))
    return row


def _settle_conversation(conversation_id: int, *, kind: str) -> None:
    """The conversation's status after ``kind`` on one of its items.

    A hide or delete closes an open conversation as *Skjult* only when no
    item in it still waits for the desk (``waiting_items``): a spammer's
    reply hidden under a citizen's unanswered question leaves the question
    open. Showing an item again gives a *Skjult* conversation back the
    status it had before."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if kind in WARNINGS:
        if conversation.status in OPEN_STATUSES and not waiting_items(
            conversation
        ).exists():
            Conversation.objects.filter(pk=conversation.pk).update(
                status=ConversationStatus.HIDDEN,
                status_before_hidden=conversation.status)
    elif conversation.status == ConversationStatus.HIDDEN:
        Conversation.objects.filter(pk=conversation.pk).update(
            status=conversation.status_before_hidden or conversation.open_status())


def waiting_items(conversation: Conversation):
    """The items of ``conversation`` that still wait for the desk: not
    deleted on the network, not hidden there for breaking a house rule (one
    hidden for the citizen's personal data still needs an answer, e.g.
    privately), and received after the newest answer that went out."""
    last_hide = ModerationAction.objects.filter(
        item=OuterRef("pk"), kind="hide").order_by("-pk").values("reason")[:1]
    return conversation.unanswered_items().annotate(
        hidden_for=Subquery(last_hide)
    ).filter(Q(hidden_on_network=False) | Q(hidden_for=Reason.PERSONAL_DATA))


#: Reasons that are a breach of the house rules. Personal data is not: a
#: hide for it (the guard's, or a moderator's) protects the citizen.
WARNING_REASONS = frozenset(Reason.values) - {Reason.PERSONAL_DATA}


def warnings_for(item: InboxItem) -> int:
    """How many of this author's comments (on this organisation's channels)
    stand hidden or deleted for breaking the house rules: one warning per
    comment, however often it was moderated (hidden, then deleted, is one);
    an unhide takes back the warning of the hides before it."""
    if not item.author_id:
        return 0
    standing: set[int] = set()
    for item_id, kind, reason in ModerationAction.objects.filter(
        item__organisation_id=item.organisation_id, author_id=item.author_id,
    ).order_by("created_at", "pk").values_list("item_id", "kind", "reason"):
        if kind == ModerationAction.Kind.UNHIDE:
            standing.discard(item_id)
        elif kind in WARNINGS and reason in WARNING_REASONS:
            standing.add(item_id)
    return len(standing)


def warning_policy(item: InboxItem) -> dict:
    """The author's warning count and what the organisation's policy says."""
    row = InboxSettings.objects.filter(organisation_id=item.organisation_id).first()
    limit = row.block_at_warning if row else 3
    count = warnings_for(item)
    return {"count": count, "limit": limit,
            "block": bool(limit) and count >= limit,
            "rules_url": row.house_rules_url if row else ""}


def guard_personal_data(items) -> int:
    """Hide items with personal data on the network where the organisation
    asks for it, and tell its editors why; ``items`` are new ones and those
    an edit gave personal data (``intake.Outcome.to_guard``). Returns how
    many were hidden.

    A direct message is private: it is flagged and masked in Kanal, never
    hidden, and nobody is told to hide it (citizens send their CPR number
    privately on purpose). An item already hidden, deleted on the network
    or redacted is left alone."""
    hidden = 0
    for item in items:
        if (not item.personal_data or item.hidden_on_network
                or item.kind == ItemKind.MESSAGE
                or item.deleted_on_network_at is not None
                or item.redacted_at is not None):
            continue
        row = InboxSettings.objects.filter(organisation_id=item.organisation_id).first()
        done = False
        if row is not None and row.hide_personal_data and can_on_network(item, "hide"):
            try:
                moderate_item(item, actor=None, kind="hide",
                              reason=Reason.PERSONAL_DATA)
                done = True
                hidden += 1
            except ValidationError as e:
                logger.warning("could not hide item %s: %s", item.pk, e.messages)
        _tell_editors(item, hidden=done, asked=bool(row and row.hide_personal_data))
    return hidden


#: What the editor is told to do, by what Kanal could do (read-time words).
PRIVACY_STEPS = {
    "hidden": gettext_lazy("Kommentaren er skjult på netværket med det samme."),
    "failed": gettext_lazy("Kanal kunne ikke skjule den: skjul eller slet den "
                           "på netværket nu."),
    "consider": gettext_lazy("Overvej at skjule den på netværket."),
}


def render_privacy_step(code) -> str:
    return str(PRIVACY_STEPS.get(code, ""))


def render_privacy_kinds(kinds) -> str:
    return ", ".join(privacy.labels(list(kinds or [])))


def _tell_editors(item: InboxItem, *, hidden: bool, asked: bool) -> None:
    step = "hidden" if hidden else "failed" if asked else "consider"
    notify(
        members_with(item.organisation_id, "inbox.moderate"),
        kind="inbox_personal_data",
        params={"channel": str(item.channel), "privacy_kinds": item.personal_data,
                "privacy_step": step},
        about=item.conversation,
        url=f"/indbakke/{item.conversation_id}/",
    )
