from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core.decorators import membership_required
from kanal.core.safety import InvalidInput

from . import actions, filing, retention, selectors
from .forms import (
    AccessRequestForm,
    ErasureForm,
    FilingForm,
    LegalHoldForm,
    RedactForm,
    RetentionRuleForm,
    WithholdForm,
)
from .models import (
    AccessRequestItem,
    ErasureRequest,
    ExportStatus,
    Filing,
    FilingStatus,
    RecordTombstone,
    RetentionRule,
)
from .policies import (
    access_export_policy,
    access_request_policy,
    legal_hold_policy,
    record_policy,
)


def _page(request, qs, per_page=50):
    return Paginator(qs, per_page).get_page(request.GET.get("side"))


@membership_required
@require_http_methods(["GET"])
def record_list_view(request):
    member = request.membership
    record_policy.check(member, "list")
    entries = record_policy.visible(member).order_by("-occurred_at", "-pk")
    return render(
        request, "records/record_list.html", {"page": _page(request, entries)}
    )


@membership_required
@require_http_methods(["GET"])
def record_detail_view(request, pk):
    member = request.membership
    record_policy.check(member, "view")
    entry = record_policy.get_visible_or_404(member, pk=pk)
    versions = record_policy.visible(member).filter(
        organisation=entry.organisation, source_key=entry.source_key
    ).order_by("occurred_at", "version")
    return render(request, "records/record_detail.html", {
        "entry": entry,
        "versions": versions,
        "can_file": record_policy.can(member, "file", entry),
        "filing": Filing.objects.filter(entry=entry).first(),
    })


@membership_required
@require_http_methods(["GET"])
def access_request_list_view(request):
    member = request.membership
    access_request_policy.check(member, "list")
    return render(request, "records/access_request_list.html", {
        "requests": access_request_policy.visible(member)[:200],
    })


