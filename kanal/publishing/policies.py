from __future__ import annotations

from kanal.core.policies import OrganisationPolicy

from .models import Crisis, CrisisTemplate, Publication


class PublicationPolicy(OrganisationPolicy):
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

    def queryset(self):
        return Publication.objects.select_related("channel")

    def narrow(self, actor, qs):
        return qs if actor.has_perm("posts.view_all") else qs.none()


class CrisisPolicy(OrganisationPolicy):
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


class CrisisTemplatePolicy(OrganisationPolicy):
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

    def narrow(self, actor, qs):
        return qs if actor.has_perm("crisis.manage") else qs.none()


publication_policy = PublicationPolicy()
crisis_policy = CrisisPolicy()
crisis_template_policy = CrisisTemplatePolicy()
