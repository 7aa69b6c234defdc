import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from kanal.channels.networks.base import (
    Connection,
    MediaItem,
    OutgoingMessage,
    OutgoingPost,
)
from kanal.channels.networks.errors import (
    AuthExpired,
    Duplicate,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.networks.x import (
    DUPLICATE_MESSAGE,
    XAdapter,
    comparable_text,
    translate_error,
)

API = "https://api.x.com"
ME = "1500000000000000001"


def make_adapter(**overrides):
    credentials = overrides.pop(
        "credentials",
        {"access_token": "tok", "refresh_token": "ref", "client_id": "cid"},
    )
    connection = Connection(
        network="x",
        base_url=overrides.pop("base_url", API),
        account_id=ME,
        handle="kobenhavn",
        credentials=credentials,
        settings=overrides.pop("settings", {}),
    )
    sleeps = []
    adapter = XAdapter(connection, sleep=sleeps.append, **overrides)
    adapter.sleeps = sleeps
    return adapter


def image(alt="Børn ved havnebadet", size=1000, mime="image/jpeg"):
    return MediaItem(
        kind="image", mime_type=mime, alt_text=alt, data=b"\xff" * size,
        filename="bad.jpg",
    )


def problem(status, detail, kind="about:blank", title="Forbidden", headers=None):
    body = {"title": title, "detail": detail, "type": kind, "status": status}
    return httpx.Response(
        status, json=body, headers={"content-type": "application/problem+json",
                                    **(headers or {})},
    )


def sent_json(route, index=-1):
    return json.loads(route.calls[index].request.content)


# -- publishing ------------------------------------------------------------------


@respx.mock
def test_publish_posts_text_and_returns_the_web_url():
    route = respx.post(f"{API}/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "190", "text": "Hej"}})
    )
    result = make_adapter().publish(OutgoingPost(text="  Hej  "), idempotency_key="k")
    assert result.remote_id == "190"
    assert result.url == "https://x.com/kobenhavn/status/190"
    assert sent_json(route) == {"text": "Hej"}
    assert route.calls[0].request.headers["authorization"] == "Bearer tok"


@respx.mock
def test_publish_appends_the_link_when_the_text_lacks_it():
    route = respx.post(f"{API}/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "1", "text": "x"}})
    )
    adapter = make_adapter()
    adapter.publish(OutgoingPost(text="Læs mere", link="https://kk.dk/a"),
                    idempotency_key="k")
    adapter.publish(OutgoingPost(text="Se https://kk.dk/a", link="https://kk.dk/a"),
                    idempotency_key="k2")
    assert sent_json(route, 0)["text"] == "Læs mere\n\nhttps://kk.dk/a"
    assert sent_json(route, 1)["text"] == "Se https://kk.dk/a"


@respx.mock
def test_publish_with_images_uploads_in_chunks_sets_alt_text_and_checkpoints():
    init = respx.post(f"{API}/2/media/upload/initialize").mock(
        side_effect=[
            httpx.Response(200, json={"data": {"id": "710", "media_key": "3_710"}}),
            httpx.Response(200, json={"data": {"id": "711", "media_key": "3_711"}}),
        ]
    )
    append_710 = respx.post(f"{API}/2/media/upload/710/append").mock(
        return_value=httpx.Response(200, json={"data": {"expires_at": 1}})
    )
    append_711 = respx.post(f"{API}/2/media/upload/711/append").mock(
        return_value=httpx.Response(200, json={"data": {"expires_at": 1}})
    )
    respx.post(url__regex=rf"{API}/2/media/upload/\d+/finalize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "x"}})
    )
    metadata = respx.post(f"{API}/2/media/metadata").mock(
        return_value=httpx.Response(200, json={"data": {"id": "x"}})
    )
    tweet = respx.post(f"{API}/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "5", "text": "t"}})
    )
    big = image(alt="Stort billede", size=4 * 1024 * 1024 + 10)
    checkpoints = []
    make_adapter().publish(
        OutgoingPost(text="Billeder", media=(big, image(alt="Lille"))),
        idempotency_key="k",
        on_checkpoint=checkpoints.append,
    )
    assert sent_json(init, 0) == {
        "media_type": "image/jpeg",
        "total_bytes": 4 * 1024 * 1024 + 10,
        "media_category": "tweet_image",
    }
    assert len(append_710.calls) == 2
    assert b'name="segment_index"\r\n\r\n1' in append_710.calls[1].request.content
    assert len(append_711.calls) == 1
    assert [sent_json(metadata, i) for i in range(2)] == [
        {"id": "710", "metadata": {"alt_text": {"text": "Stort billede"}}},
        {"id": "711", "metadata": {"alt_text": {"text": "Lille"}}},
    ]
    assert sent_json(tweet) == {
        "text": "Billeder", "media": {"media_ids": ["710", "711"]}
    }
    assert checkpoints[0]["media_ids"] == "710,711"


@respx.mock
def test_publish_resumes_with_media_ids_from_the_checkpoint():
    init = respx.post(f"{API}/2/media/upload/initialize")
    tweet = respx.post(f"{API}/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "5", "text": "t"}})
    )
    make_adapter().publish(
        OutgoingPost(text="Igen", media=(image(),)),
        idempotency_key="k",
        checkpoint={
            "media_ids": "710",
            "media_uploaded_at": datetime.now(UTC).isoformat(),
        },
    )
    assert not init.called
    assert sent_json(tweet)["media"] == {"media_ids": ["710"]}


@respx.mock
def test_video_upload_polls_status_until_succeeded():
    respx.post(f"{API}/2/media/upload/initialize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "9"}})
    )
    respx.post(f"{API}/2/media/upload/9/append").mock(
        return_value=httpx.Response(200, json={"data": {}})
    )
    respx.post(f"{API}/2/media/upload/9/finalize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "9", "processing_info": {
            "state": "pending", "check_after_secs": 3}}})
    )
    status = respx.get(f"{API}/2/media/upload").mock(
        side_effect=[
            httpx.Response(200, json={"data": {"id": "9", "processing_info": {
                "state": "in_progress", "check_after_secs": 10,
                "progress_percent": 40}}}),
            httpx.Response(200, json={"data": {"id": "9", "processing_info": {
                "state": "succeeded", "progress_percent": 100}}}),
        ]
    )
    respx.post(f"{API}/2/media/metadata").mock(return_value=httpx.Response(200))
    adapter = make_adapter()
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="Film",
                      data=b"\0" * 100)
    assert adapter.upload_media(video) == "9"
    assert adapter.sleeps == [3.0, 5.0]  # check_after_secs, capped at 5
    query = parse_qs(urlsplit(str(status.calls[0].request.url)).query)
    assert query == {"command": ["STATUS"], "media_id": ["9"]}


