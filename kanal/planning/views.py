"""Planning pages. Each view parses input, calls one action or selector,
renders."""

from __future__ import annotations

import difflib
from datetime import time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from kanal.channels.models import Channel
from kanal.core import safety
from kanal.core.decorators import membership_required
from kanal.core.formatting import when

from . import actions, ical, selectors
from .forms import (
    CampaignForm,
    CommentForm,
    LinkTrackingForm,
    MediaEditForm,
    MediaUploadForm,
    PostForm,
    ProposalForm,
    ReasonForm,
    ReportForm,
    RescheduleForm,
    VariantForm,
    changed_values,
    parse_hashtags,
)
from .media import MediaRejected, fit_for
from .models import (
    CalendarFeed,
    MediaAsset,
    PostStatus,
    Variant,
    VariantRevision,
)
from .policies import (
    campaign_policy,
    link_tracking_policy,
    media_policy,
    post_policy,
)
from .timeutil import from_local, to_local
from .uploads import refused_message
from .validation import (
    capabilities_for,
    check_saved_variant,
    check_variant,
    outgoing,
)

POST_FORM_FIELDS = (
    "title",
    "shared_text",
    "category",
    "purposes",
    "campaign",
    "notes",
    "owner_administration",
)
PROPOSAL_FORM_FIELDS = {
    "title": "title",
    "text": "shared_text",
    "reason": "proposal_reason",
    "wish_from": "wish_from",
    "wish_to": "wish_to",
    "event_details": "event_details",
}
VARIANT_FORM_FIELDS = (
    "text",
    "link",
    "hashtags",
    "first_comment",
    "planned_at",
    "media",
)


def _status(request, ok=True):
    return 400 if request.method == "POST" and not ok else 200


def _int(value):
    """An id from the request: ``None`` when empty or not a number; a Danish
    400 (``safety.InvalidInput``) when it is a number no row can have."""
    if value is not None and not isinstance(value, str):
        value = str(value)
    return safety.query_id(value)


def _filters(request) -> selectors.CalendarFilter:
    get = request.GET
    status = get.get("status", "")
    return selectors.CalendarFilter(
        channel=_int(get.get("kanal")),
        administration=_int(get.get("forvaltning")),
        category=safety.query_text(get.get("kategori"), max_length=100),
        purpose=safety.query_text(get.get("formaal"), max_length=30),
        campaign=_int(get.get("kampagne")),
        status=status if status in PostStatus.values else "",
    )


def _query_without(request, *names) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _calendar_context(request, view_name):
    actor = request.membership
    return {
        "filters": _filters(request),
        "choices": selectors.filter_choices(actor),
        "view_name": view_name,
        "query": _query_without(request, "maaned", "uge", "side"),
        "can_create": post_policy.can(actor, "create"),
    }


# ---------------------------------------------------------------------------
# Calendar


@membership_required
def calendar_month_view(request):
    post_policy.check(request.membership, "list")
    today = timezone.localdate()
    year, month = safety.query_month(request.GET.get("maaned")) or (
        today.year,
        today.month,
    )
    context = _calendar_context(request, "month")
    context["month"] = selectors.month_calendar(
        request.membership, year, month, context["filters"], today
    )
    context["weekdays"] = selectors.WEEKDAYS
    return render(request, "planning/calendar_month.html", context)


@membership_required
def calendar_week_view(request):
    post_policy.check(request.membership, "list")
    today = timezone.localdate()
    day = safety.query_day(request.GET.get("uge")) or today
    monday = day - timedelta(days=day.weekday())
    context = _calendar_context(request, "week")
    context["week"] = selectors.week_calendar(
        request.membership, monday, context["filters"], today
    )
    return render(request, "planning/calendar_week.html", context)


@membership_required
def post_list_view(request):
    post_policy.check(request.membership, "list")
    context = _calendar_context(request, "list")
    show_all = request.GET.get("alle") == "1"
    start = None if show_all else timezone.now() - timedelta(days=1)
    posts = selectors.post_list(request.membership, context["filters"], start)
    context["page"] = Paginator(posts, 50).get_page(request.GET.get("side"))
    context["show_all"] = show_all
    return render(request, "planning/post_list.html", context)


