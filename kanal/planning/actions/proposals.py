"""Proposals: a contributor suggests a post; planners accept or decline it."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.models import ChannelStatus
from kanal.core import audit
from kanal.notifications.audience import members_for_user

from ..models import (
    Post,
    PostStatus,
)
from ..policies import (
    post_policy,
)
from ..timeutil import from_local
from .common import (
    PROPOSAL_FIELDS,
    PlanningError,
    _add_variant,
    _check_channel,
    _check_version,
    _colleagues,
    _lock,
    _set_status,
    _tell,
    apply_changes,
)

# ---------------------------------------------------------------------------
# Proposals


@transaction.atomic
def create_proposal(
    *,
    actor,
    title: str,
    text: str,
    reason: str = "",
    wish_from: date | None = None,
    wish_to: date | None = None,
    channels=(),
    event_details: str = "",
    media=(),
) -> Post:
    """A contributor's proposal; lands in the desk's queue."""
    post_policy.check(actor, "propose")
    post = Post.objects.create(
        organisation=actor.organisation,
        owner_administration=actor.administration,
        title=title,
        shared_text=text,
        proposal_reason=reason,
        wish_from=wish_from,
        wish_to=wish_to,
        event_details=event_details,
        status=PostStatus.PROPOSAL,
        created_by=actor.user,
    )
    for channel in channels:
        _check_channel(post, channel)
    post.wished_channels.set(channels)
    post.proposal_media.set(media)
    audit.record(
        "planning.proposal.created",
        actor=actor,
        target=post,
        changes={
            **audit.snapshot(post, PROPOSAL_FIELDS),
            "channels": [c.pk for c in channels],
        },
    )
    _tell(_colleagues(post, "posts.plan", actor), post, "proposal.created",
          code=actor.administration.code)
    return post


@transaction.atomic
def update_proposal(
    post: Post, *, actor, expected_version=None, channels=None, **fields
) -> Post:
    """The contributor edits (and so resubmits) their proposal."""
    _lock(post)
    post_policy.check(actor, "edit_proposal", post)
    _check_version(post, expected_version)
    changed = apply_changes(post, fields, PROPOSAL_FIELDS, what="proposal")
    resubmitted = post.status == PostStatus.CHANGES_REQUESTED
    post.status = PostStatus.PROPOSAL
    post.version += 1
    post.save(update_fields=[*fields, "status", "version", "updated_at"])
    if channels is not None:
        already = set(post.wished_channels.values_list("pk", flat=True))
        for channel in channels:
            if channel.pk not in already:  # a kept wish may since be switched off
                _check_channel(post, channel)
        post.wished_channels.set(channels)
    audit.record(
        "planning.proposal.updated",
        actor=actor,
        target=post,
        changes=changed,
    )
    if resubmitted:
        _tell(_colleagues(post, "posts.plan", actor), post, "proposal.resubmitted")
    return post


@transaction.atomic
def accept_proposal(post: Post, *, actor, channels=None) -> Post:
    """Turn a proposal into a draft with one variant per wished channel."""
    _lock(post)
    post_policy.check(actor, "review_proposal", post)
    chosen = list(channels if channels is not None else post.wished_channels.all())
    chosen = [c for c in chosen if c.status != ChannelStatus.DISABLED]
    if post.planned_at is None:
        tomorrow = timezone.localdate() + timedelta(days=1)
        day = max(post.wish_from or tomorrow, tomorrow)
        post.planned_at = from_local(day, time(10, 0)).value
    _set_status(post, PostStatus.DRAFT, "planned_at")
    # The contributor's image goes with the proposal onto every variant; the
    # desk removes it where it does not fit.
    media = list(post.proposal_media.order_by("pk"))
    for channel in chosen:
        _add_variant(post, channel, actor=actor, media=media)
    audit.record(
        "planning.proposal.accepted",
        actor=actor,
        target=post,
        changes={
            "channels": [c.pk for c in chosen],
            "media": [m.pk for m in media],
        },
    )
    _tell(members_for_user(post.organisation_id, post.created_by_id), post,
          "proposal.accepted")
    return post


def _decide_proposal(post, *, actor, reason, status, event):
    _lock(post)
    post_policy.check(actor, "review_proposal", post)
    if not reason.strip():
        raise PlanningError(_("Skriv en begrundelse, så bidragyderen ved hvorfor."))
    post.decision_reason = reason
    _set_status(post, status, "decision_reason")
    audit.record(event, actor=actor, target=post, changes={"reason": reason})
    _tell(members_for_user(post.organisation_id, post.created_by_id), post,
          event.removeprefix("planning."), reason=reason)
    return post


@transaction.atomic
def request_proposal_changes(post: Post, *, actor, reason: str) -> Post:
    return _decide_proposal(
        post,
        actor=actor,
        reason=reason,
        status=PostStatus.CHANGES_REQUESTED,
        event="planning.proposal.changes_requested",
    )


@transaction.atomic
def decline_proposal(post: Post, *, actor, reason: str) -> Post:
    return _decide_proposal(
        post,
        actor=actor,
        reason=reason,
        status=PostStatus.DECLINED,
        event="planning.proposal.declined",
    )
