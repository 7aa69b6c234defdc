"""What a network sends back is checked where it becomes Kanal's: the ids,
addresses, times and texts of ``PublishResult`` and ``PostState``, the
permalinks adapters read (``NetworkAdapter.permalink``) and error bodies
that cannot be parsed (``http.error_json``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from kanal.channels.networks.base import (
    Connection,
    NetworkAdapter,
    PostState,
    PublishResult,
)
from kanal.channels.networks.errors import OutcomeUnknown, TransientError
from kanal.channels.networks.http import error_json, read_json
from kanal.untrusted import plausible_time, usable_id

HOSTILE_IDS = [
    "9" * 201,  # longer than the id columns
    "123\x00",  # PostgreSQL refuses a NUL
    "123\ud800",  # no driver encodes a lone surrogate
    "",
    None,
    True,
    1.5,
    -4,
    {"id": "123"},
    ["123"],
    "{'id': '123'}",  # an object printed as text
    "123?fields=access_token",  # would reach outside its place in a path
    "../me",
    "1 2",
    "ø1",
]

GOOD_IDS = [
    "1234567890",
    "178414_2207",  # Facebook page_post
    "at://did:plc:abc123/app.bsky.feed.post/3kxyz2",
    "at://did:web:localhost%3A8080/app.bsky.feed.post/3kxyz2",
    "urn:li:share:7012",
    "urn:li:comment:(urn:li:activity:7012,6999)",
    "m_AbC-d_e+f=",  # Messenger
    "9" * 200,
]


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_a_write_answered_with_an_unusable_id_is_an_unknown_outcome(value):
    with pytest.raises(OutcomeUnknown) as caught:
        PublishResult(value, "https://x.example/p/1")
    assert "efter opslaget var sendt" in caught.value.message
    assert "unusable id" in caught.value.network_message


@pytest.mark.parametrize("value", GOOD_IDS)
def test_every_networks_id_shape_is_usable(value):
    assert PublishResult(value, "").remote_id == value


def test_a_whole_number_id_is_kept_as_text():
    assert PublishResult(17841400, "").remote_id == "17841400"


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "data:text/html,x", "//evil.example/p", "/p/1",
    "https://evil.example/\x00", "https://a b", "x" * 1001, None, 17,
])
def test_an_unusable_address_is_dropped_not_stored(url):
    assert PublishResult("1", url).url == ""


@pytest.mark.parametrize("when", [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2003, 12, 31, tzinfo=UTC),
    datetime.now(UTC) + timedelta(days=2),
    datetime(2026, 1, 1),  # no zone
    "2026-01-01T00:00:00Z",
])
def test_a_time_that_cannot_be_one_is_none(when):
    assert PublishResult("1", "", when).published_at is None


def test_a_plausible_time_is_kept_in_any_zone():
    when = datetime.now(timezone(timedelta(hours=-10))) - timedelta(hours=1)
    assert PublishResult("1", "", when).published_at == when
    assert plausible_time(datetime(2004, 1, 1, tzinfo=UTC)) is not None


def test_a_read_post_is_cleaned_and_an_unusable_id_is_asked_again():
    state = PostState("1", text="Hej\x00 med\ud800 dig\n", url="javascript:x",
                      edited_at=datetime(1, 1, 1, tzinfo=UTC),
                      current_id="2")
    assert (state.text, state.url, state.edited_at, state.current_id) == (
        "Hej med\ufffd dig\n", "", None, "2")
    with pytest.raises(TransientError):
        PostState("1\x00")
    with pytest.raises(TransientError):
        PostState("1", current_id="9" * 300)


class _Adapter(NetworkAdapter):
    network = "example"
    web_hosts = frozenset({"example.com"})


@pytest.mark.parametrize(("url", "kept"), [
    ("https://www.example.com/p/1", True),
    ("https://example.com/p/1", True),
    ("https://api.example.net/@kbh/1", True),  # the connection's own host
    ("https://evil.example/p/1", False),
    ("https://example.com.evil.example/p/1", False),
    ("https://notexample.com/p/1", False),
    ("javascript:alert(1)", False),
    ("https://[::1", False),
])
def test_a_permalink_must_be_on_the_networks_own_web(url, kept):
    adapter = _Adapter(Connection(network="example",
                                  base_url="https://api.example.net/v1"))
    assert adapter.permalink(url) == (url if kept else "")


def test_usable_id_refuses_a_dotdot_step_and_accepts_digits():
    assert usable_id("at://did:plc:a/../b") == ""
    assert usable_id(0) == "0"


def _response(body: bytes, status: int = 500) -> httpx.Response:
    return httpx.Response(status, content=body,
                          headers={"content-type": "application/json"})


def test_an_error_body_nested_too_deep_is_no_body_not_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    assert error_json(_response(deep)) is None
    assert error_json(_response(b"<html>502</html>")) is None
    assert error_json(_response(b'{"error": "x"}')) == {"error": "x"}


def test_a_success_body_nested_too_deep_is_unreadable():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(OutcomeUnknown):
        read_json(_response(deep, 200), network="x", write=True)
    with pytest.raises(TransientError):
        read_json(_response(deep, 200), network="x")
    huge = b'{"id": ' + b"9" * 5000 + b"}"
    with pytest.raises(OutcomeUnknown):
        read_json(_response(huge, 200), network="x", write=True)


def test_without_control_leaves_no_control_character_and_no_lone_half():
    from kanal.untrusted import without_control

    assert without_control(" g-\x00\u00851\u2028\ud800\n") == "g-1"
    assert without_control(None) == ""
