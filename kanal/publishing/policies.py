from __future__ import annotations

from kanal.core.policies import BasePolicy

from .models import Crisis, CrisisTemplate, Publication


class PublicationPolicy(BasePolicy):
    model = Publication
    permissions = {
        "list": "posts.view_all",
        "view": "posts.view_all",
        "queue": "posts.plan",
        "withdraw": "posts.plan",
        "reschedule": "posts.plan",
        "retry": "posts.publish",
        "cancel": "posts.publish",
        "mark_published": "posts.publish",
    }

    def visible(self, actor):
        qs = Publication.objects.select_related("channel")
        if actor is None:
            return qs
        if not actor.has_perm("posts.view_all"):
            return qs.none()
        return qs.filter(organisation_id=actor.organisation_id)


class CrisisPolicy(BasePolicy):
    model = Crisis
    permissions = {
        "view": "channels.view",
        "start": "crisis.manage",
        "end": "crisis.manage",
        "publish": "crisis.publish",
        # Count a message the networks' way while it is written (composer,
        # all-clear, templates).
        "compose": "crisis.manage",
    }

    def visible(self, actor):
        if actor is None:
            return Crisis.objects.all()
        return Crisis.objects.filter(organisation_id=actor.organisation_id)


class CrisisTemplatePolicy(BasePolicy):
    """Prepared crisis messages: kept by the desk (editors, administrators,
    crisis leads), within their own organisation."""

    model = CrisisTemplate
    permissions = {
        "list": "crisis.manage",
        "view": "crisis.manage",
        "create": "crisis.manage",
        "change": "crisis.manage",
        "delete": "crisis.manage",
    }

    def visible(self, actor):
        if actor is None:
            return CrisisTemplate.objects.all()
        if not actor.has_perm("crisis.manage"):
            return CrisisTemplate.objects.none()
        return CrisisTemplate.objects.filter(organisation_id=actor.organisation_id)


publication_policy = PublicationPolicy()
crisis_policy = CrisisPolicy()
crisis_template_policy = CrisisTemplatePolicy()
