from __future__ import annotations

from kanal.core.policies import BasePolicy, OrganisationPolicy

from .models import Channel, StrategyProfile


class ChannelPolicy(OrganisationPolicy):
    model = Channel
    permissions = {
        "list": "channels.view",
        "view": "channels.view",
        "create": "channels.manage",
        "change": "channels.manage",
        "disable": "channels.manage",
        "enable": "channels.manage",
        "verify": "channels.manage",
        "change_credentials": "channels.manage",
        "change_strategy": "strategy.manage",
    }

    def queryset(self):
        return Channel.objects.select_related("owner_administration", "strategy")

    def narrow(self, actor, qs):
        return qs if actor.has_perm("channels.view") else qs.none()


class StrategyProfilePolicy(BasePolicy):
    model = StrategyProfile
    permissions = {"view": "channels.view", "change": "strategy.manage"}

    def visible(self, actor):
        qs = StrategyProfile.objects.select_related("channel")
        if actor is None:
            return qs
        return qs.filter(channel__in=channel_policy.visible(actor))


channel_policy = ChannelPolicy()
strategy_policy = StrategyProfilePolicy()
