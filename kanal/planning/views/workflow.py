"""The workflow buttons, the preview and the revision history."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_POST,
)

from kanal.channels.models import Channel
from kanal.core import safety
from kanal.core.decorators import membership_required
from kanal.core.formatting import when

from .. import actions
from ..forms import (
    CommentForm,
    RescheduleForm,
    parse_hashtags,
)
from ..models import (
    Variant,
    VariantRevision,
)
from ..policies import (
    campaign_policy,
    media_policy,
    post_policy,
)
from ..timeutil import from_local, to_local
from ..validation import (
    check_variant,
    outgoing,
)
from .common import _int
from .posts import _detail_context


def _refused(request, error: actions.PlanningError) -> None:
    """The refusal as messages, with each variant's problems where the
    network's rules refused it."""
    messages.error(request, str(error))
    if isinstance(error, actions.InvalidVariants):
        for variant, problems in error.problems.items():
            for problem in problems:
                messages.error(request, f"{variant.channel}: {problem.message}")


def _workflow(request, pk, call, success):
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    try:
        call(post, actor)
    except actions.PlanningError as e:
        _refused(request, e)
    else:
        messages.success(request, success)
    return redirect("planning:post_detail", pk=post.pk)


def workflow_step(action: str, success, *, with_reason: bool = False):
    """The POST view of one workflow button: ``actions.<action>(post,
    actor=…)`` on a post the actor may see (with the typed ``reason`` where
    the step asks for one), then back to the post with the outcome."""

    @membership_required
    @require_POST
    def view(request, pk):
        extra = {}
        if with_reason:
            extra["reason"] = safety.typed_text(request.POST.get("reason"),
                                                max_length=3000)
        return _workflow(
            request, pk,
            lambda p, a: getattr(actions, action)(p, actor=a, **extra),
            str(success),
        )

    return view


post_submit_view = workflow_step(
    "submit_post", gettext_lazy("Opslaget er sendt til godkendelse."))
post_reject_view = workflow_step(
    "reject_post", gettext_lazy("Opslaget er sendt retur til kladde."),
    with_reason=True)
post_schedule_view = workflow_step(
    "schedule_post", gettext_lazy("Opslaget er planlagt til udgivelse."))
post_cancel_view = workflow_step(
    "cancel_post", gettext_lazy("Opslaget er annulleret. Intet bliver udgivet."),
    with_reason=True)


@membership_required
@require_POST
def post_approve_view(request, pk):
    """Approve exactly the revisions the approver saw (the form sends their
    ids); if the post changed meanwhile, answer 409 with the new version and
    the approver's comment kept."""
    actor = request.membership
    comment = safety.typed_text(request.POST.get("comment"), max_length=3000)
    seen = [_int(r) for r in request.POST.getlist("revision")]
    seen = [r for r in seen if r is not None]
    post = post_policy.get_visible_or_404(actor, pk=pk)
    try:
        actions.approve_post(post, actor=actor, comment=comment, seen_revisions=seen)
    except actions.ApprovalOutdated as e:
        post = post_policy.get_visible_or_404(actor, pk=pk)
        messages.error(request, str(e))
        return render(
            request,
            "planning/post_detail.html",
            _detail_context(actor, post, approve_comment=comment),
            status=409,
        )
    except actions.PlanningError as e:
        _refused(request, e)
    else:
        messages.success(request, _("Opslaget er godkendt og planlagt til udgivelse."))
    return redirect("planning:post_detail", pk=post.pk)


@membership_required
@require_POST
def post_comment_view(request, pk):
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            actions.add_comment(post, actor=actor, body=form.cleaned_data["body"])
        except actions.PlanningError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Kommentaren er tilføjet."))
    else:
        messages.error(
            request, _("Kommentaren er tom eller for lang (højst 3000 tegn).")
        )
    return redirect(reverse("planning:post_detail", args=[post.pk]) + "#kommentarer")


