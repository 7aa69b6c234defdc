import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.networks.mastodon import (
    MastodonAdapter,
    count_mastodon_text,
    html_to_text,
    parse_rate_limit_reset,
)

from .mastodon_fakes import BASE, NOW, mastodon_adapter

pytestmark = pytest.mark.usefixtures("fresh_mastodon_limits")


def status(id_, content="<p>Hej</p>", **extra):
    return {
        "id": id_,
        "created_at": "2026-11-28T09:00:00.000Z",
        "content": content,
        "url": f"{BASE}/@kbh/{id_}",
        "uri": f"{BASE}/users/kbh/statuses/{id_}",
        "visibility": "public",
        "account": {"id": "1", "acct": "kbh", "display_name": "Københavns Kommune"},
        "favourites_count": 0,
        "reblogs_count": 0,
        "replies_count": 0,
        **extra,
    }


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def adapter(sleeps):
    return mastodon_adapter(sleep=sleeps.append)


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


# -- publishing -------------------------------------------------------------


def test_publish_sends_idempotency_key_and_returns_status(adapter, api):
    route = api.post("/api/v1/statuses").respond(200, json=status("109"))

    result = adapter.publish(OutgoingPost(text="Hej København"), idempotency_key="k-1")

    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "k-1"
    assert request.headers["Authorization"] == "Bearer tok-1"
    body = json.loads(request.content)
    assert body == {"status": "Hej København", "visibility": "public", "language": "da"}
    assert result.remote_id == "109"
    assert result.url == f"{BASE}/@kbh/109"
    assert result.published_at == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_publish_appends_the_link_when_the_text_lacks_it(adapter, api):
    route = api.post("/api/v1/statuses").respond(200, json=status("1"))

    adapter.publish(
        OutgoingPost(text="Læs mere", link="https://kk.dk/x"), idempotency_key="k"
    )

    assert json.loads(route.calls.last.request.content)["status"] == (
        "Læs mere\n\nhttps://kk.dk/x"
    )


def test_publish_with_reply_to_sets_in_reply_to_id(adapter, api):
    route = api.post("/api/v1/statuses").respond(200, json=status("2"))

    adapter.publish(
        OutgoingPost(text="Svar", reply_to_remote_id="77"), idempotency_key="k"
    )

    assert json.loads(route.calls.last.request.content)["in_reply_to_id"] == "77"


def test_synchronously_processed_image_is_attached_with_its_description(adapter, api):
    upload = api.post("/api/v2/media").respond(
        200, json={"id": "m1", "type": "image", "url": f"{BASE}/m1.png"}
    )
    post_route = api.post("/api/v1/statuses").respond(200, json=status("3"))
    checkpoints = []
    image = MediaItem(kind="image", mime_type="image/png", alt_text="Et bad", data=b"P")

    adapter.publish(
        OutgoingPost(text="Se", media=(image,)),
        idempotency_key="k",
        on_checkpoint=checkpoints.append,
    )

    multipart = upload.calls.last.request.content
    assert b'name="description"\r\n\r\nEt bad' in multipart
    assert b'name="file"' in multipart
    assert json.loads(post_route.calls.last.request.content)["media_ids"] == ["m1"]
    assert checkpoints == [{"media_ids": "m1"}]


def test_processing_media_is_polled_until_ready(adapter, api, sleeps):
    api.post("/api/v2/media").respond(202, json={"id": "v1", "url": None})
    api.get("/api/v1/media/v1").mock(
        side_effect=[
            httpx.Response(206, json={"id": "v1", "url": None}),
            httpx.Response(206, json={"id": "v1", "url": None}),
            httpx.Response(200, json={"id": "v1", "url": f"{BASE}/v1.mp4"}),
        ]
    )
    post_route = api.post("/api/v1/statuses").respond(200, json=status("4"))
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="Film", data=b"V")

    adapter.publish(OutgoingPost(text="Film", media=(video,)), idempotency_key="k")

    assert sleeps == [1.0, 1.0]
    assert json.loads(post_route.calls.last.request.content)["media_ids"] == ["v1"]


