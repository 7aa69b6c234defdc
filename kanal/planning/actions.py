"""Every write to planning: posts, proposals, workflow, media, feeds.

Each action checks the policy, changes state with ``save(update_fields=...)``,
writes an audit entry and queues follow-up work after commit. ``actor`` is a
Membership, or None for the system.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.models import Channel, ChannelStatus
from kanal.core import audit, safety
from kanal.notifications.actions import notify
from kanal.notifications.audience import members_for_user, members_with

from . import media as media_files
from .models import (
    CalendarFeed,
    Campaign,
    Comment,
    LinkTracking,
    MediaAsset,
    MediaTag,
    Post,
    PostStatus,
    Variant,
    VariantRevision,
)
from .policies import (
    campaign_policy,
    link_tracking_policy,
    media_policy,
    post_policy,
)
from .timeutil import from_local, move_to_day, to_local
from .validation import check_saved_variant, outgoing

logger = logging.getLogger(__name__)

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
    locked = (
        Post.objects.select_for_update().select_related("organisation").get(pk=post.pk)
    )
    post.__dict__.update(
        {k: v for k, v in locked.__dict__.items() if not k.startswith("_")}
    )
    post._state = locked._state
    return post


def _post_url(post: Post) -> str:
    return reverse("planning:post_detail", args=[post.pk])


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
    notify(
        members_with(post.organisation_id, "posts.plan", exclude_user=actor.user_id),
        kind="proposal.created",
        params={"code": actor.administration.code, "title": title},
        about=post,
        url=_post_url(post),
    )
    return post


@transaction.atomic
def update_proposal(
    post: Post, *, actor, expected_version=None, channels=None, **fields
) -> Post:
    """The contributor edits (and so resubmits) their proposal."""
    _lock(post)
    post_policy.check(actor, "edit_proposal", post)
    _check_version(post, expected_version)
    unknown = set(fields) - set(PROPOSAL_FIELDS)
    if unknown:
        raise ValueError(f"Unknown proposal fields: {sorted(unknown)}")
    before = audit.snapshot(post, PROPOSAL_FIELDS)
    for name, value in fields.items():
        setattr(post, name, value)
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
        changes=audit.diff(post, PROPOSAL_FIELDS, before),
    )
    if resubmitted:
        notify(
            members_with(
                post.organisation_id, "posts.plan", exclude_user=actor.user_id
            ),
            kind="proposal.resubmitted",
            params={"title": post.title},
            about=post,
            url=_post_url(post),
        )
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
    notify(
        members_for_user(post.organisation_id, post.created_by_id),
        kind="proposal.accepted",
        params={"title": post.title},
        about=post,
        url=_post_url(post),
    )
    return post


def _decide_proposal(post, *, actor, reason, status, event):
    _lock(post)
    post_policy.check(actor, "review_proposal", post)
    if not reason.strip():
        raise PlanningError(_("Skriv en begrundelse, så bidragyderen ved hvorfor."))
    post.decision_reason = reason
    _set_status(post, status, "decision_reason")
    audit.record(event, actor=actor, target=post, changes={"reason": reason})
    notify(
        members_for_user(post.organisation_id, post.created_by_id),
        kind=event.removeprefix("planning."),
        params={"title": post.title, "reason": reason},
        about=post,
        url=_post_url(post),
    )
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
    unknown = (
        set(fields) - {f.removesuffix("_id") for f in POST_FIELDS} - set(POST_FIELDS)
    )
    if unknown:
        raise ValueError(f"Unknown post fields: {sorted(unknown)}")
    before = audit.snapshot(post, POST_FIELDS)
    for name, value in fields.items():
        setattr(post, name, value)
    changed = audit.diff(post, POST_FIELDS, before)
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
        variant_before = audit.snapshot(variant, VARIANT_FIELDS)
        for name, value in data.items():
            if name not in VARIANT_FIELDS:
                raise ValueError(f"Unknown variant field {name!r}")
            setattr(variant, name, value)
        variant_changed = audit.diff(variant, VARIANT_FIELDS, variant_before)
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
        if was_scheduled:
            _withdraw(post, actor=actor, reason=_("Ændret efter godkendelse"))
        audit.record(
            "planning.post.returned_to_review",
            actor=actor,
            target=post,
            changes={"reason": "edited after approval"},
        )
        notify(
            members_with(
                post.organisation_id,
                "posts.approve",
                exclude_user=actor.user_id if actor else None,
            ),
            kind="post.returned_to_review",
            params={"title": post.title},
            about=post,
            url=_post_url(post),
        )
    elif was_scheduled and revised:
        _reschedule_publications(post, actor=actor)
    return post


def invalid_variants(post: Post) -> dict:
    """``{variant: [ValidationProblem]}`` for the variants that cannot go out."""
    result = {}
    for variant in post.variants.select_related("channel", "channel__strategy"):
        check = check_saved_variant(variant)
        problems = list(check.problems)
        if variant.planned_at is None:
            from kanal.channels.networks.base import ValidationProblem

            problems.append(
                ValidationProblem(
                    "no_time",
                    _("Varianten har ingen planlagt tid. Vælg dato og klokkeslæt."),
                    field="planned_at",
                )
            )
        if problems:
            result[variant] = problems
    return result


def _refuse_invalid(post: Post, verb: str) -> None:
    if not post.variants.exists():
        raise PlanningError(_("Opslaget har ingen kanaler. Tilføj mindst én kanal."))
    problems = invalid_variants(post)
    if problems:
        names = ", ".join(str(v.channel) for v in problems)
        raise InvalidVariants(
            _(
                "Opslaget kan ikke %(verb)s, fordi varianten til %(names)s ikke "
                "overholder netværkets regler. Ret fejlene i editoren."
            )
            % {"verb": verb, "names": names},
            problems,
        )
    for variant in post.variants.all():
        _refuse_past(variant.planned_at)


@transaction.atomic
def submit_post(post: Post, *, actor) -> Post:
    """Send a draft to the approvers."""
    _lock(post)
    post_policy.check(actor, "submit", post)
    if not post.variants.exists():
        raise PlanningError(_("Opslaget har ingen kanaler. Tilføj mindst én kanal."))
    post.submitted_by = actor.user if actor else None
    post.submitted_at = timezone.now()
    _set_status(post, PostStatus.IN_REVIEW, "submitted_by", "submitted_at")
    audit.record("planning.post.submitted", actor=actor, target=post)
    notify(
        members_with(
            post.organisation_id,
            "posts.approve",
            exclude_user=actor.user_id if actor else None,
        ),
        kind="post.submitted",
        params={"title": post.title},
        about=post,
        url=_post_url(post),
    )
    return post


@transaction.atomic
def approve_post(post: Post, *, actor, comment: str = "", seen_revisions=None) -> Post:
    """Approve the current revision of every variant, and schedule it.

    ``seen_revisions`` are the ids of the revisions the approver looked at
    (the approve form sends them). When they are not exactly the current
    ones, someone changed the post meanwhile and ``ApprovalOutdated`` is
    raised: nobody approves a text they have not seen. Whoever created,
    submitted or wrote a revision of the post since its submission may not
    approve it where the organisation forbids self-approval.
    """
    _lock(post)
    if (
        actor is not None
        and post.status == PostStatus.IN_REVIEW
        and actor.has_perm("posts.approve")
        and post_policy.is_own_post(actor, post)
    ):
        raise PlanningError(
            _(
                "Du kan ikke godkende et opslag, du selv har skrevet, ændret eller "
                "sendt til godkendelse. Bed en anden godkender om det."
            )
        )
    post_policy.check(actor, "approve", post)
    if seen_revisions is not None:
        current = set(post.variants.values_list("current_revision_id", flat=True))
        if current != {int(r) for r in seen_revisions}:
            raise ApprovalOutdated(
                _(
                    "Opslaget er ændret, siden du åbnede det, så det er ikke "
                    "godkendt. Læs den nye udgave nedenfor og godkend igen, hvis "
                    "den er i orden. Din kommentar står stadig i feltet."
                )
            )
    _refuse_invalid(post, _("godkendes"))
    for variant in post.variants.all():
        variant.approved_revision_id = variant.current_revision_id
        variant.save(update_fields=["approved_revision"])
    post.approved_by = _user(actor)
    post.approved_at = timezone.now()
    _set_status(post, PostStatus.APPROVED, "approved_by", "approved_at")
    audit.record(
        "planning.post.approved",
        actor=actor,
        target=post,
        changes={
            "comment": comment,
            "revisions": list(
                post.variants.values_list("approved_revision_id", flat=True)
            ),
        },
    )
    if comment.strip():
        Comment.objects.create(post=post, author=_user(actor), body=comment)
    # The approval itself is the permission to queue: the system queues.
    _schedule(post, actor=actor, queue_as=None)
    recipients = members_for_user(post.organisation_id, post.created_by_id)
    recipients += members_for_user(post.organisation_id, post.submitted_by_id)
    notify(
        recipients,
        kind="post.approved",
        params={"title": post.title},
        about=post,
        url=_post_url(post),
    )
    return post


@transaction.atomic
def reject_post(post: Post, *, actor, reason: str) -> Post:
    """Send a post back to draft with the approver's reason."""
    _lock(post)
    post_policy.check(actor, "reject", post)
    if not reason.strip():
        raise PlanningError(
            _("Skriv hvad der skal rettes, før du sender opslaget retur.")
        )
    post.decision_reason = reason
    _set_status(post, PostStatus.DRAFT, "decision_reason")
    Comment.objects.create(post=post, author=_user(actor), body=reason)
    audit.record(
        "planning.post.rejected", actor=actor, target=post, changes={"reason": reason}
    )
    recipients = members_for_user(post.organisation_id, post.created_by_id)
    recipients += members_for_user(post.organisation_id, post.submitted_by_id)
    notify(
        recipients,
        kind="post.rejected",
        params={"title": post.title, "reason": reason},
        about=post,
        url=_post_url(post),
    )
    return post


