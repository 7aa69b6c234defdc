from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core.decorators import membership_required
from kanal.core.safety import query_id

from . import actions, selectors
from .forms import PreferenceForm


@membership_required
@require_http_methods(["GET"])
def notification_list_view(request):
    member = request.membership
    return render(
        request,
        "notifications/list.html",
        {
            "notifications": selectors.for_member(member),
            "unread": selectors.unread(member).count(),
        },
    )


@membership_required
@require_POST
def mark_read_view(request):
    """Mark one (``id``) or all of the member's notifications as read."""
    member = request.membership
    if request.POST.get("alle"):
        actions.mark_read(actor=member)
    else:
        note_id = query_id(request.POST.get("id"), label=_("Notifikation"))
        if note_id is not None:
            actions.mark_read(actor=member, ids=[note_id])
    return redirect("notifications:list")


@membership_required
@require_http_methods(["GET", "POST"])
def preferences_view(request):
    member = request.membership
    preference = selectors.preference_for(member)
    form = PreferenceForm(request.POST or None, preference=preference)
    if request.method == "POST" and form.is_valid():
        actions.set_preferences(
            actor=member,
            email_kinds=form.email_kinds(),
            language=form.cleaned_data["language"],
        )
        messages.success(request, _("Dine valg er gemt."))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
