"""The approval workflow: submit, approve, reject, schedule, withdraw."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.notifications.audience import members_for_user, members_with
from kanal.publishing import actions as publishing_actions

from ..models import (
    Comment,
    Post,
    PostStatus,
    VariantRevision,
)
from ..policies import (
    post_policy,
)
from ..timeutil import move_to_day
from ..validation import check_saved_variant, outgoing
from .common import (
    ApprovalOutdated,
    InvalidVariants,
    PlanningError,
    _check_version,
    _colleagues,
    _lock,
    _refuse_past,
    _save_revision,
    _set_status,
    _sync_planned_at,
    _tell,
    _user,
)


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
    _tell(_colleagues(post, "posts.approve", actor), post, "post.submitted")
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
    _tell(recipients, post, "post.approved")
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
    _tell(recipients, post, "post.rejected", reason=reason)
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
    queue = publishing_actions.queue_publication
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


def _withdraw(post: Post, *, actor, reason: str) -> None:
    post.variants.update(publication_status="")
    publishing_actions.withdraw_publications(
        actor=actor, post_id=post.pk, reason=reason
    )


def _reschedule_publications(post: Post, *, actor) -> None:
    for variant in post.variants.all():
        publishing_actions.reschedule_publications(
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
    # Publications first, the audit entry last: the audit chain's lock is
    # always the last one a transaction takes (core.audit), so the engine
    # (publication, then chain) and an editor never wait for each other.
    if post.status == PostStatus.SCHEDULED:
        _reschedule_publications(post, actor=actor)
    audit.record(
        "planning.post.rescheduled",
        actor=actor,
        target=post,
        changes={str(v.channel_id): [old[v.channel_id], t] for v, t in moves.items()},
    )
    return post, list(dict.fromkeys(notes))


@transaction.atomic
def cancel_post(post: Post, *, actor, reason: str = "") -> Post:
    """Cancel a post (and anything queued) before it is published."""
    _lock(post)
    post_policy.check(actor, "cancel", post)
    was_scheduled = post.status == PostStatus.SCHEDULED
    post.decision_reason = reason
    _set_status(post, PostStatus.CANCELLED, "decision_reason")
    if was_scheduled:  # before the audit entry: its lock comes last
        _withdraw(post, actor=actor, reason=reason or _("Annulleret"))
    audit.record(
        "planning.post.cancelled", actor=actor, target=post, changes={"reason": reason}
    )
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
    _tell(recipients, post, "comment.created", name=actor.display_name,
          body=body[:200])
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
        _tell(members_with(post.organisation_id, "posts.approve")
              + members_with(post.organisation_id, "posts.plan"),
              post, "post.approval_due", when=post.planned_at.isoformat())
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
        _tell(recipients, post, "post.missed")
        count += 1
    return count
