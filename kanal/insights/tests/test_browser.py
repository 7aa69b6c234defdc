"""The dashboards in Chromium: a chart drawn beside its table under the
Content-Security-Policy, and a long export with its progress and download."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.insights import actions, tasks
from kanal.insights.models import ExportJob
from kanal.organisations.roles import Role

from .factories import metric, published_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(script, channel):
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    for days in range(20, -1, -1):
        moment = now - timedelta(days=days)
        post = published_post(channel, published_at=moment - timedelta(hours=1),
                              category="Kultur" if days % 2 else "Borgerservice",
                              purposes=["branding"])
        script.posts = {post.remote_id: [
            metric("post_media_view", 1000 + 37 * days, "views"),
            metric("post_total_media_view_unique", 800 + 20 * days, "reach"),
            metric("post_reactions_like_total", 40 + days, "likes"),
        ]}
        script.account = [metric("followers_count", 43000 + 15 * (20 - days),
                                 "followers")]
        tasks.collect_metrics(now=moment)
    tasks.update_rollups(now=now)
    return now


def _watch_csp(page):
    problems = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_the_overview_draws_its_charts_beside_their_tables(
    history, member, browser_page, browser_login
):
    from playwright.sync_api import expect

    analyst = member(Role.ANALYST)
    page = browser_page
    problems = _watch_csp(page)
    browser_login(page, analyst)
    page.get_by_role("link", name="Indsigt").first.click()
    expect(page.get_by_role("heading", name="Indsigt: overblik")).to_be_visible()
    expect(page.locator("canvas#followers-chart")).to_have_attribute(
        "data-drawn", "1")
    expect(page.locator("canvas#channels-chart")).to_have_attribute(
        "data-drawn", "1")
    followers = page.locator("table[data-table='followers']")
    expect(followers).to_contain_text("43.300")
    expect(page.locator("table[data-table='channels']")).to_contain_text("300")
    page.screenshot(path="/tmp/insights-overview.png", full_page=True)
    page.get_by_role("link", name="Indholdskategori").click()
    expect(page.locator("canvas#breakdown-chart")).to_have_attribute(
        "data-drawn", "1")
    expect(page.locator("table[data-table='category']")).to_contain_text("Kultur")
    page.screenshot(path="/tmp/insights-category.png", full_page=True)
    # The period picker and its comparison.
    page.get_by_label("Fra").fill((history - timedelta(days=6)).date().isoformat())
    page.get_by_label("Til").fill(history.date().isoformat())
    page.get_by_role("button", name="Vis").click()
    expect(page.locator("p.period")).to_contain_text("sammenlignet med")
    assert not [p for p in problems if "Content Security Policy" in p or
                "Error" in p], problems


def test_a_long_export_shows_progress_and_is_downloaded_when_ready(
    history, member, browser_page, browser_login, settings, monkeypatch
):
    from playwright.sync_api import expect

    settings.KANAL_INSIGHTS = {"EXPORT_INLINE_MAX_ROWS": 0}
    queued = []

    class Queue:
        @staticmethod
        def enqueue(job_id):
            queued.append(job_id)

    # The worker is played by this test: the job waits until it is run.
    monkeypatch.setattr(tasks, "run_export", Queue)
    editor = member(Role.EDITOR)
    page = browser_page
    browser_login(page, editor)
    page.goto("/indsigt/fordeling/category/")
    page.get_by_role("button", name="Hent „Indholdskategori“ som XLSX").click()
    expect(page.get_by_role("heading", name="Eksport")).to_be_visible()
    progress = page.locator("#export-progress")
    expect(progress).to_contain_text("I kø")
    job = ExportJob.objects.get()
    assert queued == [job.pk]
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=40)
    expect(progress).to_contain_text("40 %")
    page.screenshot(path="/tmp/insights-export-progress.png")
    ExportJob.objects.filter(pk=job.pk).update(status="queued")
    actions.make_export(job.pk)
    link = page.get_by_role("link", name="Hent filen (XLSX)")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    with open(path, "rb") as handle:
        assert handle.read(2) == b"PK"
    page.screenshot(path="/tmp/insights-export-done.png")