def test_media_still_processing_after_all_polls_is_transient(adapter, api):
    api.post("/api/v2/media").respond(202, json={"id": "v1", "url": None})
    api.get("/api/v1/media/v1").respond(206, json={"id": "v1", "url": None})
    post_route = api.post("/api/v1/statuses")
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="Film", data=b"V")

    with pytest.raises(TransientError) as caught:
        adapter.publish(OutgoingPost(text="Film", media=(video,)), idempotency_key="k")

    assert caught.value.retry_after == 30.0
    assert not post_route.called


def test_retry_with_checkpoint_reuses_uploaded_media(adapter, api):
    upload = api.post("/api/v2/media")
    api.get("/api/v1/media/m9").respond(200, json={"id": "m9", "url": f"{BASE}/m9"})
    post_route = api.post("/api/v1/statuses").respond(200, json=status("5"))
    image = MediaItem(kind="image", mime_type="image/png", alt_text="A", data=b"P")

    adapter.publish(
        OutgoingPost(text="Igen", media=(image,)),
        idempotency_key="k",
        checkpoint={"media_ids": "m9"},
    )

    assert not upload.called
    assert json.loads(post_route.calls.last.request.content)["media_ids"] == ["m9"]


def test_checkpointed_media_that_vanished_is_uploaded_again(adapter, api):
    api.get("/api/v1/media/old").respond(404, json={"error": "Record not found"})
    api.post("/api/v2/media").respond(200, json={"id": "new", "url": f"{BASE}/n"})
    post_route = api.post("/api/v1/statuses").respond(200, json=status("6"))
    image = MediaItem(kind="image", mime_type="image/png", alt_text="A", data=b"P")

    adapter.publish(
        OutgoingPost(text="x", media=(image,)),
        idempotency_key="k",
        checkpoint={"media_ids": "old"},
    )

    assert json.loads(post_route.calls.last.request.content)["media_ids"] == ["new"]


# -- errors -----------------------------------------------------------------


def test_validation_failure_is_rejected_with_the_instance_text(adapter, api):
    api.post("/api/v1/statuses").respond(
        422, json={"error": "Validation failed: Text character limit of 500 exceeded"}
    )

    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert caught.value.http_status == 422
    assert "character limit of 500" in caught.value.network_message
    assert "for lang" in caught.value.message


def test_unprocessed_media_422_is_transient(adapter, api):
    api.post("/api/v1/statuses").respond(
        422,
        json={
            "error": "Cannot attach files that have not finished processing. "
            "Try again in a moment!"
        },
    )

    with pytest.raises(TransientError) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert not isinstance(caught.value, Rejected)
    assert caught.value.retry_after == 5.0


def test_rate_limit_reads_the_iso_8601_reset(adapter, api):
    reset = datetime.now(UTC) + timedelta(minutes=5)
    api.post("/api/v1/statuses").respond(
        429,
        json={"error": "Too many requests"},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
    )

    with pytest.raises(RateLimited) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert abs((caught.value.reset_at - reset).total_seconds()) < 0.001
    assert 290 < caught.value.retry_after <= 300


def test_rate_limit_reset_accepts_epoch_seconds_as_gotosocial_sends():
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_rate_limit_reset(str(int(moment.timestamp()))) == moment
    assert parse_rate_limit_reset("2026-12-01T09:00:00.000Z") == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )
    assert parse_rate_limit_reset("soon") is None


def test_invalid_token_is_auth_expired(adapter, api):
    api.get("/api/v1/accounts/verify_credentials").respond(
        401, json={"error": "The access token is invalid"}
    )

    with pytest.raises(AuthExpired) as caught:
        adapter.verify()

    assert caught.value.network_message == "The access token is invalid"


def test_missing_scope_is_auth_expired_but_other_403_is_rejected(adapter, api):
    api.post("/api/v1/statuses").mock(
        side_effect=[
            httpx.Response(
                403, json={"error": "This action is outside the authorized scopes"}
            ),
            httpx.Response(403, json={"error": "This action is not allowed"}),
        ]
    )

    with pytest.raises(AuthExpired):
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")
    with pytest.raises(Rejected):
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")


