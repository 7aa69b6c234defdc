"""The operations view (publications and what to do about them) and crisis mode."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from kanal.channels.models import ChannelStatus
from kanal.channels.policies import channel_policy
from kanal.core.decorators import membership_required
from kanal.core.pages import run_action
from kanal.core.safety import day_window_message, in_window, query_id, safe_next

from . import actions, selectors
from . import crisis as crisis_tools
from .forms import (
    AllClearForm,
    CrisisMessageForm,
    CrisisTemplateForm,
    LocalDateTimeField,
    MarkPublishedForm,
    RescheduleForm,
    StartCrisisForm,
    local_input,
)
from .models import CrisisTemplate, Publication, PublicationStatus
from .policies import crisis_policy, crisis_template_policy, publication_policy

GROUP_LABELS = {
    "queued": gettext_lazy("I kø"),
    "in_flight": gettext_lazy("Sendes nu"),
    "failed": gettext_lazy("Fejlet"),
    "missed": gettext_lazy("Ikke udgivet i tide"),
    "published": gettext_lazy("Udgivet"),
    "cancelled": gettext_lazy("Annulleret"),
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
    run_action(request, action, done=success, refusals=(ValueError,))
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


def _raw(form, name: str) -> str:
    return str(form[name].value() or "")[:10000]


def _raw_link(form) -> str:
    """The link as it will go out (``kk.dk/x`` → ``https://kk.dk/x``), or as
    typed while it is not a valid address yet."""
    raw = _raw(form, "link").strip()
    try:
        return form.fields["link"].clean(raw) or ""
    except ValidationError:
        return raw


def _composition(form, channels, *, chosen, template=False):
    """Every network's version of what ``form`` holds, with the form's own
    version field attached to each network."""
    composition = crisis_tools.compose(
        channels,
        chosen=chosen,
        text=_raw(form, "text"),
        link=_raw_link(form),
        own=form.raw_versions(),
        allow_placeholders=template,
    )
    for version in composition.networks:
        name = f"version_{version.network}"
        version.field = form[name] if name in form.fields else None
    return composition


def _sendable_ids(channels) -> list[int]:
    """Channels that take a text-only message (not Instagram)."""
    composition = crisis_tools.compose(channels, chosen=None, text="", link="")
    return [c.channel.pk for n in composition.networks for c in n.channels
            if not c.skipped]


def _template_initial(actor, pk) -> dict:
    try:
        template = crisis_template_policy.visible(actor).get(pk=int(pk))
    except (CrisisTemplate.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    return {
        "text": template.text,
        "link": template.link,
        **{f"version_{n}": v for n, v in template.versions.items()},
    }


def _check_channel_ids(request) -> None:
    """A Danish 400 for a channel id no row can have, before the form asks
    the database (SQLite raises OverflowError for 2^63 and more)."""
    for value in request.POST.getlist("channels"):
        query_id(value)


def _crisis_page(
    request,
    *,
    status: int = 200,
    start_form=None,
    message_form=None,
    message_error: str = "",
    end_state: dict | None = None,
    all_clear_form=None,
    end_error: str = "",
):
    """The crisis page; on a refused form (400) everything typed is kept."""
    actor = request.membership
    crisis_policy.check(actor, "view")
    crisis = selectors.active_crisis(actor.organisation_id)
    channels_qs = _channels(actor)
    channels = list(channels_qs)
    can_publish = crisis_policy.can(actor, "publish")
    can_manage = crisis_policy.can(actor, "start")
    context = {
        "crisis": crisis,
        "can_manage": can_manage,
        "can_publish": can_publish,
        "start_form": start_form or StartCrisisForm(channels=channels_qs),
        "history": crisis_policy.visible(actor).filter(ended_at__isnull=False)[:10],
        "message_error": message_error,
        "end_error": end_error,
        "can_keep_templates": crisis_template_policy.can(actor, "list"),
        "templates": (
            list(crisis_template_policy.visible(actor))
            if crisis_template_policy.can(actor, "list") else []
        ),
        "desk_hours": crisis_tools.desk_hours(),
    }
    sendable = None
    if can_publish:
        sendable = _sendable_ids(channels)
        if message_form is None:
            initial = {}
            if request.GET.get("skabelon"):
                initial = _template_initial(actor, request.GET["skabelon"])
                context["template_loaded"] = int(request.GET["skabelon"])
            message_form = CrisisMessageForm(
                channels=channels_qs, initial=initial, initial_channels=sendable
            )
            if initial:
                # Straight on to filling in the placeholders (keyboard users).
                message_form.fields["text"].widget.attrs["autofocus"] = True
        context["message_form"] = message_form
        context["message_versions"] = _composition(
            message_form, channels, chosen=message_form.raw_channel_ids()
        )
    if crisis is not None and can_manage:
        state = end_state or {}
        groups = selectors.paused_groups(actor.organisation_id)
        publications = [p for g in groups for p in g["publications"]]
        proposals = crisis_tools.propose_times(publications)
        for group in groups:
            key = group["key"]
            group["proposed"] = proposals[key]
            group["choice"] = state.get("choices", {}).get(key, "")
            group["at_input"] = state.get("times", {}).get(key) or local_input(
                proposals[key]
            )
            group["planned_at"] = max(p.planned_at for p in group["publications"])
            group["cadences"] = sorted({
                f"{p.channel}: {label}"
                for p in group["publications"]
                if (label := crisis_tools.cadence_of(
                    p.channel, *context["desk_hours"]).label)
            })
        context["paused_groups"] = groups
        context["paused_posts"] = len(groups)
        context["paused_publications"] = len(publications)
        context["bulk"] = state.get("bulk", "")
        context["pinned"] = list(crisis_tools.still_pinned(actor.organisation_id))
        context["unpin_checked"] = state.get("unpin", True)
        if can_publish:
            if all_clear_form is None:
                sent_on = list(
                    Publication.objects.filter(
                        organisation_id=actor.organisation_id,
                        is_crisis=True,
                        created_at__gte=crisis.started_at,
                        channel__in=channels_qs,
                    ).values_list("channel_id", flat=True).distinct()
                )
                all_clear_form = AllClearForm(
                    channels=channels_qs, initial_channels=sent_on or sendable
                )
            context["all_clear_form"] = all_clear_form
            context["all_clear_versions"] = _composition(
                all_clear_form, channels, chosen=all_clear_form.raw_channel_ids()
            )
    elif can_manage:
        context["pinned"] = list(crisis_tools.still_pinned(actor.organisation_id))
    return render(request, "publishing/crisis.html", context, status=status)


@membership_required
def crisis_view(request):
    return _crisis_page(request)


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


def _form_errors(form) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {error}".lstrip(
            ": ")
        for name, errors in form.errors.items()
        for error in errors
    )


@require_POST
@membership_required
def crisis_message_view(request):
    actor = request.membership
    crisis_policy.check(actor, "publish")
    _check_channel_ids(request)
    form = CrisisMessageForm(request.POST, channels=_channels(actor))
    if request.POST.get("preview"):
        # "Tjek versionerne" (the page without JavaScript): show, send nothing.
        return _crisis_page(request, message_form=form)
    if not form.is_valid():
        return _crisis_page(
            request, status=400, message_form=form,
            message_error=_("Beskeden er ikke sendt. %(errors)s")
            % {"errors": _form_errors(form)},
        )
    try:
        pubs = actions.publish_crisis_message(
            actor=actor,
            organisation=actor.organisation,
            text=form.cleaned_data["text"],
            link=form.cleaned_data["link"],
            channels=form.cleaned_data["channels"],
            versions=form.versions(),
            confirmed=form.cleaned_data["confirm"],
        )
    except ValueError as e:
        return _crisis_page(request, status=400, message_form=form,
                            message_error=str(e))
    messages.success(
        request,
        ngettext(
            "Krisebeskeden sendes nu på %(n)d kanal. Følg den under Udgivelser.",
            "Krisebeskeden sendes nu på %(n)d kanaler. Følg den under Udgivelser.",
            len(pubs),
        ) % {"n": len(pubs)},
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
    state = {"bulk": bulk, "choices": {}, "times": {},
             "unpin": request.POST.get("unpin") == "1"}
    decisions: dict[int, tuple[str, datetime | None]] = {}
    for group in selectors.paused_groups(actor.organisation_id):
        key = group["key"]
        own_choice = request.POST.get(f"choice-{key}", "")
        choice = own_choice or bulk
        raw_at = request.POST.get(f"at-{key}", "")[:40]
        state["choices"][key] = own_choice
        state["times"][key] = raw_at
        when = None
        if choice == "reschedule":
            try:
                when = field.clean(raw_at)
            except ValidationError:
                when = None
            if not in_window(when):
                when = None
        if choice:
            for pub in group["publications"]:
                decisions[pub.pk] = (choice, when)
    all_clear = None
    all_clear_form = None
    if crisis_policy.can(actor, "publish"):
        all_clear_form = AllClearForm(request.POST, channels=_channels(actor))
    if request.POST.get("preview"):
        # "Tjek afblæsningen" (without JavaScript): show, change nothing.
        return _crisis_page(request, end_state=state, all_clear_form=all_clear_form)
    if all_clear_form is not None:
        if not all_clear_form.is_valid():
            return _crisis_page(
                request, status=400, end_state=state, all_clear_form=all_clear_form,
                end_error=_("Krisetilstand er ikke slået fra. %(errors)s")
                % {"errors": _form_errors(all_clear_form)},
            )
        if all_clear_form.cleaned_data["text"].strip():
            all_clear = actions.AllClear(
                text=all_clear_form.cleaned_data["text"],
                link=all_clear_form.cleaned_data["link"],
                channels=tuple(all_clear_form.cleaned_data["channels"]),
                versions=all_clear_form.versions(),
            )
    try:
        tally = actions.end_crisis(
            crisis, actor=actor, decisions=decisions, unpin=state["unpin"],
            all_clear=all_clear,
        )
    except ValueError as e:
        return _crisis_page(
            request, status=400, end_state=state, all_clear_form=all_clear_form,
            end_error=_("Krisetilstand er ikke slået fra. %(why)s") % {"why": e},
        )
    messages.success(
        request,
        _("Krisetilstand er slået fra. Opslag udgivet nu: %(p)d, flyttet: %(r)d, "
          "annulleret: %(c)d.")
        % {"p": tally["publish_now"], "r": tally["reschedule"],
           "c": tally["cancel"]},
    )
    if state["unpin"]:
        messages.info(request, _("Krisebeskederne løsnes fra toppen af "
                                 "profilerne. Se resultatet her på siden."))
    if all_clear is not None:
        messages.success(request, _("Afblæsningen sendes nu. Følg den under "
                                    "Udgivelser."))
    return redirect("publishing:crisis")


@require_POST
@membership_required
def crisis_unpin_view(request):
    actor = request.membership
    crisis_policy.check(actor, "start")
    count = actions.unpin_crisis_messages(actor=actor,
                                          organisation=actor.organisation)
    if count:
        messages.success(
            request,
            ngettext("%(n)d krisebesked løsnes fra toppen af profilen.",
                     "%(n)d krisebeskeder løsnes fra toppen af profilerne.",
                     count) % {"n": count},
        )
    else:
        messages.info(request, _("Ingen krisebeskeder er fastgjort."))
    return redirect("publishing:crisis")


@require_POST
@membership_required
def crisis_versions_view(request):
    """Each network's version of the message being written, counted by the
    network's adapter (the composer's live counts; JSON of HTML fragments)."""
    actor = request.membership
    crisis_policy.check(actor, "compose")
    kind = request.POST.get("kind", "message")
    channels_qs = _channels(actor)
    channels = list(channels_qs)
    if kind == "template":
        networks = sorted({c.network for c in channels})
        form = CrisisTemplateForm(request.POST, networks=networks)
        chosen = None
    elif kind == "all_clear":
        form = AllClearForm(request.POST, channels=channels_qs)
        chosen = form.raw_channel_ids()
    else:
        kind = "message"
        form = CrisisMessageForm(request.POST, channels=channels_qs)
        chosen = form.raw_channel_ids()
    composition = _composition(form, channels, chosen=chosen,
                               template=kind == "template")
    context = {"composition": composition, "mode": kind}
    return JsonResponse({
        "summary": render_to_string("publishing/_crisis_versions_summary.html",
                                    context, request=request),
        "states": {n.network: n.state for n in composition.networks},
        "too_long": [n.network for n in composition.too_long],
        "networks": {
            version.network: render_to_string(
                "publishing/_crisis_version_status.html",
                {"nv": version, "mode": kind}, request=request,
            )
            for version in composition.networks
        },
    })


# ---------------------------------------------------------------------------
# Crisis templates


def _template_networks(actor, template=None) -> list[str]:
    networks = {c.network for c in _channels(actor)}
    if template is not None:
        networks |= set(template.versions)
    return sorted(networks, key=crisis_tools._network_order)


@membership_required
def crisis_templates_view(request):
    actor = request.membership
    crisis_template_policy.check(actor, "list")
    return render(request, "publishing/crisis_templates.html", {
        "templates": crisis_template_policy.visible(actor).select_related(
            "updated_by"),
        "can_publish": crisis_policy.can(actor, "publish"),
    })


def _template_form_page(request, form, template=None, *, status=200, error=""):
    actor = request.membership
    channels = list(_channels(actor))
    composition = _composition(form, channels, chosen=None, template=True)
    return render(request, "publishing/crisis_template_form.html", {
        "form": form,
        "template": template,
        "composition": composition,
        "error": error,
    }, status=status)


def _template_fields(form) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "event": data["event"],
        "text": data["text"],
        "link": data["link"],
        "versions": form.versions(),
    }


@membership_required
def crisis_template_create_view(request):
    actor = request.membership
    crisis_template_policy.check(actor, "create")
    networks = _template_networks(actor)
    if request.method != "POST":
        form = CrisisTemplateForm(networks=networks,
                                  initial={"event": request.GET.get("haendelse")})
        return _template_form_page(request, form)
    form = CrisisTemplateForm(request.POST, networks=networks)
    if not form.is_valid():
        return _template_form_page(
            request, form, status=400,
            error=_("Skabelonen er ikke gemt. Ret felterne markeret herunder."))
    try:
        template = crisis_tools.create_crisis_template(
            actor=actor, organisation=actor.organisation, **_template_fields(form))
    except ValueError as e:
        return _template_form_page(request, form, status=400, error=str(e))
    messages.success(request, _("Skabelonen '%(name)s' er gemt.")
                     % {"name": template.name})
    return redirect("publishing:crisis_templates")


@membership_required
def crisis_template_edit_view(request, pk):
    actor = request.membership
    template = crisis_template_policy.get_allowed(actor, "change", pk=pk)
    networks = _template_networks(actor, template)
    if request.method != "POST":
        form = CrisisTemplateForm(networks=networks, initial={
            "name": template.name, "event": template.event, "text": template.text,
            "link": template.link,
            **{f"version_{n}": v for n, v in template.versions.items()},
        })
        return _template_form_page(request, form, template)
    form = CrisisTemplateForm(request.POST, networks=networks)
    if not form.is_valid():
        return _template_form_page(
            request, form, template, status=400,
            error=_("Skabelonen er ikke gemt. Ret felterne markeret herunder."))
    try:
        crisis_tools.update_crisis_template(template, actor=actor,
                                            **_template_fields(form))
    except ValueError as e:
        return _template_form_page(request, form, template, status=400,
                                   error=str(e))
    messages.success(request, _("Skabelonen '%(name)s' er gemt.")
                     % {"name": form.cleaned_data["name"]})
    return redirect("publishing:crisis_templates")


@membership_required
def crisis_template_delete_view(request, pk):
    actor = request.membership
    template = crisis_template_policy.get_allowed(actor, "delete", pk=pk)
    if request.method != "POST":
        return render(request, "publishing/crisis_template_delete.html",
                      {"template": template})
    name = template.name
    crisis_tools.delete_crisis_template(template, actor=actor)
    messages.success(request, _("Skabelonen '%(name)s' er slettet.")
                     % {"name": name})
    return redirect("publishing:crisis_templates")


@require_POST
@membership_required
def crisis_templates_install_view(request):
    actor = request.membership
    crisis_template_policy.check(actor, "create")
    created = crisis_tools.install_starter_templates(
        actor=actor, organisation=actor.organisation)
    if created:
        messages.success(
            request,
            _("Oprettet: %(names)s. Tilpas dem til kommunen.")
            % {"names": ", ".join(t.name for t in created)},
        )
    else:
        messages.info(request, _("Der er allerede en skabelon for hver hændelse."))
    return redirect("publishing:crisis_templates")


STATUS_CLASSES = {
    PublicationStatus.PUBLISHED: "connected",
    PublicationStatus.FAILED: "needs_reconnect",
    PublicationStatus.MISSED: "needs_reconnect",
}
