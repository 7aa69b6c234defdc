"""Instagram: validation, dialogue, inbox, metrics, hashtags, tokens, webhooks."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kanal.channels.networks import graph
from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    NotSupported,
    QuotaExhausted,
    RateLimited,
    Rejected,
)
from kanal.channels.networks.instagram import InstagramAdapter


def connect(sandbox, account, **changes) -> InstagramAdapter:
    credentials = {k: str(v) for k, v in account.tokens.items() if v}
    credentials.update(changes.pop("credentials", {}))
    return InstagramAdapter(Connection(
        network="instagram",
        base_url=sandbox.base_url("instagram", "/v25.0"),
        account_id=account.account_id,
        handle=account.handle,
        credentials=credentials,
        settings={"container_poll_seconds": "0.01"},
        **changes,
    ))


def jpeg(width=1080, height=1080, **fields):
    return MediaItem(kind="image", mime_type="image/jpeg", alt_text="Havnebad",
                     public_url="https://kanal.example/m/1.jpg", width=width,
                     height=height, **fields)


OFFLINE = InstagramAdapter(Connection(network="instagram",
                                      base_url="http://127.0.0.1:9/v25.0"))


# -- validation (pure) --------------------------------------------------------


def codes(post):
    return [p.code for p in OFFLINE.validate(post)]


def test_text_only_post_is_refused_in_danish():
    problems = OFFLINE.validate(OutgoingPost(text="Kun tekst"))
    assert [p.code for p in problems] == ["media_required"]
    assert "Instagram kræver et billede eller en video" in problems[0].message
    assert problems[0].field == "media"


def test_a_fitting_post_has_no_problems():
    assert OFFLINE.validate(OutgoingPost(text="Sol over havnen #voreskbh",
                                         media=(jpeg(),))) == []


def test_caption_limit_counts_the_appended_link():
    text = "a" * 2190
    assert codes(OutgoingPost(text=text, media=(jpeg(),))) == []
    with_link = OutgoingPost(text=text, link="https://www.kk.dk/bad",
                             media=(jpeg(),))
    assert codes(with_link) == ["text_too_long"]


def test_thirty_one_hashtags_and_twenty_one_mentions_are_too_many():
    tags = " ".join(f"#tag{i}" for i in range(31))
    mentions = " ".join(f"@konto{i}" for i in range(21))
    problems = OFFLINE.validate(OutgoingPost(text=f"{tags} {mentions}",
                                             media=(jpeg(),)))
    by_code = {p.code: p for p in problems}
    assert by_code["too_many_hashtags"].actual == 31
    assert by_code["too_many_mentions"].actual == 21
    ok = " ".join(f"#tag{i}" for i in range(30))
    assert codes(OutgoingPost(text=ok, media=(jpeg(),))) == []


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (MediaItem(kind="image", mime_type="image/png",
                   public_url="https://x/1.png"), "media_format"),
        (jpeg(data=b"x" * (8 * 1024 * 1024 + 1)), "image_too_large"),
        (jpeg(width=1080, height=1920), "aspect_ratio"),
        (jpeg(width=2000, height=1000), "aspect_ratio"),
        (MediaItem(kind="image", mime_type="image/jpeg"), "media_url_missing"),
        (MediaItem(kind="video", mime_type="video/mp4", public_url="https://x/v",
                   duration_seconds=2), "video_duration"),
    ],
)
def test_media_limits(item, code):
    assert codes(OutgoingPost(text="Billede", media=(item,))) == [code]


def test_aspect_ratio_edges_are_allowed():
    assert codes(OutgoingPost(text="x", media=(jpeg(1080, 1350),))) == []
    assert codes(OutgoingPost(text="x", media=(jpeg(1910, 1000),))) == []


def test_eleven_items_are_too_many_for_a_carousel():
    problems = OFFLINE.validate(OutgoingPost(text="x", media=(jpeg(),) * 11))
    assert [p.code for p in problems] == ["too_many_media"]
    assert problems[0].limit == 10


def test_repost_is_not_supported_with_a_danish_reason():
    with pytest.raises(NotSupported) as caught:
        OFFLINE.repost("123")
    assert "Instagram kan ikke dele" in caught.value.message


def test_capabilities_say_media_is_required():
    capabilities = OFFLINE.capabilities()
    assert capabilities.requires_media
    assert capabilities.image_formats == frozenset({"image/jpeg"})
    assert "repost" not in capabilities.supports


# -- against the emulator -----------------------------------------------------


@pytest.fixture
def account(sandbox):
    return sandbox.provision("instagram", followers=6000)


def publish(sandbox, adapter, text="Havnebadet åbner"):
    media = MediaItem(kind="image", mime_type="image/jpeg", alt_text="Bad",
                      public_url=f"{sandbox.url}/_sandbox/media/square.jpg",
                      width=1080, height=1080)
    return adapter.publish(OutgoingPost(text=text, media=(media,)),
                           idempotency_key=uuid.uuid4().hex)


@pytest.mark.sandbox
def test_reply_to_a_post_is_a_comment_and_to_a_comment_a_reply(sandbox, account):
    adapter = connect(sandbox, account)
    media = publish(sandbox, adapter)
    first = adapter.reply(media.remote_id, "Første kommentar med praktisk info")
    stored = sandbox.item("instagram", first.remote_id)
    assert (stored["kind"], stored["parent_id"]) == ("comment", media.remote_id)
    citizen = sandbox.citizen("instagram", "Er der livredder?",
                              parent_id=media.remote_id)
    answer = adapter.reply(citizen["item_id"], "Ja, fra kl. 11")
    stored = sandbox.item("instagram", answer.remote_id)
    assert (stored["kind"], stored["parent_id"], stored["root_id"]) == (
        "reply", citizen["item_id"], media.remote_id)


@pytest.mark.sandbox
def test_inbox_has_comments_replies_and_tags_but_not_our_own(sandbox, account):
    adapter = connect(sandbox, account)
    media = publish(sandbox, adapter)
    comment = sandbox.citizen("instagram", "Hvornår åbner I?",
                              parent_id=media.remote_id, author_name="Mette")
    sandbox.citizen("instagram", "Kl. 10 tror jeg", parent_id=comment["item_id"],
                    author_name="Jonas")
    adapter.reply(comment["item_id"], "Kl. 10. Mvh. Kommunen")
    sandbox.citizen("instagram", "Dejlig dag @kommunen", kind="mention",
                    account=account.account_id, author_name="Sofie")
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "instagram", "text": "Skjult", "parent_id": media.remote_id})
    hidden_id = sandbox.items("instagram", account.account_id,
                              kind="comment")[0]["item_id"]
    adapter.hide(hidden_id)
    page = adapter.fetch_inbox()
    by_text = {i.text: i for i in page.items}
    assert set(by_text) == {"Hvornår åbner I?", "Kl. 10 tror jeg",
                            "Dejlig dag @kommunen", "Skjult"}
    assert by_text["Kl. 10 tror jeg"].kind == "reply"
    assert by_text["Kl. 10 tror jeg"].parent_remote_id == comment["item_id"]
    assert by_text["Dejlig dag @kommunen"].kind == "mention"
    assert by_text["Skjult"].is_hidden
    assert by_text["Hvornår åbner I?"].author_name == "mette"
    assert adapter.fetch_inbox(since=page.cursor).items == ()


@pytest.mark.sandbox
def test_metrics_use_current_names_and_the_api_version(sandbox, account):
    adapter = connect(sandbox, account)
    media = publish(sandbox, adapter)
    sandbox.control("POST", "/_sandbox/metrics", {
        "network": "instagram", "subject_id": media.remote_id, "name": "views",
        "value": 321})
    sandbox.citizen("instagram", "Flot!", parent_id=media.remote_id)
    snapshot = adapter.fetch_metrics((media.remote_id,))
    account_metrics = {m.name: m.value for m in snapshot.account}
    assert account_metrics["followers_count"] == 6000
    assert account_metrics["views"] == 321
    post_metrics = {m.name: (m.value, m.kind)
                    for m in snapshot.posts[media.remote_id]}
    assert post_metrics["views"] == (321, "views")
    assert post_metrics["comments"] == (1, "comments")
    assert post_metrics["total_interactions"] == (1, "engagement")
    assert "impressions" not in post_metrics
    assert {m.api_version for m in snapshot.account} == {"v25.0"}


@pytest.mark.sandbox
def test_emulator_refuses_deprecated_metric_names(sandbox, account):
    adapter = connect(sandbox, account)
    media = publish(sandbox, adapter)
    with pytest.raises(Rejected) as caught:
        adapter.get(f"/{media.remote_id}/insights", metric="impressions")
    assert caught.value.network_code == 100


@pytest.mark.sandbox
def test_hashtag_search_finds_public_posts(sandbox, account):
    adapter = connect(sandbox, account)
    sandbox.citizen("instagram", "Morgensvømning #VoresKbh", kind="post",
                    account="citizen-1", author_name="Ida")
    page = adapter.search_hashtag("#voreskbh")
    assert page.tag == "voreskbh"
    assert "Morgensvømning #VoresKbh" in [p.text for p in page.posts]


@pytest.mark.sandbox
def test_hashtag_budget_of_thirty_unique_tags_is_checked_first(sandbox, account):
    adapter = connect(sandbox, account)
    for number in range(30):
        adapter.search_hashtag(f"tag{number}")
    again = adapter.search_hashtag("tag0")
    assert again.posts == ()
    with pytest.raises(QuotaExhausted) as caught:
        adapter.search_hashtag("tag30")
    assert "30 forskellige hashtags" in caught.value.message
    searched = adapter.get(f"/{account.account_id}/recently_searched_hashtags",
                           fields="name")
    assert len(searched["data"]) == 30


@pytest.mark.sandbox
def test_hashtag_budget_refused_by_the_network_is_quota_exhausted(sandbox):
    account = sandbox.provision("instagram", extra={"hashtag_budget": 1})
    adapter = connect(sandbox, account)
    adapter.search_hashtag("kbh")
    with pytest.raises(QuotaExhausted) as caught:
        adapter.search_hashtag("aarhus")
    assert caught.value.network_message.startswith("The user has reached")


@pytest.mark.sandbox
def test_young_token_is_not_refreshed(sandbox, account):
    issued = datetime.now(UTC) - timedelta(hours=2)
    adapter = connect(sandbox, account,
                      credentials={"issued_at": issued.isoformat()})
    before = len(sandbox.ctx.store.tokens_for("instagram", account.account_id))
    tokens = adapter.refresh_token()
    assert tokens.access_token == account.tokens["access_token"]
    assert tokens.extra == {"issued_at": issued.isoformat()}
    # No new token was asked for.
    assert len(sandbox.ctx.store.tokens_for("instagram", account.account_id)) \
        == before


@pytest.mark.sandbox
def test_old_token_is_refreshed_for_sixty_days(sandbox, account):
    adapter = connect(sandbox, account)
    tokens = adapter.refresh_token()
    assert tokens.access_token != account.tokens["access_token"]
    assert tokens.expires_at - datetime.now(UTC) > timedelta(days=59)
    fresh = connect(sandbox, account,
                    credentials={"access_token": tokens.access_token})
    assert fresh.verify().handle == account.handle


@pytest.mark.sandbox
def test_emulator_refuses_to_refresh_a_young_token(sandbox, account):
    adapter = connect(sandbox, account)
    tokens = adapter.refresh_token()
    with pytest.raises(AuthExpired):
        graph.refresh_long_lived(adapter.client, network="instagram",
                                 token=tokens.access_token)


@pytest.mark.sandbox
def test_oauth_code_becomes_a_long_lived_token(sandbox, account):
    adapter = connect(sandbox, account)
    url = adapter.authorization_url(redirect_uri="http://127.0.0.1:9/cb",
                                    state="s1")
    assert url.startswith(f"{sandbox.url}/instagram/oauth/authorize?")
    assert "instagram_business_content_publish" in url
    answer = sandbox.http.get(f"{url}&account={account.account_id}")
    assert answer.status_code == 302
    code = answer.headers["location"].split("code=")[1].split("&")[0]
    tokens = adapter.exchange_code(code=code, redirect_uri="http://127.0.0.1:9/cb")
    assert tokens.extra["user_id"] == account.account_id
    assert tokens.expires_at - datetime.now(UTC) > timedelta(days=59)


@pytest.mark.sandbox
def test_comment_webhook_is_signed_with_the_app_secret(
    sandbox, account, webhook_receiver
):
    adapter = connect(sandbox, account)
    media = publish(sandbox, adapter)
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    made = sandbox.citizen("instagram", "Tak for info", parent_id=media.remote_id)
    sandbox.ctx.webhooks.drain()
    hook = webhook_receiver.received[-1]
    assert graph.verify_signature("test-app-secret", hook["raw"],
                                  hook["headers"]["x-hub-signature-256"])
    change = hook["json"]["entry"][0]["changes"][0]
    assert change["field"] == "comments"
    assert change["value"]["id"] == made["item_id"]
    assert change["value"]["media"]["id"] == media.remote_id
    assert json.loads(hook["raw"])["object"] == "instagram"


@pytest.mark.sandbox
def test_demo_account_has_posts_comments_and_public_hashtag_posts(sandbox):
    from sandbox.seed import demo_account

    demo = demo_account("instagram")
    adapter = InstagramAdapter(Connection(
        network="instagram", base_url=sandbox.base_url("instagram", "/v25.0"),
        account_id=demo["account_id"], handle=demo["handle"],
        credentials={"access_token": "sandbox-instagram-token-kk"}))
    texts = [i.text for i in adapter.fetch_inbox().items]
    assert "Hvornår lukker badet om aftenen?" in texts
    assert not any(t.startswith("Badet er åbent til kl. 19") for t in texts)
    found = adapter.search_hashtag("voreskbh")
    assert "Morgensvømning i havnen før arbejde #voreskbh" in [
        p.text for p in found.posts]


@pytest.mark.sandbox
def test_usage_header_grows_and_the_account_is_throttled_at_100_percent(sandbox):
    account = sandbox.provision("instagram", extra={"calls_per_hour": 4})
    adapter = connect(sandbox, account)
    url = f"/{account.account_id}"
    params = {"fields": "id", "access_token": account.tokens["access_token"]}
    first = adapter.client.request("GET", url, params=params)
    usage = graph.usage_from_headers(first.headers)
    assert usage.percent == 25
    for _ in range(3):
        adapter.client.request("GET", url, params=params)
    with pytest.raises(RateLimited) as caught:
        adapter.verify()
    assert caught.value.network_code == 80002
    assert 0 < caught.value.retry_after <= 3600


@pytest.mark.sandbox
def test_single_video_is_published_as_a_reel(sandbox):
    account = sandbox.provision("instagram", extra={"video_delay_seconds": 0})
    adapter = connect(sandbox, account)
    film = MediaItem(kind="video", mime_type="video/mp4",
                     public_url="https://cdn.example.invalid/havnebad.mp4",
                     duration_seconds=20)
    result = adapter.publish(OutgoingPost(text="Se filmen", media=(film,)),
                             idempotency_key="k")
    stored = sandbox.item("instagram", result.remote_id)
    assert stored["data"]["media_type"] == "VIDEO"
    assert stored["data"]["media_product_type"] == "REELS"


@pytest.mark.sandbox
def test_mention_webhook(sandbox, account, webhook_receiver):
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    made = sandbox.citizen("instagram", "Tak @kommunen", kind="mention",
                           account=account.account_id)
    sandbox.ctx.webhooks.drain()
    entry = webhook_receiver.received[-1]["json"]["entry"][0]
    assert entry["id"] == account.account_id
    assert entry["changes"] == [{"field": "mentions",
                                 "value": {"media_id": made["item_id"]}}]


@pytest.mark.sandbox
def test_direct_message_webhook(sandbox, account, webhook_receiver):
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    sandbox.citizen("instagram", "Hvornår har Borgerservice åbent?",
                    kind="message", account=account.account_id)
    sandbox.ctx.webhooks.drain()
    messaging = webhook_receiver.received[-1]["json"]["entry"][0]["messaging"][0]
    assert messaging["recipient"] == {"id": account.account_id}
    assert messaging["message"]["text"] == "Hvornår har Borgerservice åbent?"


@pytest.mark.sandbox
def test_simulated_citizens_comment_on_instagram_posts(sandbox, account):
    adapter = connect(sandbox, account)
    media = publish(sandbox, adapter)
    comments = []
    # Citizens pick among every Instagram account in the session's sandbox.
    for seed in range(7, 17):
        sandbox.tick(seed=seed, actions=40, networks=["instagram"])
        comments = sandbox.items("instagram", account.account_id, kind="comment")
        if comments:
            break
    assert comments, "no citizen commented on the fresh post"
    page = adapter.fetch_inbox()
    assert {c["item_id"] for c in comments} <= {i.remote_id for i in page.items}
    assert all(i.post_remote_id for i in page.items if i.kind == "comment")
    assert media.remote_id in {i.post_remote_id for i in page.items}


@pytest.mark.sandbox
def test_citizen_page_shows_the_carousel_with_alt_texts(sandbox, account):
    adapter = connect(sandbox, account)
    images = tuple(MediaItem(kind="image", mime_type="image/jpeg", alt_text=alt,
                             public_url=f"{sandbox.url}/_sandbox/media/square.jpg",
                             width=1080, height=1080)
                   for alt in ("Broen", "Tårnet"))
    adapter.publish(OutgoingPost(text="To billeder", media=images),
                    idempotency_key="k")
    page = sandbox.http.get(f"/_sandbox/page/instagram/{account.account_id}")
    assert page.status_code == 200
    assert 'alt="Broen"' in page.text and 'alt="Tårnet"' in page.text
