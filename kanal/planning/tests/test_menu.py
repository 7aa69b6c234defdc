"""The menu, walked per role (issue 11, finding 4).

For every role: every link in the header's menus answers 200; every page the
role may open is in the menu or linked from a page of the menu; a refused
request (403) is answered with Kanal's page and logged without a traceback;
a missing page in development is Kanal's page, not Django's debug page.
"""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kanal.organisations.roles import Role
from kanal.planning import actions
from kanal.planning.tests.factories import CampaignFactory, MediaAssetFactory

pytestmark = pytest.mark.django_db

# Pages with no arguments that are not destinations of the menu: the sign-in
# and password flows (reached from the login page and e-mails), the language
# switch and the Django admin (not part of Kanal's own interface).
NOT_MENU_PAGES = {
    # PDF downloads (insights' monthly and quarterly reports) and the reports
    # page (subscriptions), linked from the insights overview.
    "monthly_report",
    "quarterly_report",
    "reports",
    # The inbox list's own polling for new items (JSON, not a page).
    "updates",
    "login",
    "login_token",
    "logout",
    "two_factor_setup",
    "switch_organisation",
    "password_forgot",
    "password_forgot_done",
    "password_set_done",
    "set_language",
    # Probes and metrics answer machines (monitoring), not people.
    "healthz",
    "readyz",
    "metrics",
}


class _Links(HTMLParser):
    """Links in the header's menus, and every link of the page."""

    def __init__(self):
        super().__init__()
        self.in_header_nav = 0
        self.menu: list[str] = []
        self.all: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav" and self._in_header:
            self.in_header_nav += 1
        if tag == "header":
            self._in_header = True
        if tag == "a" and a.get("href"):
            href = a["href"]
            self.all.append(href)
            if self.in_header_nav:
                self.menu.append(href)

    def handle_endtag(self, tag):
        if tag == "nav" and self.in_header_nav:
            self.in_header_nav -= 1
        if tag == "header":
            self._in_header = False

    _in_header = False


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def _local(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return parts.path


def _pages_without_arguments() -> dict[str, str]:
    """``{path: name}`` for every URL pattern that takes no argument."""
    found: dict[str, str] = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                walk(pattern.url_patterns, ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if pattern.pattern.converters or "<" in str(pattern.pattern):
                    continue
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                if name.startswith("admin:") or pattern.name in NOT_MENU_PAGES:
                    continue
                try:
                    found[reverse(name)] = name
                except Exception:  # patterns with regex groups
                    continue

    walk(get_resolver().url_patterns, "")
    return found


@pytest.fixture
def everyone(desk, soon):
    from kanal.organisations.tests.factories import MembershipFactory, UserFactory

    desk.crisis_lead = MembershipFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        role=Role.CRISIS_LEAD,
        user=UserFactory(username="krise"),
    )
    post = actions.create_post(
        actor=desk.editor,
        title="Koncert",
        shared_text="Koncert fredag.",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    actions.create_proposal(
        actor=desk.contributor, title="Læsefest", text="Alle 2. klasser."
    )
    MediaAssetFactory(organisation=desk.organisation, administration=desk.kff)
    CampaignFactory(organisation=desk.organisation, name="Jul")
    # A publishing message for the desk, pointing at the operations page.
    from kanal.notifications.actions import notify
    from kanal.notifications.audience import channel_desk

    notify(
        channel_desk(desk.organisation.pk, desk.kff.pk),
        kind="publication_failed",
        params={"channel": "Facebook", "why": "Teksten er for lang."},
        url=reverse("publishing:operations"),
    )
    desk.post = post
    return {
        "admin": desk.admin,
        "editor": desk.editor,
        "approver": desk.approver,
        "contributor": desk.contributor,
        "crisis_lead": desk.crisis_lead,
        "analyst": desk.analyst,
    }


@pytest.mark.parametrize(
    "role", ["admin", "editor", "approver", "contributor", "crisis_lead", "analyst"]
)
def test_the_menu_offers_every_page_the_role_may_open_and_nothing_else(
    everyone, client, role
):
    client.force_login(everyone[role].user)
    # The pages of the menu: follow the header's menus from the front page.
    menu_pages: dict[str, str] = {}
    linked: set[str] = set()
    queue = ["/"]
    while queue:
        path = queue.pop()
        if path in menu_pages:
            continue
        response = client.get(path)
        assert response.status_code == 200, (
            f"{role}: the menu links to {path}, which answers "
            f"{response.status_code}"
        )
        html = response.content.decode()
        menu_pages[path] = html
        links = _links(html)
        linked |= {p for p in map(_local, links.all) if p}
        queue += [p for p in map(_local, links.menu) if p and p not in menu_pages]
    # Every page the role may open is in the menu, or linked from a page of
    # the menu, or from a page so linked (a form reached through its list).
    pages = _pages_without_arguments()
    reachable = set(menu_pages)
    frontier = linked & set(pages)
    for _depth in range(2):
        next_frontier = set()
        for path in frontier - reachable:
            reachable.add(path)
            response = client.get(path)
            if response.status_code == 200:
                links = _links(response.content.decode()).all
                next_frontier |= {p for p in map(_local, links) if p in pages}
        frontier = next_frontier
    missing = [
        name
        for path, name in pages.items()
        if path not in reachable and client.get(path).status_code == 200
    ]
    assert not missing, f"{role} cannot reach {missing} from the menu"
    # And no page of the menu links the role to a page it may not open.
    refused = sorted(
        (path, code)
        for path in linked
        if not path.startswith(("/media/", "/static/", "/konto/"))
        and (code := client.get(path).status_code) in (403, 404)
    )
    assert not refused, f"{role} is shown links it may not open: {refused}"


def test_the_analyst_finds_the_report_campaigns_and_calendar_subscription(
    everyone, client
):
    client.force_login(everyone["analyst"].user)
    menu = _links(client.get(reverse("planning:calendar")).content.decode()).menu
    for name in (
        "planning:report",
        "planning:campaign_list",
        "planning:ical_settings",
        "planning:calendar",
    ):
        assert reverse(name) in menu, name
    assert reverse("planning:proposal_list") not in menu


@pytest.mark.parametrize("role", ["analyst", "crisis_lead", "approver"])
def test_a_refusal_is_kanals_page_and_logs_no_traceback(
    everyone, client, caplog, role
):
    client.force_login(everyone[role].user)
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("planning:proposal_create"))
    assert response.status_code == 403
    assert "Ingen adgang" in response.content.decode()
    assert not [r for r in caplog.records if r.exc_info], [
        r.getMessage() for r in caplog.records
    ]
    assert any("Forbidden" in r.getMessage() for r in caplog.records)


def test_a_missing_page_in_development_is_kanals_page(everyone, client, settings):
    settings.DEBUG = True
    client.force_login(everyone["editor"].user)
    for path in ("/findes-ikke/", reverse("planning:post_detail", args=[999999])):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404
        assert "Siden findes ikke" in html
        assert "Django tried these URL patterns" not in html
        assert 'aria-label="Hovedmenu"' in html


def test_favicon(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("kanal/favicon.ico")
    assert finders.find("kanal/favicon.ico")
    assert finders.find("kanal/favicon.svg")
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in page
