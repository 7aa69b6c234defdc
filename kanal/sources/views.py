"""Sources pages. Each view parses input, calls one action or selector,
renders."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core import safety
from kanal.core.decorators import membership_required
from kanal.core.pages import form_page

from . import actions, decisions, selectors
from .forms import SourceForm, SuggestionForm, ToneForm
from .models import SourceStatus, Tone
from .parsers import LOCAL
from .policies import source_policy, suggestion_policy, tone_policy


def _form_values(form) -> dict:
    data = dict(form.cleaned_data)
    channels = data.pop("channels")
    if form.fields["allow_private"].disabled:
        data.pop("allow_private")
    return data | {"channels": list(channels)}


@membership_required
def suggestion_calendar_view(request):
    actor = request.membership
    source_policy.check(actor, "list")
    today = timezone.now().astimezone(LOCAL).date()
    # The calendar's shared reading of a day in the address: unreadable →
    # today; outside the planning window → a Danish 400 (core.safety).
    first = safety.query_day(request.GET.get("fra")) or today
    return render(
        request,
        "sources/suggestions.html",
        {
            "weeks": selectors.suggestion_weeks(actor, first_day=first),
            "earlier": first - timedelta(days=28),
            "later": first + timedelta(days=28),
            "today": today,
            "sources": selectors.sources_for(actor),
        },
    )


@membership_required
def source_list_view(request):
    actor = request.membership
    source_policy.check(actor, "list")
    return render(
        request,
        "sources/source_list.html",
        {
            "sources": selectors.sources_for(actor),
            "can_create": source_policy.can(actor, "create"),
        },
    )


@membership_required
@require_http_methods(["GET", "POST"])
def source_create_view(request):
    actor = request.membership
    source_policy.check(actor, "create")
    form = SourceForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        may_allow_private=source_policy.can(actor, "allow_private"),
        initial={"owner_administration": actor.administration_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            source = actions.create_source(actor=actor, **_form_values(form))
        except actions.SourceError as e:
            form.add_error(None, str(e))
        else:
            messages.success(
                request,
                _("Kilden er oprettet. Tryk «Hent nu» for at hente den med det samme."),
            )
            return redirect("sources:source_detail", pk=source.pk)
    return form_page(
        request,
        "sources/source_form.html",
        {"form": form, "source": None},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def source_edit_view(request, pk):
    actor = request.membership
    source = source_policy.get_allowed(actor, "edit", pk=pk)
    initial = {
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
        "owner_administration": source.owner_administration_id,
        "channels": list(source.default_channels.all()),
        "category": source.category,
        "purposes": source.purposes,
        "json_mapping": (
            json.dumps(source.json_mapping, ensure_ascii=False)
            if source.json_mapping
            else ""
        ),
        "fetch_every_minutes": source.fetch_every_minutes,
        "allow_private": source.allow_private,
        "partner_account": source.partner_account,
        "partner_channel": source.partner_channel_id,
        "keywords": ", ".join(source.keywords),
    }
    form = SourceForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        may_allow_private=source_policy.can(actor, "allow_private"),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        values = _form_values(form)
        channels = values.pop("channels")
        try:
            actions.update_source(source, actor=actor, channels=channels, **values)
        except actions.SourceError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Kilden er gemt."))
            return redirect("sources:source_detail", pk=source.pk)
    return form_page(
        request,
        "sources/source_form.html",
        {"form": form, "source": source},
    )


@membership_required
def source_detail_view(request, pk):
    actor = request.membership
    source = source_policy.get_allowed(actor, "view", pk=pk)
    return render(
        request,
        "sources/source_detail.html",
        {
            "source": source,
            "items": selectors.recent_items(source),
            "suggestions": selectors.open_suggestions(actor, source=source)[:50],
            "can_edit": source_policy.can(actor, "edit", source),
        },
    )


@membership_required
@require_POST
def source_fetch_view(request, pk):
    actor = request.membership
    source = source_policy.get_allowed(actor, "fetch", pk=pk)
    message = actions.refresh_source(source, actor=actor)
    if source.status == SourceStatus.FAILING:
        messages.error(request, message)
    else:
        messages.success(request, message)
    return redirect("sources:source_detail", pk=source.pk)


@membership_required
@require_POST
def source_pause_view(request, pk):
    actor = request.membership
    source = source_policy.get_visible_or_404(actor, pk=pk)
    paused = source.status == SourceStatus.PAUSED
    actions.update_source(
        source, actor=actor, status=SourceStatus.NEW if paused else SourceStatus.PAUSED
    )
    messages.success(
        request,
        _("Kilden hentes igen.") if paused else _("Kilden er sat på pause."),
    )
    return redirect("sources:source_detail", pk=source.pk)


def _open_suggestion(actor, pk):
    suggestion_policy.check(actor, "list")
    return suggestion_policy.get_visible_or_404(actor, pk=pk)


@membership_required
@require_POST
def suggestion_accept_view(request, pk):
    actor = request.membership
    suggestion = _open_suggestion(actor, pk)
    if not suggestion_policy.can(actor, "accept", suggestion):
        messages.error(request, _("Forslaget er allerede behandlet."))
        return redirect("sources:suggestions")
    try:
        post = decisions.accept_suggestion(suggestion, actor=actor)
    except actions.SourceError as e:
        messages.error(request, str(e))
        return redirect("sources:suggestions")
    messages.success(
        request,
        _("Forslaget er nu en kladde. Ret den til, og send den til godkendelse."),
    )
    return redirect("planning:post_detail", pk=post.pk)


@membership_required
@require_POST
def suggestion_repost_view(request, pk):
    actor = request.membership
    suggestion = _open_suggestion(actor, pk)
    if not suggestion_policy.can(actor, "repost", suggestion):
        messages.error(
            request,
            _(
                "Du kan ikke dele forslaget: det er allerede behandlet, eller det "
                "kræver en, der må godkende opslag."
            ),
        )
        return redirect("sources:suggestions")
    try:
        decisions.repost_suggestion(suggestion, actor=actor)
    except actions.SourceError as e:
        messages.error(request, str(e))
        return redirect("sources:suggestions")
    messages.success(request, _("Partnerens opslag er delt på %(channel)s.") % {
        "channel": suggestion.channel
    })
    return redirect("sources:suggestions")


@membership_required
@require_http_methods(["GET", "POST"])
def tone_view(request):
    actor = request.membership
    tone_policy.check(actor, "list")
    form = ToneForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, _("Vælg en kanal og en af tonerne."))
            return redirect("sources:tone")
        channel = tone_policy.get_visible_or_404(
            actor, pk=form.cleaned_data["channel"]
        )
        try:
            rewritten = decisions.set_channel_tone(
                channel, actor=actor, tone=form.cleaned_data["tone"]
            )
        except actions.SourceError as e:
            messages.error(request, str(e))
        else:
            messages.success(
                request,
                ngettext(
                    "Kanal skriver nu forslagene til %(channel)s i den valgte tone "
                    "(%(count)s åbent forslag er skrevet om).",
                    "Kanal skriver nu forslagene til %(channel)s i den valgte tone "
                    "(%(count)s åbne forslag er skrevet om).",
                    rewritten,
                )
                % {"channel": channel, "count": rewritten},
            )
        return redirect("sources:tone")
    return render(
        request,
        "sources/tone.html",
        {
            "channels": selectors.channel_tones(actor),
            "tones": Tone.choices,
            "can_edit": tone_policy.can(actor, "edit"),
        },
    )


@membership_required
@require_POST
def suggestion_dismiss_view(request, pk):
    actor = request.membership
    suggestion = _open_suggestion(actor, pk)
    if not suggestion_policy.can(actor, "dismiss", suggestion):
        messages.error(request, _("Forslaget er allerede behandlet."))
        return redirect("sources:suggestions")
    decisions.dismiss_suggestion(suggestion, actor=actor)
    messages.success(request, _("Forslaget er afvist og kommer ikke igen."))
    return redirect("sources:suggestions")


@membership_required
@require_http_methods(["GET", "POST"])
def suggestion_edit_view(request, pk):
    actor = request.membership
    suggestion = _open_suggestion(actor, pk)
    if not suggestion_policy.can(actor, "edit", suggestion):
        raise Http404
    form = SuggestionForm(
        request.POST if request.method == "POST" else None,
        initial={
            "text": suggestion.text,
            "planned_at": suggestion.planned_at.astimezone(LOCAL),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            decisions.update_suggestion(suggestion, actor=actor, **form.cleaned_data)
        except actions.SourceError as e:
            form.add_error("planned_at", str(e))
        else:
            messages.success(request, _("Forslaget er gemt."))
            return redirect("sources:suggestions")
    return form_page(
        request,
        "sources/suggestion_form.html",
        {"form": form, "suggestion": suggestion},
    )
