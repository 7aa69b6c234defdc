"""Fetching a source turns its items into suggestions; changes, cancellations
and dismissals propagate; the periodic job survives bad feeds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.notifications.models import Notification
from kanal.planning.models import Post, PostStatus
from kanal.sources import actions, decisions, tasks
from kanal.sources.models import (
    SourceItem,
    SourceStatus,
    Suggestion,
    SuggestionStatus,
)
from kanal.sources.parsers import LOCAL

from .feeds import days_ahead, ics, ics_event, rss

pytestmark = pytest.mark.django_db


def _concert(start=None, summary="Koncert i Musikcaféen", **kw):
    start = start or days_ahead(10, 19, 30)
    return ics_event(
        "koncert-1@bibliotek",
        start,
        summary,
        end=start + timedelta(hours=2),
        description="<p>Gratis koncert med <b>Københavns Jazzorkester</b>.</p>"
        "<script>alert(1)</script>",
        **kw,
    )


def test_a_new_event_becomes_one_suggestion_per_channel(feed_server, make_source):
    feed_server.serve("/kalender.ics", ics(_concert()))
    source = make_source(feed_server.url("/kalender.ics"))

    message = actions.refresh_source(source, actor=None)

    source.refresh_from_db()
    assert source.status == SourceStatus.OK, message
    assert source.last_error == ""
    item = SourceItem.objects.get(source=source)
    assert item.title == "Koncert i Musikcaféen"
    assert "alert" not in item.summary and "<" not in item.summary
    assert "Københavns Jazzorkester" in item.summary
    by_network = {s.channel.network: s for s in Suggestion.objects.filter(item=item)}
    assert set(by_network) == {"facebook", "instagram", "x"}
    event_day = item.starts_at.astimezone(LOCAL).date()
    facebook = by_network["facebook"]
    assert facebook.planned_at.astimezone(LOCAL).date() == event_day - timedelta(3)
    assert "Koncert i Musikcaféen" in facebook.text
    assert "kl. 19.30–21.30" in facebook.text
    assert facebook.link == "https://bibliotek.kk.dk/arrangementer/1"
    instagram = by_network["instagram"]
    assert instagram.hashtags == ["#voreskbh"]
    assert instagram.planned_at.astimezone(LOCAL).date() == event_day - timedelta(2)
    x = by_network["x"]
    assert x.planned_at.astimezone(LOCAL).date() == event_day
    assert x.text.startswith("I dag kl. 19.30: Koncert i Musikcaféen")


def test_short_networks_get_a_text_within_their_limit(feed_server, make_source, desk):
    long_title = "Stor sommerfest " + "med musik og dans " * 30
    feed_server.serve("/k.ics", ics(_concert(summary=long_title.strip())))
    source = make_source(feed_server.url("/k.ics"), channels=[desk.channels["x"]])

    actions.refresh_source(source, actor=None)

    x = Suggestion.objects.get()
    from kanal.channels.adapters import adapter_for

    adapter = adapter_for(desk.channels["x"], credentials=False)
    limit = adapter.capabilities().max_text_length
    assert adapter.count_text(f"{x.text}\n\n{x.link}") <= limit
    assert x.text.endswith("…")


def test_unchanged_refetch_does_no_work_beyond_the_conditional_request(
    feed_server, make_source, monkeypatch
):
    body = ics(_concert())

    def route(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, None
        return 200, {"Content-Type": "text/calendar", "ETag": '"v1"'}, body

    feed_server.routes["/k.ics"] = route
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    source.refresh_from_db()
    assert source.etag == '"v1"'

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed an unchanged feed")

    monkeypatch.setattr(actions, "parse", must_not_parse)
    message = actions.refresh_source(source, actor=None)

    assert message == "Uændret siden sidst."
    assert feed_server.requests[-1][1]["If-None-Match"] == '"v1"'
    source.refresh_from_db()
    assert source.status == SourceStatus.OK


def test_same_body_without_etag_is_not_parsed_again(
    feed_server, make_source, monkeypatch
):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    monkeypatch.setattr(actions, "parse", lambda *a, **k: pytest.fail("parsed"))

    assert actions.refresh_source(source, actor=None) == "Uændret siden sidst."


def test_a_changed_event_updates_its_open_suggestion(feed_server, make_source):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    x_before = Suggestion.objects.get(channel__network="x")

    feed_server.serve("/k.ics", ics(_concert(start=days_ahead(12, 17, 0))))
    actions.refresh_source(source, actor=None)

    x = Suggestion.objects.get(pk=x_before.pk)
    assert x.status == SuggestionStatus.OPEN
    assert x.text.startswith("I dag kl. 17.00:")
    assert x.planned_at.astimezone(LOCAL).date() == days_ahead(12).date()
    assert SourceItem.objects.count() == 1


def test_an_edited_suggestion_is_only_marked_when_the_event_changes(
    feed_server, make_source, desk
):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    fb = Suggestion.objects.get(channel__network="facebook")
    decisions.update_suggestion(
        fb, actor=desk.editor, text="Vores egen tekst", planned_at=fb.planned_at
    )

    feed_server.serve("/k.ics", ics(_concert(location="Valby Bibliotek")))
    actions.refresh_source(source, actor=None)

    fb.refresh_from_db()
    assert fb.text == "Vores egen tekst"
    assert fb.item_changed is True


def test_a_cancelled_event_withdraws_its_suggestions(feed_server, make_source):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)

    feed_server.serve("/k.ics", ics(_concert(extra="STATUS:CANCELLED\r\n")))
    actions.refresh_source(source, actor=None)

    assert set(Suggestion.objects.values_list("status", flat=True)) == {
        SuggestionStatus.WITHDRAWN
    }


def test_an_event_gone_from_the_feed_counts_as_cancelled(feed_server, make_source):
    other = ics_event("andet@bib", days_ahead(20), "Forfatteraften")
    feed_server.serve("/k.ics", ics(_concert(), other))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)

    feed_server.serve("/k.ics", ics(other))
    actions.refresh_source(source, actor=None)

    gone = SourceItem.objects.get(guid="koncert-1@bibliotek")
    assert gone.cancelled
    assert not gone.suggestions.filter(status=SuggestionStatus.OPEN).exists()
    kept = SourceItem.objects.get(guid="andet@bib")
    assert kept.suggestions.filter(status=SuggestionStatus.OPEN).count() == 3


def test_change_or_cancellation_after_accepting_warns_the_desk(
    feed_server, make_source, desk
):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    fb = Suggestion.objects.get(channel__network="facebook")
    post = decisions.accept_suggestion(fb, actor=desk.editor)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.SCHEDULED)

    feed_server.serve("/k.ics", ics(_concert(start=days_ahead(11, 19, 30))))
    actions.refresh_source(source, actor=None)

    changed = Notification.objects.filter(kind="source.item_changed")
    assert changed.filter(recipient=desk.editor).count() == 1
    assert "Koncert i Musikcaféen" in changed.first().message

    feed_server.serve("/k.ics", ics(_concert(extra="STATUS:CANCELLED\r\n")))
    actions.refresh_source(source, actor=None)
    assert Notification.objects.filter(
        kind="source.item_cancelled", recipient=desk.editor
    ).exists()


def test_accepting_makes_a_draft_in_the_normal_workflow(feed_server, make_source, desk):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"), category="Kultur")
    actions.refresh_source(source, actor=None)
    ig = Suggestion.objects.get(channel__network="instagram")

    post = decisions.accept_suggestion(ig, actor=desk.editor)

    assert post.status == PostStatus.DRAFT
    assert post.owner_administration == desk.kff
    assert post.category == "Kultur"
    variant = post.variants.get()
    assert variant.channel == desk.channels["instagram"]
    assert variant.text == ig.text
    assert variant.planned_at == ig.planned_at
    assert "#voreskbh" in variant.hashtags
    ig.refresh_from_db()
    assert ig.status == SuggestionStatus.ACCEPTED and ig.post == post


def test_a_dismissed_suggestion_never_returns(feed_server, make_source, desk):
    feed_server.serve("/k.ics", ics(_concert()))
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    fb = Suggestion.objects.get(channel__network="facebook")
    decisions.dismiss_suggestion(fb, actor=desk.editor)

    feed_server.serve("/k.ics", ics(_concert(summary="Koncert (ny tid)")))
    actions.refresh_source(source, actor=None)

    fb.refresh_from_db()
    assert fb.status == SuggestionStatus.DISMISSED
    assert Suggestion.objects.filter(channel__network="facebook").count() == 1


def test_press_releases_become_posts_with_their_link(feed_server, make_source, desk):
    feed_server.serve(
        "/presse.xml",
        rss(
            (
                "kk-1",
                "Ny svømmehal åbner i Nordhavn",
                "https://www.kk.dk/nyheder/svoemmehal",
                "Borgerrepræsentationen har bevilget 200 mio. kr.",
            )
        ),
        content_type="application/rss+xml",
    )
    source = make_source(
        feed_server.url("/presse.xml"),
        kind="rss",
        channels=[desk.channels["facebook"], desk.channels["x"]],
    )

    actions.refresh_source(source, actor=None)

    suggestions = Suggestion.objects.order_by("channel__network")
    assert [s.channel.network for s in suggestions] == ["facebook", "x"]
    for s in suggestions:
        assert s.link == "https://www.kk.dk/nyheder/svoemmehal"
        assert s.text.startswith("Ny svømmehal åbner i Nordhavn")
        assert s.planned_at > timezone.now()


def test_suggestions_go_where_the_cadence_has_room(feed_server, make_source, desk):
    strategy = desk.channels["x"].strategy
    strategy.cadence_max = 1
    strategy.save()
    day = days_ahead(10, 10)
    feed_server.serve(
        "/k.ics",
        ics(
            ics_event("a@b", day, "Formiddagsyoga"),
            ics_event("b@b", day.replace(hour=15), "Eftermiddagskoncert"),
        ),
    )
    source = make_source(feed_server.url("/k.ics"), channels=[desk.channels["x"]])

    actions.refresh_source(source, actor=None)

    days = sorted(
        s.planned_at.astimezone(LOCAL).date() for s in Suggestion.objects.all()
    )
    # One a day: the second goes the day before its event.
    assert days == [day.date() - timedelta(days=1), day.date()]


def test_periodic_job_goes_on_after_a_bad_feed(feed_server, make_source):
    feed_server.serve("/ok.ics", ics(_concert()))
    feed_server.serve("/broken.ics", b"BEGIN:VCALENDAR\r\nthis is not\r\n")
    broken = make_source(feed_server.url("/broken.ics"), name="A Ødelagt")
    missing = make_source(feed_server.url("/missing.ics"), name="B Mangler")
    good = make_source(feed_server.url("/ok.ics"), name="C God")

    assert tasks.fetch_due_sources() == 3

    for source in (broken, missing, good):
        source.refresh_from_db()
    assert broken.status == SourceStatus.FAILING
    assert "iCalendar" in broken.last_error
    assert missing.status == SourceStatus.FAILING
    assert "404" in missing.last_error
    assert good.status == SourceStatus.OK
    assert Suggestion.objects.filter(item__source=good).count() == 3
    # Not due again until its interval has passed.
    assert tasks.fetch_due_sources() == 0
    assert tasks.fetch_due_sources(now=timezone.now() + timedelta(hours=2)) == 3


def test_periodic_job_is_registered():
    from kanal.publishing.periodic import PERIODIC_JOBS

    assert "sources_fetch_due" in [job.name for job in PERIODIC_JOBS]


def test_a_crash_while_reading_is_recorded_and_the_job_goes_on(
    feed_server, make_source, monkeypatch
):
    feed_server.serve("/k.ics", ics(_concert()))
    first = make_source(feed_server.url("/k.ics"), name="A")
    second = make_source(feed_server.url("/k.ics"), name="B")
    calls = []

    def parse(source, *args, **kwargs):
        calls.append(source.name)
        if source.name == "A":
            raise RuntimeError("a bug")
        return original(source, *args, **kwargs)

    original = actions.parse
    monkeypatch.setattr(actions, "parse", parse)

    assert tasks.fetch_due_sources() == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert calls == ["A", "B"]
    assert first.status == SourceStatus.FAILING
    assert first.error_message == (
        "Feedet kunne ikke læses på grund af en fejl i Kanal. Prøv igen."
    )
    assert second.status == SourceStatus.OK


def test_old_press_releases_get_no_suggestion(feed_server, make_source, desk):
    body = rss(
        ("new", "Ny legeplads", "https://kk.dk/ny", ""),
        (
            "old",
            "Gammel nyhed",
            "https://kk.dk/gammel",
            "",
            timezone.now() - timedelta(days=8),
        ),
    )
    feed_server.serve("/p.xml", body, content_type="application/rss+xml")
    source = make_source(
        feed_server.url("/p.xml"), kind="rss", channels=[desk.channels["x"]]
    )

    actions.refresh_source(source, actor=None)

    assert SourceItem.objects.count() == 2
    assert [s.item.guid for s in Suggestion.objects.all()] == ["new"]


def test_two_sources_do_not_put_suggestions_in_the_same_slot(
    feed_server, make_source, desk
):
    day = days_ahead(10, 19)
    feed_server.serve("/a.ics", ics(ics_event("a@a", day, "Koncert")))
    feed_server.serve("/b.ics", ics(ics_event("b@b", day, "Foredrag")))
    channel = desk.channels["facebook"]
    for path in ("/a.ics", "/b.ics"):
        source = make_source(feed_server.url(path), name=path, channels=[channel])
        actions.refresh_source(source, actor=None)

    times = list(Suggestion.objects.values_list("planned_at", flat=True))
    assert len(times) == 2
    assert len(set(times)) == 2


def test_control_characters_in_a_feed_are_dropped_before_storing(
    feed_server, make_source, desk
):
    body = rss(
        ("kk-\x00\x01-1", "Nyhed\x00 med NUL", "https://kk.dk/\x00a", "Tekst\x00")
    )
    feed_server.serve("/p.xml", body, content_type="application/rss+xml")
    source = make_source(
        feed_server.url("/p.xml"), kind="rss", channels=[desk.channels["x"]]
    )

    actions.refresh_source(source, actor=None)

    source.refresh_from_db()
    assert source.status == SourceStatus.OK, source.error_message
    item = SourceItem.objects.get()
    # A link with a control character inside is left out, not mended into
    # another address (``kanal.untrusted.safe_url``).
    assert (item.guid, item.title, item.link) == (
        "kk--1",
        "Nyhed med NUL",
        "",
    )


def test_a_run_stops_at_its_time_budget_and_the_longest_waiting_go_first(
    feed_server, make_source, monkeypatch
):
    """Fetching shares the worker's network lane: one run starts no new
    source after ``FETCH_RUN_SECONDS``; the sources left waited longest and
    go first next run."""
    from kanal.publishing import periodic

    feed_server.serve("/k.ics", ics(_concert()))
    now = timezone.now()
    sources = [make_source(feed_server.url("/k.ics"), name=n) for n in "ABC"]
    # C waited longest (fetched 3 hours ago), then B, then A.
    for hours, source in zip((1, 2, 3), sources, strict=True):
        source.last_fetched_at = now - timedelta(hours=hours)
        source.save(update_fields=["last_fetched_at"])
    clock = [0.0]
    monkeypatch.setattr(periodic.time, "monotonic", lambda: clock[0])
    order = []

    def refresh(source, **kwargs):
        order.append(source.name)
        clock[0] += 40  # every feed answers in 40 s
        return original(source, **kwargs)

    original = actions.refresh_source
    monkeypatch.setattr(actions, "refresh_source", refresh)
    monkeypatch.setattr(tasks, "FETCH_RUN_SECONDS", 60.0)
    assert tasks.fetch_due_sources(now=now) == 2  # 0 s and 40 s: started
    assert order == ["C", "B"]
    assert tasks.fetch_due_sources(now=now) == 1
    assert order == ["C", "B", "A"]
