"""The Instagram emulator by raw HTTP (PLATFORMS.md §2): the container flow,
the quota, comments and replies, insights and tokens, with Meta's error
envelope and Instagram's own wording."""

import pytest

from .graph_client import GraphClient, error

ACCOUNT = "17841400000000001"


@pytest.fixture
def ig(tmp_path):
    return GraphClient(tmp_path, "instagram", version="v25.0", account=ACCOUNT,
                       token="sandbox-instagram-token-kk")


def make_image(ig, **params) -> str:
    made = ig.post(f"/{ACCOUNT}/media", image_url="https://kk.dk/bad.jpg",
                   caption="Havnebadet er åbent #voreskbh", **params)
    assert made.status_code == 200, made.text
    return made.json()["id"]


def test_container_is_published_once_when_finished(ig):
    ig.set_account(container_delay_seconds=30)
    container = make_image(ig)
    assert ig.get(f"/{container}", fields="status_code").json()[
        "status_code"] == "IN_PROGRESS"

    early = error(ig.post(f"/{ACCOUNT}/media_publish", creation_id=container))
    assert (early["code"], early["error_subcode"]) == (9007, 2207027)
    assert early["error_user_title"] == "Media not ready for publishing"
    assert early["error_user_msg"].startswith("The media is not ready")
    assert ig.published() == []

    ig.advance(31)
    done = ig.post(f"/{ACCOUNT}/media_publish", creation_id=container)
    assert done.status_code == 200, done.text
    media_id = done.json()["id"]
    again = error(ig.post(f"/{ACCOUNT}/media_publish", creation_id=container))
    assert (again["code"], again["error_subcode"], again["type"]) == (
        100, 2207006, "IGApiException")
    assert again["error_user_title"] == "Media already published"

    assert [(r.item_id, r.kind) for r in ig.published()] == [(media_id, "post")]
    media = ig.get(f"/{media_id}", fields="id,caption,media_type").json()
    assert media == {"id": media_id, "caption": "Havnebadet er åbent #voreskbh",
                     "media_type": "IMAGE"}
    assert ig.get(f"/{container}", fields="status_code").json()[
        "status_code"] == "PUBLISHED"


def test_expired_and_unknown_containers_are_refused(ig):
    container = make_image(ig)
    ig.advance(24 * 3600 + 1)
    expired = error(ig.post(f"/{ACCOUNT}/media_publish", creation_id=container))
    assert (expired["code"], expired["error_subcode"], expired["type"]) == (
        -2, 2207020, "IGApiException")
    assert expired["error_user_title"] == "Media expired"

    missing = error(ig.post(f"/{ACCOUNT}/media_publish", creation_id="123"))
    assert (missing["code"], missing["error_subcode"]) == (24, 2207008)
    assert missing["error_user_title"] == "Media builder not found"
    assert ig.published() == []


def test_quota_counts_the_rolling_day(ig):
    ig.set_account(quota_total=1)
    first = ig.post(f"/{ACCOUNT}/media_publish", creation_id=make_image(ig))
    assert first.status_code == 200, first.text
    over = error(ig.post(f"/{ACCOUNT}/media_publish", creation_id=make_image(ig)))
    assert (over["code"], over["error_subcode"]) == (9, 2207042)
    limit = ig.get(f"/{ACCOUNT}/content_publishing_limit",
                   fields="quota_usage,config").json()["data"][0]
    assert limit == {"quota_usage": 1,
                     "config": {"quota_total": 1, "quota_duration": 86400}}
    assert len(ig.published()) == 1


def test_carousel_takes_only_finished_carousel_items(ig):
    ig.set_account(container_delay_seconds=30)
    items = [make_image(ig, is_carousel_item="true") for _ in range(2)]
    waiting = error(ig.post(f"/{ACCOUNT}/media", media_type="CAROUSEL",
                            children=",".join(items), caption="To billeder"))
    assert (waiting["code"], waiting["error_subcode"]) == (9007, 2207027)
    assert waiting["error_user_title"] == "Media not ready"

    ig.advance(31)
    not_item = error(ig.post(f"/{ACCOUNT}/media", media_type="CAROUSEL",
                             children=f"{items[0]},{make_image(ig)}"))
    assert (not_item["code"], not_item["error_subcode"]) == (24, 2207008)

    carousel = ig.post(f"/{ACCOUNT}/media", media_type="CAROUSEL",
                       children=",".join(items), caption="To billeder")
    assert carousel.status_code == 200, carousel.text
    ig.advance(31)
    done = ig.post(f"/{ACCOUNT}/media_publish", creation_id=carousel.json()["id"])
    media = ig.get(f"/{done.json()['id']}", fields="media_type,children").json()
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert len(media["children"]["data"]) == 2


def test_comment_and_reply_hang_on_the_media(ig):
    media_id = ig.post(f"/{ACCOUNT}/media_publish",
                       creation_id=make_image(ig)).json()["id"]
    comment = ig.post(f"/{media_id}/comments", message="Hvornår lukker I?")
    assert comment.status_code == 200, comment.text
    comment_id = comment.json()["id"]
    reply = ig.post(f"/{comment_id}/replies", message="Kl. 19.")
    assert reply.status_code == 200, reply.text

    listed = ig.get(f"/{media_id}/comments", fields="id,text").json()["data"]
    assert [c["text"] for c in listed] == ["Hvornår lukker I?"]
    replies = ig.get(f"/{comment_id}/replies", fields="id,text").json()["data"]
    assert [r["text"] for r in replies] == ["Kl. 19."]
    stored = ig.store.get_item("instagram", reply.json()["id"])
    assert (stored.kind, stored.parent_id, stored.root_id) == (
        "reply", comment_id, media_id)
    assert [r.kind for r in ig.published()] == ["post", "reply", "reply"]

    # Replies hang on comments, comments on media: not the other way round.
    wrong = error(ig.post(f"/{media_id}/replies", message="Hej"))
    assert (wrong["code"], wrong["error_subcode"]) == (100, 33)
    empty = error(ig.post(f"/{media_id}/comments", message="  "))
    assert empty["message"] == "The parameter message is required"


def test_insights_explain_retired_metric_names(ig):
    media_id = ig.post(f"/{ACCOUNT}/media_publish",
                       creation_id=make_image(ig)).json()["id"]
    retired = error(ig.get(f"/{media_id}/insights", metric="impressions"))
    assert retired["code"] == 100
    assert retired["error_user_title"] == "Deprecated metric"
    unknown = error(ig.get(f"/{media_id}/insights", metric="sparkles"))
    assert unknown["message"].startswith("(#100) metric[0] must be one of")
    assert "error_user_title" not in unknown
    views = ig.get(f"/{media_id}/insights", metric="views,likes").json()["data"]
    assert [(m["name"], m["values"][0]["value"]) for m in views] == [
        ("views", 0), ("likes", 0)]


def test_edges_answer_only_their_own_account(ig):
    anonymous = error(ig.get(f"/{ACCOUNT}/media", token=""))
    assert anonymous["code"] == 2500
    other = error(ig.get("/17841400000000999/media"))
    assert (other["code"], other["error_subcode"]) == (100, 33)
