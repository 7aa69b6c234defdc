from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core.decorators import membership_required

from . import actions, conf, exports, selectors
from .forms import PeriodForm
from .models import Dimension, ExportJob, PostTracking
from .policies import insights_policy, publication_policy

FORMATS = ("csv", "xlsx")


def _period_form(request):
    insights_policy.check(request.membership, "view")
    form = PeriodForm(request.GET or None)
    form.is_valid()
    return form, form.period()


def _page(request, template, form, context):
    period = form.period()
    return render(
        request,
        template,
        {
            "form": form,
            "period": period,
            "previous": period.previous(),
            "query": request.GET.urlencode(),
            "dimensions": [(d, Dimension(d).label) for d in selectors.BREAKDOWNS],
            **context,
        },
        status=400 if form.errors else 200,
    )


@membership_required
@require_http_methods(["GET"])
def overview_view(request):
    form, period = _period_form(request)
    org = request.membership.organisation_id
    channels = selectors.channel_overview(org, period)
    followers, followers_chart = selectors.followers_table(org, period)
    return _page(request, "insights/overview.html", form, {
        "followers": followers,
        "followers_chart": followers_chart,
        "channels": channels,
        "rate_chart": selectors.bar_chart(channels, "rate", _("Engagementsrate (%)")),
        "top": selectors.top_posts(org, period),
    })


@membership_required
@require_http_methods(["GET"])
def breakdown_view(request, dimension):
    if dimension not in selectors.BREAKDOWNS:
        raise Http404
    form, period = _period_form(request)
    table = selectors.breakdown(request.membership.organisation_id, dimension, period)
    return _page(request, "insights/breakdown.html", form, {
        "dimension": dimension,
        "table": table,
        "chart": selectors.bar_chart(table, "engagement", _("Interaktioner")),
    })


@membership_required
@require_http_methods(["GET"])
def cadence_view(request):
    form, period = _period_form(request)
    table = selectors.cadence(request.membership.organisation_id, period)
    return _page(request, "insights/cadence.html", form, {
        "table": table, "chart": selectors.cadence_chart(table),
    })


@membership_required
@require_http_methods(["GET"])
def hashtags_view(request):
    form, period = _period_form(request)
    org = request.membership.organisation_id
    by_network, daily, chart = selectors.hashtag_tables(org, period)
    return _page(request, "insights/hashtags.html", form, {
        "by_network": by_network, "daily": daily, "chart": chart,
        "contributors": selectors.hashtag_contributors(org, period),
        "gallery": selectors.hashtag_gallery(org, period),
        "budgets": selectors.instagram_budget(org, now=timezone.now()),
    })


@membership_required
@require_http_methods(["GET"])
def dialogue_view(request):
    form, period = _period_form(request)
    table = selectors.dialogue(request.membership.organisation_id, period)
    return _page(request, "insights/dialogue.html", form, {
        "table": table, "chart": selectors.dialogue_chart(table),
    })


@membership_required
@require_http_methods(["GET"])
def publication_view(request, pk):
    insights_policy.check(request.membership, "view")
    publication = publication_policy.get_visible_or_404(request.membership, pk=pk)
    table, chart = selectors.publication_series(publication)
    tracking = PostTracking.objects.filter(publication=publication).first()
    return render(request, "insights/publication.html", {
        "publication": publication, "table": table, "chart": chart,
        "tracking": tracking,
    })


@membership_required
@require_POST
def export_view(request):
    """Export one table: at once when it is small, in the background (with
    progress) when it is long."""
    member = request.membership
    insights_policy.check(member, "export")
    form = PeriodForm(request.POST)
    slug = request.POST.get("tabel", "")
    file_format = request.POST.get("format", "")
    valid = slug in selectors.TABLES and file_format in FORMATS
    if not valid or not form.is_valid():
        return render(request, "error.html", {
            "title": _("Eksporten kunne ikke laves"),
            "message": _("Eksporten kunne ikke laves: vælg en tabel, CSV eller XLSX "
                         "og en gyldig periode, og prøv igen."),
        }, status=400)
    period = form.period()
    if selectors.export_size(member.organisation_id, period) > conf.get(
        "EXPORT_INLINE_MAX_ROWS"
    ):
        job = actions.request_export(actor=member, table=slug,
                                     file_format=file_format, start=period.start,
                                     end=period.end)
        return redirect("insights:export_job", pk=job.pk)
    table = selectors.build_table(member.organisation_id, slug, period)
    response = HttpResponse(exports.render(table, file_format),
                            content_type=exports.CONTENT_TYPES[file_format])
    name = f"kanal-{slug}-{period.start}-{period.end}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _own_job(request, pk):
    insights_policy.check(request.membership, "export")
    return get_object_or_404(ExportJob, pk=pk, requested_by=request.membership)