@transaction.atomic
def schedule_post(post: Post, *, actor) -> Post:
    """Queue an approved post's approved revisions for publishing."""
    _lock(post)
    post_policy.check(actor, "schedule", post)
    _refuse_invalid(post, _("planlægges"))
    _schedule(post, actor=actor)
    return post


def _schedule(post: Post, *, actor, queue_as="actor") -> None:
    variants = list(
        post.variants.select_related("channel", "approved_revision", "current_revision")
    )
    if any(
        not _same_content(v.approved_revision, v.current_revision) for v in variants
    ):
        raise PlanningError(
            _("Opslaget er ændret siden godkendelsen og skal godkendes igen.")
        )
    _set_status(post, PostStatus.SCHEDULED)
    for variant in variants:
        variant.publication_status = "queued"
        variant.save(update_fields=["publication_status"])
    audit.record(
        "planning.post.scheduled",
        actor=actor,
        target=post,
        changes={v.channel_id: v.planned_at for v in variants},
    )
    queue = _publishing("queue_publication")
    if queue is None:
        return
    for variant in variants:
        revision = variant.approved_revision
        # The publication carries the text as it goes out; links are tracked
        # here, once (a retry sends the same publication).
        text, link = outgoing(
            variant.channel,
            post.campaign,
            text=revision.text,
            hashtags=revision.hashtags,
            link=revision.link,
        )
        queue(
            actor=actor if queue_as == "actor" else queue_as,
            organisation=post.organisation,
            channel=variant.channel,
            planned_at=variant.planned_at,
            post_id=post.pk,
            variant_id=variant.pk,
            revision_id=revision.pk,
            text=text,
            link=link,
            media=[{k: v for k, v in m.items() if k != "id"} for m in revision.media],
            first_comment=revision.first_comment,
        )


