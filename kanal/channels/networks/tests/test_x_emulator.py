"""The X emulator at HTTP level: state machines, limits and every fault kind."""

import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from kanal.channels.networks.base import Connection, OutgoingPost
from kanal.channels.networks.x import XAdapter

pytestmark = pytest.mark.sandbox

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 60


@pytest.fixture
def account(sandbox):
    return sandbox.provision("x", followers=500)


@pytest.fixture
def api(sandbox, account):
    client = httpx.Client(
        base_url=sandbox.base_url("x"),
        headers={"Authorization": f"Bearer {account.tokens['access_token']}"},
        timeout=5,
    )
    yield client
    client.close()


def upload(api, data=JPEG, media_type="image/jpeg"):
    media_id = api.post("/2/media/upload/initialize", json={
        "media_type": media_type, "total_bytes": len(data),
        "media_category": "tweet_image"}).json()["data"]["id"]
    api.post(f"/2/media/upload/{media_id}/append", data={"segment_index": "0"},
             files={"media": ("f", data, "application/octet-stream")})
    return media_id


def tweet(api, text=None, **body):
    return api.post("/2/tweets", json={"text": text or f"Opslag {uuid.uuid4().hex}",
                                       **body})


# -- media upload --------------------------------------------------------------------


def test_media_cannot_be_posted_before_it_is_finalized(api):
    media_id = upload(api)
    early = tweet(api, media={"media_ids": [media_id]})
    assert early.status_code == 400
    assert early.json()["errors"][0]["message"] == "Your media IDs are invalid."
    assert api.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert tweet(api, media={"media_ids": [media_id]}).status_code == 201
    again = api.post(f"/2/media/upload/{media_id}/append", data={"segment_index": "1"},
                     files={"media": ("f", b"1", "application/octet-stream")})
    assert again.status_code == 400


def test_finalize_checks_the_byte_count(api):
    media_id = api.post("/2/media/upload/initialize", json={
        "media_type": "image/jpeg", "total_bytes": 1000}).json()["data"]["id"]
    api.post(f"/2/media/upload/{media_id}/append", data={"segment_index": "0"},
             files={"media": ("f", JPEG, "application/octet-stream")})
    answer = api.post(f"/2/media/upload/{media_id}/finalize")
    assert answer.status_code == 400
    assert "do not add up" in answer.json()["errors"][0]["message"]