@membership_required
@require_http_methods(["GET"])
def export_job_view(request, pk):
    job = _own_job(request, pk)
    template = ("insights/_export_progress.html" if request.headers.get("HX-Request")
                else "insights/export_job.html")
    return render(request, template, {"job": job})


@membership_required
@require_http_methods(["GET"])
def export_download_view(request, pk):
    job = _own_job(request, pk)
    if job.status != "done":
        raise Http404
    response = HttpResponse(bytes(job.content),
                            content_type=exports.CONTENT_TYPES[job.file_format])
    response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
    return response


def _month_or_quarter(raw: str, cadence: str):
    """The first day of ``raw`` ("2026-11", or "2026-4" for a quarter), or
    None when it is not one (also a number too big for a date)."""
    from datetime import date

    from kanal.core.safety import MAX_DAY, MIN_DAY

    try:
        year, number = (int(part) for part in raw.split("-"))
    except ValueError:
        return None
    last = 4 if cadence == "quarterly" else 12
    if not MIN_DAY.year <= year <= MAX_DAY.year or not 1 <= number <= last:
        return None
    return date(year, 3 * number - 2 if cadence == "quarterly" else number, 1)


def _report_response(request, cadence: str, parameter: str, error: str):
    from . import report

    insights_policy.check(request.membership, "view")
    raw = request.GET.get(parameter, "")
    if raw:
        first = _month_or_quarter(raw, cadence)
        if first is None:
            return render(request, "error.html", {
                "title": _("Rapporten kunne ikke laves"), "message": error,
            }, status=400)
    else:
        first = report.last_complete_period(cadence, timezone.localdate()).start
    content = report.render_report(request.membership.organisation, cadence, first)
    response = HttpResponse(content, content_type="application/pdf")
    name = (f"kanal-maanedsrapport-{first:%Y-%m}" if cadence == "monthly"
            else f"kanal-kvartalsrapport-{first.year}-{(first.month + 2) // 3}")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@membership_required
@require_http_methods(["GET"])
def report_view(request):
    """The monthly report as PDF: ``?maaned=YYYY-MM``, by default last month."""
    return _report_response(
        request, "monthly", "maaned",
        _("Skriv måneden som år-måned, fx 2026-11, og prøv igen."))


@membership_required
@require_http_methods(["GET"])
def quarterly_report_view(request):
    """The quarterly report as PDF: ``?kvartal=YYYY-K``, by default the last
    complete quarter."""
    return _report_response(
        request, "quarterly", "kvartal",
        _("Skriv kvartalet som år-kvartal, fx 2026-3 for 3. kvartal, og prøv igen."))


@membership_required
@require_http_methods(["GET", "POST"])
def reports_view(request):
    """The reports: download them, and choose which come by e-mail."""
    from django.contrib import messages

    from .forms import ReportSubscriptionForm
    from .models import ReportSubscription

    member = request.membership
    insights_policy.check(member, "view")
    current = list(ReportSubscription.objects.filter(membership=member)
                   .values_list("cadence", flat=True))
    form = ReportSubscriptionForm(request.POST or None,
                                  initial={"cadences": current})
    if request.method == "POST":
        if form.is_valid():
            actions.set_report_subscriptions(actor=member,
                                             cadences=form.cleaned_data["cadences"])
            messages.success(request, _("Dine valg af rapporter er gemt."))
            return redirect("insights:reports")
        return render(request, "insights/reports.html", {"form": form}, status=400)
    return render(request, "insights/reports.html", {"form": form})


@membership_required
@require_http_methods(["GET"])
def stored_report_view(request, pk):
    """A report the e-mail job rendered (the link in its notification)."""
    from .models import RenderedReport

    insights_policy.check(request.membership, "view")
    stored = get_object_or_404(RenderedReport, pk=pk,
                               organisation_id=request.membership.organisation_id)
    response = HttpResponse(bytes(stored.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{stored.file_name}"'
    return response
