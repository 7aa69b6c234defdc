"""The Facebook emulator's Send API keeps Messenger's windows as Meta does:
RESPONSE within 24 hours of the citizen's latest message, HUMAN_AGENT within
7 days, else (#10) subcode 2018278; an unknown recipient is (#100) 2018001;
each answer is logged once and shows in the citizen's conversation."""

import json

import pytest

from .test_app import call

PAGE = "104738291045678"
TOKEN = "sandbox-facebook-page-token-kk"


@pytest.fixture
def app(tmp_path):
    from sandbox.app import create_app
    from sandbox.core import SandboxConfig

    return create_app(SandboxConfig(db_path=str(tmp_path / "m.sqlite3"),
                                    networks=("facebook",), seed=4))


def citizen_writes(app, text="Hej kommunen"):
    return call(app, "POST", "/_sandbox/citizens/item", json={
        "network": "facebook", "kind": "message", "account": PAGE, "text": text,
        "author_id": "psid-1", "author_name": "Ida Holm"}).json()


def send(app, text="Hej Ida", *, recipient="psid-1", kind="RESPONSE", tag=""):
    data = {"recipient": json.dumps({"id": recipient}), "messaging_type": kind,
            "message": json.dumps({"text": text})}
    if tag:
        data["tag"] = tag
    return call(app, "POST", f"/facebook/v25.0/{PAGE}/messages", data=data,
                headers={"Authorization": f"Bearer {TOKEN}"})


def advance(app, hours):
    call(app, "POST", "/_sandbox/clock", json={"advance_seconds": hours * 3600})


def error_of(response):
    error = response.json()["error"]
    return response.status_code, error["code"], error.get("error_subcode")


def test_an_answer_within_a_day_is_sent_logged_and_in_the_conversation(app):
    citizen_writes(app)
    sent = send(app)
    assert sent.status_code == 200
    body = sent.json()
    assert body["recipient_id"] == "psid-1" and body["message_id"].startswith("m_")
    logged = app.state.ctx.store.published("facebook", PAGE, kind="message")
    assert [(p.item_id, p.text) for p in logged] == [(body["message_id"], "Hej Ida")]
    listing = call(app, "GET", f"/facebook/v25.0/{PAGE}/conversations", params={
        "user_id": "psid-1", "fields": "messages{id,message,from}"},
        headers={"Authorization": f"Bearer {TOKEN}"}).json()
    [conversation] = listing["data"]
    assert [(m["message"], m["from"]["id"]) for m in conversation["messages"]["data"]
            ] == [("Hej Ida", PAGE), ("Hej kommunen", "psid-1")]


def test_messengers_windows_are_kept_as_meta_keeps_them(app):
    citizen_writes(app)
    advance(app, 25)
    assert error_of(send(app)) == (400, 10, 2018278)
    assert send(app, kind="MESSAGE_TAG", tag="HUMAN_AGENT").status_code == 200
    advance(app, 6 * 24)
    assert error_of(send(app, kind="MESSAGE_TAG", tag="HUMAN_AGENT")) == (
        400, 10, 2018278)
    # A new message from the citizen opens the window again.
    citizen_writes(app, "Er I der?")
    assert send(app).status_code == 200
    assert len(app.state.ctx.store.published("facebook", PAGE, kind="message")) == 2


def test_bad_answers_get_graphs_errors(app):
    citizen_writes(app)
    assert error_of(send(app, recipient="nobody")) == (400, 100, 2018001)
    assert error_of(send(app, kind="SPAM"))[:2] == (400, 100)
    assert error_of(send(app, text=""))[:2] == (400, 100)
    assert error_of(send(app, kind="MESSAGE_TAG", tag="CONFIRMED_EVENT_UPDATE")
                    )[:2] == (400, 100)
    assert app.state.ctx.store.published("facebook", PAGE, kind="message") == []


def test_a_message_written_in_the_pages_own_app_is_echoed_not_logged(
    app, monkeypatch
):
    """``/_sandbox/owner/message``: someone at the page answers in Meta's own
    app. Messenger echoes it (``is_echo``, the page as sender, the citizen
    as recipient); the publish log, which is what the API wrote, has none."""
    sent = []
    monkeypatch.setattr(app.state.ctx.webhooks, "send",
                        lambda network, payload: sent.append(payload) or 1)
    citizen_writes(app)
    sent.clear()
    made = call(app, "POST", "/_sandbox/owner/message", json={
        "network": "facebook", "account": PAGE, "recipient_id": "psid-1",
        "text": "Hej Ida, kl. 10."})
    assert made.status_code == 201
    [payload] = sent
    [event] = payload["entry"][0]["messaging"]
    assert (event["sender"], event["recipient"]) == ({"id": PAGE}, {"id": "psid-1"})
    assert event["message"]["is_echo"] is True
    assert event["message"]["mid"] == f"m_{made.json()['item_id']}"
    assert event["message"]["text"] == "Hej Ida, kl. 10."
    assert app.state.ctx.store.published("facebook", PAGE, kind="message") == []
    refused = call(app, "POST", "/_sandbox/owner/message", json={
        "network": "x", "account": PAGE, "recipient_id": "psid-1", "text": "Hej"})
    assert refused.status_code == 400
    unknown = call(app, "POST", "/_sandbox/owner/message", json={
        "network": "facebook", "account": "999", "recipient_id": "psid-1",
        "text": "Hej"})
    assert unknown.status_code == 404
