"""An administrator setting up assignment rules with a screen reader: each
rule's delete button says which rule it deletes (its channel, keyword and
administration), as the inbox's other buttons name what they act on (the
sibling of W3-4). They were "Slet regel 1", "Slet regel 2"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox.models import AssignmentRule
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .test_browser import new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_rules_delete_button_names_the_rule(
        chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    buf = AdministrationFactory(organisation=organisation, code="BUF")
    channel = ChannelFactory(organisation=organisation, network="facebook",
                             display_name="Københavns Kommune",
                             owner_administration=kff)
    AssignmentRule.objects.create(organisation=organisation, channel=channel,
                                  keyword="skole", administration=buf)
    AssignmentRule.objects.create(organisation=organisation, keyword="vej",
                                  administration=kff, position=1)
    context, page = new_page(chromium, live_server)
    try:
        browser_login(page, member(Role.ADMIN, administration=kff))
        page.goto("/indbakke/indstillinger/")
        for name in ("Slet regel: Facebook: Københavns Kommune, skole, BUF",
                     "Slet regel: Alle kanaler, vej, KFF"):
            expect(page.get_by_role("button", name=name, exact=True)
                   ).to_have_count(1)
    finally:
        context.close()