@respx.mock
def test_failed_media_processing_is_rejected_in_danish():
    respx.post(f"{API}/2/media/upload/initialize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "9"}})
    )
    respx.post(f"{API}/2/media/upload/9/append").mock(return_value=httpx.Response(200))
    respx.post(f"{API}/2/media/upload/9/finalize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "9", "processing_info": {
            "state": "failed", "error": {"name": "InvalidMedia",
                                         "message": "Unsupported video"}}}})
    )
    with pytest.raises(Rejected) as caught:
        make_adapter().upload_media(
            MediaItem(kind="video", mime_type="video/mp4", data=b"1")
        )
    assert caught.value.network_code == "InvalidMedia"
    assert "billede eller den vedhæftede video" in caught.value.message


@respx.mock
def test_reply_sets_in_reply_to():
    route = respx.post(f"{API}/2/tweets").mock(
        return_value=httpx.Response(201, json={"data": {"id": "8", "text": "t"}})
    )
    result = make_adapter().reply("77", " Tak! ")
    assert result.remote_id == "8"
    assert sent_json(route) == {"text": "Tak!", "reply": {"in_reply_to_tweet_id": "77"}}


@respx.mock
def test_delete_hide_and_repost_use_their_endpoints():
    delete = respx.delete(f"{API}/2/tweets/5").mock(
        return_value=httpx.Response(200, json={"data": {"deleted": True}})
    )
    hide = respx.put(f"{API}/2/tweets/6/hidden").mock(
        return_value=httpx.Response(200, json={"data": {"hidden": False}})
    )
    repost = respx.post(f"{API}/2/users/{ME}/retweets").mock(
        return_value=httpx.Response(
            200, json={"data": {"retweeted": True, "rest_id": "900"}}
        )
    )
    adapter = make_adapter()
    adapter.delete("5")
    adapter.hide("6", hidden=False)
    result = adapter.repost("7")
    assert delete.called
    assert sent_json(hide) == {"hidden": False}
    assert sent_json(repost) == {"tweet_id": "7"}
    assert result.remote_id == "900"


@respx.mock
def test_deleting_a_post_that_is_already_gone_succeeds():
    respx.delete(f"{API}/2/tweets/5").mock(
        return_value=problem(404, "Could not find tweet", title="Not Found Error",
                             kind="https://api.x.com/2/problems/resource-not-found")
    )
    make_adapter().delete("5")


# -- errors ------------------------------------------------------------------


