import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
import time_machine

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.networks.linkedin import (
    LinkedInAdapter,
    duplicate_of,
    escape_little_text,
    unescape_little_text,
)

API = "https://api.linkedin.com"
ORG = "urn:li:organization:2414183"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PNG = MediaItem(kind="image", mime_type="image/png", alt_text="Havnebadet", data=b"x")


def adapter(**settings) -> LinkedInAdapter:
    return LinkedInAdapter(
        Connection(
            network="linkedin",
            base_url=API,
            account_id="2414183",
            credentials={
                "access_token": "tok",
                "client_id": "cid",
                "client_secret": "sec",
                **settings.pop("credentials", {}),
            },
            settings=settings,
        )
    )


def error(status, code="", message="test", **extra):
    body = {"status": status, "message": message, "serviceErrorCode": 100, **extra}
    if code:
        body["code"] = code
    return httpx.Response(status, json=body)


def created(urn="urn:li:share:7001"):
    return httpx.Response(201, headers={"x-restli-id": urn})


# -- little text ---------------------------------------------------------------


def test_reserved_characters_are_escaped():
    text = "Åbent (kl. 8-16) [ny] {x} <a> @kbh | ~ _ * \\"
    assert escape_little_text(text) == (
        "Åbent \\(kl. 8-16\\) \\[ny\\] \\{x\\} \\<a\\> \\@kbh \\| \\~ \\_ \\* \\\\"
    )


def test_hashtags_become_hashtag_templates():
    assert escape_little_text("Sommer i byen #voreskbh #Havnebad_2026") == (
        "Sommer i byen {hashtag|\\#|voreskbh} {hashtag|\\#|Havnebad\\_2026}"
    )


def test_hash_without_a_word_stays_a_literal_hash():
    assert escape_little_text("Kø nr. #12 og #") == "Kø nr. \\#12 og \\#"


def test_danish_letters_belong_to_the_hashtag():
    assert escape_little_text("#københavnæøå!") == "{hashtag|\\#|københavnæøå}!"


@pytest.mark.parametrize(
    "text",
    ["Hej (med) dig #voreskbh", "a\\b_c #x_y [z]", "100% ~ fint @alle #1", ""],
)
def test_unescape_reverses_escape(text):
    assert unescape_little_text(escape_little_text(text)) == text


# -- validation ----------------------------------------------------------------


def test_text_over_3000_characters_is_a_problem_that_says_the_limit_is_unofficial():
    problems = adapter().validate(OutgoingPost(text="a" * 3001))
    assert [p.code for p in problems] == ["text_too_long"]
    assert problems[0].limit == 3000
    assert problems[0].actual == 3001
    assert "Forkort den med 1 tegn" in problems[0].message
    assert "ikke officiel" in adapter().capabilities().text_counting


def test_3000_characters_fit():
    assert adapter().validate(OutgoingPost(text="æ" * 3000)) == []


def test_more_than_twenty_images_and_missing_alt_text_are_problems():
    images = (PNG,) * 20 + (MediaItem(kind="image", mime_type="image/png"),)
    codes = [p.code for p in adapter().validate(OutgoingPost("x", media=images))]
    assert codes == ["too_many_images", "alt_text_missing"]


def test_video_and_webp_are_problems():
    media = (
        MediaItem(kind="video", mime_type="video/mp4", alt_text="v"),
        MediaItem(kind="image", mime_type="image/webp", alt_text="w"),
    )
    codes = [p.code for p in adapter().validate(OutgoingPost("x", media=media))]
    assert codes == ["video_not_supported", "media_format"]


def test_capabilities_list_what_linkedin_cannot_do():
    caps = adapter().capabilities()
    assert caps.max_text_length == 3000
    assert caps.max_images == 20
    assert "hide" not in caps.supports
    assert "search_hashtag" not in caps.supports
    assert {"publish", "reply", "repost", "fetch_inbox"} <= caps.supports


# -- publish -----------------------------------------------------------------


