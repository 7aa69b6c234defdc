"""Who may see and do what with posts, media and campaigns.

Contributors and analysts see their own administration's work only; the desk,
approvers and the crisis staff see everything in the organisation
(``posts.view_all``). A post outside ``visible`` is a 404.
"""

from __future__ import annotations

from django.db.models import Q

from kanal.core.policies import BasePolicy

from .models import (
    EDITABLE_STATES,
    FINISHED_STATES,
    Campaign,
    MediaAsset,
    Post,
    PostStatus,
)


class PostPolicy(BasePolicy):
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
    }

    def visible(self, actor):
        qs = Post.objects.select_related("owner_administration", "campaign")
        if actor is None:
            return qs
        qs = qs.filter(organisation_id=actor.organisation_id)
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
        if not post.organisation.forbid_self_approval:
            return False
        return actor.user_id in {post.created_by_id, post.submitted_by_id}


class MediaPolicy(BasePolicy):
    model = MediaAsset
    permissions = {
        "list": "channels.view",
        "view": "channels.view",
        "upload": "posts.propose",
        "change": "posts.propose",
    }

    def visible(self, actor):
        qs = MediaAsset.objects.select_related("administration")
        if actor is None:
            return qs
        qs = qs.filter(organisation_id=actor.organisation_id)
        if actor.has_perm("posts.view_all"):
            return qs
        return qs.filter(administration_id=actor.administration_id)


class CampaignPolicy(BasePolicy):
    model = Campaign
    permissions = {"list": "channels.view", "create": "posts.plan"}

    def visible(self, actor):
        if actor is None:
            return Campaign.objects.all()
        return Campaign.objects.filter(organisation_id=actor.organisation_id)


post_policy = PostPolicy()
media_policy = MediaPolicy()
campaign_policy = CampaignPolicy()
