"""The front page (top layer: it may show every app's panels)."""

from __future__ import annotations

from django.shortcuts import render

from kanal.channels.models import ChannelStatus
from kanal.channels.policies import channel_policy
from kanal.core.decorators import membership_required


@membership_required
def dashboard_view(request):
    channels = list(channel_policy.visible(request.membership))
    return render(
        request,
        "dashboard.html",
        {
            "channels": channels,
            "needs_attention": [
                c for c in channels if c.status == ChannelStatus.NEEDS_RECONNECT
            ],
        },
    )
