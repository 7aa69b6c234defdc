"""The inbox as a person uses it, where only a browser can tell: pills that
read as statuses, a filter checkbox beside its label, a list readable at a
phone's width, a counter that follows the chosen standard answer, and a
refused answer that puts the keyboard focus on what to fix."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox.models import StandardAnswer
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def walk(chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, network="facebook",
                             owner_administration=kff)
    item = citizen_item(channel, "Hvornår åbner svømmehallen efter jul?",
                        author="Mette Hansen")
    StandardAnswer.objects.create(
        organisation=organisation, title="Åbningstider",
        text="Hej {fornavn}. Se åbningstiderne på kk.dk.")
    context, page = new_page(chromium, live_server)
    browser_login(page, member(Role.EDITOR, administration=kff))
    yield page, item
    context.close()


def test_statuses_are_pills_and_a_filter_checkbox_sits_by_its_label(walk):
    page, item = walk
    page.goto("/indbakke/")
    checkbox = page.get_by_label("Over svarfristen")
    label = page.locator("label[for='id_overdue']")
    box, text = checkbox.bounding_box(), label.bounding_box()
    assert abs(box["y"] + box["height"] / 2 - (text["y"] + text["height"] / 2)) < 8
    assert box["x"] < text["x"]
    page.goto(f"/indbakke/{item.conversation_id}/")
    pill = page.locator("main p .pill.status-new").first
    style = pill.evaluate("e => [getComputedStyle(e).display,"
                          " getComputedStyle(e).borderTopWidth]")
    assert style == ["inline-block", "1px"]


def test_at_a_phones_width_a_row_shows_its_status_and_target(walk):
    page, item = walk
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/indbakke/")
    row = page.locator(f"#conversation-{item.conversation_id}")
    status = row.locator(".pill")
    status.scroll_into_view_if_needed()
    expect(status).to_be_in_viewport()  # not off to the side, in the frame
    box = status.bounding_box()
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".table-scroll").evaluate(
        "e => e.scrollWidth <= e.clientWidth")
    label = row.locator("td[data-label='Svarfrist']").evaluate(
        "e => getComputedStyle(e, '::before').content")
    assert label == '"Svarfrist: "'
    no_axe_violations(page)


def test_the_counter_counts_the_chosen_standard_answer(walk):
    page, item = walk
    page.goto(f"/indbakke/{item.conversation_id}/")
    counter = page.locator("#reply-count .answer-length")
    expect(counter).to_have_attribute("data-count", "0")
    page.get_by_label("Standardsvar").select_option(label="Åbningstider")
    filled = len("Hej Mette. Se åbningstiderne på kk.dk.")
    expect(counter).to_have_attribute("data-count", str(filled))


def test_a_refused_answer_takes_the_focus_to_what_to_fix(walk):
    page, item = walk
    page.goto(f"/indbakke/{item.conversation_id}/")
    page.keyboard.press("r")
    expect(page.locator("#reply-text")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Skriv et svar, eller vælg et standardsvar.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#reply-text")).to_be_focused()
    expect(page.locator("#reply-text")).to_have_attribute("aria-invalid", "true")


def test_hiding_without_a_house_rule_stops_at_the_rule_list(walk):
    page, item = walk
    page.goto(f"/indbakke/{item.conversation_id}/")
    page.get_by_role("button", name="Skjul på netværket").click()
    rule = page.get_by_label("Husregel")
    expect(rule).to_be_focused()
    assert rule.evaluate("e => e.validity.valueMissing")
    assert page.url.endswith(f"/indbakke/{item.conversation_id}/")
