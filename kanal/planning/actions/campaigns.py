"""Campaigns, link tracking and calendar feeds."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.core import audit

from ..models import (
    CalendarFeed,
    Campaign,
    LinkTracking,
)
from ..policies import (
    campaign_policy,
    link_tracking_policy,
)
from .common import PlanningError, apply_changes

# ---------------------------------------------------------------------------
# Campaigns, feeds, notifications


@transaction.atomic
def create_campaign(
    *,
    actor,
    name: str,
    hashtags=(),
    starts_on=None,
    ends_on=None,
    utm_campaign: str = "",
) -> Campaign:
    campaign_policy.check(actor, "create")
    if starts_on and ends_on and ends_on < starts_on:
        raise PlanningError(_("Kampagnen slutter før den begynder. Ret datoerne."))
    campaign = Campaign.objects.create(
        organisation=actor.organisation,
        name=name,
        hashtags=list(hashtags),
        starts_on=starts_on,
        ends_on=ends_on,
        utm_campaign=utm_campaign,
    )
    audit.record(
        "planning.campaign.created",
        actor=actor,
        target=campaign,
        changes={
            "name": name,
            "hashtags": list(hashtags),
            "utm_campaign": campaign.tracking_name,
        },
    )
    return campaign


LINK_TRACKING_FIELDS = (
    "enabled",
    "source",
    "medium",
    "campaign_default",
    "domains",
    "replace_existing",
)


@transaction.atomic
def save_link_tracking(
    *, actor, organisation, channel=None, inherit: bool = False, **fields
) -> LinkTracking | None:
    """The organisation's UTM rule (``channel=None``) or one channel's.

    ``inherit=True`` removes a channel's own rule, so the organisation's
    applies. Links already queued for publishing keep what they were given.
    """
    link_tracking_policy.check(actor, "change")
    unknown = set(fields) - set(LINK_TRACKING_FIELDS)
    if unknown:
        raise ValueError(f"Unknown link tracking fields: {sorted(unknown)}")
    if actor is not None and organisation.pk != actor.organisation_id:
        raise PlanningError(_("Organisationen findes ikke."))
    if channel is not None and channel.organisation_id != organisation.pk:
        raise PlanningError(
            _("Kanalen findes ikke. Vælg en af organisationens kanaler.")
        )
    row = LinkTracking.objects.filter(
        organisation=organisation, channel=channel
    ).first()
    if inherit:
        if channel is None:
            raise ValueError("The organisation's rule has nothing to inherit from.")
        if row is not None:
            before = audit.snapshot(row, LINK_TRACKING_FIELDS)
            row.delete()
            audit.record(
                "planning.link_tracking.removed",
                actor=actor,
                organisation=organisation,
                target=channel,
                changes={"channel": channel.pk, "was": before},
            )
        return None
    created = row is None
    if created:
        row = LinkTracking(organisation=organisation, channel=channel)
    changed = apply_changes(row, fields, LINK_TRACKING_FIELDS, what="link tracking")
    if created:
        row.save()
    elif changed:
        row.save(update_fields=[*changed, "updated_at"])
    if created or changed:
        audit.record(
            "planning.link_tracking.saved",
            actor=actor,
            organisation=organisation,
            target=row,
            changes={
                "channel": channel.pk if channel else None,
                **(audit.snapshot(row, LINK_TRACKING_FIELDS) if created else changed),
            },
        )
    return row


@transaction.atomic
def create_calendar_feed(*, actor) -> CalendarFeed:
    """A new secret iCal address; older ones of the member are revoked."""
    now = timezone.now()
    actor.calendar_feeds.filter(revoked_at__isnull=True).update(revoked_at=now)
    feed = CalendarFeed.objects.create(membership=actor)
    audit.record("planning.calendar_feed.created", actor=actor, target=feed)
    return feed


@transaction.atomic
def revoke_calendar_feed(feed: CalendarFeed, *, actor) -> CalendarFeed:
    if feed.membership_id != actor.pk:
        raise PlanningError(_("Adressen tilhører en anden."))
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit.record("planning.calendar_feed.revoked", actor=actor, target=feed)
    return feed