# ---------------------------------------------------------------------------
# Posts


@membership_required
@require_http_methods(["GET", "POST"])
def post_import_view(request):
    """Bulk planning from a spreadsheet: check it (a dry run), then import it.

    The file is read and every row checked on each request; "Importér"
    creates the posts only when every row is valid. After a check the page
    carries the file's content, so importing needs no second upload.
    """
    import base64
    import binascii
    import hashlib

    from . import csv_import

    actor = request.membership
    post_policy.check(actor, "create")
    context = {"max_rows": csv_import.MAX_ROWS}
    if request.method == "GET":
        return render(request, "planning/post_import.html", context)
    upload = request.FILES.get("fil")
    if upload is not None:
        if upload.size > csv_import.MAX_BYTES:
            context["refused"] = _(
                "Filen er for stor (højst 1 MB). Del planen op i flere filer."
            )
            return render(request, "planning/post_import.html", context, status=400)
        data, name = upload.read(csv_import.MAX_BYTES + 1), upload.name or "plan.csv"
    else:
        try:
            data = base64.b64decode(request.POST.get("indhold", ""), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        name = request.POST.get("filnavn", "")[:255] or "plan.csv"
    if not data:
        context["refused"] = _("Vælg en CSV-fil med planen.")
        return render(request, "planning/post_import.html", context, status=400)
    try:
        table = csv_import.read_table(data)
    except csv_import.ImportRefused as e:
        context["refused"] = str(e)
        return render(request, "planning/post_import.html", context, status=400)
    results, file_errors = csv_import.check_rows(table, actor)
    valid = not file_errors and results and all(r.ok for r in results)
    context.update(
        {
            "checked": True,
            "file_name": name,
            "encoding": csv_import.encoding_label(table.encoding),
            "delimiter": {";": _("semikolon"), ",": _("komma"), "\t": _("tabulator")}[
                table.delimiter
            ],
            "results": results,
            "file_errors": file_errors,
            "valid": valid,
            "error_rows": sum(1 for r in results if not r.ok),
            "content": base64.b64encode(data).decode("ascii"),
        }
    )
    if request.POST.get("handling") == "importer" and valid:
        try:
            posts = actions.import_posts(
                actor=actor,
                rows=results,
                source=name,
                digest=hashlib.sha256(data).hexdigest(),
            )
        except actions.PlanningError as e:
            context["refused"] = str(e)
            return render(request, "planning/post_import.html", context, status=409)
        messages.success(
            request,
            ngettext(
                "%(n)d opslag er oprettet som kladde. Tilpas dem, og send dem til "
                "godkendelse.",
                "%(n)d opslag er oprettet som kladder. Tilpas dem, og send dem til "
                "godkendelse.",
                len(posts),
            )
            % {"n": len(posts)},
        )
        return redirect(reverse("planning:post_list") + "?status=draft")
    return render(
        request, "planning/post_import.html", context, status=200 if valid else 400
    )


@membership_required
@require_GET
def post_import_template_view(request):
    from . import csv_import

    post_policy.check(request.membership, "create")
    response = HttpResponse(
        csv_import.template_csv(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="kanal-plan.csv"'
    return response


def _form_notes(request, form):
    for field in form.fields.values():
        for note in getattr(field, "notes", []):
            messages.warning(request, note)


@membership_required
@require_http_methods(["GET", "POST"])
def post_create_view(request):
    actor = request.membership
    post_policy.check(actor, "create")
    initial = {"owner_administration": actor.administration}
    day = safety.query_day(request.GET.get("dato"))
    if day:
        initial["planned_at"] = from_local(day, time(10, 0)).value
    form = PostForm(
        request.POST if request.method == "POST" else None,
        organisation=actor.organisation,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            post = actions.create_post(
                actor=actor,
                title=data["title"],
                shared_text=data["shared_text"],
                channels=list(data["channels"]),
                planned_at=data["planned_at"],
                owner_administration=data["owner_administration"],
                category=data["category"],
                purposes=data["purposes"],
                campaign=data["campaign"],
                notes=data["notes"],
            )
        except actions.PlanningError as e:
            form.add_error(None, str(e))
        else:
            _form_notes(request, form)
            messages.success(
                request,
                _("Opslaget er oprettet som kladde. Tilpas teksten til hver kanal."),
            )
            return redirect("planning:post_edit", pk=post.pk)
    return render(
        request,
        "planning/post_create.html",
        {"form": form},
        status=_status(request, not form.errors),
    )


def _variant_forms(post, variants, data, media_qs, media_shown):
    forms = []
    for variant in variants:
        forms.append(
            VariantForm(
                data,
                prefix=f"v{variant.channel_id}",
                channel=variant.channel,
                media_queryset=media_qs,
                media_shown=media_shown,
                initial={
                    "text": variant.text,
                    "link": variant.link,
                    "hashtags": " ".join(variant.hashtags),
                    "first_comment": variant.first_comment,
                    "planned_at": variant.planned_at,
                    "media": list(variant.media.all()),
                },
            )
        )
    return forms


@membership_required
@require_http_methods(["GET", "POST"])
def post_edit_view(request, pk):
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    post_policy.check(actor, "edit", post)
    variants = list(
        post.variants.select_related("channel", "channel__strategy").prefetch_related(
            "media"
        )
    )
    # Any media in the library may be chosen (the editor searches it); the
    # newest, the proposal's and those already chosen are listed.
    media_shown = list(selectors.media_choices(actor, post, variants))
    media_qs = media_policy.visible(actor)
    data = request.POST if request.method == "POST" else None
    form = PostForm(
        data,
        organisation=actor.organisation,
        current_channels=[v.channel for v in variants],
        initial={
            "title": post.title,
            "shared_text": post.shared_text,
            "channels": [v.channel for v in variants],
            "planned_at": post.planned_at,
            "owner_administration": post.owner_administration,
            "category": post.category,
            "purposes": post.purposes,
            "campaign": post.campaign,
            "notes": post.notes,
            "version": post.version,
        },
    )
    form.fields["planned_at"].disabled = True
    form.fields["planned_at"].help_text = _("Tiden sættes pr. kanal nedenfor.")
    variant_forms = _variant_forms(post, variants, data, media_qs, media_shown)
    stale = False
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in variant_forms])
        if valid:
            cd = form.cleaned_data
            # Only what the person changed is written: a value the form could
            # not show exactly as stored must survive an unrelated save.
            current = {v.channel_id for v in variants}
            if "channels" in form.changed_data:
                chosen = {c.pk: c for c in cd["channels"]}
            else:
                chosen = {v.channel_id: v.channel for v in variants}
            variant_changes = {}
            for f in variant_forms:
                if f.channel.pk not in chosen:
                    continue
                data = changed_values(f, VARIANT_FORM_FIELDS)
                if "media" in data:
                    data["media"] = list(data["media"])
                if data:
                    variant_changes[f.channel.pk] = data
            try:
                actions.update_post(
                    post,
                    actor=actor,
                    expected_version=cd["version"],
                    fields=changed_values(form, POST_FORM_FIELDS),
                    variants=variant_changes,
                    add_channels=[c for pk_, c in chosen.items() if pk_ not in current],
                    remove_channels=[
                        v.channel for v in variants if v.channel_id not in chosen
                    ],
                )
            except actions.StaleEdit as e:
                stale = True
                form.add_error(None, str(e))
            except actions.PlanningError as e:
                form.add_error(None, str(e))
            else:
                for f in variant_forms:
                    _form_notes(request, f)
                if post.status == PostStatus.IN_REVIEW and post.approved_by is None:
                    messages.warning(
                        request,
                        _(
                            "Opslaget er gemt. Det var godkendt, så ændringen skal "
                            "godkendes igen, før den udgives."
                        ),
                    )
                else:
                    messages.success(request, _("Opslaget er gemt."))
                return redirect("planning:post_edit", pk=post.pk)
    checks, previews = {}, {}
    for variant in variants:
        checks[variant.channel_id] = check_saved_variant(variant)
        # The preview shows what is counted: the text with its hashtags.
        text, link = outgoing(
            variant.channel,
            post.campaign,
            text=variant.text,
            hashtags=variant.hashtags,
            link=variant.link,
        )
        previews[variant.channel_id] = {
            "text": text,
            "link": link,
            "media": list(variant.media.all()),
        }
    return render(
        request,
        "planning/post_edit.html",
        {
            "post": post,
            "form": form,
            "variant_forms": [
                (f, checks.get(f.channel.pk), previews.get(f.channel.pk))
                for f in variant_forms
            ],
            "stale": stale,
            # After a refused save the previews are redrawn from what was sent.
            "refresh_previews": request.method == "POST",
        },
        status=409
        if stale
        else _status(
            request, not form.errors and all(not f.errors for f in variant_forms)
        ),
    )


@membership_required
def post_detail_view(request, pk):
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    return render(request, "planning/post_detail.html", _detail_context(actor, post))


def _detail_context(actor, post, **extra) -> dict:
    variants = list(
        post.variants.select_related(
            "channel", "current_revision", "approved_revision"
        ).prefetch_related("media", "revisions")
    )
    checks = {v.pk: check_saved_variant(v) for v in variants}
    can = {
        a: post_policy.can(actor, a, post)
        for a in (
            "edit",
            "submit",
            "approve",
            "reject",
            "schedule",
            "reschedule",
            "cancel",
            "review_proposal",
            "edit_proposal",
            "comment",
        )
    }
    own_post_blocked = (
        post.status == PostStatus.IN_REVIEW
        and actor.has_perm("posts.approve")
        and post_policy.is_own_post(actor, post)
    )
    return {
        "post": post,
        "variants": [(v, checks[v.pk]) for v in variants],
        "seen_revisions": [v.current_revision_id for v in variants],
        "can": can,
        "own_post_blocked": own_post_blocked,
        "comments": post.comments.select_related("author"),
        "comment_form": CommentForm(),
        "reason_form": ReasonForm(),
        "reschedule_form": RescheduleForm(
            initial={
                "day": to_local(post.planned_at).date() if post.planned_at else None,
                "clock": to_local(post.planned_at).time() if post.planned_at else None,
                "version": post.version,
            }
        ),
        "wished_channels": post.wished_channels.all(),
        "proposal_media": post.proposal_media.all(),
        "approval_overdue": post.status in (PostStatus.DRAFT, PostStatus.IN_REVIEW)
        and post.planned_at is not None
        and post.planned_at <= timezone.now() + timedelta(hours=24),
        "approve_comment": "",
        **extra,
    }


def _workflow(request, pk, action_name, call, success):
    actor = request.membership
    post = post_policy.get_visible_or_404(actor, pk=pk)
    try:
        call(post, actor)
    except actions.InvalidVariants as e:
        messages.error(request, str(e))
        for variant, problems in e.problems.items():
            for problem in problems:
                messages.error(request, f"{variant.channel}: {problem.message}")
    except actions.PlanningError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, success)
    return redirect("planning:post_detail", pk=post.pk)


@membership_required
@require_POST
def post_submit_view(request, pk):
    return _workflow(
        request,
        pk,
        "submit",
        lambda p, a: actions.submit_post(p, actor=a),
        _("Opslaget er sendt til godkendelse."),
    )


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
    except actions.InvalidVariants as e:
        messages.error(request, str(e))
        for variant, problems in e.problems.items():
            for problem in problems:
                messages.error(request, f"{variant.channel}: {problem.message}")
    except actions.PlanningError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Opslaget er godkendt og planlagt til udgivelse."))
    return redirect("planning:post_detail", pk=post.pk)


@membership_required
@require_POST
def post_reject_view(request, pk):
    reason = safety.typed_text(request.POST.get("reason"), max_length=3000)
    return _workflow(
        request,
        pk,
        "reject",
        lambda p, a: actions.reject_post(p, actor=a, reason=reason),
        _("Opslaget er sendt retur til kladde."),
    )


@membership_required
@require_POST
def post_schedule_view(request, pk):
    return _workflow(
        request,
        pk,
        "schedule",
        lambda p, a: actions.schedule_post(p, actor=a),
        _("Opslaget er planlagt til udgivelse."),
    )


@membership_required
@require_POST
def post_cancel_view(request, pk):
    reason = safety.typed_text(request.POST.get("reason"), max_length=3000)
    return _workflow(
        request,
        pk,
        "cancel",
        lambda p, a: actions.cancel_post(p, actor=a, reason=reason),
        _("Opslaget er annulleret. Intet bliver udgivet."),
    )


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
    post = post_policy.get_visible_or_404(actor, pk=pk)
    post_policy.check(actor, "edit_proposal", post)
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


@membership_required
@require_POST
def proposal_accept_view(request, pk):
    return _workflow(
        request,
        pk,
        "review_proposal",
        lambda p, a: actions.accept_proposal(p, actor=a),
        _("Forslaget er nu en kladde. Skriv varianterne til kanalerne."),
    )


@membership_required
@require_POST
def proposal_changes_view(request, pk):
    reason = safety.typed_text(request.POST.get("reason"), max_length=3000)
    return _workflow(
        request,
        pk,
        "review_proposal",
        lambda p, a: actions.request_proposal_changes(p, actor=a, reason=reason),
        _("Bidragyderen er bedt om at rette forslaget."),
    )


@membership_required
@require_POST
def proposal_decline_view(request, pk):
    reason = safety.typed_text(request.POST.get("reason"), max_length=3000)
    return _workflow(
        request,
        pk,
        "review_proposal",
        lambda p, a: actions.decline_proposal(p, actor=a, reason=reason),
        _("Forslaget er afvist, og bidragyderen har fået besked."),
    )


# ---------------------------------------------------------------------------
# Media


@membership_required
@require_http_methods(["GET", "POST"])
def media_list_view(request):
    actor = request.membership
    media_policy.check(actor, "list")
    can_upload = media_policy.can(actor, "upload")
    form = MediaUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST":
        media_policy.check(actor, "upload")
        refused = refused_message(request)
        if refused:
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", refused)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                asset = actions.upload_media(
                    actor=actor,
                    upload=data["file"],
                    alt_text=data["alt_text"],
                    credit=data["credit"],
                    shows_identifiable_people=data["shows_identifiable_people"],
                    identifiable_people_consent=data["identifiable_people_consent"],
                    rights_expire_on=data["rights_expire_on"],
                    tags=data["tags"],
                )
            except MediaRejected as e:
                form.add_error("file", str(e))
            else:
                messages.success(request, _("Mediet er lagt i biblioteket."))
                return redirect("planning:media_detail", pk=asset.pk)
    search = _media_search(request)
    assets = selectors.search_media(actor, **search, today=timezone.localdate())
    page = Paginator(assets, 48).get_page(request.GET.get("side"))
    return render(
        request,
        "planning/media_list.html",
        {
            "form": form,
            "page": page,
            "can_upload": can_upload,
            "today": timezone.localdate(),
            "search": search,
            "searching": any(search.values()),
            "tags": selectors.media_tags_in_use(actor),
            "query": _query_without(request, "side"),
        },
        status=_status(request, not form.errors),
    )


