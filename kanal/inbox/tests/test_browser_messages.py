"""Answering a citizen's direct message in a real browser: a citizen writes
to the page on Messenger, an editor answers from the conversation with a
standard answer, the thread shows it sent, and the sandbox's Messenger has
exactly one private answer and no public comment."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.inbox import actions, polling
from kanal.organisations.roles import Role
from kanal.publishing.tests.conftest import sandbox_channel

from .test_browser import new_page, no_axe_violations, worker_round

pytestmark = [pytest.mark.browser, pytest.mark.sandbox,
              pytest.mark.django_db(transaction=True)]


def citizen_wrote(sandbox, organisation, network, text, *, author_id, name):
    """A sandbox channel on ``network`` with a citizen's message polled in."""
    channel = sandbox_channel(sandbox, organisation, network)
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": network, "kind": "message", "account": channel.remote_id,
        "text": text, "author_id": author_id, "author_name": name})
    polling.poll_channel(channel)
    return channel


def sent_on(sandbox, channel, *kinds):
    """The texts the account sent on the sandbox, of ``kinds``."""
    return [p["text"] for p in sandbox.published(channel.network, channel.remote_id)
            if p["kind"] in kinds]


def send_and_see_it_sent(page):
    """Submit the reply form, let the worker send it, see it marked sent."""
    page.get_by_role("button", name="Send svar").click()
    expect(page.get_by_text("Svaret sendes nu.")).to_be_visible()
    no_axe_violations(page)
    worker_round()
    worker_round()
    page.reload()
    expect(page.locator(".kind-answer")).to_contain_text("Sendt")


def test_an_editor_answers_a_messenger_message_privately_once(
    chromium, live_server, browser_login, member, organisation, sandbox,
):
    channel = citizen_wrote(sandbox, organisation, "facebook",
                            "Hvordan får jeg et nyt sundhedskort?",
                            author_id="psid-amina", name="Amina Khan")
    editor = member(Role.EDITOR)
    actions.save_standard_answer(
        actor=editor, title="Sundhedskort",
        text="Hej {fornavn}. Bestil et nyt på borger.dk.")

    context, page = new_page(chromium, live_server)
    browser_login(page, editor)
    page.goto("/indbakke/")
    page.get_by_role("link", name="Amina Khan").click()
    expect(page.locator("#private-answer")).to_be_visible()
    page.get_by_label("Standardsvar").select_option(label="Sundhedskort")
    send_and_see_it_sent(page)
    expect(page.locator(".kind-answer")).to_contain_text(
        "Hej Amina. Bestil et nyt på borger.dk.")
    assert sent_on(sandbox, channel, "message") == [
        "Hej Amina. Bestil et nyt på borger.dk."]
    assert sent_on(sandbox, channel, "reply", "comment") == []
    page.screenshot(path="/tmp/inbox-message-answer.png", full_page=True)
    context.close()


def test_an_editor_answers_an_instagram_message_privately_once(
    chromium, live_server, browser_login, member, organisation, sandbox,
):
    """A citizen writes to the Instagram account; the editor first writes
    an answer over Instagram's 1,000 bytes (told so on the page, nothing
    sent), then a short one, which reaches the citizen exactly once."""
    channel = citizen_wrote(sandbox, organisation, "instagram",
                            "Må man bade i havnen i dag?",
                            author_id="igsid-jonas", name="Jonas Berg")
    editor = member(Role.EDITOR)

    context, page = new_page(chromium, live_server)
    browser_login(page, editor)
    page.goto("/indbakke/")
    page.get_by_role("link", name="jonas.berg").click()
    expect(page.locator("#private-answer")).to_be_visible()
    # The counter counts as Instagram does, while the editor writes.
    counter = page.locator("#reply-count .answer-length")
    page.locator("#reply-text").fill("😀" * 250)
    expect(counter).to_contain_text("1.000 af 1.000 bytes")
    expect(counter).not_to_have_class("over answer-length")
    page.locator("#reply-text").fill("Ø" * 501)
    expect(counter).to_contain_text("1.002 af 1.000 bytes")
    expect(counter).to_contain_text("forkort svaret")
    page.get_by_role("button", name="Send svar").click()
    # Said at the field, and in the error summary that leads to it.
    expect(page.locator("#reply-text_error")).to_contain_text(
        "for langt til Instagram")
    expect(page.locator("#error-summary")).to_be_focused()
    page.locator("#reply-text").fill(
        "Ja, badevandet er rent i dag. Se kk.dk/badevand.")
    send_and_see_it_sent(page)
    assert sent_on(sandbox, channel, "message") == [
        "Ja, badevandet er rent i dag. Se kk.dk/badevand."]
    assert sent_on(sandbox, channel, "reply", "comment") == []
    context.close()
