from django import template

from kanal.inbox import privacy

register = template.Library()


@register.filter
def masked(text):
    """The text with personal data replaced (lists and previews)."""
    return privacy.mask(text or "")


@register.filter
def personal_labels(kinds):
    return ", ".join(privacy.labels(list(kinds or [])))


@register.simple_tag(takes_context=True)
def inbox_access(context) -> bool:
    """Whether the menu offers the inbox (asked of the policy, no query)."""
    from kanal.inbox.policies import conversation_policy

    membership = context.get("membership")
    return membership is not None and conversation_policy.can(membership, "list")
