import unicodedata

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.formats import localize
from django.utils.text import Truncator
from django.utils.translation import ngettext

from kanal.inbox import privacy

register = template.Library()

#: An id no conversation has, to find where ``inbox:detail`` writes the id.
_ANY_ID = 987654321
#: ``inbox:detail`` around its id, per script prefix (``reverse`` writes it).
_DETAIL_URLS: dict[str, tuple[str, str]] = {}


@register.filter
def detail_url(conversation_id) -> str:
    """The conversation's page, as ``{% url 'inbox:detail' id %}`` writes
    it, resolved once (per script prefix) instead of once for each of a
    list's 50 rows."""
    prefix = get_script_prefix()
    around = _DETAIL_URLS.get(prefix)
    if around is None:
        head, tail = reverse("inbox:detail", args=[_ANY_ID]).split(str(_ANY_ID))
        around = _DETAIL_URLS[prefix] = (head, tail)
    return f"{around[0]}{int(conversation_id)}{around[1]}"


@register.filter
def item_count(n) -> str:
    """"4 henvendelser": the message the list's rows wrote with
    ``{% blocktranslate count %}``, as one ``ngettext`` (the tag took as long
    as the rest of a row)."""
    return ngettext("%(n)s henvendelse", "%(n)s henvendelser", n) % {
        "n": localize(n)}


@register.filter
def masked(text):
    """The text with personal data replaced (lists and previews)."""
    return privacy.mask(text or "")


@register.filter
def preview(text, length: int):
    """``text|masked|truncatechars:length``, as Django's filter writes it
    (composed to NFC, cut with an ellipsis), without walking a text that is
    short enough letter by letter."""
    shown = unicodedata.normalize("NFC", privacy.mask(text or ""))
    if len(shown) <= length:
        return shown
    return Truncator(shown).chars(length)


@register.filter
def personal_labels(kinds):
    return ", ".join(privacy.labels(list(kinds or [])))


@register.simple_tag(takes_context=True)
def inbox_access(context) -> bool:
    """Whether the menu offers the inbox (asked of the policy, no query)."""
    from kanal.inbox.policies import conversation_policy

    membership = context.get("membership")
    return membership is not None and conversation_policy.can(membership, "list")
