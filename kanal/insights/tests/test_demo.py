"""The demo's past year: plausible history on every dashboard, loaded once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.insights.models import AccountSample, DailyRollup, HashtagDay
from kanal.insights.selectors import Period, breakdown, cadence, channel_overview

pytestmark = pytest.mark.django_db


def test_the_demo_loads_a_plausible_past_year_once(settings, client):
    settings.KANAL_SANDBOX_URL = "http://127.0.0.1:9"  # no sandbox: plan only
    from kanal.demo import load_demo

    organisation = load_demo()
    today = timezone.localdate()
    year = Period(today - timedelta(days=365), today - timedelta(days=8))
    rows = DailyRollup.objects.count()
    assert rows > 2000
    overview = {r["network"]: r for r in channel_overview(organisation.pk, year).rows}
    facebook = overview["Facebook"]
    # The strategy's 43,000 followers at the end, after a year's growth.
    assert 42_000 < facebook["followers"] <= 43_200
    assert 3_000 < facebook["followers_change"] < 6_000
    # About 2–4 posts a day on Facebook.
    assert 2 * 358 < facebook["posts"] < 4 * 358
    assert 1 < facebook["rate"] < 7
    for dimension in ("category", "purpose", "administration", "campaign"):
        assert breakdown(organisation.pk, dimension, year).rows, dimension
    assert cadence(organisation.pk, year).rows
    uses = sum(HashtagDay.objects.values_list("uses", flat=True))
    assert 30_000 < uses < 50_000
    # Loading again changes nothing.
    samples = AccountSample.objects.count()
    load_demo()
    assert (DailyRollup.objects.count(), AccountSample.objects.count()) == (
        rows, samples)
    client.login(username="analytiker", password="kanal-demo")
    page = client.get(reverse("insights:overview"), {
        "fra": year.start.isoformat(), "til": year.end.isoformat()})
    assert page.status_code == 200
    assert "Københavns Kommune" in page.content.decode()