@respx.mock
def test_publish_sends_versioned_headers_and_escaped_commentary():
    route = respx.post(f"{API}/rest/posts").mock(return_value=created())
    result = adapter().publish(
        OutgoingPost(text="Svømmehal (Bellahøj) åbner #voreskbh"),
        idempotency_key="k1",
    )
    assert result.remote_id == "urn:li:share:7001"
    assert result.url == "https://www.linkedin.com/feed/update/urn:li:share:7001/"
    request = route.calls.last.request
    assert request.headers["Linkedin-Version"] == "202607"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.headers["Authorization"] == "Bearer tok"
    body = json.loads(request.content)
    assert body == {
        "author": ORG,
        "commentary": "Svømmehal \\(Bellahøj\\) åbner {hashtag|\\#|voreskbh}",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


@respx.mock
def test_configured_version_is_sent():
    route = respx.post(f"{API}/rest/posts").mock(return_value=created())
    adapter(linkedin_version="202610").publish(OutgoingPost("x"), idempotency_key="k")
    assert route.calls.last.request.headers["Linkedin-Version"] == "202610"


@respx.mock
def test_base_url_ending_in_rest_is_not_doubled():
    route = respx.post(f"{API}/rest/posts").mock(return_value=created())
    conn = Connection(network="linkedin", base_url=f"{API}/rest/", account_id="1")
    LinkedInAdapter(conn).publish(OutgoingPost("x"), idempotency_key="k")
    assert route.called


@respx.mock
def test_link_becomes_an_article_with_a_title():
    route = respx.post(f"{API}/rest/posts").mock(return_value=created())
    adapter().publish(
        OutgoingPost("Læs om vinterbadning\nMere tekst", link="https://kk.dk/bad"),
        idempotency_key="k",
    )
    body = json.loads(route.calls.last.request.content)
    assert body["content"] == {
        "article": {"source": "https://kk.dk/bad", "title": "Læs om vinterbadning"}
    }


@respx.mock
def test_single_image_is_uploaded_then_posted_as_media_with_alt_text():
    init = respx.post(f"{API}/rest/images", params={"action": "initializeUpload"}).mock(
        return_value=httpx.Response(
            200,
            json={
                "value": {
                    "uploadUrl": "https://www.linkedin.com/dms-uploads/abc",
                    "uploadUrlExpiresAt": 1,
                    "image": "urn:li:image:C1",
                }
            },
        )
    )
    put = respx.put("https://www.linkedin.com/dms-uploads/abc").mock(
        return_value=httpx.Response(201)
    )
    post = respx.post(f"{API}/rest/posts").mock(return_value=created())
    checkpoints = []
    adapter().publish(
        OutgoingPost("Se her", media=(PNG,)),
        idempotency_key="k",
        on_checkpoint=checkpoints.append,
    )
    assert json.loads(init.calls.last.request.content) == {
        "initializeUploadRequest": {"owner": ORG}
    }
    assert put.calls.last.request.content == b"x"
    assert put.calls.last.request.headers["Content-Type"] == "image/png"
    assert checkpoints == [{"image_urns": "urn:li:image:C1"}]
    body = json.loads(post.calls.last.request.content)
    assert body["content"] == {
        "media": {"id": "urn:li:image:C1", "altText": "Havnebadet"}
    }


@respx.mock
def test_several_images_become_multi_image_and_link_moves_into_text():
    counter = iter(range(1, 10))

    def init(request):
        n = next(counter)
        return httpx.Response(
            200,
            json={
                "value": {"uploadUrl": f"https://up/{n}", "image": f"urn:li:image:{n}"}
            },
        )

    respx.post(f"{API}/rest/images").mock(side_effect=init)
    respx.put(url__startswith="https://up/").mock(return_value=httpx.Response(201))
    post = respx.post(f"{API}/rest/posts").mock(return_value=created())
    second = MediaItem(kind="image", mime_type="image/jpeg", alt_text="To", data=b"y")
    adapter().publish(
        OutgoingPost("Billeder", link="https://kk.dk", media=(PNG, second)),
        idempotency_key="k",
    )
    body = json.loads(post.calls.last.request.content)
    assert body["content"] == {
        "multiImage": {
            "images": [
                {"id": "urn:li:image:1", "altText": "Havnebadet"},
                {"id": "urn:li:image:2", "altText": "To"},
            ]
        }
    }
    assert body["commentary"] == "Billeder\n\nhttps://kk.dk"


@respx.mock
def test_publish_resumes_from_checkpoint_without_uploading_again():
    init = respx.post(f"{API}/rest/images").mock(return_value=httpx.Response(500))
    post = respx.post(f"{API}/rest/posts").mock(return_value=created())
    adapter().publish(
        OutgoingPost("x", media=(PNG,)),
        idempotency_key="k",
        checkpoint={"image_urns": "urn:li:image:OLD"},
    )
    assert not init.called
    assert json.loads(post.calls.last.request.content)["content"]["media"]["id"] == (
        "urn:li:image:OLD"
    )


@respx.mock
def test_quote_of_another_post_uses_reshare_context():
    route = respx.post(f"{API}/rest/posts").mock(return_value=created())
    adapter().publish(
        OutgoingPost("Godt initiativ", reply_to_remote_id="urn:li:share:42"),
        idempotency_key="k",
    )
    body = json.loads(route.calls.last.request.content)
    assert body["reshareContext"] == {"parent": "urn:li:share:42"}


@respx.mock
def test_201_without_id_header_is_outcome_unknown():
    respx.post(f"{API}/rest/posts").mock(return_value=httpx.Response(201))
    with pytest.raises(OutcomeUnknown):
        adapter().publish(OutgoingPost("x"), idempotency_key="k")


# -- errors ------------------------------------------------------------------


@respx.mock
def test_duplicate_post_is_rejected_and_keeps_the_existing_urn():
    respx.post(f"{API}/rest/posts").mock(
        return_value=httpx.Response(
            422,
            json={
                "errorDetailType": "com.linkedin.common.error.BadRequest",
                "message": "ERROR :: /commentary :: Content is a duplicate of "
                "urn:li:share:7141234567890",
                "errorDetails": {
                    "inputErrors": [
                        {
                            "description": "Duplicate post is detected",
                            "input": {},
                            "code": "DUPLICATE_POST",
                        }
                    ]
                },
                "status": 422,
            },
        )
    )
    with pytest.raises(Rejected) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.network_code == "DUPLICATE_POST"
    assert caught.value.http_status == 422
    assert "urn:li:share:7141234567890" in caught.value.network_message
    assert duplicate_of(caught.value) == "urn:li:share:7141234567890"
    # The sentence is fixed (so it reads in English too); the URN is in the
    # support detail and in ``existing_id``.
    assert "urn:li:share:7141234567890" in caught.value.support_detail


@respx.mock
def test_field_length_too_long_is_rejected_with_danish_unofficial_limit():
    respx.post(f"{API}/rest/posts").mock(
        return_value=httpx.Response(
            422,
            json={
                "status": 422,
                "message": "length exceeded",
                "errorDetails": {
                    "inputErrors": [{"code": "FIELD_LENGTH_TOO_LONG", "input": {}}]
                },
            },
        )
    )
    with pytest.raises(Rejected) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.network_code == "FIELD_LENGTH_TOO_LONG"
    assert "3.000 tegn" in caught.value.message
    assert "ikke" in caught.value.message and "officielt" in caught.value.message
    assert duplicate_of(caught.value) == ""


@pytest.mark.parametrize(
    "response",
    [
        error(426, "NONEXISTENT_VERSION", "Requested version 202507 is not active"),
        error(400, "NONEXISTENT_VERSION", "Requested version 202507 is not active"),
        error(400, "VERSION_MISSING", "A version must be present"),
    ],
)
@respx.mock
def test_missing_or_sunset_version_tells_admin_to_update_the_setting(response):
    respx.post(f"{API}/rest/posts").mock(return_value=response)
    with pytest.raises(Rejected) as caught:
        adapter(linkedin_version="202507").publish(
            OutgoingPost("x"), idempotency_key="k"
        )
    assert "202507" in caught.value.message
    assert "opdatere LinkedIn-versionen" in caught.value.message


@respx.mock
def test_401_is_auth_expired():
    respx.post(f"{API}/rest/posts").mock(
        return_value=error(401, "EXPIRED_ACCESS_TOKEN", "The token has expired")
    )
    with pytest.raises(AuthExpired) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.network_code == "EXPIRED_ACCESS_TOKEN"


@respx.mock
def test_403_missing_permission_is_auth_expired():
    respx.post(f"{API}/rest/posts").mock(return_value=error(403, "ACCESS_DENIED"))
    with pytest.raises(AuthExpired):
        adapter().publish(OutgoingPost("x"), idempotency_key="k")


@time_machine.travel(NOW, tick=False)
@respx.mock
def test_429_without_headers_waits_an_hour_and_names_midnight_utc():
    respx.post(f"{API}/rest/posts").mock(return_value=error(429, message="Too many"))
    with pytest.raises(RateLimited) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.retry_after == 3600
    assert caught.value.reset_at == datetime(2026, 11, 29, tzinfo=UTC)


@time_machine.travel(datetime(2026, 11, 28, 23, 50, tzinfo=UTC), tick=False)
@respx.mock
def test_429_shortly_before_midnight_waits_only_until_the_reset():
    respx.post(f"{API}/rest/posts").mock(return_value=error(429))
    with pytest.raises(RateLimited) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.retry_after == 11 * 60


@respx.mock
def test_429_with_retry_after_header_uses_it():
    respx.post(f"{API}/rest/posts").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "30"}, json={})
    )
    with pytest.raises(RateLimited) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.retry_after == 30


