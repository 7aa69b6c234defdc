"""Who may see and manage sources and act on their suggestions.

The desk (``posts.plan``) manages sources and decides on suggestions; only
administrators (``organisation.manage``) may let a source fetch from internal
addresses. Everything is scoped to the actor's organisation: another
organisation's source or suggestion is a 404.
"""

from __future__ import annotations

from kanal.channels.models import Channel
from kanal.core.policies import BasePolicy

from .models import Source, Suggestion, SuggestionStatus


class SourcePolicy(BasePolicy):
    model = Source
    permissions = {
        "list": "posts.plan",
        "view": "posts.plan",
        "create": "posts.plan",
        "edit": "posts.plan",
        "fetch": "posts.plan",
        "allow_private": "organisation.manage",
    }

    def visible(self, actor):
        qs = Source.objects.select_related("owner_administration")
        if actor is None:
            return qs
        return qs.filter(organisation_id=actor.organisation_id)


class SuggestionPolicy(BasePolicy):
    model = Suggestion
    permissions = {
        "list": "posts.plan",
        "accept": "posts.plan",
        "edit": "posts.plan",
        "dismiss": "posts.plan",
        # A repost is published at once under the city's name.
        "repost": "posts.approve",
    }

    def visible(self, actor):
        qs = Suggestion.objects.select_related(
            "item", "item__source", "channel", "post"
        )
        if actor is None:
            return qs
        return qs.filter(item__source__organisation_id=actor.organisation_id)

    def allows(self, actor, action, obj):
        if obj is None:
            return True
        return obj.status == SuggestionStatus.OPEN


class TonePolicy(BasePolicy):
    """Who may set the tone of a channel's suggestions (the channel is the
    object: the organisation's own only)."""

    model = Channel
    permissions = {"list": "posts.plan", "edit": "posts.plan"}

    def visible(self, actor):
        qs = Channel.objects.order_by("network", "display_name")
        if actor is None:
            return qs
        return qs.filter(organisation_id=actor.organisation_id)


source_policy = SourcePolicy()
tone_policy = TonePolicy()
suggestion_policy = SuggestionPolicy()
