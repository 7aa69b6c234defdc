"""Planning fixtures: a desk with three networks, people in each role, and
(for browser tests) headless Chromium through Playwright."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from kanal.organisations.roles import Role

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk(organisation):
    """Administrations, channels for Facebook/Instagram/X (+ Mastodon) and one
    member per role."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        MembershipFactory,
        UserFactory,
    )

    kff = AdministrationFactory(
        organisation=organisation,
        code="KFF",
        name="Kultur- og Fritid",
        is_central_desk=True,
    )
    buf = AdministrationFactory(
        organisation=organisation, code="BUF", name="Børne- og Ungdom"
    )
    tmf = AdministrationFactory(
        organisation=organisation, code="TMF", name="Teknik- og Miljø"
    )

    def person(username, role, administration, first):
        return MembershipFactory(
            organisation=organisation,
            administration=administration,
            role=role,
            user=UserFactory(username=username, first_name=first, last_name="Test"),
        )

    channels = {}
    for network, name, minimum, maximum, period, cats in [
        (
            "facebook",
            "Københavns Kommune",
            2,
            4,
            "day",
            ["Borgerservice", "Arrangementer", "Kampagner"],
        ),
        (
            "instagram",
            "kobenhavnskommune",
            2,
            3,
            "week",
            ["Billeder af byen", "Museumsudstillinger"],
        ),
        ("x", "@KobenhavnsKom", 1, 2, "day", ["Pressemeddelelser"]),
        ("mastodon", "kk@social.example", 1, 2, "day", ["Nyheder"]),
    ]:
        channel = ChannelFactory(
            organisation=organisation,
            owner_administration=kff,
            network=network,
            display_name=name,
            strategy=None,
        )
        from kanal.channels.models import StrategyProfile

        StrategyProfile.objects.create(
            channel=channel,
            purposes=["branding", "information"],
            categories=cats,
            cadence_min=minimum,
            cadence_max=maximum,
            cadence_period=period,
            default_hashtags=["#voreskbh"] if network == "instagram" else [],
        )
        channels[network] = channel

    class Desk:
        pass

    d = Desk()
    d.organisation = organisation
    d.kff, d.buf, d.tmf = kff, buf, tmf
    d.channels = channels
    d.editor = person("redaktoer", Role.EDITOR, kff, "Rikke")
    d.approver = person("godkender", Role.APPROVER, kff, "Gorm")
    d.admin = person("admin", Role.ADMIN, kff, "Ada")
    d.contributor = person("bidrag", Role.CONTRIBUTOR, buf, "Bodil")
    d.tmf_contributor = person("tmfbidrag", Role.CONTRIBUTOR, tmf, "Tove")
    d.analyst = person("analytiker", Role.ANALYST, kff, "Asger")
    return d


@pytest.fixture
def soon():
    """A planned time tomorrow at 10:00 Copenhagen time."""
    local = timezone.localtime() + timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="module")
def browser(chromium):
    """The shared headless Chromium of the root conftest."""
    return chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def login(live_server, page):
    """``login(membership)`` signs in through the login form."""
    from kanal.organisations.tests.factories import PASSWORD

    def sign_in(membership):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/konto/log-ind/")
        page.fill("input[name=username]", membership.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        return page

    return sign_in


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name):
        path = SCREENSHOTS / f"planning-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
