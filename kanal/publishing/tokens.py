"""Refreshing channels' tokens before they expire, one channel at a time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels import vault
from kanal.channels.actions import mark_channel_needs_reconnect, set_channel_credentials
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.errors import AuthExpired, NetworkError, NotSupported

from . import conf
from .actions import notify
from .models import ChannelTokenRefresh

logger = logging.getLogger("kanal.publishing.tokens")
LOCK_SECONDS = 300


def channels_due(now: datetime):
    ahead = timedelta(seconds=conf.get("TOKEN_REFRESH_AHEAD_SECONDS"))
    return Channel.objects.filter(
        status=ChannelStatus.CONNECTED,
        token_expires_at__isnull=False,
        token_expires_at__lt=now + ahead,
    )


def _lock(channel: Channel, owner: str, now: datetime) -> bool:
    """The per-channel lock: a conditional update on the channel's row."""
    ChannelTokenRefresh.objects.get_or_create(channel=channel)
    return bool(
        ChannelTokenRefresh.objects.filter(channel=channel)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(
            lease_owner=owner[:120],
            lease_expires_at=now + timedelta(seconds=LOCK_SECONDS),
        )
    )


def refresh_channel_token(channel: Channel, *, owner: str = "kanal") -> str:
    """Refresh one channel's token under its lock; returns what happened."""
    from .engine import build_adapter

    now = timezone.now()
    if not _lock(channel, owner, now):
        return "locked"
    outcome = "refreshed"
    error_text = ""
    try:
        try:
            adapter = build_adapter(channel.connection(), channel_id=channel.pk)
            tokens = adapter.refresh_token()
        except vault.VaultError as e:
            raise AuthExpired(str(e)) from e
        credentials = {"access_token": tokens.access_token}
        if tokens.refresh_token:
            credentials["refresh_token"] = tokens.refresh_token
        credentials.update(dict(tokens.extra))
        set_channel_credentials(
            channel,
            actor=None,
            credentials=credentials,
            token_expires_at=tokens.expires_at,
        )
    except NotSupported:
        outcome = "not_supported"
    except AuthExpired as e:
        outcome = "auth_expired"
        error_text = e.message
        with transaction.atomic():
            mark_channel_needs_reconnect(channel, error=e.message)
            notify(
                organisation_id=channel.organisation_id,
                administration_id=channel.owner_administration_id,
                kind="token_refresh_failed",
                message=_(
                    "%(channel)s: adgangen kunne ikke fornyes. En administrator "
                    "skal forbinde kanalen igen, ellers udgives der ikke på den."
                )
                % {"channel": channel},
                url=f"/kanaler/{channel.pk}/",
            )
    except NetworkError as e:
        outcome = "error"
        error_text = e.message
    ChannelTokenRefresh.objects.filter(channel=channel).update(
        lease_owner="",
        lease_expires_at=None,
        last_error=error_text,
        **({"last_refreshed_at": timezone.now()} if outcome == "refreshed" else {}),
    )
    logger.info("token refresh %s: %s", channel.pk, outcome)
    return outcome


def refresh_due_tokens(*, now=None, dry_run=False, owner="kanal") -> int:
    now = now or timezone.now()
    channels = list(channels_due(now))
    if dry_run:
        return len(channels)
    return sum(
        refresh_channel_token(c, owner=owner) == "refreshed" for c in channels
    )
