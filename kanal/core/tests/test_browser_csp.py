"""The app works for a person under the Content-Security-Policy: no page
trips it, htmx runs, and the behaviours that were inline handlers work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""

PAGES = [
    "/",
    "/kanaler/",
    "/plan/",
    "/plan/uge/",
    "/plan/liste/",
    "/plan/opslag/nyt/",
    "/plan/forslag/",
    "/plan/medier/",
    "/notifikationer/",
    "/plan/kalenderabonnement/",
    "/plan/rapport/",
    "/udgivelser/",
    "/udgivelser/krise/",
    "/medlemmer/",
    "/organisation/",
    "/revisionsspor/",
    "/konto/to-faktor/",
]


@pytest.fixture
def watched_page(browser_page):
    page = browser_page
    page.add_init_script(WATCH_VIOLATIONS)
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if m.type in {"error", "warning"} else None,
    )
    page.console_errors = console
    return page


def _violations(page) -> list[str]:
    reported = page.evaluate("window.__csp || []")
    logged = [t for t in page.console_errors if "Content Security Policy" in t]
    return reported + logged


def test_no_page_trips_the_content_security_policy(watched_page, browser_login, member):
    admin = member(Role.ADMIN)
    ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )
    page = browser_login(watched_page, admin)
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert _violations(page) == [], path
    # The QR code (a data: image) shows on the two-factor page.
    page.goto("/konto/to-faktor/")
    assert page.locator("img[alt^='QR']").evaluate("i => i.naturalWidth") > 0


def test_htmx_runs_under_the_policy_without_its_inline_style(
    watched_page, browser_login, member
):
    admin = member(Role.ADMIN)
    ChannelFactory(
        organisation=admin.organisation,
        owner_administration=admin.administration,
        display_name="Kulturkanalen",
    )
    page = browser_login(watched_page, admin)
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.locator("head style").count() == 0
    # An htmx request, with the CSRF header from hx-headers, swaps content.
    page.evaluate("htmx.ajax('GET', '/kanaler/', {target: '#main', swap: 'innerHTML'})")
    page.locator("#main").get_by_text("Kulturkanalen").first.wait_for()
    assert _violations(page) == []


def test_language_switch_and_ical_address_work_without_inline_handlers(
    watched_page, browser_login, member
):
    editor = member(Role.EDITOR)
    page = browser_login(watched_page, editor)
    page.goto("/plan/kalenderabonnement/")
    page.get_by_role("button", name="Lav en hemmelig adresse").click()
    field = page.locator("#ical-url")
    field.click()
    value = field.input_value()
    assert value.endswith(".ics")
    selected = field.evaluate("f => [f.selectionStart, f.selectionEnd]")
    assert selected == [0, len(value)]
    page.get_by_label("Sprog").select_option("en")
    page.get_by_role("button", name="Skift").click()
    # A locator assertion, not wait_for_function: its string predicate is
    # evaluated with eval(), which the policy under test refuses.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert _violations(page) == []


def test_replacing_the_authenticator_and_an_admin_reset_in_the_browser(
    watched_page, browser_login, member
):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kanal.core.tests.test_browser_foundation import _shot

    def code(device, drift=0):
        # drift=1: the next 30-second code (the current one was used to log
        # in, and a code is accepted once); within the device's tolerance.
        value = totp(device.bin_key, step=device.step, t0=device.t0, drift=drift)
        return f"{value:06d}"

    admin = member(Role.ADMIN)
    editor = member(Role.EDITOR, administration=admin.administration)
    old = TOTPDevice.objects.create(user=admin.user, name="app", confirmed=True)
    page = watched_page
    page.goto("/konto/log-ind/")
    page.get_by_label("Brugernavn").fill(admin.user.username)
    page.get_by_label("Adgangskode").fill("kanal-test-password-1")
    page.get_by_role("button", name="Log ind").click()
    page.get_by_label("Engangskode").fill(code(old))
    page.get_by_role("button", name="Fortsæt").click()
    page.wait_for_url("**/")
    page.goto("/konto/to-faktor/")
    new = TOTPDevice.objects.get(user=admin.user, confirmed=False)
    _shot(page, "two-factor-replace")
    page.get_by_label("Kode fra din nuværende app").fill(code(old, drift=1))
    page.get_by_label("Kode fra den nye app").fill(code(new))
    page.get_by_role("button", name="Skift app").click()
    page.wait_for_url("**/")
    assert "Din nye godkendelses-app er i brug." in page.content(), page.content()
    assert list(TOTPDevice.objects.filter(user=admin.user)) == [new]

    TOTPDevice.objects.create(user=editor.user, name="app", confirmed=True)
    page.goto(f"/medlemmer/{editor.pk}/")
    _shot(page, "member-two-factor")
    page.get_by_role("button", name="Nulstil to-faktor-login").click()
    page.get_by_text("er nulstillet").wait_for()
    assert not TOTPDevice.objects.filter(user=editor.user).exists()
    assert _violations(page) == []
