"""Proposals: a contributor suggests a post; the desk decides."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
)

from kanal.core.decorators import membership_required

from .. import actions, selectors
from ..forms import (
    ProposalForm,
    changed_values,
)
from ..media import MediaRejected
from ..policies import (
    post_policy,
)
from ..uploads import refused_message
from .common import PROPOSAL_FORM_FIELDS, _status
from .workflow import workflow_step

# ---------------------------------------------------------------------------
# Proposals


def _proposal_media(request, actor, form):
    upload = form.cleaned_data.get("image")
    if not upload:
        return []
    asset = actions.upload_media(
        actor=actor, upload=upload, alt_text=form.cleaned_data.get("image_alt_text", "")
    )
    return [asset]


def _upload_ok(request, form) -> bool:
    """False (with the Danish reason on the form) when the upload handler
    dropped a file for being too large."""
    refused = refused_message(request)
    if not refused:
        return True
    form.is_valid()
    form.add_error("image", refused)
    return False


@membership_required
@require_http_methods(["GET", "POST"])
def proposal_create_view(request):
    actor = request.membership
    post_policy.check(actor, "propose")
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        organisation=actor.organisation,
    )
    if request.method == "POST" and _upload_ok(request, form) and form.is_valid():
        data = form.cleaned_data
        try:
            media = _proposal_media(request, actor, form)
        except MediaRejected as e:
            form.add_error("image", str(e))
        else:
            post = actions.create_proposal(
                actor=actor,
                title=data["title"],
                text=data["text"],
                reason=data["reason"],
                wish_from=data["wish_from"],
                wish_to=data["wish_to"],
                channels=list(data["channels"]),
                event_details=data["event_details"],
                media=media,
            )
            messages.success(
                request,
                _(
                    "Tak! Forslaget er sendt til redaktionen. Du "
                    "får besked, når det er behandlet."
                ),
            )
            return redirect("planning:post_detail", pk=post.pk)
    return render(
        request,
        "planning/proposal_form.html",
        {"form": form},
        status=_status(request, not form.errors),
    )


@membership_required
@require_http_methods(["GET", "POST"])
def proposal_edit_view(request, pk):
    actor = request.membership
    post = post_policy.get_allowed(actor, "edit_proposal", pk=pk)
    wished = list(post.wished_channels.all())
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        organisation=actor.organisation,
        current_channels=wished,
        initial={
            "title": post.title,
            "text": post.shared_text,
            "reason": post.proposal_reason,
            "wish_from": post.wish_from,
            "wish_to": post.wish_to,
            "channels": wished,
            "event_details": post.event_details,
            "version": post.version,
        },
    )
    if request.method == "POST" and _upload_ok(request, form) and form.is_valid():
        data = form.cleaned_data
        try:
            media = _proposal_media(request, actor, form)
            changed = changed_values(form, PROPOSAL_FORM_FIELDS)
            actions.update_proposal(
                post,
                actor=actor,
                expected_version=data["version"],
                channels=list(data["channels"])
                if "channels" in form.changed_data
                else None,
                **{PROPOSAL_FORM_FIELDS[k]: v for k, v in changed.items()},
            )
            if media:
                post.proposal_media.add(*media)
        except MediaRejected as e:
            form.add_error("image", str(e))
        except actions.PlanningError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Forslaget er gemt og sendt til redaktionen."))
            return redirect("planning:post_detail", pk=post.pk)
    return render(
        request,
        "planning/proposal_form.html",
        {"form": form, "post": post},
        status=_status(request, not form.errors),
    )


@membership_required
def proposal_list_view(request):
    actor = request.membership
    post_policy.check(actor, "list_proposals")
    return render(
        request,
        "planning/proposal_list.html",
        {
            "queue": selectors.proposal_queue(actor)
            if actor.has_perm("posts.plan")
            else None,
            "mine": selectors.my_proposals(actor),
            "can_propose": post_policy.can(actor, "propose"),
        },
    )


proposal_accept_view = workflow_step(
    "accept_proposal",
    gettext_lazy("Forslaget er nu en kladde. Skriv varianterne til kanalerne."))
proposal_changes_view = workflow_step(
    "request_proposal_changes",
    gettext_lazy("Bidragyderen er bedt om at rette forslaget."), with_reason=True)
proposal_decline_view = workflow_step(
    "decline_proposal",
    gettext_lazy("Forslaget er afvist, og bidragyderen har fået besked."),
    with_reason=True)
