"""OUTSIDE TESTER 2 (branch tester2): failing tests for what a network's
inbox page can hold. Each test names its finding in
/work/briefs/findings2.md. They fail on main as of 39dbe77."""

from __future__ import annotations

import pytest
import respx

from .mastodon_fakes import BASE, mastodon_adapter
from .test_mastodon_adapter import status


@pytest.fixture
def adapter(request):
    request.getfixturevalue("fresh_mastodon_limits")  # set up, not used
    return mastodon_adapter()


@pytest.mark.parametrize("odd", [
    {"id": "1003", "type": "mention", "status": {"content": "<p>uden id</p>"}},
    {"id": "1003", "type": "mention", "status": "slettet"},
    {"type": "mention", "status": status("300")},
])
def test_finding_7_one_odd_notification_does_not_stop_the_channels_inbox(
    adapter, odd
):
    """Finding 7: one notification Kanal cannot read (a status without an
    id, a status that is not an object, a notification without an id) makes
    ``fetch_inbox`` raise KeyError/AttributeError. Polling records the
    failure and keeps the cursor, so the next poll reads the same page and
    fails again: the channel's inbox is stuck for good, and every later
    mention is lost (intake, by contrast, skips one unreadable item)."""
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.get("/api/v1/notifications").respond(200, json=[
            odd,
            {"id": "1002", "type": "mention",
             "status": status("201", "<p>@kbh hvornår?</p>")},
        ])
        page = adapter.fetch_inbox(since="999")
    assert [i.remote_id for i in page.items] == ["201"]
    assert page.cursor in ("1002", "1003")


@respx.mock
def test_finding_7_the_same_on_x():
    """Finding 7, X: a mention without an id (``tweet["id"]``) stops the page
    (KeyError) and so the channel, at the same cursor, on every poll."""
    import httpx

    from .test_x_adapter import API, ME, make_adapter

    respx.get(f"{API}/2/users/{ME}/mentions").mock(
        return_value=httpx.Response(200, json={
            "data": [
                {"text": "uden id", "author_id": "11",
                 "created_at": "2026-11-28T08:00:00.000Z"},
                {"id": "105", "text": "@kobenhavn hvornår åbner badet?",
                 "author_id": "11", "conversation_id": "105",
                 "created_at": "2026-11-28T08:00:00.000Z"},
            ],
            "includes": {"users": [{"id": "11", "name": "Mette",
                                    "username": "mette"}]},
            "meta": {"newest_id": "105", "result_count": 2}}))
    respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    page = make_adapter().fetch_inbox(since="99")
    assert [i.remote_id for i in page.items] == ["105"]
