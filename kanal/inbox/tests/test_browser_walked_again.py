"""The inbox walked again as a person uses it, where only a browser can
tell: each row's link has a name of its own in a screen reader's list of
links, the focus ring's outer ring stands out against the background it lies
on (the blue header, the red crisis banner, the page), and the crisis
priority filter is reached and used with the keyboard at a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kanal.channels.tests.factories import ChannelFactory
from kanal.core.tests import a11y
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory
from kanal.publishing.models import Crisis

from .factories import citizen_item
from .test_browser import new_page, no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk_page(chromium, live_server, browser_login, member, organisation):
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    channel = ChannelFactory(organisation=organisation, network="instagram",
                             owner_administration=kff)
    context, page = new_page(chromium, live_server)
    browser_login(page, member(Role.EDITOR, administration=kff))
    yield page, channel, organisation
    context.close()


def row_link_names(page) -> list[str]:
    """The names of the list's row links as the accessibility tree has them."""
    tree = page.locator("#inbox-rows").aria_snapshot()
    return [found.group(1) for line in tree.splitlines()
            if (found := re.match(r"""\s*- '?link "(.*)"'?:?$""", line))]


def test_each_row_link_has_a_name_of_its_own(desk_page):
    page, channel, _organisation = desk_page
    # Messages without a name on the network, in the same minute.
    for text in ("Hvornår åbner svømmehallen?", "Hvor kan jeg få et nyt pas?",
                 "Tak for hjælpen i går"):
        citizen_item(channel, text, author="")
    citizen_item(channel, "Mit CPR-nummer er 050505-1234", author="")
    page.goto("/indbakke/")
    names = row_link_names(page)
    assert len(names) == 4 and len(set(names)) == 4, names
    assert all(name.startswith("Borger, Instagram, ") for name in names), names
    assert any(name.endswith(": Hvor kan jeg få et nyt pas?") for name in names)
    # The name masks personal data as the row does.
    assert not any("050505" in name for name in names), names
    page.get_by_role("link", name="Hvor kan jeg få et nyt pas?").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Samtale")


OUTER_RINGS_JS = "() => {" + a11y.RING_JS + """
    const selector = "a[href], button, input:not([type=hidden]), select, textarea,"
        + " summary, [tabindex]:not([tabindex='-1'])";
    const out = [];
    for (const el of document.querySelectorAll(selector)) {
        if (el.disabled || !el.getClientRects().length) continue;
        el.focus({focusVisible: true, preventScroll: true});
        if (document.activeElement !== el) continue;
        const style = getComputedStyle(el);
        const name = el.outerHTML.slice(0, 60);
        if (style.outlineStyle === "none") { out.push([name, 0]); continue; }
        let background = null;
        for (let p = el.parentElement; p; p = p.parentElement) {
            const c = parseColour(getComputedStyle(p).backgroundColor);
            if (c && c.a > 0.5) { background = c; break; }
        }
        background = background || {r: 255, g: 255, b: 255, a: 1};
        const ratio = contrast(parseColour(style.outlineColor), background);
        out.push([name, Math.round(ratio * 100) / 100]);
    }
    if (document.activeElement) document.activeElement.blur();
    return out;
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_outer_focus_ring_stands_out_where_it_lies(desk_page, width):
    """WCAG 1.4.11: the focus ring against its adjacent colours, 3:1. The
    outer ring lies on the header's blue, the crisis banner's red or the
    page; the yellow inner ring alone is 1.6:1 on white."""
    page, channel, organisation = desk_page
    citizen_item(channel, "Der er vand i kælderen, er det akut?", author="Ida")
    Crisis.objects.create(organisation=organisation, reason="Skybrud")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto("/indbakke/")
    expect(page.locator("#crisis-banner")).to_be_visible()
    rings = page.evaluate(OUTER_RINGS_JS)
    assert len(rings) > 20
    low = [(element, ratio) for element, ratio in rings if ratio < 3]
    assert low == [], low
    # The header's and the banner's links, measured the existing way too.
    for selector in (".site-header nav a", "#crisis-banner a", "main a"):
        page.locator(selector).first.focus()
        assert a11y.focus_ring_contrast(page)["ratio"] >= 3, selector


def test_the_priority_filter_by_keyboard_at_a_phones_width(desk_page):
    page, channel, organisation = desk_page
    citizen_item(channel, "Hvornår åbner biblioteket?", author="Bo")
    Crisis.objects.create(organisation=organisation, reason="Skybrud")
    citizen_item(channel, "Vandet stiger i kælderen på Nørrebro", author="Karl")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/indbakke/")
    box = page.get_by_label("Kun krise-prioritet")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.keyboard.press("Enter")  # sends the filter form
    page.wait_for_url("**priority=on**")
    names = row_link_names(page)
    assert len(names) == 1 and names[0].startswith("Karl, Instagram"), names
    expect(page.get_by_label("Kun krise-prioritet")).to_be_checked()
    assert a11y.horizontal_overflow(page) == 0
    no_axe_violations(page)
