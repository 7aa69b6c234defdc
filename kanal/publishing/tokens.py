"""Refreshing channels' tokens shortly before they expire, one channel at a
time.

The per-channel lock is a conditional UPDATE with a short lease measured by
the database's clock. After taking it the channel is read again: another
worker may have refreshed it a moment ago (X's refresh tokens are single
use, so refreshing with the credentials read before the lock would present a
revoked token). New tokens are stored only if the credentials did not change
while the call ran. A refusal (or a lost answer) while the current access
token still works never stops the channel: a person is told, once, to
reconnect it before the access token runs out.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from kanal.channels import vault
from kanal.channels.actions import mark_channel_needs_reconnect
from kanal.channels.adapters import build_adapter
from kanal.channels.credentials import store_refreshed_tokens
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.errors import AuthExpired, NetworkError, NotSupported
from kanal.channels.wording import network_sentence
from kanal.notifications.actions import notify
from kanal.notifications.audience import channel_desk

from . import conf
from .models import ChannelTokenRefresh

logger = logging.getLogger("kanal.publishing.tokens")



def _networks_with_own_lead() -> list[str]:
    ahead = conf.get("TOKEN_REFRESH_AHEAD_SECONDS")
    if not isinstance(ahead, dict):
        return []
    return [n for n in ahead if n != "default"]


def channels_due(now: datetime):
    """Connected channels whose token expires within their network's lead."""
    own = _networks_with_own_lead()
    due = Q(token_expires_at__lt=now + conf.token_refresh_ahead("default")) & ~Q(
        network__in=own
    )
    for network in own:
        due |= Q(network=network,
                 token_expires_at__lt=now + conf.token_refresh_ahead(network))
    return Channel.objects.filter(
        status=ChannelStatus.CONNECTED, token_expires_at__isnull=False
    ).filter(due)


def _is_due(channel: Channel, now: datetime) -> bool:
    return (
        channel.status == ChannelStatus.CONNECTED
        and channel.token_expires_at is not None
        and channel.token_expires_at < now + conf.token_refresh_ahead(channel.network)
    )


def _lock(channel_id: int, holder: str) -> bool:
    """The per-channel lock: a conditional update on the channel's row."""
    from .engine import db_in

    # A worker starting at the same moment may create it first.
    with contextlib.suppress(IntegrityError):
        ChannelTokenRefresh.objects.get_or_create(channel_id=channel_id)
    return bool(
        ChannelTokenRefresh.objects.filter(channel_id=channel_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now()))
        .update(
            lease_owner=holder[:120],
            lease_expires_at=db_in(conf.seconds("TOKEN_LOCK_SECONDS")),
        )
    )


def _unlock(channel_id: int, holder: str, **fields) -> None:
    ChannelTokenRefresh.objects.filter(
        channel_id=channel_id, lease_owner=holder[:120]
    ).update(lease_owner="", lease_expires_at=None, **fields)


def refresh_channel_token(
    channel: Channel, *, owner: str = "kanal", now: datetime | None = None
) -> str:
    """Refresh one channel's token under its lock; returns what happened:
    refreshed, unchanged, fresh (someone else just did), locked, superseded,
    not_supported, refused (the access token still works; a person was
    told), auth_expired or error."""
    holder = f"{owner[:80]}:{uuid.uuid4().hex[:12]}"
    if not _lock(channel.pk, holder):
        return "locked"
    outcome, error_text, refreshed = "error", "", False
    read = channel.encrypted_credentials
    try:
        channel = Channel.objects.get(pk=channel.pk)
        now = now or timezone.now()
        if not _is_due(channel, now):
            outcome = "fresh"
            return outcome
        read = channel.encrypted_credentials
        try:
            # No channel id: the new tokens are stored once, below, only if
            # nobody changed the credentials meanwhile.
            adapter = build_adapter(
                channel.connection(), timeout=conf.get("HTTP_TIMEOUT_SECONDS")
            )
            tokens = adapter.refresh_token()
        except vault.VaultError as e:
            raise AuthExpired(str(e)) from e
        outcome = _store(channel.pk, read, tokens)
        refreshed = outcome == "refreshed"
    except NotSupported:
        outcome = "not_supported"
    except AuthExpired as e:
        error_text = e.message
        outcome = _refused(channel, read, e, now=now or timezone.now())
    except NetworkError as e:
        # A lost answer may have rotated the refresh token; the next run
        # finds out, and a refusal then alerts a person (see _refused).
        outcome, error_text = "error", e.message
    finally:
        fields = {"last_error": error_text}
        if refreshed:
            fields.update(last_refreshed_at=timezone.now(), alerted_at=None)
        _unlock(channel.pk, holder, **fields)
        logger.info("token refresh %s: %s", channel.pk, outcome)
    return outcome


