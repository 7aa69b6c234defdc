"""The Bluesky emulator's chat by raw HTTP: the PDS serves
``chat.bsky.convo.*`` only when proxied to the chat service
(``atproto-proxy: did:web:api.bsky.chat#bsky_chat``); a citizen's message is
in a conversation (``listConvos``, ``getMessages`` newest first);
``sendMessage`` answers within 1,000 graphemes, logs each answer once as
``message`` and fails under the ``message`` fault."""

import pytest

from .test_app import call

PROXY = {"atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}


@pytest.fixture
def app(tmp_path):
    from sandbox.app import create_app
    from sandbox.core import SandboxConfig

    return create_app(SandboxConfig(db_path=str(tmp_path / "b.sqlite3"),
                                    networks=("bluesky",), seed=5))


@pytest.fixture
def account(app):
    made = call(app, "POST", "/_sandbox/accounts", json={
        "network": "bluesky", "handle": "kommunen"}).json()
    return {"did": made["account"]["account_id"],
            "auth": {"Authorization": f"Bearer {made['tokens']['access_token']}",
                     **PROXY}}


def citizen_writes(app, account, text, author="did:plc:borgerida00000000000001"):
    made = call(app, "POST", "/_sandbox/citizens/item", json={
        "network": "bluesky", "kind": "message", "account": account["did"],
        "text": text, "author_id": author, "author_name": "Ida Holm"})
    assert made.status_code < 300, made.text


def xrpc(app, account, method, nsid, *, headers=None, **kwargs):
    return call(app, method, f"/bluesky/xrpc/{nsid}",
                headers=account["auth"] if headers is None else headers, **kwargs)


def convos(app, account):
    listed = xrpc(app, account, "GET", "chat.bsky.convo.listConvos")
    assert listed.status_code == 200, listed.text
    return listed.json()["convos"]


def send(app, account, convo, text):
    return xrpc(app, account, "POST", "chat.bsky.convo.sendMessage",
                json={"convoId": convo, "message": {"text": text}})


def logged(app, account):
    return app.state.ctx.store.published("bluesky", account["did"], kind="message")


def test_chat_needs_the_proxy_header(app, account):
    citizen_writes(app, account, "Hej")
    plain = {"Authorization": account["auth"]["Authorization"]}
    refused = xrpc(app, account, "GET", "chat.bsky.convo.listConvos", headers=plain)
    assert refused.status_code == 501
    assert refused.json()["error"] == "MethodNotImplemented"


def test_a_citizens_message_is_in_a_conversation_and_an_answer_logged_once(
    app, account
):
    citizen_writes(app, account, "Hvornår åbner biblioteket?")
    [convo] = convos(app, account)
    assert {m["did"] for m in convo["members"]} == {
        account["did"], "did:plc:borgerida00000000000001"}
    assert convo["lastMessage"]["text"] == "Hvornår åbner biblioteket?"

    sent = send(app, account, convo["id"], "Kl. 8 på hverdage.")
    assert sent.status_code == 200, sent.text
    view = sent.json()
    assert view["sender"] == {"did": account["did"]}
    assert [(p.item_id, p.text) for p in logged(app, account)] == [
        (view["id"], "Kl. 8 på hverdage.")]
    listing = xrpc(app, account, "GET", "chat.bsky.convo.getMessages",
                   params={"convoId": convo["id"]}).json()["messages"]
    assert [(m["text"], m["sender"]["did"]) for m in listing] == [
        ("Kl. 8 på hverdage.", account["did"]),
        ("Hvornår åbner biblioteket?", "did:plc:borgerida00000000000001")]
    found = xrpc(app, account, "GET", "chat.bsky.convo.getConvoForMembers",
                 params={"members": "did:plc:borgerida00000000000001"}).json()
    assert found["convo"]["id"] == convo["id"]


def test_get_messages_pages_newest_first(app, account):
    for n in range(3):
        citizen_writes(app, account, f"Besked {n}")
    [convo] = convos(app, account)
    first = xrpc(app, account, "GET", "chat.bsky.convo.getMessages",
                 params={"convoId": convo["id"], "limit": 2}).json()
    rest = xrpc(app, account, "GET", "chat.bsky.convo.getMessages",
                params={"convoId": convo["id"], "limit": 2,
                        "cursor": first["cursor"]}).json()
    assert [m["text"] for m in first["messages"] + rest["messages"]] == [
        "Besked 2", "Besked 1", "Besked 0"]
    assert "cursor" not in rest


def test_an_answer_over_1000_graphemes_or_to_nobody_is_refused(app, account):
    citizen_writes(app, account, "Hej")
    [convo] = convos(app, account)
    assert send(app, account, convo["id"], "å" * 1000).status_code == 200
    too_long = send(app, account, convo["id"], "å" * 1001)
    assert (too_long.status_code, too_long.json()["error"]) == (400,
                                                                "InvalidRequest")
    assert send(app, account, "nope", "Hej").status_code == 400
    assert send(app, account, convo["id"], " ").status_code == 400
    assert len(logged(app, account)) == 1


def test_a_message_fault_refuses_and_an_after_create_fault_sends_once(app, account):
    citizen_writes(app, account, "Hej")
    [convo] = convos(app, account)
    app.state.ctx.faults.add(network="bluesky", kind="server_error",
                             operation="message")
    assert send(app, account, convo["id"], "Hej Ida").status_code == 500
    assert logged(app, account) == []
    app.state.ctx.faults.add(network="bluesky", kind="server_error_after_create",
                             operation="message")
    assert send(app, account, convo["id"], "Hej Ida").status_code == 500
    assert [p.text for p in logged(app, account)] == ["Hej Ida"]
