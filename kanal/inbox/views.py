"""The inbox pages: the list with filters and search, one conversation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kanal.channels.models import Channel
from kanal.core.decorators import membership_required
from kanal.organisations.models import Administration

from . import actions, selectors
from .forms import AssignForm, FilterForm, NoteForm, StatusForm
from .models import ConversationStatus
from .policies import conversation_policy


def _filters(request, actor):
    visible = conversation_policy.visible(actor)
    channels = Channel.objects.filter(organisation_id=actor.organisation_id)
    administrations = Administration.objects.filter(
        organisation_id=actor.organisation_id)
    form = FilterForm(request.GET or None, channels=channels,
                      administrations=administrations)
    values = form.values() if request.GET else {}
    filters = selectors.Filters(
        network=values.get("network") or "",
        channel=values.get("channel"),
        status=values.get("status") or "",
        administration=values.get("administration"),
        overdue=bool(values.get("overdue")),
        personal_data=bool(values.get("personal_data")),
        q=(values.get("q") or "").strip(),
    )
    return visible, form, filters


def _page(request, visible, filters):
    return Paginator(selectors.conversations(visible, filters),
                     selectors.PAGE_SIZE).get_page(request.GET.get("side"))


@membership_required
def list_view(request):
    actor = request.membership
    conversation_policy.check(actor, "list")
    visible, form, filters = _filters(request, actor)
    page = _page(request, visible, filters)
    query = request.GET.copy()
    query.pop("side", None)
    counts = selectors.status_counts(visible)
    return render(request, "inbox/list.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "latest": selectors.latest_item_id(visible),
        "counts": [(value, label, counts.get(value, 0))
                   for value, label in ConversationStatus.choices],
        "can_assign": conversation_policy.can(actor, "assign"),
    })


@membership_required
def updates_view(request):
    """For the list's polling: the newest item id and, when it changed, the
    list's rows for the same filters."""
    actor = request.membership
    conversation_policy.check(actor, "list")
    visible, _form, filters = _filters(request, actor)
    latest = selectors.latest_item_id(visible)
    try:
        since = int(request.GET.get("siden", "0"))
    except ValueError:
        since = 0
    body = {"latest": latest, "changed": latest != since}
    if latest != since:
        page = _page(request, visible, filters)
        body["rows"] = render_to_string("inbox/_rows.html", {"page": page},
                                        request=request)
        body["count"] = page.paginator.count
    return JsonResponse(body)


@membership_required
def detail_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_visible_or_404(actor, pk=pk)
    conversation_policy.check(actor, "view", conversation)
    items = conversation.items.prefetch_related("versions")
    notes = conversation.notes.select_related("author__user")
    can_assign = conversation_policy.can(actor, "assign", conversation)
    return render(request, "inbox/detail.html", {
        "conversation": conversation,
        "items": items,
        "notes": notes,
        "assign_form": AssignForm(
            organisation=actor.organisation,
            initial={"administration": conversation.assigned_administration_id,
                     "person": conversation.assigned_to_id},
        ) if can_assign else None,
        "status_form": StatusForm(initial={"status": conversation.status}),
        "note_form": NoteForm(),
    })


def _back(conversation):
    return redirect("inbox:detail", pk=conversation.pk)


@require_POST
@membership_required
def assign_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_visible_or_404(actor, pk=pk)
    conversation_policy.check(actor, "assign", conversation)
    form = AssignForm(request.POST, organisation=actor.organisation)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) or [_("Vælg en gyldig "
                                                          "forvaltning eller person.")]:
            messages.error(request, error)
        return _back(conversation)
    try:
        actions.assign_conversation(
            conversation, actor=actor,
            administration=form.cleaned_data["administration"],
            person=form.cleaned_data["person"],
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return _back(conversation)
    messages.success(request, _("Samtalen er tildelt %(who)s.") % {
        "who": conversation.assigned_administration.code})
    return _back(conversation)


@require_POST
@membership_required
def status_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_visible_or_404(actor, pk=pk)
    conversation_policy.check(actor, "set_status", conversation)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Vælg en gyldig status."))
        return _back(conversation)
    try:
        actions.set_conversation_status(conversation, actor=actor,
                                        status=form.cleaned_data["status"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return _back(conversation)
    messages.success(request, _("Status er nu: %(status)s.") % {
        "status": conversation.get_status_display()})
    return _back(conversation)


@require_POST
@membership_required
def note_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_visible_or_404(actor, pk=pk)
    conversation_policy.check(actor, "note", conversation)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Skriv noten, før du gemmer den (højst 5.000 tegn)."))
        return _back(conversation)
    try:
        actions.add_note(conversation, actor=actor, text=form.cleaned_data["text"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return _back(conversation)
    messages.success(request, _("Noten er gemt."))
    return _back(conversation)