@membership_required
@require_http_methods(["GET", "POST"])
def access_request_create_view(request):
    member = request.membership
    access_request_policy.check(member, "create")
    form = AccessRequestForm(request.POST or None, organisation=member.organisation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = actions.build_access_request(
                actor=member,
                title=data["title"],
                requester=data["requester"],
                case_ref=data["case_ref"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                channels=list(data["channels"]),
                administrations=list(data["administrations"]),
                search_words=data["search_words"],
                persons=data["persons"],
            )
        except InvalidInput as e:
            form.add_error(None, str(e))
        else:
            messages.success(
                request,
                _("Anmodningen er oprettet. Kanal fandt %(count)s poster.")
                % {"count": created.found},
            )
            return redirect("records:access_request", pk=created.pk)
    return render(
        request, "records/access_request_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@membership_required
@require_http_methods(["GET"])
def access_request_view(request, pk):
    member = request.membership
    access_request_policy.check(member, "view")
    access = access_request_policy.get_visible_or_404(member, pk=pk)
    items = _page(request, selectors.items_of(access))
    return render(request, "records/access_request.html", {
        "access": access,
        "page": items,
        "sees_withheld": access_request_policy.sees_withheld(member),
        "can_withhold": access_request_policy.can(member, "withhold", access),
        "can_export": access_request_policy.can(member, "export", access),
        "withhold_form": WithholdForm(),
        "redact_form": RedactForm(),
        "exports": access.exports.all()[:10],
    })


def _item(member, pk, item_pk) -> AccessRequestItem:
    access = access_request_policy.get_visible_or_404(member, pk=pk)
    try:
        return access.items.select_related("entry", "request").get(pk=item_pk)
    except (AccessRequestItem.DoesNotExist, ValueError) as e:
        raise Http404 from e


@membership_required
@require_POST
def withhold_view(request, pk, item_pk):
    member = request.membership
    access_request_policy.check(member, "withhold")
    item = _item(member, pk, item_pk)
    if request.POST.get("release"):
        actions.release_item(item, actor=member)
        messages.success(request, _("Posten udleveres igen."))
    else:
        form = WithholdForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Vælg den hjemmel, posten undtages efter."))
        actions.withhold_item(item, actor=member, ground=form.cleaned_data["ground"],
                              note=form.cleaned_data["note"])
        messages.success(request, _("Posten er undtaget fra aktindsigt."))
    return redirect(f"{_back(pk)}#item-{item.pk}")


@membership_required
@require_POST
def redact_view(request, pk, item_pk):
    member = request.membership
    access_request_policy.check(member, "redact")
    item = _item(member, pk, item_pk)
    form = RedactForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(
            _("Skriv den del af teksten, der skal overstreges, og vælg hjemlen.")
        )
    actions.redact_item(item, actor=member, passage=form.cleaned_data["passage"],
                        ground=form.cleaned_data["ground"])
    messages.success(request, _("Teksten er overstreget i det, anmoderen får."))
    return redirect(f"{_back(pk)}#item-{item.pk}")


def _back(pk) -> str:
    from django.urls import reverse

    return reverse("records:access_request", kwargs={"pk": pk})


@membership_required
@require_POST
def export_start_view(request, pk):
    member = request.membership
    access_request_policy.check(member, "export")
    access = access_request_policy.get_visible_or_404(member, pk=pk)
    export = actions.start_export(access, actor=member)
    return redirect("records:export", pk=export.pk)


@membership_required
@require_http_methods(["GET"])
def export_view(request, pk):
    member = request.membership
    access_export_policy.check(member, "view")
    export = access_export_policy.get_visible_or_404(member, pk=pk)
    running = export.status in {ExportStatus.QUEUED, ExportStatus.RUNNING}
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({
            "status": export.status,
            "running": running,
            "percent": export.percent,
            "message": _(
                "Pakken laves: %(percent)s %% færdig. Siden opdateres af sig selv."
            ) % {"percent": export.percent},
        })
    return render(request, "records/export.html",
                  {"export": export, "running": running})


@membership_required
@require_http_methods(["GET"])
def export_download_view(request, pk, what):
    member = request.membership
    access_export_policy.check(member, "download")
    export = access_export_policy.get_visible_or_404(member, pk=pk)
    path = {"pdf": export.pdf_path, "zip": export.zip_path}.get(what)
    if export.status != ExportStatus.DONE or not path:
        raise Http404
    try:
        handle = default_storage.open(path, "rb")
    except OSError as e:
        raise Http404 from e
    actions.note_download(export, actor=member, what=what)
    name = path.rsplit("/", 1)[-1]
    response = FileResponse(
        handle, as_attachment=True, filename=name,
        content_type="application/pdf" if what == "pdf" else "application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@membership_required
@require_http_methods(["GET", "POST"])
def retention_view(request):
    """Retention rules, legal holds, erasure and what was deleted."""
    member = request.membership
    can_hold = legal_hold_policy.can(member, "list")
    can_delete = record_policy.can(member, "manage_retention")
    if not (can_hold or can_delete):
        legal_hold_policy.check(member, "list")
    hold_form = LegalHoldForm(prefix="hold")
    rule_form = RetentionRuleForm(prefix="rule")
    erasure_form = ErasureForm(prefix="erasure")
    status = 200
    if request.method == "POST":
        what = request.POST.get("what")
        if what == "hold":
            hold_form = LegalHoldForm(request.POST, prefix="hold")
            if hold_form.is_valid():
                data = hold_form.cleaned_data
                start, end = (data.get("period_start"), data.get("period_end"))
                bounds = selectors.local_day_bounds(start or end, end or start) \
                    if (start or end) else (None, None)
                actions.place_hold(
                    actor=member, reason=data["reason"], case_ref=data["case_ref"],
                    person=data["person"],
                    period_start=bounds[0] if start else None,
                    period_end=bounds[1] if end else None,
                )
                messages.success(request, _("Det retlige hold er sat."))
                return redirect("records:retention")
            status = 400
        elif what == "release":
            from kanal.core.safety import query_id

            hold_id = query_id(request.POST.get("hold"), label=_("Hold"))
            hold = legal_hold_policy.get_visible_or_404(member, pk=hold_id or 0)
            actions.release_hold(hold, actor=member)
            messages.success(request, _("Holdet er ophævet."))
            return redirect("records:retention")
        elif what == "rule":
            rule_form = RetentionRuleForm(request.POST, prefix="rule")
            if rule_form.is_valid():
                actions.set_retention(actor=member, **rule_form.cleaned_data)
                messages.success(request, _("Opbevaringsperioden er gemt."))
                return redirect("records:retention")
            status = 400
        elif what == "erasure":
            erasure_form = ErasureForm(request.POST, prefix="erasure")
            if erasure_form.is_valid():
                erasure = retention.erase_person(actor=member,
                                                 **erasure_form.cleaned_data)
                messages.success(
                    request,
                    _("Sletningen er udført: %(deleted)s poster slettet, "
                      "%(held)s holdt tilbage af et retligt hold eller en "
                      "aktindsigt under behandling; %(redacted)s henvendelser "
                      "i indbakken renset, %(items_held)s holdt tilbage af et "
                      "retligt hold.")
                    % {"deleted": erasure.deleted, "held": erasure.held_back,
                       "redacted": erasure.inbox_redacted,
                       "items_held": erasure.inbox_held_back},
                )
                return redirect("records:retention")
            status = 400
        elif what == "apply":
            done = retention.apply_retention(actor=member)
            messages.success(
                request,
                _("%(count)s poster er slettet, og %(redacted)s henvendelser i "
                  "indbakken er renset for personoplysninger.")
                % {"count": done.deleted, "redacted": done.redacted})
            return redirect("records:retention")
        else:
            raise InvalidInput(_("Ukendt handling."))
    org = member.organisation
    return render(request, "records/retention.html", {
        "can_hold": can_hold,
        "can_delete": can_delete,
        "holds": legal_hold_policy.visible(member)[:200] if can_hold else [],
        "rules": RetentionRule.objects.filter(organisation=org),
        "tombstones": RecordTombstone.objects.filter(organisation=org)[:50],
        "erasures": ErasureRequest.objects.filter(organisation=org)[:20],
        "hold_form": hold_form,
        "rule_form": rule_form,
        "erasure_form": erasure_form,
    }, status=status)


@membership_required
@require_POST
def mark_for_filing_view(request, pk):
    member = request.membership
    record_policy.check(member, "file")
    entry = record_policy.get_visible_or_404(member, pk=pk)
    form = FilingForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(
            _("Sagsnummeret kan ikke bruges: %(problem)s Ret det, og prøv igen.")
            % {"problem": " ".join(form.errors["case_ref"])}
        )
    filing.mark_for_filing(entry, actor=member,
                           case_ref=form.cleaned_data["case_ref"])
    messages.success(request, _("Posten er markeret til journalisering."))
    return redirect("records:detail", pk=entry.pk)


@membership_required
@require_http_methods(["GET", "POST"])
def filing_list_view(request):
    """What is filed in the case system and what waits."""
    member = request.membership
    record_policy.check(member, "file")
    if request.method == "POST":
        filed = filing.file_waiting(actor=member)
        messages.success(request, _("%(count)s poster er lagt i sagssystemets mappe.")
                         % {"count": filed})
        return redirect("records:filing")
    filings = Filing.objects.filter(organisation=member.organisation).select_related(
        "entry", "entry__channel")
    return render(request, "records/filing.html", {
        "waiting": filings.exclude(status=FilingStatus.FILED)[:200],
        "filed": filings.filter(status=FilingStatus.FILED).order_by("-filed_at")[:200],
    })


@membership_required
@require_POST
def access_request_close_view(request, pk):
    member = request.membership
    access_request_policy.check(member, "close")
    access = access_request_policy.get_visible_or_404(member, pk=pk)
    actions.close_access_request(access, actor=member)
    messages.success(request, _("Anmodningen er afsluttet."))
    return redirect("records:access_request", pk=access.pk)
