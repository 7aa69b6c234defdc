"""The X emulator by raw HTTP (PLATFORMS.md §3): ``POST /2/tweets`` answering
201 with the post, 280 weighted characters (links 23, emoji 2), the 403 for a
duplicate (X has no idempotency key: that 403 is the only guard), replies,
deletes, lookups with partial errors, mentions, problem bodies, and the
``x-rate-limit-*`` and ``x-user-limit-24hour-*`` headers with their 429."""

import time

import pytest

from .emulator_client import EmulatorClient

ME = "1500000000000000001"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


@pytest.fixture
def xc(tmp_path):
    return EmulatorClient(tmp_path, "x", account=ME,
                          token="sandbox-x-access-token-kk", root="/2")


def tweet(xc, text="Havnebadet åbner i dag #voreskbh", **fields):
    return xc.post("/tweets", json={"text": text, **fields})


def test_a_post_is_created_with_201_and_the_limits_in_its_headers(xc):
    made = tweet(xc)
    assert made.status_code == 201, made.text
    data = made.json()["data"]
    assert data["id"].isdigit() and data["text"] == "Havnebadet åbner i dag #voreskbh"
    history = data.get("edit_history_post_ids") or data.get("edit_history_tweet_ids")
    assert history == [data["id"]]
    headers = made.headers
    assert (headers["x-rate-limit-limit"], headers["x-rate-limit-remaining"]) == (
        "100", "99")
    assert int(headers["x-rate-limit-reset"]) > time.time()
    assert int(headers["x-user-limit-24hour-remaining"]) < int(
        headers["x-user-limit-24hour-limit"])
    assert [(r.item_id, r.kind) for r in xc.published()] == [(data["id"], "post")]


def test_the_same_text_again_is_a_403_duplicate_and_not_posted(xc):
    first = tweet(xc).json()["data"]["id"]
    again = tweet(xc)
    assert again.status_code == 403
    assert again.json() == {"title": "Forbidden", "detail": DUPLICATE,
                            "type": "about:blank", "status": 403}
    assert [r.item_id for r in xc.published()] == [first]


def test_text_is_weighted_links_count_23_and_emoji_2(xc):
    link = "https://www.kk.dk/" + "a" * 100
    assert tweet(xc, "a" * 280).status_code == 201
    assert tweet(xc, "b" * 281).status_code == 403
    assert tweet(xc, "🌊" * 140).status_code == 201
    assert tweet(xc, "🌊" * 141).status_code == 403
    assert tweet(xc, "c" * 256 + " " + link).status_code == 201
    assert tweet(xc, "d" * 257 + " " + link).status_code == 403
    assert len(xc.published()) == 3


def test_a_reply_answers_a_visible_post(xc):
    mention = xc.citizen("@kobenhavn hvornår åbner biblioteket?")
    reply = tweet(xc, "Klokken 10.", reply={"in_reply_to_tweet_id": mention})
    assert reply.status_code == 201, reply.text
    assert [r.kind for r in xc.published()] == ["reply"]
    missing = tweet(xc, "Svar", reply={"in_reply_to_tweet_id": "1"})
    assert missing.status_code == 400
    assert missing.json()["type"] == "https://api.x.com/2/problems/invalid-request"


def test_a_deleted_post_is_a_partial_error_in_a_lookup(xc):
    kept = tweet(xc, "Første opslag").json()["data"]["id"]
    gone = tweet(xc, "Andet opslag").json()["data"]["id"]
    deleted = xc.delete(f"/tweets/{gone}")
    assert (deleted.status_code, deleted.json()) == (200, {"data": {"deleted": True}})
    lookup = xc.get("/tweets", params={"ids": f"{kept},{gone}"})
    assert lookup.status_code == 200
    assert [t["id"] for t in lookup.json()["data"]] == [kept]
    [problem] = lookup.json()["errors"]
    assert problem["type"] == "https://api.x.com/2/problems/resource-not-found"
    assert problem["resource_id"] == gone


def test_only_the_author_may_delete(xc):
    mention = xc.citizen("@kobenhavn hej")
    refused = xc.delete(f"/tweets/{mention}")
    assert refused.status_code == 403
    assert xc.get(f"/tweets/{mention}").json()["data"]["id"] == mention


def test_mentions_are_listed_newest_first_within_max_results(xc):
    first = xc.citizen("@kobenhavn første spørgsmål")
    second = xc.citizen("@kobenhavn andet spørgsmål")
    listed = xc.get(f"/users/{ME}/mentions", params={"max_results": 5})
    assert listed.status_code == 200, listed.text
    ids = [t["id"] for t in listed.json()["data"]]
    assert ids.index(second) < ids.index(first)
    assert listed.json()["meta"]["newest_id"] == ids[0]
    too_few = xc.get(f"/users/{ME}/mentions", params={"max_results": 4})
    assert too_few.status_code == 400
    newer = xc.get(f"/users/{ME}/mentions", params={"since_id": first}).json()
    assert [t["id"] for t in newer["data"]] == [second]


def test_an_unknown_token_is_a_401_problem(xc):
    refused = xc.get("/users/me", token="sandbox-x-stolen")
    assert refused.status_code == 401
    assert refused.json()["title"] == "Unauthorized"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert xc.post("/tweets", json={"text": "Hej"},
                   token="sandbox-x-stolen").status_code == 401
    assert xc.published() == []


def test_the_15_minute_limit_ends_in_a_429_until_it_resets(xc):
    answers = xc.calls(76, "GET", "/users/me")
    assert answers[74].status_code == 200
    assert answers[74].headers["x-rate-limit-remaining"] == "0"
    over = answers[75]
    assert over.status_code == 429
    assert over.json() == {"title": "Too Many Requests", "detail": "Too Many Requests",
                           "type": "about:blank", "status": 429}
    assert int(over.headers["x-rate-limit-reset"]) > time.time()
    xc.advance(15 * 60 + 1)
    assert xc.get("/users/me").status_code == 200


def test_a_post_made_before_a_lost_answer_is_found_on_the_timeline(xc):
    xc.fault("server_error_after_create", "publish")
    lost = tweet(xc, "Havnebadet lukker kl. 19")
    assert lost.status_code >= 500
    timeline = xc.get(f"/users/{ME}/tweets", params={"max_results": 5}).json()
    assert timeline["data"][0]["text"] == "Havnebadet lukker kl. 19"
    assert tweet(xc, "Havnebadet lukker kl. 19").status_code == 403
    assert len(xc.published()) == 1