def test_images_over_5_mb_are_refused_at_initialize(api):
    answer = api.post("/2/media/upload/initialize", json={
        "media_type": "image/png", "total_bytes": 5 * 1024 * 1024 + 1,
        "media_category": "tweet_image"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"


def test_media_ids_expire_after_24_hours(sandbox, api, account):
    media_id = upload(api)
    api.post(f"/2/media/upload/{media_id}/finalize")
    assert tweet(api, media={"media_ids": [media_id]}).status_code == 201
    sandbox.advance_clock(24 * 3600 + 60)
    # The 2-hour access token expired too: give the same account a new one.
    again = sandbox.provision("x", account_id=account.account_id,
                              handle=account.handle)
    late = httpx.post(sandbox.base_url("x", "/2/tweets"), json={
        "text": "for sent", "media": {"media_ids": [media_id]}},
        headers={"Authorization": f"Bearer {again.tokens['access_token']}"})
    assert late.status_code == 400
    assert late.json()["errors"][0]["message"] == "Your media IDs are invalid."


def test_someone_elses_media_cannot_be_attached(sandbox, api):
    other = sandbox.provision("x")
    media_id = upload(api)
    api.post(f"/2/media/upload/{media_id}/finalize")
    answer = httpx.post(sandbox.base_url("x", "/2/tweets"), json={
        "text": "lånt billede", "media": {"media_ids": [media_id]}},
        headers={"Authorization": f"Bearer {other.tokens['access_token']}"})
    assert answer.status_code == 400


def test_the_older_command_form_still_uploads(api):
    init = api.post("/2/media/upload?" + urlencode({
        "command": "INIT", "media_type": "image/jpeg", "total_bytes": len(JPEG)}))
    media_id = init.json()["data"]["id"]
    api.post("/2/media/upload?" + urlencode({
        "command": "APPEND", "media_id": media_id, "segment_index": 0}),
        files={"media": ("f", JPEG, "application/octet-stream")})
    done = api.post("/2/media/upload?" + urlencode({
        "command": "FINALIZE", "media_id": media_id}))
    assert done.status_code == 200
    assert tweet(api, media={"media_ids": [media_id]}).status_code == 201


def test_one_shot_upload(api):
    answer = api.post("/2/media/upload", data={"media_category": "tweet_image"},
                      files={"media": ("f.jpg", JPEG, "image/jpeg")})
    assert answer.status_code == 200
    assert answer.json()["data"]["media_key"].startswith("3_")


# -- posts, reading and search -------------------------------------------------------


def test_unknown_fields_and_mutually_exclusive_options_are_refused(api):
    assert tweet(api, colour="blå").status_code == 400
    both = tweet(api, quote_tweet_id="1", poll={"options": ["ja", "nej"],
                                                "duration_minutes": 60})
    assert both.status_code == 400


def test_mentions_page_with_next_token_and_since_id(sandbox, api, account):
    made = [sandbox.citizen("x", f"Spørgsmål {n}", account=account.account_id,
                            kind="mention")["item_id"] for n in range(7)]
    first = api.get(f"/2/users/{account.account_id}/mentions",
                    params={"max_results": 5}).json()
    assert [t["id"] for t in first["data"]] == made[::-1][:5]
    second = api.get(f"/2/users/{account.account_id}/mentions", params={
        "max_results": 5, "pagination_token": first["meta"]["next_token"]}).json()
    assert [t["id"] for t in second["data"]] == made[::-1][5:]
    assert "next_token" not in second["meta"]
    newer = api.get(f"/2/users/{account.account_id}/mentions", params={
        "since_id": made[4]}).json()
    assert [t["id"] for t in newer["data"]] == [made[6], made[5]]
    assert api.get(f"/2/users/{account.account_id}/mentions",
                   params={"max_results": 4}).status_code == 400


def test_search_operators(sandbox, api, account):
    tag = f"kbh{uuid.uuid4().hex[:6]}"
    post_id = tweet(api, f"Vores post #{tag}").json()["data"]["id"]
    reply = sandbox.citizen("x", f"Svar #{tag}", parent_id=post_id)
    sandbox.citizen("x", f"Andet #{tag}", kind="post", account="citizen-b")

    def ids(query):
        body = api.get("/2/tweets/search/recent", params={"query": query}).json()
        return {t["id"] for t in body.get("data", [])}

    assert len(ids(f"#{tag}")) == 3
    assert ids(f"#{tag} from:{account.handle}") == {post_id}
    assert ids(f"#{tag} -from:{account.handle} is:reply") == {reply["item_id"]}
    assert ids(f"conversation_id:{post_id}") == {post_id, reply["item_id"]}
    assert ids(f"to:{account.handle}") == {reply["item_id"]}
    odd = api.get("/2/tweets/search/recent", params={"query": "a OR b"})
    assert odd.status_code == 400


def test_unknown_field_names_are_refused_like_x_does(api):
    answer = api.get("/2/users/me", params={"user.fields": "shoe_size"})
    assert answer.status_code == 400
    assert "shoe_size" in answer.json()["errors"][0]["message"]


def test_lookup_of_a_deleted_post_is_a_partial_error(api):
    kept = tweet(api).json()["data"]["id"]
    gone = tweet(api).json()["data"]["id"]
    api.delete(f"/2/tweets/{gone}")
    body = api.get("/2/tweets", params={"ids": f"{kept},{gone}"}).json()
    assert [t["id"] for t in body["data"]] == [kept]
    assert body["errors"][0]["resource_id"] == gone
    assert body["errors"][0]["type"].endswith("/resource-not-found")


# -- OAuth -------------------------------------------------------------------------


def test_authorization_code_lives_30_seconds(sandbox, account):
    consent = httpx.get(sandbox.base_url("x", "/i/oauth2/authorize"), params={
        "response_type": "code", "client_id": "c", "redirect_uri": "http://r/cb",
        "state": "s", "code_challenge": "abc", "code_challenge_method": "plain",
        "login": account.handle})
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    sandbox.advance_clock(31)
    late = httpx.post(sandbox.base_url("x", "/2/oauth2/token"), data={
        "grant_type": "authorization_code", "code": code, "client_id": "c",
        "redirect_uri": "http://r/cb", "code_verifier": "abc"})
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_request"


def test_token_endpoint_needs_a_client_id(sandbox, account):
    answer = httpx.post(sandbox.base_url("x", "/2/oauth2/token"), data={
        "grant_type": "refresh_token",
        "refresh_token": account.tokens["refresh_token"]})
    assert answer.status_code == 400
    assert "client_id" in answer.json()["error_description"]


# -- every fault kind -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "header", "detail"),
    [
        ("rate_limit", 429, "x-rate-limit-reset", "Too Many Requests"),
        ("quota_exhausted", 429, "x-user-limit-24hour-reset", "Too Many Requests"),
        ("server_error", 500, None, "Something went wrong"),
        ("expired_token", 401, None, "Unauthorized"),
        ("policy_block", 403, None, "might be automated"),
        ("duplicate", 403, None, "duplicate content"),
        ("invalid_media", 400, None, "One or more parameters"),
    ],
)
def test_fault_kinds_use_xs_envelope(sandbox, api, account, kind, status, header,
                                     detail):
    sandbox.fault("x", kind, operation="publish", account=account.account_id)
    answer = tweet(api)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert detail in answer.json()["detail"]
    if header:
        assert int(answer.headers[header]) > datetime.now(UTC).timestamp()
    assert sandbox.published("x", account.account_id) == []


def test_latency_fault_delays_then_answers(sandbox, api, account):
    sandbox.fault("x", "latency", operation="verify", delay_ms=300,
                  account=account.account_id)
    started = time.monotonic()
    assert api.get("/2/users/me").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_timeout_after_create_applies_the_write_first(sandbox, account):
    # The answer comes far later than the client waits, however loaded the
    # machine; the write is then looked for until it shows (a slow emulator
    # may still be applying it when the client gives up).
    sandbox.fault("x", "timeout_after_create", operation="publish", delay_ms=10_000,
                  account=account.account_id)
    text = f"Langsomt svar {uuid.uuid4().hex}"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(sandbox.base_url("x", "/2/tweets"), json={"text": text},
                   headers={"Authorization":
                            f"Bearer {account.tokens['access_token']}"},
                   timeout=1.0)
    deadline = time.monotonic() + 10
    while not (log := sandbox.published("x", account.account_id)):
        assert time.monotonic() < deadline, "the write was not applied"
        time.sleep(0.05)
    assert [r["text"] for r in log] == [text]


def test_server_error_can_be_a_503(sandbox, api, account):
    sandbox.fault("x", "server_error", operation="verify", account=account.account_id,
                  params={"status": 503})
    answer = api.get("/2/users/me")
    assert answer.status_code == 503
    assert answer.json()["title"] == "Service Unavailable"


def test_search_refuses_a_cursor_older_than_seven_days(sandbox, account):
    old = sandbox.citizen("x", "Gammel #voreskbh", kind="post", account="citizen-g")
    sandbox.advance_clock(8 * 24 * 3600)
    again = sandbox.provision("x", account_id=account.account_id,
                              handle=account.handle)
    token = again.tokens["access_token"]
    refused = httpx.get(sandbox.base_url("x", "/2/tweets/search/recent"),
                        params={"query": "#voreskbh", "since_id": old["item_id"]},
                        headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 400
    assert "since_id" in refused.json()["errors"][0]["message"]
    fresh = sandbox.citizen("x", "Ny #voreskbh", kind="post", account="citizen-n")
    adapter = XAdapter(Connection(
        network="x", base_url=sandbox.base_url("x"), account_id=account.account_id,
        handle=account.handle, credentials={"access_token": token}))
    page = adapter.search_hashtag("voreskbh", cursor=old["item_id"])
    assert [p.remote_id for p in page.posts] == [fresh["item_id"]]


def test_malformed_bodies_are_a_400_not_a_crash(api):
    assert tweet(api, media=["1"]).status_code == 400
    assert tweet(api, reply="1").status_code == 400
    assert api.post("/2/tweets", content=b"not json",
                    headers={"content-type": "application/json"}).status_code == 400


def test_bodies_that_break_the_openapi_schema_are_refused(sandbox, api, account):
    five = tweet(api, media={"media_ids": ["1", "2", "3", "4", "5"]})
    assert five.status_code == 400
    assert "is too long" in five.json()["errors"][0]["message"]
    post_id = tweet(api).json()["data"]["id"]
    reply = sandbox.citizen("x", "Et svar", parent_id=post_id)
    hidden = api.put(f"/2/tweets/{reply['item_id']}/hidden", json={"hidden": "ja"})
    assert hidden.status_code == 400
    assert "is not of type 'boolean'" in hidden.json()["errors"][0]["message"]
    alt = api.post("/2/media/metadata", json={
        "id": "1", "metadata": {"alt_text": {"text": "x" * 1001}}})
    assert alt.status_code == 400


def test_a_posts_web_url_leads_to_the_citizen_page(sandbox, account):
    adapter = XAdapter(Connection(
        network="x", base_url=sandbox.base_url("x"), account_id=account.account_id,
        handle=account.handle,
        credentials={"access_token": account.tokens["access_token"]}))
    result = adapter.publish(OutgoingPost(text=f"Se mig {uuid.uuid4().hex}"),
                             idempotency_key="k")
    assert result.url == sandbox.base_url(
        "x", f"/{account.handle}/status/{result.remote_id}")
    page = httpx.get(result.url, follow_redirects=True)
    assert page.status_code == 200
    assert urlsplit(str(page.url)).path == f"/_sandbox/page/x/{account.account_id}"
