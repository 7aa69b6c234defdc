import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.core import SandboxConfig
from sandbox.x_openapi import OPERATIONS, SUBSET_PATH, XOpenAPI, extract_subset

FULL_SPEC_CANDIDATES = (
    Path(__file__).resolve().parents[3] / "shared" / "platforms" / "x-openapi.json",
    Path("/work/shared/platforms/x-openapi.json"),
)
TOKEN = "sandbox-x-access-token-kk"
ME = "1500000000000000001"


@pytest.fixture(scope="module")
def spec():
    return XOpenAPI.load()


@pytest.fixture
def client(tmp_path):
    app = create_app(SandboxConfig(db_path=str(tmp_path / "x.sqlite3"),
                                   networks=("x",), seed=5))
    with TestClient(app, base_url="http://127.0.0.1") as made:
        made.headers["Authorization"] = f"Bearer {TOKEN}"
        yield made


def checked(spec, response, *, path, method):
    """Check both halves of one exchange; return the problems."""
    request = response.request
    return spec.check_request(
        method, path, query=dict(request.url.params),
        content_type=request.headers.get("content-type", ""),
        body=request.read(),
    ) + spec.check_response(
        method, path, status=response.status_code,
        content_type=response.headers.get("content-type", ""),
        body=response.content,
    )


# -- the checker itself ------------------------------------------------------------


def test_subset_is_the_official_spec_cut_to_kanals_operations():
    full = next((p for p in FULL_SPEC_CANDIDATES if p.exists()), None)
    if full is None:
        pytest.skip("the full x-openapi.json is not beside the repository")
    expected = extract_subset(json.loads(full.read_text(encoding="utf-8")))
    assert json.loads(SUBSET_PATH.read_text(encoding="utf-8")) == expected


def test_every_operation_kanal_uses_is_in_the_subset(spec):
    assert spec.version == "2.167"
    for method, template in OPERATIONS:
        assert method in spec.spec["paths"][template]


def test_find_prefers_literal_paths(spec):
    assert spec.find("GET", "/2/users/me")[0] == "/2/users/me"
    assert spec.find("GET", "/2/users/42")[:1] == ("/2/users/{id}",)
    assert spec.find("GET", "/2/tweets/search/recent")[0] == "/2/tweets/search/recent"
    assert spec.find("PATCH", "/2/tweets") is None


def test_a_valid_post_request_passes(spec):
    body = json.dumps({"text": "Hej", "media": {"media_ids": ["1", "2"]},
                       "reply": {"in_reply_to_tweet_id": "99"}}).encode()
    assert spec.check_request("POST", "/2/tweets", content_type="application/json",
                              body=body) == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"text": "Hej", "colour": "blå"}, "Additional properties"),
        ({"text": "Hej", "media": {"media_ids": ["1", "2", "3", "4", "5"]}},
         "is too long"),
        ({"text": "Hej", "media": {"media_ids": []}}, "should be non-empty"),
        ({"text": "Hej", "reply": {"in_reply_to_tweet_id": "abc"}},
         "does not match"),
        ({"text": 5}, "is not of type 'string'"),
    ],
)
def test_invalid_post_requests_are_caught(spec, body, fragment):
    problems = spec.check_request("POST", "/2/tweets",
                                  content_type="application/json",
                                  body=json.dumps(body).encode())
    assert any(fragment in p for p in problems), problems


def test_responses_are_checked_against_their_schema(spec):
    good = json.dumps({"data": {"id": "123", "text": "Hej"}}).encode()
    assert spec.check_response("POST", "/2/tweets", status=201,
                               content_type="application/json", body=good) == []
    missing_text = json.dumps({"data": {"id": "123"}}).encode()
    problems = spec.check_response("POST", "/2/tweets", status=201,
                                   content_type="application/json",
                                   body=missing_text)
    assert any("'text' is a required property" in p for p in problems)
    metrics = {"data": {"id": "1", "public_metrics": {"followers_count": 1}}}
    problems = spec.check_response("GET", "/2/users/me", status=200,
                                   content_type="application/json",
                                   body=json.dumps(metrics).encode())
    assert any("'post_count' is a required property" in p for p in problems)


def test_problems_follow_the_spec_or_xs_about_blank_shape(spec):
    typed = {"title": "Invalid Request", "detail": "bad",
             "type": "https://api.x.com/2/problems/invalid-request"}
    blank = {"title": "Forbidden", "detail": "duplicate", "type": "about:blank",
             "status": 403}
    unknown = {"title": "Oops", "detail": "x",
               "type": "https://api.x.com/2/problems/no-such-kind"}
    ok = [spec.check_response("POST", "/2/tweets", status=400,
                              content_type="application/problem+json",
                              body=json.dumps(b).encode())
          for b in (typed, blank)]
    assert ok == [[], []]
    assert spec.check_response("POST", "/2/tweets", status=400,
                               content_type="application/problem+json",
                               body=json.dumps(unknown).encode())


def test_query_and_path_parameters_are_checked(spec):
    assert spec.check_request("GET", "/2/tweets/search/recent",
                              query={"query": "#voreskbh", "max_results": "100"}) == []
    problems = spec.check_request("GET", "/2/tweets/search/recent",
                                  query={"max_results": "5"})
    assert any("missing query parameter query" in p for p in problems)
    assert any("5 is less than the minimum of 10" in p for p in problems)
    assert spec.check_request("DELETE", "/2/tweets/12ab")
    assert spec.unknown_query_parameters(
        "GET", "/2/tweets", {"ids": "1", "tweet.fields": "public_metrics"}
    ) == {"tweet.fields"}


