"""The Bluesky emulator by raw HTTP (PLATFORMS.md §5): sessions with an
access JWT of 120 minutes and rotating refresh tokens, ``createRecord`` with
the lexicon's 300 graphemes / 3000 bytes and a client-chosen ``rkey`` that
makes a retry safe, replies with strong refs, deletes, ``getPosts`` counts,
notifications, ``{"error", "message"}`` bodies and the ``RateLimit-*``
headers."""

from datetime import UTC, datetime

import pytest

from .emulator_client import EmulatorClient

DID = "did:plc:kbhkommune7x2q4m5n6p3r"
HANDLE = "kobenhavn.bsky.social"
POST = "app.bsky.feed.post"


@pytest.fixture
def bs(tmp_path):
    return EmulatorClient(tmp_path, "bluesky", account=DID,
                          token="sandbox-bluesky-access-jwt-kk", root="/xrpc")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def create(bs, text="Havnebadet åbner i dag", *, rkey=None, **record):
    body = {"repo": DID, "collection": POST,
            "record": {"$type": POST, "text": text, "createdAt": now_iso(),
                       **record}}
    if rkey:
        body["rkey"] = rkey
    return bs.post("/com.atproto.repo.createRecord", json=body)


def error(response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error", "message"}, body
    return response.status_code, body["error"]


def test_a_session_from_the_app_password(bs):
    made = bs.post("/com.atproto.server.createSession", token="",
                   json={"identifier": HANDLE, "password": "kbhk-demo-pass-word"})
    assert made.status_code == 200, made.text
    session = made.json()
    assert session["did"] == DID and session["handle"] == HANDLE
    assert session["accessJwt"].count(".") == 2
    assert session["refreshJwt"] != session["accessJwt"]
    wrong = bs.post("/com.atproto.server.createSession", token="",
                    json={"identifier": HANDLE, "password": "gæt"})
    assert error(wrong) == (401, "AuthenticationRequired")


def test_the_access_jwt_expires_after_120_minutes_and_refresh_rotates(bs):
    session = bs.post("/com.atproto.server.createSession", token="", json={
        "identifier": HANDLE, "password": "kbhk-demo-pass-word"}).json()
    access, refresh = session["accessJwt"], session["refreshJwt"]
    assert bs.get("/com.atproto.server.getSession", token=access).status_code == 200
    bs.advance(121 * 60)
    assert error(bs.get("/com.atproto.server.getSession", token=access)) == (
        400, "ExpiredToken")
    renewed = bs.post("/com.atproto.server.refreshSession", token=refresh)
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()["accessJwt"]
    assert bs.get("/com.atproto.server.getSession", token=fresh).status_code == 200
    reused = bs.post("/com.atproto.server.refreshSession", token=refresh)
    assert reused.status_code == 400
    assert error(bs.get("/app.bsky.feed.getPosts", token="")) == (
        401, "AuthenticationRequired")


def test_a_post_with_a_chosen_rkey_is_made_once(bs):
    made = create(bs, rkey="3kanalpub41a")
    assert made.status_code == 200, made.text
    assert made.json()["uri"] == f"at://{DID}/{POST}/3kanalpub41a"
    assert made.json()["cid"]
    again = create(bs, rkey="3kanalpub41a")
    assert error(again) == (400, "InvalidRequest")
    assert again.json()["message"] == "Record already exists"
    assert [r.item_id for r in bs.published()] == [made.json()["uri"]]
    record = bs.get("/com.atproto.repo.getRecord", params={
        "repo": DID, "collection": POST, "rkey": "3kanalpub41a"})
    assert record.json()["value"]["text"] == "Havnebadet åbner i dag"


def test_text_is_held_to_300_graphemes_and_3000_bytes(bs):
    assert create(bs, "å" * 300).status_code == 200
    assert error(create(bs, "å" * 301)) == (400, "InvalidRequest")
    family = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 25 bytes
    assert error(create(bs, family * 121)) == (400, "InvalidRequest")
    assert create(bs, family * 120).status_code == 200
    no_time = bs.post("/com.atproto.repo.createRecord", json={
        "repo": DID, "collection": POST, "record": {"$type": POST, "text": "Hej"}})
    assert error(no_time) == (400, "InvalidRequest")
    assert len(bs.published()) == 2


def test_a_reply_names_its_root_and_parent_and_shows_in_the_thread(bs):
    post = create(bs).json()
    comment = bs.citizen("Hvornår lukker det?", parent_id=post["uri"])
    parent = bs.get("/app.bsky.feed.getPosts", params={"uris": comment}).json()[
        "posts"][0]
    reply = create(bs, "Klokken 19.", reply={
        "root": {"uri": post["uri"], "cid": post["cid"]},
        "parent": {"uri": parent["uri"], "cid": parent["cid"]}})
    assert reply.status_code == 200, reply.text
    thread = bs.get("/app.bsky.feed.getPostThread", params={"uri": post["uri"]})
    replies = thread.json()["thread"]["replies"]
    assert [r["post"]["uri"] for r in replies] == [comment]
    assert [r["post"]["uri"] for r in replies[0]["replies"]] == [
        reply.json()["uri"]]
    assert [r.kind for r in bs.published()] == ["post", "reply"]


def test_a_deleted_post_is_no_longer_read_and_counts_are_shown(bs):
    post = create(bs, rkey="3kanalpub42a").json()
    bs.citizen("Dejligt!", parent_id=post["uri"])
    [view] = bs.get("/app.bsky.feed.getPosts", params={"uris": post["uri"]}).json()[
        "posts"]
    assert view["replyCount"] == 1
    assert {"likeCount", "repostCount", "quoteCount"} <= set(view)
    deleted = bs.post("/com.atproto.repo.deleteRecord", json={
        "repo": DID, "collection": POST, "rkey": "3kanalpub42a"})
    assert deleted.status_code == 200, deleted.text
    assert bs.get("/app.bsky.feed.getPosts", params={"uris": post["uri"]}).json() \
        == {"posts": []}


def test_mentions_and_replies_are_notifications_with_their_reason(bs):
    post = create(bs).json()
    reply = bs.citizen("Tak for info", parent_id=post["uri"])
    mention = bs.citizen(f"@{HANDLE} åbner biblioteket?")
    notes = bs.get("/app.bsky.notification.listNotifications").json()[
        "notifications"]
    reasons = {n["uri"]: n["reason"] for n in notes}
    assert (reasons[reply], reasons[mention]) == ("reply", "mention")
    assert set(reasons.values()) <= {"reply", "mention", "quote"}
    only = bs.get("/app.bsky.notification.listNotifications",
                  params={"reasons": "mention"}).json()["notifications"]
    assert mention in [n["uri"] for n in only]
    assert {n["reason"] for n in only} == {"mention"}


def test_every_answer_carries_the_rate_limit_and_a_throttle_is_429(bs):
    first = bs.get("/com.atproto.server.getSession")
    assert first.headers["ratelimit-limit"] == "3000"
    assert first.headers["ratelimit-remaining"] == "2999"
    assert first.headers["ratelimit-policy"] == "3000;w=300"
    assert int(first.headers["ratelimit-reset"]) > datetime.now(UTC).timestamp()
    bs.fault("rate_limit", "publish")
    throttled = create(bs)
    assert error(throttled) == (429, "RateLimitExceeded")
    assert throttled.headers["ratelimit-remaining"] == "0"
    assert bs.published() == []


def test_an_image_needs_alt_text_and_an_uploaded_blob(bs):
    jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 60
    uploaded = bs.post("/com.atproto.repo.uploadBlob", content=jpeg,
                       headers={"Content-Type": "image/jpeg"})
    assert uploaded.status_code == 200, uploaded.text
    blob = uploaded.json()["blob"]
    assert (blob["$type"], blob["mimeType"], blob["size"]) == (
        "blob", "image/jpeg", len(jpeg))
    embed = {"$type": "app.bsky.embed.images", "images": [{"image": blob}]}
    assert error(create(bs, "Billede", embed=embed)) == (400, "InvalidRequest")
    embed["images"][0]["alt"] = "Børn ved havnebadet"
    assert create(bs, "Billede", embed=embed).status_code == 200


@pytest.mark.parametrize(("method", "params"), [
    ("/app.bsky.notification.listNotifications", {"limit": "mange"}),
    ("/app.bsky.notification.listNotifications", {"cursor": "næste"}),
    ("/app.bsky.feed.getPostThread", {"uri": f"at://{DID}/{POST}/x", "depth": "dyb"}),
    ("/app.bsky.feed.searchPosts", {"q": "voreskbh", "limit": "10.5"}),
])
def test_a_parameter_of_the_wrong_type_is_invalid_request(bs, method, params):
    refused = bs.get(method, params=params)
    assert error(refused) == (400, "InvalidRequest")
    assert "must be an integer" in refused.json()["message"]
