"""The X adapter and emulator speak X's OpenAPI spec: every request body and
answer exchanged while the adapter works through the emulator is checked."""

import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import NetworkError
from kanal.channels.networks.x import XAdapter
from sandbox.x_openapi import XOpenAPI

pytestmark = pytest.mark.sandbox


class Recorder:
    """Keeps every request and answer the adapter's HTTP client sees."""

    def __init__(self, adapter: XAdapter, prefix: str) -> None:
        self.prefix = prefix
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        hooks = adapter.client._client.event_hooks
        # Multipart bodies are streamed; read them so they can be checked.
        hooks["request"].append(lambda request: request.read())
        hooks["response"].append(self.keep)

    def keep(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append((response.request, response))

    def api_calls(self):
        for request, response in self.exchanges:
            path = urlsplit(str(request.url)).path.removeprefix(self.prefix)
            if path.startswith("/2/") and not path.startswith("/2/oauth2/"):
                yield request, response, path


@pytest.fixture
def spec():
    return XOpenAPI.load()


@pytest.fixture
def adapter(sandbox):
    account = sandbox.provision("x", followers=777)
    connection = Connection(
        network="x",
        base_url=sandbox.base_url("x"),
        account_id=account.account_id,
        handle=account.handle,
        credentials={k: str(v) for k, v in account.tokens.items() if v},
        settings={"media_poll_seconds": "0"},
    )
    made = XAdapter(connection)
    made.recorder = Recorder(made, urlsplit(sandbox.base_url("x")).path)
    made.account = account
    return made


def check_everything(spec, recorder) -> list[tuple[str, str, int]]:
    seen, problems = [], []
    for request, response, path in recorder.api_calls():
        query = dict(request.url.params)
        problems += spec.check_request(
            request.method, path, query=query,
            content_type=request.headers.get("content-type", ""),
            body=request.content,
        )
        problems += spec.check_response(
            request.method, path, status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=response.content,
        )
        template = spec.find(request.method, path)[0]
        seen.append((request.method, template, response.status_code))
    assert problems == []
    return seen


def test_a_working_day_through_the_emulator_matches_the_spec(
    sandbox, spec, adapter
):
    image = httpx.get(f"{sandbox.url}/_sandbox/media/square.jpg").content
    video = b"\0\0\0\x18ftypmp42" + b"\0" * 2000
    text = f"Havnebadet åbner & vandet er 21° #voreskbh ({uuid.uuid4().hex[:6]})"
    post = adapter.publish(
        OutgoingPost(
            text=text,
            link="https://www.kk.dk/bade",
            media=(
                MediaItem(kind="image", mime_type="image/jpeg", data=image,
                          alt_text="Børn hopper i vandet", filename="bad.jpg"),
                MediaItem(kind="image", mime_type="image/jpeg", data=image,
                          alt_text="Livredder på tårnet", filename="tårn.jpg"),
            ),
        ),
        idempotency_key="k1",
    )
    adapter.publish(
        OutgoingPost(text=f"Film fra stranden {uuid.uuid4().hex[:6]}", media=(
            MediaItem(kind="video", mime_type="video/mp4", data=video,
                      alt_text="Bølger"),)),
        idempotency_key="k2",
    )
    comment = sandbox.citizen("x", "Hvornår lukker badet?", parent_id=post.remote_id)
    sandbox.citizen("x", "Flot initiativ!", account=adapter.account.account_id,
                    kind="mention")
    sandbox.citizen("x", "Sol over Søerne #voreskbh", kind="post",
                    account="citizen-sol", author_name="Freja Holm")
    sandbox.citizen("x", "Må jeg skrive privat?", account=adapter.account.account_id,
                    kind="message", author_name="Ida Holm")
    answer = adapter.reply(comment["item_id"], "Badet lukker kl. 19.")
    adapter.hide(comment["item_id"])
    adapter.hide(comment["item_id"], hidden=False)
    page = adapter.fetch_inbox()
    assert {i.text for i in page.items} >= {"Hvornår lukker badet?",
                                            "Må jeg skrive privat?"}
    adapter.fetch_inbox(since=page.cursor)
    snapshot = adapter.fetch_metrics((post.remote_id, answer.remote_id, "1"))
    assert snapshot.account[0].value == 777
    tags = adapter.search_hashtag("voreskbh")
    assert "Sol over Søerne #voreskbh" in [p.text for p in tags.posts]
    assert adapter.find_published(idempotency_key="k1", text=text,
                                  since=post.published_at).remote_id == post.remote_id
    assert adapter.verify().followers == 777
    adapter.repost(tags.posts[0].remote_id)
    adapter.delete(answer.remote_id)

    seen = check_everything(spec, adapter.recorder)
    templates = {(method, template) for method, template, _ in seen}
    assert templates >= {
        ("POST", "/2/tweets"),
        ("GET", "/2/tweets"),
        ("GET", "/2/users/me"),
        ("GET", "/2/users/{id}"),
        ("GET", "/2/users/{id}/mentions"),
        ("GET", "/2/users/{id}/tweets"),
        ("GET", "/2/tweets/search/recent"),
        ("POST", "/2/media/upload/initialize"),
        ("POST", "/2/media/upload/{id}/append"),
        ("POST", "/2/media/upload/{id}/finalize"),
        ("GET", "/2/media/upload"),
        ("POST", "/2/media/metadata"),
        ("PUT", "/2/tweets/{tweet_id}/hidden"),
        ("POST", "/2/users/{id}/retweets"),
        ("DELETE", "/2/tweets/{id}"),
        ("GET", "/2/dm_events"),
    }
    assert len(seen) >= 25


@pytest.mark.parametrize(
    ("kind", "operation"),
    [
        ("rate_limit", "publish"),
        ("quota_exhausted", "publish"),
        ("server_error", "publish"),
        ("expired_token", "publish"),
        ("policy_block", "publish"),
        ("duplicate", "publish"),
        ("invalid_media", "media"),
        ("rate_limit", "inbox"),
        ("server_error", "metrics"),
    ],
)
def test_fault_answers_match_the_spec_or_xs_observed_errors(
    sandbox, spec, adapter, kind, operation
):
    sandbox.fault("x", kind, operation=operation,
                  account=adapter.account.account_id)
    image = httpx.get(f"{sandbox.url}/_sandbox/media/square.jpg").content
    with pytest.raises(NetworkError):
        if operation == "inbox":
            adapter.fetch_inbox()
        elif operation == "metrics":
            adapter.fetch_metrics(("1",))
        else:
            adapter.publish(OutgoingPost(
                text=f"Fejl {uuid.uuid4().hex[:6]}",
                media=(MediaItem(kind="image", mime_type="image/jpeg", data=image,
                                 alt_text="Et billede"),),
            ), idempotency_key="k")
    seen = check_everything(spec, adapter.recorder)
    assert seen[-1][2] >= 400


def test_the_adapter_uses_only_the_docs_name_for_fields(spec, adapter, sandbox):
    adapter.fetch_inbox()
    unknown = set()
    for request, _, path in adapter.recorder.api_calls():
        unknown |= spec.unknown_query_parameters(
            request.method, path, dict(request.url.params))
    # tweet.fields is what X's docs use; the spec calls it post.fields.
    assert unknown == {"tweet.fields"}


def test_messages_appear_once_across_two_polls_and_match_the_spec(
    sandbox, spec, adapter
):
    me = adapter.account.account_id
    for text in ("Hvornår åbner svømmehallen?", "Og om søndagen?"):
        sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": "x", "kind": "message", "account": me, "text": text,
            "author_id": "citizen-ida", "author_name": "Ida Holm"})
    first = adapter.fetch_inbox()
    messages = [i for i in first.items if i.kind == "message"]
    assert [(i.text, i.author_name) for i in messages] == [
        ("Hvornår åbner svømmehallen?", "Ida Holm"),
        ("Og om søndagen?", "Ida Holm"),
    ]
    sender = messages[0].author_id
    assert sender.isdigit()
    low, high = sorted((sender, me), key=int)
    assert {i.parent_remote_id for i in messages} == {f"{low}-{high}"}
    second = adapter.fetch_inbox(since=first.cursor)
    assert [i for i in second.items if i.kind == "message"] == []
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "x", "kind": "message", "account": me, "text": "Tak!",
        "author_id": "citizen-ida", "author_name": "Ida Holm"})
    third = adapter.fetch_inbox(since=second.cursor)
    assert [(i.kind, i.text) for i in third.items] == [("message", "Tak!")]
    seen = check_everything(spec, adapter.recorder)
    assert ("GET", "/2/dm_events", 200) in seen


