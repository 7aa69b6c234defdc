import base64
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.bluesky import (
    MAX_IMAGE_BYTES,
    BlueskyAdapter,
    clock_id_for,
    dated_after,
    facets_for,
    rkey_for,
    tid_at,
    tid_time,
)
from kanal.channels.networks.errors import (
    AuthExpired,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)

PDS = "https://pds.example"
DID = "did:plc:kbh"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def jwt(expires: datetime, tag: str = "a") -> str:
    def part(data):
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"exp": int(expires.timestamp()), "t": tag}
    return f"{part({'alg': 'HS256'})}.{part(claims)}.sig"


ACCESS = jwt(NOW + timedelta(hours=2), "access")
REFRESH = jwt(NOW + timedelta(days=90), "refresh")


def session(tag):
    return {
        "accessJwt": jwt(NOW + timedelta(hours=2), f"access-{tag}"),
        "refreshJwt": jwt(NOW + timedelta(days=90), f"refresh-{tag}"),
        "did": DID,
        "handle": "kbh.bsky.social",
    }


def connection(**credentials):
    creds = {"access_token": ACCESS, "refresh_token": REFRESH, "did": DID}
    creds.update(credentials)
    return Connection(
        network="bluesky",
        base_url=PDS,
        account_id=DID,
        handle="kbh.bsky.social",
        credentials={k: v for k, v in creds.items() if v},
        settings={"web_url": "https://bsky.app"},
    )


@pytest.fixture
def tokens():
    return []


@pytest.fixture
def adapter(tokens):
    return BlueskyAdapter(
        connection(app_password="app-pw"), on_tokens=tokens.append, clock=lambda: NOW
    )


@pytest.fixture
def api():
    with respx.mock(base_url=PDS, assert_all_called=False) as mock:
        yield mock


def created(rkey, collection="app.bsky.feed.post"):
    return {
        "uri": f"at://{DID}/{collection}/{rkey}",
        "cid": "bafyrei-new",
        "commit": {"cid": "c", "rev": "r"},
        "validationStatus": "valid",
    }


def body_of(route, index=-1):
    return json.loads(route.calls[index].request.content)


# -- record keys and facets -------------------------------------------------


def test_rkey_is_a_stable_tid_derived_from_the_key():
    assert rkey_for("pub-1") == rkey_for("pub-1")
    assert rkey_for("pub-1") != rkey_for("pub-2")
    assert TID_RE.match(rkey_for("pub-1"))


def test_a_dated_tid_encodes_its_moment_and_sorts_by_time():
    first = tid_at(NOW, clock_id_for("a"))
    later = tid_at(NOW + timedelta(milliseconds=1), clock_id_for("b"))
    assert TID_RE.match(first) and TID_RE.match(later)
    assert tid_time(first) == NOW
    assert first < later  # base32-sortable: ordering by key is ordering by time
    assert dated_after(NOW, "k") == dated_after(NOW, "k")
    assert NOW + timedelta(seconds=1) <= tid_time(dated_after(NOW, "k")) \
        < NOW + timedelta(seconds=2)


def test_facets_use_utf8_byte_offsets_after_danish_letters_and_emoji():
    text = "Blåbær 🫐 på #Bibliotek med @anna.bsky.social: https://kk.dk/åbent"
    facets = facets_for(text, {"anna.bsky.social": "did:plc:anna"}.get)
    raw = text.encode()

    spans = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in facets
    }

    assert spans == {
        "#Bibliotek": {"$type": "app.bsky.richtext.facet#tag", "tag": "Bibliotek"},
        "@anna.bsky.social": {
            "$type": "app.bsky.richtext.facet#mention",
            "did": "did:plc:anna",
        },
        "https://kk.dk/åbent": {
            "$type": "app.bsky.richtext.facet#link",
            "uri": "https://kk.dk/åbent",
        },
    }
    tag = next(f for f in facets if "tag" in f["features"][0])
    assert tag["index"] == {"byteStart": 18, "byteEnd": 28}


def test_unresolved_mentions_and_foreign_handles_stay_plain_text():
    facets = facets_for("Hej @ukendt.example og @bo@mastodon.social", lambda h: None)

    assert facets == []


def test_bare_domain_link_gets_https():
    facets = facets_for("Se kk.dk", lambda h: None)

    assert facets[0]["features"][0]["uri"] == "https://kk.dk"
    assert facets[0]["index"] == {"byteStart": 3, "byteEnd": 8}


# -- publishing -------------------------------------------------------------


