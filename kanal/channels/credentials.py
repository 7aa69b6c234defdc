"""Tokens a network hands out in a routine renewal, stored on the channel
(the adapter factory's ``on_tokens`` hook and publishing's token refresh)."""

from __future__ import annotations

from django.db import transaction

from kanal.core import audit

from . import vault
from .models import Channel, ChannelStatus


def store_refreshed_tokens(channel: Channel, *, tokens) -> Channel:
    """Store tokens the network handed out in a routine renewal (a token
    refresh, a new Bluesky session), merged into the channel's secrets.

    Routine renewals are not audited (a Bluesky session renews every couple of
    hours); a channel that needed reconnection and works again is.
    """
    secrets = {"access_token": tokens.access_token, **dict(tokens.extra)}
    if tokens.refresh_token:
        secrets["refresh_token"] = tokens.refresh_token
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel.pk)
        current = channel.credentials()
        merged = {**current, **{k: v for k, v in secrets.items() if v}}
        expires_at = tokens.expires_at or channel.token_expires_at
        if (
            merged == current
            and expires_at == channel.token_expires_at
            and channel.status != ChannelStatus.NEEDS_RECONNECT
        ):
            return channel  # the same session handed back: nothing to store
        channel.encrypted_credentials = vault.encrypt(merged)
        channel.token_expires_at = expires_at
        fields = ["encrypted_credentials", "token_expires_at", "updated_at"]
        previous = channel.status
        if previous == ChannelStatus.NEEDS_RECONNECT:
            channel.status = ChannelStatus.CONNECTED
            channel.last_error = ""
            fields += ["status", "last_error"]
        channel.save(update_fields=fields)
        if previous != channel.status:
            audit.record(
                "channels.channel.reconnected",
                organisation=channel.organisation,
                target=channel,
                changes={"status": [previous, channel.status],
                         "token_expires_at": channel.token_expires_at},
            )
    return channel


def record_session_tokens(channel_id: int, tokens) -> None:
    """Store tokens a network handed out mid-work (a renewed Bluesky session).

    Adapters call this through their ``on_tokens`` hook, outside any
    transaction; the next unit of work then reuses the session instead of
    logging in again (Bluesky allows 300 logins a day).
    """
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return
    store_refreshed_tokens(channel, tokens=tokens)
