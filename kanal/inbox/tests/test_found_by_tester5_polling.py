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