def test_publish_creates_a_post_record_keyed_by_the_first_attempts_time(
    adapter, api
):
    # The key is a TID of now (the first attempt), not a hash of Kanal's key:
    # a hash gives random dates, often far in the future.
    rkey = tid_at(NOW, clock_id_for("pub-1"))
    assert tid_time(rkey) == NOW
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created(rkey)
    )
    checkpoints = []

    result = adapter.publish(
        OutgoingPost(text="Godmorgen København"),
        idempotency_key="pub-1",
        on_checkpoint=checkpoints.append,
    )

    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    body = json.loads(request.content)
    assert body["repo"] == DID
    assert body["collection"] == "app.bsky.feed.post"
    assert body["rkey"] == rkey
    assert body["record"] == {
        "$type": "app.bsky.feed.post",
        "text": "Godmorgen København",
        "createdAt": "2026-11-28T09:00:00.000Z",
        "langs": ["da"],
    }
    assert result.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/kbh.bsky.social/post/{rkey}"
    assert checkpoints == [{"rkey": rkey}]


def test_a_retry_days_later_reuses_the_checkpointed_key(api, tokens):
    first_attempt = tid_at(NOW, clock_id_for("pub-1"))
    later = BlueskyAdapter(connection(app_password="app-pw"),
                           clock=lambda: NOW + timedelta(minutes=30))
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created(first_attempt)
    )
    checkpoints = []

    later.publish(OutgoingPost(text="Igen"), idempotency_key="pub-1",
                  checkpoint={"rkey": first_attempt},
                  on_checkpoint=checkpoints.append)

    assert body_of(route)["rkey"] == first_attempt
    assert checkpoints == []


def test_mentions_are_resolved_to_dids_before_posting(adapter, api):
    resolve = api.get("/xrpc/com.atproto.identity.resolveHandle").respond(
        200, json={"did": "did:plc:anna"}
    )
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("x")
    )

    adapter.publish(OutgoingPost(text="Tak @anna.bsky.social"), idempotency_key="k")

    assert resolve.calls.last.request.url.params["handle"] == "anna.bsky.social"
    facet = body_of(route)["record"]["facets"][0]
    assert facet["features"][0]["did"] == "did:plc:anna"
    assert facet["index"] == {"byteStart": 4, "byteEnd": 21}


def test_images_are_uploaded_as_blobs_with_alt_text_and_aspect_ratio(adapter, api):
    blob = {
        "$type": "blob",
        "ref": {"$link": "bafkrei-img"},
        "mimeType": "image/png",
        "size": 3,
    }
    upload = api.post("/xrpc/com.atproto.repo.uploadBlob").respond(
        200, json={"blob": blob}
    )
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("x")
    )
    image = MediaItem(
        kind="image",
        mime_type="image/png",
        alt_text="Svømmehallen",
        data=b"PNG",
        width=1200,
        height=800,
    )

    adapter.publish(
        OutgoingPost(text="Åbent", link="https://kk.dk/bad", media=(image,)),
        idempotency_key="k",
    )

    assert upload.calls.last.request.content == b"PNG"
    assert upload.calls.last.request.headers["Content-Type"] == "image/png"
    record = body_of(route)["record"]
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "alt": "Svømmehallen",
                "image": blob,
                "aspectRatio": {"width": 1200, "height": 800},
            }
        ],
    }
    assert record["text"] == "Åbent\n\nhttps://kk.dk/bad"
    assert record["facets"][0]["features"][0]["uri"] == "https://kk.dk/bad"


def test_link_without_images_becomes_an_external_card(adapter, api):
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("x")
    )

    adapter.publish(
        OutgoingPost(text="Nyt fra rådhuset", link="https://kk.dk/nyt/1"),
        idempotency_key="k",
    )

    record = body_of(route)["record"]
    assert record["text"] == "Nyt fra rådhuset"
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://kk.dk/nyt/1",
            "title": "kk.dk/nyt/1",
            "description": "",
        },
    }


def test_retry_with_checkpoint_finds_the_record_instead_of_creating(adapter, api):
    rkey = rkey_for("pub-1")
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        200,
        json={
            "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
            "cid": "c",
            "value": {"text": "x", "createdAt": "2026-11-28T08:59:00.000Z"},
        },
    )
    create = api.post("/xrpc/com.atproto.repo.createRecord")

    result = adapter.publish(
        OutgoingPost(text="x"), idempotency_key="pub-1", checkpoint={"rkey": rkey}
    )

    assert not create.called
    assert result.remote_id.endswith(rkey)
    assert result.published_at == datetime(2026, 11, 28, 8, 59, tzinfo=UTC)


def test_create_failing_on_a_taken_rkey_returns_the_existing_post(adapter, api):
    rkey = rkey_for("pub-1")
    api.post("/xrpc/com.atproto.repo.createRecord").respond(
        400, json={"error": "InvalidRequest", "message": "Record already exists"}
    )
    get_record = api.get("/xrpc/com.atproto.repo.getRecord").respond(
        200,
        json={
            "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
            "cid": "c",
            "value": {"createdAt": "2026-11-28T09:00:00.000Z"},
        },
    )

    result = adapter.publish(OutgoingPost(text="x"), idempotency_key="pub-1")

    assert get_record.calls.last.request.url.params["rkey"] == rkey
    assert result.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"