def test_server_error_on_a_status_is_unknown_but_transient_on_a_read(adapter, api):
    api.post("/api/v1/statuses").respond(
        503,
        json={"error": "Remote data could not be fetched"},
        headers={"Retry-After": "7"},
    )
    api.get("/api/v1/statuses/5").respond(
        503,
        json={"error": "Remote data could not be fetched"},
        headers={"Retry-After": "7"},
    )

    with pytest.raises(OutcomeUnknown) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")
    assert caught.value.http_status == 503

    with pytest.raises(TransientError) as caught:
        adapter.reply("5", "Tak")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.retry_after == 7.0


def test_timeout_after_sending_a_status_is_outcome_unknown(adapter, api):
    api.post("/api/v1/statuses").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(OutcomeUnknown):
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")


# -- reconciliation ---------------------------------------------------------


def test_find_published_matches_the_text_in_the_rendered_html(adapter, api):
    html_content = (
        '<p>Hej <span class="h-card"><a href="x">@<span>anna</span></a></span> '
        '&amp; <a href="https://kk.dk/bad"><span class="invisible">https://</span>'
        '<span class="">kk.dk/bad</span></a></p><p>Ny linje</p>'
    )
    api.get("/api/v1/accounts/1/statuses").respond(
        200, json=[status("20", "<p>Andet</p>"), status("19", html_content)]
    )

    found = adapter.find_published(
        idempotency_key="k",
        text="Hej @anna@other.example & https://kk.dk/bad\n\nNy linje",
        since=NOW - timedelta(minutes=1),
    )

    assert found is not None
    assert found.remote_id == "19"


def test_find_published_stops_at_statuses_older_than_since(adapter, api):
    old = status("5", "<p>Hej</p>", created_at="2026-11-28T08:00:00.000Z")
    route = api.get("/api/v1/accounts/1/statuses").respond(200, json=[old])

    found = adapter.find_published(idempotency_key="k", text="Hej", since=NOW)

    assert found is None
    assert route.call_count == 1


def test_find_published_pages_back_with_max_id(adapter, api):
    route = api.get("/api/v1/accounts/1/statuses").mock(
        side_effect=[
            httpx.Response(200, json=[status("30", "<p>a</p>")]),
            httpx.Response(200, json=[status("29", "<p>Målet</p>")]),
        ]
    )

    found = adapter.find_published(
        idempotency_key="k", text="Målet", since=NOW - timedelta(minutes=1)
    )

    assert found.remote_id == "29"
    assert route.calls[1].request.url.params["max_id"] == "30"


# -- other writes -----------------------------------------------------------


def test_delete_of_a_status_that_is_gone_succeeds(adapter, api):
    api.delete("/api/v1/statuses/9").respond(404, json={"error": "Record not found"})

    adapter.delete("9")


def test_delete_propagates_other_errors(adapter, api):
    api.delete("/api/v1/statuses/9").respond(500, json={"error": "boom"})

    with pytest.raises(TransientError):
        adapter.delete("9")


def test_reply_mentions_the_author_and_keeps_a_narrower_visibility(adapter, api):
    parent = status(
        "50", visibility="unlisted", account={"id": "8", "acct": "borger@andet.dk"}
    )
    api.get("/api/v1/statuses/50").respond(200, json=parent)
    route = api.post("/api/v1/statuses").respond(200, json=status("51"))

    result = adapter.reply("50", "Tak for beskeden", idempotency_key="r-1")

    request = route.calls.last.request
    assert json.loads(request.content) == {
        "status": "@borger@andet.dk Tak for beskeden",
        "in_reply_to_id": "50",
        "visibility": "unlisted",
        "language": "da",
    }
    assert request.headers["Idempotency-Key"] == "r-1"
    assert result.remote_id == "51"


def test_hide_is_not_supported_with_a_danish_explanation(adapter):
    with pytest.raises(NotSupported) as caught:
        adapter.hide("1")

    assert "Mastodon kan ikke skjule" in caught.value.message