def test_rate_limit_carries_the_reset_time():
    reset = int((datetime.now(UTC) + timedelta(minutes=10)).timestamp())
    response = problem(429, "Too Many Requests", title="Too Many Requests", headers={
        "x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset)})
    error = translate_error(response)
    assert type(error) is RateLimited
    assert error.reset_at == datetime.fromtimestamp(reset, tz=UTC)
    assert 590 <= error.retry_after <= 600


def test_spent_24_hour_limit_is_quota_exhausted():
    reset = int((datetime.now(UTC) + timedelta(hours=5)).timestamp())
    response = problem(429, "Too Many Requests", title="Too Many Requests", headers={
        "x-user-limit-24hour-limit": "2400", "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(reset)})
    error = translate_error(response)
    assert type(error) is QuotaExhausted
    assert error.reset_at == datetime.fromtimestamp(reset, tz=UTC)


def test_legacy_rate_limit_code_88_is_rate_limited():
    response = httpx.Response(
        429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    )
    error = translate_error(response)
    assert isinstance(error, RateLimited)
    assert error.network_code == 88


def test_duplicate_content_is_rejected_with_a_danish_message():
    response = problem(
        403, "You are not allowed to create a Tweet with duplicate content."
    )
    error = translate_error(response)
    assert type(error) is Duplicate
    assert isinstance(error, Rejected)
    assert error.message == DUPLICATE_MESSAGE
    assert "samme tekst allerede er udgivet" in error.message
    assert error.network_code == "duplicate-content"
    assert "duplicate content" in error.network_message
    assert error.http_status == 403


def test_unauthorized_is_auth_expired():
    error = translate_error(problem(401, "Unauthorized", title="Unauthorized"))
    assert type(error) is AuthExpired
    assert error.http_status == 401


def test_server_error_is_transient_with_retry_after():
    response = problem(
        503, "Service Unavailable", title="Service Unavailable",
        headers={"retry-after": "30"},
    )
    error = translate_error(response)
    assert type(error) is TransientError
    assert error.retry_after == 30


def test_other_errors_are_rejected_keeping_the_networks_detail():
    response = problem(
        400, "The `reply.in_reply_to_tweet_id` field is invalid.",
        kind="https://api.x.com/2/problems/invalid-request", title="Invalid Request",
    )
    error = translate_error(response)
    assert type(error) is Rejected
    assert error.network_code == "invalid-request"
    assert error.network_message == "The `reply.in_reply_to_tweet_id` field is invalid."
    assert "X afviste" in error.message


def test_media_errors_get_the_media_message():
    response = problem(400, "media type unrecognized", title="Invalid Request",
                       kind="https://api.x.com/2/problems/invalid-request")
    error = translate_error(response, context="media")
    assert isinstance(error, Rejected)
    assert "Tjek format og størrelse" in error.message


def test_success_is_not_an_error():
    assert translate_error(httpx.Response(201, json={})) is None


@respx.mock
def test_timeout_while_posting_is_outcome_unknown():
    respx.post(f"{API}/2/tweets").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        make_adapter().publish(OutgoingPost(text="Hej"), idempotency_key="k")


def test_missing_access_token_is_auth_expired():
    with pytest.raises(AuthExpired):
        make_adapter(credentials={}).verify()


# -- reconciliation ------------------------------------------------------------------


def test_comparable_text_ignores_tco_links_entities_and_media_links():
    ours = "Læs mere & kom: https://www.kk.dk/bade"
    theirs = "Læs mere &amp; kom: https://t.co/AbC123 https://t.co/media99"
    assert comparable_text(ours) == comparable_text(theirs)
    assert comparable_text("Hej") != comparable_text("Hej igen")


@respx.mock
def test_find_published_pages_through_recent_posts_for_the_exact_text():
    since = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    route = respx.get(f"{API}/2/users/{ME}/tweets").mock(
        side_effect=[
            httpx.Response(200, json={
                "data": [{"id": "3", "text": "Noget andet"}],
                "meta": {"next_token": "p2", "result_count": 1}}),
            httpx.Response(200, json={
                "data": [{"id": "2", "text": "Borgermøde &amp; debat https://t.co/x",
                          "created_at": "2026-11-28T08:00:05.000Z"}],
                "meta": {"result_count": 1}}),
        ]
    )
    found = make_adapter().find_published(
        idempotency_key="k", text="Borgermøde & debat https://kk.dk/m", since=since
    )
    assert found.remote_id == "2"
    assert found.published_at == datetime(2026, 11, 28, 8, 0, 5, tzinfo=UTC)
    first = parse_qs(urlsplit(str(route.calls[0].request.url)).query)
    # Asked generously: X's clock may be far from Kanal's.
    assert first["start_time"] == ["2026-11-28T06:30:00Z"]
    second = parse_qs(urlsplit(str(route.calls[1].request.url)).query)
    assert second["pagination_token"] == ["p2"]


@respx.mock
def test_find_published_returns_none_when_the_text_is_not_there():
    respx.get(f"{API}/2/users/{ME}/tweets").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}})
    )
    assert make_adapter().find_published(
        idempotency_key="k", text="Aldrig", since=datetime.now(UTC)
    ) is None


@respx.mock
def test_find_published_raises_when_it_cannot_tell():
    respx.get(f"{API}/2/users/{ME}/tweets").mock(
        return_value=problem(503, "down", title="Service Unavailable")
    )
    with pytest.raises(TransientError):
        make_adapter().find_published(
            idempotency_key="k", text="x", since=datetime.now(UTC)
        )