CONTENT_FIELDS = ("text", "link", "hashtags", "media", "first_comment")


def _same_content(a: VariantRevision | None, b: VariantRevision | None) -> bool:
    if a is None or b is None:
        return False
    return all(getattr(a, f) == getattr(b, f) for f in CONTENT_FIELDS)


def _publishing(name: str):
    try:
        from kanal.publishing import actions as publishing_actions
    except ImportError:
        logger.warning("kanal.publishing is not installed; %s skipped", name)
        return None
    return getattr(publishing_actions, name, None)


def _withdraw(post: Post, *, actor, reason: str) -> None:
    post.variants.update(publication_status="")
    withdraw = _publishing("withdraw_publications")
    if withdraw is not None:
        withdraw(actor=actor, post_id=post.pk, reason=reason)


def _reschedule_publications(post: Post, *, actor) -> None:
    reschedule = _publishing("reschedule_publications")
    if reschedule is None:
        return
    for variant in post.variants.all():
        reschedule(
            actor=actor,
            post_id=post.pk,
            planned_at=variant.planned_at,
            variant_id=variant.pk,
        )


@transaction.atomic
def reschedule_post(
    post: Post,
    *,
    actor,
    day: date | None = None,
    planned_at: datetime | None = None,
    expected_version: int | None = None,
) -> tuple[Post, list[str]]:
    """Move every variant to ``day`` (keeping each one's clock time) or to
    ``planned_at``. Returns the post and notes about clock changes."""
    _lock(post)
    post_policy.check(actor, "reschedule", post)
    _check_version(post, expected_version)
    notes: list[str] = []
    moves = {}
    for variant in post.variants.all():
        if day is not None:
            base = variant.planned_at or post.planned_at
            if base is None:
                raise PlanningError(
                    _("Opslaget har ingen tid endnu. Vælg et klokkeslæt.")
                )
            moved = move_to_day(base, day)
            if moved.note:
                notes.append(moved.note)
            new_time = moved.value
        else:
            new_time = planned_at
        _refuse_past(new_time)
        moves[variant] = new_time
    if not moves and day is not None and post.planned_at is not None:
        moved = move_to_day(post.planned_at, day)
        _refuse_past(moved.value)
        post.planned_at = moved.value
    old = {v.channel_id: v.planned_at for v in moves}
    for variant, new_time in moves.items():
        variant.planned_at = new_time
        variant.save(update_fields=["planned_at"])
        # A new revision records the move; the approval of the content (and
        # the publications queued from it) stands, since only the time changed.
        _save_revision(variant, actor)
    if post.status == PostStatus.SCHEDULED:
        _refuse_invalid(post, _("flyttes"))
    if moves:
        _sync_planned_at(post)
    post.version += 1
    post.save(update_fields=["planned_at", "version", "updated_at"])
    audit.record(
        "planning.post.rescheduled",
        actor=actor,
        target=post,
        changes={str(v.channel_id): [old[v.channel_id], t] for v, t in moves.items()},
    )
    if post.status == PostStatus.SCHEDULED:
        _reschedule_publications(post, actor=actor)
    return post, list(dict.fromkeys(notes))


