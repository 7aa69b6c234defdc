"""The Facebook emulator's own behaviour that Kanal's demo and pages rely on."""

from __future__ import annotations

import httpx
import pytest

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.facebook import FacebookAdapter
from kanal.channels.networks.graph import verify_signature

pytestmark = pytest.mark.sandbox


@pytest.fixture
def account(sandbox):
    return sandbox.provision("facebook", followers=5000)


@pytest.fixture
def adapter(sandbox, account):
    return FacebookAdapter(Connection(
        network="facebook", base_url=sandbox.base_url("facebook", "/v25.0"),
        account_id=account.account_id, handle=account.handle,
        credentials=account.tokens))


def graph(sandbox, method, path, account, **params):
    return httpx.request(method, f"{sandbox.base_url('facebook', '/v25.0')}{path}",
                         params={**params,
                                 "access_token": account.tokens["access_token"]})


def test_uploaded_photo_is_served_and_shown_on_the_citizen_page(sandbox, adapter,
                                                                 account):
    jpeg = httpx.get(f"{sandbox.url}/_sandbox/media/square.jpg").content
    result = adapter.publish(OutgoingPost("Nyt fra Nørrebro Bibliotek", media=(
        MediaItem(kind="image", mime_type="image/jpeg", data=jpeg,
                  alt_text="Læsesalen om morgenen"),)), idempotency_key="p")
    [photo_id] = sandbox.item("facebook", result.remote_id)["data"]["attached_media"]
    node = graph(sandbox, "GET", f"/{photo_id}", account,
                 fields="picture,alt_text_custom").json()
    assert node["alt_text_custom"] == "Læsesalen om morgenen"
    served = httpx.get(node["picture"])
    assert served.content == jpeg
    page = httpx.get(f"{sandbox.url}/_sandbox/page/facebook/{account.account_id}")
    assert node["picture"].removeprefix(sandbox.url) in page.text
    assert "Læsesalen om morgenen" in page.text


def test_citizen_message_sends_a_messaging_webhook(sandbox, account,
                                                   webhook_receiver):
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    sandbox.citizen("facebook", "Hvornår har borgerservice åbent?",
                    account=account.account_id, kind="message",
                    author_name="Karen")
    sandbox.ctx.webhooks.drain()
    [hook] = webhook_receiver.received
    assert verify_signature("test-app-secret", hook["raw"],
                            hook["headers"]["x-hub-signature-256"])
    event = hook["json"]["entry"][0]["messaging"][0]
    assert event["recipient"] == {"id": account.account_id}
    assert event["message"]["text"] == "Hvornår har borgerservice åbent?"


def test_citizen_growth_shows_under_graph_metric_names(sandbox, adapter, account):
    post = adapter.publish(OutgoingPost("Sankthans ved søerne"), idempotency_key="p")
    before = {m.name: m.value for m in
              adapter.fetch_metrics((post.remote_id,)).posts[post.remote_id]}
    module = sandbox.ctx.networks["facebook"]
    stored = sandbox.ctx.store.get_item("facebook", post.remote_id)
    module.citizen_metrics(sandbox.ctx, stored, {"views": 1000, "likes": 40})
    after = {m.name: m.value for m in
             adapter.fetch_metrics((post.remote_id,)).posts[post.remote_id]}
    assert after["post_media_view"] >= before["post_media_view"] + 1000
    assert after["post_reactions_like_total"] >= (
        before["post_reactions_like_total"] + 40)


def test_user_token_cannot_post_to_the_page(sandbox, account):
    response = httpx.post(
        f"{sandbox.base_url('facebook', '/v25.0')}/{account.account_id}/feed",
        data={"message": "Hej", "access_token": account.tokens["user_token"]})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 200
    assert sandbox.published("facebook", account.account_id) == []


def test_scheduled_post_outside_the_window_is_refused(sandbox, account):
    response = graph(sandbox, "POST", f"/{account.account_id}/feed", account,
                     message="For tidligt", published="false",
                     scheduled_publish_time=str(
                         int(sandbox.ctx.now().timestamp()) + 60))
    assert response.status_code == 400
    assert "scheduled publish time is invalid" in response.json()["error"]["message"]


def test_scheduled_post_is_listed_but_not_published(sandbox, account):
    when = int(sandbox.ctx.now().timestamp()) + 3600
    made = graph(sandbox, "POST", f"/{account.account_id}/feed", account,
                 message="Senere i dag", published="false",
                 scheduled_publish_time=str(when)).json()
    scheduled = graph(sandbox, "GET", f"/{account.account_id}/scheduled_posts",
                      account, fields="id,scheduled_publish_time").json()["data"]
    assert scheduled == [{"id": made["id"], "scheduled_publish_time": when}]
    published = graph(sandbox, "GET", f"/{account.account_id}/published_posts",
                      account).json()["data"]
    assert published == []
    assert sandbox.published("facebook", account.account_id) == []


def test_feed_pages_with_after_cursor(sandbox, account):
    for number in range(5):
        graph(sandbox, "POST", f"/{account.account_id}/feed", account,
              message=f"Opslag nummer {number}")
    first = graph(sandbox, "GET", f"/{account.account_id}/feed", account,
                  limit="3", fields="message").json()
    assert [p["message"] for p in first["data"]] == [
        "Opslag nummer 4", "Opslag nummer 3", "Opslag nummer 2"]
    after = first["paging"]["cursors"]["after"]
    second = graph(sandbox, "GET", f"/{account.account_id}/feed", account,
                   limit="3", fields="message", after=after).json()
    assert [p["message"] for p in second["data"]] == [
        "Opslag nummer 1", "Opslag nummer 0"]
    assert "next" not in second["paging"]