@respx.mock
def test_any_5xx_on_publish_is_outcome_unknown_but_transient_on_a_read():
    route = respx.post(f"{API}/rest/posts")
    route.mock(return_value=error(500, message="Internal"))
    with pytest.raises(OutcomeUnknown) as caught:
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    assert caught.value.http_status == 500
    route.mock(return_value=httpx.Response(504, text="gateway timeout"))
    with pytest.raises(OutcomeUnknown):
        adapter().publish(OutgoingPost("x"), idempotency_key="k")
    respx.get(url__startswith=f"{API}/rest/posts/").mock(
        return_value=error(500, message="Internal"))
    with pytest.raises(TransientError) as caught:
        adapter()._existing_post("urn:li:share:1")
    assert not isinstance(caught.value, OutcomeUnknown)


@respx.mock
def test_timeout_after_sending_is_outcome_unknown():
    respx.post(f"{API}/rest/posts").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        adapter().publish(OutgoingPost("x"), idempotency_key="k")


# -- find_published, delete, reply, repost -----------------------------------


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@respx.mock
def test_find_published_matches_the_unescaped_commentary_of_a_recent_post():
    route = respx.get(f"{API}/rest/posts").mock(
        return_value=httpx.Response(
            200,
            json={
                "elements": [
                    {
                        "id": "urn:li:share:2",
                        "commentary": "Andet",
                        "publishedAt": _ms(NOW),
                    },
                    {
                        "id": "urn:li:share:1",
                        "commentary": "Bad \\(nu\\) {hashtag|\\#|voreskbh}",
                        "publishedAt": _ms(NOW - timedelta(minutes=1)),
                    },
                ],
                "paging": {"start": 0, "count": 50},
            },
        )
    )
    found = adapter().find_published(
        idempotency_key="k", text="Bad (nu) #voreskbh", since=NOW - timedelta(hours=1)
    )
    assert found is not None
    assert found.remote_id == "urn:li:share:1"
    assert found.published_at == NOW - timedelta(minutes=1)
    query = parse_qs(urlsplit(str(route.calls.last.request.url)).query)
    assert query["q"] == ["author"]
    assert query["author"] == [ORG]


