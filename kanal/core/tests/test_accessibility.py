"""Issue 18's findings that the HTML itself shows (the browser tests in
test_a11y_browser.py and the sweep in test_a11y_sweep.py show the rest)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import override_settings
from django.urls import reverse

from kanal.channels.tests.factories import ChannelFactory
from kanal.core.statement import StatementError, load_statement
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory
from kanal.publishing.models import Crisis

pytestmark = pytest.mark.django_db


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1]


def _tag(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return match[0]


# -- Finding 3: errors tied to their fields, summary, title ------------------


def test_post_form_channel_error_is_inside_its_fieldset_and_linked(
    member, client_for
):
    editor = member(Role.EDITOR)
    ChannelFactory(organisation=editor.organisation)
    response = client_for(editor).post(
        reverse("planning:post_create"), {"title": "Svømmehal"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    fieldset = _tag(html, r"(?s)<fieldset[^>]*>\s*<legend>Kanaler.*?</fieldset>")
    assert 'aria-describedby="id_channels_error"' in fieldset
    assert 'id="id_channels_error"' in fieldset
    assert "Dette felt er påkrævet" in fieldset
    checkbox = _tag(fieldset, r'<input type="checkbox"[^>]*>')
    assert 'aria-invalid="true"' in checkbox
    # What the user typed is kept.
    assert _tag(html, r'<input[^>]*name="title"[^>]*>').count('value="Svømmehal"')


def test_a_failed_submit_says_error_in_the_title_and_lists_the_errors(
    member, client_for
):
    editor = member(Role.EDITOR)
    ChannelFactory(organisation=editor.organisation)
    response = client_for(editor).post(reverse("planning:post_create"), {})
    assert _title(response).startswith("Fejl: Nyt opslag")
    summary = _tag(
        response.content.decode(), r'(?s)<div class="error-summary".*?</div>'
    )
    assert 'tabindex="-1"' in summary
    assert 'href="#id_title"' in summary
    assert 'href="#id_channels_0"' in summary  # the first box of the group
    assert "Overskrift (intern): Dette felt er påkrævet." in summary


def test_a_page_without_errors_has_no_summary_and_a_plain_title(member, client_for):
    editor = member(Role.EDITOR)
    response = client_for(editor).get(reverse("planning:post_create"))
    assert _title(response) == "Nyt opslag · Kanal"
    assert "error-summary" not in response.content.decode()


def test_every_field_error_in_a_django_form_is_described(member, client_for):
    admin = member(Role.ADMIN)
    response = client_for(admin).post(reverse("member_create"), {"email": "x"})
    html = response.content.decode()
    for name in ("username", "full_name", "email"):
        field = _tag(html, rf'<input[^>]*name="{name}"[^>]*>')
        assert 'aria-invalid="true"' in field
        assert f'aria-describedby="id_{name}_error"' in field
        assert f'id="id_{name}_error"' in html


def test_failed_login_marks_both_fields_invalid_and_describes_them(member, client):
    editor = member(Role.EDITOR)
    response = client.post(
        reverse("login"), {"username": editor.user.username, "password": "forkert"}
    )
    assert response.status_code == 401
    html = response.content.decode()
    for name in ("username", "password"):
        field = _tag(html, rf'<input[^>]*name="{name}"[^>]*>')
        assert 'aria-invalid="true"' in field
        assert 'aria-describedby="form-errors"' in field
    errors = _tag(html, r'(?s)<div class="form-errors" id="form-errors">.*?</div>')
    assert "Brugernavn eller adgangskode er forkert" in errors
    assert _title(response).startswith("Fejl: ")
    assert 'href="#form-errors"' in html


def test_crisis_forms_show_their_errors_and_keep_what_was_written(
    member, client_for
):
    lead = member(Role.CRISIS_LEAD)
    ChannelFactory(organisation=lead.organisation)
    response = client_for(lead).post(
        reverse("publishing:crisis_message"),
        {"text": "", "link": "https://kk.dk/storm"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="https://kk.dk/storm"' in html
    assert 'id="id_text_error"' in html
    assert _tag(html, r"<textarea[^>]*>").count('aria-invalid="true"')
    assert _title(response).startswith("Fejl: Krisetilstand")
    response = client_for(lead).post(
        reverse("publishing:crisis_start"), {"reason": "", "scope": "all"}
    )
    assert response.status_code == 400
    assert not Crisis.objects.exists()
    assert 'id="id_reason_error"' in response.content.decode()


def test_an_error_message_after_a_redirect_also_puts_error_in_the_title(
    member, client_for
):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    client.post(reverse("planning:post_create"), {})  # nothing saved
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage

    response = client.get(reverse("dashboard"))
    assert not _title(response).startswith("Fejl")
    storage = CookieStorage(response.wsgi_request)
    storage.add(constants.ERROR, "Opslaget kunne ikke godkendes.")
    storage.update(response)
    client.cookies.update(response.cookies)
    response = client.get(reverse("dashboard"))
    assert _title(response).startswith("Fejl: Overblik")


# -- Finding 4: status messages reach screen readers -------------------------


def test_messages_and_the_crisis_banner_are_handed_to_empty_live_regions(
    member, client_for
):
    lead = member(Role.CRISIS_LEAD)
    client = client_for(lead)
    response = client.post(
        reverse("publishing:crisis_start"),
        {"reason": "Stormflod", "scope": "all"},
        follow=True,
    )
    html = response.content.decode()
    # The live regions are empty at load; a11y.js fills them afterwards
    # (the browser test checks that), so screen readers announce the text.
    assert re.search(r'<div id="live-polite"[^>]*aria-live="polite"[^>]*></div>', html)
    assert re.search(
        r'<div id="live-assertive"[^>]*aria-live="assertive"[^>]*></div>', html
    )
    message = _tag(html, r'<p class="message success"[^>]*>')
    assert 'data-announce="polite"' in message
    banner = _tag(html, r'<div class="banner crisis"[^>]*>')
    assert 'data-announce="assertive"' in banner
    assert "data-announce-once=" in banner
    assert 'role="alert"' not in banner


# -- Finding 5: cadence not by colour alone -----------------------------------


def test_cadence_chips_say_too_few_on_target_and_too_many_in_words(
    member, client_for
):
    from kanal.channels.models import StrategyProfile

    editor = member(Role.EDITOR)
    channel = ChannelFactory(organisation=editor.organisation, strategy=None)
    StrategyProfile.objects.create(
        channel=channel, cadence_min=1, cadence_max=2, cadence_period="day"
    )
    html = client_for(editor).get(reverse("planning:calendar")).content.decode()
    chip = _tag(html, r'<span class="cad gap"[^>]*>.*?</span></span>')
    assert ": for få</span>" in chip
    legend = _tag(html, r'(?s)<ul class="cadence-legend".*?</ul>')
    for words in ("for få", "inden for målet", "for mange"):
        assert words in legend


# -- Finding 6: specific page titles -------------------------------------------


def test_calendar_title_names_the_month(member, client_for):
    client = client_for(member(Role.EDITOR))
    url = reverse("planning:calendar")
    march = _title(client.get(url, {"maaned": "2027-03"}))
    april = _title(client.get(url, {"maaned": "2027-04"}))
    assert march == "Kalender · Marts 2027 · Kanal"
    assert april == "Kalender · April 2027 · Kanal"


def test_edit_pages_name_what_they_edit(member, client_for):
    admin = member(Role.ADMIN)
    client = client_for(admin)
    one = ChannelFactory(organisation=admin.organisation, display_name="Biblioteket")
    two = ChannelFactory(organisation=admin.organisation, display_name="Havnebadet")
    titles = {
        _title(client.get(reverse(name, args=[channel.pk])))
        for name in ("channel_edit", "channel_strategy", "channel_credentials")
        for channel in (one, two)
    }
    assert len(titles) == 6
    assert any("Biblioteket" in t and t.startswith("Rediger") for t in titles)
    people = [
        MembershipFactory(organisation=admin.organisation, role=Role.EDITOR)
        for _ in range(2)
    ]
    member_titles = [
        _title(client.get(reverse("member_edit", args=[p.pk]))) for p in people
    ]
    assert member_titles[0] != member_titles[1]
    assert people[0].display_name in member_titles[0]


# -- The accessibility statement ---------------------------------------------


def test_statement_is_public_and_in_the_danish_structure(client):
    response = client.get(reverse("accessibility_statement"))
    assert response.status_code == 200
    html = response.content.decode()
    headings = re.findall(r'<h2 id="([^"]+)"', html)
    assert headings == [
        "indhold",
        "overholdelsesstatus",
        "ikke-tilgaengeligt-indhold",
        "udarbejdelse",
        "feedback",
        "haandhaevelsesprocedure",
    ]
    assert "delvist i overensstemmelse med WCAG 2.1 AA" in html
    assert "Succeskriterium 1.4.10." in html
    assert "Rettes senest 31. marts 2027." in html
    assert "Digitaliseringsstyrelsen" in html
    assert _title(response) == "Tilgængelighedserklæring · Kanal"


def test_statement_in_english(client):
    client.cookies["django_language"] = "en"
    html = client.get(reverse("accessibility_statement")).content.decode()
    assert '<html lang="en">' in html
    assert "Accessibility statement for Kanal" in html
    assert "Compliance status" in html
    assert "is partially compliant with WCAG 2.1 AA" in html
    assert "Success criterion 1.4.10." in html
    assert "Enforcement procedure" in html


def test_every_page_links_the_statement_in_its_footer(member, client_for, client):
    url = reverse("accessibility_statement")
    footer = r'(?s)<footer class="site-footer">.*?</footer>'
    for response in (
        client.get(reverse("login")),
        client.get(reverse("password_forgot")),
        client_for(member(Role.ANALYST)).get(reverse("planning:report")),
    ):
        assert f'href="{url}"' in _tag(response.content.decode(), footer)
    assert client.get("/was").headers["Location"] == url


def test_statement_reachable_before_two_factor_set_up(member, client_for):
    editor = member(Role.EDITOR)
    editor.organisation.require_two_factor = True
    editor.organisation.save()
    response = client_for(editor).get(reverse("accessibility_statement"))
    assert response.status_code == 200


ORG_STATEMENT = """
status = "fuldt"
standard = "WCAG 2.1 AA"
prepared = 2027-01-15
website = "kanal.frederiksberg.dk"
[organisation]
da = "Frederiksberg Kommune"
[scope]
da = "Kanal hos Frederiksberg Kommune."
[method]
da = "Gennemgået af en ekstern konsulent."
[disproportionate_burden]
da = "Ingen."
[out_of_scope]
da = "Ingen."
[feedback]
email = "web@frederiksberg.dk"
phone = "38 21 21 21"
response_days = 5
da = "Skriv eller ring."
"""


def test_the_organisation_edits_its_own_statement(tmp_path, client):
    path = tmp_path / "erklaering.toml"
    path.write_text(ORG_STATEMENT, encoding="utf-8")
    with override_settings(KANAL_ACCESSIBILITY_STATEMENT=path):
        html = client.get(reverse("accessibility_statement")).content.decode()
    assert "Tilgængelighedserklæring for kanal.frederiksberg.dk" in html
    assert "Frederiksberg Kommune er forpligtet" in html
    assert "er fuldt ud i overensstemmelse med WCAG 2.1 AA" in html
    assert 'href="mailto:web@frederiksberg.dk"' in html
    assert 'href="tel:38212121"' in html
    assert "inden for 5 arbejdsdage" in html
    assert "Der er ikke fundet indhold, som ikke overholder kravene." in html
    statement = load_statement(path, "en")  # English falls back to Danish
    assert statement.scope == "Kanal hos Frederiksberg Kommune."
    assert statement.reviewed == date(2027, 1, 15)


def test_a_broken_statement_file_fails_the_system_check(tmp_path, settings):
    from kanal.core.checks import accessibility_statement_is_readable

    path = tmp_path / "erklaering.toml"
    path.write_text('status = "måske"\n', encoding="utf-8")
    settings.KANAL_ACCESSIBILITY_STATEMENT = path
    errors = accessibility_statement_is_readable(None)
    assert [e.id for e in errors] == ["kanal.E003"]
    with pytest.raises(StatementError):
        load_statement(tmp_path / "findes-ikke.toml", "da")
    settings.KANAL_ACCESSIBILITY_STATEMENT = (
        settings.BASE_DIR / "kanal" / "core" / "accessibility" / "statement.toml"
    )
    assert accessibility_statement_is_readable(None) == []