def test_pin_and_unpin_post_to_the_status_actions(adapter, api):
    pin = api.post("/api/v1/statuses/80/pin").respond(
        200, json=status("80", pinned=True)
    )
    unpin = api.post("/api/v1/statuses/80/unpin").respond(
        200, json=status("80", pinned=False)
    )

    adapter.pin("80")
    adapter.pin("80", pinned=False)

    assert pin.call_count == 1
    assert unpin.call_count == 1
    assert pin.calls.last.request.headers["Authorization"] == "Bearer tok-1"


def test_pin_over_the_instance_limit_is_rejected_in_danish(adapter, api):
    api.post("/api/v1/statuses/81/pin").respond(
        422,
        json={
            "error": "Validation failed: You have already pinned the maximum "
            "number of posts"
        },
    )

    with pytest.raises(Rejected) as caught:
        adapter.pin("81")

    assert caught.value.http_status == 422
    assert caught.value.message.startswith(
        "Mastodon-kontoen har allerede fastgjort så mange opslag"
    )


def test_repost_returns_the_boost_with_the_original_url(adapter, api):
    api.post("/api/v1/statuses/70/reblog").respond(
        200,
        json={
            "id": "71",
            "url": None,
            "created_at": "2026-11-28T09:00:00Z",
            "reblog": status("70", url="https://andet.dk/@x/70"),
        },
    )

    result = adapter.repost("70")

    assert result.remote_id == "71"
    assert result.url == "https://andet.dk/@x/70"


# -- reading ----------------------------------------------------------------


def test_inbox_asks_for_mentions_after_the_cursor_and_moves_it(adapter, api):
    reply = status(
        "200",
        "<p>@kbh hvornår åbner badet?</p>",
        in_reply_to_id="100",
        in_reply_to_account_id="1",
        account={"id": "8", "acct": "anna", "display_name": "Anna"},
    )
    mention = status(
        "201", "<p>Hej @kbh</p>", account={"id": "9", "acct": "bo", "display_name": ""}
    )
    route = api.get("/api/v1/notifications").respond(
        200,
        json=[
            {"id": "1002", "type": "mention", "status": mention},
            {"id": "1001", "type": "mention", "status": reply},
        ],
    )

    page = adapter.fetch_inbox(since="999")

    params = route.calls.last.request.url.params
    assert params.get_list("types[]") == ["mention"]
    assert params["min_id"] == "999"
    assert page.cursor == "1002"
    kinds = {item.remote_id: item.kind for item in page.items}
    assert kinds == {"200": "reply", "201": "mention"}
    first = next(i for i in page.items if i.remote_id == "200")
    assert first.text == "@kbh hvornår åbner badet?"
    assert first.post_remote_id == "100"
    assert first.author_name == "Anna"


def test_inbox_cursor_compares_ids_as_numbers(adapter, api):
    api.get("/api/v1/notifications").respond(
        200, json=[{"id": "10", "type": "mention", "status": status("3")}]
    )

    assert adapter.fetch_inbox(since="9").cursor == "10"


def test_empty_inbox_keeps_the_cursor(adapter, api):
    api.get("/api/v1/notifications").respond(200, json=[])

    assert adapter.fetch_inbox(since="55").cursor == "55"


def test_direct_mention_is_a_message(adapter, api):
    api.get("/api/v1/notifications").respond(
        200,
        json=[
            {"id": "3", "type": "mention", "status": status("3", visibility="direct")}
        ],
    )

    assert adapter.fetch_inbox().items[0].kind == "message"


def test_thread_lists_replies_from_context_without_own_statuses(adapter, api):
    api.get("/api/v1/statuses/100/context").respond(
        200,
        json={
            "ancestors": [],
            "descendants": [
                status(
                    "101",
                    "<p>Svar</p>",
                    in_reply_to_id="100",
                    account={"id": "8", "acct": "anna"},
                ),
                status("102", "<p>Vores svar</p>", in_reply_to_id="101"),
            ],
        },
    )

    page = adapter.fetch_thread("100")

    assert [(i.remote_id, i.kind, i.post_remote_id) for i in page.items] == [
        ("101", "reply", "100")
    ]


