def membership(request):
    membership = getattr(request, "membership", None)
    context = {"membership": membership}
    if membership is not None:
        context["organisation"] = membership.organisation
    return context
