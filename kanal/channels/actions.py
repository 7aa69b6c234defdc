"""Writes to channels and their strategy. Each: policy check, change, audit."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kanal.core import audit
from kanal.core.safety import plain_text, safe_url

from . import adapters, hosts, vault
from .models import Channel, ChannelStatus, StrategyProfile
from .networks.errors import AuthExpired, NetworkError
from .policies import channel_policy, strategy_policy
from .wording import network_sentence

logger = logging.getLogger(__name__)

CHANNEL_FIELDS = (
    "network",
    "display_name",
    "handle",
    "remote_id",
    "owner_administration_id",
    "base_url",
    "api_settings",
)
#: What ``update_channel`` may change (the network of an account never changes).
UPDATABLE_FIELDS = frozenset(
    {
        "display_name",
        "handle",
        "remote_id",
        "owner_administration",
        "owner_administration_id",
        "base_url",
        "api_settings",
    }
)
STRATEGY_FIELDS = (
    "purposes",
    "categories",
    "cadence_min",
    "cadence_max",
    "cadence_period",
    "default_hashtags",
    "tone_notes",
)


class ChannelRefused(ValueError):
    """A refused channel write; ``str()`` is Danish and says what to do."""


def _check_base_url(network: str, base_url: str) -> None:
    if not hosts.is_allowed(network, base_url):
        raise ChannelRefused(hosts.refusal(network))


@transaction.atomic
def create_channel(
    *,
    actor,
    organisation,
    network: str,
    display_name: str,
    owner_administration,
    base_url: str,
    handle: str = "",
    remote_id: str = "",
    api_settings: dict | None = None,
    credentials: dict[str, str] | None = None,
    token_expires_at: datetime | None = None,
    follower_count: int | None = None,
    strategy: dict | None = None,
) -> Channel:
    """Register a connected account, with an (empty) strategy profile.

    Raises ``ChannelRefused`` when ``base_url`` is not one of the network's
    allowed API addresses (``hosts.py``).
    """
    channel_policy.check(actor, "create")
    _check_base_url(network, base_url)
    if actor is not None and organisation.pk != actor.organisation_id:
        raise ValueError("A channel belongs to the actor's own organisation.")
    if owner_administration.organisation_id != organisation.pk:
        raise ValueError("The owner administration belongs to another organisation.")
    channel = Channel.objects.create(
        organisation=organisation,
        network=network,
        display_name=display_name,
        handle=handle,
        remote_id=remote_id,
        owner_administration=owner_administration,
        base_url=base_url,
        api_settings=api_settings or {},
        encrypted_credentials=vault.encrypt(credentials or {}),
        token_expires_at=token_expires_at,
        follower_count=follower_count,
    )
    StrategyProfile.objects.create(channel=channel, **(strategy or {}))
    audit.record(
        "channels.channel.created",
        actor=actor,
        organisation=organisation,
        target=channel,
        changes={
            **audit.snapshot(channel, CHANNEL_FIELDS),
            "credentials": "set" if credentials else "none",
            "strategy": strategy or {},
        },
    )
    return channel


@transaction.atomic
def update_channel(channel: Channel, *, actor, **fields) -> Channel:
    """Change a channel's registry fields (not its secrets or status).

    A new API address must be on the network's allow-list. When the address
    moves to another server (scheme, host or port), the stored secrets are
    deleted and the channel needs new keys: they were issued for the old
    server and must never be sent to the new one.
    """
    channel_policy.check(actor, "change", channel)
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown channel fields: {sorted(unknown)}")
    if "base_url" in fields and fields["base_url"] != channel.base_url:
        _check_base_url(channel.network, fields["base_url"])
    old_base_url = channel.base_url
    before = audit.snapshot(channel, CHANNEL_FIELDS)
    for name, value in fields.items():
        setattr(channel, name, value)
    if channel.owner_administration.organisation_id != channel.organisation_id:
        raise ValueError("The owner administration belongs to another organisation.")
    changed = audit.diff(channel, CHANNEL_FIELDS, before)
    if not changed:
        return channel
    update_fields = [*changed, "updated_at"]
    moved = not hosts.same_origin(old_base_url, channel.base_url)
    if moved:
        had_credentials = channel.has_credentials
        channel.encrypted_credentials = ""
        channel.token_expires_at = None
        # Stored untranslated: the pages say it in their reader's language
        # (``network_sentence``), whoever changed the address.
        channel.last_error = gettext_noop(
            "API-adressen er ændret til en anden server, så de gemte "
            "adgangsnøgler er slettet. Indtast nøglerne til den nye adresse "
            "under Adgangsnøgler, og test forbindelsen."
        )
        channel.last_error_at = timezone.now()
        update_fields += [
            "encrypted_credentials",
            "token_expires_at",
            "last_error",
            "last_error_at",
        ]
        if channel.status != ChannelStatus.DISABLED:
            channel.status = ChannelStatus.NEEDS_RECONNECT
            update_fields.append("status")
    channel.save(update_fields=update_fields)
    audit.record(
        "channels.channel.updated",
        actor=actor,
        organisation=channel.organisation,
        target=channel,
        changes=changed,
    )
    if moved:
        audit.record(
            "channels.channel.credentials_cleared",
            actor=actor,
            organisation=channel.organisation,
            target=channel,
            changes={
                "reason": "api address moved to another server",
                "had_credentials": had_credentials,
            },
        )
    return channel


@transaction.atomic
def set_channel_credentials(
    channel: Channel,
    *,
    actor,
    credentials: dict[str, str],
    token_expires_at: datetime | None = None,
    merge: bool = True,
) -> Channel:
    """Store new secrets for a channel (merged into the existing ones).

    The audit entry names which secrets changed, never their values.
    """
    channel_policy.check(actor, "change_credentials", channel)
    current = channel.credentials() if merge else {}
    new = {**current, **{k: v for k, v in credentials.items() if v}}
    channel.encrypted_credentials = vault.encrypt(new)
    channel.token_expires_at = token_expires_at
    fields = ["encrypted_credentials", "token_expires_at", "updated_at"]
    if channel.status == ChannelStatus.NEEDS_RECONNECT:
        channel.status = ChannelStatus.CONNECTED
        channel.last_error = ""
        fields += ["status", "last_error"]
    channel.save(update_fields=fields)
    audit.record(
        "channels.channel.credentials_changed",
        actor=actor,
        organisation=channel.organisation,
        target=channel,
        changes={
            "secrets": sorted(k for k, v in credentials.items() if v),
            "token_expires_at": token_expires_at,
        },
    )
    return channel


@transaction.atomic
def disable_channel(channel: Channel, *, actor, reason: str = "") -> Channel:
    """Stop all use of a channel; planned posts for it will not go out."""
    channel_policy.check(actor, "disable", channel)
    previous = channel.status
    channel.status = ChannelStatus.DISABLED
    channel.save(update_fields=["status", "updated_at"])
    audit.record(
        "channels.channel.disabled",
        actor=actor,
        organisation=channel.organisation,
        target=channel,
        changes={"status": [previous, channel.status], "reason": reason},
    )
    return channel


@transaction.atomic
def enable_channel(channel: Channel, *, actor) -> Channel:
    channel_policy.check(actor, "enable", channel)
    previous = channel.status
    channel.status = (
        ChannelStatus.CONNECTED
        if channel.has_credentials
        else ChannelStatus.NEEDS_RECONNECT
    )
    channel.save(update_fields=["status", "updated_at"])
    audit.record(
        "channels.channel.enabled",
        actor=actor,
        organisation=channel.organisation,
        target=channel,
        changes={"status": [previous, channel.status]},
    )
    return channel


@transaction.atomic
def mark_channel_needs_reconnect(
    channel: Channel, *, actor=None, error: str
) -> Channel:
    """Record that a person must reconnect the channel (expired access)."""
    error = plain_text(error, max_length=1000)  # may carry a network's text
    previous = channel.status
    channel.status = ChannelStatus.NEEDS_RECONNECT
    channel.last_error = error
    channel.last_error_at = timezone.now()
    channel.save(update_fields=["status", "last_error", "last_error_at", "updated_at"])
    audit.record(
        "channels.channel.needs_reconnect",
        actor=actor,
        organisation=channel.organisation,
        target=channel,
        changes={"status": [previous, channel.status], "error": error},
    )
    return channel


def verify_channel_connection(channel: Channel, *, actor) -> tuple[bool, str]:
    """Ask the network who Kanal is acting as; record the channel's health.

    Only a refused access (``AuthExpired``) or unreadable credentials mark the
    channel as needing reconnection; a temporary error says so and changes
    nothing. The network call happens outside any transaction. Returns
    (ok, message).
    """
    channel_policy.check(actor, "verify", channel)
    error = ""
    refused = False
    info = None
    try:
        adapters.class_for(channel.network)
    except KeyError:
        error = _("Kanal kender ikke dette netværk.")
    try:
        if not error:
            adapter = adapters.adapter_for(channel)
            info = _checked_account(adapter.verify())
            # Instance limits (Mastodon) are read here and kept on the
            # channel, so the editor and the worker count by the instance's
            # real configuration (``adapters.store_limits``).
            load_limits = getattr(adapter, "load_instance_configuration", None)
            if load_limits is not None:
                load_limits()
                adapters.store_limits(channel, adapter)
    except vault.VaultError as e:
        info, error, refused = None, str(e), True
    except AuthExpired as e:
        info, error, refused = None, e.message, True
    except NetworkError as e:
        info = None
        error = _(
            "Netværket svarede ikke ordentligt lige nu (%(why)s). Det er "
            "sandsynligvis midlertidigt: prøv igen om lidt. Kanalen er uændret."
        ) % {"why": network_sentence(e.message)}
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        # The network answered, but not in the shape its API documents (a
        # wrong address, a proxy's error page, a changed API). Say so instead
        # of failing the page; the channel itself is left as it is.
        logger.warning(
            "channel %s: unexpected answer during verify: %r", channel.pk, e
        )
        info, error = None, _(
            "Netværket svarede, men ikke som forventet, så Kanal kan ikke se, "
            "hvem kanalen handler som. Tjek API-adressen og adgangsnøglerne, og "
            "prøv igen."
        )
    error = plain_text(error, max_length=1000)
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel.pk)
        now = timezone.now()
        before = audit.snapshot(channel, ("status", "last_error", "follower_count"))
        if info is not None:
            channel.last_verified_at = now
            channel.last_error = ""
            if info.followers is not None:
                channel.follower_count = info.followers
            if channel.status == ChannelStatus.NEEDS_RECONNECT:
                channel.status = ChannelStatus.CONNECTED
            channel.save()
        elif refused:
            channel.last_error = error
            channel.last_error_at = now
            if channel.status != ChannelStatus.DISABLED:
                channel.status = ChannelStatus.NEEDS_RECONNECT
            channel.save()
        audit.record(
            "channels.channel.verified",
            actor=actor,
            organisation=channel.organisation,
            target=channel,
            changes={
                "ok": info is not None,
                **({"temporary_error": error} if error and not refused else {}),
                **audit.diff(
                    channel, ("status", "last_error", "follower_count"), before
                ),
            },
        )
    if info is not None:
        return True, _("Forbindelsen virker. Kanal handler som %(name)s.") % {
            "name": info.display_name or info.handle or info.remote_id or "?"
        }
    return False, error


#: PositiveIntegerField's ceiling on every database Kanal runs on.
MAX_FOLLOWERS = 2**31 - 1


def _checked_account(info):
    """The network's account answer with every value made safe to store and
    show: plain one-line text, a follower count that is a sane integer."""
    if info is None or not hasattr(info, "display_name"):
        raise TypeError("verify() returned no account")
    followers = info.followers
    valid = isinstance(followers, int) and not isinstance(followers, bool)
    if not valid or not 0 <= followers <= MAX_FOLLOWERS:
        followers = None
    return dataclasses.replace(
        info,
        remote_id=plain_text(info.remote_id, max_length=200),
        handle=plain_text(info.handle, max_length=200),
        display_name=plain_text(info.display_name, max_length=200),
        followers=followers,
        profile_url=safe_url(getattr(info, "profile_url", "")),
    )


@transaction.atomic
def update_strategy(profile: StrategyProfile, *, actor, **fields) -> StrategyProfile:
    """Change a channel's strategy profile (purposes, cadence, hashtags …)."""
    strategy_policy.check(actor, "change", profile)
    unknown = set(fields) - set(STRATEGY_FIELDS)
    if unknown:
        raise ValueError(f"Unknown strategy fields: {sorted(unknown)}")
    if fields.get("cadence_min", profile.cadence_min) > fields.get(
        "cadence_max", profile.cadence_max
    ):
        raise ValueError("cadence_min must not exceed cadence_max")
    before = audit.snapshot(profile, STRATEGY_FIELDS)
    for name, value in fields.items():
        setattr(profile, name, value)
    changed = audit.diff(profile, STRATEGY_FIELDS, before)
    if not changed:
        return profile
    profile.save(update_fields=[*changed, "updated_at"])
    audit.record(
        "channels.strategy.updated",
        actor=actor,
        organisation=profile.channel.organisation,
        target=profile.channel,
        changes=changed,
    )
    return profile
