"""The Instagram emulator's direct messages by raw HTTP: citizens' messages
come as ``messaging`` webhooks and in ``/conversations?platform=instagram``
under one id; the Send API (``POST /{ig-user-id}/messages``) keeps
Instagram's windows (RESPONSE within 24 hours, HUMAN_AGENT within 7 days,
else (#10) subcode 2534022) and its 1,000-byte text limit, logs each answer
once as ``message`` and tells the app of it again as an echo."""

import json

import pytest

from .graph_client import GraphClient, error
from .test_app import call

ACCOUNT = "17841400000000001"


@pytest.fixture
def ig(tmp_path, monkeypatch):
    client = GraphClient(tmp_path, "instagram", version="v25.0", account=ACCOUNT,
                         token="sandbox-instagram-token-kk")
    client.webhooks = []
    monkeypatch.setattr(client.app.state.ctx.webhooks, "send",
                        lambda network, payload: client.webhooks.append(payload))
    return client


def citizen_writes(ig, text="Hej kommunen", author="igsid-1"):
    made = call(ig.app, "POST", "/_sandbox/citizens/item", json={
        "network": "instagram", "kind": "message", "account": ACCOUNT,
        "text": text, "author_id": author, "author_name": "Ida Holm"})
    assert made.status_code < 300, made.text
    return made.json()


def send(ig, text="Hej Ida", *, recipient="igsid-1", kind="RESPONSE", tag=""):
    params = {"recipient": json.dumps({"id": recipient}), "messaging_type": kind,
              "message": json.dumps({"text": text})}
    if tag:
        params["tag"] = tag
    return ig.post(f"/{ACCOUNT}/messages", **params)


def conversation(ig, **params):
    listing = ig.get(f"/{ACCOUNT}/conversations", platform="instagram",
                     fields="id,updated_time,messages{id,message,from,"
                            "created_time}", **params)
    assert listing.status_code == 200, listing.text
    return listing.json()["data"]


def test_a_citizens_message_is_a_webhook_and_in_the_conversation_by_one_id(ig):
    citizen_writes(ig, "Hvornår åbner svømmehallen?")

    [hook] = ig.webhooks
    messaging = hook["entry"][0]["messaging"][0]
    assert hook["object"] == "instagram" and hook["entry"][0]["id"] == ACCOUNT
    assert messaging["sender"] == {"id": "igsid-1"}
    assert messaging["recipient"] == {"id": ACCOUNT}
    [thread] = conversation(ig)
    [listed] = thread["messages"]["data"]
    assert listed["id"] == messaging["message"]["mid"]
    assert listed["message"] == "Hvornår åbner svømmehallen?"
    assert listed["from"]["id"] == "igsid-1"


def test_an_answer_is_sent_logged_once_echoed_and_in_the_conversation(ig):
    citizen_writes(ig)
    sent = send(ig)
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["recipient_id"] == "igsid-1"
    assert [(p.item_id, p.text) for p in ig.published("message")] == [
        (body["message_id"], "Hej Ida")]
    echo = ig.webhooks[-1]["entry"][0]["messaging"][0]
    assert echo["message"] == {"mid": body["message_id"], "text": "Hej Ida",
                               "is_echo": True}
    assert echo["sender"] == {"id": ACCOUNT}
    [thread] = conversation(ig, user_id="igsid-1")
    assert [(m["message"], m["from"]["id"]) for m in thread["messages"]["data"]
            ] == [("Hej Ida", ACCOUNT), ("Hej kommunen", "igsid-1")]
    assert conversation(ig, user_id="nobody") == []


def test_instagrams_windows_are_kept(ig):
    citizen_writes(ig)
    ig.advance(25 * 3600)
    late = error(send(ig))
    assert (late["code"], late["error_subcode"]) == (10, 2534022)
    assert send(ig, kind="MESSAGE_TAG", tag="HUMAN_AGENT").status_code == 200
    ig.advance(6 * 24 * 3600)
    assert error(send(ig, kind="MESSAGE_TAG", tag="HUMAN_AGENT"))[
        "error_subcode"] == 2534022
    # A new message from the citizen opens the window again.
    citizen_writes(ig, "Er I der?")
    assert send(ig).status_code == 200
    assert len(ig.published("message")) == 2


@pytest.mark.parametrize("fits, refused", [
    ("æ" * 500, "æ" * 500 + "a"),  # two bytes a Danish letter: 1,000 / 1,001
    ("😀" * 250, "😀" * 250 + "ø"),  # four bytes an emoji: 1,000 / 1,002
    ("a" * 999, "a" * 1000),  # 1,000 bytes, but not fewer than 1,000 characters
])
def test_a_text_is_refused_past_1000_bytes_or_at_1000_characters(ig, fits, refused):
    citizen_writes(ig)
    assert send(ig, fits).status_code == 200
    answer = error(send(ig, refused))
    assert answer["code"] == 100 and "1000" in answer["message"]
    assert [m.text for m in ig.published("message")] == [fits]


def test_bad_answers_get_graphs_errors_and_nothing_is_sent(ig):
    citizen_writes(ig)
    assert error(send(ig, recipient="nobody"))["code"] == 100
    assert error(send(ig, kind="SPAM"))["code"] == 100
    assert error(send(ig, text="  "))["code"] == 100
    assert error(send(ig, kind="MESSAGE_TAG", tag="ACCOUNT_UPDATE"))["code"] == 100
    assert error(ig.post(f"/{ACCOUNT}/messages", recipient="{", message="{"))[
        "code"] == 100
    assert error(ig.get(f"/{ACCOUNT}/conversations"))["code"] == 100
    assert ig.published("message") == []


def test_a_message_fault_fails_the_answer_and_nothing_is_sent(ig):
    citizen_writes(ig)
    ig.app.state.ctx.faults.add(network="instagram", kind="server_error",
                                operation="message")
    assert send(ig).status_code == 500
    assert ig.published("message") == []
    assert send(ig).status_code == 200


def test_a_server_error_after_create_leaves_the_answer_sent_once(ig):
    citizen_writes(ig)
    ig.app.state.ctx.faults.add(network="instagram",
                                kind="server_error_after_create",
                                operation="message")
    assert send(ig).status_code == 500
    [logged] = ig.published("message")
    [thread] = conversation(ig, user_id="igsid-1")
    assert thread["messages"]["data"][0]["id"] == logged.item_id
