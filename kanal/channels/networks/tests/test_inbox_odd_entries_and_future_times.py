"""Inbox pages: what a network sends back is untrusted. An entry that cannot
be read is skipped and counted (never stopping the page), and a time from the
future never pins a cursor. The wider class of the outside tester's findings
6 and 7 (Mastodon, X, Bluesky, Meta and LinkedIn)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from kanal.channels.networks import graph
from kanal.channels.networks.base import InboxItem as NetworkItem

from . import test_bluesky_adapter as bsky
from . import test_linkedin_adapter as li
from .mastodon_fakes import BASE
from .test_mastodon_adapter import (  # noqa: F401 (fixtures)
    adapter,
    sleeps,
    status,
)
from .test_x_adapter import API, ME, make_adapter

pytestmark = pytest.mark.usefixtures("fresh_mastodon_limits")


def test_mastodon_counts_what_it_skips_and_reads_a_status_with_an_odd_account(
    adapter,  # noqa: F811 (the Mastodon adapter tests' fixture)
):
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.get("/api/v1/notifications").respond(200, json=[
            "not an object",
            {"id": True, "type": "mention", "status": status("300")},
            {"id": "1004", "type": "mention", "status": {"id": ["x"]}},
            {"id": "1002", "type": "mention",
             "status": status("201", "<p>@kbh hvornår?</p>", account="Mette")},
        ])
        page = adapter.fetch_inbox(since="999")
    assert [(i.remote_id, i.author_id) for i in page.items] == [("201", "")]
    assert page.skipped == 3
    assert page.cursor == "1004"


def test_mastodon_an_answer_that_is_no_list_is_an_empty_page(
    adapter,  # noqa: F811
):
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.get("/api/v1/notifications").respond(200, json={"error": "odd"})
        page = adapter.fetch_inbox(since="999")
    assert page.items == () and page.cursor == "999"


@respx.mock
def test_x_skips_and_counts_odd_posts_and_messages():
    respx.get(f"{API}/2/users/{ME}/mentions").mock(
        return_value=httpx.Response(200, json={
            "data": [
                "text",
                {"id": "105", "text": "@kobenhavn hvornår?", "author_id": "11",
                 "conversation_id": "105",
                 "created_at": "2026-11-28T08:00:00.000Z",
                 "referenced_tweets": ["odd"]},
            ],
            "includes": {"users": ["odd", {"id": "11", "name": "Mette"}]},
            "meta": {"newest_id": "105", "result_count": 2}}))
    respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={
            "data": [
                {"event_type": "MessageCreate", "text": "uden id",
                 "sender_id": "12"},
                {"id": "900", "event_type": "MessageCreate", "text": "Hej",
                 "sender_id": "12", "dm_conversation_id": "12-1",
                 "created_at": "2026-11-28T08:01:00.000Z"},
            ],
            "meta": {"result_count": 2}}))
    page = make_adapter().fetch_inbox(since="99")
    assert [(i.remote_id, i.author_name) for i in page.items] == [
        ("105", "Mette"), ("900", "12")]
    assert page.skipped == 2
    assert json.loads(page.cursor) == {"tweets": "105", "dms": "900"}


def test_bluesky_skips_odd_notifications_and_never_moves_past_its_clock():
    bluesky = bsky.BlueskyAdapter(bsky.connection(app_password="app-pw"),
                                  on_tokens=[].append, clock=lambda: bsky.NOW)
    future = "2099-01-01T00:00:00.000Z"
    with respx.mock(base_url=bsky.PDS, assert_all_called=False) as api:
        api.get("/xrpc/app.bsky.notification.listNotifications").respond(200, json={
            "notifications": [
                bsky.notification("at://a/app.bsky.feed.post/9", "reply", future,
                                  reply_root=bsky.ROOT),
                "odd",
                {**bsky.notification("at://a/app.bsky.feed.post/8", "reply",
                                     "2026-11-28T08:40:00.000Z"), "uri": 7},
                bsky.notification("at://a/app.bsky.feed.post/7", "reply",
                                  "2026-11-28T08:30:00.000Z", reply_root=bsky.ROOT),
            ]})
        api.get("/xrpc/chat.bsky.convo.listConvos").respond(200, json={"convos": []})
        first = bluesky.fetch_inbox(since="2026-11-28T08:00:00.000Z")
        # A cursor stored in the future (before the bound) is not trusted.
        again = bluesky.fetch_inbox(since=future)
    assert sorted(i.remote_id.rsplit("/", 1)[1] for i in first.items) == ["7", "9"]
    assert first.skipped == 2
    # The notifications' time is the adapter's clock, not 2099.
    assert json.loads(first.cursor)["n"] == "2026-11-28T09:00:00.000Z"
    assert "at://a/app.bsky.feed.post/7" in [i.remote_id for i in again.items]


def _meta(remote_id, at):
    return NetworkItem(remote_id=remote_id, kind="comment", author_id="a",
                       author_name="Mette", text="Hej", created_at=at,
                       post_remote_id="p", parent_remote_id="p")


def test_meta_a_future_item_is_offered_once_and_hides_nothing():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    ahead = _meta("1", now + timedelta(days=365))
    first = graph.inbox_page([ahead, _meta("0", now)], None, now=now)
    assert [i.remote_id for i in first.items] == ["0", "1"]
    second = graph.inbox_page([ahead, _meta("0", now), _meta("2", now)],
                              first.cursor, now=now + timedelta(seconds=5))
    assert [i.remote_id for i in second.items] == ["2"]
    # A cursor stored in the future is no cursor: the listing is read whole.
    stale = json.dumps({"t": (now + timedelta(days=365)).isoformat(), "ids": []})
    third = graph.inbox_page([_meta("0", now)], stale, now=now)
    assert [i.remote_id for i in third.items] == ["0"]


@respx.mock
def test_linkedin_a_comment_from_the_future_does_not_pin_the_cursor():
    now = datetime.now(UTC)
    respx.get(f"{li.API}/rest/posts").mock(return_value=httpx.Response(
        200, json={"elements": [{"id": "urn:li:share:1", "publishedAt": 0}]}))
    comments = [li._comment(1, now - timedelta(minutes=5), "Hvornår?"),
                li._comment(2, now + timedelta(days=365), "Fremtid")]
    route = respx.get(f"{li.API}/rest/socialActions/urn%3Ali%3Ashare%3A1/comments")
    route.mock(return_value=httpx.Response(200, json={"elements": comments}))
    first = li.adapter().fetch_inbox()
    assert json.loads(first.cursor)["t"] <= li._ms(datetime.now(UTC))
    comments.append(li._comment(3, now - timedelta(minutes=1), "Og så?"))
    route.mock(return_value=httpx.Response(200, json={"elements": comments}))
    second = li.adapter().fetch_inbox(first.cursor)
    assert "Og så?" in [i.text for i in second.items]


def test_bluesky_a_chat_message_from_the_future_does_not_pin_the_cursor():
    bluesky = bsky.BlueskyAdapter(bsky.connection(app_password="app-pw"),
                                  on_tokens=[].append, clock=lambda: bsky.NOW)
    citizen = "did:plc:borger"
    future = bsky.chat_message("m9", "Fra fremtiden", "2099-01-01T00:00:00.000Z",
                               citizen)
    first_message = bsky.chat_message("m1", "Hej", "2026-11-28T08:50:00.000Z",
                                      citizen)
    later = bsky.chat_message("m2", "Er der nogen?", "2026-11-28T08:55:00.000Z",
                              citizen)
    with respx.mock(base_url=bsky.PDS, assert_all_called=False) as api:
        api.get("/xrpc/app.bsky.notification.listNotifications").respond(
            200, json={"notifications": []})
        api.get("/xrpc/chat.bsky.convo.listConvos").respond(200, json={
            "convos": [{"id": "c1", "members": [{"did": citizen}]}]})
        messages = api.get("/xrpc/chat.bsky.convo.getMessages")
        messages.respond(200, json={"messages": [future, first_message]})
        first = bluesky.fetch_inbox()
        messages.respond(200, json={"messages": [future, later, first_message]})
        second = bluesky.fetch_inbox(first.cursor)
    assert json.loads(first.cursor)["m"]["t"].startswith("2026-11-28T08:50")
    assert "m2" in [i.remote_id for i in second.items]


# -- Meta's Graph networks: the same rule for Facebook, Instagram and Threads --

ODD = ["a string", 7, None, {"id": {"nested": 1}, "message": "x", "text": "x"},
       {"id": "bad id with spaces", "message": "x", "text": "x"},
       {"message": ["list"], "text": ["list"]}]


def _good(network):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    text_field = {"facebook": "message", "instagram": "text",
                  "threads": "text"}[network]
    return {"id": "17900000000000001", text_field: "Hvornår åbner I?",
            "timestamp": now, "created_time": now, "username": "mette",
            "from": {"id": "5551", "name": "Mette"}}


@pytest.mark.sandbox
def test_graph_inboxes_skip_and_count_entries_they_cannot_read(sandbox, monkeypatch):
    """One comment (or post, or mention) Kanal cannot read used to raise
    KeyError or TypeError out of the whole poll, on every poll after it: the
    channel's inbox stopped for good. Now it is skipped and counted."""
    from . import test_contract_threads
    from .test_send_message import CONTRACTS

    contracts = {**CONTRACTS, "threads": test_contract_threads.TestThreadsContract}
    for network in ("facebook", "instagram", "threads"):
        contract = contracts[network]()
        account = sandbox.provision(network, **contract.provision_options())
        graph_adapter = contract.make_adapter(
            contract.make_connection(sandbox, account))
        good = _good(network)

        def listing(path, *_args, good=good, **_kwargs):
            if path.endswith(("/media", "/threads", "/published_posts")):
                return {"data": [*ODD, {"id": "post1"}]}
            if path.endswith(("/comments", "/conversation", "/tagged")):
                return {"data": [*ODD, dict(good)]}
            if path.endswith(("/tags", "/mentions")):
                return {"data": "not a list"}
            return {"data": []}

        if network == "facebook":
            monkeypatch.setattr(graph_adapter, "call",
                                lambda method, path, **kw: listing(path))
            monkeypatch.setattr(graph_adapter, "_pages",
                                lambda path, params, **kw: listing(path)["data"])
            monkeypatch.setattr(graph_adapter, "_messages", lambda after: ([], ""))
        else:
            monkeypatch.setattr(graph_adapter, "get", listing)
            if network == "instagram":
                monkeypatch.setattr(graph_adapter, "_messages", lambda: [])
        page = graph_adapter.fetch_inbox()
        texts = [item.text for item in page.items]
        assert "Hvornår åbner I?" in texts, network
        assert all(item.remote_id == "17900000000000001" for item in page.items)
        assert page.skipped >= len(ODD), network
