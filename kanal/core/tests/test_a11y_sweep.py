"""WCAG 2.1 AA over every page of the access matrices, in every role that may
open it, in Danish and English, with the forms' error states shown.

For each role and language one browser context signs in once and visits, at
320 CSS pixels wide (WCAG's reflow width, 1280 px at 400 %), every page the
matrices (``test_access_matrix.MATRIX``, ``planning/tests/test_permissions``)
answer with 200 for that role, and then submits each form on them empty or
invalid. On every page:

- axe-core finds no violation (WCAG 2.0/2.1 A and AA rules, best practices);
- the page does not scroll sideways at 320 px nor at 683 px (200 % zoom of
  1366 px);
- the page has a title of its own and ``<html lang>`` in the reader's language;
- (Danish run) every focusable element's focus indicator has at least 3:1
  contrast with the background around it.

After a failed submit: the title begins with "Fejl:" ("Error:"), focus is on
the error summary, each summary link leads to an element on the page, and
each field marked ``aria-invalid`` is described by its error.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import pytest
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kanal.core.tests import a11y
from kanal.core.tests.a11y_world import ROLE_NAMES, build_world, sign_in
from kanal.core.tests.test_access_matrix import MATRIX
from kanal.planning.tests.test_permissions import CASES as PLANNING_CASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# "other_org_admin" of the matrix sees the admin's pages of another
# organisation (same templates), so the admin's run covers it.
ROLES = ["anonymous", *ROLE_NAMES]
LANGUAGES = ["da", "en"]
NARROW = {"width": 320, "height": 720}
ZOOMED = {"width": 683, "height": 720}

# Matrix kwargs → the world's objects (or fixed values for the invalid
# password link and the unknown media file).
FIXED = {"uid": "MQ", "token": "set-password", "dimension": "category"}


@dataclass(frozen=True)
class Visit:
    name: str
    url: str


DOWNLOAD = re.compile(r"(\.(csv|ics|xlsx|pdf|ico|zip)|/(eksport|rapporter)/\d+/hent/)$")
NOT_PAGES = {"inbox:updates"}


def pages_for(role: str, world) -> list[Visit]:
    """Every page the matrices let ``role`` open (GET, answered 200)."""
    visits = []
    for case in MATRIX:
        if case.method != "get" or case.expect.get(role) != 200:
            continue
        kwargs = {
            k: FIXED[v] if v in FIXED else world.objects[v].pk
            for k, v in case.kwargs.items()
        }
        visits.append(Visit(case.name, reverse(case.name, kwargs=kwargs)))
    if role == "anonymous":
        return visits
    for name, (method, arg_names, _data, expected) in sorted(PLANNING_CASES.items()):
        if method != "get" or expected[role] != 200:
            continue
        args = [world.objects[a].pk for a in arg_names]
        visits.append(Visit(f"planning:{name}", reverse(f"planning:{name}", args=args)))
    # Files to download (the CSV template, calendar feeds) and the JSON a
    # page polls are not pages.
    return [v for v in visits
            if not DOWNLOAD.search(v.url) and v.name not in NOT_PAGES]


@dataclass(frozen=True)
class ErrorState:
    """Submit ``form`` on page ``name`` with its text fields emptied (or open
    ``query``, for a search form) and expect the error state."""

    name: str
    form: str = "main form[method=post]"
    kwargs: tuple = ()
    query: str = ""
    roles: tuple = ()  # () = every role that may open the page


ERROR_STATES = [
    ErrorState("login", roles=("anonymous",)),
    ErrorState("password_forgot", roles=("anonymous",)),
    ErrorState("channel_create"),
    ErrorState("channel_edit", kwargs=(("pk", "channel"),)),
    ErrorState("channel_credentials", kwargs=(("pk", "channel"),)),
    ErrorState("channel_strategy", kwargs=(("pk", "channel"),)),
    ErrorState("member_create"),
    # member_edit has only choice fields, each with a valid value; its form
    # is the member_create form's, whose errors are checked.
    ErrorState(
        "organisation_settings",
        form="main form:has(input[name=form][value=administration])",
    ),
    ErrorState("single_sign_on_settings"),
    ErrorState("audit_list", query="date_from=2026-12-10&date_to=2026-12-01"),
    ErrorState(
        "publishing:crisis",
        form="form[action$='/krise/slaa-til/']",
        roles=("admin", "editor", "crisis_lead"),
    ),
    ErrorState(
        "publishing:crisis",
        form="form[action$='/krise/besked/']",
        roles=("admin", "crisis_lead"),
    ),
    ErrorState("planning:post_create"),
    ErrorState("planning:post_edit", kwargs=(("pk", "post"),)),
    ErrorState("planning:proposal_create"),
    ErrorState("planning:proposal_edit", kwargs=(("pk", "proposal"),)),
    ErrorState(
        "planning:media_list",
        form="main form[enctype]",
        roles=("admin", "editor", "contributor"),  # may upload (posts.propose)
    ),
    ErrorState("planning:campaign_list", roles=("admin", "editor")),
    ErrorState(
        "planning:report", query="first_day=2026-12-10&last_day=2026-12-01"
    ),
]


def _opens(role, state, visits) -> bool:
    if state.roles:
        return role in state.roles
    return any(v.name == state.name for v in visits)


def _url(state, world) -> str:
    kwargs = {}
    for key, value in state.kwargs:
        kwargs[key] = world.objects[value].pk
    if state.name.startswith("planning:") and kwargs:
        return reverse(state.name, args=list(kwargs.values()))
    return reverse(state.name, kwargs=kwargs)


# In the browser: what ties errors to fields, after a failed submit.
ERROR_TIES_JS = """() => {
    const problems = [];
    const text = (ids) => ids.split(/\\s+/).map(id => document.getElementById(id))
        .map(el => el ? el.textContent.trim() : "").join("");
    for (const el of document.querySelectorAll("[aria-invalid=true]")) {
        const own = el.getAttribute("aria-describedby");
        const group = el.closest("fieldset[aria-describedby]");
        const ids = own || (group && group.getAttribute("aria-describedby"));
        if (!ids || !text(ids)) problems.push("not described: " + (el.name || el.id));
    }
    const summary = document.getElementById("error-summary");
    if (summary) {
        for (const a of summary.querySelectorAll("a[href^='#']")) {
            if (!document.getElementById(a.getAttribute("href").slice(1)))
                problems.push("summary link to nothing: " + a.getAttribute("href"));
        }
    }
    return {
        problems,
        invalid: document.querySelectorAll("[aria-invalid=true]").length,
        focused: document.activeElement && document.activeElement.id,
        summaryLinks: summary ? summary.querySelectorAll("a").length : 0,
    };
}"""


class Sweep:
    def __init__(self, page, language):
        self.page = page
        self.language = language
        self.failures: list[str] = []
        self.titles: dict[str, str] = {}

    def fail(self, where, what):
        self.failures.append(f"{where}: {what}")

    def check_page(self, where, *, focus=True):
        page = self.page
        lang = page.evaluate("document.documentElement.lang")
        if lang != self.language:
            self.fail(where, f'<html lang="{lang}">, not {self.language}')
        if not page.title().strip():
            self.fail(where, "no title")
        overflow = a11y.horizontal_overflow(page)
        if overflow > 0:
            self.fail(
                where,
                f"scrolls {overflow}px sideways at 320px: "
                f"{a11y.widest_elements(page)}",
            )
        page.set_viewport_size(ZOOMED)
        overflow = a11y.horizontal_overflow(page)
        if overflow > 0:
            self.fail(where, f"scrolls {overflow}px sideways at 683px (200 %)")
        page.set_viewport_size(NARROW)
        violations = a11y.run_axe(page)
        if violations:
            self.fail(where, "axe:\n" + a11y.describe_violations(violations))
        if focus and self.language == "da":
            faint = a11y.faint_focus_rings(page)
            if faint:
                self.fail(where, f"focus indicators under 3:1: {faint[:5]}")

    def visit(self, visit: Visit):
        response = self.page.goto(visit.url)
        where = f"{visit.name} ({visit.url})"
        if response is None or response.status != 200:
            self.fail(where, f"answered {response and response.status}, not 200")
            return
        self.titles.setdefault(self.page.title(), visit.name)
        if self.titles[self.page.title()] != visit.name:
            self.fail(
                where,
                f"same title as {self.titles[self.page.title()]}: "
                f"{self.page.title()!r}",
            )
        self.check_page(where)

    def error_state(self, state: ErrorState, url: str):
        page = self.page
        where = f"{state.name} with errors ({state.query or state.form})"
        if state.query:
            page.goto(f"{url}?{state.query}")
        else:
            page.goto(url)
            form = page.locator(state.form).first
            if not form.count():
                self.fail(where, "form not found")
                return
            form.evaluate(
                """(form) => {
                    const details = form.closest("details");
                    if (details) details.open = true;
                    for (const el of form.querySelectorAll(
                        "input[type=text], input[type=email], input[type=url],"
                        + " input[type=number], input[type=password], textarea")) {
                        el.value = "";
                    }
                    for (const el of form.querySelectorAll("input[type=checkbox]")) {
                        if (el.name === "confirm") el.checked = false;
                    }
                }"""
            )
            with page.expect_navigation():
                form.locator("[type=submit]").last.click()
        prefix = "Fejl: " if self.language == "da" else "Error: "
        if not page.title().startswith(prefix):
            self.fail(where, f"title {page.title()!r} does not start with {prefix!r}")
        # If focus never gets there, the check below says where it is.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                "document.activeElement.id === 'error-summary'", timeout=10_000
            )
        ties = page.evaluate(ERROR_TIES_JS)
        if ties["focused"] != "error-summary":
            self.fail(where, f"focus on {ties['focused']!r}, not the error summary")
        if not ties["summaryLinks"]:
            self.fail(where, "no links in the error summary")
        for problem in ties["problems"]:
            self.fail(where, problem)
        self.check_page(where, focus=False)


@pytest.fixture
def sweep_context(chromium, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    contexts = []

    def make(language):
        context = chromium.new_context(
            base_url=live_server.url,
            locale="da-DK" if language == "da" else "en-GB",
            timezone_id="Europe/Copenhagen",
            viewport=NARROW,
            # axe is injected as a script tag; the app's CSP must not stop it.
            bypass_csp=True,
        )
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        # axe-core in every page of the context from the start: cheaper than
        # sending the script with each page (run_axe adds it where missing).
        context.add_init_script(path=str(a11y.require_axe()))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_meets_wcag_in_every_role(sweep_context, role, language):
    a11y.require_axe()
    world = build_world()
    page = sweep_context(language)
    if role != "anonymous":
        sign_in(page, world, role)
    sweep = Sweep(page, language)
    visits = pages_for(role, world)
    assert visits, role
    for visit in visits:
        sweep.visit(visit)
    for state in ERROR_STATES:
        if _opens(role, state, visits):
            sweep.error_state(state, _url(state, world))
    assert not sweep.failures, (
        f"{role}, {language}: {len(sweep.failures)} problems\n"
        + "\n".join(sweep.failures)
    )