def test_invalid_record_is_rejected_with_the_pds_message(adapter, api):
    api.post("/xrpc/com.atproto.repo.createRecord").respond(
        400,
        json={
            "error": "InvalidRequest",
            "message": "Invalid app.bsky.feed.post record: Record/text must not be "
            "longer than 300 graphemes",
        },
    )
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )

    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert caught.value.network_code == "InvalidRequest"
    assert "300 graphemes" in caught.value.network_message
    assert "for lang" in caught.value.message


def test_timeout_on_create_is_outcome_unknown(adapter, api):
    api.post("/xrpc/com.atproto.repo.createRecord").mock(
        side_effect=httpx.ReadTimeout("slow")
    )

    with pytest.raises(OutcomeUnknown):
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")


def test_find_published_is_a_get_record_on_the_rkey(adapter, api):
    rkey = rkey_for("pub-9")
    route = api.get("/xrpc/com.atproto.repo.getRecord").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
                    "cid": "c",
                    "value": {"createdAt": "2026-11-28T09:00:00.000Z"},
                },
            ),
            httpx.Response(
                400, json={"error": "RecordNotFound", "message": "Could not locate"}
            ),
        ]
    )

    found = adapter.find_published(idempotency_key="pub-9", text="x", since=NOW)
    missing = adapter.find_published(idempotency_key="pub-9", text="x", since=NOW)

    params = route.calls[0].request.url.params
    assert (params["repo"], params["collection"], params["rkey"]) == (
        DID,
        "app.bsky.feed.post",
        rkey,
    )
    assert found.remote_id.endswith(rkey)
    assert missing is None


# -- sessions -------------------------------------------------------------------


def test_expired_token_refreshes_once_and_repeats_the_call(adapter, api, tokens):
    refresh = api.post("/xrpc/com.atproto.server.refreshSession").respond(
        200, json=session("2")
    )
    create = api.post("/xrpc/com.atproto.repo.createRecord").mock(
        side_effect=[
            httpx.Response(
                400, json={"error": "ExpiredToken", "message": "Token has expired"}
            ),
            httpx.Response(200, json=created("x")),
        ]
    )

    adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert refresh.calls.last.request.headers["Authorization"] == f"Bearer {REFRESH}"
    new_access = session("2")["accessJwt"]
    assert create.calls[1].request.headers["Authorization"] == f"Bearer {new_access}"
    assert [t.access_token for t in tokens] == [new_access]
    assert tokens[0].refresh_token == session("2")["refreshJwt"]
    assert tokens[0].expires_at == NOW + timedelta(hours=2)


def test_spent_refresh_token_falls_back_to_the_app_password(adapter, api, tokens):
    api.post("/xrpc/com.atproto.server.refreshSession").respond(
        400, json={"error": "ExpiredToken", "message": "Token has expired"}
    )
    login = api.post("/xrpc/com.atproto.server.createSession").respond(
        200, json=session("3")
    )
    api.post("/xrpc/com.atproto.repo.createRecord").mock(
        side_effect=[
            httpx.Response(400, json={"error": "ExpiredToken", "message": "expired"}),
            httpx.Response(200, json=created("x")),
        ]
    )

    adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert body_of(login) == {"identifier": "kbh.bsky.social", "password": "app-pw"}
    assert tokens[0].access_token == session("3")["accessJwt"]


def test_without_app_password_a_spent_session_is_auth_expired(api):
    adapter = BlueskyAdapter(connection(), clock=lambda: NOW)
    api.post("/xrpc/com.atproto.server.refreshSession").respond(
        400, json={"error": "ExpiredToken", "message": "expired"}
    )
    api.post("/xrpc/com.atproto.repo.createRecord").respond(
        400, json={"error": "ExpiredToken", "message": "expired"}
    )

    with pytest.raises(AuthExpired) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert "app-kodeord" in caught.value.message


def test_second_expired_token_in_a_row_is_auth_expired(adapter, api):
    api.post("/xrpc/com.atproto.server.refreshSession").respond(200, json=session("2"))
    api.post("/xrpc/com.atproto.repo.createRecord").respond(
        400, json={"error": "ExpiredToken", "message": "expired"}
    )

    with pytest.raises(AuthExpired):
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")


def test_access_token_about_to_expire_is_renewed_first(api, tokens):
    conn = connection(access_token=jwt(NOW + timedelta(seconds=20)))
    adapter = BlueskyAdapter(conn, on_tokens=tokens.append, clock=lambda: NOW)
    refresh = api.post("/xrpc/com.atproto.server.refreshSession").respond(
        200, json=session("2")
    )
    api.post("/xrpc/com.atproto.repo.createRecord").respond(200, json=created("x"))

    adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert refresh.call_count == 1
    assert len(tokens) == 1


def test_without_any_session_the_adapter_logs_in(api, tokens):
    conn = connection(access_token="", refresh_token="", app_password="pw", did="")
    adapter = BlueskyAdapter(conn, on_tokens=tokens.append, clock=lambda: NOW)
    api.post("/xrpc/com.atproto.server.createSession").respond(200, json=session("1"))
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("x")
    )

    adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert body_of(route)["repo"] == DID


