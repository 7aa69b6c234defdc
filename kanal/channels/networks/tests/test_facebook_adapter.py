"""Facebook specifics beyond the shared contract, against the emulator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kanal.channels.networks import graph
from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.networks.facebook import FacebookAdapter
from kanal.channels.networks.graph import verify_signature

pytestmark = pytest.mark.sandbox

APP_SECRET = "test-app-secret"
DEMO_PAGE = "104738291045678"


def connect(sandbox, account, **credentials) -> FacebookAdapter:
    return FacebookAdapter(Connection(
        network="facebook", base_url=sandbox.base_url("facebook", "/v25.0"),
        account_id=account.account_id, handle=account.handle,
        credentials={**account.tokens, **credentials},
    ))


@pytest.fixture
def account(sandbox):
    return sandbox.provision("facebook", followers=43000,
                             display_name="Københavns Kommune")


@pytest.fixture
def adapter(sandbox, account):
    return connect(sandbox, account)


def image(alt: str = "Havnebadet") -> MediaItem:
    return MediaItem(kind="image", mime_type="image/jpeg", alt_text=alt,
                     data=b"\xff\xd8\xff\xe0" + b"0" * 200, filename="bad.jpg")


# -- validation (pure) ------------------------------------------------------------


def test_validate_asks_for_alt_text_on_every_image():
    adapter = FacebookAdapter(Connection("facebook", "http://127.0.0.1:1/v25.0"))
    problems = adapter.validate(OutgoingPost("Se billederne", media=(
        image(alt="Bro"), image(alt=""))))
    assert [(p.code, p.field) for p in problems] == [("alt_text_missing", "media")]
    assert "Billede 2" in problems[0].message


def test_validate_refuses_more_than_ten_images_and_video_beside_them():
    adapter = FacebookAdapter(Connection("facebook", "http://127.0.0.1:1/v25.0"))
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="Film")
    problems = adapter.validate(OutgoingPost("Mange", media=(image(),) * 11 + (video,)))
    codes = {p.code for p in problems}
    assert codes == {"too_many_images", "video_with_other_media"}


def test_validate_refuses_an_empty_post():
    adapter = FacebookAdapter(Connection("facebook", "http://127.0.0.1:1/v25.0"))
    assert [p.code for p in adapter.validate(OutgoingPost("  "))] == ["text_empty"]


def test_api_version_is_read_from_the_base_url():
    adapter = FacebookAdapter(Connection("facebook", "https://graph.facebook.com/v27.0"))
    assert adapter.api_version == "v27.0"


# -- publishing ----------------------------------------------------------------------


def test_several_images_become_one_post_with_attached_media(sandbox, adapter,
                                                            account):
    result = adapter.publish(
        OutgoingPost("Tre billeder fra Kulturnatten", media=(
            image("Rådhuset"), image("Koncert"), image("Publikum"))),
        idempotency_key=uuid.uuid4().hex)
    post = sandbox.item("facebook", result.remote_id)
    photos = post["data"]["attached_media"]
    assert len(photos) == 3
    alts = [sandbox.item("facebook", p)["data"]["alt_text_custom"] for p in photos]
    assert alts == ["Rådhuset", "Koncert", "Publikum"]
    assert [r["item_id"] for r in sandbox.published("facebook", account.account_id)] \
        == [result.remote_id]
    assert result.url.startswith(sandbox.url)


def test_retry_with_checkpoint_does_not_upload_photos_again(sandbox, adapter,
                                                           account):
    sandbox.fault("facebook", "server_error", operation="publish",
                  account=account.account_id)
    checkpoints = []
    post = OutgoingPost("Billeder fra Amager Strand",
                        media=(image("Strand"), image("Is")))
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post, idempotency_key="k1", on_checkpoint=checkpoints.append)
    photo_ids = checkpoints[-1]["photo_ids"].split(",")
    assert len(photo_ids) == 2
    result = adapter.publish(post, idempotency_key="k1", checkpoint=checkpoints[-1])
    assert sandbox.item("facebook", result.remote_id)["data"]["attached_media"] \
        == photo_ids
    assert len(sandbox.items("facebook", account.account_id, kind="media")) == 2


def test_same_message_twice_within_minutes_is_rejected_as_duplicate(adapter):
    text = f"Husk at stemme ved valget ({uuid.uuid4().hex[:6]})"
    adapter.publish(OutgoingPost(text), idempotency_key="a")
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text), idempotency_key="b")
    assert caught.value.network_code == 506
    assert "dublet" in caught.value.message


def test_find_published_ignores_posts_before_since(sandbox, adapter):
    text = f"Vejarbejde på Nørrebrogade ({uuid.uuid4().hex[:6]})"
    adapter.publish(OutgoingPost(text), idempotency_key="a")
    later = datetime.now(UTC) + timedelta(minutes=30)
    assert adapter.find_published(idempotency_key="a", text=text,
                                  since=later) is None


def test_find_published_pages_through_many_posts(sandbox, adapter, account):
    first = f"Det første opslag ({uuid.uuid4().hex[:6]})"
    adapter.publish(OutgoingPost(first), idempotency_key="first")
    for number in range(130):
        sandbox.ctx.store.add_item(
            "facebook", account.account_id, f"{account.account_id}_9{number:05d}",
            "post", text=f"Fyld {number}", author_id=account.account_id)
    found = adapter.find_published(idempotency_key="first", text=first,
                                   since=datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None
    assert found.remote_id == sandbox.published("facebook",
                                                account.account_id)[0]["item_id"]


def test_deleting_a_missing_post_is_rejected(adapter, account):
    with pytest.raises(Rejected) as caught:
        adapter.delete(f"{account.account_id}_404")
    assert caught.value.network_code == "100/33"


# -- dialogue ---------------------------------------------------------------------


def test_inbox_separates_comments_replies_and_mentions(sandbox, adapter, account):
    post = adapter.publish(OutgoingPost("Nye cykelstier på Amager"),
                           idempotency_key="p")
    comment = sandbox.citizen("facebook", "Endelig!", parent_id=post.remote_id,
                              author_name="Jens Hansen")
    sandbox.citizen("facebook", "Enig med Jens", parent_id=comment["item_id"],
                    author_name="Sofie Nielsen")
    adapter.reply(comment["item_id"], "Tak, Jens. Mvh. Kommunen")
    sandbox.citizen("facebook", "Se hvad Københavns Kommune laver",
                    account=account.account_id, kind="mention",
                    author_name="Lokalavisen")
    page = adapter.fetch_inbox()
    found = {(i.kind, i.text, i.author_name, i.parent_remote_id, i.post_remote_id)
             for i in page.items}
    assert found == {
        ("comment", "Endelig!", "Jens Hansen", post.remote_id, post.remote_id),
        ("reply", "Enig med Jens", "Sofie Nielsen", comment["item_id"],
         post.remote_id),
        ("mention", "Se hvad Københavns Kommune laver", "Lokalavisen", "", ""),
    }
    assert adapter.fetch_inbox(since=page.cursor).items == ()


def test_hidden_comment_still_shows_for_the_page_and_is_marked(sandbox, adapter):
    post = adapter.publish(OutgoingPost("Affaldssortering"), idempotency_key="p")
    comment = sandbox.citizen("facebook", "Mit CPR er 010101-1234",
                              parent_id=post.remote_id)
    adapter.hide(comment["item_id"])
    items = adapter.fetch_inbox().items
    assert [(i.remote_id, i.is_hidden) for i in items] == [(comment["item_id"], True)]


def test_pinning_a_second_post_unpins_the_first(sandbox, adapter):
    first = adapter.publish(OutgoingPost("Vejarbejde på Amagerbrogade"),
                            idempotency_key="pin-1")
    second = adapter.publish(OutgoingPost("Brand på Amager: hold vinduerne lukket"),
                             idempotency_key="pin-2")
    adapter.pin(first.remote_id)
    adapter.pin(second.remote_id)
    assert sandbox.item("facebook", first.remote_id)["data"]["pinned"] is False
    assert sandbox.item("facebook", second.remote_id)["data"]["pinned"] is True
    adapter.pin(second.remote_id, pinned=False)
    assert sandbox.item("facebook", second.remote_id)["data"]["pinned"] is False


def test_the_citizen_page_shows_the_pinned_post_first(sandbox, adapter, account):
    pinned = adapter.publish(OutgoingPost("Brand på Amager: følg kk.dk"),
                             idempotency_key="pin-4")
    adapter.publish(OutgoingPost("Nyt fra biblioteket"), idempotency_key="pin-5")
    adapter.pin(pinned.remote_id)
    html = httpx.get(f"{sandbox.url}/_sandbox/page/facebook/{account.account_id}").text
    posts = html.split('<article class="card post"')[1:]
    assert "Fastgjort" in posts[0]
    assert "Brand på Amager" in posts[0]
    assert "Fastgjort" not in posts[1]


def test_a_citizen_comment_cannot_be_pinned(sandbox, adapter):
    post = adapter.publish(OutgoingPost("Kulturnatten"), idempotency_key="pin-3")
    comment = sandbox.citizen("facebook", "Glæder mig", parent_id=post.remote_id)
    with pytest.raises(Rejected) as caught:
        adapter.pin(comment["item_id"])
    assert caught.value.network_code == 100
    assert not sandbox.item("facebook", comment["item_id"])["data"].get("pinned")


def test_citizen_comment_sends_a_signed_feed_webhook(sandbox, adapter,
                                                     webhook_receiver):
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    post = adapter.publish(OutgoingPost("Åbent hus på biblioteket"),
                           idempotency_key="p")
    comment = sandbox.citizen("facebook", "Hvornår?", parent_id=post.remote_id,
                              author_name="Ida")
    sandbox.ctx.webhooks.drain()
    [hook] = webhook_receiver.received
    assert verify_signature(APP_SECRET, hook["raw"],
                            hook["headers"]["x-hub-signature-256"])
    change = hook["json"]["entry"][0]["changes"][0]
    assert change["field"] == "feed"
    assert change["value"]["comment_id"] == comment["item_id"]
    assert change["value"]["post_id"] == post.remote_id
    assert change["value"]["from"]["name"] == "Ida"


def test_app_subscription_verifies_the_callback_with_the_hub_challenge(
    sandbox, webhook_receiver
):
    body = httpx.post(
        f"{sandbox.base_url('facebook', '/v25.0')}/kanal-sandbox-app/subscriptions",
        data={"object": "page", "callback_url": webhook_receiver.url,
              "fields": "feed", "verify_token": webhook_receiver.verify_token,
              "access_token": f"kanal-sandbox-app|{APP_SECRET}"}).json()
    assert body == {"success": True}
    refused = httpx.post(
        f"{sandbox.base_url('facebook', '/v25.0')}/kanal-sandbox-app/subscriptions",
        data={"object": "page", "callback_url": webhook_receiver.url,
              "fields": "feed", "verify_token": "wrong",
              "access_token": f"kanal-sandbox-app|{APP_SECRET}"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == 2200
    sandbox.ctx.store.delete_subscriptions("facebook")


# -- metrics ------------------------------------------------------------------------


def test_metrics_use_current_names_and_grow(sandbox, adapter):
    post = adapter.publish(OutgoingPost("Fastelavn i Tivoli"), idempotency_key="p")
    sandbox.citizen("facebook", "Sjovt!", parent_id=post.remote_id)
    first = adapter.fetch_metrics((post.remote_id,))
    names = {m.name: m for m in first.account}
    assert names["followers_count"].value == 43000
    assert set(names) == {"followers_count", "fan_count", "page_media_view",
                          "page_total_media_view_unique", "page_post_engagements"}
    post_metrics = {m.name: m.value for m in first.posts[post.remote_id]}
    assert post_metrics["comments.summary.total_count"] == 1
    assert {"post_media_view", "post_total_media_view_unique", "post_clicks",
            "post_reactions_like_total"} <= set(post_metrics)
    second = adapter.fetch_metrics((post.remote_id,))
    views = {m.name: m.value for m in second.posts[post.remote_id]}
    assert views["post_media_view"] >= post_metrics["post_media_view"]
    page_views = {m.name: m.value for m in second.account}["page_media_view"]
    assert page_views > names["page_media_view"].value


def test_deprecated_impressions_metric_is_an_invalid_metric_error(sandbox, account):
    response = httpx.get(
        f"{sandbox.base_url('facebook', '/v25.0')}/{account.account_id}/insights",
        params={"metric": "page_impressions", "period": "day",
                "access_token": account.tokens["access_token"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (100, "OAuthException")
    assert "valid insights metric" in error["message"]


# -- throttling and tokens ----------------------------------------------------------


def test_page_rate_limit_is_http_400_with_usage_headers(sandbox, adapter, account):
    sandbox.fault("facebook", "rate_limit", operation="verify",
                  account=account.account_id, params={"regain_minutes": 7})
    with pytest.raises(RateLimited) as caught:
        adapter.verify()
    assert caught.value.http_status == 400
    assert caught.value.network_code == 32
    assert caught.value.retry_after == 7 * 60


def test_app_rate_limit_is_http_403(sandbox, adapter, account):
    sandbox.fault("facebook", "rate_limit", operation="verify",
                  account=account.account_id, params={"code": 4})
    with pytest.raises(RateLimited) as caught:
        adapter.verify()
    assert (caught.value.http_status, caught.value.network_code) == (403, 4)


def test_every_answer_carries_usage_headers(sandbox, account):
    response = httpx.get(
        f"{sandbox.base_url('facebook', '/v25.0')}/{account.account_id}",
        params={"fields": "followers_count",
                "access_token": account.tokens["access_token"]})
    assert response.json()["followers_count"] == 43000
    assert account.account_id in response.headers["x-business-use-case-usage"]
    assert "call_count" in response.headers["x-app-usage"]


def test_unknown_token_is_auth_expired_with_code_190(sandbox, account):
    adapter = connect(sandbox, account, access_token="EAAnot-a-token")
    with pytest.raises(AuthExpired) as caught:
        adapter.verify()
    assert caught.value.network_code == 190


def test_user_token_expires_after_sixty_days_and_refresh_then_fails(
    sandbox, adapter
):
    assert adapter.refresh_token().access_token
    sandbox.advance_clock(61 * 24 * 3600)
    with pytest.raises(AuthExpired) as caught:
        adapter.refresh_token()
    assert caught.value.network_code == "190/463"
    # The page token itself never expires.
    assert adapter.verify().followers == 43000


def test_refresh_returns_the_page_token_and_a_new_user_token(adapter, account):
    tokens = adapter.refresh_token()
    assert tokens.access_token == account.tokens["page_token"]
    assert tokens.expires_at is None
    assert tokens.extra["user_token"] != account.tokens["user_token"]
    assert tokens.extra["page_id"] == account.account_id


def test_revoked_page_token_reports_subcode_460(sandbox, adapter, account):
    sandbox.control("POST", "/_sandbox/tokens/expire", {
        "network": "facebook", "token": account.tokens["access_token"],
        "revoke": True})
    with pytest.raises(AuthExpired) as caught:
        adapter.verify()
    assert caught.value.network_code == "190/460"


def test_oauth_flow_ends_with_the_demo_page_token(sandbox):
    adapter = FacebookAdapter(Connection(
        network="facebook", base_url=sandbox.base_url("facebook", "/v25.0"),
        account_id=DEMO_PAGE,
        credentials={"client_id": "kanal-sandbox-app",
                     "client_secret": APP_SECRET},
    ))
    redirect = "http://127.0.0.1:8000/kanaler/facebook/callback/"
    url = adapter.authorization_url(redirect_uri=redirect, state="s1")
    assert url.startswith(sandbox.base_url("facebook", "/v25.0/dialog/oauth?"))
    assert "pages_manage_posts" in parse_qs(urlsplit(url).query)["scope"][0]
    answer = httpx.get(url)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["s1"]
    tokens = adapter.exchange_code(code=back["code"][0], redirect_uri=redirect)
    assert tokens.access_token == "sandbox-facebook-page-token-kk"
    assert tokens.extra["page_name"] == "Københavns Kommune"
    expires = datetime.fromisoformat(tokens.extra["user_token_expires_at"])
    assert timedelta(days=59) < expires - datetime.now(UTC) < timedelta(days=61)
    with pytest.raises(AuthExpired):
        adapter.exchange_code(code=back["code"][0], redirect_uri=redirect)


def test_real_graph_host_sends_admins_to_www_facebook_com():
    adapter = FacebookAdapter(Connection(
        network="facebook", base_url="https://graph.facebook.com/v25.0",
        credentials={"client_id": "123"}))
    url = adapter.authorization_url(redirect_uri="https://kanal.example/cb",
                                    state="x")
    assert url.startswith("https://www.facebook.com/v25.0/dialog/oauth?client_id=123")


# -- direct messages ------------------------------------------------------------------


def message(sandbox, account, text: str, *, author: str, name: str) -> dict:
    return sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "facebook", "kind": "message", "account": account.account_id,
        "text": text, "author_id": author, "author_name": name,
    })


def test_messages_appear_once_in_the_inbox_across_two_polls(sandbox, adapter,
                                                             account):
    first = message(sandbox, account, "Hvornår tømmes skraldet på Vesterbro?",
                    author="7001", name="Ida Holm")
    message(sandbox, account, "Og storskrald?", author="7001", name="Ida Holm")
    message(sandbox, account, "Tak for svaret i går", author="7002",
            name="Ali Demir")
    page = adapter.fetch_inbox()
    messages = [i for i in page.items if i.kind == "message"]
    ida = [i for i in messages if i.author_id == "7001"]
    ali = [i for i in messages if i.author_id == "7002"]
    assert [(i.text, i.author_name) for i in ida] == [
        ("Hvornår tømmes skraldet på Vesterbro?", "Ida Holm"),
        ("Og storskrald?", "Ida Holm"),
    ]
    assert [(i.text, i.author_name) for i in ali] == [
        ("Tak for svaret i går", "Ali Demir")]
    assert len(messages) == 3
    assert ida[0].remote_id == f"m_{first['item_id']}"
    assert ida[0].parent_remote_id == ida[1].parent_remote_id
    assert ida[0].parent_remote_id != ali[0].parent_remote_id
    assert ida[0].parent_remote_id.startswith("t_")
    again = adapter.fetch_inbox(since=page.cursor)
    assert again.items == ()
    sandbox.advance_clock(2)
    message(sandbox, account, "Er der nogen?", author="7001", name="Ida Holm")
    third = adapter.fetch_inbox(since=again.cursor)
    assert [(i.kind, i.text) for i in third.items] == [("message", "Er der nogen?")]
    assert adapter.fetch_inbox(since=third.cursor).items == ()


def test_an_old_time_cursor_still_parses_and_filters_messages(sandbox, adapter,
                                                              account):
    message(sandbox, account, "Gammel besked", author="7003", name="Per Lund")
    old_style = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert adapter.fetch_inbox(since=old_style).items == ()


def test_conversations_answer_in_messengers_shape(sandbox, account):
    message(sandbox, account, "Hej kommune", author="7004", name="Lise Bo")
    response = httpx.get(
        sandbox.base_url("facebook", f"/v25.0/{account.account_id}/conversations"),
        params={"access_token": account.tokens["access_token"],
                "platform": "messenger",
                "fields": "messages{message,from,created_time}"})
    assert response.status_code == 200
    [conversation] = response.json()["data"]
    assert set(conversation) == {"id", "messages"}
    [entry] = conversation["messages"]["data"]
    assert entry["message"] == "Hej kommune"
    assert entry["from"] == {"name": "Lise Bo", "email": "7004@facebook.com",
                             "id": "7004"}
    assert entry["id"].startswith("m_")


def test_messages_without_pages_messaging_leave_the_comments(sandbox, adapter,
                                                              account):
    post = adapter.publish(OutgoingPost("Ny legeplads i Valby"),
                           idempotency_key="p")
    sandbox.citizen("facebook", "Fedt!", parent_id=post.remote_id,
                    author_name="Jens Hansen")
    message(sandbox, account, "Privat spørgsmål", author="7005", name="Mia")
    real_call = adapter.call

    # What Graph's (#200) becomes in Kanal (AuthExpired, as every
    # permission error), not a hand-made Rejected.
    denied = graph.error_for(graph.GraphError(
        code=200, message="(#200) Requires pages_messaging"),
        http_status=403, network="facebook")

    def no_messaging(method, path, **kwargs):
        if path.endswith("/conversations"):
            raise denied
        return real_call(method, path, **kwargs)

    adapter.call = no_messaging
    assert [(i.kind, i.text) for i in adapter.fetch_inbox().items] == [
        ("comment", "Fedt!")]


def test_an_inbox_fault_on_conversations_is_not_swallowed(sandbox, adapter,
                                                          account):
    real_call = adapter.call

    def broken(method, path, **kwargs):
        if path.endswith("/conversations"):
            raise TransientError(network="facebook", network_code=2)
        return real_call(method, path, **kwargs)

    adapter.call = broken
    with pytest.raises(TransientError):
        adapter.fetch_inbox()