# -- reading ------------------------------------------------------------------


@respx.mock
def test_fetch_inbox_reads_mentions_and_replies_and_classifies_them():
    users = {"users": [{"id": "11", "name": "Mette", "username": "mette"},
                       {"id": "12", "name": "Ali", "username": "ali"}]}
    mentions = respx.get(f"{API}/2/users/{ME}/mentions").mock(
        return_value=httpx.Response(200, json={
            "data": [
                {"id": "105", "text": "@kobenhavn hvornår åbner badet?",
                 "author_id": "11", "conversation_id": "105",
                 "created_at": "2026-11-28T08:00:00.000Z"},
                {"id": "106", "text": "Tak &amp; hej", "author_id": "12",
                 "conversation_id": "100", "created_at": "2026-11-28T08:01:00.000Z",
                 "referenced_tweets": [{"type": "replied_to", "id": "100"}]},
                {"id": "107", "text": "Eget svar", "author_id": ME,
                 "conversation_id": "100", "created_at": "2026-11-28T08:02:00.000Z",
                 "referenced_tweets": [{"type": "replied_to", "id": "106"}]},
            ],
            "includes": users, "meta": {"newest_id": "107", "result_count": 3}})
    )
    search = respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={
            "data": [
                {"id": "106", "text": "Tak &amp; hej", "author_id": "12",
                 "conversation_id": "100", "created_at": "2026-11-28T08:01:00.000Z",
                 "referenced_tweets": [{"type": "replied_to", "id": "100"}]},
                {"id": "108", "text": "Enig!", "author_id": "11",
                 "conversation_id": "100", "created_at": "2026-11-28T08:03:00.000Z",
                 "referenced_tweets": [{"type": "replied_to", "id": "106"}]},
            ],
            "includes": users, "meta": {"newest_id": "108", "result_count": 2}})
    )
    respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    page = make_adapter().fetch_inbox(since="99")
    assert [(i.remote_id, i.kind, i.author_name) for i in page.items] == [
        ("105", "mention", "Mette"),
        ("106", "comment", "Ali"),
        ("108", "reply", "Mette"),
    ]
    comment = page.items[1]
    assert comment.text == "Tak & hej"
    assert comment.post_remote_id == "100"
    assert comment.parent_remote_id == "100"
    assert comment.url == "https://x.com/ali/status/106"
    assert page.items[2].parent_remote_id == "106"
    assert json.loads(page.cursor) == {"tweets": "108", "dms": "99"}
    mention_query = parse_qs(urlsplit(str(mentions.calls[0].request.url)).query)
    assert mention_query["since_id"] == ["99"]
    search_query = parse_qs(urlsplit(str(search.calls[0].request.url)).query)
    assert search_query["query"] == ["to:kobenhavn is:reply"]


@respx.mock
def test_empty_inbox_keeps_the_cursor():
    respx.get(f"{API}/2/users/{ME}/mentions").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}})
    )
    respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}})
    )
    respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    page = make_adapter().fetch_inbox(since="500")
    assert page.items == ()
    assert json.loads(page.cursor) == {"tweets": "500", "dms": "500"}
    again = make_adapter().fetch_inbox(since=page.cursor)
    assert json.loads(again.cursor) == {"tweets": "500", "dms": "500"}


@respx.mock
@pytest.mark.parametrize("created_at", [20261128, "0001-01-01T00:30:00+01:00",
                                        {"$date": 1}, "i går"])
def test_a_mention_with_an_unusable_time_is_read_with_the_time_of_reading(
        created_at):
    mention = {"id": "901", "text": "@kobenhavn hej", "author_id": "21",
               "created_at": created_at}
    respx.get(f"{API}/2/users/{ME}/mentions").mock(return_value=httpx.Response(
        200, json={"data": [mention], "meta": {"newest_id": "901"}}))
    respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    before = datetime.now(UTC)
    [item] = make_adapter().fetch_inbox(since="500").items
    assert item.remote_id == "901"
    assert before <= item.created_at <= datetime.now(UTC)


def no_posts():
    for path in (f"/2/users/{ME}/mentions", "/2/tweets/search/recent"):
        respx.get(f"{API}{path}").mock(
            return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))


DM_USERS = {"users": [{"id": "21", "name": "Ida Holm", "username": "ida"}]}


def dm(event_id: str, text: str, sender: str = "21", minute: int = 0) -> dict:
    return {"id": event_id, "event_type": "MessageCreate", "text": text,
            "sender_id": sender, "dm_conversation_id": f"21-{ME}",
            "created_at": f"2026-11-28T09:{minute:02d}:00.000Z"}


