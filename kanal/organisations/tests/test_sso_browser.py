"""A person signs in through the municipality's real OpenID provider in
Chromium (its own login and consent pages) and lands on the dashboard with
the role their group maps to; signing out ends the provider's session too."""

from __future__ import annotations

import pytest

from kanal.organisations import sso_actions
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import (
    AdministrationFactory,
    MembershipFactory,
    UserFactory,
)

from .oidc import CLIENT_ID, CLIENT_SECRET, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def issuer(live_server):
    with running_provider(
        [f"{live_server.url}/konto/sso/retur/"], [f"{live_server.url}/konto/log-ind/"]
    ) as url:
        yield url


def test_sign_in_through_the_provider_lands_on_the_dashboard_with_mapped_role(
    browser_page, live_server, issuer, organisation, settings
):
    settings.KANAL_BASE_URL = live_server.url
    kff = AdministrationFactory(
        organisation=organisation, code="KFF", name="Kultur", is_central_desk=True
    )
    sso_actions.configure_single_sign_on(
        organisation,
        actor=None,
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        group_roles=[
            {"group": "kanal-redaktion", "role": "admin", "administration": "KFF"}
        ],
    )
    ada = MembershipFactory(
        organisation=organisation,
        administration=kff,
        role=Role.ANALYST,
        user=UserFactory(username="ada.kanal", first_name="Ada", last_name="Admin"),
    )
    sso_actions.link_identity(ada, actor=None, subject="ada")
    page = browser_page
    page.goto("/konto/log-ind/")
    page.get_by_role("link", name="Log ind med Testkommunes login").click()
    page.wait_for_url(f"{issuer}/interaction/**")
    page.get_by_label("Brugernavn").fill("ada")
    page.get_by_label("Adgangskode").fill("Ada-kode-1")
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("button", name="Giv adgang").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Goddag, Ada Admin"
    assert "som Administrator (KFF" in page.content()
    ada.refresh_from_db()
    assert ada.role == Role.ADMIN
    page.get_by_role("button", name="Log ud").click()
    page.get_by_role("link", name="Log også ud hos login-tjenesten").click()
    page.wait_for_url(f"{issuer}/session/end**")
    page.get_by_role("button").first.click()
    page.wait_for_url(f"{live_server.url}/konto/log-ind/")


def test_unknown_person_sees_a_clear_page_that_meets_wcag(
    chromium, live_server, issuer, organisation, settings
):
    from kanal.core.tests import a11y

    a11y.require_axe()
    # axe is injected as a script: the page's script policy is bypassed for
    # the test's own script only (as in the accessibility sweep).
    context = chromium.new_context(
        locale="da-DK", base_url=live_server.url, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    settings.KANAL_BASE_URL = live_server.url
    AdministrationFactory(organisation=organisation, code="KFF")
    sso_actions.configure_single_sign_on(
        organisation,
        actor=None,
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    page.goto("/konto/log-ind/")
    assert a11y.run_axe(page) == []
    page.get_by_role("link", name="Log ind med Testkommunes login").click()
    page.get_by_label("Brugernavn").fill("ukendt")
    page.get_by_label("Adgangskode").fill("Ukendt-kode-1")
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("button", name="Giv adgang").click()
    page.wait_for_url(f"{live_server.url}/konto/sso/retur/**")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Spørg din administrator"
    assert page.locator("code").inner_text() == "ukendt"
    violations = a11y.run_axe(page)
    context.close()
    assert violations == [], a11y.describe_violations(violations)