def test_wrong_app_password_is_auth_expired(api):
    conn = connection(access_token="", refresh_token="", app_password="wrong")
    adapter = BlueskyAdapter(conn, clock=lambda: NOW)
    api.post("/xrpc/com.atproto.server.createSession").respond(
        401,
        json={
            "error": "AuthenticationRequired",
            "message": "Invalid identifier or password",
        },
    )

    with pytest.raises(AuthExpired) as caught:
        adapter.verify()

    assert caught.value.network_code == "AuthenticationRequired"


def test_refresh_token_renews_a_session_about_to_expire(api, tokens):
    near_expiry = NOW + timedelta(hours=2) - timedelta(minutes=10)
    adapter = BlueskyAdapter(connection(), on_tokens=tokens.append,
                             clock=lambda: near_expiry)
    api.post("/xrpc/com.atproto.server.refreshSession").respond(200, json=session("4"))

    fresh = adapter.refresh_token()

    assert fresh.access_token == session("4")["accessJwt"]
    assert fresh.extra == {"did": DID, "handle": "kbh.bsky.social"}
    assert len(tokens) == 1


def test_refresh_token_leaves_a_session_with_time_left_alone(adapter, api, tokens):
    # Asked every ten minutes by the worker, it must not renew (and have the
    # caller store and audit) a session that lives two hours each time.
    route = api.post("/xrpc/com.atproto.server.refreshSession").respond(
        200, json=session("5"))

    same = adapter.refresh_token()

    assert not route.called
    assert same.access_token == ACCESS
    assert same.refresh_token == REFRESH
    assert same.expires_at == NOW + timedelta(hours=2)
    assert tokens == []


# -- errors -----------------------------------------------------------------------


def test_rate_limit_reads_the_epoch_reset(adapter, api):
    reset = int((datetime.now(UTC) + timedelta(minutes=4)).timestamp())
    api.post("/xrpc/com.atproto.repo.createRecord").respond(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={
            "RateLimit-Limit": "5000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": "5000;w=3600",
        },
    )

    with pytest.raises(RateLimited) as caught:
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert not isinstance(caught.value, QuotaExhausted)
    assert caught.value.reset_at == datetime.fromtimestamp(reset, tz=UTC)
    assert 200 < caught.value.retry_after <= 240


def test_daily_write_budget_is_a_quota(adapter, api):
    api.post("/xrpc/com.atproto.repo.createRecord").respond(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"RateLimit-Reset": "1796461200", "RateLimit-Policy": "35000;w=86400"},
    )

    with pytest.raises(QuotaExhausted):
        adapter.publish(OutgoingPost(text="x"), idempotency_key="k")


def test_upstream_failure_is_transient(adapter, api):
    api.get("/xrpc/app.bsky.actor.getProfile").respond(
        502, json={"error": "UpstreamFailure", "message": "Upstream Failure"}
    )

    with pytest.raises(TransientError) as caught:
        adapter.verify()

    assert caught.value.network_code == "UpstreamFailure"


def test_invalid_token_is_auth_expired_without_a_refresh(adapter, api):
    refresh = api.post("/xrpc/com.atproto.server.refreshSession")
    api.get("/xrpc/app.bsky.actor.getProfile").respond(
        401, json={"error": "InvalidToken", "message": "Token could not be verified"}
    )

    with pytest.raises(AuthExpired):
        adapter.verify()

    assert not refresh.called


def test_blob_too_large_is_rejected(adapter, api):
    api.post("/xrpc/com.atproto.repo.uploadBlob").respond(
        413, json={"error": "PayloadTooLarge", "message": "request entity too large"}
    )
    image = MediaItem(kind="image", mime_type="image/png", alt_text="a", data=b"x")

    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text="x", media=(image,)), idempotency_key="k")

    assert "1.000.000 bytes" in caught.value.message


def test_images_above_one_million_bytes_are_refused_by_validation(adapter):
    # Servers still in use refuse more than 1,000,000 bytes at publish time.
    assert MAX_IMAGE_BYTES == 1_000_000
    assert adapter.capabilities().max_image_bytes == 1_000_000
    fits = MediaItem(kind="image", mime_type="image/jpeg", alt_text="a",
                     data=b"x" * 1_000_000)
    too_big = MediaItem(kind="image", mime_type="image/jpeg", alt_text="a",
                        data=b"x" * 1_000_001)

    assert adapter.validate(OutgoingPost(text="x", media=(fits,))) == []
    problems = adapter.validate(OutgoingPost(text="x", media=(too_big,)))
    assert [p.code for p in problems] == ["image_too_large"]
    assert "højst 1,0 MB" in problems[0].message


# -- other writes -------------------------------------------------------------------

PARENT = "at://did:plc:anna/app.bsky.feed.post/3kparent"
ROOT = f"at://{DID}/app.bsky.feed.post/3kroot"


