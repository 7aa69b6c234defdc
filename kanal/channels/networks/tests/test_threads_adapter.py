"""Threads against the emulator: posts, replies, moderation, inbox, quota."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kanal.channels.networks import graph
from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    OutcomeUnknown,
    QuotaExhausted,
    Rejected,
    TransientError,
)
from kanal.channels.networks.threads import ThreadsAdapter

pytestmark = pytest.mark.sandbox


def connect(sandbox, account, **credentials) -> ThreadsAdapter:
    tokens = {k: str(v) for k, v in account.tokens.items() if v}
    return ThreadsAdapter(Connection(
        network="threads",
        base_url=sandbox.base_url("threads", "/v1.0"),
        account_id=account.account_id,
        handle=account.handle,
        credentials={**tokens, **credentials},
        settings={"container_poll_seconds": "0.01"},
    ))


def image(sandbox, alt="Havnebadet", name="landscape.png"):
    return MediaItem(kind="image", mime_type="image/png", alt_text=alt,
                     public_url=f"{sandbox.url}/_sandbox/media/{name}")


@pytest.fixture
def account(sandbox):
    return sandbox.provision("threads", followers=1200)


@pytest.fixture
def adapter(sandbox, account):
    return connect(sandbox, account)


def text(label="Kulturnat"):
    return f"{label} {uuid.uuid4().hex[:6]}"


def test_text_post_with_link_uses_a_link_attachment(sandbox, adapter, account):
    body = text("Læs om badezonerne")
    result = adapter.publish(OutgoingPost(text=body, link="https://www.kk.dk/bad"),
                             idempotency_key="k")
    stored = sandbox.item("threads", result.remote_id)
    assert stored["text"] == body
    assert stored["data"]["media_type"] == "TEXT"
    assert stored["data"]["link_attachment"] == "https://www.kk.dk/bad"
    assert result.url.startswith("http")


def test_image_post_with_a_link_puts_the_link_in_the_text(sandbox, adapter):
    result = adapter.publish(OutgoingPost(text="Se billedet", link="https://kk.dk/x",
                                          media=(image(sandbox),)),
                             idempotency_key="k")
    stored = sandbox.item("threads", result.remote_id)
    assert stored["data"]["media_type"] == "IMAGE"
    assert stored["text"] == "Se billedet\n\nhttps://kk.dk/x"
    assert stored["data"]["alt_text"] == "Havnebadet"


def test_carousel_of_three(sandbox, adapter, account):
    alts = ["Broen", "Tårnet", "Vandet"]
    result = adapter.publish(
        OutgoingPost(text="Tre", media=tuple(image(sandbox, a) for a in alts)),
        idempotency_key="k")
    stored = sandbox.item("threads", result.remote_id)
    assert stored["data"]["media_type"] == "CAROUSEL"
    assert [c["alt_text"] for c in stored["data"]["children"]] == alts
    assert len(sandbox.published("threads", account.account_id)) == 1


def test_network_refuses_text_over_500_counted_with_emoji_bytes(sandbox, adapter):
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text="a" * 497 + "🇩🇰"), idempotency_key="k")
    assert "TEXT_TOO_LONG" in caught.value.network_message


def test_network_refuses_six_links(sandbox, adapter, account):
    links = " ".join(f"https://www.kk.dk/{i}" for i in range(6))
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text=links), idempotency_key="k")
    assert "højst 5" in caught.value.message
    assert sandbox.published("threads", account.account_id) == []


def test_reply_hide_repost_and_delete(sandbox, adapter, account):
    post = adapter.publish(OutgoingPost(text=text()), idempotency_key="k")
    citizen = sandbox.citizen("threads", "Er der åbent i morgen?",
                              parent_id=post.remote_id, author_name="Ole")
    answer = adapter.reply(citizen["item_id"], "Ja, kl. 10-18")
    stored = sandbox.item("threads", answer.remote_id)
    assert (stored["parent_id"], stored["root_id"], stored["author_id"]) == (
        citizen["item_id"], post.remote_id, account.account_id)
    log = sandbox.published("threads", account.account_id)
    assert [r["kind"] for r in log] == ["post", "reply"]

    adapter.hide(citizen["item_id"])
    assert sandbox.item("threads", citizen["item_id"])["hidden"]
    adapter.hide(citizen["item_id"], hidden=False)
    assert not sandbox.item("threads", citizen["item_id"])["hidden"]

    partner = sandbox.citizen("threads", "Nyt fra Kulturhuset", kind="post",
                              account="partner-1", author_name="Kulturhuset")
    shared = adapter.repost(partner["item_id"])
    assert sandbox.item("threads", shared.remote_id)["data"]["reposted_id"] == \
        partner["item_id"]
    with pytest.raises(Rejected):
        adapter.repost(partner["item_id"])

    adapter.delete(post.remote_id)
    assert sandbox.item("threads", post.remote_id)["deleted_at"] is not None


def test_inbox_has_replies_at_every_depth_and_mentions(sandbox, adapter, account):
    post = adapter.publish(OutgoingPost(text=text()), idempotency_key="k")
    top = sandbox.citizen("threads", "Top", parent_id=post.remote_id,
                          author_name="Anna")
    sandbox.citizen("threads", "Dybere", parent_id=top["item_id"],
                    author_name="Bo")
    adapter.reply(top["item_id"], "Vores svar")
    sandbox.citizen("threads", "Hej @kommunen", kind="mention",
                    account=account.account_id, author_name="Carl")
    page = adapter.fetch_inbox()
    by_text = {i.text: i for i in page.items}
    assert set(by_text) == {"Top", "Dybere", "Hej @kommunen"}
    assert by_text["Top"].kind == "comment"
    assert by_text["Dybere"].kind == "reply"
    assert by_text["Dybere"].parent_remote_id == top["item_id"]
    assert by_text["Dybere"].post_remote_id == post.remote_id
    assert by_text["Hej @kommunen"].kind == "mention"
    assert adapter.fetch_inbox(since=page.cursor).items == ()


def test_metrics(sandbox, adapter, account):
    post = adapter.publish(OutgoingPost(text=text()), idempotency_key="k")
    sandbox.control("POST", "/_sandbox/metrics", {
        "network": "threads", "subject_id": post.remote_id, "name": "views",
        "value": 88})
    sandbox.citizen("threads", "Godt!", parent_id=post.remote_id)
    snapshot = adapter.fetch_metrics((post.remote_id,))
    metrics = {m.name: m.value for m in snapshot.posts[post.remote_id]}
    assert metrics == {"views": 88, "likes": 0, "replies": 1, "reposts": 0,
                       "quotes": 0, "shares": 0}
    account_metrics = {m.name: m.value for m in snapshot.account}
    assert account_metrics["followers_count"] == 1200
    assert account_metrics["views"] == 88
    assert {m.api_version for m in snapshot.account} == {"v1.0"}


def test_keyword_search_by_tag(sandbox, adapter):
    tag = f"Kbh{uuid.uuid4().hex[:6]}"
    sandbox.citizen("threads", f"Aftensol #{tag}", kind="post",
                    account="citizen-9", author_name="Ida")
    sandbox.citizen("threads", f"{tag} uden hashtag", kind="post",
                    account="citizen-9", author_name="Ida")
    page = adapter.search_hashtag(tag.lower())
    assert [p.text for p in page.posts] == [f"Aftensol #{tag}"]
    assert page.posts[0].author_name == "ida"


def test_quota_is_checked_before_publishing(sandbox):
    account = sandbox.provision("threads", extra={"quota_total": 1})
    adapter = connect(sandbox, account)
    adapter.publish(OutgoingPost(text=text()), idempotency_key="a")
    with pytest.raises(QuotaExhausted) as caught:
        adapter.publish(OutgoingPost(text=text()), idempotency_key="b")
    assert caught.value.reset_at > datetime.now(UTC) + timedelta(hours=23)
    assert len(sandbox.published("threads", account.account_id)) == 1


def test_lost_answer_is_reconciled_from_the_container(sandbox, account):
    adapter = connect(sandbox, account)
    adapter.client._client.timeout = 1.0
    body = text("Borgermøde")
    state = {}
    sandbox.fault("threads", "timeout_after_create", operation="publish",
                  account=account.account_id, delay_ms=10_000)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(OutgoingPost(text=body), idempotency_key="k",
                        on_checkpoint=state.update)
    retry = connect(sandbox, account)
    result = retry.publish(OutgoingPost(text=body), idempotency_key="k",
                           checkpoint=dict(state))
    log = sandbox.published("threads", account.account_id)
    assert [r["item_id"] for r in log] == [result.remote_id]


def test_refresh_uses_th_refresh_token_only_for_old_tokens(sandbox, account):
    young = connect(sandbox, account,
                    issued_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert young.refresh_token().access_token == account.tokens["access_token"]
    tokens = connect(sandbox, account).refresh_token()
    assert tokens.access_token.startswith("THAA")
    assert tokens.access_token != account.tokens["access_token"]


def test_reply_webhook_is_signed(sandbox, adapter, webhook_receiver):
    post = adapter.publish(OutgoingPost(text=text()), idempotency_key="k")
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    made = sandbox.citizen("threads", "Tak!", parent_id=post.remote_id)
    sandbox.ctx.webhooks.drain()
    hook = webhook_receiver.received[-1]
    assert graph.verify_signature("test-app-secret", hook["raw"],
                                  hook["headers"]["x-hub-signature-256"])
    assert hook["json"]["values"]["field"] == "replies"
    assert hook["json"]["values"]["value"]["id"] == made["item_id"]
    assert hook["json"]["values"]["value"]["root_post"]["id"] == post.remote_id


def test_demo_account_has_replies_and_a_mention(sandbox):
    from sandbox.seed import demo_account

    demo = demo_account("threads")
    adapter = ThreadsAdapter(Connection(
        network="threads", base_url=sandbox.base_url("threads", "/v1.0"),
        account_id=demo["account_id"], handle=demo["handle"],
        credentials={"access_token": "sandbox-threads-token-kk"}))
    kinds = {i.text: i.kind for i in adapter.fetch_inbox().items}
    assert kinds["Også ved Sandkaj?"] == "comment"
    assert kinds["@kobenhavnskommune hvornår åbner Kulturhuset igen?"] == "mention"
    assert "Ja, også ved Sandkaj." not in kinds



def test_replies_have_their_own_quota(sandbox):
    account = sandbox.provision("threads", extra={"reply_quota_total": 2,
                                                  "quota_total": 1})
    adapter = connect(sandbox, account)
    post = adapter.publish(OutgoingPost(text=text()), idempotency_key="a")
    # The post quota is used up, but an answer still goes out.
    answer = adapter.publish(
        OutgoingPost(text="Svar i tråden", reply_to_remote_id=post.remote_id),
        idempotency_key="b")
    assert sandbox.item("threads", answer.remote_id)["parent_id"] == post.remote_id
    citizen = sandbox.citizen("threads", "Spørgsmål", parent_id=post.remote_id)
    adapter.reply(citizen["item_id"], "Andet svar")
    with pytest.raises(QuotaExhausted) as caught:
        adapter.reply(citizen["item_id"], "Tredje svar")
    assert "kvote på svar" in caught.value.message
    assert "2 svar per 24 h" in caught.value.network_message
    kinds = [r["kind"] for r in sandbox.published("threads", account.account_id)]
    assert kinds == ["post", "reply", "reply"]


def test_unfinished_container_cannot_be_published(sandbox):
    account = sandbox.provision("threads", extra={"container_delay_seconds": 30})
    adapter = connect(sandbox, account)
    container = adapter.create_container({"media_type": "TEXT", "text": "Snart"})
    assert adapter.container_status(container)[0] == "IN_PROGRESS"
    with pytest.raises(TransientError) as caught:
        adapter.post(f"/{account.account_id}/threads_publish",
                     creation_id=container)
    assert caught.value.network_code == "9007/2207027"
    sandbox.advance_clock(31)
    assert adapter.container_status(container)[0] == "FINISHED"


def test_expired_container_is_made_again_on_resume(sandbox, adapter, account):
    state = {}
    sandbox.fault("threads", "server_error", operation="publish",
                  account=account.account_id)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(OutgoingPost(text="Gammel"), idempotency_key="k",
                        on_checkpoint=state.update)
    old = state["container_id"]
    sandbox.advance_clock(24 * 3600 + 1)
    result = adapter.publish(OutgoingPost(text="Gammel"), idempotency_key="k",
                             checkpoint=dict(state), on_checkpoint=state.update)
    assert state["container_id"] != old
    assert [r["item_id"] for r in sandbox.published(
        "threads", account.account_id)] == [result.remote_id]


def test_emulator_refuses_a_carousel_of_twenty_one(sandbox, adapter):
    children = [adapter.create_container({
        "media_type": "IMAGE", "is_carousel_item": "true",
        "image_url": "https://cdn.example.invalid/b.jpg"}) for _ in range(21)]
    with pytest.raises(Rejected):
        adapter.create_container({"media_type": "CAROUSEL", "text": "For mange",
                                  "children": ",".join(children)})


def test_cannot_delete_another_accounts_post(sandbox, adapter):
    other = sandbox.citizen("threads", "Ikke jeres", kind="post",
                            account="citizen-5", author_name="Eva")
    with pytest.raises(Rejected):
        adapter.delete(other["item_id"])
    assert sandbox.item("threads", other["item_id"])["deleted_at"] is None


def test_oauth_code_becomes_a_long_lived_threads_token(sandbox, adapter, account):
    url = adapter.authorization_url(redirect_uri="http://127.0.0.1:9/cb", state="s")
    assert "threads_content_publish" in url
    answer = sandbox.http.get(f"{url}&account={account.account_id}")
    code = answer.headers["location"].split("code=")[1].split("&")[0]
    tokens = adapter.exchange_code(code=code, redirect_uri="http://127.0.0.1:9/cb")
    assert tokens.access_token.startswith("THAA")
    assert tokens.extra["user_id"] == account.account_id
    with pytest.raises(AuthExpired):
        adapter.exchange_code(code=code, redirect_uri="http://127.0.0.1:9/cb")


def test_citizen_page_shows_the_post_with_alt_text_and_replies(sandbox, adapter,
                                                               account):
    body = text("Se billedet")
    post = adapter.publish(OutgoingPost(text=body, media=(image(sandbox,
                                                                "Solnedgang"),)),
                           idempotency_key="k")
    sandbox.citizen("threads", "Smukt!", parent_id=post.remote_id)
    page = sandbox.http.get(f"/_sandbox/page/threads/{account.account_id}")
    assert page.status_code == 200
    assert body in page.text
    assert 'alt="Solnedgang"' in page.text
    assert "Smukt!" in page.text


def test_emulator_publishes_one_container_once_under_concurrent_publishes(
    sandbox, adapter, account
):
    """Two publishes of one container that overlap in the emulator's latency:
    Threads publishes it once and refuses the other (as Instagram's does)."""
    import threading

    import httpx

    container = adapter.create_container({"media_type": "TEXT",
                                          "text": text("Én gang")})
    sandbox.latency("threads", 300)
    url = (f"{sandbox.base_url('threads', '/v1.0')}/{account.account_id}"
           "/threads_publish")
    answers: list[int] = []

    def publish() -> None:
        answers.append(httpx.post(url, data={
            "creation_id": container,
            "access_token": account.tokens["access_token"],
        }, timeout=10).status_code)

    workers = [threading.Thread(target=publish) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(answers) == [200, 400]
    assert len(sandbox.published("threads", account.account_id)) == 1
