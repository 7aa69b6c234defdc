"""Posts and their variants: create, import, edit."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from kanal.core import audit

from ..models import (
    Campaign,
    Post,
    PostStatus,
)
from ..policies import (
    post_policy,
)
from .common import (
    POST_FIELDS,
    VARIANT_FIELDS,
    PlanningError,
    _add_variant,
    _check_version,
    _colleagues,
    _lock,
    _refuse_past,
    _save_revision,
    _sync_planned_at,
    _tell,
    apply_changes,
)
from .workflow import _reschedule_publications, _withdraw

# ---------------------------------------------------------------------------
# Posts and variants


@transaction.atomic
def create_post(
    *,
    actor,
    title: str,
    shared_text: str = "",
    channels=(),
    planned_at: datetime | None = None,
    owner_administration=None,
    category: str = "",
    purposes=(),
    campaign: Campaign | None = None,
    notes: str = "",
    link: str = "",
    hashtags=(),
    media=(),
) -> Post:
    """A new draft with one variant per channel, each starting from the shared
    text (and ``link``, ``media``, and ``hashtags`` after the channel's and
    campaign's own)."""
    post_policy.check(actor, "create")
    _refuse_past(planned_at)
    administration = owner_administration or actor.administration
    if administration.organisation_id != actor.organisation_id:
        raise PlanningError(_("Forvaltningen findes ikke i organisationen."))
    post = Post.objects.create(
        organisation=actor.organisation,
        owner_administration=administration,
        title=title,
        shared_text=shared_text,
        category=category,
        purposes=list(purposes),
        campaign=campaign,
        notes=notes,
        planned_at=planned_at,
        created_by=actor.user,
    )
    for asset in media:
        if asset.organisation_id != post.organisation_id:
            raise PlanningError(_("Et af mediene findes ikke. Vælg det igen."))
    for channel in channels:
        _add_variant(
            post,
            channel,
            actor=actor,
            link=link,
            extra_hashtags=hashtags,
            media=media,
        )
    audit.record(
        "planning.post.created",
        actor=actor,
        target=post,
        changes={
            **audit.snapshot(post, POST_FIELDS),
            "planned_at": planned_at,
            "channels": [c.pk for c in channels],
        },
    )
    return post


@transaction.atomic
def import_posts(*, actor, rows, source: str, digest: str) -> list[Post]:
    """Create one draft per checked row of a spreadsheet (``csv_import``),
    all or none: a single row with an error, or one that fails now, leaves
    nothing saved."""
    post_policy.check(actor, "create")
    rows = list(rows)
    if not rows:
        raise PlanningError(_("Filen har ingen opslag."))
    if any(not row.ok for row in rows):
        raise PlanningError(_("Filen har fejl. Ret dem, og prøv igen; intet er gemt."))
    posts = []
    for row in rows:
        values = row.values
        try:
            post = create_post(
                actor=actor,
                title=values["title"],
                shared_text=values["shared_text"],
                channels=row.channels,
                planned_at=row.planned_at,
                owner_administration=values["owner_administration"],
                category=values["category"],
                purposes=values["purposes"],
                campaign=values["campaign"],
                notes=values["notes"],
                link=values["link"],
                hashtags=values["hashtags"],
                media=values["media"],
            )
        except PlanningError as e:
            raise PlanningError(
                _("Række %(n)d: %(why)s Intet er gemt.") % {"n": row.number, "why": e}
            ) from e
        posts.append(post)
    audit.record(
        "planning.posts.imported",
        actor=actor,
        organisation=actor.organisation,
        changes={
            "file": source[:255],
            "sha256": digest,
            "rows": len(rows),
            "posts": [p.pk for p in posts],
        },
    )
    return posts


@transaction.atomic
def update_post(
    post: Post,
    *,
    actor,
    expected_version: int | None = None,
    fields: dict | None = None,
    variants: dict | None = None,
    add_channels=(),
    remove_channels=(),
) -> Post:
    """Save the editor: post fields, and per channel ``{"text", "link",
    "hashtags", "first_comment", "planned_at", "media": [MediaAsset]}``.

    Each changed variant gets a new immutable revision. A content change to an
    approved or scheduled post sends it back to review and withdraws what was
    queued for publishing.
    """
    _lock(post)
    post_policy.check(actor, "edit", post)
    _check_version(post, expected_version)
    fields = dict(fields or {})
    changed = apply_changes(
        post, fields, POST_FIELDS, what="post",
        known={*POST_FIELDS, *(f.removesuffix("_id") for f in POST_FIELDS)},
    )
    content_changed = bool(changed.keys() & {"title", "shared_text"})
    existing = {v.channel_id: v for v in post.variants.select_related("channel")}
    revised: list[int] = []
    for channel in add_channels:
        if channel.pk in existing:
            continue
        existing[channel.pk] = _add_variant(post, channel, actor=actor)
        revised.append(channel.pk)
        content_changed = True
    for channel in remove_channels:
        variant = existing.pop(channel.pk, None)
        if variant is not None:
            variant.delete()
            revised.append(channel.pk)
            content_changed = True
    for channel_id, data in (variants or {}).items():
        variant = existing.get(int(channel_id))
        if variant is None:
            raise PlanningError(
                _("En af kanalerne hører ikke til opslaget. Genindlæs siden.")
            )
        data = dict(data)
        new_media = data.pop("media", None)
        if "planned_at" in data and data["planned_at"] != variant.planned_at:
            _refuse_past(data["planned_at"])
        variant_changed = apply_changes(
            variant, data, VARIANT_FIELDS, what="variant"
        )
        media_changed = False
        if new_media is not None:
            old_ids = sorted(variant.media.values_list("pk", flat=True))
            new_ids = sorted(m.pk for m in new_media)
            for asset in new_media:
                if asset.organisation_id != post.organisation_id:
                    raise PlanningError(_("Et af mediene findes ikke. Vælg det igen."))
            if old_ids != new_ids:
                variant.media.set(new_media)
                media_changed = True
        if variant_changed or media_changed:
            variant.save(update_fields=[*variant_changed])
            _save_revision(variant, actor)
            revised.append(variant.channel_id)
            if (variant_changed.keys() - {"planned_at"}) or media_changed:
                content_changed = True
    _sync_planned_at(post)
    back_to_review = content_changed and post.status in {
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
    }
    was_scheduled = post.status == PostStatus.SCHEDULED
    if back_to_review:
        post.status = PostStatus.IN_REVIEW
        post.approved_by = None
        post.approved_at = None
    post.version += 1
    post.save(
        update_fields=[
            *{n.removesuffix("_id") for n in changed},
            "planned_at",
            "status",
            "approved_by",
            "approved_at",
            "version",
            "updated_at",
        ]
    )
    # Publications first, the audit entries last: the audit chain's lock is
    # always the last one a transaction takes (core.audit), so the engine
    # (publication, then chain) and an editor never wait for each other.
    if back_to_review and was_scheduled:
        _withdraw(post, actor=actor, reason=_("Ændret efter godkendelse"))
    elif was_scheduled and revised:
        _reschedule_publications(post, actor=actor)
    audit.record(
        "planning.post.updated",
        actor=actor,
        target=post,
        changes={
            **changed,
            "revised_channels": revised,
            "back_to_review": back_to_review,
        },
    )
    if back_to_review:
        audit.record(
            "planning.post.returned_to_review",
            actor=actor,
            target=post,
            changes={"reason": "edited after approval"},
        )
        _tell(_colleagues(post, "posts.approve", actor), post,
              "post.returned_to_review")
    return post