def post_view(uri, *, reply_root=None, author="did:plc:anna", **counts):
    record = {
        "$type": "app.bsky.feed.post",
        "text": "Hvornår?",
        "createdAt": "2026-11-28T08:00:00Z",
    }
    if reply_root:
        record["reply"] = {
            "root": {"uri": reply_root, "cid": "cid-root"},
            "parent": {"uri": reply_root, "cid": "cid-root"},
        }
    return {
        "uri": uri,
        "cid": f"cid-{uri[-4:]}",
        "author": {"did": author, "handle": "anna.bsky.social", "displayName": "Anna"},
        "record": record,
        "indexedAt": "2026-11-28T08:00:01Z",
        **counts,
    }


def test_reply_refers_to_the_thread_root_and_the_parent(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(PARENT, reply_root=ROOT)]}
    )
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("r")
    )

    adapter.reply(PARENT, "Kl. 10", idempotency_key="reply-1")

    body = body_of(route)
    # Dated just after the post it answers (08:00), the same on every retry.
    assert body["rkey"] == dated_after(datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
                                       "reply-1")
    assert body["record"]["reply"] == {
        "root": {"uri": ROOT, "cid": "cid-root"},
        "parent": {"uri": PARENT, "cid": "cid-rent"},
    }


def test_repost_creates_a_repost_record_with_a_stable_rkey(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(PARENT)]}
    )
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("rp", "app.bsky.feed.repost")
    )

    result = adapter.repost(PARENT)
    adapter.repost(PARENT)

    first, second = body_of(route, 0), body_of(route, 1)
    assert first["collection"] == "app.bsky.feed.repost"
    assert first["record"]["subject"] == {"uri": PARENT, "cid": "cid-rent"}
    assert first["rkey"] == second["rkey"]
    assert result.url == "https://bsky.app/profile/anna.bsky.social/post/3kparent"


def test_delete_removes_the_record_named_by_the_uri(adapter, api):
    route = api.post("/xrpc/com.atproto.repo.deleteRecord").respond(200, json={})

    adapter.delete(f"at://{DID}/app.bsky.feed.post/3kabc")

    assert body_of(route) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": "3kabc",
    }


def test_hide_adds_the_reply_to_the_threadgate_of_the_root(adapter, api):
    reply_uri = "at://did:plc:anna/app.bsky.feed.post/3kreply"
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(reply_uri, reply_root=ROOT)]}
    )
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    put = api.post("/xrpc/com.atproto.repo.putRecord").respond(
        200, json={"uri": "u", "cid": "c"}
    )

    adapter.hide(reply_uri)

    body = body_of(put)
    assert (body["collection"], body["rkey"]) == ("app.bsky.feed.threadgate", "3kroot")
    assert body["record"]["post"] == ROOT
    assert body["record"]["hiddenReplies"] == [reply_uri]
    assert "allow" not in body["record"]


def test_unhide_keeps_the_gate_rules_and_drops_the_reply(adapter, api):
    reply_uri = "at://did:plc:anna/app.bsky.feed.post/3kreply"
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(reply_uri, reply_root=ROOT)]}
    )
    gate = {
        "$type": "app.bsky.feed.threadgate",
        "post": ROOT,
        "allow": [{"$type": "app.bsky.feed.threadgate#followingRule"}],
        "hiddenReplies": [reply_uri, "at://other"],
        "createdAt": "2026-11-01T00:00:00.000Z",
    }
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        200, json={"uri": "u", "cid": "c", "value": gate}
    )
    put = api.post("/xrpc/com.atproto.repo.putRecord").respond(
        200, json={"uri": "u", "cid": "c"}
    )

    adapter.hide(reply_uri, hidden=False)

    record = body_of(put)["record"]
    assert record["hiddenReplies"] == ["at://other"]
    assert record["allow"] == gate["allow"]


def test_hide_outside_own_threads_is_rejected(adapter, api):
    other_root = "at://did:plc:bo/app.bsky.feed.post/3kother"
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(PARENT, reply_root=other_root)]}
    )

    with pytest.raises(Rejected) as caught:
        adapter.hide(PARENT)

    assert "egne tråde" in caught.value.message


def test_pin_sets_pinned_post_and_keeps_the_other_profile_fields(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(ROOT, author=DID)]}
    )
    profile = {
        "$type": "app.bsky.actor.profile",
        "displayName": "Københavns Kommune",
        "description": "Nyt fra kommunen",
        "avatar": {"$type": "blob", "ref": {"$link": "bafk"}, "size": 10},
    }
    get = api.get("/xrpc/com.atproto.repo.getRecord").respond(
        200, json={"uri": "u", "cid": "cid-profile", "value": profile}
    )
    put = api.post("/xrpc/com.atproto.repo.putRecord").respond(
        200, json={"uri": "u", "cid": "c"}
    )

    adapter.pin(ROOT)

    assert get.calls.last.request.url.params["rkey"] == "self"
    body = body_of(put)
    assert (body["collection"], body["rkey"]) == ("app.bsky.actor.profile", "self")
    assert body["swapRecord"] == "cid-profile"
    assert body["record"] == {
        **profile,
        "pinnedPost": {"uri": ROOT, "cid": "cid-root"},
    }


