from .selectors import active_crisis


def crisis(request):
    """The crisis banner's state."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {"active_crisis": active_crisis(membership.organisation_id)}