def test_metrics_read_counts_per_status_and_followers(adapter, api):
    api.get("/api/v1/accounts/verify_credentials").respond(
        200, json={"id": "1", "acct": "kbh", "followers_count": 4321}
    )
    route = api.get("/api/v1/statuses").respond(
        200,
        json=[status("5", favourites_count=3, reblogs_count=2, replies_count=1)],
    )

    snapshot = adapter.fetch_metrics(("5", "6"))

    assert route.calls.last.request.url.params.get_list("id[]") == ["5", "6"]
    assert [(m.name, m.value, m.kind) for m in snapshot.account] == [
        ("followers_count", 4321, "followers")
    ]
    assert [(m.name, m.value, m.kind, m.api_version) for m in snapshot.posts["5"]] == [
        ("favourites_count", 3, "likes", "v1"),
        ("reblogs_count", 2, "shares", "v1"),
        ("replies_count", 1, "comments", "v1"),
    ]
    assert "6" not in snapshot.posts


def test_metrics_fall_back_to_single_status_reads_on_older_instances(adapter, api):
    api.get("/api/v1/accounts/verify_credentials").respond(
        200, json={"id": "1", "followers_count": 1}
    )
    api.get("/api/v1/statuses").respond(404, json={"error": "Record not found"})
    api.get("/api/v1/statuses/5").respond(200, json=status("5", favourites_count=9))
    api.get("/api/v1/statuses/6").respond(404, json={"error": "Record not found"})

    snapshot = adapter.fetch_metrics(("5", "6"))

    assert snapshot.posts["5"][0].value == 9
    assert set(snapshot.posts) == {"5"}


def test_hashtag_reads_the_tag_timeline_after_the_cursor(adapter, api):
    route = api.get("/api/v1/timelines/tag/voreskbh").respond(
        200, json=[status("12", "<p>Sol i <a>#voreskbh</a></p>"), status("11")]
    )

    page = adapter.search_hashtag("#voreskbh", cursor="10")

    assert route.calls.last.request.url.params["min_id"] == "10"
    assert page.tag == "voreskbh"
    assert page.cursor == "12"
    assert page.posts[0].text == "Sol i #voreskbh"


# -- connection ---------------------------------------------------------------


def test_refresh_token_is_not_supported_because_tokens_never_expire(adapter):
    assert "refresh_token" not in adapter.capabilities().supports
    with pytest.raises(NotSupported) as caught:
        adapter.refresh_token()

    assert "udløber ikke" in caught.value.message


def test_verify_returns_the_account(adapter, api):
    api.get("/api/v1/accounts/verify_credentials").respond(
        200,
        json={
            "id": "1",
            "acct": "kbh",
            "display_name": "Københavns Kommune",
            "followers_count": 12,
            "url": f"{BASE}/@kbh",
        },
    )

    info = adapter.verify()

    assert (info.remote_id, info.handle, info.followers) == ("1", "kbh", 12)


def test_authorization_url_uses_pkce(adapter):
    conn = Connection(
        network="mastodon", base_url=BASE, credentials={"client_id": "cid"}
    )
    url = MastodonAdapter(conn).authorization_url(
        redirect_uri="https://kanal/cb", state="s", code_verifier="v" * 43
    )

    assert url.startswith(f"{BASE}/oauth/authorize?")
    assert "code_challenge_method=S256" in url
    assert "client_id=cid" in url


def test_exchange_code_posts_to_the_instance_token_endpoint(api):
    route = api.post("/oauth/token").respond(
        200, json={"access_token": "new", "token_type": "Bearer"}
    )
    conn = Connection(
        network="mastodon",
        base_url=BASE,
        credentials={"client_id": "cid", "client_secret": "sec"},
    )

    tokens = MastodonAdapter(conn).exchange_code(code="c", redirect_uri="https://k/cb")

    assert tokens.access_token == "new"
    assert b"grant_type=authorization_code" in route.calls.last.request.content


# -- instance configuration and validation -------------------------------------