def test_unpin_removes_pinned_post_only_when_it_is_that_post(adapter, api):
    profile = {
        "$type": "app.bsky.actor.profile",
        "displayName": "Københavns Kommune",
        "pinnedPost": {"uri": ROOT, "cid": "cid-root"},
    }
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        200, json={"uri": "u", "cid": "cid-profile", "value": profile}
    )
    put = api.post("/xrpc/com.atproto.repo.putRecord").respond(
        200, json={"uri": "u", "cid": "c"}
    )

    adapter.pin(f"at://{DID}/app.bsky.feed.post/3kandet", pinned=False)
    assert put.call_count == 0

    adapter.pin(ROOT, pinned=False)
    assert body_of(put)["record"] == {
        "$type": "app.bsky.actor.profile",
        "displayName": "Københavns Kommune",
    }


def test_pin_without_a_profile_record_creates_one(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(ROOT, author=DID)]}
    )
    api.get("/xrpc/com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    put = api.post("/xrpc/com.atproto.repo.putRecord").respond(
        200, json={"uri": "u", "cid": "c"}
    )

    adapter.pin(ROOT)

    body = body_of(put)
    assert "swapRecord" not in body
    assert body["record"] == {
        "$type": "app.bsky.actor.profile",
        "pinnedPost": {"uri": ROOT, "cid": "cid-root"},
    }


def test_profile_changed_meanwhile_is_read_and_written_again(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(ROOT, author=DID)]}
    )
    api.get("/xrpc/com.atproto.repo.getRecord").mock(side_effect=[
        httpx.Response(200, json={"uri": "u", "cid": "cid-1", "value": {
            "$type": "app.bsky.actor.profile", "description": "Gammel"}}),
        httpx.Response(200, json={"uri": "u", "cid": "cid-2", "value": {
            "$type": "app.bsky.actor.profile", "description": "Ny"}}),
    ])
    put = api.post("/xrpc/com.atproto.repo.putRecord").mock(side_effect=[
        httpx.Response(400, json={"error": "InvalidSwap", "message": "Record was at"}),
        httpx.Response(200, json={"uri": "u", "cid": "c"}),
    ])

    adapter.pin(ROOT)

    body = body_of(put)
    assert body["swapRecord"] == "cid-2"
    assert body["record"]["description"] == "Ny"
    assert body["record"]["pinnedPost"]["uri"] == ROOT


def test_pinning_another_accounts_post_is_rejected(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200, json={"posts": [post_view(PARENT)]}
    )
    put = api.post("/xrpc/com.atproto.repo.putRecord")

    with pytest.raises(Rejected) as caught:
        adapter.pin(PARENT)

    assert "egne opslag" in caught.value.message
    assert put.call_count == 0


# -- reading ------------------------------------------------------------------------


def notification(uri, reason, indexed_at, *, reply_root=None):
    view = post_view(uri, reply_root=reply_root)
    return {**view, "reason": reason, "indexedAt": indexed_at, "isRead": False}


def test_inbox_reads_mentions_replies_and_quotes_after_since(adapter, api):
    route = api.get("/xrpc/app.bsky.notification.listNotifications").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "cursor": "page2",
                    "notifications": [
                        notification(
                            "at://a/app.bsky.feed.post/3",
                            "reply",
                            "2026-11-28T08:30:00.000Z",
                            reply_root=ROOT,
                        ),
                        notification(
                            "at://a/app.bsky.feed.post/2",
                            "like",
                            "2026-11-28T08:20:00.000Z",
                        ),
                    ],
                },
            ),
            httpx.Response(
                200,
                json={
                    "cursor": "page3",
                    "notifications": [
                        notification(
                            "at://a/app.bsky.feed.post/1",
                            "mention",
                            "2026-11-28T08:10:00.000Z",
                        ),
                        notification(
                            "at://a/app.bsky.feed.post/0",
                            "mention",
                            "2026-11-28T07:00:00.000Z",
                        ),
                    ],
                },
            ),
        ]
    )

    api.get("/xrpc/chat.bsky.convo.listConvos").respond(200, json={"convos": []})
    # A cursor from before chat was read: a plain time, the notifications'.
    page = adapter.fetch_inbox(since="2026-11-28T08:00:00.000Z")

    assert route.call_count == 2
    first_params = route.calls[0].request.url.params
    assert first_params.get_list("reasons") == ["mention", "reply", "quote"]
    assert route.calls[1].request.url.params["cursor"] == "page2"
    assert sorted((i.remote_id, i.kind) for i in page.items) == [
        ("at://a/app.bsky.feed.post/1", "mention"),
        ("at://a/app.bsky.feed.post/3", "reply"),
    ]
    reply = next(i for i in page.items if i.kind == "reply")
    assert reply.post_remote_id == ROOT
    assert reply.author_name == "Anna"
    assert json.loads(page.cursor)["n"] == "2026-11-28T08:30:00.000Z"


