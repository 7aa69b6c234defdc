"""A person's first steps in Kanal, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from kanal.channels.models import Channel
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_log_in_and_see_the_danish_dashboard(browser_page, browser_login, member):
    editor = member(Role.EDITOR)
    page = browser_login(browser_page, editor)
    assert page.locator("h1").inner_text().startswith("Goddag")
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.get_by_role("link", name="Kanaler").is_visible()
    _shot(page, "dashboard")


def test_wrong_password_shows_a_danish_message(browser_page, member):
    editor = member(Role.EDITOR)
    page = browser_page
    page.goto("/konto/log-ind/")
    page.get_by_label("Brugernavn").fill(editor.user.username)
    page.get_by_label("Adgangskode").fill("forkert-kode")
    page.get_by_role("button", name="Log ind").click()
    errors = page.locator("#form-errors")
    assert errors.get_by_text("Brugernavn eller adgangskode er forkert").is_visible()
    # Listed in the error summary, which has focus, and the fields are marked.
    summary = page.locator("#error-summary")
    assert summary.get_by_role("link", name="Brugernavn eller adgangskode").is_visible()
    page.wait_for_function("document.activeElement.id === 'error-summary'")
    assert page.get_by_label("Adgangskode").get_attribute("aria-invalid") == "true"
    _shot(page, "login-error")


def test_admin_creates_a_channel_with_a_strategy_by_keyboard_and_mouse(
    browser_page, browser_login, member
):
    admin = member(Role.ADMIN)
    page = browser_login(browser_page, admin)
    page.get_by_role("link", name="Kanaler").click()
    page.get_by_role("link", name="Tilføj kanal").click()
    page.get_by_role("combobox", name="Netværk").select_option("bluesky")
    page.get_by_label("Visningsnavn").fill("Kultur i København")
    page.get_by_label("Brugernavn hos netværket").fill("kultur.kk.dk")
    page.get_by_label("Ejer (forvaltning)").select_option(str(admin.administration.pk))
    page.get_by_label("API-adresse").fill("http://127.0.0.1:8765/bluesky")
    page.get_by_label("Branding").check()
    page.get_by_label("Dialog").check()
    page.get_by_label("Indholdskategorier").fill("Biblioteker\nKulturhuse")
    page.get_by_label("Mindst antal opslag").fill("1")
    page.get_by_label("Højst antal opslag").fill("2")
    page.get_by_label("Faste hashtags").fill("#voreskbh")
    page.get_by_label("Faste hashtags").press("Enter")  # submits by keyboard
    page.wait_for_url("**/kanaler/*/")
    assert page.locator("main").get_by_text("Kanalen er oprettet").is_visible()
    assert page.get_by_text("1–2 om dagen").is_visible()
    _shot(page, "channel-detail")
    channel = Channel.objects.get(display_name="Kultur i København")
    assert channel.strategy.purposes == ["branding", "dialogue"]
    assert channel.strategy.categories == ["Biblioteker", "Kulturhuse"]


def test_contributor_cannot_open_another_administrations_page(
    browser_page, browser_login, member
):
    contributor = member(Role.CONTRIBUTOR)
    stranger = MembershipFactory(
        organisation=contributor.organisation, role=Role.CONTRIBUTOR
    )
    page = browser_login(browser_page, contributor)
    assert page.get_by_role("link", name="Medlemmer").count() == 0
    response = page.goto(f"/medlemmer/{stranger.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Siden findes ikke").is_visible()
    response = page.goto("/revisionsspor/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Ingen adgang").is_visible()
    _shot(page, "forbidden")


def test_the_whole_dashboard_is_reachable_by_keyboard(
    browser_page, browser_login, member
):
    editor = member(Role.EDITOR)
    page = browser_login(browser_page, editor)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Spring til indhold" in focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


# Every word of each table cell on one line: the rects of a word that a
# column cut in two lie on two lines.
_SPLIT_WORDS = """() => {
  const split = [];
  for (const cell of document.querySelectorAll('main th, main td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // A citizen's own text may hold a 500-character "word": it wraps anywhere.
      if (node.parentElement.closest('.inbox-text')) continue;
      for (const match of node.textContent.matchAll(/\\p{L}+/gu)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(match[0]);
      }
    }
  }
  return split;
}"""


def test_tables_do_not_cut_words_they_scroll_in_their_frame(
    browser_page, browser_login, member, organisation
):
    """A narrow column once cut the inbox's headings into "Statu s" and
    "Tilde lt" at 1280 px, and insights' cells into "Instagra m". A data table
    keeps its words whole; at 320 px its frame scrolls, not the page."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox.tests.factories import citizen_item

    channel = ChannelFactory(organisation=organisation, network="facebook")
    citizen_item(channel, "Cykelstien på Frederikssundsvej er fuld af huller. "
                          "Hvornår bliver den lavet?")
    page = browser_login(browser_page, member(Role.EDITOR))
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        for url in ("/indbakke/", "/kanaler/"):
            page.goto(url)
            assert page.locator("main th").count() > 0, url
            assert page.evaluate(_SPLIT_WORDS) == [], (width, url)
            assert page.evaluate("document.scrollingElement.scrollWidth"
                                 " - document.scrollingElement.clientWidth") == 0