@respx.mock
def test_find_published_returns_none_when_only_older_posts_match():
    respx.get(f"{API}/rest/posts").mock(
        return_value=httpx.Response(
            200,
            json={
                "elements": [
                    {
                        "id": "urn:li:share:1",
                        "commentary": "Bad",
                        "publishedAt": _ms(NOW - timedelta(days=3)),
                    }
                ]
            },
        )
    )
    assert (
        adapter().find_published(
            idempotency_key="k", text="Bad", since=NOW - timedelta(hours=1)
        )
        is None
    )


@respx.mock
def test_delete_encodes_the_urn_and_treats_404_as_gone():
    route = respx.delete(f"{API}/rest/posts/urn%3Ali%3Ashare%3A7001").mock(
        return_value=httpx.Response(204)
    )
    adapter().delete("urn:li:share:7001")
    assert route.called
    route.mock(return_value=error(404, message="Not found"))
    adapter().delete("urn:li:share:7001")


@respx.mock
def test_delete_of_a_comment_uses_social_actions():
    route = respx.delete(
        f"{API}/rest/socialActions/urn%3Ali%3Aactivity%3A9/comments/55"
    ).mock(return_value=httpx.Response(204))
    adapter().delete("urn:li:comment:(urn:li:activity:9,55)")
    assert parse_qs(urlsplit(str(route.calls.last.request.url)).query) == {
        "actor": [ORG]
    }


