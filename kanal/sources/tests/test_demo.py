"""The demo's feeds: the sandbox serves them on loopback, the demo loader
registers them, and the desk sees suggestions at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from kanal.sources import demo
from kanal.sources.models import Source, SourceItem, SourceStatus, Suggestion
from kanal.sources.parsers import LOCAL, parse_feed, parse_ical, parse_json
from sandbox import feeds

pytestmark = pytest.mark.django_db


def _window():
    now = timezone.now()
    return now - timedelta(days=1), now + timedelta(days=60)


def test_every_sandbox_feed_reads_cleanly():
    today = date.today()
    start, end = _window()
    library = parse_ical(feeds.library_ics(today), start=start, end=end)
    # Eight Saturdays less the one left out (EXDATE), plus the rest.
    fairy_tales = [i for i in library if i.title.startswith("Eventyrtime")]
    assert len(fairy_tales) == 7
    assert {i.starts_at.astimezone(LOCAL).hour for i in fairy_tales} == {10}
    assert fairy_tales[0].image_url.endswith("eventyrtime.jpg")
    bath = parse_ical(feeds.swimming_ics(today), start=start, end=end)
    assert any(i.all_day for i in bath)
    assert any(i.cancelled for i in bath)
    house = parse_json(
        feeds.culture_house_json(today),
        mapping=demo.CULTURE_HOUSE_MAPPING,
        start=start,
        end=end,
    )
    assert [i.guid for i in house] == ["kib-2031", "kib-2032", "kib-2033"]
    press = parse_feed(feeds.press_rss(today))
    assert press[0].title == "Ny svømmehal i Nordhavn åbner for offentligheden"
    assert demo.CULTURE_HOUSE_MAPPING == feeds.CULTURE_HOUSE_MAPPING


def test_the_demo_loader_registers_the_sandbox_feeds_and_shows_suggestions(
    sandbox_server, desk, organisation
):
    note = demo.load_sources_demo(
        organisation, feeds_url=f"{sandbox_server.url}/_feeds"
    )

    assert note == ""
    sources = Source.objects.filter(organisation=organisation)
    assert sources.count() == 4
    assert set(sources.values_list("status", flat=True)) == {SourceStatus.OK}
    assert all(s.allow_private for s in sources)
    library = sources.get(name="Hovedbiblioteket")
    assert Suggestion.objects.filter(item__source=library).count() > 5
    press = sources.get(kind="rss")
    assert Suggestion.objects.filter(
        item__source=press, link="https://www.kk.dk/nyheder/ny-svoemmehal-i-nordhavn"
    ).exists()
    # Loading again adds nothing and, with the feeds unchanged, changes nothing.
    items = SourceItem.objects.count()
    suggestions = Suggestion.objects.count()
    assert (
        demo.load_sources_demo(organisation, feeds_url=f"{sandbox_server.url}/_feeds")
        == ""
    )
    assert (Source.objects.count(), SourceItem.objects.count()) == (4, items)
    assert Suggestion.objects.count() == suggestions


def test_the_sandbox_answers_304_to_an_unchanged_feed(sandbox_server):
    import httpx

    url = f"{sandbox_server.url}/_feeds/hovedbiblioteket.ics"
    first = httpx.get(url)
    assert first.status_code == 200
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_a_sandbox_down_gives_a_note_and_failing_sources(desk, organisation):
    note = demo.load_sources_demo(organisation, feeds_url="http://127.0.0.1:9/_feeds")
    assert "øvebanen ikke svarede" in note
    assert set(Source.objects.values_list("status", flat=True)) == {
        SourceStatus.FAILING
    }


@pytest.mark.sandbox
def test_the_demo_follows_the_libraries_on_mastodon(
    sandbox, desk, organisation, mastodon_channel
):
    note = demo.load_sources_demo(organisation, feeds_url=f"{sandbox.url}/_feeds")

    assert note == ""
    partner = Source.objects.get(name=demo.DEMO_PARTNER[0])
    assert partner.status == SourceStatus.OK
    assert partner.partner_channel == mastodon_channel
    made = Suggestion.objects.filter(item__source=partner)
    assert {s.channel.network for s in made} == {"mastodon", "facebook"}