def test_first_inbox_read_takes_one_page(adapter, api):
    route = api.get("/xrpc/app.bsky.notification.listNotifications").respond(
        200,
        json={
            "cursor": "more",
            "notifications": [
                notification(
                    "at://a/app.bsky.feed.post/1", "quote", "2026-11-28T08:10:00.000Z"
                )
            ],
        },
    )

    api.get("/xrpc/chat.bsky.convo.listConvos").respond(200, json={"convos": []})
    page = adapter.fetch_inbox()

    assert route.call_count == 1
    assert page.items[0].kind == "mention"
    assert json.loads(page.cursor) == {"n": "2026-11-28T08:10:00.000Z", "m": {}}


def test_thread_flattens_replies_without_own_posts(adapter, api):
    api.get("/xrpc/app.bsky.feed.getPostThread").respond(
        200,
        json={
            "thread": {
                "post": post_view(ROOT, author=DID),
                "replies": [
                    {
                        "post": post_view(PARENT, reply_root=ROOT),
                        "replies": [
                            {
                                "post": post_view(
                                    f"at://{DID}/app.bsky.feed.post/3kown",
                                    reply_root=ROOT,
                                    author=DID,
                                )
                            },
                            {"$type": "app.bsky.feed.defs#blockedPost", "uri": "x"},
                        ],
                    }
                ],
            }
        },
    )

    page = adapter.fetch_thread(ROOT)

    assert [i.remote_id for i in page.items] == [PARENT]
    assert page.items[0].post_remote_id == ROOT


def test_metrics_read_followers_and_post_counts(adapter, api):
    api.get("/xrpc/app.bsky.actor.getProfile").respond(
        200, json={"did": DID, "handle": "kbh.bsky.social", "followersCount": 3400}
    )
    posts = api.get("/xrpc/app.bsky.feed.getPosts").respond(
        200,
        json={
            "posts": [
                post_view(ROOT, likeCount=5, repostCount=2, replyCount=1, quoteCount=0)
            ]
        },
    )

    snapshot = adapter.fetch_metrics((ROOT,))

    assert posts.calls.last.request.url.params.get_list("uris") == [ROOT]
    assert [(m.name, m.value, m.kind) for m in snapshot.account] == [
        ("followersCount", 3400, "followers")
    ]
    assert [(m.name, m.value) for m in snapshot.posts[ROOT]] == [
        ("likeCount", 5),
        ("repostCount", 2),
        ("replyCount", 1),
        ("quoteCount", 0),
    ]
    assert snapshot.posts[ROOT][0].api_version == "atproto-lexicons-2026-08"


def test_hashtag_search_uses_tag_and_since(adapter, api):
    newer = post_view("at://a/app.bsky.feed.post/9")
    newer["record"]["createdAt"] = "2026-11-28T08:40:00.000Z"
    newer["indexedAt"] = "2026-11-28T08:40:01.000Z"
    boundary = post_view("at://a/app.bsky.feed.post/8")
    boundary["record"]["createdAt"] = "2026-11-28T08:00:00.000Z"
    route = api.get("/xrpc/app.bsky.feed.searchPosts").respond(
        200, json={"posts": [newer, boundary]}
    )

    page = adapter.search_hashtag("#voreskbh", cursor="2026-11-28T08:00:00.000Z")

    params = route.calls.last.request.url.params
    assert params["q"] == "#voreskbh"
    assert params["tag"] == "voreskbh"
    assert params["sort"] == "latest"
    assert params["since"] == "2026-11-28T08:00:00.000Z"
    assert [p.remote_id for p in page.posts] == ["at://a/app.bsky.feed.post/9"]
    assert page.cursor == "2026-11-28T08:40:00.000Z"


def test_verify_returns_the_profile(adapter, api):
    api.get("/xrpc/app.bsky.actor.getProfile").respond(
        200,
        json={
            "did": DID,
            "handle": "kbh.bsky.social",
            "displayName": "Københavns Kommune",
            "followersCount": 3400,
        },
    )

    info = adapter.verify()

    assert (info.remote_id, info.handle, info.followers) == (
        DID,
        "kbh.bsky.social",
        3400,
    )
    assert info.profile_url == "https://bsky.app/profile/kbh.bsky.social"


# -- validation -----------------------------------------------------------------------


def test_300_graphemes_fit_and_301_do_not(adapter):
    assert adapter.validate(OutgoingPost(text="å" * 299 + "👍🏽")) == []

    problems = adapter.validate(OutgoingPost(text="ø" * 301))

    assert [p.code for p in problems] == ["text_too_long"]
    assert "højst 300" in problems[0].message
    assert problems[0].actual == 301


def test_3000_bytes_is_a_separate_limit(adapter):
    family = "👨‍👩‍👧‍👦"  # one grapheme, 25 bytes
    problems = adapter.validate(OutgoingPost(text=family * 121))

    assert [p.code for p in problems] == ["text_too_many_bytes"]
    assert problems[0].actual == 3025


