"""What a feed or a person sends the sources app is checked: one odd event
never loses the whole feed, a deeply nested JSON is the feed's fault (or a
Danish 400 in the form), a suggestion's time stays in Kanal's window, and one
source's crash never stops the fetching of the others."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from kanal.sources import actions, parsers, tasks
from kanal.sources.models import Source, SourceItem, Suggestion
from kanal.sources.partners import as_item

from .test_views import fetched  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def soon() -> str:
    return (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0).isoformat()


def test_an_event_with_a_lone_surrogate_in_its_id_does_not_lose_the_feed(
    feed_server, make_source
):
    body = json.dumps({"events": [
        {"id": "ok-1", "title": "Bogcafé", "start": soon()},
        {"id": "bad-\ud800", "title": "Koncert", "start": soon(),
         "url": "https://kk.dk/\ud800"},
    ]}).encode()  # ensure_ascii: the id is the JSON escape \ud800
    feed_server.serve("/e.json", body, content_type="application/json")
    source = make_source(feed_server.url("/e.json"), kind="json")
    message = actions.refresh_source(source, actor=None)
    assert set(SourceItem.objects.values_list("guid", flat=True)) == {"ok-1", "bad-"}
    assert "2 emner læst" in message


def test_a_lone_surrogate_leaves_an_rss_id_and_link():
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
            b"<item><title>Nyhed &#54620;</title><guid>g-&#xD800;1&#55296;</guid>"
            b"<link>https://kk.dk/a</link></item></channel></rss>")
    items = parsers.parse_feed(body)
    assert [(i.guid, i.title) for i in items] == [("g-1", "Nyhed \ud55c")]


def test_an_over_long_link_is_left_out_not_cut():
    assert parsers.safe_url("https://kk.dk/" + "a" * 1000) == ""
    assert parsers.safe_url("https://kk.dk/a") == "https://kk.dk/a"


def test_a_partner_post_with_an_over_long_id_is_skipped():
    class Post:
        remote_id = "9" * 201
        text, author_name, media_urls, url, created_at = "Hej", "Bib", (), "", None

    assert as_item("mastodon", Post()) is None


def test_a_deeply_nested_json_feed_is_the_feeds_fault():
    start, end = parsers.window(datetime.now(UTC), days=60)
    with pytest.raises(parsers.ParseError, match="dybere i hinanden"):
        parsers.parse_json(b"[" * 100_000 + b"]" * 100_000, mapping={},
                           start=start, end=end)


@pytest.mark.parametrize("mapping", ["[" * 100_000 + "]" * 100_000,
                                     '{"title": "' + "a" * 3000 + '"}'])
def test_a_deep_or_huge_json_mapping_is_a_danish_400(desk, mapping):
    client = Client(raise_request_exception=False)
    client.force_login(desk.editor.user)
    response = client.post(reverse("sources:source_create"), {
        "name": "Kalender", "kind": "json", "url": "https://kk.dk/events.json",
        "owner_administration": desk.kff.pk, "fetch_every_minutes": 60,
        "json_mapping": mapping,
    })
    assert response.status_code == 400
    assert not Source.objects.exists()


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "2100-01-01T00:00",
                                  "0001-01-01T00:00", "1900-01-01T12:00"])
def test_a_suggestion_time_outside_kanals_window_is_a_danish_400(
    desk, fetched, when  # noqa: F811
):
    suggestion = Suggestion.objects.first()
    before = suggestion.planned_at
    client = Client(raise_request_exception=False)
    client.force_login(desk.editor.user)
    response = client.post(reverse("sources:suggestion_edit", args=[suggestion.pk]),
                           {"text": "Bogcafé", "planned_at": when})
    assert response.status_code == 400
    assert "Datoen skal ligge mellem 01.01.2000 og 31.12.2099" in \
        response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.planned_at == before


def test_one_sources_crash_does_not_stop_the_others_and_is_said_on_it(
    feed_server, make_source, monkeypatch
):
    feed_server.serve("/a.json", json.dumps({"events": [
        {"id": "a", "title": "Bogcafé", "start": soon()}]}).encode(),
        content_type="application/json")
    broken = make_source(feed_server.url("/a.json"), kind="json", name="Første")
    working = make_source(feed_server.url("/a.json"), kind="json", name="Anden")
    real = actions.refresh_source

    def refresh(source, **kwargs):
        if source.pk == broken.pk:
            raise RecursionError("a bug in Kanal")
        return real(source, **kwargs)

    monkeypatch.setattr(actions, "refresh_source", refresh)
    assert tasks.fetch_due_sources() == 2
    assert SourceItem.objects.filter(source=working).exists()
    broken.refresh_from_db()
    assert broken.status == "failing"
    assert "fejl i Kanal" in broken.error_message


def test_a_link_with_a_control_character_inside_is_left_out_not_mended():
    """``kanal.untrusted.safe_url``: before, the control character was cut
    out and the link kept as another address."""
    assert parsers.safe_url("https://kk.dk/\x00a") == ""
    assert parsers.safe_url("https://kk.dk/a b") == ""
    assert parsers.safe_url("https://") == ""
    assert parsers.safe_url("\n  https://kk.dk/a \n") == "https://kk.dk/a"


def test_a_partner_post_whose_id_is_no_id_is_skipped_not_mended():
    class Post:
        remote_id = "11\x002"  # was cleaned into "112", another post's id
        text, author_name, media_urls, url, created_at = "Hej", "Bib", (), "", None

    assert as_item("mastodon", Post()) is None
    Post.remote_id = "112"
    Post.created_at = datetime(1, 1, 1, tzinfo=UTC)
    item = as_item("mastodon", Post())
    assert (item.remote_id, item.published_at) == ("112", None)


def test_a_feed_entry_published_in_a_far_year_has_no_publication_time():
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
            b"<item><title>Nyhed</title><guid>g-1</guid>"
            b"<pubDate>Sat, 01 Jan 2950 00:00:00 GMT</pubDate></item>"
            b"<item><title>Nyhed 2</title><guid>g-2</guid>"
            b"<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>"
            b"</channel></rss>")
    items = {i.guid: i.published_at for i in parsers.parse_feed(body)}
    assert items == {"g-1": None, "g-2": datetime(2026, 11, 2, 10, tzinfo=UTC)}