def instance_payload(max_characters=500, title="Eksempel"):
    return {
        "title": title,
        "version": "4.5.0",
        "configuration": {
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
                "image_size_limit": 10_000_000,
                "video_size_limit": 40_000_000,
                "description_limit": 1500,
            },
        },
    }


def test_limits_come_from_the_instance_configuration(adapter, api):
    api.get("/api/v2/instance").respond(200, json=instance_payload(1000))

    adapter.load_instance_configuration()
    capabilities = adapter.capabilities()

    assert capabilities.max_text_length == 1000
    assert capabilities.max_image_bytes == 10_000_000
    assert "standardgrænser" not in capabilities.text_counting
    assert adapter.validate(OutgoingPost(text="x" * 900)) == []


def test_instance_configuration_is_cached_per_base_url(adapter, api):
    route = api.get("/api/v2/instance").respond(200, json=instance_payload())

    adapter.load_instance_configuration()
    adapter.load_instance_configuration()

    assert route.call_count == 1


def test_instance_configuration_expires_after_an_hour(sleeps, api):
    route = api.get("/api/v2/instance").respond(200, json=instance_payload())
    now = [NOW]
    conn = Connection(network="mastodon", base_url=BASE, credentials={})
    adapter = MastodonAdapter(conn, clock=lambda: now[0])

    adapter.load_instance_configuration()
    now[0] = NOW + timedelta(minutes=61)

    assert adapter.capabilities().max_text_length == 500
    assert "standardgrænser" in adapter.capabilities().text_counting
    adapter.load_instance_configuration()
    assert route.call_count == 2


def test_without_loaded_configuration_the_documented_defaults_apply(adapter):
    capabilities = adapter.capabilities()

    assert capabilities.max_text_length == 500
    assert capabilities.max_images == 4
    assert "standardgrænser" in capabilities.text_counting


def test_too_long_text_gets_a_danish_message_with_numbers(adapter):
    problems = adapter.validate(OutgoingPost(text="ø" * 510))

    assert [p.code for p in problems] == ["text_too_long"]
    assert problems[0].actual == 510
    assert problems[0].limit == 500
    assert "Forkort den med 10 tegn" in problems[0].message


def test_urls_count_as_23_and_remote_mentions_as_their_local_part():
    long_url = "https://www.kk.dk/" + "a" * 200
    assert count_mastodon_text(f"Se {long_url}.") == 3 + 23 + 1
    assert count_mastodon_text("@anna@mastodon.social hej") == len("@anna hej")
    assert count_mastodon_text("👍🏽 ok") == 4
    assert count_mastodon_text("Se kk.dk") == 8


def test_media_problems_are_all_reported(adapter):
    big = MediaItem(kind="image", mime_type="image/png", data=b"x" * 17_000_000)
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="v", data=b"v")
    tiff = MediaItem(kind="image", mime_type="image/tiff", alt_text="t", data=b"t")
    post = OutgoingPost(text="Billeder", media=(big, video, tiff, tiff, tiff))

    codes = {p.code for p in adapter.validate(post)}

    assert codes == {
        "too_many_media",
        "video_with_other_media",
        "alt_text_missing",
        "image_too_large",
        "media_format",
    }


def test_empty_post_is_refused(adapter):
    assert [p.code for p in adapter.validate(OutgoingPost(text="  "))] == ["text_empty"]


def test_html_to_text_keeps_breaks_and_unescapes():
    assert html_to_text("<p>a &lt;3<br />b</p><p>c</p>") == "a <3\nb\nc"


def test_register_app_returns_the_instance_client(api):
    route = api.post("/api/v1/apps").respond(
        200, json={"id": "1", "client_id": "cid", "client_secret": "sec"}
    )
    conn = Connection(network="mastodon", base_url=BASE)

    app = MastodonAdapter(conn).register_app(redirect_uri="https://kanal/cb")

    assert app == {"client_id": "cid", "client_secret": "sec"}
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "client_name": "Kanal",
        "redirect_uris": "https://kanal/cb",
        "scopes": "read write",
    }