@respx.mock
def test_direct_messages_join_the_inbox_and_own_messages_name_the_citizen():
    """The account's own message (written in X's app, or Kanal's answer) is
    an item by the account whose parent is the citizen it went to, for
    ``intake.answered_on_network`` (T7b-1); before, it was left out."""
    no_posts()
    route = respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={
            "data": [dm("303", "Svar fra kommunen", sender=ME, minute=3),
                     dm("302", "Hvornår tømmes skraldet?", minute=2),
                     dm("301", "Hej &amp; tak", minute=1)],
            "includes": DM_USERS, "meta": {"result_count": 3}}))
    page = make_adapter().fetch_inbox()
    assert [(i.remote_id, i.kind, i.author_id, i.author_name, i.text,
             i.parent_remote_id) for i in page.items] == [
        ("301", "message", "21", "Ida Holm", "Hej & tak", f"21-{ME}"),
        ("302", "message", "21", "Ida Holm", "Hvornår tømmes skraldet?",
         f"21-{ME}"),
        ("303", "message", ME, "", "Svar fra kommunen", "21"),
    ]
    assert page.items[0].url == f"https://x.com/messages/21-{ME}"
    assert page.items[0].created_at == datetime(2026, 11, 28, 9, 1, tzinfo=UTC)
    assert json.loads(page.cursor) == {"tweets": "", "dms": "303"}
    query = parse_qs(urlsplit(str(route.calls[0].request.url)).query)
    assert query["dm_event.fields"] == [
        "id,event_type,text,created_at,dm_conversation_id"]
    assert query["expansions"] == ["sender_id"]
    assert query["event_types"] == ["MessageCreate"]


@respx.mock
def test_messages_already_read_are_not_returned_again_and_paging_stops():
    no_posts()
    route = respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={
            "data": [dm("305", "Ny besked", minute=5), dm("302", "Gammel")],
            "includes": DM_USERS,
            "meta": {"result_count": 2, "next_token": "n" * 16}}))
    cursor = json.dumps({"tweets": "90", "dms": "302"})
    page = make_adapter().fetch_inbox(since=cursor)
    assert [i.text for i in page.items] == ["Ny besked"]
    assert json.loads(page.cursor) == {"tweets": "90", "dms": "305"}
    assert len(route.calls) == 1


@respx.mock
def test_an_old_cursor_of_a_post_id_is_the_floor_for_messages_too():
    mentions = respx.get(f"{API}/2/users/{ME}/mentions").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    respx.get(f"{API}/2/dm_events").mock(
        return_value=httpx.Response(200, json={
            "data": [dm("405", "Efter", minute=5), dm("395", "Før")],
            "includes": DM_USERS, "meta": {"result_count": 2}}))
    page = make_adapter().fetch_inbox(since="400")
    assert [i.text for i in page.items] == ["Efter"]
    query = parse_qs(urlsplit(str(mentions.calls[0].request.url)).query)
    assert query["since_id"] == ["400"]
    assert json.loads(page.cursor) == {"tweets": "400", "dms": "405"}


@respx.mock
def test_without_dm_read_the_inbox_still_has_mentions(caplog):
    respx.get(f"{API}/2/users/{ME}/mentions").mock(
        return_value=httpx.Response(200, json={
            "data": [{"id": "105", "text": "@kobenhavn hej", "author_id": "11",
                      "conversation_id": "105",
                      "created_at": "2026-11-28T08:00:00.000Z"}],
            "meta": {"newest_id": "105", "result_count": 1}}))
    respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    respx.get(f"{API}/2/dm_events").mock(
        return_value=problem(403, "You are not permitted to perform this action.",
                             kind="https://api.x.com/2/problems/client-forbidden"))
    page = make_adapter().fetch_inbox(since="100")
    assert [i.remote_id for i in page.items] == ["105"]
    assert json.loads(page.cursor) == {"tweets": "105", "dms": "100"}
    assert "no access to direct messages" in caplog.text


@respx.mock
def test_a_rate_limit_on_messages_fails_the_poll_so_nothing_is_skipped():
    no_posts()
    respx.get(f"{API}/2/dm_events").mock(
        return_value=problem(429, "Too Many Requests", title="Too Many Requests",
                             headers={"x-rate-limit-reset": "1900000000"}))
    with pytest.raises(RateLimited):
        make_adapter().fetch_inbox(since="100")