@respx.mock
def test_reply_to_a_post_comments_as_the_organisation_in_plain_text():
    route = respx.post(f"{API}/rest/socialActions/urn%3Ali%3Ashare%3A1/comments").mock(
        return_value=httpx.Response(
            201,
            json={
                "commentUrn": "urn:li:comment:(urn:li:share:1,77)",
                "id": "77",
                "created": {"time": _ms(NOW)},
            },
        )
    )
    result = adapter().reply("urn:li:share:1", "Tak (og #hej)!")
    assert result.remote_id == "urn:li:comment:(urn:li:share:1,77)"
    assert result.published_at == NOW
    assert json.loads(route.calls.last.request.content) == {
        "actor": ORG,
        "object": "urn:li:share:1",
        "message": {"text": "Tak (og #hej)!"},
    }


@respx.mock
def test_reply_to_a_comment_nests_under_it():
    comment = "urn:li:comment:(urn:li:activity:9,55)"
    route = respx.post(
        f"{API}/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A9%2C55%29/comments"
    ).mock(return_value=httpx.Response(201, json={"id": "56"}))
    result = adapter().reply(comment, "Svar")
    body = json.loads(route.calls.last.request.content)
    assert body["object"] == "urn:li:activity:9"
    assert body["parentComment"] == comment
    assert result.remote_id == "urn:li:comment:(urn:li:activity:9,56)"


@respx.mock
def test_repost_is_a_reshare_with_empty_commentary():
    route = respx.post(f"{API}/rest/posts").mock(return_value=created("urn:li:share:9"))
    result = adapter().repost("urn:li:share:42")
    body = json.loads(route.calls.last.request.content)
    assert body["reshareContext"] == {"parent": "urn:li:share:42"}
    assert body["commentary"] == ""
    assert result.remote_id == "urn:li:share:9"


def test_hide_and_hashtag_search_are_not_supported_with_danish_reasons():
    with pytest.raises(NotSupported) as caught:
        adapter().hide("urn:li:comment:(urn:li:activity:9,55)")
    assert "skjule" in caught.value.message
    with pytest.raises(NotSupported) as caught:
        adapter().search_hashtag("voreskbh")
    assert "hashtag" in caught.value.message


# -- inbox -------------------------------------------------------------------


def _comment(cid, when, text, actor="urn:li:person:a", parent=None):
    element = {
        "id": str(cid),
        "commentUrn": f"urn:li:comment:(urn:li:activity:1,{cid})",
        "actor": actor,
        "object": "urn:li:activity:1",
        "created": {"time": _ms(when)},
        "message": {"text": text},
    }
    if parent:
        element["parentComment"] = parent
    return element


