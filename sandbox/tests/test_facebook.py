"""The Facebook Pages emulator by raw HTTP (PLATFORMS.md §1): posts on the
feed answering ``{page}_{post}`` ids, the duplicate (#506), scheduling only
10 minutes to 30 days ahead, comments and hiding them, deletes, the Graph
error envelope for tokens (104, 190, #200), and throttling answered as HTTP
400/403 with the usage headers, as Meta does."""

import json
import time

import pytest

from .graph_client import GraphClient, error

PAGE = "104738291045678"
PAGE_TOKEN = "sandbox-facebook-page-token-kk"


@pytest.fixture
def fb(tmp_path):
    return GraphClient(tmp_path, "facebook", version="v25.0", account=PAGE,
                       token=PAGE_TOKEN)


def post(fb, message="Havnebadet åbner i dag #voreskbh", **params):
    return fb.post(f"/{PAGE}/feed", message=message, **params)


def test_a_post_gets_a_page_scoped_id_and_the_usage_headers(fb):
    made = post(fb)
    assert made.status_code == 200, made.text
    post_id = made.json()["id"]
    assert post_id.startswith(f"{PAGE}_")
    usage = json.loads(made.headers["x-business-use-case-usage"])
    [entry] = usage[PAGE]
    assert entry["type"] == "pages"
    assert {"call_count", "total_cputime", "total_time",
            "estimated_time_to_regain_access"} <= set(entry)
    assert set(json.loads(made.headers["x-app-usage"])) == {
        "call_count", "total_cputime", "total_time"}
    read = fb.get(f"/{post_id}", fields="message,permalink_url").json()
    assert read["message"] == "Havnebadet åbner i dag #voreskbh"
    assert read["permalink_url"].startswith("http")
    assert [(r.item_id, r.kind) for r in fb.published()] == [(post_id, "post")]


def test_the_same_message_again_is_a_duplicate(fb):
    first = post(fb).json()["id"]
    again = error(post(fb))
    assert (again["code"], again["message"]) == (506, "(#506) Duplicate status message")
    assert [r.item_id for r in fb.published()] == [first]


def test_a_post_is_scheduled_only_10_minutes_to_30_days_ahead(fb):
    soon = int(time.time()) + 5 * 60
    refused = error(post(fb, "Om lidt", published="false",
                         scheduled_publish_time=str(soon)))
    assert refused["code"] == 100
    assert "scheduled publish time is invalid" in refused["message"]
    far = int(time.time()) + 31 * 24 * 3600
    assert error(post(fb, "Langt ude", published="false",
                      scheduled_publish_time=str(far)))["code"] == 100
    later = int(time.time()) + 3600
    made = post(fb, "Om en time", published="false",
                scheduled_publish_time=str(later))
    assert made.status_code == 200, made.text
    scheduled = fb.get(f"/{PAGE}/scheduled_posts").json()["data"]
    assert made.json()["id"] in [p["id"] for p in scheduled]
    assert fb.published() == []


def test_the_page_answers_a_comment_and_may_hide_it(fb):
    post_id = post(fb).json()["id"]
    comment = fb.app.state.ctx.add_citizen_item(
        "facebook", kind="comment", account_id=PAGE, text="Hvornår lukker det?",
        parent_id=post_id, author_id="borger-7", author_name="Ida Holm")
    reply = fb.post(f"/{comment.item_id}/comments", message="Klokken 19.")
    assert reply.status_code == 200, reply.text
    listed = fb.get(f"/{post_id}/comments", filter="stream",
                    fields="message,from,is_hidden").json()["data"]
    assert {c["message"] for c in listed} == {"Hvornår lukker det?", "Klokken 19."}
    hidden = fb.post(f"/{comment.item_id}", is_hidden="true")
    assert hidden.json() == {"success": True}
    own = error(fb.post(f"/{reply.json()['id']}", is_hidden="true"))
    assert own["code"] == 100
    assert [r.kind for r in fb.published()] == ["post", "reply"]


def test_a_deleted_post_is_gone(fb):
    post_id = post(fb).json()["id"]
    assert fb.request("DELETE", f"/{post_id}").json() == {"success": True}
    gone = error(fb.get(f"/{post_id}"))
    assert (gone["code"], gone["error_subcode"], gone["type"]) == (
        100, 33, "GraphMethodException")
    again = error(fb.request("DELETE", f"/{post_id}"))
    assert again["code"] == 100


def test_the_feed_pages_with_an_after_cursor(fb):
    made = [post(fb, f"Opslag nummer {n}").json()["id"] for n in range(3)]
    first = fb.get(f"/{PAGE}/feed", limit=2).json()
    assert len(first["data"]) == 2
    after = first["paging"]["cursors"]["after"]
    rest = fb.get(f"/{PAGE}/feed", limit=100, after=after).json()
    ids = [p["id"] for p in first["data"] + rest["data"]]
    assert set(made) <= set(ids) and len(ids) == len(set(ids))
    bad = error(fb.get(f"/{PAGE}/feed", after="ikke-en-markør"))
    assert bad["code"] == 100


def test_tokens_are_refused_in_the_graph_envelope(fb):
    missing = error(fb.post(f"/{PAGE}/feed", message="Hej", token=""))
    assert missing["code"] == 104
    unknown = error(fb.post(f"/{PAGE}/feed", message="Hej", token="sandbox-stolen"))
    assert (unknown["code"], unknown["type"]) == (190, "OAuthException")
    as_user = fb.post(f"/{PAGE}/feed", message="Hej",
                      token="sandbox-facebook-user-token-kk")
    assert as_user.status_code == 403
    assert error(as_user)["code"] == 200
    assert fb.published() == []


@pytest.mark.parametrize(("code", "status"), [(32, 400), (4, 403)])
def test_throttling_is_a_400_or_403_with_usage_over_100_percent(fb, code, status):
    fb.app.state.ctx.faults.add("facebook", "rate_limit", account=PAGE,
                                operation="publish", params={"code": code})
    throttled = post(fb)
    assert throttled.status_code == status
    body = error(throttled)
    assert body["code"] == code and body["is_transient"] is True
    [entry] = json.loads(throttled.headers["x-business-use-case-usage"])[PAGE]
    assert entry["call_count"] >= 100
    assert entry["estimated_time_to_regain_access"] > 0
    assert fb.published() == []
    assert post(fb).status_code == 200


def test_a_retired_metric_is_an_invalid_metric_error(fb):
    post_id = post(fb).json()["id"]
    retired = error(fb.get(f"/{post_id}/insights", metric="post_impressions_unique"))
    assert retired["code"] == 100
    views = fb.get(f"/{post_id}/insights", metric="post_total_media_view_unique")
    assert views.status_code == 200, views.text
    assert views.json()["data"][0]["name"] == "post_total_media_view_unique"


def test_a_body_that_is_not_json_is_a_graph_error_not_a_crash(fb):
    refused = fb.call("POST", f"/{PAGE}/feed", content=b'{"message": ',
                      headers={"Content-Type": "application/json"},
                      params={"access_token": PAGE_TOKEN})
    assert error(refused)["code"] == 100
    assert refused.status_code == 400
    assert fb.published() == []
