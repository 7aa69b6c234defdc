"""Found by the fifth outside tester (T5b): the Meta catch-up poll read one
page of a post's comments.

The catch-up poll is what makes "a missed webhook is never a lost
comment" true on Instagram and Threads. It read only the first page of each
post's comments (Instagram's ``/{media}/comments``, Threads'
``/{post}/conversation``: 25 by default) and never followed ``paging``.
Instagram lists a media's comments oldest first (its comment moderation
guide), so on any post with more than a page of comments every new one
was beyond the page read; listed newest first (the sandbox, Threads'
``reverse`` default), more than a page between two polls (a busy post,
five minutes) lost the rest. The poll now follows the pages: a listing
newest first up to the page that reaches the cursor's time, one oldest
first to its end, at most ``graph.INBOX_PAGES`` pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import respx

from kanal.channels.networks.base import Connection
from kanal.channels.networks.instagram import InstagramAdapter
from kanal.channels.networks.threads import ThreadsAdapter

BASE = "https://graph.example/v25.0"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def _stamp(n: int) -> str:
    return (START + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(minutes: int) -> str:
    """An inbox cursor (``graph.inbox_page``'s) at comment ``minutes``."""
    return json.dumps({"t": (START + timedelta(minutes=minutes)).isoformat(),
                       "ids": []})


def _comments(count: int, *, newest_first: bool, network: str) -> list[dict]:
    entries = []
    for n in range(count):
        entry = {"id": f"{9000 + n}", "text": f"kommentar {n}",
                 "timestamp": _stamp(n), "username": f"borger{n}"}
        if network == "instagram":
            entry["from"] = {"id": f"u{n}", "username": f"borger{n}"}
        else:
            entry["replied_to"] = {"id": "55"}
            entry["root_post"] = {"id": "55"}
        entries.append(entry)
    return entries[::-1] if newest_first else entries


def _listing(entries: list[dict], size: int):
    """A Graph edge over ``entries`` in pages of ``size`` (``after``)."""
    def respond(request):
        import httpx

        start = int(request.url.params.get("after") or 0)
        page = entries[start:start + size]
        body = {"data": page}
        if start + size < len(entries):
            body["paging"] = {"cursors": {"after": str(start + size)},
                              "next": f"{BASE}/next?after={start + size}"}
        return httpx.Response(200, json=body)
    return respond


def _adapter(network):
    cls = {"instagram": InstagramAdapter, "threads": ThreadsAdapter}[network]
    return cls(Connection(network=network, base_url=BASE, account_id="178",
                          handle="kbh", credentials={"access_token": "tok"}))


def _mock(api, network, entries):
    api.get("/178/media" if network == "instagram" else "/178/threads").respond(
        json={"data": [{"id": "55", "timestamp": _stamp(0)}]})
    edge = api.get("/55/comments" if network == "instagram"
                   else "/55/conversation").mock(side_effect=_listing(entries, 25))
    api.get("/178/tags").respond(json={"data": []})
    api.get("/178/mentions").respond(json={"data": []})
    api.get("/178/conversations").respond(json={"data": []})
    return edge


@pytest.mark.parametrize("network", ["instagram", "threads"])
@pytest.mark.parametrize("newest_first", [False, True],
                         ids=["oldest first", "newest first"])
def test_the_catch_up_poll_reads_every_page_of_a_posts_comments(
    network, newest_first
):
    """T5b-3."""
    entries = _comments(60, newest_first=newest_first, network=network)
    # The cursor of a poll that read the first 10 comments.
    since = _cursor(9)
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        edge = _mock(api, network, entries)
        page = _adapter(network).fetch_inbox(since=since)
    got = sorted(int(item.remote_id) - 9000 for item in page.items)
    assert got == list(range(9, 60))
    # Newest first, the pages stop once they reach the cursor's time.
    assert edge.call_count == 3


@pytest.mark.parametrize("network", ["instagram", "threads"])
def test_a_newest_first_listing_stops_at_the_cursor(network):
    entries = _comments(60, newest_first=True, network=network)
    cursor = _cursor(50)
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        edge = _mock(api, network, entries)
        page = _adapter(network).fetch_inbox(since=cursor)
    assert sorted(int(i.remote_id) - 9000 for i in page.items) == list(range(50, 60))
    assert edge.call_count == 1


# ---------------------------------------------------------------------------
# T5b-4: a poll told to wait (429 with Retry-After or a reset time) waits.


class _Throttled:
    """An adapter whose inbox read is refused with the network's throttle."""

    def __init__(self, error):
        self.error = error
        self.calls = 0

    def fetch_inbox(self, since=None):
        self.calls += 1
        raise self.error


def _due(channel, at) -> bool:
    import time_machine
    from django.utils import timezone

    from kanal.inbox import polling

    with time_machine.travel(at, tick=False):
        return channel in polling.due_channels(timezone.now())


@pytest.mark.django_db
@pytest.mark.parametrize("network,told", [
    ("linkedin", "reset"), ("x", "reset"), ("mastodon", "retry_after"),
    ("bluesky", "reset"), ("facebook", "retry_after"),
])
def test_a_rate_limited_poll_waits_until_the_network_allows_it(
    organisation, monkeypatch, network, told
):
    """T5b-4: a poll answered 429 (or Meta's throttle codes) was tried again
    at the channel's cadence, every 30-300 seconds, whatever the network
    said: LinkedIn's daily quota (429 until midnight UTC) was asked 700
    times a day, X's 15-minute window every minute, each refusal recorded
    as the inbox's problem. The channel now waits until the time the
    network gave (at most a day: an untrusted answer), then polls as
    before."""
    from kanal.channels.networks.errors import RateLimited
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox import polling
    from kanal.inbox.models import PollCursor

    from .factories import published_post

    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    channel = ChannelFactory(organisation=organisation, network=network,
                             status="connected")
    published_post(channel, published_at=now - timedelta(hours=1))  # polled often
    PollCursor.objects.create(channel=channel, cursor="c",
                              last_polled_at=now - timedelta(hours=1))
    wait = timedelta(minutes=40)
    error = (RateLimited(reset_at=now + wait) if told == "reset"
             else RateLimited(retry_after=wait.total_seconds()))
    adapter = _Throttled(error)
    monkeypatch.setattr(polling, "adapter_for", lambda channel: adapter)
    polling.poll_channel(channel, now=now)
    cursor = PollCursor.objects.get(channel=channel)
    assert cursor.cursor == "c" and cursor.last_error
    assert not _due(channel, now + timedelta(minutes=39))
    assert _due(channel, now + wait)


@pytest.mark.django_db
def test_a_throttle_that_names_a_far_time_holds_a_day_at_most(
    organisation, monkeypatch
):
    from kanal.channels.networks.errors import RateLimited
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox import polling
    from kanal.inbox.models import PollCursor

    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    channel = ChannelFactory(organisation=organisation, network="x",
                             status="connected")
    monkeypatch.setattr(polling, "adapter_for", lambda channel: _Throttled(
        RateLimited(reset_at=now + timedelta(days=400))))
    polling.poll_channel(channel, now=now)
    assert PollCursor.objects.get(channel=channel).cursor == ""
    assert _due(channel, now + timedelta(days=1))


# ---------------------------------------------------------------------------
# T5b-5: X lists a post some time after it is made; its id is older.

X_API = "https://api.x.com"
X_ME = "1500000000000000001"
TWITTER_EPOCH_MS = 1288834974657


def _snowflake(at: datetime, sequence: int = 0) -> str:
    ms = int(at.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((ms << 22) | sequence)


def _x_listing(visible: list[dict]):
    """X's mentions: the posts visible now with an id above ``since_id``,
    newest first, as X filters them."""
    def respond(request):
        import httpx

        since = int(request.url.params.get("since_id") or 0)
        data = sorted((t for t in visible if int(t["id"]) > since),
                      key=lambda t: int(t["id"]), reverse=True)
        meta = {"result_count": len(data)}
        if data:
            meta["newest_id"] = data[0]["id"]
        return httpx.Response(200, json={"data": data, "meta": meta} if data
                              else {"meta": meta})
    return respond


def _tweet(tweet_id: str, text: str) -> dict:
    return {"id": tweet_id, "text": f"@kbh {text}", "author_id": "77",
            "conversation_id": tweet_id, "created_at": "2026-12-01T10:00:00.000Z"}


def test_a_mention_x_lists_late_with_an_older_id_is_not_lost():
    """T5b-5: X's timelines and search list a post a little after it is made
    (its staff: "we can't guarantee the ordering ... rescan"), so a post can
    first appear after a newer one was read, with an id below the cursor:
    ``since_id`` then left it out for good. The poll reads back a few
    minutes before the cursor (an id is a time: a snowflake) and keeps the
    ids it read there in the cursor, so a late post is read once and the
    others are not read again."""
    from kanal.channels.networks.base import Connection
    from kanal.channels.networks.x import XAdapter

    adapter = XAdapter(Connection(
        network="x", base_url=X_API, account_id=X_ME, handle="",
        credentials={"access_token": "tok", "refresh_token": "r",
                     "client_id": "c"}), sleep=lambda s: None)
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    late = _tweet(_snowflake(t0), "lukker svømmehallen?")
    newer = _tweet(_snowflake(t0 + timedelta(seconds=40)), "og biblioteket?")
    visible = [newer]
    with respx.mock(base_url=X_API, assert_all_called=False) as api:
        api.get(f"/2/users/{X_ME}/mentions").mock(side_effect=_x_listing(visible))
        api.get("/2/dm_events").respond(json={"meta": {"result_count": 0}})
        first = adapter.fetch_inbox()
        assert [i.remote_id for i in first.items] == [newer["id"]]
        visible.append(late)  # X lists it now
        second = adapter.fetch_inbox(since=first.cursor)
        assert [i.remote_id for i in second.items] == [late["id"]]
        third = adapter.fetch_inbox(since=second.cursor)
        assert third.items == ()


# ---------------------------------------------------------------------------
# T5b-8: two workers polling at once.


@pytest.mark.django_db
@pytest.mark.parametrize("polled_before", [False, True],
                         ids=["never polled", "polled before"])
def test_two_workers_polling_at_once_read_each_channel_once(
    organisation, monkeypatch, polled_before
):
    """T5b-8: every worker process runs the periodic poll; two that start
    within the same run each took the due list and polled every channel on
    it: each network read twice (X bills reads, LinkedIn counts a daily
    quota), the read-backs twice. A worker now takes a channel's poll
    (compare-and-set on its last poll) before it reads, and passes one
    another worker has taken."""
    from kanal.channels.networks.base import InboxPage
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox import polling
    from kanal.inbox.models import PollCursor

    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    channels = [ChannelFactory(organisation=organisation, network=network,
                               status="connected")
                for network in ("mastodon", "x", "linkedin")]
    if polled_before:
        for channel in channels:
            PollCursor.objects.create(channel=channel, cursor="c",
                                      last_polled_at=now - timedelta(hours=2))
    reads = []

    class Quiet:
        def __init__(self, channel):
            self.channel = channel

        def fetch_inbox(self, since=None):
            reads.append(self.channel.pk)
            return InboxPage(items=(), cursor="c2")

    monkeypatch.setattr(polling, "adapter_for", Quiet)
    # Both workers read the due list before either polls.
    lists = [polling.due_channels(now), polling.due_channels(now)]
    assert len(lists[0]) == len(lists[1]) == 3
    monkeypatch.setattr(polling, "due_channels", lambda now: lists.pop(0))
    polling.poll_due_channels(now=now)
    polling.poll_due_channels(now=now + timedelta(seconds=2))
    assert sorted(reads) == sorted(c.pk for c in channels)
