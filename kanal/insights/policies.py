"""Who may see insights: the desk, administrators and analysts
(``insights.view`` in organisations.roles). Everything is the member's own
organisation's; a publication of another organisation is a 404."""

from __future__ import annotations

from kanal.core.policies import BasePolicy
from kanal.publishing.models import Publication

from .models import DailyRollup


class InsightsPolicy(BasePolicy):
    model = DailyRollup
    permissions = {"view": "insights.view", "export": "insights.view"}

    def visible(self, actor):
        if actor is None:
            return DailyRollup.objects.all()
        return DailyRollup.objects.filter(organisation_id=actor.organisation_id)


class PublicationInsightsPolicy(BasePolicy):
    """A post's own numbers: published publications of the organisation."""

    model = Publication
    permissions = {"view": "insights.view"}

    def visible(self, actor):
        rows = Publication.objects.exclude(published_at=None)
        if actor is None:
            return rows
        return rows.filter(organisation_id=actor.organisation_id)


insights_policy = InsightsPolicy()
publication_policy = PublicationInsightsPolicy()
