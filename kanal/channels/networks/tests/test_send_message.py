"""Answering citizens' direct messages (``send_message``) and finding an
answer whose reply was lost (``find_message``), against the emulators of
Facebook (Messenger's Send API and its windows), Instagram (the same Send
API and windows, 1,000 bytes), Bluesky (chat conversations through the chat
proxy), X (DM conversations) and Mastodon (direct statuses with an
Idempotency-Key)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kanal.channels.networks.base import OutgoingMessage
from kanal.channels.networks.errors import AuthExpired, Rejected

from . import (
    test_contract_bluesky,
    test_contract_facebook,
    test_contract_instagram,
    test_contract_mastodon,
    test_contract_x,
)
from .contract import assert_danish

pytestmark = pytest.mark.sandbox

# Modules, not their classes: a class imported here would run its whole
# contract again.
CONTRACTS = {
    "bluesky": test_contract_bluesky.TestBlueskyContract,
    "facebook": test_contract_facebook.TestFacebookContract,
    "instagram": test_contract_instagram.TestInstagramContract,
    "x": test_contract_x.TestXContract,
    "mastodon": test_contract_mastodon.TestMastodonContract,
}


@pytest.fixture(params=sorted(CONTRACTS))
def network(request):
    return request.param


def make_adapter(sandbox, network):
    contract = CONTRACTS[network]()
    account = sandbox.provision(network, **contract.provision_options())
    adapter = contract.make_adapter(contract.make_connection(sandbox, account))
    return adapter, account


def citizen_writes(sandbox, network, account, text, author="citizen-ida"):
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": network, "kind": "message", "account": account.account_id,
        "text": text, "author_id": author, "author_name": "Ida Holm"})


def a_citizen_wrote(sandbox, network, text):
    """A fresh account on ``network``, a citizen's message to it, and that
    message as the adapter reads it."""
    adapter, account = make_adapter(sandbox, network)
    citizen_writes(sandbox, network, account, text)
    return adapter, account, received(adapter, text)


def received(adapter, text):
    [item] = [i for i in adapter.fetch_inbox().items
              if i.kind == "message" and i.text == text]
    return item


def answer_to(item, text, **changes) -> OutgoingMessage:
    fields = {"text": text, "recipient_id": item.author_id,
              "reply_to_remote_id": item.remote_id,
              "conversation_id": item.parent_remote_id,
              "last_received_at": item.created_at, **changes}
    return OutgoingMessage(**fields)


def messages_logged(sandbox, network, account):
    return [p for p in sandbox.published(network, account.account_id)
            if p["kind"] == "message"]


def test_an_answer_reaches_the_citizen_once_and_is_found_again(sandbox, network):
    adapter, account, item = a_citizen_wrote(
        sandbox, network, "Hvornår har borgerservice åbent?")
    before = datetime.now(UTC) - timedelta(seconds=5)

    sent = adapter.send_message(answer_to(item, "Kl. 10-16 på hverdage."),
                                idempotency_key="dm-1")

    [logged] = messages_logged(sandbox, network, account)
    assert logged["text"].endswith("Kl. 10-16 på hverdage.")
    assert sent.remote_id
    found = adapter.find_message(answer_to(item, "Kl. 10-16 på hverdage."),
                                 idempotency_key="dm-1", since=before)
    assert found is not None and found.remote_id == sent.remote_id
    # Another text was never sent: certainly not there.
    assert adapter.find_message(answer_to(item, "Noget helt andet."),
                                idempotency_key="dm-2", since=before) is None
    # What the citizen wrote is still only that; the answer, where the
    # network lists it too (X), is the account's, never the citizen's.
    messages = [i for i in adapter.fetch_inbox().items if i.kind == "message"]
    assert [i.text for i in messages if i.author_id == item.author_id] \
        == ["Hvornår har borgerservice åbent?"]
    assert all(i.author_id != item.author_id for i in messages
               if i.text.endswith("Kl. 10-16 på hverdage."))


def test_a_citizen_writing_the_same_words_is_not_the_accounts_answer(sandbox):
    adapter, _account, item = a_citizen_wrote(sandbox, "facebook", "Tak for svaret")
    assert adapter.find_message(answer_to(item, "Tak for svaret"),
                                since=datetime.now(UTC) - timedelta(hours=1)) is None


def test_mastodon_answer_is_a_direct_status_to_the_citizen_and_keyed(sandbox):
    adapter, account, item = a_citizen_wrote(
        sandbox, "mastodon", "Må jeg spørge privat?")
    message = answer_to(item, "Ja, skriv bare her.")

    first = adapter.send_message(message, idempotency_key="dm-key")
    again = adapter.send_message(message, idempotency_key="dm-key")

    assert again.remote_id == first.remote_id
    [logged] = messages_logged(sandbox, "mastodon", account)
    assert logged["idempotency_key"] == "dm-key"
    status = sandbox.item("mastodon", first.remote_id)
    assert status["data"]["visibility"] == "direct"
    assert status["parent_id"] == item.remote_id
    assert status["text"].startswith("@") and "Ja, skriv bare her." in status["text"]


def test_x_answer_is_in_the_conversation_with_the_citizen(sandbox):
    adapter, _account, item = a_citizen_wrote(sandbox, "x", "Er der åbent i dag?")

    sent = adapter.send_message(answer_to(item, "Ja, til kl. 20."))

    stored = sandbox.item("x", sent.remote_id)
    assert stored["kind"] == "dm_sent"
    assert stored["data"]["recipient_id"] == item.author_id
    assert int(sent.remote_id) > int(item.remote_id)


def test_x_refuses_a_message_to_someone_who_never_wrote(sandbox):
    adapter, account, item = a_citizen_wrote(sandbox, "x", "Hej")
    with pytest.raises(Rejected) as not_an_id:
        adapter.send_message(answer_to(item, "Hej", recipient_id="abc"))
    assert_danish(not_an_id.value.message)
    # A citizen who mentioned the account but never wrote to it: X's 403.
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "x", "kind": "mention", "account": account.account_id,
        "text": "Godt arbejde", "author_id": "citizen-bo", "author_name": "Bo"})
    [mention] = [i for i in adapter.fetch_inbox().items if i.kind == "mention"]
    with pytest.raises(Rejected) as refused:
        adapter.send_message(answer_to(item, "Hej", recipient_id=mention.author_id))
    assert refused.value.http_status == 403
    assert "X afviste beskeden" in refused.value.message
    assert messages_logged(sandbox, "x", account) == []


# -- Meta's windows (Messenger and Instagram) ------------------------------------

#: Where each Meta emulator keeps the account's answers.
ANSWER_KINDS = {"facebook": "page_message", "instagram": "account_message"}


@pytest.mark.parametrize("meta", sorted(ANSWER_KINDS))
def test_a_meta_answer_after_24_hours_is_tagged_human_agent(sandbox, meta):
    adapter, account, item = a_citizen_wrote(
        sandbox, meta, "Jeg mangler mit sygesikringskort")
    sandbox.advance_clock(25 * 3600)
    late = item.created_at - timedelta(hours=25)

    sent = adapter.send_message(answer_to(item, "Bestil et nyt på borger.dk.",
                                          last_received_at=late))

    stored = sandbox.items(meta, account.account_id, kind=ANSWER_KINDS[meta])
    assert [(i["text"], i["data"]["messaging_type"], i["data"]["tag"],
             i["data"]["recipient_id"]) for i in stored] == [
        ("Bestil et nyt på borger.dk.", "MESSAGE_TAG", "HUMAN_AGENT",
         item.author_id)]
    [logged] = messages_logged(sandbox, meta, account)
    assert sent.remote_id == logged["item_id"]


def test_messenger_refuses_a_plain_response_after_24_hours_as_meta_does(sandbox):
    """The emulator answers as Meta's Send API does; Kanal reads it as a
    refusal of this answer (a Danish message), not as a lost connection."""
    adapter, account, item = a_citizen_wrote(sandbox, "facebook", "Hallo?")
    sandbox.advance_clock(25 * 3600)
    url = f"{adapter.connection.base_url}/{account.account_id}/messages"
    token = adapter.connection.secret("access_token")
    raw = httpx.post(url, data={
        "recipient": json.dumps({"id": item.author_id}),
        "messaging_type": "RESPONSE", "message": json.dumps({"text": "Hej"})},
        headers={"Authorization": f"Bearer {token}"})
    error = raw.json()["error"]
    assert (raw.status_code, error["code"], error["error_subcode"]) == (
        400, 10, 2018278)
    assert "outside of allowed window" in error["message"]
    # Kanal believed the citizen wrote just now, so it sends a RESPONSE.
    with pytest.raises(Rejected) as caught:
        adapter.send_message(answer_to(item, "Hej"))
    assert not isinstance(caught.value, AuthExpired)
    assert "24 timer" in caught.value.message
    assert messages_logged(sandbox, "facebook", account) == []


@pytest.mark.parametrize("meta", sorted(ANSWER_KINDS))
def test_a_meta_answer_after_7_days_is_refused_by_kanal_before_any_call(
    sandbox, meta
):
    adapter, account, item = a_citizen_wrote(sandbox, meta, "Svarer I nogensinde?")
    calls = []
    adapter.client._client.event_hooks["request"].append(calls.append)
    old = datetime.now(UTC) - timedelta(days=7, minutes=1)

    with pytest.raises(Rejected) as caught:
        adapter.send_message(answer_to(item, "Undskyld ventetiden.",
                                       last_received_at=old))

    assert calls == []
    assert adapter.display_name.replace("Facebook", "Messenger") in \
        caught.value.message
    assert "7 dage" in caught.value.message
    assert_danish(caught.value.message)
    assert adapter.message_refusal(answer_to(item, "x", last_received_at=old),
                                   now=datetime.now(UTC))
    assert adapter.message_refusal(answer_to(item, "x"), now=datetime.now(UTC)) is None
    assert messages_logged(sandbox, meta, account) == []


def test_a_lookup_reads_a_hostile_listing_as_nothing_found(sandbox, monkeypatch):
    """Shapes no network should send (strings for objects, a list for a
    listing) are passed over; the lookup answers, it does not crash."""
    adapter, _account, item = a_citizen_wrote(sandbox, "facebook", "Hej")
    since = datetime.now(UTC) - timedelta(hours=1)
    monkeypatch.setattr(adapter, "call", lambda *a, **k: {"data": [
        "nope", {"messages": "nope"}, {"messages": {"data": ["x", {"id": 5}]}}]})
    assert adapter.find_message(answer_to(item, "Hej"), since=since) is None
    monkeypatch.setattr(adapter, "call", lambda *a, **k: {"data": "nope"})
    assert adapter.find_message(answer_to(item, "Hej"), since=since) is None

    adapter, _account, item = a_citizen_wrote(sandbox, "x", "Hej")
    monkeypatch.setattr(adapter, "_call", lambda *a, **k: httpx.Response(
        200, json={"data": ["x", 5, {"id": None}]}))
    assert adapter.find_message(answer_to(item, "Hej"), since=since) is None


# -- Instagram's windows and limits ---------------------------------------------


def test_instagram_refusing_a_late_response_is_its_danish_reason(sandbox):
    """Kanal believed the citizen wrote just now; Instagram says a day ago
    (code 10, subcode 2534022): a refusal of this answer, not a lost login."""
    adapter, account, item = a_citizen_wrote(sandbox, "instagram", "Hallo?")
    sandbox.advance_clock(25 * 3600)
    with pytest.raises(Rejected) as caught:
        adapter.send_message(answer_to(item, "Hej"))
    assert not isinstance(caught.value, AuthExpired)
    assert caught.value.network_code == "10/2534022"
    assert "24 timer" in caught.value.message
    assert messages_logged(sandbox, "instagram", account) == []


def test_instagram_counts_a_message_in_utf8_bytes(sandbox):
    adapter, _account, _item = a_citizen_wrote(sandbox, "instagram", "Hej")
    capabilities = adapter.capabilities()
    assert (capabilities.max_message_length, capabilities.message_counting) == (
        1000, "bytes")
    assert adapter.count_message("Å") == 2
    assert adapter.count_message("👍") == 4
    # Captions are still counted in characters.
    assert adapter.count_text("Å") == 1


@pytest.mark.parametrize("network", ["instagram", "bluesky"])
def test_messages_join_the_inbox_once_and_own_answers_stay_out(sandbox, network):
    adapter, account, item = a_citizen_wrote(sandbox, network,
                                             "Kan jeg booke en bane?")
    assert item.kind == "message" and item.author_id
    first = adapter.fetch_inbox()
    adapter.send_message(answer_to(item, "Ja, på kk.dk/booking."))
    citizen_writes(sandbox, network, account, "Tak!")
    again = adapter.fetch_inbox(first.cursor)
    assert [(i.kind, i.text) for i in again.items] == [("message", "Tak!")]
    assert again.items[0].parent_remote_id == item.parent_remote_id


def test_instagram_without_the_messaging_permission_keeps_the_comments(
    sandbox, monkeypatch
):
    """Graph answers a token without ``instagram_business_manage_messages``
    with (#10)/(#200), which Kanal reads as AuthExpired: the poll still
    returns the comments; any other failure of the listing is not swallowed."""
    from kanal.channels.networks import graph
    from kanal.channels.networks.errors import TransientError

    adapter, account, _item = a_citizen_wrote(sandbox, "instagram", "Privat")
    sandbox.citizen("instagram", "Flot billede", kind="mention",
                    account=account.account_id)
    real_get = adapter.get

    def refusing(error):
        def get(path, **params):
            if path.endswith("/conversations"):
                raise error
            return real_get(path, **params)
        return get

    denied = graph.error_for(graph.GraphError(code=10, message="(#10) denied"),
                             http_status=403, network="instagram")
    assert isinstance(denied, AuthExpired)
    monkeypatch.setattr(adapter, "get", refusing(denied))
    assert [i.kind for i in adapter.fetch_inbox().items] == ["mention"]
    monkeypatch.setattr(adapter, "get", refusing(AuthExpired(
        network="instagram", network_code="190/463")))
    with pytest.raises(AuthExpired):
        adapter.fetch_inbox()
    monkeypatch.setattr(adapter, "get", refusing(TransientError(
        network="instagram", network_code=2)))
    with pytest.raises(TransientError):
        adapter.fetch_inbox()


def test_an_instagram_lookup_and_poll_read_a_hostile_listing_as_nothing(
    sandbox, monkeypatch
):
    adapter, _account, item = a_citizen_wrote(sandbox, "instagram", "Hej")
    since = datetime.now(UTC) - timedelta(hours=1)
    hostile = {"data": ["nope", {"messages": "nope"}, {"messages": {"data": [
        "x", {"id": 5}, {"id": "m1", "from": "me", "message": ["Hej"]},
        {"id": "m2", "from": {"id": ["x"]}, "created_time": 7}]}}]}
    monkeypatch.setattr(adapter, "get", lambda *a, **k: hostile)
    assert adapter.find_message(answer_to(item, "Hej"), since=since) is None
    assert [i.kind for i in adapter._messages()] == []
    monkeypatch.setattr(adapter, "get", lambda *a, **k: {"data": "nope"})
    assert adapter.find_message(answer_to(item, "Hej"), since=since) is None


def test_an_instagram_account_with_facebook_login_answers_through_its_page(
    sandbox, monkeypatch
):
    """With Facebook Login Instagram's messaging edges are the linked Page's
    (API setting ``page_id``); the account's own messages are known by
    either id."""
    from dataclasses import replace

    adapter, account, item = a_citizen_wrote(sandbox, "instagram", "Hej")
    paged = type(adapter)(replace(adapter.connection, settings={
        **adapter.connection.settings, "page_id": "104738291045678"}),
        client=adapter.client)
    asked = []
    monkeypatch.setattr(paged, "call", lambda method, path, **kw: asked.append(
        (method, path)) or {"message_id": "m_1", "data": []})
    paged.send_message(answer_to(item, "Hej igen"))
    paged.find_message(answer_to(item, "Hej igen"), since=datetime.now(UTC))
    assert asked == [("POST", "/104738291045678/messages"),
                     ("GET", "/104738291045678/conversations")]
    assert paged._own_author({"id": "104738291045678"})
    assert paged._own_author({"id": account.account_id})
    assert not paged._own_author({"id": item.author_id})


def test_a_bluesky_answer_without_the_conversation_finds_it_by_member(sandbox):
    adapter, account, item = a_citizen_wrote(sandbox, "bluesky", "Hej")
    sent = adapter.send_message(answer_to(item, "Hej Ida", conversation_id=""))
    [logged] = messages_logged(sandbox, "bluesky", account)
    assert logged["item_id"] == sent.remote_id
    assert adapter.find_message(answer_to(item, "Hej Ida", conversation_id=""),
                                since=datetime.now(UTC) - timedelta(minutes=5)
                                ).remote_id == sent.remote_id
@pytest.mark.parametrize("answer", ["missing_id", "long_id", "nul_id",
                                    "wrong_type_id", "deep"])
def test_an_answer_sent_with_an_unusable_id_is_unknown_then_found_once(
    sandbox, network, answer
):
    """The message went out, but the answer names no usable id (Messenger's
    Send API without ``message_id`` used to become the id "None"): the
    outcome is unknown, and the one message is found by its text."""
    from kanal.channels.networks.errors import OutcomeUnknown

    adapter, account, item = a_citizen_wrote(
        sandbox, network, "Må man tage hunden med i svømmehallen?")
    before = datetime.now(UTC) - timedelta(seconds=5)
    sandbox.fault(network, "hostile_after_create", operation="message",
                  account=account.account_id, params={"answer": answer})
    text = "Nej, kun førerhunde."
    with pytest.raises(OutcomeUnknown):
        adapter.send_message(answer_to(item, text), idempotency_key="dm-h")
    [logged] = messages_logged(sandbox, network, account)
    found = adapter.find_message(answer_to(item, text), idempotency_key="dm-h",
                                 since=before)
    assert found is not None and found.remote_id == logged["item_id"]
