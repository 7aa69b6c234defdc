"""The crisis lead, in a real browser and by keyboard, sends a message longer
than X allows: Kanal refuses it and shows every network's version with its
own count; the lead writes short versions, sends, and every network's
emulator holds its whole version (nothing cut short)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from kanal.organisations.roles import Role
from kanal.publishing.models import Publication, PublicationStatus
from kanal.publishing.worker import PublishingWorker

from .test_all_seven_networks import _channels
from .test_crisis_versions import LONG

pytestmark = [pytest.mark.browser, pytest.mark.sandbox,
              pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
S = PublicationStatus

SHORT_X = ("Stormflod i aften: op til 1,8 m over normalen i Inderhavnen, "
           "Christianshavn og Sydhavnen fra kl. 20. Flyt værdier fra kældre, "
           "hold dig fra kajkanten. Sandsække ved Nyhavn. Ring 112 ved livsfare.")
SHORT_BLUESKY = ("Stormflod fra kl. 20: op til 1,8 m over normalen i Inderhavnen, "
                 "Christianshavn og Sydhavnen. Hold dig fra kajkanten, flyt "
                 "værdier fra kældre. Sandsække ved Nyhavn og Islands Brygge. "
                 "Ring 112 ved livsfare.")


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"crisis-{name}.png"), full_page=True)


def _focused(page) -> str:
    return page.evaluate(
        "document.activeElement.id || document.activeElement.textContent.trim()"
    )


def test_a_message_longer_than_x_allows_is_refused_then_sent_whole_everywhere(
    browser_page, browser_login, member, organisation, sandbox
):
    lead = member(Role.CRISIS_LEAD)
    channels = _channels(sandbox, organisation, lead.administration)
    page = browser_login(browser_page, lead)

    # The coming Content-Security-Policy: scripts only from Kanal's own files.
    def strict_csp(route):
        response = route.fetch()
        headers = {**response.headers,
                   "content-security-policy": "script-src 'self'"}
        route.fulfill(response=response, headers=headers)

    page.route("**/udgivelser/krise/**", strict_csp)
    page.get_by_role("link", name="Krise").click()

    # From here on the keyboard only: type, tick, tab, press.
    composer = page.get_by_role("region", name="Send krisebesked")
    composer.get_by_role("textbox", name="Krisebesked").focus()
    page.keyboard.insert_text(LONG)
    x_block = composer.locator('[data-network="x"]')
    bluesky_block = composer.locator('[data-network="bluesky"]')
    # Live counts, counted by the networks' adapters on the server.
    expect(x_block.locator(".count")).to_contain_text("410 af 280")
    expect(x_block.locator(".count")).to_contain_text("130 for mange")
    expect(bluesky_block.locator(".count")).to_contain_text("410 af 300")
    expect(composer.locator('[data-network="facebook"] .count')).to_contain_text(
        "passer")
    expect(composer.locator('[data-network="instagram"]')).to_contain_text(
        "tager ikke opslag uden billede")
    expect(composer.locator("[data-versions-summary]")).to_contain_text(
        "For lang til: X (Twitter), Bluesky")
    _shot(page, "composer-over-limit")

    composer.get_by_label("Jeg bekræfter").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert _focused(page) == "Tjek versionerne"
    page.keyboard.press("Tab")
    assert _focused(page) == "Send krisebesked nu"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Refused (400): nothing sent, every version shown, everything kept.
    error = page.locator("#composer-error")
    expect(error).to_contain_text("Krisebeskeden er ikke sendt.")
    expect(error).to_contain_text("X (Twitter): 410 af højst 280 vægtede tegn")
    expect(error).to_contain_text("Bluesky: 410 af højst 300 grafemer")
    assert _focused(page) == "composer-error"
    assert not Publication.objects.exists()
    composer = page.get_by_role("region", name="Send krisebesked")
    assert composer.get_by_role("textbox", name="Krisebesked").input_value() == LONG
    assert composer.get_by_label("Jeg bekræfter").is_checked()
    for network in ("threads", "mastodon", "facebook", "linkedin"):
        expect(composer.locator(f'[data-network="{network}"] .count')).to_contain_text(
            "410 af")
    _shot(page, "refused")

    # Short versions for the two networks it does not fit.
    composer.get_by_label("Egen version til X (Twitter)").focus()
    page.keyboard.type(SHORT_X)
    composer.get_by_label("Egen version til Bluesky").focus()
    page.keyboard.insert_text(SHORT_BLUESKY)
    expect(composer.locator('[data-network="x"] .count')).to_contain_text("passer")
    expect(composer.locator('[data-network="bluesky"] .count')).to_contain_text(
        "passer")
    expect(composer.locator("[data-versions-summary]")).to_contain_text(
        "Alle valgte versioner passer")
    _shot(page, "short-versions")
    composer.get_by_role("button", name="Send krisebesked nu").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Krisebeskeden sendes nu på 6 kanaler.")).to_be_visible()
    expect(page.get_by_text("Ikke sendt på Instagram")).to_have_count(0)

    PublishingWorker(concurrency=4, name="browser").run(once=True)
    expected = {"x": SHORT_X, "bluesky": SHORT_BLUESKY, "threads": LONG,
                "mastodon": LONG, "facebook": LONG, "linkedin": LONG}
    for network, text in expected.items():
        sent = [r["text"] for r in sandbox.published(network,
                                                     channels[network].remote_id)]
        assert sent == [text], (network, sent)
    assert sandbox.published("instagram", channels["instagram"].remote_id) == []
    assert set(Publication.objects.values_list("status", flat=True)) == {S.PUBLISHED}

    # The same page in English, still under the strict policy.
    page.goto("/udgivelser/krise/")
    page.locator("#language").select_option("en")
    with page.expect_navigation():
        page.get_by_role("button", name="Skift").click()
    expect(page.get_by_role("heading", name="How the message looks on each network")
           ).to_be_visible()
    composer = page.get_by_role("region", name="Send crisis message")
    composer.get_by_role("textbox", name="Crisis message").focus()
    page.keyboard.insert_text(LONG)
    expect(composer.locator('[data-network="x"] .count')).to_contain_text(
        "410 of 280 weighted characters")
    expect(composer.locator("[data-versions-summary]")).to_contain_text(
        "Too long for: X (Twitter), Bluesky")
    _shot(page, "composer-english")


def test_a_message_typed_before_the_script_arrives_is_counted(
    browser_page, browser_login, member, organisation, sandbox
):
    """On a slow connection the lead types before crisis.js has loaded; the
    counts catch up when it arrives instead of saying the message fits."""
    lead = member(Role.CRISIS_LEAD)
    _channels(sandbox, organisation, lead.administration)
    page = browser_login(browser_page, lead)
    held = []
    page.route("**/publishing/crisis.js", lambda route: held.append(route))
    page.get_by_role("link", name="Krise").click()
    composer = page.get_by_role("region", name="Send krisebesked")
    composer.get_by_role("textbox", name="Krisebesked").fill(LONG)
    assert held, "the script was not requested"
    held[0].continue_()
    expect(composer.locator('[data-network="x"] .count')).to_contain_text("410 af 280")