@respx.mock
def test_fetch_metrics_names_x_metrics_and_api_version():
    respx.get(f"{API}/2/users/{ME}").mock(
        return_value=httpx.Response(200, json={"data": {
            "id": ME, "public_metrics": {"followers_count": 2900,
                                         "following_count": 10}}})
    )
    tweets = respx.get(f"{API}/2/tweets").mock(
        return_value=httpx.Response(200, json={"data": [
            {"id": "5", "text": "t", "public_metrics": {
                "impression_count": 900, "like_count": 12, "retweet_count": 3,
                "repost_count": 3, "reply_count": 2, "quote_count": 1,
                "bookmark_count": 4}}]})
    )
    snapshot = make_adapter().fetch_metrics(("5", "6"))
    assert [(m.name, m.value, m.kind) for m in snapshot.account] == [
        ("followers_count", 2900, "followers")
    ]
    assert [(m.name, m.value, m.kind) for m in snapshot.posts["5"]] == [
        ("impression_count", 900, "views"),
        ("like_count", 12, "likes"),
        ("retweet_count", 3, "shares"),
        ("quote_count", 1, "shares"),
        ("reply_count", 2, "comments"),
        ("bookmark_count", 4, "saves"),
    ]
    assert {m.api_version for m in snapshot.posts["5"]} == {"2"}
    query = parse_qs(urlsplit(str(tweets.calls[0].request.url)).query)
    assert query == {"ids": ["5,6"], "tweet.fields": ["public_metrics"]}


@respx.mock
def test_search_hashtag_queries_recent_search_and_returns_a_cursor():
    route = respx.get(f"{API}/2/tweets/search/recent").mock(
        return_value=httpx.Response(200, json={
            "data": [{"id": "31", "text": "Sol over havnen #voreskbh",
                      "author_id": "11", "created_at": "2026-11-28T09:00:00.000Z"}],
            "includes": {"users": [{"id": "11", "name": "Mette",
                                    "username": "mette"}]},
            "meta": {"newest_id": "31", "result_count": 1}})
    )
    page = make_adapter().search_hashtag("#voreskbh", cursor="20")
    assert page.tag == "voreskbh"
    assert [(p.remote_id, p.author_name) for p in page.posts] == [("31", "Mette")]
    assert page.cursor == "31"
    query = parse_qs(urlsplit(str(route.calls[0].request.url)).query)
    assert query["query"] == ["#voreskbh -is:retweet"]
    assert query["since_id"] == ["20"]


# -- OAuth ------------------------------------------------------------------


def test_authorization_url_uses_pkce_s256():
    adapter = make_adapter()
    verifier = "a" * 50
    url = adapter.authorization_url(
        redirect_uri="https://kanal.kk.dk/cb", state="st", code_verifier=verifier
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://x.com/i/oauth2/authorize"
    )
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()
    ).decode().rstrip("=")
    assert query["code_challenge"] == [expected]
    assert query["code_challenge_method"] == ["S256"]
    assert "offline.access" in query["scope"][0].split()
    assert query["client_id"] == ["cid"]
    assert query["state"] == ["st"]


def test_sandbox_authorization_url_stays_on_the_sandbox():
    adapter = make_adapter(base_url="http://127.0.0.1:8765/x")
    url = adapter.authorization_url(redirect_uri="http://r", state="s",
                                    code_verifier="v" * 43)
    assert url.startswith("http://127.0.0.1:8765/x/i/oauth2/authorize?")


@respx.mock
def test_exchange_code_sends_the_verifier_and_returns_two_hour_tokens():
    route = respx.post(f"{API}/2/oauth2/token").mock(
        return_value=httpx.Response(200, json={
            "token_type": "bearer", "expires_in": 7200, "access_token": "new",
            "refresh_token": "newref", "scope": "tweet.read offline.access"})
    )
    before = datetime.now(UTC)
    tokens = make_adapter().exchange_code(code="c", redirect_uri="https://r",
                                          code_verifier="ver")
    form = parse_qs(route.calls[0].request.content.decode())
    assert form == {"grant_type": ["authorization_code"], "code": ["c"],
                    "redirect_uri": ["https://r"], "code_verifier": ["ver"],
                    "client_id": ["cid"]}
    assert tokens.access_token == "new"
    assert tokens.refresh_token == "newref"
    assert before + timedelta(hours=2) <= tokens.expires_at
    assert tokens.expires_at <= datetime.now(UTC) + timedelta(hours=2)


@respx.mock
def test_refresh_with_client_secret_uses_basic_auth():
    route = respx.post(f"{API}/2/oauth2/token").mock(
        return_value=httpx.Response(200, json={"access_token": "a2",
                                               "refresh_token": "r2",
                                               "expires_in": 7200})
    )
    adapter = make_adapter(credentials={"access_token": "a", "refresh_token": "r",
                                        "client_id": "cid", "client_secret": "sec"})
    tokens = adapter.refresh_token()
    request = route.calls[0].request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        b"cid:sec").decode()
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["refresh_token"], "refresh_token": ["r"]}
    assert tokens.refresh_token == "r2"


@respx.mock
def test_refused_refresh_is_auth_expired():
    respx.post(f"{API}/2/oauth2/token").mock(
        return_value=httpx.Response(400, json={
            "error": "invalid_request",
            "error_description": "Value passed for the token was invalid."})
    )
    with pytest.raises(AuthExpired) as caught:
        make_adapter().refresh_token()
    assert caught.value.network_message == "Value passed for the token was invalid."