def test_multipart_append_needs_segment_index(spec):
    boundary = "kanalgraense"
    def form(*parts):
        body = b"".join(
            f"--{boundary}\r\nContent-Disposition: form-data; {p}\r\n\r\n".encode()
            + value + b"\r\n" for p, value in parts
        ) + f"--{boundary}--\r\n".encode()
        return body
    content_type = f"multipart/form-data; boundary={boundary}"
    media = ('name="media"; filename="a.jpg"', b"\xff\xd8\xff")
    good = form(('name="segment_index"', b"0"), media)
    assert spec.check_request("POST", "/2/media/upload/123/append",
                              content_type=content_type, body=good) == []
    bad = form(media)
    problems = spec.check_request("POST", "/2/media/upload/123/append",
                                  content_type=content_type, body=bad)
    assert any("'segment_index' is a required property" in p for p in problems)
    over = form(('name="segment_index"', b"1000"), media)
    assert spec.check_request("POST", "/2/media/upload/123/append",
                              content_type=content_type, body=over)


# -- the emulator's own answers -------------------------------------------------------


def test_emulator_answers_match_the_spec(spec, client):
    problems = []

    def call(method, path, **kwargs):
        response = client.request(method, f"/x{path}", **kwargs)
        problems.extend(checked(spec, response, path=path.split("?")[0],
                                method=method))
        return response

    me = call("GET", "/2/users/me", params={"user.fields": "public_metrics"})
    assert me.json()["data"]["public_metrics"]["followers_count"] == 2900
    init = call("POST", "/2/media/upload/initialize",
                json={"media_type": "image/png", "total_bytes": 12,
                      "media_category": "tweet_image"})
    media_id = init.json()["data"]["id"]
    call("POST", f"/2/media/upload/{media_id}/append",
         data={"segment_index": "0"},
         files={"media": ("a.png", b"\x89PNG\r\n\x1a\n0000", "image/png")})
    call("POST", f"/2/media/upload/{media_id}/finalize")
    call("GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id})
    call("POST", "/2/media/metadata",
         json={"id": media_id, "metadata": {"alt_text": {"text": "Havnen"}}})
    created = call("POST", "/2/tweets", json={"text": "Se havnen #voreskbh",
                                              "media": {"media_ids": [media_id]}})
    assert created.status_code == 201
    tweet_id = created.json()["data"]["id"]
    duplicate = call("POST", "/2/tweets", json={"text": "Se havnen #voreskbh"})
    assert duplicate.status_code == 403
    call("GET", "/2/tweets", params={"ids": f"{tweet_id},1", "tweet.fields":
                                     "public_metrics,created_at,attachments",
                                     "expansions": "attachments.media_keys"})
    call("GET", f"/2/tweets/{tweet_id}", params={"tweet.fields": "entities"})
    call("GET", f"/2/users/{ME}/mentions",
         params={"max_results": "5", "expansions": "author_id"})
    call("GET", f"/2/users/{ME}/tweets", params={"max_results": "5"})
    search = call("GET", "/2/tweets/search/recent",
                  params={"query": "#voreskbh", "max_results": "10",
                          "expansions": "author_id", "user.fields": "username"})
    assert search.json()["meta"]["result_count"] >= 1
    call("GET", f"/2/users/{ME}", params={"user.fields": "public_metrics"})
    call("GET", "/2/users/42")
    call("DELETE", f"/2/tweets/{tweet_id}")
    too_few = client.get("/x/2/tweets/search/recent",
                         params={"query": "x", "max_results": "5"})
    assert too_few.status_code == 400
    assert checked(spec, too_few, path="/2/tweets/search/recent", method="GET") == [
        "GET /2/tweets/search/recent query parameter max_results: 5 is less than "
        "the minimum of 10 (at .)"
    ]
    unauthorised = client.get("/x/2/users/me", headers={"Authorization": "Bearer no"})
    problems += checked(spec, unauthorised, path="/2/users/me", method="GET")
    assert unauthorised.status_code == 401
    assert problems == []


def test_dm_events_answer_matches_the_spec_and_pages(spec, client):
    for number in range(3):
        created = client.post("/_sandbox/citizens/item", json={
            "network": "x", "kind": "message", "account": ME,
            "text": f"Besked {number}", "author_id": "citizen-ida",
            "author_name": "Ida Holm"})
        assert created.status_code == 201
    fields = "id,event_type,text,created_at,dm_conversation_id"
    first = client.get("/x/2/dm_events", params={
        "max_results": "2", "event_types": "MessageCreate",
        "dm_event.fields": fields, "expansions": "sender_id",
        "user.fields": "name,username"})
    assert checked(spec, first, path="/2/dm_events", method="GET") == []
    body = first.json()
    assert [e["text"] for e in body["data"]] == ["Besked 2", "Besked 1"]
    sender = body["data"][0]["sender_id"]
    assert body["includes"]["users"][0]["id"] == sender
    assert body["includes"]["users"][0]["name"] == "Ida Holm"
    low, high = sorted((sender, ME), key=int)
    assert body["data"][0]["dm_conversation_id"] == f"{low}-{high}"
    assert body["meta"]["result_count"] == 2
    second = client.get("/x/2/dm_events", params={
        "max_results": "2", "pagination_token": body["meta"]["next_token"]})
    assert checked(spec, second, path="/2/dm_events", method="GET") == []
    assert [e["text"] for e in second.json()["data"]] == ["Besked 0"]
    assert set(second.json()["data"][0]) == {"id", "event_type", "text"}


def test_dm_events_refuses_a_field_x_does_not_know(spec, client):
    response = client.get("/x/2/dm_events", params={"dm_event.fields": "likes"})
    assert response.status_code == 400
    assert "dm_event.fields" in response.json()["errors"][0]["message"]
    assert spec.check_response("GET", "/2/dm_events", status=400,
                               content_type=response.headers["content-type"],
                               body=response.content) == []