def _media_search(request) -> dict:
    get = request.GET
    attention = get.get("mangler", "")
    return {
        "query": get.get("q", "")[:200].strip(),
        "tag": " ".join(get.get("maerke", "")[:40].split()).lower(),
        "kind": get.get("type", "")[:10],
        "attention": attention if attention in selectors.MEDIA_ATTENTION else "",
    }


@membership_required
@require_GET
def media_picker_view(request):
    """The editor's media search (htmx): checkboxes for one variant."""
    actor = request.membership
    media_policy.check(actor, "list")
    channel = get_object_or_404(
        Channel,
        pk=_int(request.GET.get("kanal")),
        organisation_id=actor.organisation_id,
    )
    shown = {i for i in (_int(x) for x in request.GET.get("vist", "").split(",")) if i}
    query = request.GET.get("q", "")[:200].strip()
    found = []
    if query:
        found = [
            m
            for m in selectors.search_media(actor, query=query)[
                : selectors.MEDIA_CHOICES
            ]
            if m.pk not in shown
        ]
    return render(
        request,
        "planning/_media_picker.html",
        {"channel": channel, "found": found, "query": query},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def media_detail_view(request, pk):
    actor = request.membership
    asset = media_policy.get_visible_or_404(actor, pk=pk)
    can_change = media_policy.can(actor, "change", asset)
    form = MediaEditForm(
        request.POST if request.method == "POST" else None,
        initial={
            "alt_text": asset.alt_text,
            "credit": asset.credit,
            "shows_identifiable_people": asset.shows_identifiable_people,
            "identifiable_people_consent": asset.identifiable_people_consent,
            "rights_expire_on": asset.rights_expire_on,
            "tags": ", ".join(t.name for t in asset.tags.all()),
        },
    )
    if request.method == "POST":
        media_policy.check(actor, "change", asset)
        if form.is_valid():
            actions.update_media(asset, actor=actor, **changed_values(form))
            messages.success(request, _("Mediet er gemt."))
            return redirect("planning:media_detail", pk=asset.pk)
    fits = []
    for channel in Channel.objects.filter(
        organisation_id=actor.organisation_id
    ).exclude(status="disabled"):
        caps = capabilities_for(channel)
        if caps is not None:
            fits.append((channel, fit_for(asset, caps, channel.get_network_display())))
    return render(
        request,
        "planning/media_detail.html",
        {
            "asset": asset,
            "form": form,
            "can_change": can_change,
            "fits": fits,
            "today": timezone.localdate(),
        },
        status=_status(request, not form.errors),
    )


# ---------------------------------------------------------------------------
# Campaigns, notifications, iCal, report


@membership_required
@require_http_methods(["GET", "POST"])
def campaign_list_view(request):
    actor = request.membership
    campaign_policy.check(actor, "list")
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        campaign_policy.check(actor, "create")
        if form.is_valid():
            try:
                actions.create_campaign(actor=actor, **form.cleaned_data)
            except actions.PlanningError as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, _("Kampagnen er oprettet."))
                return redirect("planning:campaign_list")
    return render(
        request,
        "planning/campaign_list.html",
        {
            "campaigns": campaign_policy.visible(actor),
            "form": form,
            "can_create": campaign_policy.can(actor, "create"),
        },
        status=_status(request, not form.errors),
    )


