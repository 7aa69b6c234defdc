"""An editor tidying the standard answers at a phone's width: "Slet" asks
first, "Fortryd" keeps the answer, and only the confirmation deletes it
(W3-6)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.inbox.models import StandardAnswer
from kanal.organisations.roles import Role

from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deleting_a_standard_answer_asks_first(chromium, live_server,
                                               browser_login, member, organisation):
    answer = StandardAnswer.objects.create(
        organisation=organisation, title="Pas",
        text="Hej {fornavn}. Bestil tid på kk.dk/pas.")
    context, page = new_page(chromium, live_server)
    try:
        page.set_viewport_size({"width": 320, "height": 700})
        browser_login(page, member(Role.EDITOR))
        page.goto("/indbakke/standardsvar/")
        page.get_by_role("link", name="Slet Pas").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Slet standardsvaret Pas")
        assert StandardAnswer.objects.filter(pk=answer.pk).exists()
        no_axe_violations(page)
        page.screenshot(path="/tmp/w3-delete-asks.png", full_page=True)
        page.get_by_role("link", name="Fortryd").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Standardsvar")
        assert StandardAnswer.objects.filter(pk=answer.pk).exists()

        page.get_by_role("link", name="Slet Pas").click()
        page.get_by_role("button", name="Slet Pas").click()
        expect(page.locator(".messages")).to_contain_text("Standardsvaret er slettet.")
        assert not StandardAnswer.objects.filter(pk=answer.pk).exists()
    finally:
        context.close()
