"""In the browser: the desk sees the library's next event as suggestions on
the suggestions calendar and accepts one, which becomes a draft in the
normal workflow. The pages pass axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from kanal.core.tests import a11y
from kanal.planning.models import Post, PostStatus
from kanal.sources import actions
from kanal.sources.models import Suggestion, SuggestionStatus

from .feeds import days_ahead, ics, ics_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(chromium, live_server):
    """A Danish page whose context lets axe's script in (the pages' CSP
    forbids inline scripts, as it should)."""
    context = chromium.new_context(
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_accept_a_suggestion_in_the_browser(
    desk, make_source, feed_server, browser_page, browser_login
):
    start = days_ahead(6, 19, 0)
    feed_server.serve(
        "/bibliotek.ics",
        ics(
            ics_event(
                "forfatteraften@bib",
                start,
                "Forfatteraften med Tove Ditlevsen-læsning",
                end=start + timedelta(hours=2),
                description="<p>Billetter 50 kr.</p>",
            )
        ),
    )
    source = make_source(feed_server.url("/bibliotek.ics"))
    actions.refresh_source(source, actor=None)
    page = browser_login(browser_page, desk.editor)

    page.goto("/kilder/")
    suggestions = page.locator("li.suggestion")
    expect(suggestions).to_have_count(3)
    facebook = suggestions.filter(has_text="(facebook)")
    expect(facebook).to_contain_text("Forfatteraften med Tove Ditlevsen-læsning")
    expect(facebook).to_contain_text("Billetter 50 kr.")
    violations = a11y.run_axe(page)
    assert not violations, a11y.describe_violations(violations)
    page.screenshot(path="/tmp/sources_suggestions.png", full_page=True)

    facebook.get_by_role("button", name="Tag i brug").click()

    expect(page.locator("h1")).to_contain_text("Forfatteraften")
    post = Post.objects.get()
    assert page.url.endswith(f"/plan/opslag/{post.pk}/")
    assert post.status == PostStatus.DRAFT
    assert post.variants.get().channel == desk.channels["facebook"]
    accepted = Suggestion.objects.get(channel=desk.channels["facebook"])
    assert accepted.status == SuggestionStatus.ACCEPTED and accepted.post == post
    page.screenshot(path="/tmp/sources_draft.png", full_page=True)

    page.goto("/kilder/")
    expect(page.locator("li.suggestion")).to_have_count(2)


def test_source_pages_pass_axe(
    desk, make_source, feed_server, browser_page, browser_login
):
    source = make_source(feed_server.url("/mangler.ics"))
    actions.refresh_source(source, actor=None)
    page = browser_login(browser_page, desk.admin)
    for url in (
        "/kilder/alle/",
        f"/kilder/{source.pk}/",
        f"/kilder/{source.pk}/rediger/",
        "/kilder/ny/",
    ):
        page.goto(url)
        violations = a11y.run_axe(page)
        assert not violations, (url, a11y.describe_violations(violations))
    page.goto(f"/kilder/{source.pk}/")
    expect(page.get_by_role("alert").filter(has_text="404")).to_be_visible()
    page.screenshot(path="/tmp/sources_detail.png", full_page=True)


@pytest.mark.sandbox
def test_follow_a_partner_and_share_its_post_in_the_browser(
    desk, mastodon_channel, sandbox, browser_page, browser_login
):
    page = browser_login(browser_page, desk.admin)

    page.goto("/kilder/ny/")
    page.get_by_label("Navn").fill("Bibliotekernes opslag")
    page.get_by_label("Type").select_option("partner")
    page.get_by_label("Partnerens konto").fill("@bibliotek@kk.social")
    page.get_by_label("Læs partnerens opslag gennem kanalen").select_option(
        str(mastodon_channel.pk)
    )
    page.get_by_label("Nøgleord").fill("sprogcafé, lukket")
    page.get_by_label("Københavns Kommune (mastodon)").check()
    page.get_by_label("Københavns Kommune (facebook)").check()
    violations = a11y.run_axe(page)
    assert not violations, a11y.describe_violations(violations)
    page.get_by_role("button", name="Opret kilde").click()
    expect(page.locator("h1")).to_have_text("Bibliotekernes opslag")
    expect(page.locator("dl.facts")).to_contain_text("bibliotek@kk.social")
    page.get_by_role("button", name="Hent nu").click()
    expect(page.locator(".messages")).to_contain_text("nye forslag")

    page.goto("/kilder/")
    boost = page.locator("li.suggestion").filter(has_text="(mastodon)").filter(
        has_text="sprogcafé"
    )
    expect(boost).to_contain_text("opslag af Københavns Biblioteker")
    expect(boost).to_contain_text("deles som det er")
    quote = page.locator("li.suggestion").filter(has_text="(facebook)").filter(
        has_text="sprogcafé"
    )
    expect(quote).to_contain_text("Københavns Biblioteker skriver:")
    violations = a11y.run_axe(page)
    assert not violations, a11y.describe_violations(violations)
    page.screenshot(path="/tmp/sources_partner_suggestions.png", full_page=True)

    boost.get_by_role("button", name="Del nu").click()

    expect(page.get_by_text("Partnerens opslag er delt")).to_be_visible()
    accepted = Suggestion.objects.get(
        channel=mastodon_channel, item__title__contains="sprogcafé"
    )
    assert accepted.status == SuggestionStatus.ACCEPTED
    reblogs = sandbox.items("mastodon", mastodon_channel.remote_id, kind="reblog")
    assert [r["parent_id"] for r in reblogs] == [accepted.item.remote_id]
    page.screenshot(path="/tmp/sources_partner_shared.png", full_page=True)

    page.goto("/kilder/tone/")
    violations = a11y.run_axe(page)
    assert not violations, a11y.describe_violations(violations)
    channel = "Mastodon: Københavns Kommune (mastodon)"
    page.get_by_label(f"Tone for {channel}").select_option("brief")
    page.get_by_role("button", name=f"Gem tonen for {channel}").click()
    expect(page.get_by_text("i den valgte tone")).to_be_visible()
