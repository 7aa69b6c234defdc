from .selectors import active_crisis, notifications_for


def crisis(request):
    """The crisis banner's state, and publishing's notifications (lazily)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "active_crisis": active_crisis(membership.organisation_id),
        "publishing_notifications": lambda: list(notifications_for(membership)),
    }
