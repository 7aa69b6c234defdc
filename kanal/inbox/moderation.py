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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.errors import NetworkError, NotSupported
from kanal.channels.vault import VaultError
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.notifications.audience import members_with

from . import privacy, signals
from .models import (
    Conversation,
    ConversationStatus,
    InboxItem,
    InboxSettings,
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
    if not can_on_network(item, kind):
        raise ValidationError(_("%(network)s lader ikke Kanal gøre det. Gør det "
                                "direkte på netværket.") % {
            "network": item.channel.get_network_display()})
    try:
        adapter = adapter_for(item.channel)
        if kind == "delete":
            adapter.delete(item.remote_id)
        else:
            adapter.hide(item.remote_id, hidden=kind == "hide")
    except NotSupported as e:
        raise ValidationError(_("Netværket kan ikke det her. Gør det direkte på "
                                "netværket.")) from e
    except (NetworkError, VaultError) as e:
        message = getattr(e, "message", "") or str(e)
        logger.warning("moderation of item %s failed: %s", item.pk, message)
        raise ValidationError(
            _("Netværket afviste det: %(why)s") % {"why": message}
        ) from e
    return _record(item, actor=actor, kind=kind, reason=reason)


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
        item.save(update_fields=["deleted_on_network_at"])
    else:
        item.hidden_on_network = kind == "hide"
        item.hidden_changed_at = row.created_at
        item.save(update_fields=["hidden_on_network", "hidden_changed_at"])
    conversation = item.conversation
    if kind in WARNINGS and conversation.status != ConversationStatus.HIDDEN:
        Conversation.objects.filter(pk=conversation.pk).update(
            status=ConversationStatus.HIDDEN)
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


def warnings_for(item: InboxItem) -> int:
    """How many times this author's comments were hidden or deleted for
    breaking the house rules (on this organisation's channels)."""
    if not item.author_id:
        return 0
    return ModerationAction.objects.filter(
        item__organisation_id=item.organisation_id, author_id=item.author_id,
        kind__in=WARNINGS,
    ).exclude(reason="").count()


def warning_policy(item: InboxItem) -> dict:
    """The author's warning count and what the organisation's policy says."""
    row = InboxSettings.objects.filter(organisation_id=item.organisation_id).first()
    limit = row.block_at_warning if row else 3
    count = warnings_for(item)
    return {"count": count, "limit": limit,
            "block": bool(limit) and count >= limit,
            "rules_url": row.house_rules_url if row else ""}


def guard_personal_data(items) -> int:
    """Hide new items with personal data on the network where the
    organisation asks for it, and tell its editors why. Returns how many
    were hidden."""
    hidden = 0
    for item in items:
        if not item.personal_data or item.hidden_on_network:
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
