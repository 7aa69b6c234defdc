"""Polling reads young items back by id (``polling.recheck``): a citizen's
edit or deletion on a network without webhooks is recorded, only the
network's own "not found" is a deletion, and an error changes nothing.
The wider class of the outside tester's finding 5 (Mastodon only there)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.inbox import polling
from kanal.inbox.models import InboxItem, ItemVersion
from kanal.publishing.tests.conftest import sandbox_channel

pytestmark = pytest.mark.django_db(transaction=True)

NETWORKS = ["mastodon", "x", "bluesky", "linkedin"]


def _polled(sandbox, organisation, network, text="Hvornår åbner havnebadet?"):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, network)
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key=f"recheck-{network}")
    made = sandbox.citizen(network, text, parent_id=post.remote_id,
                           author_name="Mette")
    polling.poll_channel(channel)
    item = InboxItem.objects.get(channel=channel, remote_id=made["item_id"])
    return channel, item


@pytest.mark.parametrize("network", NETWORKS)
def test_a_deletion_on_the_network_is_recorded_as_a_version(
    sandbox, organisation, network
):
    channel, item = _polled(sandbox, organisation, network)
    sandbox.control("DELETE", f"/_sandbox/items/{network}/{item.remote_id}")
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    assert list(item.versions.values_list("change", flat=True)) == [
        ItemVersion.Change.ORIGINAL, ItemVersion.Change.DELETED]


@pytest.mark.parametrize("network", NETWORKS)
def test_an_edit_on_the_network_is_recorded_and_the_first_text_kept(
    sandbox, organisation, network
):
    channel, item = _polled(sandbox, organisation, network)
    sandbox.control("PATCH", f"/_sandbox/items/{network}/{item.remote_id}",
                    {"text": "Glem det, jeg fandt svaret"})
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert "Glem det" in item.text
    assert item.edited_at is not None
    assert [(v.change, v.text[:9]) for v in item.versions.all()] == [
        (ItemVersion.Change.ORIGINAL, "Hvornår å"),
        (ItemVersion.Change.EDITED, "Glem det,"),
    ]
    # Read again later, unchanged: no second version.
    InboxItem.objects.filter(pk=item.pk).update(
        network_checked_at=timezone.now() - timedelta(days=1))
    polling.poll_channel(channel)
    assert item.versions.count() == 2


def test_an_error_reading_an_item_back_is_no_deletion_and_blocks_no_other(
    sandbox, organisation
):
    channel, item = _polled(sandbox, organisation, "mastodon")
    other = sandbox.citizen("mastodon", "@kbh og parkering?",
                            parent_id=item.remote_id, author_name="Omar")
    polling.poll_channel(channel)
    other = InboxItem.objects.get(channel=channel, remote_id=other["item_id"])
    sandbox.fault("mastodon", "server_error", method="GET",
                  path=f"/api/v1/statuses/{item.remote_id}", count=None)
    sandbox.control("PATCH", f"/_sandbox/items/mastodon/{other.remote_id}",
                    {"text": "@kbh glem parkeringen"})
    # The failing item first in line (never read), the other due after it.
    InboxItem.objects.filter(pk=item.pk).update(network_checked_at=None)
    InboxItem.objects.filter(pk=other.pk).update(
        network_checked_at=timezone.now() - timedelta(days=1))
    polling.poll_channel(channel)
    item.refresh_from_db()
    other.refresh_from_db()
    assert item.deleted_on_network_at is None
    assert item.versions.count() == 1
    assert item.network_checked_at is not None  # to the back of the queue
    assert "glem parkeringen" in other.text  # read after the failed one
    channel.inbox_cursor.refresh_from_db()
    assert channel.inbox_cursor.last_error == ""  # the poll itself went well


def test_a_rate_limit_stops_the_read_back_until_the_next_poll(
    sandbox, organisation
):
    channel, item = _polled(sandbox, organisation, "mastodon")
    sandbox.fault("mastodon", "rate_limit", method="GET",
                  path=f"/api/v1/statuses/{item.remote_id}")
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.network_checked_at is None  # asked again next time
    assert item.deleted_on_network_at is None


def test_items_are_read_back_less_often_as_they_age(sandbox, organisation):
    channel, item = _polled(sandbox, organisation, "mastodon")
    polling.poll_channel(channel)
    item.refresh_from_db()
    checked = item.network_checked_at
    assert checked is not None
    # Read a moment ago: not read again on the next poll.
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.network_checked_at == checked
    # Older than the read-back window: never read again.
    old = timezone.now() - timedelta(days=8)
    InboxItem.objects.filter(pk=item.pk).update(created_at=old, network_checked_at=old)
    sandbox.control("DELETE", f"/_sandbox/items/mastodon/{item.remote_id}")
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.deleted_on_network_at is None
    assert item.network_checked_at == old


# -- threading by the parent chain (finding 17's class) ----------------------


@pytest.mark.parametrize("network", ["mastodon", "bluesky"])
def test_a_reply_to_a_citizens_reply_joins_its_conversation(
    sandbox, organisation, network
):
    """A reply whose parent is a stored item joins that item's conversation,
    also where the network names the parent as the reply's "post"."""
    channel, item = _polled(sandbox, organisation, network)
    again = sandbox.citizen(network, "Det vil jeg også gerne vide",
                            parent_id=item.remote_id, author_name="Omar")
    polling.poll_channel(channel)
    second = InboxItem.objects.get(channel=channel, remote_id=again["item_id"])
    assert second.conversation_id == item.conversation_id


