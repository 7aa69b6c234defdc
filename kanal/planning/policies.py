"""Who may see and do what with posts, media and campaigns.

Contributors and analysts see their own administration's work only; the desk,
approvers and the crisis staff see everything in the organisation
(``posts.view_all``). A post outside ``visible`` is a 404.
"""

from __future__ import annotations

from django.db.models import Q

from kanal.core.policies import OrganisationPolicy

from .models import (
    EDITABLE_STATES,
    FINISHED_STATES,
    Campaign,
    LinkTracking,
    MediaAsset,
    Post,
    PostStatus,
    Variant,
    VariantRevision,
)


class PostPolicy(OrganisationPolicy):
    model = Post
    permissions = {
        "list": "channels.view",
        "view": "channels.view",
        "comment": "channels.view",
        "propose": "posts.propose",
        "edit_proposal": "posts.propose",
        "review_proposal": "posts.plan",
        "create": "posts.plan",
        "edit": "posts.plan",
        "submit": "posts.plan",
        "schedule": "posts.plan",
        "reschedule": "posts.plan",
        "cancel": "posts.plan",
        "approve": "posts.approve",
        "reject": "posts.approve",
        # The proposals page: contributors propose, the desk reviews.
        "list_proposals": "posts.propose",
        # The strategy report (counts only, across the organisation).
        "report": "reports.view",
    }

    def can(self, actor, action, obj=None) -> bool:
        if action == "list_proposals" and obj is None:
            return super().can(actor, "propose") or super().can(
                actor, "review_proposal"
            )
        return super().can(actor, action, obj)

    def queryset(self):
        return Post.objects.select_related("owner_administration", "campaign")

    def narrow(self, actor, qs):
        if actor.has_perm("posts.view_all"):
            return qs
        return qs.filter(
            Q(owner_administration_id=actor.administration_id)
            | Q(created_by_id=actor.user_id)
        )

    def allows(self, actor, action, obj):
        if obj is None:
            return True
        status = obj.status
        if action == "edit_proposal":
            return status in {PostStatus.PROPOSAL, PostStatus.CHANGES_REQUESTED}
        if action == "review_proposal":
            return status == PostStatus.PROPOSAL
        if action == "edit":
            return status in EDITABLE_STATES
        if action == "submit":
            return status == PostStatus.DRAFT
        if action in {"approve", "reject"}:
            if status != PostStatus.IN_REVIEW:
                return False
            return not self.is_own_post(actor, obj)
        if action == "schedule":
            return status == PostStatus.APPROVED
        if action == "reschedule":
            return status in EDITABLE_STATES
        if action == "cancel":
            return status not in FINISHED_STATES
        return True

    @staticmethod
    def is_own_post(actor, post) -> bool:
        """Whether ``actor`` had a hand in what would be approved (four eyes):
        created or submitted the post, wrote any revision since it was
        submitted, or wrote a revision that is current now."""
        if actor is None or not post.organisation.forbid_self_approval:
            return False
        if actor.user_id in {post.created_by_id, post.submitted_by_id}:
            return True
        return wrote_revision(actor.user_id, post)


def wrote_revision(user_id, post) -> bool:
    """A revision of ``post`` by ``user_id`` since its submission (every
    revision when the submission time is unknown), or a current one."""
    revisions = VariantRevision.objects.filter(
        variant__post=post, created_by_id=user_id
    )
    if post.submitted_at is None:
        return revisions.exists()
    current = Variant.objects.filter(post=post).values("current_revision_id")
    return revisions.filter(
        Q(created_at__gte=post.submitted_at) | Q(pk__in=current)
    ).exists()


class MediaPolicy(OrganisationPolicy):
    model = MediaAsset
    permissions = {
        "list": "channels.view",
        "view": "channels.view",
        "upload": "posts.propose",
        "change": "posts.propose",
    }

    def queryset(self):
        return MediaAsset.objects.select_related("administration")

    def narrow(self, actor, qs):
        if actor.has_perm("posts.view_all"):
            return qs
        return qs.filter(administration_id=actor.administration_id)


class CampaignPolicy(OrganisationPolicy):
    model = Campaign
    permissions = {"list": "channels.view", "create": "posts.plan"}


class LinkTrackingPolicy(OrganisationPolicy):
    """The desk decides how links are tracked (UTM parameters)."""

    model = LinkTracking
    permissions = {"view": "posts.plan", "change": "posts.plan"}


post_policy = PostPolicy()
media_policy = MediaPolicy()
campaign_policy = CampaignPolicy()
link_tracking_policy = LinkTrackingPolicy()
