"""Whether the inbox may reach a channel's network now.

"Slået fra" stops all use of a channel (``channels.actions.disable_channel``:
a page handed over, an account whose access leaked): no answer, message,
like, hide or delete goes out through it. Every inbox action that reaches
the network asks here when the person acts, reading the channel's status
from the database (the page they acted on may be older than the
administrator's decision), so nothing is queued to go out weeks later when
the channel is turned on again. The publishing worker's fence stops an
answer queued before the channel was turned off.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kanal.channels.models import Channel, ChannelStatus


def is_off(channel: Channel) -> bool:
    """Whether ``channel`` is turned off now (its stored status)."""
    return Channel.objects.filter(
        pk=channel.pk, status=ChannelStatus.DISABLED).exists()


def check_on(channel: Channel) -> None:
    """Raise ``ValidationError`` (in Danish) when ``channel`` is turned off."""
    if is_off(channel):
        raise ValidationError(refusal(channel), code="channel_disabled")


def refusal(channel: Channel) -> str:
    return _("Kanalen %(channel)s er slået fra, så Kanal sender intet til "
             "netværket gennem den. Bed en administrator slå kanalen til igen, "
             "hvis den stadig skal bruges.") % {"channel": channel}
