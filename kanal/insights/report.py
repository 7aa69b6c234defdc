"""The monthly and quarterly reports for the committee, as PDFs in Danish.

Built with reportlab (pure Python, the long-standing PDF library; the
records app uses the same) from the same rollups and tables as the
dashboards: a chart and the tables beside it, numbers in Danish style."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.utils import translation
from django.utils.translation import gettext as _

from kanal.core.formatting import when

from . import selectors
from .selectors import Column, Period, Table
from .templatetags.insights_tags import display

MONTHLY, QUARTERLY = "monthly", "quarterly"
CADENCES = (MONTHLY, QUARTERLY)


def month_period(month: date) -> Period:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def quarter_period(day: date) -> Period:
    """The calendar quarter ``day`` falls in."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last_month = month_period(first + timedelta(days=62))
    return Period(first, last_month.end)


def report_period(cadence: str, day: date) -> Period:
    return month_period(day) if cadence == MONTHLY else quarter_period(day)


def last_complete_period(cadence: str, today: date) -> Period:
    """The newest month (quarter) that has ended before ``today``."""
    current = report_period(cadence, today)
    return report_period(cadence, current.start - timedelta(days=1))


def quarter_name(period: Period) -> str:
    return _("%(n)s. kvartal %(year)s") % {
        "n": (period.start.month - 1) // 3 + 1, "year": period.start.year}


def _table(table: Table, columns: int | None = None):
    from reportlab.lib import colors
    from reportlab.platypus import Table as PdfTable
    from reportlab.platypus import TableStyle

    shown = table.columns[:columns] if columns else table.columns
    data = [[c.label for c in shown]]
    for row in table.rows:
        data.append([display(row.get(c.key), c.kind) for c in shown])
    pdf = PdfTable(data, repeatRows=1)
    pdf.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1),
         [colors.white, colors.HexColor("#f1f3f6")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return pdf


def _bar_chart(table: Table, value: str, title: str, name_key: str = "label",
               value_max: float | None = None):
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    rows = [r for r in table.rows if r.get(value) is not None][:12]
    drawing = Drawing(480, 200)
    drawing.add(String(0, 188, title, fontName="Helvetica-Bold", fontSize=9))
    if not rows:
        drawing.add(String(0, 100, _("ingen data"), fontName="Helvetica",
                           fontSize=9))
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 50, 430, 125
    chart.data = [[r[value] for r in rows]]
    chart.categoryAxis.categoryNames = [str(r[name_key])[:18] for r in rows]
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    if value_max is not None:
        chart.valueAxis.valueMax = value_max
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: display(int(v), "number")
    chart.bars[0].fillColor = colors.HexColor("#1f5f8b")
    drawing.add(chart)
    return drawing


def monthly_report(organisation, month: date, *, compress: bool = True) -> bytes:
    """The month's report as PDF bytes (always in Danish)."""
    return render_report(organisation, MONTHLY, month, compress=compress)


def quarterly_report(organisation, day: date, *, compress: bool = True) -> bytes:
    """The report of the quarter ``day`` falls in, as PDF bytes (in Danish):
    the month report's sections for the quarter, headed by the quarter against
    the quarter before and the strategy's targets."""
    return render_report(organisation, QUARTERLY, day, compress=compress)


def _comparison(organisation_id: int, period: Period, before: Period) -> Table:
    now = selectors.period_totals(organisation_id, period)
    prior = selectors.period_totals(organisation_id, before)
    table = Table("comparison", _("Kvartalet mod kvartalet før"), [
        Column("label", _("Tal")),
        Column("now", _("Dette kvartal"), "number"),
        Column("before", _("Kvartalet før"), "number"),
        Column("change", _("Ændring"), "change"),
    ])
    for key, label in selectors.TOTAL_LABELS:
        table.rows.append({
            "label": str(label), "now": now.get(key), "before": prior.get(key),
            "change": selectors.change(now.get(key), prior.get(key)),
        })
    return table


def _targets(cadence: Table) -> Table:
    """Per channel: the share of days (weeks) within the strategy's cadence."""
    table = Table("targets", _("Strategiens mål for kadence"), [
        Column("label", _("Kanal")),
        Column("target", _("Mål")),
        Column("share", _("Inden for målet"), "percent"),
    ])
    for row in cadence.rows:
        counted = row["under"] + row["within"] + row["over"]
        table.rows.append({
            "label": row["label"], "target": row["target"],
            "share": round(100 * row["within"] / counted, 1) if counted else None,
        })
    return table


def render_report(organisation, cadence: str, day: date, *,
                  compress: bool = True) -> bytes:
    """The report of the month (quarter) ``day`` falls in, as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

    period = report_period(cadence, day)
    with translation.override("da"):
        styles = getSampleStyleSheet()
        org = organisation.pk
        channels = selectors.channel_overview(org, period)
        categories = selectors.breakdown(org, "category", period)
        purposes = selectors.breakdown(org, "purpose", period)
        administrations = selectors.breakdown(org, "administration", period)
        cadence_table = selectors.cadence(org, period)
        hashtags = selectors.hashtag_tables(org, period)[0]
        top = selectors.top_posts(org, period)
        if cadence == MONTHLY:
            title = _("Sociale medier: månedsrapport")
            subtitle = _("%(org)s · %(month)s (sammenlignet med måneden før)") % {
                "org": organisation.name, "month": when(period.start, "month")}
            sections = []
        else:
            before = quarter_period(period.start - timedelta(days=1))
            title = _("Sociale medier: kvartalsrapport")
            subtitle = _("%(org)s · %(quarter)s (sammenlignet med %(before)s)") % {
                "org": organisation.name, "quarter": quarter_name(period),
                "before": quarter_name(before)}
            comparison = _comparison(org, period, before)
            targets = _targets(cadence_table)
            sections = [
                (comparison.title, comparison, None, None),
                (_("Strategiens mål"), targets, None,
                 _bar_chart(targets, "share",
                            _("Andel af dagene inden for kadencemålet (%)"),
                            value_max=100)),
            ]
        story = [
            Paragraph(title, styles["Title"]),
            Paragraph(subtitle, styles["Normal"]),
            Spacer(1, 6 * mm),
        ]
        sections += [
            (_("Kanaler"), channels, 7,
             _bar_chart(channels, "followers_change", _("Tilvækst i følgere"),
                        name_key="network")),
            (_("Indholdskategorier"), categories, 6,
             _bar_chart(categories, "engagement", _("Interaktioner pr. kategori"))),
            (_("Formål"), purposes, 6, None),
            (_("Forvaltninger"), administrations, 6, None),
            (_("Kadence mod strategien"), cadence_table, None, None),
            (_("Hashtags"), hashtags, None, None),
            (_("Mest engagerende opslag"), top, None, None),
        ]
        for heading, table, columns, chart in sections:
            # A heading never stands alone at the foot of a page.
            part = [Paragraph(heading, styles["Heading2"])]
            if chart is not None:
                part.append(chart)
            if table.rows:
                part.append(_table(table, columns))
            else:
                part.append(Paragraph(_("Ingen data endnu i denne periode."),
                                      styles["Normal"]))
            story.append(KeepTogether(part))
            story.append(Spacer(1, 4 * mm))
        story.append(Paragraph(
            _("Tal fra netværkene, som Kanal har hentet dem; „ingen data“ betyder, "
              "at netværket ikke gav tallet, ikke at det var nul."),
            styles["Italic"]))
        out = io.BytesIO()
        document = SimpleDocTemplate(
            out, pagesize=A4, title=title,
            author="Kanal", leftMargin=15 * mm, rightMargin=15 * mm,
            topMargin=15 * mm, bottomMargin=15 * mm, pageCompression=int(compress),
        )
        document.build(story)
    return out.getvalue()


def cadence_label(cadence: str) -> str:
    """"Månedsrapport" / "Kvartalsrapport" in the active language."""
    from .models import ReportCadence

    try:
        return str(ReportCadence(cadence).label)
    except ValueError:
        return str(cadence)


def period_label(value: str) -> str:
    """A stored "cadence:YYYY-MM-DD" as "november 2026" / "4. kvartal 2026"
    in the active language."""
    cadence, _sep, start = str(value).partition(":")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        return str(value)
    if cadence == QUARTERLY:
        return quarter_name(quarter_period(first))
    return when(first, "month")