@respx.mock
def test_inbox_returns_new_comments_and_replies_with_a_time_id_cursor():
    respx.get(f"{API}/rest/posts").mock(
        return_value=httpx.Response(
            200, json={"elements": [{"id": "urn:li:share:1", "publishedAt": 0}]}
        )
    )
    comments = [
        _comment(1, NOW - timedelta(minutes=10), "Gammel"),
        _comment(2, NOW - timedelta(minutes=5), "Hvornår åbner I?"),
        _comment(3, NOW - timedelta(minutes=4), "Vores svar", actor=ORG),
        _comment(4, NOW, "Enig", parent="urn:li:comment:(urn:li:activity:1,2)"),
    ]
    respx.get(f"{API}/rest/socialActions/urn%3Ali%3Ashare%3A1/comments").mock(
        return_value=httpx.Response(200, json={"elements": comments})
    )
    since = f"{_ms(NOW - timedelta(minutes=10))}:1"
    page = adapter().fetch_inbox(since)
    assert [(i.text, i.kind) for i in page.items] == [
        ("Hvornår åbner I?", "comment"),
        ("Enig", "reply"),
    ]
    assert page.items[1].parent_remote_id == "urn:li:comment:(urn:li:activity:1,2)"
    assert page.items[0].post_remote_id == "urn:li:share:1"
    assert page.items[0].created_at == NOW - timedelta(minutes=5)
    # The cursor (JSON since the sweep) keeps the newest comment's time and
    # id; an older "ms:id" cursor is still read (``since`` above).
    state = json.loads(page.cursor)
    assert (state["t"], state["id"]) == (_ms(NOW), "4")
    again = adapter().fetch_inbox(page.cursor)
    assert again.items == ()
    assert (json.loads(again.cursor)["t"], json.loads(again.cursor)["id"]) == (
        _ms(NOW), "4")


# -- metrics -----------------------------------------------------------------


@respx.mock
def test_metrics_read_followers_and_share_statistics_with_the_api_version():
    respx.get(f"{API}/rest/networkSizes/urn%3Ali%3Aorganization%3A2414183").mock(
        return_value=httpx.Response(200, json={"firstDegreeSize": 5120})
    )

    def stats(request):
        query = request.url.query.decode()
        if "shares=List(" in query:
            assert "shares=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A2)" in query
            return httpx.Response(
                200,
                json={
                    "elements": [
                        {
                            "share": "urn:li:share:1",
                            "totalShareStatistics": {
                                "impressionCount": 900,
                                "uniqueImpressionsCount": 700,
                                "likeCount": 40,
                                "commentCount": 5,
                                "shareCount": 2,
                                "clickCount": 30,
                                "engagement": 0.08,
                            },
                        }
                    ]
                },
            )
        return httpx.Response(
            200,
            json={"elements": [{"totalShareStatistics": {"impressionCount": 10000}}]},
        )

    respx.get(f"{API}/rest/organizationalEntityShareStatistics").mock(side_effect=stats)
    snapshot = adapter(linkedin_version="202610").fetch_metrics(
        ("urn:li:share:1", "urn:li:share:2")
    )
    account = {m.name: (m.value, m.kind, m.api_version) for m in snapshot.account}
    assert account == {
        "firstDegreeSize": (5120, "followers", "202610"),
        "impressionCount": (10000, "views", "202610"),
    }
    post = {m.name: (m.value, m.kind) for m in snapshot.posts["urn:li:share:1"]}
    assert post == {
        "impressionCount": (900, "views"),
        "uniqueImpressionsCount": (700, "reach"),
        "likeCount": (40, "likes"),
        "commentCount": (5, "comments"),
        "shareCount": (2, "shares"),
        "clickCount": (30, "clicks"),
    }


# -- OAuth -------------------------------------------------------------------


def test_authorization_url_asks_for_organisation_scopes():
    url = adapter().authorization_url(redirect_uri="https://kanal/cb", state="s1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://www.linkedin.com/oauth/v2/authorization"
    )
    query = parse_qs(parts.query)
    assert query["client_id"] == ["cid"]
    assert query["state"] == ["s1"]
    assert query["scope"] == [
        "r_organization_social w_organization_social rw_organization_admin"
    ]


