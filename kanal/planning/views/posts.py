"""Posts: import, create, edit and show one."""

from __future__ import annotations

from datetime import time, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
)

from kanal.core import safety
from kanal.core.decorators import membership_required

from .. import actions, selectors
from ..forms import (
    CommentForm,
    PostForm,
    ReasonForm,
    RescheduleForm,
    VariantForm,
    changed_values,
)
from ..models import (
    PostStatus,
)
from ..policies import (
    media_policy,
    post_policy,
)
from ..timeutil import from_local, to_local
from ..validation import (
    check_saved_variant,
    outgoing,
)
from .common import POST_FORM_FIELDS, VARIANT_FORM_FIELDS, _status

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

    from .. import csv_import

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
    from .. import csv_import

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
    post = post_policy.get_allowed(actor, "edit", pk=pk)
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