@transaction.atomic
def cancel_post(post: Post, *, actor, reason: str = "") -> Post:
    """Cancel a post (and anything queued) before it is published."""
    _lock(post)
    post_policy.check(actor, "cancel", post)
    was_scheduled = post.status == PostStatus.SCHEDULED
    post.decision_reason = reason
    _set_status(post, PostStatus.CANCELLED, "decision_reason")
    audit.record(
        "planning.post.cancelled", actor=actor, target=post, changes={"reason": reason}
    )
    if was_scheduled:
        _withdraw(post, actor=actor, reason=reason or _("Annulleret"))
    return post


@transaction.atomic
def add_comment(post: Post, *, actor, body: str) -> Comment:
    """A comment in the post's discussion; the other participants are told."""
    post_policy.check(actor, "comment", post)
    body = body.strip()
    if not body:
        raise PlanningError(_("Kommentaren er tom. Skriv noget, før du sender."))
    comment = Comment.objects.create(post=post, author=actor.user, body=body)
    audit.record(
        "planning.comment.created",
        actor=actor,
        target=post,
        changes={"comment": comment.pk},
    )
    user_ids = {post.created_by_id, post.submitted_by_id, post.approved_by_id}
    user_ids |= set(post.comments.values_list("author_id", flat=True))
    user_ids -= {None, actor.user_id}
    recipients = [
        m for uid in user_ids for m in members_for_user(post.organisation_id, uid)
    ]
    notify(
        recipients,
        kind="comment.created",
        params={"name": actor.display_name, "title": post.title, "body": body[:200]},
        about=post,
        url=_post_url(post),
    )
    return comment