def test_a_citizens_answer_to_the_desks_reply_reopens_the_conversation(
    sandbox, organisation, member
):
    from kanal.inbox import replies
    from kanal.organisations.roles import Role
    from kanal.publishing.models import FollowUp

    from .test_replies import run_follow_ups

    channel, item = _polled(sandbox, organisation, "mastodon")
    replies.reply_to_item(item, actor=member(Role.EDITOR), text="Kl. 10.",
                          key="reopen-thread")
    run_follow_ups()
    item.conversation.refresh_from_db()
    assert item.conversation.status == "answered"
    again = sandbox.citizen("mastodon", "Og hvad koster det?",
                            parent_id=FollowUp.objects.get().remote_id,
                            author_name="Mette")
    polling.poll_channel(channel)
    follow_up = InboxItem.objects.get(channel=channel, remote_id=again["item_id"])
    assert follow_up.conversation_id == item.conversation_id
    follow_up.conversation.refresh_from_db()
    assert follow_up.conversation.status == "new"
    assert follow_up.conversation.due_at is not None


# -- LinkedIn's sweep (finding 16's class) ------------------------------------


def test_a_linkedin_reply_under_an_old_comment_on_an_old_post_is_read(
    sandbox, organisation
):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "linkedin")
    adapter = adapter_for(channel)
    posts = [adapter.publish(OutgoingPost(text=f"Opslag {n}"),
                             idempotency_key=f"sweep-{n}") for n in range(22)]
    old = sandbox.citizen("linkedin", "Gammel kommentar",
                          parent_id=posts[0].remote_id, author_name="Mette")
    polling.poll_channel(channel)
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel,
                                    remote_id=old["item_id"]).exists()
    reply = sandbox.citizen("linkedin", "Svar under den gamle kommentar",
                            parent_id=old["item_id"], author_name="Omar")
    for _ in range(3):  # a lap of the sweep at most
        polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel,
                                    remote_id=reply["item_id"]).exists()


def test_an_edit_found_by_the_read_back_that_brings_a_cpr_is_guarded(
    sandbox, organisation, monkeypatch
):
    channel, item = _polled(sandbox, organisation, "mastodon")
    guarded = []
    monkeypatch.setattr(polling, "guard_personal_data",
                        lambda items: guarded.extend(items))
    sandbox.control("PATCH", f"/_sandbox/items/mastodon/{item.remote_id}",
                    {"text": "@kbh mit CPR er 120385-1234"})
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.personal_data == ["cpr"]
    assert [i.pk for i in guarded] == [item.pk]


# -- Bluesky: only getRecord's RecordNotFound is a deletion -------------------


@pytest.mark.parametrize("kind, params", [
    # A 404 that is not the protocol's answer (a proxy, a wrong route).
    ("server_error", {"status": 404}),
    # A 400 without the error name RecordNotFound ("InvalidRequest").
    ("policy_block", {}),
])
def test_a_bluesky_read_back_error_that_is_not_record_not_found_changes_nothing(
    sandbox, organisation, kind, params
):
    channel, item = _polled(sandbox, organisation, "bluesky")
    sandbox.control("DELETE", f"/_sandbox/items/bluesky/{item.remote_id}")
    sandbox.fault("bluesky", kind, method="GET",
                  path="/xrpc/com.atproto.repo.getRecord", params=params,
                  count=None)
    InboxItem.objects.filter(pk=item.pk).update(network_checked_at=None)
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.deleted_on_network_at is None
    assert item.versions.count() == 1
    assert item.network_checked_at is not None  # to the back of the queue
    # The protocol's own answer, once the fault is gone, is a deletion.
    sandbox.clear_faults("bluesky")
    InboxItem.objects.filter(pk=item.pk).update(network_checked_at=None)
    polling.poll_channel(channel)
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None


# -- X: read back in batches, "Not Found Error" only ---------------------------


def test_x_items_are_read_back_in_one_request_and_a_partial_error_changes_nothing(
    sandbox, organisation, monkeypatch
):
    from kanal.channels.networks.x import XAdapter

    channel, deleted = _polled(sandbox, organisation, "x")
    post_id = deleted.post_remote_id
    edited = sandbox.citizen("x", "@kobenhavn hvornår åbner saunaen?",
                             parent_id=post_id, author_name="Omar")
    protected = sandbox.citizen("x", "@kobenhavn tak for info", parent_id=post_id,
                                author_name="Sofie", data={"protected": True})
    polling.poll_channel(channel)
    edited = InboxItem.objects.get(channel=channel, remote_id=edited["item_id"])
    protected = InboxItem.objects.get(channel=channel,
                                      remote_id=protected["item_id"])
    sandbox.control("DELETE", f"/_sandbox/items/x/{deleted.remote_id}")
    sandbox.control("PATCH", f"/_sandbox/items/x/{edited.remote_id}",
                    {"text": "@kobenhavn glem saunaen"})
    # X leaves the protected author's item out with an "Authorization Error".
    lookups = []
    real_call = XAdapter._call

    def spy(self, method, path, **kwargs):
        if method == "GET" and path == "/2/tweets":
            lookups.append(kwargs["params"]["ids"].split(","))
        return real_call(self, method, path, **kwargs)

    monkeypatch.setattr(XAdapter, "_call", spy)
    InboxItem.objects.filter(pk__in=[deleted.pk, edited.pk, protected.pk]).update(
        network_checked_at=None)
    polling.poll_channel(channel)
    assert len(lookups[0]) == 3
    assert set(lookups[0]) == {deleted.remote_id, edited.remote_id,
                               protected.remote_id}
    for row in (deleted, edited, protected):
        row.refresh_from_db()
    assert deleted.deleted_on_network_at is not None
    assert "glem saunaen" in edited.text
    assert protected.deleted_on_network_at is None
    assert protected.versions.count() == 1
    assert protected.network_checked_at is not None  # to the back of the queue
