"""The sources pages: who may do what, the forms' answers to bad input, and
the desk's decisions through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory, OrganisationFactory
from kanal.planning.models import Post, PostStatus
from kanal.sources import actions, decisions
from kanal.sources.models import Source, SourceStatus, Suggestion, SuggestionStatus

from .feeds import days_ahead, ics, ics_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def fetched(feed_server, make_source):
    start = days_ahead(9, 11)
    feed_server.serve(
        "/k.ics",
        ics(
            ics_event(
                "bog@bib", start, "Bogcafé for voksne", end=start + timedelta(hours=1)
            )
        ),
    )
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    return source


def test_pages_by_role(client_for, desk, fetched):
    suggestion = Suggestion.objects.first()
    pages = [
        reverse("sources:suggestions"),
        reverse("sources:source_list"),
        reverse("sources:source_create"),
        reverse("sources:source_detail", args=[fetched.pk]),
        reverse("sources:source_edit", args=[fetched.pk]),
        reverse("sources:suggestion_edit", args=[suggestion.pk]),
    ]
    for who, expected in (
        (desk.admin, 200),
        (desk.editor, 200),
        (desk.contributor, 403),
        (desk.analyst, 403),
    ):
        client = client_for(who)
        for url in pages:
            assert client.get(url).status_code == expected, (who.role, url)


def test_another_organisation_sees_nothing(client, fetched):
    other = MembershipFactory(
        organisation=OrganisationFactory(slug="andet"), role=Role.ADMIN
    )
    client.force_login(other.user)
    suggestion = Suggestion.objects.first()
    for url in (
        reverse("sources:source_detail", args=[fetched.pk]),
        reverse("sources:source_edit", args=[fetched.pk]),
        reverse("sources:suggestion_edit", args=[suggestion.pk]),
    ):
        assert client.get(url).status_code == 404
    for url in (
        reverse("sources:source_fetch", args=[fetched.pk]),
        reverse("sources:suggestion_accept", args=[suggestion.pk]),
        reverse("sources:suggestion_dismiss", args=[suggestion.pk]),
    ):
        assert client.post(url).status_code == 404
    assert "Bogcafé" not in client.get(reverse("sources:suggestions")).text


def test_suggestions_page_shows_the_calendar_of_suggestions(client_for, desk, fetched):
    page = client_for(desk.editor).get(reverse("sources:suggestions"))
    assert page.status_code == 200
    assert page.text.count('class="suggestion"') == 3
    assert "Bogcafé for voksne" in page.text
    assert "Tag i brug" in page.text


def test_accept_through_the_page_makes_a_draft(client_for, desk, fetched):
    suggestion = Suggestion.objects.get(channel__network="facebook")
    response = client_for(desk.editor).post(
        reverse("sources:suggestion_accept", args=[suggestion.pk])
    )
    post = Post.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("planning:post_detail", args=[post.pk])
    assert post.status == PostStatus.DRAFT
    # A second click finds it already decided and makes no second post.
    again = client_for(desk.editor).post(
        reverse("sources:suggestion_accept", args=[suggestion.pk])
    )
    assert again.status_code == 302
    assert Post.objects.count() == 1


def test_dismiss_through_the_page(client_for, desk, fetched):
    suggestion = Suggestion.objects.get(channel__network="x")
    client_for(desk.editor).post(
        reverse("sources:suggestion_dismiss", args=[suggestion.pk])
    )
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISMISSED
    page = client_for(desk.editor).get(reverse("sources:suggestions"))
    assert page.text.count('class="suggestion"') == 2


def test_edit_a_suggestion_and_refuse_a_past_time(client_for, desk, fetched):
    suggestion = Suggestion.objects.get(channel__network="x")
    url = reverse("sources:suggestion_edit", args=[suggestion.pk])
    client = client_for(desk.editor)
    past = client.post(url, {"text": "Ny tekst", "planned_at": "2020-01-01T10:00"})
    assert past.status_code == 400
    assert "passeret" in past.text
    ok = client.post(
        url,
        {"text": "Ny tekst", "planned_at": days_ahead(8, 9).strftime("%Y-%m-%dT%H:%M")},
    )
    assert ok.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.text == "Ny tekst" and suggestion.edited


def test_create_a_source_through_the_form(client_for, desk):
    response = client_for(desk.editor).post(
        reverse("sources:source_create"),
        {
            "name": "Kulturhuset Islands Brygge",
            "kind": "json",
            "url": "https://kulturhusetib.kk.dk/events.json",
            "owner_administration": desk.kff.pk,
            "channels": [desk.channels["facebook"].pk],
            "category": "Kultur",
            "purposes": ["information"],
            "json_mapping": '{"items": "data", "title": "name"}',
            "fetch_every_minutes": 30,
            "allow_private": "on",
        },
    )
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.json_mapping == {"items": "data", "title": "name"}
    assert list(source.default_channels.all()) == [desk.channels["facebook"]]
    # An editor cannot let a source fetch from internal addresses.
    assert source.allow_private is False


def test_only_an_administrator_may_allow_internal_addresses(client_for, desk):
    data = {
        "name": "Intern kalender",
        "kind": "ical",
        "url": "http://intranet.kk.dk/k.ics",
        "owner_administration": desk.kff.pk,
        "fetch_every_minutes": 60,
        "allow_private": "on",
    }
    client_for(desk.admin).post(reverse("sources:source_create"), data)
    assert Source.objects.get().allow_private is True
    with pytest.raises(Exception, match="rettighed"):
        actions.create_source(
            actor=desk.editor,
            name="x",
            kind="ical",
            url="http://x.test/",
            owner_administration=desk.kff,
            allow_private=True,
        )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("url", "javascript:alert(1)", "gyldig"),
        ("json_mapping", "{not json", "JSON"),
        ("json_mapping", '{"titel": "name"}', "kender ikke"),
        ("kind", "xml", "gyldig valgmulighed"),
        ("fetch_every_minutes", "1", "5"),
    ],
)
def test_bad_source_input_gets_a_danish_message(client_for, desk, field, value, words):
    data = {
        "name": "Kilde",
        "kind": "ical",
        "url": "https://kk.dk/k.ics",
        "owner_administration": desk.kff.pk,
        "fetch_every_minutes": 60,
        field: value,
    }
    response = client_for(desk.editor).post(reverse("sources:source_create"), data)
    assert response.status_code == 400
    assert words in response.text
    assert not Source.objects.exists()


def test_fetch_now_shows_the_plain_danish_error(
    client_for, desk, make_source, feed_server
):
    source = make_source(feed_server.url("/mangler.ics"))
    client = client_for(desk.editor)
    response = client.post(
        reverse("sources:source_fetch", args=[source.pk]), follow=True
    )
    assert "Feedet findes ikke længere på adressen (404)" in response.text
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILING


def test_pause_and_resume(client_for, desk, fetched):
    client = client_for(desk.editor)
    client.post(reverse("sources:source_pause", args=[fetched.pk]))
    fetched.refresh_from_db()
    assert fetched.status == SourceStatus.PAUSED
    client.post(reverse("sources:source_pause", args=[fetched.pk]))
    fetched.refresh_from_db()
    assert fetched.status == SourceStatus.NEW


def test_edit_source_changes_address_and_forgets_the_etag(client_for, desk, fetched):
    # A source on a public address (one allowed internal addresses is
    # re-pointed only by an administrator: test_private_address_rights.py).
    Source.objects.filter(pk=fetched.pk).update(etag='"v1"', allow_private=False)
    response = client_for(desk.editor).post(
        reverse("sources:source_edit", args=[fetched.pk]),
        {
            "name": "Hovedbiblioteket",
            "kind": "ical",
            "url": "https://bibliotek.kk.dk/ny.ics",
            "owner_administration": desk.kff.pk,
            "fetch_every_minutes": 60,
        },
    )
    assert response.status_code == 302
    fetched.refresh_from_db()
    assert fetched.url == "https://bibliotek.kk.dk/ny.ics"
    assert fetched.etag == "" and fetched.content_digest == ""
    assert fetched.allow_private is False


def test_the_stored_error_is_read_in_the_readers_language(
    client_for, desk, make_source, feed_server
):
    source = make_source(feed_server.url("/mangler.ics"))
    actions.refresh_source(source, actor=None)
    client = client_for(desk.editor)
    url = reverse("sources:source_detail", args=[source.pk])
    assert "Feedet findes ikke længere på adressen (404)" in client.get(url).text
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url)
    assert "The feed is no longer at this address (404)" in english.text


def test_the_calendar_moves_by_weeks_and_ignores_a_bad_date(client_for, desk, fetched):
    client = client_for(desk.editor)
    url = reverse("sources:suggestions")
    later = (days_ahead(40)).strftime("%Y-%m-%d")
    assert "Bogcafé" not in client.get(f"{url}?fra={later}").text
    assert "Ingen forslag i denne uge." in client.get(f"{url}?fra={later}").text
    bad = client.get(f"{url}?fra=not-a-day")
    assert bad.status_code == 200
    assert "Bogcafé" in bad.text


def test_suggestions_show_on_the_planning_calendar_for_those_who_plan(
    client_for, desk, fetched
):
    """Planning's calendar asks its overlay providers (planning.overlays);
    the sources app places its open suggestions there, on their days."""
    suggestions = list(Suggestion.objects.filter(status=SuggestionStatus.OPEN))
    assert suggestions
    first = min(s.planned_at for s in suggestions)
    local = first.astimezone(settings_tz()).date()
    editor = client_for(desk.editor)
    week = editor.get(reverse("planning:calendar_week"), {"uge": local.isoformat()})
    assert week.status_code == 200
    assert 'class="entry overlay overlay-suggestion"' in week.text
    assert "Bogcafé for voksne" in week.text
    assert any(reverse("sources:suggestion_edit", args=[s.pk]) in week.text
               for s in suggestions)
    month = editor.get(reverse("planning:calendar"),
                       {"maaned": local.strftime("%Y-%m")})
    assert "overlay-suggestion" in month.text
    # Dismissed suggestions leave the calendar.
    for s in suggestions:
        decisions.dismiss_suggestion(s, actor=desk.editor)
    week = editor.get(reverse("planning:calendar_week"), {"uge": local.isoformat()})
    assert "overlay-suggestion" not in week.text


def test_the_calendar_shows_no_suggestions_to_those_who_may_not_plan(
    client_for, desk, fetched
):
    first = min(s.planned_at for s in Suggestion.objects.all())
    local = first.astimezone(settings_tz()).date()
    page = client_for(desk.contributor).get(
        reverse("planning:calendar_week"), {"uge": local.isoformat()}
    )
    assert page.status_code == 200
    assert "overlay-suggestion" not in page.text


def settings_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def test_the_form_asks_for_what_each_kind_needs(client_for, desk):
    from kanal.channels.tests.factories import ChannelFactory

    mastodon = ChannelFactory(
        organisation=desk.kff.organisation, owner_administration=desk.kff,
        network="mastodon", display_name="KK på Mastodon",
    )
    client = client_for(desk.editor)
    base = {
        "name": "Partner",
        "owner_administration": desk.kff.pk,
        "fetch_every_minutes": 60,
    }

    no_address = client.post(reverse("sources:source_create"), {**base, "kind": "rss"})
    no_account = client.post(
        reverse("sources:source_create"), {**base, "kind": "partner"}
    )
    facebook = client.post(
        reverse("sources:source_create"),
        {
            **base,
            "kind": "partner",
            "partner_account": "kobenhavnspoliti",
            "partner_channel": desk.channels["facebook"].pk,
        },
    )
    made = client.post(
        reverse("sources:source_create"),
        {
            **base,
            "kind": "partner",
            "partner_account": "@politi@kk.social",
            "partner_channel": mastodon.pk,
            "keywords": " trafik, , Strøget ",
            "channels": [mastodon.pk],
        },
    )

    assert no_address.status_code == 400
    assert "Skriv feedets adresse." in no_address.text
    assert no_account.status_code == 400
    assert "Skriv partnerens konto" in no_account.text
    assert "Vælg kanalen, partnerens opslag skal læses gennem." in no_account.text
    # Only channels whose network reads other accounts are offered.
    assert facebook.status_code == 400
    assert made.status_code == 302
    source = Source.objects.get()
    assert (source.kind, source.partner_account) == ("partner", "politi@kk.social")
    assert source.partner_channel == mastodon
    assert source.keywords == ["trafik", "Strøget"]
    edit = client.get(reverse("sources:source_edit", args=[source.pk]))
    assert 'value="trafik, Strøget"' in edit.text