def test_image_rules_are_checked(adapter):
    big = MediaItem(kind="image", mime_type="image/jpeg", data=b"x" * 2_000_001)
    ok = MediaItem(kind="image", mime_type="image/png", alt_text="a", data=b"x")
    video = MediaItem(kind="video", mime_type="video/mp4", alt_text="v")

    codes = [
        p.code
        for p in adapter.validate(
            OutgoingPost(text="x", media=(big, ok, ok, ok, ok, video))
        )
    ]

    assert sorted(codes) == sorted(
        [
            "video_not_supported",
            "too_many_images",
            "alt_text_missing",
            "image_too_large",
        ]
    )


def test_too_long_hashtag_is_refused(adapter):
    problems = adapter.validate(OutgoingPost(text="#" + "a" * 65))

    assert [p.code for p in problems] == ["hashtag_too_long"]


def test_without_a_stored_did_the_session_names_the_repo(api):
    conn = connection(did="")
    conn = Connection(
        network="bluesky",
        base_url=PDS,
        handle="kbh.bsky.social",
        credentials=conn.credentials,
    )
    adapter = BlueskyAdapter(conn, clock=lambda: NOW)
    api.get("/xrpc/com.atproto.server.getSession").respond(
        200, json={"did": DID, "handle": "kbh.bsky.social", "active": True}
    )
    route = api.post("/xrpc/com.atproto.repo.createRecord").respond(
        200, json=created("x")
    )

    adapter.publish(OutgoingPost(text="x"), idempotency_key="k")

    assert body_of(route)["repo"] == DID


# -- chat ---------------------------------------------------------------------


def chat_message(message_id, text, sent_at, sender):
    return {"$type": "chat.bsky.convo.defs#messageView", "id": message_id,
            "rev": message_id, "text": text, "sender": {"did": sender},
            "sentAt": sent_at}


def test_chat_messages_join_the_inbox_through_the_proxy_once(adapter, api):
    """Chat is asked with the chat service's proxy header; the account's own
    messages and deleted ones are left out; a second poll with the cursor
    returns only what is new, also at the same millisecond."""
    api.get("/xrpc/app.bsky.notification.listNotifications").respond(
        200, json={"notifications": []})
    citizen = "did:plc:borger"
    convos = api.get("/xrpc/chat.bsky.convo.listConvos").respond(200, json={
        "convos": [{"id": "c1", "members": [
            {"did": DID, "handle": "kommunen.bsky.social"},
            {"did": citizen, "handle": "ida.bsky.social", "displayName": "Ida"}],
            "lastMessage": chat_message("m3", "Tak", "2026-11-28T09:00:00.000Z",
                                        DID)}]})
    messages = api.get("/xrpc/chat.bsky.convo.getMessages").respond(200, json={
        "messages": [
            chat_message("m3", "Svar", "2026-11-28T09:00:00.000Z", DID),
            {"$type": "chat.bsky.convo.defs#deletedMessageView", "id": "m2",
             "sender": {"did": citizen}, "sentAt": "2026-11-28T08:59:00.000Z"},
            chat_message("m1", "Hej kommunen", "2026-11-28T08:58:00.000Z",
                         citizen),
            chat_message("m0", "Hvem?", "2026-11-28T08:58:00.000Z", citizen),
            "hostile", {"id": ["x"], "sender": "me"}]})

    first = adapter.fetch_inbox()

    assert convos.calls[0].request.headers["atproto-proxy"] == \
        "did:web:api.bsky.chat#bsky_chat"
    assert messages.calls[0].request.url.params["convoId"] == "c1"
    assert [(i.kind, i.remote_id, i.author_name, i.parent_remote_id)
            for i in first.items] == [("message", "m1", "Ida", "c1"),
                                      ("message", "m0", "Ida", "c1")]
    second = adapter.fetch_inbox(first.cursor)
    assert second.items == ()


def test_chat_without_the_app_passwords_dm_access_keeps_the_notifications(
    adapter, api
):
    api.get("/xrpc/app.bsky.notification.listNotifications").respond(200, json={
        "notifications": [notification("at://a/app.bsky.feed.post/1", "mention",
                                       "2026-11-28T08:10:00.000Z")]})
    api.get("/xrpc/chat.bsky.convo.listConvos").respond(
        400, json={"error": "InvalidToken", "message": "Bad token scope"})
    page = adapter.fetch_inbox()
    assert [i.kind for i in page.items] == ["mention"]


def test_chat_failing_otherwise_fails_the_poll(adapter, api):
    from kanal.channels.networks.errors import TransientError

    api.get("/xrpc/app.bsky.notification.listNotifications").respond(
        200, json={"notifications": []})
    api.get("/xrpc/chat.bsky.convo.listConvos").respond(
        502, json={"error": "UpstreamFailure", "message": "Upstream Failure"})
    with pytest.raises(TransientError):
        adapter.fetch_inbox()
