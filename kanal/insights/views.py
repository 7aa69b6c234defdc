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


@membership_required
@require_http_methods(["GET"])
def report_view(request):
    """The monthly report as PDF: ``?maaned=YYYY-MM``, by default last month."""
    from datetime import date, timedelta

    from . import report

    insights_policy.check(request.membership, "view")
    raw = request.GET.get("maaned", "")
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-"))
            if not 2000 <= year <= 2100:
                raise ValueError(year)
            first = date(year, month, 1)
        except ValueError:
            return render(request, "error.html", {
                "title": _("Rapporten kunne ikke laves"),
                "message": _("Skriv måneden som år-måned, fx 2026-11, og prøv igen."),
            }, status=400)
    else:
        first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(
            day=1)
    content = report.monthly_report(request.membership.organisation, first)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="kanal-maanedsrapport-{first:%Y-%m}.pdf"'
    )
    return response
