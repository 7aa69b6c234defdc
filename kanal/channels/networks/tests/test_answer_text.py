"""What an adapter adds to an answer is counted before it is sent: Mastodon
names the citizen in front (``answer_text``), so an answer that fits only
without the mention is refused before the write, never cut by the
instance."""

import json

import pytest
import respx

from kanal.channels.networks.base import OutgoingMessage
from kanal.channels.networks.errors import Rejected
from kanal.channels.networks.mastodon import ANSWER_TOO_LONG

from .mastodon_fakes import BASE, mastodon_adapter

pytestmark = pytest.mark.usefixtures("fresh_mastodon_limits")


@pytest.fixture
def adapter():
    return mastodon_adapter()


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/api/v1/statuses/50").respond(200, json={
            "id": "50", "visibility": "public", "content": "<p>?</p>",
            "account": {"id": "8", "acct": "mette@borger.social"}})
        yield mock


def _answer(adapter, send, text):
    if send == "reply":
        return adapter.reply("50", text, idempotency_key="k")
    return adapter.send_message(
        OutgoingMessage(text=text, recipient_id="8", reply_to_remote_id="50"),
        idempotency_key="k")


def test_mastodon_answer_text_names_the_citizen_unless_mentioned(adapter):
    assert adapter.answer_text("Tak", to_handle="mette@borger.social") == (
        "@mette@borger.social Tak")
    assert adapter.answer_text("Tak @Mette@borger.social",
                               to_handle="mette@borger.social") == (
        "Tak @Mette@borger.social")
    assert adapter.answer_text("Tak", to_handle="") == "Tak"


# "@mette@borger.social " counts as "@mette " (7) on Mastodon; 500 is the
# documented default limit.
@pytest.mark.parametrize("send", ["reply", "message"])
def test_mastodon_answer_at_the_limit_with_the_mention_is_sent(adapter, api, send):
    route = api.post("/api/v1/statuses").respond(200, json={
        "id": "51", "url": f"{BASE}/@kbh/51", "created_at": "2026-11-28T09:00:00Z"})
    text = "a" * 493
    _answer(adapter, send, text)
    sent = json.loads(route.calls.last.request.content)["status"]
    assert sent == "@mette@borger.social " + text
    assert adapter.count_text(sent) == 500


@pytest.mark.parametrize("send", ["reply", "message"])
def test_mastodon_answer_one_over_with_the_mention_is_refused_unsent(
        adapter, api, send):
    route = api.post("/api/v1/statuses").respond(200, json={"id": "51"})
    text = "a" * 494
    with pytest.raises(Rejected) as caught:
        _answer(adapter, send, text)
    assert caught.value.message == ANSWER_TOO_LONG
    assert "501" in caught.value.network_message
    assert not route.called
