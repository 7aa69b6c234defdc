"""A conversation with several citizens' comments, read with a screen
reader's list of buttons: each like, hide and delete button says whose
comment it acts on (W3-4). Each was named only "Synes godt om", "Skjul på
netværket", "Slet på netværket", the same for every comment."""

from __future__ import annotations

import re

import pytest

from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def button_names(page) -> list[str]:
    tree = page.locator("ol.inbox-items").first.aria_snapshot()
    return [found.group(1) for line in tree.splitlines()
            if (found := re.match(r"""\s*- '?button "(.*)"'?:?$""", line))]


def test_each_items_buttons_name_whose_comment_they_act_on(
        chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, network="facebook",
                             owner_administration=kff)
    first = citizen_item(channel, "Hvornår åbner svømmehallen?", author="Ida Holm",
                         remote_id="c1")
    citizen_item(channel, "Det vil jeg også gerne vide", author="Karl Bak",
                 remote_id="c2", parent="c1")
    context, page = new_page(chromium, live_server)
    try:
        browser_login(page, member(Role.EDITOR, administration=kff))
        page.goto(f"/indbakke/{first.conversation_id}/")
        names = button_names(page)
        for action in ("Synes godt om", "Skjul på netværket", "Slet på netværket"):
            acting = [n for n in names if n.startswith(action + " · ")]
            assert len(acting) == 2, names
            assert acting[0].startswith(f"{action} · Ida Holm, "), acting
            assert acting[1].startswith(f"{action} · Karl Bak, "), acting
        assert len(set(names)) == len(names), names
        no_axe_violations(page)
    finally:
        context.close()
