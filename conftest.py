"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from kanal.organisations.roles import Role

# Hypothesis measures wall-clock time: a per-example deadline (200 ms by
# default) and a health check that fails when generating examples is slow.
# Both fail on a loaded machine (parallel workers, other suites) without
# anything being wrong, so neither applies here; the checks about the
# strategies themselves (filtering too much, data too large) stay on.
hypothesis_settings.register_profile(
    "kanal", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("kanal")

# The network sandbox on loopback (``sandbox``, ``sandbox_server``,
# ``webhook_receiver``), for the adapters' contract tests and for every test
# that publishes through the engine; the Mastodon adapter's fakes
# (``fresh_mastodon_limits``).
pytest_plugins = ["kanal.channels.networks.tests.sandbox_fixtures",
                  "kanal.channels.networks.tests.mastodon_fakes"]


@pytest.fixture(scope="session", autouse=True)
def _media_of_this_run(tmp_path_factory):
    """Files that tests upload or render (thumbnails, renditions) go to this
    run's own temporary folder (one per parallel worker), not to var/media,
    which the demo and every other run on the machine share."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def _language_put_back():
    """A request through the test client leaves its language active in the
    test's thread (LocaleMiddleware activates it, nothing deactivates it), so
    a test after one that asked for English would run in English: which one
    follows which differs between parallel workers."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_write_grant_left_behind():
    """A test that calls the engine's fence by itself leaves a write grant on
    the test thread; the next test's writes must not inherit it."""
    yield
    from kanal.channels.networks import http

    http.set_write_deadline(None)


@pytest.fixture
def organisation(db):
    from kanal.organisations.tests.factories import OrganisationFactory

    return OrganisationFactory(name="Testkommune", slug="testkommune")


@pytest.fixture
def member(organisation):
    """``member(role, administration=None)`` → a Membership in ``organisation``."""
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        MembershipFactory,
    )

    def make(role=Role.EDITOR, administration=None, **kwargs):
        administration = administration or AdministrationFactory(
            organisation=organisation, code="KFF", name="Kultur- og Fritid"
        )
        return MembershipFactory(
            organisation=organisation,
            administration=administration,
            role=role,
            **kwargs,
        )

    return make


@pytest.fixture
def client_for(client):
    """``client_for(membership)`` → a test client logged in as that member."""

    def login(membership):
        client.force_login(membership.user)
        return client

    return login


# ---------------------------------------------------------------------------
# Browser tests: Playwright driving Debian's Chromium against live_server.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Module scope, not session: Playwright's sync API keeps an event loop running
# in the main thread while it is open, which would break later tests that run
# their own loop (Starlette's TestClient, the sandbox's async code).
@pytest.fixture(scope="module")
def chromium():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(
            "Chromium mangler: browsertestene springes over. Installér det med "
            "`apt-get install -y chromium` (Debian) og kør testene igen."
        )
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # calls from the test body are safe (they do not run inside that loop).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for their condition; on a loaded machine (parallel
    # workers, other suites) 5 s, Playwright's default, is not always enough.
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser context (Danish, Copenhagen time) and page."""
    context = chromium.new_context(
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def browser_login():
    """``browser_login(page, membership)``: log in through the real form."""
    from kanal.organisations.tests.factories import PASSWORD

    def login(page, membership):
        page.goto("/konto/log-ind/")
        page.get_by_label("Brugernavn").fill(membership.user.username)
        page.get_by_label("Adgangskode").fill(PASSWORD)
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url("**/")
        return page

    return login
