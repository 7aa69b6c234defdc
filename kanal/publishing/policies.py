from __future__ import annotations

from kanal.core.policies import BasePolicy

from .models import Crisis, Publication


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
    }

    def visible(self, actor):
        if actor is None:
            return Crisis.objects.all()
        return Crisis.objects.filter(organisation_id=actor.organisation_id)


publication_policy = PublicationPolicy()
crisis_policy = CrisisPolicy()
