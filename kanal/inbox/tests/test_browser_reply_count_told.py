"""Writing an answer with a screen reader (W3-5): the counter under the
field was a live region, so the count was read out when the page opened and
again after every pause in typing. Now a screen reader is told only when
the answer becomes too long for the network and when it fits again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_counter_speaks_only_when_the_answer_is_too_long_or_fits_again(
        chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, network="x",
                             owner_administration=kff)
    item = citizen_item(channel, "Hvornår åbner svømmehallen?")
    context, page = new_page(chromium, live_server)
    try:
        browser_login(page, member(Role.EDITOR, administration=kff))
        page.goto(f"/indbakke/{item.conversation_id}/")
        counter = page.locator("#reply-count .answer-length")
        told = page.locator("#live-polite")
        expect(counter).to_have_attribute("data-count", "0")
        # Neither the counter nor anything around it is a live region.
        assert page.locator("#reply-count").evaluate(
            "e => e.closest('[aria-live], [role=status], [role=alert]') === null")
        page.keyboard.press("r")
        page.keyboard.type("Hej, svømmehallen åbner kl. 7.")
        expect(counter).to_have_attribute("data-count", "30")
        expect(told).to_have_text("")

        page.locator("#reply-text").fill("Hej " * 80)
        expect(counter).to_have_class("over answer-length")
        expect(told).to_contain_text("for langt: forkort svaret")

        page.locator("#reply-text").fill("Hej, den åbner kl. 7.")
        expect(counter).to_have_class("answer-length")
        expect(told).to_have_text("Svaret er ikke længere for langt.")
    finally:
        context.close()