@time_machine.travel(NOW, tick=False)
@respx.mock
def test_code_exchange_gives_a_60_day_token():
    route = respx.post("https://www.linkedin.com/oauth/v2/accessToken").mock(
        return_value=httpx.Response(
            200, json={"access_token": "new", "expires_in": 5184000, "scope": "x"}
        )
    )
    tokens = adapter().exchange_code(code="c", redirect_uri="https://kanal/cb")
    assert tokens.access_token == "new"
    assert tokens.refresh_token == ""
    assert tokens.expires_at == NOW + timedelta(days=60)
    form = parse_qs(route.calls.last.request.content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["client_secret"] == ["sec"]


def test_refresh_without_refresh_token_says_reconnect_every_60_days():
    with pytest.raises(AuthExpired) as caught:
        adapter().refresh_token()
    assert "60 dage" in caught.value.message
    assert "forbinde" in caught.value.message


@time_machine.travel(NOW, tick=False)
@respx.mock
def test_refresh_with_refresh_token_keeps_its_remaining_lifetime():
    respx.post("https://www.linkedin.com/oauth/v2/accessToken").mock(
        return_value=httpx.Response(
            200,
            json={
                "access_token": "a2",
                "expires_in": 5184000,
                "refresh_token": "r1",
                "refresh_token_expires_in": 86400,
            },
        )
    )
    tokens = adapter(credentials={"refresh_token": "r1"}).refresh_token()
    assert tokens.access_token == "a2"
    assert tokens.refresh_token == "r1"
    assert (
        tokens.extra["refresh_token_expires_at"]
        == (NOW + timedelta(days=1)).isoformat()
    )


@respx.mock
def test_refresh_with_expired_refresh_token_is_auth_expired():
    respx.post("https://www.linkedin.com/oauth/v2/accessToken").mock(
        return_value=httpx.Response(
            400,
            json={
                "error": "invalid_grant",
                "error_description": "The provided refresh token is expired",
            },
        )
    )
    with pytest.raises(AuthExpired) as caught:
        adapter(credentials={"refresh_token": "r1"}).refresh_token()
    assert caught.value.network_code == "invalid_grant"


@respx.mock
def test_verify_returns_the_page_with_followers():
    respx.get(f"{API}/rest/organizations/2414183").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": 2414183,
                "localizedName": "Københavns Kommune",
                "vanityName": "kobenhavns-kommune",
            },
        )
    )
    respx.get(f"{API}/rest/networkSizes/urn%3Ali%3Aorganization%3A2414183").mock(
        return_value=httpx.Response(200, json={"firstDegreeSize": 31000})
    )
    info = adapter().verify()
    assert info.display_name == "Københavns Kommune"
    assert info.handle == "kobenhavns-kommune"
    assert info.followers == 31000
    assert info.profile_url == "https://www.linkedin.com/company/kobenhavns-kommune/"


@respx.mock
def test_find_published_trusts_a_duplicate_urn_from_the_checkpoint():
    posts = respx.get(f"{API}/rest/posts")
    respx.get(f"{API}/rest/posts/urn%3Ali%3Ashare%3A77").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "urn:li:share:77",
                "lifecycleState": "PUBLISHED",
                "publishedAt": _ms(NOW),
            },
        )
    )
    found = adapter().find_published(
        idempotency_key="k",
        text="x",
        since=NOW,
        checkpoint={"duplicate_of": "urn:li:share:77"},
    )
    assert found.remote_id == "urn:li:share:77"
    assert found.published_at == NOW
    assert not posts.called


@respx.mock
def test_find_published_scans_when_the_checkpoint_post_is_gone():
    respx.get(f"{API}/rest/posts/urn%3Ali%3Ashare%3A77").mock(
        return_value=error(404, message="Not found")
    )
    respx.get(f"{API}/rest/posts").mock(
        return_value=httpx.Response(200, json={"elements": []})
    )
    found = adapter().find_published(
        idempotency_key="k",
        text="x",
        since=NOW,
        checkpoint={"duplicate_of": "urn:li:share:77"},
    )
    assert found is None


@pytest.mark.parametrize(
    ("code", "expected", "words"),
    [
        ("invalid_client", Rejected, "app-oplysninger"),
        ("invalid_redirect_uri", Rejected, "tilbage-adresse"),
        ("invalid_request", Rejected, "forbinde LinkedIn-siden igen"),
        ("invalid_grant", AuthExpired, "60 dage"),
    ],
)
@respx.mock
def test_code_exchange_errors_say_what_to_do(code, expected, words):
    respx.post("https://www.linkedin.com/oauth/v2/accessToken").mock(
        return_value=httpx.Response(
            400, json={"error": code, "error_description": "nope"}
        )
    )
    with pytest.raises(expected) as caught:
        adapter().exchange_code(code="c", redirect_uri="https://kanal/cb")
    assert type(caught.value) is expected
    assert words in caught.value.message
    assert caught.value.network_code == code