def _tracking_initial(row) -> dict:
    if row is None:
        return {"enabled": False, "medium": "social"}
    return {
        "enabled": row.enabled,
        "source": row.source,
        "medium": row.medium,
        "campaign_default": row.campaign_default,
        "domains": " ".join(row.domains),
        "replace_existing": row.replace_existing,
    }


@membership_required
@require_http_methods(["GET", "POST"])
def link_tracking_view(request):
    """UTM parameters for the organisation and, where wanted, per channel."""
    actor = request.membership
    link_tracking_policy.check(actor, "view")
    rows = {r.channel_id: r for r in link_tracking_policy.visible(actor)}
    data = request.POST if request.method == "POST" else None
    organisation_row = rows.get(None)
    forms = [
        LinkTrackingForm(
            data, prefix="org", initial=_tracking_initial(organisation_row)
        )
    ]
    for channel in Channel.objects.filter(
        organisation_id=actor.organisation_id
    ).exclude(status="disabled"):
        row = rows.get(channel.pk)
        initial = {"inherit": row is None}
        initial.update(_tracking_initial(row or organisation_row))
        forms.append(
            LinkTrackingForm(
                data, prefix=f"c{channel.pk}", channel=channel, initial=initial
            )
        )
    if request.method == "POST":
        link_tracking_policy.check(actor, "change")
        if all([f.is_valid() for f in forms]):
            for form in forms:
                if not form.has_changed():
                    continue
                cd = form.cleaned_data
                if form.channel is not None and cd.get("inherit"):
                    actions.save_link_tracking(
                        actor=actor,
                        organisation=actor.organisation,
                        channel=form.channel,
                        inherit=True,
                    )
                    continue
                actions.save_link_tracking(
                    actor=actor,
                    organisation=actor.organisation,
                    channel=form.channel,
                    **{k: cd[k] for k in actions.LINK_TRACKING_FIELDS},
                )
            messages.success(
                request,
                _(
                    "Linksporingen er gemt. Den gælder opslag, der planlægges fra "
                    "nu af; det, der allerede er planlagt, beholder sine links."
                ),
            )
            return redirect("planning:link_tracking")
    return render(
        request,
        "planning/link_tracking.html",
        {
            "forms": forms,
            "can_change": link_tracking_policy.can(actor, "change"),
            "example": "https://www.kk.dk/jul",
        },
        status=_status(request, all(not f.errors for f in forms)),
    )


