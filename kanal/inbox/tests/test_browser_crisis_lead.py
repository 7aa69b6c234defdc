"""The crisis lead reads the inbox in a browser (W3-1): the menu leads there,
the crisis-priority filter is used with the keyboard, a conversation opens,
and nothing on the pages is a dead end: every link opens, and no button
offers a write the role is refused."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import actions
from kanal.inbox.models import Note
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory
from kanal.publishing.models import Crisis

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_dead_ends(page):
    """Every link in the page's main part opens (no 403 or 404), and every
    button there either works on the page itself or is outside the inbox's
    writes."""
    main = page.locator("main")
    hrefs = main.locator("a[href]").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    for href in hrefs:
        if href.startswith(("http", "#", "mailto:")):
            continue
        url = urljoin(page.url, href)
        answer = page.request.get(url)
        assert answer.status < 400, (href, answer.status)
    posting = main.locator("form[method='post'] button, form[method='post'] "
                           "input[type='submit']")
    assert posting.count() == 0, posting.evaluate_all(
        "buttons => buttons.map(b => b.outerHTML)")


def test_the_crisis_lead_reads_the_inbox_without_dead_buttons(
        chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    buf = AdministrationFactory(organisation=organisation, code="BUF")
    okf = AdministrationFactory(organisation=organisation, code="ØKF")
    channel = ChannelFactory(organisation=organisation, network="facebook",
                             owner_administration=kff)
    editor = member(Role.EDITOR, administration=kff)
    citizen_item(channel, "Hvornår åbner biblioteket?", author="Ida")
    Crisis.objects.create(organisation=organisation, reason="Skybrud")
    flooded = citizen_item(channel, "Vandet stiger i kælderen på Nørrebro",
                           author="Karl")
    actions.assign_conversation(flooded.conversation, actor=editor,
                                administration=buf)
    Note.objects.create(conversation=flooded.conversation, author=editor,
                        text="BUF ringer tilbage.")
    context, page = new_page(chromium, live_server)
    try:
        browser_login(page, member(Role.CRISIS_LEAD, administration=okf))
        page.get_by_role("link", name="Indbakke", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Indbakke")
        expect(page.locator("#inbox-rows tr[id^='conversation-']")).to_have_count(2)
        _no_dead_ends(page)
        no_axe_violations(page)
        page.screenshot(path="/tmp/w3-crisis-list.png", full_page=True)

        # The crisis-priority filter, by keyboard.
        page.get_by_label("Kun krise-prioritet").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Vis", exact=True).focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**priority=on**")
        expect(page.locator("#inbox-rows tr[id^='conversation-']")).to_have_count(1)

        page.locator("#inbox-rows a").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Samtale")
        expect(page.get_by_text("Vandet stiger i kælderen")).to_be_visible()
        expect(page.get_by_text("BUF ringer tilbage.")).to_be_visible()
        expect(page.locator("#read-only")).to_be_visible()
        _no_dead_ends(page)
        no_axe_violations(page)
        page.screenshot(path="/tmp/w3-crisis-detail.png", full_page=True)

        # The help lists only the shortcuts that do something here.
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator("kbd", has_text="j")).to_have_count(1)
        expect(dialog.locator("kbd").filter(has_text="a")).to_have_count(0)
        expect(dialog.locator("kbd").filter(has_text="r")).to_have_count(0)
        expect(dialog.locator("kbd").filter(has_text="n")).to_have_count(0)
    finally:
        context.close()