@respx.mock
def test_verify_returns_the_account():
    respx.get(f"{API}/2/users/me").mock(
        return_value=httpx.Response(200, json={"data": {
            "id": ME, "name": "Københavns Kommune", "username": "kobenhavn",
            "public_metrics": {"followers_count": 2900}}})
    )
    info = make_adapter().verify()
    assert (info.remote_id, info.handle, info.display_name, info.followers) == (
        ME, "kobenhavn", "Københavns Kommune", 2900)
    assert info.profile_url == "https://x.com/kobenhavn"


# -- validation ------------------------------------------------------------------


def test_validate_counts_weighted_length_with_the_link():
    adapter = make_adapter()
    text = "a" * 257  # + "\n\n" + a link counted as 23 = 282
    problems = adapter.validate(OutgoingPost(text=text, link="https://kk.dk/x"))
    assert [(p.code, p.limit, p.actual) for p in problems] == [
        ("text_too_long", 280, 282)
    ]
    assert "Forkort den med 2 tegn" in problems[0].message
    assert adapter.validate(OutgoingPost(text="a" * 255, link="https://kk.dk/x")) == []


def test_validate_emoji_count_double():
    adapter = make_adapter()
    assert adapter.count_text("👍🏽" * 140) == 280
    assert adapter.validate(OutgoingPost(text="👍🏽" * 141))[0].code == "text_too_long"


def test_validate_media_rules():
    adapter = make_adapter()
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="v",
                      data=b"1", duration_seconds=200)
    codes = [p.code for p in adapter.validate(OutgoingPost(
        text="x", media=(image(), image(), image(), image(), image(), video)))]
    assert codes == ["too_many_images", "video_with_other_media", "video_duration"]
    bad = [p.code for p in adapter.validate(OutgoingPost(text="x", media=(
        image(alt=""), image(mime="image/tiff"), image(size=6 * 1024 * 1024))))]
    assert bad == ["alt_text_missing", "media_format", "image_too_large"]
    gif = image(mime="image/gif", size=6 * 1024 * 1024)
    assert adapter.validate(OutgoingPost(text="x", media=(gif,))) == []


def test_validate_refuses_an_empty_post():
    assert [p.code for p in make_adapter().validate(OutgoingPost(text=" "))] == [
        "text_empty"
    ]


@respx.mock
def test_expired_checkpoint_media_ids_are_uploaded_again():
    respx.post(f"{API}/2/media/upload/initialize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "720"}})
    )
    respx.post(f"{API}/2/media/upload/720/append").mock(
        return_value=httpx.Response(200, json={"data": {}})
    )
    respx.post(f"{API}/2/media/upload/720/finalize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "720"}})
    )
    respx.post(f"{API}/2/media/metadata").mock(return_value=httpx.Response(200))
    tweet = respx.post(f"{API}/2/tweets").mock(
        side_effect=[
            problem(400, "Your media IDs are invalid.", title="Invalid Request",
                    kind="https://api.x.com/2/problems/invalid-request"),
            httpx.Response(201, json={"data": {"id": "6", "text": "t"}}),
        ]
    )
    checkpoints = []
    result = make_adapter().publish(
        OutgoingPost(text="Igen", media=(image(),)),
        idempotency_key="k",
        checkpoint={"media_ids": "710",
                    "media_uploaded_at": datetime.now(UTC).isoformat()},
        on_checkpoint=checkpoints.append,
    )
    assert result.remote_id == "6"
    assert [sent_json(tweet, i)["media"]["media_ids"] for i in range(2)] == [
        ["710"], ["720"]
    ]
    assert checkpoints[0]["media_ids"] == "720"


@respx.mock
def test_fresh_uploads_refused_by_x_are_not_retried():
    respx.post(f"{API}/2/media/upload/initialize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "720"}})
    )
    respx.post(f"{API}/2/media/upload/720/append").mock(return_value=httpx.Response(200))
    respx.post(f"{API}/2/media/upload/720/finalize").mock(
        return_value=httpx.Response(200, json={"data": {"id": "720"}})
    )
    respx.post(f"{API}/2/media/metadata").mock(return_value=httpx.Response(200))
    tweet = respx.post(f"{API}/2/tweets").mock(
        return_value=problem(400, "Your media IDs are invalid.",
                             kind="https://api.x.com/2/problems/invalid-request")
    )
    with pytest.raises(Rejected):
        make_adapter().publish(OutgoingPost(text="x", media=(image(),)),
                               idempotency_key="k")
    assert len(tweet.calls) == 1


@respx.mock
def test_hashtag_search_follows_next_tokens(caplog):
    route = respx.get(f"{API}/2/tweets/search/recent").mock(
        side_effect=[
            httpx.Response(200, json={
                "data": [{"id": str(50 - page), "text": f"#voreskbh {page}"}],
                "meta": {"newest_id": str(50 - page), "next_token": f"n{page}"}})
            for page in range(5)
        ]
    )
    page = make_adapter().search_hashtag("voreskbh")
    assert len(page.posts) == 5
    assert page.cursor == "50"
    tokens = [parse_qs(urlsplit(str(c.request.url)).query).get("pagination_token")
              for c in route.calls]
    assert tokens == [None, ["n0"], ["n1"], ["n2"], ["n3"]]
    assert "more than 5 pages" in caplog.text