def test_reading_a_partners_posts_matches_the_spec(spec, adapter):
    """The partner source's calls (a user by handle, then that user's posts)
    and the emulator's answers, unknown handle included, follow the spec."""
    from kanal.channels.networks.errors import Rejected

    page = adapter.fetch_account_posts("@kkbibliotek")
    assert page.posts and all(p.url.endswith(p.remote_id) for p in page.posts)
    with pytest.raises(Rejected) as unknown:
        adapter.fetch_account_posts("ingen_saadan")
    assert "kender ikke kontoen" in unknown.value.message
    with pytest.raises(Rejected):
        adapter.fetch_account_posts("../2/users/me")  # not a handle: no call
    seen = check_everything(spec, adapter.recorder)
    assert {template for _method, template, _status in seen} == {
        "/2/users/by/username/{username}", "/2/users/{id}/tweets"}


def test_answering_a_direct_message_matches_the_spec(sandbox, spec, adapter):
    """Sending a DM to a citizen and reading that conversation back (the
    lookup after a lost answer) follow the spec, both ways."""
    from datetime import UTC, datetime, timedelta

    from kanal.channels.networks.base import OutgoingMessage

    me = adapter.account.account_id
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "x", "kind": "message", "account": me,
        "text": "Hvor finder jeg affaldskalenderen?",
        "author_id": "citizen-ida", "author_name": "Ida Holm"})
    [item] = [i for i in adapter.fetch_inbox().items if i.kind == "message"]
    message = OutgoingMessage(text="På kk.dk/affald.", recipient_id=item.author_id,
                              reply_to_remote_id=item.remote_id)
    sent = adapter.send_message(message)
    found = adapter.find_message(message,
                                 since=datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.remote_id == sent.remote_id
    seen = check_everything(spec, adapter.recorder)
    assert ("POST", "/2/dm_conversations/with/{participant_id}/messages",
            201) in seen
    assert ("GET", "/2/dm_conversations/with/{participant_id}/dm_events",
            200) in seen


def test_liking_a_reply_matches_the_spec(sandbox, spec, adapter):
    """Like, like again, unlike and an unknown post: the calls and the
    emulator's answers (the 404 problem included) follow the spec."""
    from kanal.channels.networks.errors import Rejected

    post = adapter.publish(OutgoingPost(text=f"Kulturnat {uuid.uuid4().hex[:6]}"),
                           idempotency_key=uuid.uuid4().hex)
    comment = sandbox.citizen("x", "Glæder mig!", parent_id=post.remote_id)
    adapter.like(comment["item_id"])
    adapter.like(comment["item_id"])
    adapter.like(comment["item_id"], liked=False)
    with pytest.raises(Rejected):
        adapter.like("1999999999999999999")
    seen = check_everything(spec, adapter.recorder)
    assert ("POST", "/2/users/{id}/likes", 200) in seen
    assert ("POST", "/2/users/{id}/likes", 404) in seen
    assert ("DELETE", "/2/users/{id}/likes/{tweet_id}", 200) in seen
    assert sandbox.item("x", comment["item_id"])["data"]["liked_by"] == []
