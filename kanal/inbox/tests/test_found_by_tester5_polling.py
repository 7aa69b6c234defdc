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