@transaction.atomic
def warn_unapproved_posts(
    *, now: datetime | None = None, within: timedelta = timedelta(hours=24)
) -> int:
    """Tell approvers (once) about posts whose planned time nears unapproved."""
    now = now or timezone.now()
    posts = Post.objects.filter(
        status__in=[PostStatus.DRAFT, PostStatus.IN_REVIEW],
        planned_at__gt=now,
        planned_at__lte=now + within,
        approval_warning_sent_at__isnull=True,
    ).select_related("organisation")
    count = 0
    for post in posts:
        notify(
            members_with(post.organisation_id, "posts.approve")
            + members_with(post.organisation_id, "posts.plan"),
            kind="post.approval_due",
            params={"title": post.title, "when": post.planned_at.isoformat()},
            about=post,
            url=_post_url(post),
        )
        post.approval_warning_sent_at = now
        post.save(update_fields=["approval_warning_sent_at"])
        audit.record(
            "planning.post.approval_warning_sent",
            target=post,
            organisation=post.organisation,
        )
        count += 1
    return count


@transaction.atomic
def mark_unapproved_missed(
    *,
    now: datetime | None = None,
    grace: timedelta = timedelta(minutes=5),
    dry_run: bool = False,
) -> int:
    """Posts whose planned time passed without approval and scheduling are
    missed: nothing was queued, so nothing goes out late by surprise."""
    now = now or timezone.now()
    posts = Post.objects.filter(
        status__in=[PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.APPROVED],
        planned_at__lt=now - grace,
    ).select_related("organisation")
    if dry_run:
        return posts.count()
    count = 0
    for post in posts.select_for_update():
        old = post.status
        _set_status(post, PostStatus.MISSED)
        audit.record(
            "planning.post.missed",
            organisation=post.organisation,
            target=post,
            changes={
                "status": [old, PostStatus.MISSED],
                "reason": "not approved and scheduled in time",
            },
        )
        recipients = members_with(post.organisation_id, "posts.plan")
        recipients += members_for_user(post.organisation_id, post.created_by_id)
        notify(
            recipients,
            kind="post.missed",
            params={"title": post.title},
            about=post,
            url=_post_url(post),
        )
        count += 1
    return count


# ---------------------------------------------------------------------------
# Media


MEDIA_FIELDS = (
    "alt_text",
    "credit",
    "identifiable_people_consent",
    "shows_identifiable_people",
    "rights_expire_on",
)


