"""Liking a citizen's comment or reply on the network, from the inbox.

"Synes godt om" puts the organisation's like on the item on the network
(``NetworkAdapter.like``); "Fjern synes godt om" takes it back. Whoever may
reply to the conversation or moderate it may do it (``conversation_policy``,
action ``like``). Direct messages cannot be liked, nor can an item the
network no longer has.

A like speaks in the organisation's name, so it is refused while a crisis
covers the channel (``publishing.scope``, the one crisis answer): once here,
and again by the adapter's fence right before the write, so a crisis that
begins meanwhile still stops it. Taking a like back stays allowed in a
crisis, as hiding and deleting do. A channel turned off (``reach``) takes
neither, checked the same two times.

The network is called directly, outside any transaction (a network call never
holds a database lock), as moderation does, not through publishing's
follow-up engine: a like is idempotent on every network that offers it (X,
Mastodon, Facebook, Instagram and LinkedIn keep one like per account; on
Bluesky, where every like record counts, the adapter looks up the account's
own like first), so a like
whose answer was lost is safely sent again by the next click, and the editor
sees the network's answer at once instead of a queued job. Two clicks or two
people give one like: a short lease in the shared cache lets one request at
a time change an item's like, and a request that finds the item already as
asked sends nothing. The row changes (``InboxItem.liked_at``/``liked_by``)
and the audit entry are written only after the network said yes: a refusal
leaves nothing half recorded.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.errors import Fenced, NetworkError, NotSupported
from kanal.channels.vault import VaultError
from kanal.channels.wording import direct_failure
from kanal.core import audit
from kanal.publishing.scope import CrisisScope

from . import reach
from .models import InboxItem
from .moderation import check_still_there, network_supports
from .policies import conversation_policy

logger = logging.getLogger("kanal.inbox.likes")

#: How long one request may hold an item's like (seconds): longer than a
#: network call may take, short enough that a crashed request frees it soon.
LEASE_SECONDS = 60

CRISIS_REFUSAL = gettext_lazy(
    "Krisetilstand er aktiv for kanalen, så Kanal synes ikke godt om "
    "kommentarer nu. Du kan stadig skjule eller slette dem.")


def can_like(item: InboxItem) -> bool:
    """Whether the network lets Kanal like ``item`` (never a message)."""
    return item.deleted_on_network_at is None and network_supports(item, "like")


def crisis_covers(item: InboxItem) -> bool:
    return CrisisScope.current(item.organisation_id).covers_channel(item.channel_id)


def set_liked(item: InboxItem, *, actor, liked: bool = True) -> bool:
    """Like (or unlike) ``item`` on the network as the channel's account.

    Returns False when the item already was as asked (nothing was sent).
    Raises ``ValidationError`` with a Danish message when it may not be done
    or the network refused; ``PermissionDenied`` for an actor who may not.
    """
    conversation_policy.check(actor, "like", item.conversation)
    if item.kind == "message":
        raise ValidationError(_("En besked kan ikke få synes godt om."))
    if not can_like(item):
        raise ValidationError(
            _("%(network)s lader ikke Kanal synes godt om den her. Gør det direkte "
              "på netværket.") % {"network": item.channel.get_network_display()})
    if liked and crisis_covers(item):
        raise ValidationError(str(CRISIS_REFUSAL))
    reach.check_on(item.channel)
    lease = f"inbox:like:{item.pk}"
    if not cache.add(lease, getattr(actor, "pk", 0), timeout=LEASE_SECONDS):
        raise ValidationError(_("En anden er ved at ændre synes godt om på "
                                "kommentaren. Prøv igen om lidt."))
    try:
        current = InboxItem.objects.filter(pk=item.pk).values_list(
            "liked_at", flat=True).first()
        if (current is not None) == liked:
            return False
        _send(item, liked=liked, actor=actor)
        _record(item, actor=actor, liked=liked)
        return True
    finally:
        cache.delete(lease)


def _send(item: InboxItem, *, liked: bool, actor) -> None:
    def fence(operation: str) -> None:
        if operation == "like" and crisis_covers(item):
            raise Fenced("crisis")
        if reach.is_off(item.channel):
            raise Fenced("channel")

    adapter = None
    try:
        adapter = adapter_for(item.channel, before_write=fence)
        adapter.like(item.remote_id, liked=liked)
    except Fenced as e:
        if e.reason == "channel":
            raise ValidationError(reach.refusal(item.channel)) from e
        raise ValidationError(str(CRISIS_REFUSAL)) from e
    except NotSupported as e:
        raise ValidationError(_("Netværket kan ikke det her. Gør det direkte på "
                                "netværket.")) from e
    except (NetworkError, VaultError) as e:
        message = direct_failure(e)
        logger.warning("like of item %s failed: %s", item.pk,
                       getattr(e, "support_detail", "") or message)
        if adapter is not None:
            check_still_there(adapter, item, kind="like" if liked else "unlike",
                              actor=actor, error=e)
        raise ValidationError(
            _("Netværket afviste det: %(why)s") % {"why": message}) from e


@transaction.atomic
def _record(item: InboxItem, *, actor, liked: bool) -> None:
    now = timezone.now()
    InboxItem.objects.filter(pk=item.pk).update(
        liked_at=now if liked else None, liked_by=actor if liked else None)
    item.liked_at, item.liked_by = (now, actor) if liked else (None, None)
    audit.record(
        "inbox.item.liked" if liked else "inbox.item.unliked",
        actor=actor,
        organisation=item.organisation,
        target=item,
        changes={"network": item.network, "channel": item.channel_id},
    )
