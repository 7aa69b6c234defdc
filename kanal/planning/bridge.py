"""Publishing → planning: roll a post's status up from its publications."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse

from kanal.core import audit
from kanal.core.safety import safe_url
from kanal.notifications.actions import notify
from kanal.notifications.audience import members_for_user

from .models import FINISHED_STATES, Post, PostStatus, Variant

logger = logging.getLogger(__name__)

DONE = {"published"}
FAILED = {"failed"}
MISSED = {"missed"}
SETTLED = DONE | FAILED | MISSED | {"cancelled"}
# A post in these states went out in part or not at all; a person may send a
# publication of it again from the operations page.
RETRYABLE = frozenset(
    {PostStatus.PARTIALLY_PUBLISHED, PostStatus.FAILED, PostStatus.MISSED}
)


def roll_up(statuses: list[str]) -> str | None:
    """The post status for its publications' statuses, or None while any is
    still under way."""
    live = [s for s in statuses if s != "cancelled"]
    if not live or any(s not in SETTLED for s in live):
        return None
    if all(s in DONE for s in live):
        return PostStatus.PUBLISHED
    if any(s in DONE for s in live):
        return PostStatus.PARTIALLY_PUBLISHED
    if all(s in MISSED for s in live):
        return PostStatus.MISSED
    return PostStatus.FAILED


def publication_changed(*, post_id: int) -> None:
    """Called by publishing after a publication's status changed. Cheap and
    idempotent: reads the publications, writes only what differs."""
    from kanal.publishing.models import Publication

    with transaction.atomic():
        post = Post.objects.select_for_update().filter(pk=post_id).first()
        if post is None or post.status == PostStatus.CANCELLED:
            return
        rows = list(
            Publication.objects.filter(post_id=post_id)
            .order_by("pk")
            .values("variant_id", "revision_id", "status", "url")
        )
        variants = {v.pk: v for v in Variant.objects.filter(post_id=post_id)}
        latest: dict[int, dict] = {}
        for row in rows:
            latest[row["variant_id"]] = row
        for variant_id, row in latest.items():
            variant = variants.get(variant_id)
            if variant is None:
                continue
            # A network's permalink: only an absolute http(s) address is kept.
            url = safe_url(row.get("url") or "")
            status = str(row["status"])
            if variant.publication_status != status or variant.published_url != url:
                variant.publication_status = status
                variant.published_url = url
                variant.save(update_fields=["publication_status", "published_url"])
        if post.status not in {PostStatus.SCHEDULED} | FINISHED_STATES:
            return
        # Only publications of the revisions that were approved count.
        current = [
            str(row["status"])
            for vid, row in latest.items()
            if vid in variants
            and row["revision_id"] == variants[vid].approved_revision_id
        ]
        new_status = roll_up(current)
        if new_status is None and post.status in RETRYABLE:
            # A person sent a failed or missed publication again: the post is
            # on its way out once more until that publication settles.
            new_status = PostStatus.SCHEDULED
        if new_status is None or new_status == post.status:
            return
        old = post.status
        post.status = new_status
        post.version += 1
        fields = ["status", "version", "updated_at"]
        if new_status in {PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED}:
            from django.utils import timezone

            post.published_at = post.published_at or timezone.now()
            fields.append("published_at")
        post.save(update_fields=fields)
        audit.record(
            f"planning.post.{new_status}",
            organisation=post.organisation,
            target=post,
            changes={"status": [old, new_status]},
        )
        _tell_author(post, new_status)


#: What the author is told when the post settles.
AUTHOR_KINDS = {
    PostStatus.PUBLISHED: "post.published",
    PostStatus.PARTIALLY_PUBLISHED: "post.partially_published",
    PostStatus.FAILED: "post.failed",
    PostStatus.MISSED: "post.failed",
}


def _tell_author(post: Post, status: str) -> None:
    """The post's author (and whoever sent it for approval) learns how it
    went out."""
    kind = AUTHOR_KINDS.get(status)
    if kind is None:
        return
    people = members_for_user(post.organisation_id, post.created_by_id)
    people += members_for_user(post.organisation_id, post.submitted_by_id)
    notify(
        people,
        kind=kind,
        params={"title": post.title},
        about=post,
        url=reverse("planning:post_detail", args=[post.pk]),
    )


def on_publication_changed(sender, *, post_id: int, **kwargs) -> None:
    """``kanal.publishing.signals.publication_changed``."""
    publication_changed(post_id=post_id)


def on_approval_check(sender, *, post_id: int, revision_id, **kwargs) -> bool:
    """``kanal.publishing.signals.approval_check``."""
    return approval_stands(post_id=post_id, revision_id=revision_id)


def approval_stands(*, post_id: int, revision_id: int) -> bool:
    """Checked by publishing at send time: is this revision still the approved
    one of a post that is scheduled (or was, and whose failed or missed
    publication a person has just sent again)?"""
    return Variant.objects.filter(
        post_id=post_id,
        approved_revision_id=revision_id,
        post__status__in=[PostStatus.SCHEDULED, *RETRYABLE],
    ).exists()
