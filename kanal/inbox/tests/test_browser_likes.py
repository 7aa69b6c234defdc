"""Liking a citizen's comment from the conversation page, keyboard only,
judged by the sandbox: the like is on the network once, the page says so in
words, and the button takes it back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kanal.inbox import polling
from kanal.inbox.models import InboxItem
from kanal.organisations.roles import Role
from kanal.publishing.tests.conftest import sandbox_channel

from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.sandbox,
              pytest.mark.django_db(transaction=True)]


def tab_to(page, button, limit: int = 60) -> None:
    """Press Tab until ``button`` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("the button cannot be reached with Tab")


def test_an_editor_likes_a_comment_with_the_keyboard_and_sees_it(
    chromium, live_server, browser_login, member, organisation, sandbox
):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "facebook",
                              display_name="Københavns Kommune")
    post = adapter_for(channel).publish(OutgoingPost(text="Kulturnatten er i gang"),
                                        idempotency_key="post-like")
    made = sandbox.citizen("facebook", "Tak for et fantastisk program!",
                           parent_id=post.remote_id, author_name="Sofie Holm")
    polling.poll_channel(channel)
    item = InboxItem.objects.get(remote_id=made["item_id"])
    editor = member(Role.EDITOR)

    context, page = new_page(chromium, live_server)
    browser_login(page, editor)
    page.goto(f"/indbakke/{item.conversation_id}/")
    like = page.get_by_role("button", name=re.compile(r"^Synes godt om · Sofie Holm"))
    tab_to(page, like)
    page.keyboard.press("Enter")

    expect(page.get_by_text("Kanalen synes nu godt om kommentaren på netværket.")
           ).to_be_visible()
    state = page.locator(f"#liked-{item.pk}")
    expect(state).to_contain_text("Kanalen synes godt om kommentaren på netværket")
    unlike = page.get_by_role("button", name="Fjern synes godt om")
    expect(unlike).to_be_visible()
    assert sandbox.item("facebook", item.remote_id)["data"]["liked_by"] == [
        channel.remote_id]
    no_axe_violations(page)

    page.wait_for_load_state()
    tab_to(page, unlike)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Synes godt om er fjernet fra kommentaren på "
                            "netværket.")).to_be_visible()
    expect(page.locator(f"#liked-{item.pk}")).to_have_count(0)
    assert sandbox.item("facebook", item.remote_id)["data"]["liked_by"] == []
    context.close()
