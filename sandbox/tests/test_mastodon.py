"""The Mastodon emulator by raw HTTP (PLATFORMS.md §4): statuses with the
``Idempotency-Key`` kept for an hour, 500 characters with links counted as 23,
replies and their context, deletes, mention notifications, the instance's
limits, media processing, ``{"error": …}`` bodies and the 300-per-5-minutes
limit with its ``X-RateLimit-*`` headers."""

from datetime import datetime

import pytest

from .emulator_client import EmulatorClient

ACCOUNT = "109000000000000001"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 60


@pytest.fixture
def md(tmp_path):
    return EmulatorClient(tmp_path, "mastodon", account=ACCOUNT,
                          token="sandbox-mastodon-token-kk")


def toot(md, text="Havnebadet åbner i dag #voreskbh", **fields):
    return md.post("/api/v1/statuses", json={"status": text, **fields},
                   headers=fields.pop("headers", None))


def test_the_same_idempotency_key_gives_the_same_status_for_an_hour(md):
    key = {"Idempotency-Key": "kanal-pub-41-1"}
    first = md.post("/api/v1/statuses", json={"status": "Havnebadet åbner"},
                    headers=key)
    assert first.status_code == 200, first.text
    again = md.post("/api/v1/statuses", json={"status": "Havnebadet åbner"},
                    headers=key)
    assert again.json()["id"] == first.json()["id"]
    assert [r.item_id for r in md.published()] == [first.json()["id"]]

    md.advance(3601)
    later = md.post("/api/v1/statuses", json={"status": "Havnebadet åbner"},
                    headers=key)
    assert later.json()["id"] != first.json()["id"]
    assert len(md.published("post")) == 2


def test_text_is_counted_with_links_as_23_characters(md):
    link = "https://www.kk.dk/" + "a" * 100
    fits = toot(md, "x" * (500 - 24) + " " + link)
    assert fits.status_code == 200, fits.text
    assert fits.json()["content"]  # Mastodon answers with HTML content
    over = toot(md, "x" * (500 - 23) + " " + link)
    assert over.status_code == 422
    assert over.json() == {
        "error": "Validation failed: Text character limit of 500 exceeded"}
    blank = toot(md, "   ")
    assert (blank.status_code, blank.json()) == (
        422, {"error": "Validation failed: Text can't be blank"})
    assert len(md.published()) == 1


def test_the_instance_tells_its_limits(md):
    config = md.get("/api/v2/instance").json()["configuration"]
    assert config["statuses"]["max_characters"] == 500
    assert config["statuses"]["max_media_attachments"] == 4
    assert config["statuses"]["characters_reserved_per_url"] == 23
    assert config["media_attachments"]["description_limit"] == 1500


def test_a_reply_answers_its_status_and_shows_in_its_context(md):
    post = toot(md).json()
    comment = md.citizen("Hvornår lukker det?", parent_id=post["id"])
    reply = toot(md, "@borger Klokken 19.", in_reply_to_id=comment)
    assert reply.status_code == 200, reply.text
    assert reply.json()["in_reply_to_id"] == comment
    context = md.get(f"/api/v1/statuses/{post['id']}/context").json()
    assert context["ancestors"] == []
    assert [s["id"] for s in context["descendants"]] == [comment, reply.json()["id"]]
    assert [r.kind for r in md.published()] == ["post", "reply"]

    missing = toot(md, "Svar", in_reply_to_id="999999999")
    assert (missing.status_code, missing.json()) == (404, {"error": "Record not found"})


