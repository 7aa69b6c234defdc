"""An answer the page wrote on the network itself (T7b-1) is on the
conversation's page, marked as written on the network, with its status
*Besvaret*; the page passes axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import intake
from kanal.inbox.models import ConversationStatus
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_editor_sees_the_answer_written_on_the_network(
    chromium, live_server, browser_login, member, organisation
):
    from kanal.channels.networks.base import InboxItem as NetworkItem

    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, owner_administration=kff,
                             network="facebook", remote_id="P1")
    item = citizen_item(channel, "Hvornår åbner svømmehallen?", author="Ida Holm",
                        kind="message", at=timezone.now() - timedelta(minutes=5))
    assert item.conversation.key == f"dm:{item.author_id}"
    echo = NetworkItem(remote_id="m_echo", kind="message", author_id="P1",
                       author_name="", text="Kl. 10 i morgen. Mvh. Svømmehallen",
                       created_at=timezone.now() - timedelta(minutes=1),
                       parent_remote_id=item.author_id)
    intake.ingest(channel, echo)
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.ANSWERED

    context, page = new_page(chromium, live_server)
    browser_login(page, member(Role.EDITOR, administration=kff))
    page.goto(f"/indbakke/{item.conversation_id}/")
    heading = page.get_by_role("heading", name="Svar skrevet på netværket")
    expect(heading).to_be_visible()
    answer = page.locator("[id^=network-answer-]")
    expect(answer).to_contain_text("Skrevet på netværket")
    expect(answer).to_contain_text("Kl. 10 i morgen. Mvh. Svømmehallen")
    no_axe_violations(page)
    page.screenshot(path="/tmp/inbox-network-answer.png", full_page=True)
    context.close()
