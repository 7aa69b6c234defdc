"""What intake takes from a webhook or a poll, on every Meta webhook path
and every polled network: an item's ids are ids (``usable_id``; they go into
the path of a reply, a hide or a delete later), an entry's page id that is
no id costs only that entry, and the account's own items are no citizen's
questions (stored, they reopened the conversation they answered)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import intake
from kanal.inbox.models import Conversation, InboxItem, WebhookDelivery

pytestmark = pytest.mark.django_db

HOSTILE = ["1/feed?x=", "1_2#x", "../1", "Hvornår åbner", "{'id': '1'}"]


def _fb_feed(*, comment="P1_1", post="P1_9", parent="P1_9", author="c-1",
             item="comment", field="feed"):
    return "facebook", {"object": "page", "entry": [{
        "id": "P1", "time": 1_780_000_000, "changes": [{"field": field, "value": {
            "from": {"id": author, "name": "Mette"}, "post_id": post,
            "comment_id": comment, "parent_id": parent, "message": "Hej",
            "created_time": 1_780_000_000, "item": item, "verb": "add"}}]}]}


def _fb_mention(*, comment="P1_1", post="P1_9", author="c-1"):
    return _fb_feed(comment=comment, post=post, author=author, field="mention")


def _messaging(network, *, mid="m_1", sender="u9", echo=False):
    page = {"facebook": "P1", "instagram": "IG1"}[network]
    message = {"mid": mid, "text": "Hej"}
    if echo:
        message["is_echo"] = True
    return network, {"object": "page" if network == "facebook" else "instagram",
                     "entry": [{"id": page, "time": 1_780_000_000, "messaging": [{
                         "sender": {"id": sender}, "recipient": {"id": page},
                         "timestamp": 1_780_000_000, "message": message}]}]}


def _ig_comment(*, comment="C1", media="M1", parent="", author="u2"):
    value = {"from": {"id": author, "username": "freja"}, "media": {"id": media},
             "id": comment, "text": "Flot!"}
    if parent:
        value["parent_id"] = parent
    return "instagram", {"object": "instagram", "entry": [{
        "id": "IG1", "time": 1_780_000_000,
        "changes": [{"field": "comments", "value": value}]}]}


def _threads(*, reply="T1", replied_to="R1", root="R1", username="omar",
             field="replies"):
    return "threads", {"target_id": "TH1", "time": 1_780_000_000, "values": {
        "field": field, "value": {
            "id": reply, "username": username, "text": "Godt",
            "timestamp": "2026-06-01T10:00:00+0000",
            "replied_to": {"id": replied_to},
            "root_post": {"id": root, "username": "kbh_kommune"}}}}


# Every Meta webhook path, with each id it reads from the body in turn.
ID_PATHS = {
    "facebook comment: comment_id": lambda bad: _fb_feed(comment=bad),
    "facebook comment: post_id": lambda bad: _fb_feed(post=bad, parent=bad),
    "facebook reply: parent_id": lambda bad: _fb_feed(parent=bad),
    "facebook mention: comment_id": lambda bad: _fb_mention(comment=bad),
    "facebook mention: post_id": lambda bad: _fb_mention(comment="", post=bad),
    "messenger: mid": lambda bad: _messaging("facebook", mid=bad),
    "instagram comment: id": lambda bad: _ig_comment(comment=bad),
    "instagram comment: media": lambda bad: _ig_comment(media=bad),
    "instagram reply: parent_id": lambda bad: _ig_comment(parent=bad),
    "instagram message: mid": lambda bad: _messaging("instagram", mid=bad),
    "threads reply: id": lambda bad: _threads(reply=bad),
    "threads reply: replied_to": lambda bad: _threads(replied_to=bad),
    "threads reply: root_post": lambda bad: _threads(root=bad, replied_to=bad),
    "threads mention: id": lambda bad: _threads(reply=bad, field="mentions"),
}


@pytest.mark.parametrize("path", list(ID_PATHS))
@pytest.mark.usefixtures("meta_channels")
def test_no_webhook_path_stores_an_id_no_network_gives(
    post_webhook, path
):
    for bad in HOSTILE:
        post_webhook(*ID_PATHS[path](bad))
    intake.process_deliveries()
    assert not InboxItem.objects.exists()
    outcomes = [d.outcome for d in WebhookDelivery.objects.all()]
    assert all(o["skipped"] == {"bad_id": 1} for o in outcomes), outcomes


@pytest.mark.usefixtures("meta_channels")
def test_the_same_bodies_with_ids_are_stored(post_webhook):
    """The paths above store an item when the id is one (the test above
    would pass for a path that stored nothing at all)."""
    for path, build in ID_PATHS.items():
        post_webhook(*build("17841400000100001"))
        intake.process_deliveries()
        assert InboxItem.objects.count() == 1, path
        Conversation.objects.all().delete()


@pytest.mark.parametrize("page_id", ["\\ud800", "x\\udfff", "\\u0000", "P1?x=",
                                     "{'id': 'P1'}"])
@pytest.mark.usefixtures("meta_channels")
def test_an_entry_whose_page_id_is_no_id_costs_only_that_entry(
    post_webhook, page_id
):
    import json

    _network, good = _fb_feed(comment="P1_1")
    _network, other = _fb_feed(comment="P1_2")
    raw = json.dumps({"object": "page",
                      "entry": [good["entry"][0], other["entry"][0]]})
    raw = raw.replace('"id": "P1", "time": 1780000000, "changes": [{"field": '
                      '"feed", "value": {"from": {"id": "c-1", "name": "Mette"}, '
                      '"post_id": "P1_9", "comment_id": "P1_2"',
                      f'"id": "{page_id}", "time": 1780000000, "changes": [{{'
                      '"field": "feed", "value": {"from": {"id": "c-1", "name": '
                      '"Mette"}, "post_id": "P1_9", "comment_id": "P1_2"')
    assert page_id in raw
    post_webhook("facebook", raw.encode())
    intake.process_deliveries()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "processed"
    assert delivery.outcome["skipped"] == {"bad_id": 1}
    assert list(InboxItem.objects.values_list("remote_id", flat=True)) == ["P1_1"]


# The account's own item on every Meta webhook path.
OWN_PATHS = {
    "facebook comment": lambda: _fb_feed(author="P1"),
    "facebook mention": lambda: _fb_mention(author="P1"),
    "messenger": lambda: _messaging("facebook", sender="P1"),
    "messenger echo": lambda: _messaging("facebook", echo=True),
    "instagram comment": lambda: _ig_comment(author="IG1"),
    "instagram message echo": lambda: _messaging("instagram", echo=True),
    "threads reply": lambda: _threads(reply="T2", username="kbh_kommune"),
    "threads reply, handle in capitals": lambda: _threads(
        reply="T2", username="KBH_Kommune"),
    "threads mention": lambda: _threads(username="kbh_kommune", field="mentions"),
}


@pytest.mark.parametrize("path", list(OWN_PATHS))
@pytest.mark.usefixtures("meta_channels")
def test_the_accounts_own_item_on_a_webhook_path_is_skipped(
    post_webhook, path
):
    post_webhook(*OWN_PATHS[path]())
    intake.process_deliveries()
    assert not InboxItem.objects.exists()
    assert WebhookDelivery.objects.get().outcome["skipped"] == {"own_item": 1}


@pytest.mark.usefixtures("meta_channels")
def test_a_citizen_on_threads_is_not_taken_for_the_account(post_webhook):
    post_webhook(*_threads(username="kbh_kommune_fan"))
    intake.process_deliveries()
    assert InboxItem.objects.get().author_id == "kbh_kommune_fan"


NETWORKS = ["facebook", "instagram", "threads", "x", "mastodon", "bluesky",
            "linkedin"]


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("by", ["id", "handle"])
def test_the_accounts_own_item_from_a_poll_is_skipped(organisation, network, by):
    """Each network's poll goes through ``ingest``: an item by the account
    (its id, or its handle where the network names authors by name) neither
    opens nor reopens a conversation, whatever the adapter let through."""
    channel = ChannelFactory(organisation=organisation, network=network,
                             remote_id="4242", handle="kbh")
    author = {"id": "4242", "handle": "@kbh"}[by]
    item = NetworkItem(remote_id="own-1", kind="reply", author_id=author,
                       author_name="Københavns Kommune", text="Tak, det ser vi på.",
                       created_at=datetime.now(UTC), post_remote_id="p1",
                       parent_remote_id="c1")
    outcome = intake.ingest(channel, item, action="poll")
    assert outcome.skipped == {"own_item": 1}
    assert not InboxItem.objects.exists()
    assert not Conversation.objects.exists()