def test_a_deleted_status_is_gone_and_only_its_author_may_delete(md):
    post = toot(md).json()
    comment = md.citizen("Tak!", parent_id=post["id"])
    assert md.delete(f"/api/v1/statuses/{comment}").status_code == 404
    deleted = md.delete(f"/api/v1/statuses/{post['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "Havnebadet åbner i dag #voreskbh"
    gone = md.get(f"/api/v1/statuses/{post['id']}")
    assert (gone.status_code, gone.json()) == (404, {"error": "Record not found"})


def test_a_status_is_read_with_its_counts(md):
    post = toot(md).json()
    md.citizen("Dejligt!", parent_id=post["id"])
    read = md.get(f"/api/v1/statuses/{post['id']}").json()
    assert read["id"] == post["id"]
    assert read["replies_count"] == 1
    assert read["reblogs_count"] == 0 and read["favourites_count"] == 0
    assert read["account"]["id"] == ACCOUNT
    me = md.get("/api/v1/accounts/verify_credentials").json()
    assert me["id"] == ACCOUNT and isinstance(me["followers_count"], int)


def test_mentions_come_as_notifications_and_page_back(md):
    first = md.citizen("@kobenhavn hvornår åbner biblioteket?")
    second = md.citizen("@kobenhavn og svømmehallen?")
    page = md.get("/api/v1/notifications", params={"types[]": "mention",
                                                  "limit": 1})
    [newest] = page.json()
    assert newest["type"] == "mention"
    assert newest["status"]["id"] == second
    assert 'rel="next"' in page.headers["link"]
    older = md.get("/api/v1/notifications", params={
        "types[]": "mention", "max_id": newest["id"]}).json()
    assert first in [n["status"]["id"] for n in older]
    none = md.get("/api/v1/notifications", params={"types[]": "follow"})
    assert none.json() == []


def test_an_unknown_token_is_refused_in_mastodons_words(md):
    refused = md.get("/api/v1/accounts/verify_credentials",
                     token="sandbox-mastodon-token-stolen")
    assert (refused.status_code, refused.json()) == (
        401, {"error": "The access token is invalid"})
    assert toot(md).status_code == 200


def test_300_calls_in_five_minutes_then_too_many_requests(md):
    answers = md.calls(301, "GET", "/api/v1/accounts/verify_credentials")
    first, last_allowed, over = answers[0], answers[299], answers[300]
    assert first.headers["x-ratelimit-limit"] == "300"
    assert first.headers["x-ratelimit-remaining"] == "299"
    assert last_allowed.status_code == 200
    assert last_allowed.headers["x-ratelimit-remaining"] == "0"
    reset = datetime.fromisoformat(first.headers["x-ratelimit-reset"].replace(
        "Z", "+00:00"))
    assert reset.tzinfo is not None
    assert (over.status_code, over.json()) == (429, {"error": "Too many requests"})
    md.advance(301)
    assert md.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_an_image_is_ready_at_once_and_a_video_after_processing(md):
    image = md.post("/api/v2/media", files={"file": ("bad.jpg", JPEG, "image/jpeg")},
                    data={"description": "Børn ved havnebadet"})
    assert image.status_code == 200, image.text
    assert image.json()["description"] == "Børn ved havnebadet"
    video = md.post("/api/v2/media", files={
        "file": ("film.mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 64, "video/mp4")})
    assert video.status_code == 202, video.text
    assert video.json()["url"] is None
    waiting = toot(md, "Se filmen", media_ids=[video.json()["id"]])
    assert waiting.status_code == 422
    assert md.get(f"/api/v1/media/{video.json()['id']}").status_code == 206
    md.advance(600)
    ready = md.get(f"/api/v1/media/{video.json()['id']}")
    assert ready.status_code == 200 and ready.json()["url"]
    posted = toot(md, "Se filmen", media_ids=[video.json()["id"]])
    assert posted.status_code == 200, posted.text
    assert [m["type"] for m in posted.json()["media_attachments"]] == ["video"]


def test_a_status_is_made_when_the_answer_is_lost(md):
    md.fault("server_error_after_create", "publish")
    lost = md.post("/api/v1/statuses", json={"status": "Havnebadet åbner"},
                   headers={"Idempotency-Key": "kanal-pub-7-1"})
    assert lost.status_code >= 500
    again = md.post("/api/v1/statuses", json={"status": "Havnebadet åbner"},
                    headers={"Idempotency-Key": "kanal-pub-7-1"})
    assert again.status_code == 200
    assert [r.item_id for r in md.published()] == [again.json()["id"]]


@pytest.mark.parametrize("query", [{"limit": "mange"}, {"max_id": "abc"},
                                   {"since_id": "1e3"}, {"min_id": "-"}])
def test_a_page_parameter_that_is_no_number_is_a_400_not_a_crash(md, query):
    refused = md.get("/api/v1/notifications", params=query)
    assert refused.status_code == 400
    assert set(refused.json()) == {"error"}
