"""The Threads emulator by raw HTTP (PLATFORMS.md §7): the container flow
with Threads' own rules (text counted with emoji as bytes, links, carousel
sizes), replies and their own quota, insights, with Meta's error envelope
and Threads' own wording."""

import pytest

from .graph_client import GraphClient, error

ACCOUNT = "26000000000000001"


@pytest.fixture
def th(tmp_path):
    return GraphClient(tmp_path, "threads", version="v1.0", account=ACCOUNT,
                       token="sandbox-threads-token-kk")


def make_text(th, text="Havnebadet åbner i dag", **params) -> str:
    made = th.post(f"/{ACCOUNT}/threads", media_type="TEXT", text=text, **params)
    assert made.status_code == 200, made.text
    return made.json()["id"]


def publish(th, container: str):
    return th.post(f"/{ACCOUNT}/threads_publish", creation_id=container)


def test_container_is_published_once_when_finished(th):
    th.set_account(container_delay_seconds=30)
    container = make_text(th)
    assert th.get(f"/{container}", fields="status").json()["status"] == \
        "IN_PROGRESS"

    early = error(publish(th, container))
    assert (early["code"], early["error_subcode"]) == (9007, 2207027)
    assert early["error_user_title"] == "Media Not Ready For Publishing"
    assert "error_user_msg" not in early

    th.advance(31)
    done = publish(th, container)
    assert done.status_code == 200, done.text
    again = error(publish(th, container))
    assert (again["code"], again["error_subcode"], again["type"]) == (
        100, 2207006, "THApiException")
    assert "error_user_title" not in again

    post_id = done.json()["id"]
    assert [(r.item_id, r.kind) for r in th.published()] == [(post_id, "post")]
    node = th.get(f"/{post_id}", fields="id,text,media_type,is_reply").json()
    assert node == {"id": post_id, "text": "Havnebadet åbner i dag",
                    "media_type": "TEXT_POST", "is_reply": False}


def test_expired_and_unknown_containers_are_refused(th):
    container = make_text(th)
    th.advance(24 * 3600 + 1)
    expired = error(publish(th, container))
    assert (expired["code"], expired["error_subcode"], expired["type"]) == (
        -2, 2207020, "THApiException")
    missing = error(publish(th, "123"))
    assert (missing["code"], missing["error_subcode"]) == (24, 2207008)
    assert missing["error_user_title"] == "Media Not Found"
    assert th.published() == []


def test_text_counts_emoji_as_their_bytes_and_links(th):
    assert make_text(th, "🌊" * 125)  # 125 × 4 bytes = 500
    too_long = error(th.post(f"/{ACCOUNT}/threads", media_type="TEXT",
                             text="🌊" * 126))
    assert too_long["message"].startswith("THREADS_API__TEXT_TOO_LONG")
    links = " ".join(f"https://kk.dk/{n}" for n in range(6))
    too_many = error(th.post(f"/{ACCOUNT}/threads", media_type="TEXT",
                             text=links))
    assert too_many["message"] == "THREADS_API__LINK_LIMIT_EXCEEDED"


def test_carousel_needs_two_finished_items(th):
    th.set_account(container_delay_seconds=30)
    items = [th.post(f"/{ACCOUNT}/threads", media_type="IMAGE",
                     image_url="https://kk.dk/a.jpg",
                     is_carousel_item="true").json()["id"] for _ in range(2)]
    alone = error(th.post(f"/{ACCOUNT}/threads", media_type="CAROUSEL",
                          children=items[0], text="Et billede"))
    assert alone["message"] == "Invalid parameter: children"
    waiting = error(th.post(f"/{ACCOUNT}/threads", media_type="CAROUSEL",
                            children=",".join(items), text="To billeder"))
    assert (waiting["code"], waiting["error_subcode"]) == (9007, 2207027)
    assert "error_user_title" not in waiting

    th.advance(31)
    carousel = th.post(f"/{ACCOUNT}/threads", media_type="CAROUSEL",
                       children=",".join(items), text="To billeder")
    assert carousel.status_code == 200, carousel.text
    th.advance(31)
    done = publish(th, carousel.json()["id"])
    node = th.get(f"/{done.json()['id']}", fields="media_type,children").json()
    assert node["media_type"] == "CAROUSEL_ALBUM"
    assert len(node["children"]["data"]) == 2


def test_a_reply_uses_the_reply_quota(th):
    th.set_account(quota_total=1, reply_quota_total=1)
    post_id = publish(th, make_text(th)).json()["id"]
    over = error(publish(th, make_text(th, "Endnu et opslag")))
    assert (over["code"], over["error_subcode"]) == (9, 2207042)

    reply = publish(th, make_text(th, "Tak for spørgsmålet", reply_to_id=post_id))
    assert reply.status_code == 200, reply.text
    stored = th.store.get_item("threads", reply.json()["id"])
    assert (stored.kind, stored.parent_id, stored.root_id) == (
        "reply", post_id, post_id)
    second = error(publish(th, make_text(th, "Og igen", reply_to_id=post_id)))
    assert (second["code"], second["error_subcode"]) == (9, 2207042)

    limit = th.get(f"/{ACCOUNT}/threads_publishing_limit",
                   fields="quota_usage,reply_quota_usage").json()["data"][0]
    assert limit == {"quota_usage": 1, "reply_quota_usage": 1}
    assert [r.kind for r in th.published()] == ["post", "reply"]


def test_insights_refuse_retired_names_without_explaining(th):
    post_id = publish(th, make_text(th)).json()["id"]
    publish(th, make_text(th, "Tak for spørgsmålet", reply_to_id=post_id))
    retired = error(th.get(f"/{post_id}/insights", metric="reach"))
    assert retired["message"].startswith("(#100) metric[0] must be one of")
    assert "error_user_title" not in retired
    views = th.get(f"/{post_id}/insights", metric="views,replies").json()["data"]
    assert [(m["name"], m["values"][0]["value"]) for m in views] == [
        ("views", 0), ("replies", 1)]
