"""An editor keeping standard answers by keyboard: a text with a variable
Kanal cannot fill in is refused, the error summary leads to the text field
and the field says what is wrong (W3-3)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.organisations.roles import Role

from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_error_summary_leads_to_the_text_that_is_wrong(
        chromium, live_server, browser_login, member):
    context, page = new_page(chromium, live_server)
    try:
        browser_login(page, member(Role.EDITOR))
        page.goto("/indbakke/standardsvar/")
        page.get_by_label("Titel").fill("Pas")
        page.get_by_label("Tekst").fill("Hej {navn}. Bestil tid på kk.dk/pas.")
        page.get_by_role("button", name="Gem standardsvar").focus()
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        link = summary.get_by_role("link", name="{navn}")
        link.focus()
        page.keyboard.press("Enter")
        text = page.get_by_label("Tekst")
        expect(text).to_be_focused()
        expect(text).to_have_attribute("aria-invalid", "true")
        described = text.get_attribute("aria-describedby") or ""
        errors = " ".join(page.locator(f"#{i}").inner_text()
                          for i in described.split())
        assert "{navn}" in errors, described
        expect(text).to_have_value("Hej {navn}. Bestil tid på kk.dk/pas.")
        no_axe_violations(page)
        page.screenshot(path="/tmp/w3-kept-text-error.png", full_page=True)
    finally:
        context.close()
