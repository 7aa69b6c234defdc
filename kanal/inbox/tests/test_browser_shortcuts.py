"""Keyboard shortcuts, keyboard only: the help dialog, next and previous
conversation, assign, reply and "no reply needed"; letters typed in a field
stay text, and a person can turn the shortcuts off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox.models import Answer, Conversation
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inbox_works_with_the_keyboard_alone(
    chromium, live_server, browser_login, member, organisation
):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    AdministrationFactory(organisation=organisation, code="BUF",
                          name="Børne- og Ungdomsforvaltningen")
    channel = ChannelFactory(organisation=organisation, network="facebook",
                             owner_administration=kff)
    now = timezone.now()
    older = citizen_item(channel, "Hvornår tømmes containeren?",
                         author="Anders And", at=now - timedelta(hours=2))
    newer = citizen_item(channel, "Er svømmehallen åben i julen?",
                         author="Birgitte Berg", at=now - timedelta(hours=1))
    editor = member(Role.EDITOR, administration=kff)
    context, page = new_page(chromium, live_server)
    browser_login(page, editor)
    keys = page.keyboard
    page.goto("/indbakke/")

    keys.press("?")
    dialog = page.get_by_role("dialog", name="Tastaturgenveje")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Luk")).to_be_focused()
    no_axe_violations(page)
    keys.press("Escape")
    expect(dialog).to_be_hidden()

    keys.press("j")
    expect(page.get_by_role("link", name="Birgitte Berg")).to_be_focused()
    keys.press("j")
    expect(page.get_by_role("link", name="Anders And")).to_be_focused()
    keys.press("k")
    expect(page.get_by_role("link", name="Birgitte Berg")).to_be_focused()
    keys.press("Enter")
    page.wait_for_url(f"**/indbakke/{newer.conversation_id}/")

    # a: assign. Choose BUF by typing its first letter, then Tab to the button.
    keys.press("a")
    expect(page.get_by_label("Forvaltning")).to_be_focused()
    keys.type("B")
    keys.press("Tab")
    keys.press("Tab")
    expect(page.get_by_role("button", name="Tildel", exact=True)).to_be_focused()
    keys.press("Enter")
    expect(page.get_by_text("Samtalen er tildelt BUF.")).to_be_visible()
    page.wait_for_load_state()  # the shortcuts listen once the script has run

    # r: reply. Letters typed in the field are text, not shortcuts.
    keys.press("r")
    reply = page.locator("#reply-text")
    expect(reply).to_be_focused()
    keys.type("Hej, jeg kan se at den er åben. Mvh Kanal")
    expect(reply).to_have_value("Hej, jeg kan se at den er åben. Mvh Kanal")
    assert page.url.endswith(f"/indbakke/{newer.conversation_id}/")
    keys.press("Tab")
    expect(page.get_by_role("button", name="Send svar")).to_be_focused()
    keys.press("Enter")
    expect(page.get_by_text("Svaret sendes nu.")).to_be_visible()
    page.wait_for_load_state()  # the shortcuts listen once the script has run
    assert Answer.objects.get().text == "Hej, jeg kan se at den er åben. Mvh Kanal"

    # j: the next conversation in the list's order; n: no reply needed.
    keys.press("j")
    page.wait_for_url(f"**/indbakke/{older.conversation_id}/")
    keys.press("n")
    expect(page.get_by_text("Status er nu: Kræver ikke svar.")).to_be_visible()
    page.wait_for_load_state()  # the shortcuts listen once the script has run
    assert Conversation.objects.get(pk=older.conversation_id).status == "no_reply"
    keys.press("j")  # the last one: said, not moved
    expect(page.locator("#inbox-shortcuts-live")).to_have_text(
        "Det er den sidste samtale i listen.")
    keys.press("k")
    page.wait_for_url(f"**/indbakke/{newer.conversation_id}/")

    # Turned off in the dialog: the letters do nothing, ? still opens help.
    keys.press("?")
    keys.press("Shift+Tab")
    expect(page.get_by_label("Slå genvejene fra i denne browser (undtagen ?)")
           ).to_be_focused()
    keys.press("Space")
    keys.press("Escape")
    keys.press("j")
    keys.press("n")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Samtale")
    assert page.url.endswith(f"/indbakke/{newer.conversation_id}/")
    assert Conversation.objects.get(pk=newer.conversation_id).status != "no_reply"
    page.screenshot(path="/tmp/inbox-shortcuts.png", full_page=True)
    context.close()
