"""The operations view (publications and what to do about them) and crisis mode."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kanal.channels.models import ChannelStatus
from kanal.channels.policies import channel_policy
from kanal.core.decorators import membership_required
from kanal.core.safety import day_window_message, in_window, query_id, safe_next

from . import actions, selectors
from .forms import (
    CrisisMessageForm,
    LocalDateTimeField,
    MarkPublishedForm,
    RescheduleForm,
    StartCrisisForm,
    local_input,
)
from .models import PublicationStatus
from .policies import crisis_policy, publication_policy

GROUP_LABELS = {
    "queued": _("I kø"),
    "in_flight": _("Sendes nu"),
    "failed": _("Fejlet"),
    "missed": _("Ikke udgivet i tide"),
    "published": _("Udgivet"),
    "cancelled": _("Annulleret"),
}


@membership_required
def operations_view(request):
    actor = request.membership
    publication_policy.check(actor, "list")
    visible = publication_policy.visible(actor)
    group = request.GET.get("vis", "queued")
    if group not in selectors.OPERATION_GROUPS:
        group = "queued"
    page = Paginator(selectors.operations(visible, group), 50).get_page(
        request.GET.get("side")
    )
    counts = selectors.counts(visible)
    tabs = [
        {"key": k, "label": str(GROUP_LABELS[k]), "count": counts[k]}
        for k in selectors.OPERATION_GROUPS
    ]
    return render(
        request,
        "publishing/operations.html",
        {
            "page": page,
            "group": group,
            "group_label": GROUP_LABELS[group],
            "tabs": tabs,
            "can_act": publication_policy.can(actor, "retry"),
            "now_input": local_input(timezone.now()),
        },
    )


def _publication(request, pk, action: str):
    pub = publication_policy.get_visible_or_404(request.membership, pk=pk)
    publication_policy.check(request.membership, action, pub)
    return pub


def _back(request):
    """Back to where the action was started: ``next`` only when it is a path
    on this site (never another host, never ``next=foo``)."""
    fallback = reverse("publishing:operations")
    return redirect(safe_next(request, request.POST.get("next"), fallback))


def _run(request, action, success: str):
    try:
        action()
    except ValueError as e:
        messages.error(request, str(e))
    except PermissionDenied:
        raise
    else:
        messages.success(request, success)
    return _back(request)


@require_POST
@membership_required
def retry_view(request, pk):
    pub = _publication(request, pk, "retry")
    return _run(
        request,
        lambda: actions.retry_publication(pub, actor=request.membership),
        _("Udgivelsen sendes nu."),
    )


@require_POST
@membership_required
def reschedule_view(request, pk):
    pub = _publication(request, pk, "retry")
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Vælg et gyldigt tidspunkt."))
        return _back(request)
    if not in_window(form.cleaned_data["planned_at"]):
        messages.error(request, day_window_message())
        return _back(request)
    return _run(
        request,
        lambda: actions.reschedule_publication(
            pub, actor=request.membership, planned_at=form.cleaned_data["planned_at"]
        ),
        _("Udgivelsen er flyttet."),
    )


@require_POST
@membership_required
def cancel_view(request, pk):
    pub = _publication(request, pk, "cancel")
    return _run(
        request,
        lambda: actions.cancel_publication(pub, actor=request.membership),
        _("Udgivelsen er annulleret."),
    )


@require_POST
@membership_required
def mark_published_view(request, pk):
    pub = _publication(request, pk, "mark_published")
    form = MarkPublishedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Angiv opslagets fulde adresse (https://…)."))
        return _back(request)
    return _run(
        request,
        lambda: actions.mark_published_manually(
            pub, actor=request.membership, url=form.cleaned_data["url"]
        ),
        _("Udgivelsen er markeret som udgivet."),
    )


# ---------------------------------------------------------------------------
# Crisis


def _channels(actor):
    return channel_policy.visible(actor).exclude(status=ChannelStatus.DISABLED)


def _check_channel_ids(request) -> None:
    """A Danish 400 for a channel id no row can have, before the form asks
    the database (SQLite raises OverflowError for 2^63 and more)."""
    for value in request.POST.getlist("channels"):
        query_id(value)


@membership_required
def crisis_view(request):
    crisis_policy.check(request.membership, "view")
    return _crisis_page(request)


def _crisis_page(request, *, start_form=None, message_form=None, status=200):
    """The crisis page; a form that failed is shown again with its errors by
    its field and everything the user wrote."""
    actor = request.membership
    crisis = selectors.active_crisis(actor.organisation_id)
    channels = _channels(actor)
    context = {
        "crisis": crisis,
        "can_manage": crisis_policy.can(actor, "start"),
        "can_publish": crisis_policy.can(actor, "publish"),
        "start_form": start_form or StartCrisisForm(channels=channels),
        "message_form": message_form or CrisisMessageForm(channels=channels),
        "history": crisis_policy.visible(actor).filter(ended_at__isnull=False)[:10],
    }
    if crisis is not None:
        groups = selectors.paused_groups(actor.organisation_id)
        suggestion = actions.suggest_spread(
            [p for g in groups for p in g["publications"]]
        )
        for g in groups:
            for p in g["publications"]:
                p.suggested_input = local_input(suggestion[p.pk])
        context["paused_groups"] = groups
        context["paused_count"] = sum(len(g["publications"]) for g in groups)
    return render(request, "publishing/crisis.html", context, status=status)


@require_POST
@membership_required
def crisis_start_view(request):
    actor = request.membership
    crisis_policy.check(actor, "start")
    _check_channel_ids(request)
    form = StartCrisisForm(request.POST, channels=_channels(actor))
    if not form.is_valid():
        return _crisis_page(request, start_form=form, status=400)
    chosen = (
        list(form.cleaned_data["channels"])
        if form.cleaned_data["scope"] == "channels"
        else []
    )
    try:
        actions.start_crisis(actor=actor, organisation=actor.organisation,
                             reason=form.cleaned_data["reason"], channels=chosen)
    except ValueError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Krisetilstand er slået til. Planlagte opslag "
                                    "er sat på pause."))
    return redirect("publishing:crisis")


@require_POST
@membership_required
def crisis_message_view(request):
    actor = request.membership
    crisis_policy.check(actor, "publish")
    _check_channel_ids(request)
    form = CrisisMessageForm(request.POST, channels=_channels(actor))
    if not form.is_valid():
        return _crisis_page(request, message_form=form, status=400)
    try:
        pubs = actions.publish_crisis_message(
            actor=actor,
            organisation=actor.organisation,
            text=form.cleaned_data["text"],
            link=form.cleaned_data["link"],
            channels=form.cleaned_data["channels"],
            confirmed=form.cleaned_data["confirm"],
        )
    except ValueError as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request,
            _("Krisebeskeden sendes nu på %(n)d kanaler. Følg den under "
              "Udgivelser.") % {"n": len(pubs)},
        )
        chosen = {c.pk for c in form.cleaned_data["channels"]}
        left_out = sorted(chosen - {p.channel_id for p in pubs})
        if left_out:
            names = ", ".join(
                str(c) for c in form.cleaned_data["channels"] if c.pk in left_out
            )
            messages.warning(
                request,
                _("Ikke sendt på %(names)s: netværket kræver et billede. Læg "
                  "beskeden op dér i hånden.") % {"names": names},
            )
    return redirect("publishing:crisis")


@require_POST
@membership_required
def crisis_end_view(request):
    actor = request.membership
    crisis_policy.check(actor, "end")
    crisis = selectors.active_crisis(actor.organisation_id)
    if crisis is None:
        messages.error(request, _("Krisetilstand er ikke slået til."))
        return redirect("publishing:crisis")
    crisis_policy.check(actor, "end", crisis)
    bulk = request.POST.get("bulk", "")
    field = LocalDateTimeField()
    decisions: dict[int, tuple[str, datetime | None]] = {}
    for group in selectors.paused_groups(actor.organisation_id):
        choice = request.POST.get(f"choice-{group['key']}", "") or bulk
        for pub in group["publications"]:
            when = None
            if choice == "reschedule":
                try:
                    when = field.clean(request.POST.get(f"at-{pub.pk}", ""))
                except Exception:
                    when = None
                if not in_window(when):
                    when = None
            if choice:
                decisions[pub.pk] = (choice, when)
    try:
        tally = actions.end_crisis(crisis, actor=actor, decisions=decisions)
    except ValueError as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request,
            _("Krisetilstand er slået fra. Udgives nu: %(p)d, flyttet: %(r)d, "
              "annulleret: %(c)d.")
            % {"p": tally["publish_now"], "r": tally["reschedule"],
               "c": tally["cancel"]},
        )
    return redirect("publishing:crisis")


STATUS_CLASSES = {
    PublicationStatus.PUBLISHED: "connected",
    PublicationStatus.FAILED: "needs_reconnect",
    PublicationStatus.MISSED: "needs_reconnect",
}
