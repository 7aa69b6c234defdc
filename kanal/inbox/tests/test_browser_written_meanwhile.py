"""Two colleagues answer the same citizen in two browsers: the second is
stopped with who answered and when, keeps what they wrote, sees the
colleague's answer marked, and sends theirs with "Send alligevel"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox.models import Answer
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_second_colleague_is_told_and_may_send_anyway(
    chromium, live_server, browser_login, member, organisation
):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, owner_administration=kff,
                             network="facebook")
    item = citizen_item(channel, "Hvornår åbner svømmehallen?", author="Ida Holm")
    signe = member(Role.EDITOR, administration=kff)
    signe.user.first_name, signe.user.last_name = "Signe", "Jensen"
    signe.user.save()
    other = member(Role.EDITOR, administration=kff)
    url = f"/indbakke/{item.conversation_id}/"
    pages = []
    for who in (signe, other):
        context, page = new_page(chromium, live_server)
        browser_login(page, who)
        page.goto(url)
        page.locator("#reply-text").fill(
            "Kl. 10 i morgen." if who is signe else "Kl. 11 i morgen.")
        pages.append((context, page))
    (first_context, first), (second_context, second) = pages
    first.get_by_role("button", name="Send svar").click()
    expect(first.get_by_text("Svaret sendes nu.")).to_be_visible()

    second.get_by_role("button", name="Send svar").click()
    expect(second.get_by_text("Signe Jensen svarede kl.")).to_contain_text(
        "mens du skrev. Dit svar er ikke sendt.")
    expect(second.locator("#reply-text")).to_have_value("Kl. 11 i morgen.")
    expect(second.locator(".inbox-meanwhile")).to_contain_text("Kl. 10 i morgen.")
    anyway = second.get_by_label("Send alligevel")
    expect(anyway).not_to_be_checked()
    no_axe_violations(second)
    second.screenshot(path="/tmp/inbox-written-meanwhile.png", full_page=True)
    assert Answer.objects.count() == 1

    anyway.check()
    second.get_by_role("button", name="Send svar").click()
    expect(second.get_by_text("Svaret sendes nu.")).to_be_visible()
    assert Answer.objects.count() == 2
    first_context.close()
    second_context.close()
