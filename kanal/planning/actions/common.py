"""What every planning action shares: errors, locking, checks, revisions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.models import Channel, ChannelStatus
from kanal.core import audit, safety
from kanal.notifications.actions import notify
from kanal.notifications.audience import members_with
from kanal.publishing import actions as publishing_actions

from ..models import (
    Post,
    Variant,
    VariantRevision,
)
from ..timeutil import to_local

logger = logging.getLogger("kanal.planning.actions")

POST_FIELDS = (
    "title",
    "shared_text",
    "category",
    "purposes",
    "campaign_id",
    "notes",
    "owner_administration_id",
)
VARIANT_FIELDS = ("text", "link", "hashtags", "first_comment", "planned_at")
PROPOSAL_FIELDS = (
    "title",
    "shared_text",
    "proposal_reason",
    "wish_from",
    "wish_to",
    "event_details",
)


class PlanningError(Exception):
    """A refused write; ``str()`` is a Danish message saying what to do."""


class StaleEdit(PlanningError):
    pass


class ApprovalOutdated(PlanningError):
    """The post changed after the approver opened it (other revisions)."""


class InvalidVariants(PlanningError):
    def __init__(self, message: str, problems: dict):
        super().__init__(message)
        self.problems = problems


def _user(actor):
    return None if actor is None else actor.user


def _lock(post: Post) -> Post:
    # The post's publications first, then the post's row: the engine's order
    # (``publishing.actions.lock_publications``); locked the other way round,
    # an edit and the engine recording the post's publication deadlock. Only
    # the post's row: locking the joined organisation too would make every
    # insert that names the organisation (the engine's audit entries, its
    # records) wait for this transaction, and deadlock with the engine.
    publishing_actions.lock_publications(post_id=post.pk)
    locked = (
        Post.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=post.pk)
    )
    post.__dict__.update(
        {k: v for k, v in locked.__dict__.items() if not k.startswith("_")}
    )
    post._state = locked._state
    return post


def _post_url(post: Post) -> str:
    return reverse("planning:post_detail", args=[post.pk])


def _tell(recipients, post: Post, kind: str, **params) -> None:
    """Tell ``recipients`` about ``post``: its title (and ``params``) in the
    message, a link to it."""
    notify(recipients, kind=kind, params={"title": post.title, **params},
           about=post, url=_post_url(post))


def _colleagues(post: Post, permission: str, actor) -> list:
    """The members of ``post``'s organisation who have ``permission``, but
    not ``actor`` (who knows already)."""
    return members_with(post.organisation_id, permission,
                        exclude_user=actor.user_id if actor else None)


def _check_version(post: Post, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != post.version:
        raise StaleEdit(
            _(
                "Opslaget er blevet ændret af en anden, mens du redigerede. Dine "
                "ændringer er ikke gemt, men står stadig i formularen: kopiér dem, "
                "genindlæs siden og indsæt dem igen."
            )
        )


def _set_status(post: Post, status: str, *extra_fields: str) -> None:
    post.status = status
    post.version += 1
    post.save(update_fields=["status", "version", "updated_at", *extra_fields])


#: What Kanal can plan: later times overflow date arithmetic (late cutoffs,
#: local time) and can never be published.
PLANNABLE_FROM = datetime.combine(safety.MIN_DAY, time(0), tzinfo=UTC)
PLANNABLE_UNTIL = datetime.combine(safety.MAX_DAY, time(23, 59, 59), tzinfo=UTC)


def _refuse_past(planned_at: datetime | None) -> None:
    if planned_at is not None and not (PLANNABLE_FROM <= planned_at <= PLANNABLE_UNTIL):
        raise PlanningError(
            _(
                "Tidspunktet ligger uden for det, Kanal kan planlægge (%(first)s "
                "til %(last)s). Vælg et andet tidspunkt."
            )
            % {
                "first": f"{safety.MIN_DAY:%d.%m.%Y}",
                "last": f"{safety.MAX_DAY:%d.%m.%Y}",
            }
        )
    if planned_at is not None and planned_at <= timezone.now():
        local = to_local(planned_at)
        raise PlanningError(
            _("Tidspunktet %(when)s er passeret. Vælg et tidspunkt i fremtiden.")
            % {"when": f"{local:%d.%m.%Y %H:%M}"}
        )


def _check_channel(post: Post, channel: Channel) -> None:
    if channel.organisation_id != post.organisation_id:
        raise PlanningError(
            _("Kanalen findes ikke. Vælg en af organisationens kanaler.")
        )
    if channel.status == ChannelStatus.DISABLED:
        raise PlanningError(
            _(
                "Kanalen %(channel)s er slået fra, så der kan ikke planlægges "
                "opslag på den. Vælg en anden kanal."
            )
            % {"channel": channel}
        )


def _save_revision(variant: Variant, actor) -> VariantRevision:
    last = variant.revisions.order_by("-number").values_list("number", flat=True)
    revision = VariantRevision.objects.create(
        variant=variant,
        number=(last.first() or 0) + 1,
        text=variant.text,
        link=variant.link,
        hashtags=list(variant.hashtags),
        media=[asset.snapshot() for asset in variant.media.order_by("pk")],
        first_comment=variant.first_comment,
        planned_at=variant.planned_at,
        created_by=_user(actor),
    )
    variant.current_revision = revision
    variant.save(update_fields=["current_revision"])
    return revision


def _add_variant(
    post: Post,
    channel: Channel,
    *,
    actor,
    text=None,
    planned_at=None,
    hashtags=None,
    media=(),
    link: str = "",
    extra_hashtags=(),
) -> Variant:
    _check_channel(post, channel)
    strategy = getattr(channel, "strategy", None)
    tags = list(hashtags) if hashtags is not None else []
    if hashtags is None:
        tags = list(strategy.default_hashtags) if strategy else []
        if post.campaign_id:
            tags += [t for t in post.campaign.hashtags if t not in tags]
    tags += [t for t in extra_hashtags if t not in tags]
    variant = Variant.objects.create(
        post=post,
        channel=channel,
        text=post.shared_text if text is None else text,
        link=link,
        hashtags=tags,
        planned_at=planned_at if planned_at is not None else post.planned_at,
    )
    if media:
        variant.media.set(media)
    _save_revision(variant, actor)
    return variant


def _sync_planned_at(post: Post) -> None:
    times = [t for t in post.variants.values_list("planned_at", flat=True) if t]
    post.planned_at = min(times) if times else post.planned_at


def apply_changes(
    instance, changes, fields, *, what: str, known=None
) -> dict:
    """Set ``changes`` on ``instance``; return what changed over ``fields``,
    ``{field: [old, new]}`` (``audit.diff``), for the action to save and audit.

    The snapshot → change → diff every editing action starts with. A name
    outside ``known`` (default: ``fields``) is a programming error: it raises
    ``ValueError`` naming ``what`` before anything is set.
    """
    unknown = set(changes) - set(fields if known is None else known)
    if unknown:
        raise ValueError(f"Unknown {what} fields: {sorted(unknown)}")
    before = audit.snapshot(instance, fields)
    for name, value in changes.items():
        setattr(instance, name, value)
    return audit.diff(instance, fields, before)
