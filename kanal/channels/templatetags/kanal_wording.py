"""``{% load kanal_wording %}``: ``{{ channel.last_error|network_sentence }}``
shows a network's sentence in the reader's language."""

from django import template

from kanal.channels.wording import network_sentence as _network_sentence

register = template.Library()


@register.filter
def network_sentence(value) -> str:
    return _network_sentence(str(value or ""))
