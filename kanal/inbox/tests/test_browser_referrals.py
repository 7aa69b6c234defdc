"""Referral templates in a real browser: an editor keeps one, refers a
citizen with it from the reply form, the conversation is "Henvist" once the
referral went out, and it appears once on the sandbox's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.inbox import polling
from kanal.inbox.models import InboxItem
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory
from kanal.publishing.tests.conftest import sandbox_channel

from .test_browser import new_page, no_axe_violations, worker_round

pytestmark = [pytest.mark.browser, pytest.mark.sandbox,
              pytest.mark.django_db(transaction=True)]


def test_an_editor_keeps_a_referral_and_refers_a_citizen_with_it(
    chromium, live_server, browser_login, member, organisation, sandbox,
):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    kff = AdministrationFactory(organisation=organisation, code="KFF")
    AdministrationFactory(organisation=organisation, code="SOF",
                          name="Socialforvaltningen")
    channel = sandbox_channel(sandbox, organisation, "facebook",
                              owner_administration=kff)
    post = adapter_for(channel).publish(OutgoingPost(text="Nyt om boligstøtte"),
                                        idempotency_key="post-r")
    sandbox.citizen("facebook", "Kan I se min sag om boligstøtte?",
                    parent_id=post.remote_id, author_name="Amina Khan")
    polling.poll_channel(channel)
    editor = member(Role.EDITOR, administration=kff)

    context, page = new_page(chromium, live_server)
    browser_login(page, editor)
    page.goto("/indbakke/")
    page.get_by_role("link", name="Henvisninger").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Henvisninger")
    page.get_by_label("Titel").fill("Sagsbehandling")
    page.get_by_label("Henvis til forvaltning").select_option(
        label="SOF – Socialforvaltningen")
    page.get_by_label("Tekst").fill(
        "Hej {fornavn}. Din sag kan {forvaltningsnavn} svare på via kk.dk/kontakt.")
    page.get_by_role("button", name="Gem henvisning").click()
    expect(page.get_by_text("Henvisningen er gemt.")).to_be_visible()
    no_axe_violations(page)

    page.goto("/indbakke/")
    page.get_by_role("link", name="Amina Khan").click()
    page.get_by_label("Henvis borgeren").select_option(label="Sagsbehandling")
    page.get_by_role("button", name="Send svar").click()
    expect(page.get_by_text("Samtalen bliver ”Henvist”, når den er ude.")
           ).to_be_visible()
    # Henvist once it went out, not while it waits (finding 10).
    expect(page.locator("p .pill").first).to_have_text("Ny")
    no_axe_violations(page)
    worker_round()
    worker_round()
    page.reload()
    expect(page.locator(".kind-answer")).to_contain_text("Sendt")
    expect(page.locator("p .pill").first).to_have_text("Henvist")
    comment = InboxItem.objects.get(author_name="Amina Khan")
    answers = [i["text"] for i in sandbox.items("facebook")
               if i.get("parent_id") == comment.remote_id]
    assert answers == ["Hej Amina. Din sag kan Socialforvaltningen svare på via "
                       "kk.dk/kontakt."]
    page.screenshot(path="/tmp/inbox-referral.png", full_page=True)
    context.close()