def test_invalid_request_messages_are_kept_for_support():
    response = httpx.Response(400, json={
        "errors": [{"parameters": {"media.media_ids": ["1"]},
                    "message": "Your media IDs are invalid."}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.x.com/2/problems/invalid-request"})
    error = translate_error(response)
    assert error.network_message == (
        "One or more parameters to your request was invalid. "
        "Your media IDs are invalid."
    )
    assert "Tjek format og størrelse" in error.message


@respx.mock
def test_a_cursor_older_than_recent_search_is_dropped_and_filtered_locally():
    route = respx.get(f"{API}/2/tweets/search/recent").mock(
        side_effect=[
            httpx.Response(400, json={
                "errors": [{"message": "Invalid 'since_id':'10'. 'since_id' must be "
                            "a tweet id created after 2026-11-21T08:00:00.000Z."}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request"}),
            httpx.Response(200, json={
                "data": [{"id": "12", "text": "ny #voreskbh"},
                         {"id": "9", "text": "gammel #voreskbh"}],
                "meta": {"newest_id": "12"}}),
        ]
    )
    page = make_adapter().search_hashtag("voreskbh", cursor="10")
    assert [p.remote_id for p in page.posts] == ["12"]
    assert page.cursor == "12"
    second = parse_qs(urlsplit(str(route.calls[1].request.url)).query)
    assert "since_id" not in second


def test_usage_cap_is_quota_exhausted_with_its_own_message():
    response = problem(429, "Usage cap exceeded: Monthly product cap",
                       title="UsageCapExceeded",
                       kind="https://api.x.com/2/problems/usage-capped")
    error = translate_error(response)
    assert type(error) is QuotaExhausted
    assert error.network_code == "usage-capped"
    assert "forbrugsloft for måneden" in error.message


# -- paged lookups after a lost answer --------------------------------------------


def own_reply_page(tweet_id: str, text: str, *, answers: str, more: bool) -> dict:
    tweet = {"id": tweet_id, "text": text, "created_at": "2026-11-28T09:00:00.000Z",
             "referenced_tweets": [{"type": "replied_to", "id": answers}]}
    meta = {"result_count": 1, **({"next_token": f"after-{tweet_id}"} if more else {})}
    return {"data": [tweet], "meta": meta}


@respx.mock
def test_find_reply_reads_every_page_and_says_none_when_the_reply_is_not_there():
    route = respx.get(f"{API}/2/users/{ME}/tweets").mock(side_effect=[
        httpx.Response(200, json=own_reply_page("802", "Andet svar", answers="800",
                                                more=True)),
        httpx.Response(200, json=own_reply_page("801", "Tredje", answers="800",
                                                more=False)),
    ])
    assert make_adapter().find_reply("800", text="Tak for din besked") is None
    assert route.call_count == 2
    assert parse_qs(urlsplit(str(route.calls[1].request.url)).query)[
        "pagination_token"] == ["after-802"]


@respx.mock
def test_find_reply_stops_at_the_page_with_the_reply():
    route = respx.get(f"{API}/2/users/{ME}/tweets").mock(return_value=httpx.Response(
        200, json=own_reply_page("802", "Tak for din besked", answers="800",
                                 more=True)))
    found = make_adapter().find_reply("800", text="Tak for din besked")
    assert found.remote_id == "802"
    assert route.call_count == 1


@respx.mock
def test_find_reply_that_cannot_read_every_page_raises_instead_of_saying_none():
    route = respx.get(f"{API}/2/users/{ME}/tweets").mock(return_value=httpx.Response(
        200, json=own_reply_page("802", "Andet svar", answers="800", more=True)))
    with pytest.raises(TransientError):
        make_adapter().find_reply("800", text="Tak for din besked")
    assert route.call_count == 5


@respx.mock
def test_find_message_stops_at_events_older_than_the_message_answered():
    older = {"id": "600", "event_type": "MessageCreate", "text": "Gammelt",
             "sender_id": ME, "created_at": "2026-11-28T08:00:00.000Z"}
    route = respx.get(f"{API}/2/dm_conversations/with/21/dm_events").mock(
        return_value=httpx.Response(200, json={
            "data": [older], "meta": {"result_count": 1, "next_token": "n"}}))
    message = OutgoingMessage(recipient_id="21", text="Tak for din besked",
                              reply_to_remote_id="700")
    found = make_adapter().find_message(
        message, since=datetime(2026, 11, 28, 7, tzinfo=UTC))
    assert found is None
    assert route.call_count == 1