@membership_required
@require_POST
def post_reschedule_view(request, pk):
    """Both the keyboard form and the calendar's drag and drop (htmx)."""
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    form = RescheduleForm(request.POST)
    is_htmx = request.headers.get("HX-Request") == "true"
    if not form.is_valid():
        message = _("Vælg en gyldig dato.")
        if is_htmx:
            return HttpResponse(message, status=400)
        messages.error(request, message)
        return redirect("planning:post_detail", pk=post.pk)
    data = form.cleaned_data
    try:
        if data["clock"] is not None:
            target = from_local(data["day"], data["clock"])
            post, notes = actions.reschedule_post(
                post,
                actor=actor,
                planned_at=target.value,
                expected_version=data["version"],
            )
            notes = [target.note] if target.note else []
        else:
            post, notes = actions.reschedule_post(
                post, actor=actor, day=data["day"], expected_version=data["version"]
            )
    except PermissionDenied:
        raise
    except actions.PlanningError as e:
        if is_htmx:
            return HttpResponse(str(e), status=409)
        messages.error(request, str(e))
        return redirect("planning:post_detail", pk=post.pk)
    local = to_local(post.planned_at)
    done = _("Opslaget er flyttet til %(when)s.") % {
        "when": when(local, "datetime")
    }
    if is_htmx:
        return HttpResponse(" ".join([done, *notes]))
    for note in notes:
        messages.warning(request, note)
    messages.success(request, done)
    return redirect("planning:post_detail", pk=post.pk)


@membership_required
@require_POST
def preview_view(request):
    """The live preview and validation of one variant (htmx, from the editor)."""
    actor = request.membership
    channel = get_object_or_404(
        Channel,
        pk=_int(request.POST.get("channel")),
        organisation_id=actor.organisation_id,
    )
    prefix = f"v{channel.pk}-"
    text = request.POST.get(prefix + "text", "")[:10000]
    link = request.POST.get(prefix + "link", "")[:1000]
    try:
        hashtags = parse_hashtags(request.POST.get(prefix + "hashtags", "")[:500])
        tag_error = ""
    except Exception as e:  # a ValidationError with a Danish message
        hashtags, tag_error = [], " ".join(getattr(e, "messages", [str(e)]))
    ids = [i for i in (_int(x) for x in request.POST.getlist(prefix + "media")) if i]
    media = list(media_policy.visible(actor).filter(pk__in=ids)) if ids else []
    campaign = (
        campaign_policy.visible(actor)
        .filter(pk=_int(request.POST.get("campaign")))
        .first()
    )
    check = check_variant(
        channel,
        text=text,
        link=link,
        hashtags=hashtags,
        media=media,
        campaign=campaign,
    )
    text, link = outgoing(channel, campaign, text=text, hashtags=hashtags, link=link)
    return render(
        request,
        "planning/_preview.html",
        {
            "channel": channel,
            "text": text,
            "link": link,
            "media": media,
            "check": check,
            "tag_error": tag_error,
        },
    )


@membership_required
def revisions_view(request, pk, variant_pk):
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    variant = get_object_or_404(
        Variant.objects.select_related("channel"), pk=variant_pk, post=post
    )
    revisions = list(variant.revisions.select_related("created_by"))
    by_number = {r.number: r for r in revisions}
    newest = revisions[0] if revisions else None
    b = by_number.get(_int(request.GET.get("b"))) or newest
    a = by_number.get(_int(request.GET.get("a"))) or (
        by_number.get(b.number - 1) if b else None
    )
    diff = []
    if a and b:
        diff = list(
            difflib.unified_diff(
                _revision_lines(a),
                _revision_lines(b),
                f"Revision {a.number}",
                f"Revision {b.number}",
                lineterm="",
                n=2,
            )
        )
    return render(
        request,
        "planning/revisions.html",
        {
            "post": post,
            "variant": variant,
            "revisions": revisions,
            "a": a,
            "b": b,
            "diff": diff,
        },
    )


def _revision_lines(revision: VariantRevision) -> list[str]:
    lines = revision.text.splitlines() or [""]
    lines += [
        "",
        f"Link: {revision.link or '–'}",
        f"Hashtags: {' '.join(revision.hashtags) or '–'}",
        f"Medier: {', '.join(m['path'].rsplit('/', 1)[-1] for m in revision.media) or '–'}",  # noqa: E501
        f"Tid: {to_local(revision.planned_at):%d.%m.%Y %H:%M}"
        if revision.planned_at
        else "Tid: –",
    ]
    return lines
