"""The calendar (month, week) and the list of posts."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from kanal.core import safety
from kanal.core.decorators import membership_required

from .. import selectors
from ..policies import (
    post_policy,
)
from .common import _calendar_context

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