def upload_media(
    *,
    actor,
    upload,
    alt_text: str = "",
    credit: str = "",
    shows_identifiable_people: bool = False,
    identifiable_people_consent: bool = False,
    rights_expire_on: date | None = None,
    tags=(),
) -> MediaAsset:
    """Store an image or video with its thumbnail; nothing is kept on failure.

    Raises ``media.MediaRejected`` (Danish message) for a file that is not
    media, too big, or a decompression bomb.
    """
    media_policy.check(actor, "upload")
    read = media_files.read_upload(upload)
    stored = []
    try:
        with transaction.atomic():
            _check_media_quota(actor.organisation_id, upload.size)
            asset = MediaAsset(
                organisation=actor.organisation,
                administration=actor.administration,
                kind=read.kind,
                mime_type=read.mime_type,
                original_name=(upload.name or "upload")[-255:],
                size=upload.size,
                width=read.width,
                height=read.height,
                alt_text=alt_text,
                credit=credit,
                shows_identifiable_people=shows_identifiable_people,
                identifiable_people_consent=identifiable_people_consent,
                rights_expire_on=rights_expire_on,
                uploaded_by=actor.user,
            )
            asset.file.save(media_files.stored_name(read.mime_type), upload, save=False)
            stored.append(asset.file)
            if read.thumbnail:
                asset.thumbnail.save(
                    media_files.stored_name("image/jpeg"),
                    ContentFile(read.thumbnail),
                    save=False,
                )
                stored.append(asset.thumbnail)
            asset.save()
            _set_tags(asset, tags)
            audit.record(
                "planning.media.uploaded",
                actor=actor,
                target=asset,
                changes={
                    "name": asset.original_name,
                    "size": asset.size,
                    "kind": asset.kind,
                    "mime_type": asset.mime_type,
                    "tags": sorted(tags),
                },
            )
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    return asset


def media_quota_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "KANAL_MEDIA_QUOTA_BYTES", 5 * 1024**3))


def _check_media_quota(organisation_id: int, size: int) -> None:
    """Refuse an upload that would take the organisation past its quota.

    The organisation row is locked first, so two uploads at the same moment
    cannot both squeeze under the limit.
    """
    from django.db.models import Sum

    from kanal.organisations.models import Organisation

    Organisation.objects.select_for_update().filter(pk=organisation_id).first()
    used = (
        MediaAsset.objects.filter(organisation_id=organisation_id).aggregate(
            total=Sum("size")
        )["total"]
        or 0
    )
    quota = media_quota_bytes()
    if used + size > quota:
        raise media_files.MediaRejected(
            _(
                "Organisationens mediebibliotek er fuldt (%(used)s af %(quota)s MB "
                "brugt). Slet medier, der ikke bruges, eller bed den, der driver "
                "Kanal, om mere plads."
            )
            % {"used": f"{used / 1048576:.0f}", "quota": f"{quota / 1048576:.0f}"}
        )


def _set_tags(asset: MediaAsset, names) -> None:
    """The asset's tags by name (created in its organisation when new)."""
    tags = []
    for name in dict.fromkeys(names):
        tag, _created = MediaTag.objects.get_or_create(
            organisation_id=asset.organisation_id, name=name
        )
        tags.append(tag)
    asset.tags.set(tags)


@transaction.atomic
def update_media(asset: MediaAsset, *, actor, **fields) -> MediaAsset:
    """Change an asset's description, rights or tags (``tags``: names)."""
    media_policy.check(actor, "change", asset)
    tags = fields.pop("tags", None)
    unknown = set(fields) - set(MEDIA_FIELDS)
    if unknown:
        raise ValueError(f"Unknown media fields: {sorted(unknown)}")
    before = audit.snapshot(asset, MEDIA_FIELDS)
    for name, value in fields.items():
        setattr(asset, name, value)
    changed = audit.diff(asset, MEDIA_FIELDS, before)
    if changed:
        asset.save(update_fields=list(changed))
    if tags is not None:
        old = sorted(asset.tags.values_list("name", flat=True))
        if old != sorted(tags):
            _set_tags(asset, tags)
            changed["tags"] = [old, sorted(tags)]
    if changed:
        audit.record(
            "planning.media.updated", actor=actor, target=asset, changes=changed
        )
    return asset


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
    before = audit.snapshot(row, LINK_TRACKING_FIELDS)
    for name, value in fields.items():
        setattr(row, name, value)
    changed = audit.diff(row, LINK_TRACKING_FIELDS, before)
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