def _store(channel_id: int, read: str, tokens) -> str:
    """Store ``tokens`` unless the credentials changed since ``read`` (a
    person reconnected, or another refresh won): refreshed, unchanged (the
    network handed back the same session) or superseded."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        if channel.encrypted_credentials != read:
            logger.warning("channel %s: credentials changed during the refresh; "
                           "the newer ones are kept", channel_id)
            return "superseded"
        stored = store_refreshed_tokens(channel, tokens=tokens)
    return "unchanged" if stored.encrypted_credentials == read else "refreshed"


def _refused(channel: Channel, read: str, error: AuthExpired, *, now) -> str:
    """The network refused the refresh. While the access token still works
    nothing stops: a person is told (once) to reconnect in time."""
    channel = Channel.objects.get(pk=channel.pk)
    if channel.encrypted_credentials != read:
        return "superseded"  # new credentials arrived meanwhile
    expires = channel.token_expires_at
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        margin = conf.seconds("TOKEN_STILL_VALID_MARGIN_SECONDS")
        if expires is not None and expires > now + margin:
            state = ChannelTokenRefresh.objects.select_for_update().get(
                channel=channel
            )
            if state.alerted_at is None:
                state.alerted_at = now
                state.save(update_fields=["alerted_at"])
                notify(
                    channel_desk(
                        channel.organisation_id, channel.owner_administration_id
                    ),
                    kind="token_refresh_refused",
                    params={
                        "channel": str(channel),
                        "why": error.message,
                        "at": expires.isoformat(),
                    },
                    about=channel,
                    url=reverse("channel_detail", args=[channel.pk]),
                )
            return "refused"
        mark_channel_needs_reconnect(channel, error=error.message)
        notify(
            channel_desk(channel.organisation_id, channel.owner_administration_id),
            kind="token_refresh_failed",
            params={"channel": str(channel)},
            about=channel,
            url=reverse("channel_detail", args=[channel.pk]),
        )
    return "auth_expired"


def refresh_due_tokens(*, now=None, dry_run=False, owner="kanal") -> int:
    now = now or timezone.now()
    channels = list(channels_due(now))
    if dry_run:
        return len(channels)
    from .periodic import each_guarded

    # One channel's answer nobody foresaw never keeps the channels after it
    # from being refreshed (their tokens would run out); it is recorded on
    # the channel's refresh row, which its page shows.
    return each_guarded(
        "refresh_tokens", channels,
        lambda c: int(refresh_channel_token(c, owner=owner, now=now) == "refreshed"),
        record=_record_crash,
    )


def refresh_problem(channel: Channel):
    """The latest failure of ``channel``'s token refresh, for its page."""
    from kanal.channels.problems import Problem

    state = ChannelTokenRefresh.objects.filter(channel=channel).first()
    if state is None or not state.last_error:
        return None
    return Problem(gettext_lazy("Fornyelse af adgangen"),
                   network_sentence(state.last_error))


def _record_crash(channel: Channel, error: Exception) -> None:
    ChannelTokenRefresh.objects.update_or_create(
        channel_id=channel.pk, defaults={"last_error": gettext(
            "Adgangen kunne ikke fornyes: netværkets svar kunne ikke læses "
            "(%(error)s). Kanal prøver igen."
        ) % {"error": type(error).__name__}})