@membership_required
@require_http_methods(["GET", "POST"])
def ical_settings_view(request):
    actor = request.membership
    if request.method == "POST":
        if request.POST.get("revoke"):
            feed = get_object_or_404(
                CalendarFeed, pk=_int(request.POST.get("revoke")), membership=actor
            )
            actions.revoke_calendar_feed(feed, actor=actor)
            messages.success(
                request,
                _(
                    "Adressen er slået fra. Kalendere, der "
                    "bruger den, får ikke flere opdateringer."
                ),
            )
        else:
            actions.create_calendar_feed(actor=actor)
            messages.success(request, _("Der er lavet en ny hemmelig adresse."))
        return redirect("planning:ical_settings")
    feed = actor.calendar_feeds.filter(revoked_at__isnull=True).first()
    url = (
        request.build_absolute_uri(reverse("planning:ical_feed", args=[feed.token]))
        if feed
        else ""
    )
    return render(request, "planning/ical_settings.html", {"feed": feed, "url": url})


def ical_feed_view(request, token):
    feed = (
        CalendarFeed.objects.select_related(
            "membership__organisation", "membership__user", "membership__administration"
        )
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    if (
        feed is None
        or not feed.membership.is_active
        or not feed.membership.user.is_active
    ):
        raise Http404
    posts = selectors.feed_posts(feed.membership, timezone.now())
    body = ical.render_feed(
        posts, feed.membership, request.build_absolute_uri("/").rstrip("/")
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kanal-plan.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@membership_required
def report_view(request):
    actor = request.membership
    if not post_policy.can(actor, "report"):
        raise PermissionDenied(_("Rapporten kræver adgang til rapporter."))
    today = timezone.localdate()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
        days=1
    )
    form = ReportForm(
        request.GET or None,
        initial={"first_day": today.replace(day=1), "last_day": month_end},
    )
    if request.GET and form.is_valid():
        first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
    else:
        first, last = today.replace(day=1), month_end
    report = selectors.strategy_report(actor, first, last) if not form.errors else None
    return render(
        request,
        "planning/report.html",
        {"form": form, "report": report, "first": first, "last": last},
    )


@require_GET
def media_file_view(request, name):
    """Serve an uploaded file, for the networks that fetch media by URL.

    No login: Instagram and Threads fetch the image themselves. Only files
    that belong to a media asset are served (never anything else under
    MEDIA_ROOT), with the type Kanal verified from the file's content, and
    headers that stop a browser from treating it as a page.
    """
    asset = (
        MediaAsset.objects.filter(Q(file=name) | Q(thumbnail=name))
        .only("file", "thumbnail", "mime_type")
        .first()
    )
    if asset is None:
        raise Http404
    is_thumbnail = asset.thumbnail.name == name
    field_file = asset.thumbnail if is_thumbnail else asset.file
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as e:
        raise Http404 from e
    response = FileResponse(
        handle, content_type="image/jpeg" if is_thumbnail else asset.mime_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400"
    return response
