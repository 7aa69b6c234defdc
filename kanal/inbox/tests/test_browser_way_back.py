"""An editor works through a filtered list: opens a conversation, handles it,
and goes back to the list as they left it (W3-2). The way back led to the
first page of the whole inbox, so on a busy day every conversation handled
meant choosing the filters and finding the page again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox.models import Conversation
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_way_back_from_a_conversation_keeps_the_lists_filters(
        chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, network="facebook",
                             owner_administration=kff)
    for text in ("Hvornår åbner svømmehallen?", "Svømmehallen er kold",
                 "Tak for koncerten"):
        citizen_item(channel, text)
    context, page = new_page(chromium, live_server)
    try:
        browser_login(page, member(Role.EDITOR, administration=kff))
        page.goto("/indbakke/")
        page.get_by_label("Søg").fill("svømmehallen")
        page.get_by_label("Søg").press("Enter")
        page.wait_for_url("**q=sv*")
        rows = page.locator("#inbox-rows tr[id^='conversation-']")
        expect(rows).to_have_count(2)

        page.locator("#inbox-rows a").first.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Samtale")
        # Handled: needs no answer (the shortcut), the page comes back.
        page.keyboard.press("n")
        expect(page.locator(".message.success")).to_be_visible()
        assert Conversation.objects.filter(status="no_reply").count() == 1

        page.get_by_role("link", name="← Indbakke").click()
        page.wait_for_load_state()
        assert "q=sv" in page.url, page.url
        expect(page.get_by_label("Søg")).to_have_value("svømmehallen")
        expect(rows).to_have_count(2)
    finally:
        context.close()
