"""The monthly report for the committee, as a PDF in Danish.

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
from .selectors import Period, Table
from .templatetags.insights_tags import display


def month_period(month: date) -> Period:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


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


def _bar_chart(table: Table, value: str, title: str, name_key: str = "label"):
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
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: display(int(v), "number")
    chart.bars[0].fillColor = colors.HexColor("#1f5f8b")
    drawing.add(chart)
    return drawing


def monthly_report(organisation, month: date, *, compress: bool = True) -> bytes:
    """The month's report as PDF bytes (always in Danish)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    period = month_period(month)
    with translation.override("da"):
        styles = getSampleStyleSheet()
        org = organisation.pk
        channels = selectors.channel_overview(org, period)
        categories = selectors.breakdown(org, "category", period)
        purposes = selectors.breakdown(org, "purpose", period)
        administrations = selectors.breakdown(org, "administration", period)
        cadence = selectors.cadence(org, period)
        hashtags = selectors.hashtag_tables(org, period)[0]
        top = selectors.top_posts(org, period)
        story = [
            Paragraph(_("Sociale medier: månedsrapport"), styles["Title"]),
            Paragraph(
                _("%(org)s · %(month)s (sammenlignet med måneden før)") % {
                    "org": organisation.name, "month": when(period.start, "month")},
                styles["Normal"]),
            Spacer(1, 6 * mm),
        ]
        sections = [
            (_("Kanaler"), channels, 7,
             _bar_chart(channels, "followers_change", _("Tilvækst i følgere"),
                        name_key="network")),
            (_("Indholdskategorier"), categories, 6,
             _bar_chart(categories, "engagement", _("Interaktioner pr. kategori"))),
            (_("Formål"), purposes, 6, None),
            (_("Forvaltninger"), administrations, 6, None),
            (_("Kadence mod strategien"), cadence, None, None),
            (_("Hashtags"), hashtags, None, None),
            (_("Mest engagerende opslag"), top, None, None),
        ]
        for title, table, columns, chart in sections:
            story.append(Paragraph(title, styles["Heading2"]))
            if chart is not None:
                story.append(chart)
            if table.rows:
                story.append(_table(table, columns))
            else:
                story.append(Paragraph(_("Ingen data endnu i denne periode."),
                                       styles["Normal"]))
            story.append(Spacer(1, 4 * mm))
        story.append(Paragraph(
            _("Tal fra netværkene, som Kanal har hentet dem; „ingen data“ betyder, "
              "at netværket ikke gav tallet, ikke at det var nul."),
            styles["Italic"]))
        out = io.BytesIO()
        document = SimpleDocTemplate(
            out, pagesize=A4, title=_("Sociale medier: månedsrapport"),
            author="Kanal", leftMargin=15 * mm, rightMargin=15 * mm,
            topMargin=15 * mm, bottomMargin=15 * mm, pageCompression=int(compress),
        )
        document.build(story)
    return out.getvalue()
