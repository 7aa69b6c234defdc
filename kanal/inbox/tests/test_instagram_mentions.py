"""Instagram @mentions reach the inbox (T5b-10): the ``mentions`` webhook's
ids are kept, read back from the network and stored as items of kind
mention; a failed read waits and is tried again, a replay reads nothing
twice, a mention gone before it was read is recorded gone. Against the
sandbox's Instagram, judged by what it holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels.networks import instagram
from kanal.channels.networks.errors import Rejected, TransientError
from kanal.inbox import intake, mentions, meta
from kanal.inbox.models import InboxItem, MentionReadBack, WebhookDelivery
from kanal.organisations.roles import Role
from kanal.publishing.tests.conftest import sandbox_channel

pytestmark = pytest.mark.sandbox


@pytest.fixture
def world(sandbox, organisation, webhook_receiver, post_webhook):
    """An Instagram channel on the sandbox whose webhooks reach the test:
    ``mention(text, under="")`` makes a citizen's mention (in a comment
    under media ``under``) and hands back the sandbox item and its webhook
    body; ``deliver(body)`` posts it signed and processes it."""
    channel = sandbox_channel(sandbox, organisation, "instagram")
    sandbox.ctx.webhooks.default_url = webhook_receiver.url

    def mention(text, *, under=""):
        item = sandbox.citizen("instagram", text, account=channel.remote_id,
                               kind="mention", parent_id=under,
                               author_name="Ida Holm")
        sandbox.ctx.webhooks.drain()
        hook = webhook_receiver.received[-1]["json"]
        assert hook["entry"][0]["changes"][0]["field"] == "mentions"
        return item, hook

    def deliver(body):
        assert post_webhook("instagram", body).status_code == 200
        intake.process_deliveries()
        return WebhookDelivery.objects.order_by("-pk").first()

    return channel, mention, deliver


def test_a_caption_mention_is_read_back_into_an_item(world, sandbox):
    channel, mention, deliver = world
    made, hook = mention("Tak til @kbh for de nye bænke i Fælledparken")
    assert hook["entry"][0]["changes"][0]["value"] == {"media_id": made["item_id"]}

    delivery = deliver(hook)
    assert (delivery.status, delivery.outcome["queued"]) == ("processed", 1)
    assert delivery.body == ""
    [row] = MentionReadBack.objects.all()
    assert (row.status, row.media_id, row.comment_id) == (
        "pending", made["item_id"], "")
    assert not InboxItem.objects.exists()

    assert mentions.read_due_mentions() == 1
    item = InboxItem.objects.get()
    held = sandbox.item("instagram", made["item_id"])
    assert (item.kind, item.remote_id, item.text, item.author_name) == (
        "mention", held["item_id"], held["text"], held["data"]["username"])
    assert item.channel == channel
    assert item.conversation.key == f"m:{made['item_id']}"
    assert item.conversation.status == "new"
    assert item.conversation.due_at is not None
    assert item.url.startswith("http")
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("read", 0)


def test_a_comment_mention_joins_the_conversation_of_its_media(world, sandbox):
    """A mention in a comment under a citizen's media whose caption named
    the account too: one conversation. One under media Kanal does not hold
    starts its own."""
    _channel, mention, deliver = world
    media, caption_hook = mention("Se @kbh's nye legeplads")
    comment, comment_hook = mention("Enig, @kbh gjorde det godt",
                                    under=media["item_id"])
    assert comment_hook["entry"][0]["changes"][0]["value"] == {
        "comment_id": comment["item_id"], "media_id": media["item_id"]}
    deliver(caption_hook)
    mentions.read_due_mentions()
    deliver(comment_hook)
    mentions.read_due_mentions()

    first = InboxItem.objects.get(remote_id=media["item_id"])
    second = InboxItem.objects.get(remote_id=comment["item_id"])
    assert second.kind == "mention"
    assert second.text == sandbox.item("instagram", comment["item_id"])["text"]
    assert (second.post_remote_id, second.parent_remote_id) == (
        media["item_id"], media["item_id"])
    assert second.conversation == first.conversation
    assert first.conversation.items.count() == 2

    other = sandbox.citizen("instagram", "Et billede uden omtale",
                            account="citizen-9", kind="post")
    alone, hook = mention("@kbh hvornår åbner den?", under=other["item_id"])
    deliver(hook)
    mentions.read_due_mentions()
    assert InboxItem.objects.get(remote_id=alone["item_id"]).conversation.key == (
        f"m:{alone['item_id']}")


def test_a_failed_read_back_waits_and_is_tried_again(world, sandbox):
    _channel, mention, deliver = world
    made, hook = mention("@kbh cykelstien er spærret")
    deliver(hook)
    now = timezone.now()
    sandbox.fault("instagram", "server_error", operation="inbox", count=2)

    assert mentions.read_due_mentions(now=now) == 0
    row = MentionReadBack.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert "HTTP 500" in row.last_error or "HTTP 5" in row.last_error
    # Not due before its wait is over: nothing is asked.
    assert mentions.read_due_mentions(now=now + timedelta(seconds=30)) == 0
    assert MentionReadBack.objects.get().attempts == 1

    assert mentions.read_due_mentions(now=now + timedelta(minutes=1)) == 0
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at == now + timedelta(minutes=1 + 2)
    assert not InboxItem.objects.exists()

    assert mentions.read_due_mentions(now=now + timedelta(minutes=3)) == 1
    assert InboxItem.objects.get().remote_id == made["item_id"]
    row.refresh_from_db()
    assert row.status == "read"


def test_a_replayed_webhook_is_kept_once_and_read_once(world, sandbox):
    _channel, mention, deliver = world
    made, hook = mention("@kbh tak for hjælpen")
    deliver(hook)
    replay = deliver(hook)
    assert replay.outcome["skipped"] == {"mention_known": 1}
    assert MentionReadBack.objects.count() == 1
    assert mentions.read_due_mentions() == 1

    # Gone on the network now: a read would record it gone; nothing reads.
    sandbox.control("DELETE", f"/_sandbox/items/instagram/{made['item_id']}")
    deliver(hook)
    assert mentions.read_due_mentions() == 0
    assert MentionReadBack.objects.get().status == "read"
    item = InboxItem.objects.get()
    assert item.deleted_on_network_at is None


def test_a_mention_the_poll_read_first_is_not_read_again(world, sandbox):
    from kanal.inbox import polling

    channel, mention, deliver = world
    _made, hook = mention("@kbh flot arrangement")
    polling.poll_channel(channel)
    assert InboxItem.objects.count() == 1
    deliver(hook)
    assert MentionReadBack.objects.get().status == "read"
    assert mentions.read_due_mentions() == 0
    assert InboxItem.objects.count() == 1


def test_a_mention_deleted_before_its_read_back_is_recorded_gone(world, sandbox):
    _channel, mention, deliver = world
    made, hook = mention("@kbh skrev noget forkert")
    sandbox.control("DELETE", f"/_sandbox/items/instagram/{made['item_id']}")
    deliver(hook)
    assert mentions.read_due_mentions() == 0
    row = MentionReadBack.objects.get()
    assert row.status == "gone"
    assert "100/33" in row.last_error
    assert row.finished_at is not None
    assert not InboxItem.objects.exists()
    # Never asked again.
    later = timezone.now() + timedelta(days=2)
    assert mentions.due(later).count() == 0


def test_a_mention_holding_a_cpr_number_is_masked(world, member, client_for):
    _channel, mention, deliver = world
    _made, hook = mention("@kbh mit CPR er 010190-1234, hvad gør jeg?")
    deliver(hook)
    mentions.read_due_mentions()
    item = InboxItem.objects.get()
    assert item.personal_data == ["cpr"]
    assert item.conversation.has_personal_data
    client = client_for(member(Role.EDITOR))
    listed = client.get("/indbakke/").content.decode()
    assert "010190-1234" not in listed
    assert "[CPR-nummer skjult]" in listed
    # The conversation shows it masked (the full text only on request).
    page = client.get(f"/indbakke/{item.conversation.pk}/").content.decode()
    assert "[CPR-nummer skjult]" in page


def test_a_mention_of_a_broken_connection_waits_for_it(world, sandbox):
    from kanal.channels.models import ChannelStatus

    channel, mention, deliver = world
    _made, hook = mention("@kbh hallo")
    deliver(hook)
    channel.status = ChannelStatus.NEEDS_RECONNECT
    channel.save(update_fields=["status"])
    assert mentions.read_due_mentions() == 0
    assert MentionReadBack.objects.get().status == "pending"
    channel.status = ChannelStatus.CONNECTED
    channel.save(update_fields=["status"])
    assert mentions.read_due_mentions() == 1


# -- without the sandbox -----------------------------------------------------


def _events(value):
    body = {"object": "instagram", "entry": [{"id": "IG1", "time": 1765000000,
            "changes": [{"field": "mentions", "value": value}]}]}
    return meta.events("instagram", body, now=timezone.now())


@pytest.mark.parametrize(("value", "skipped"), [
    ({}, ["no_item_id"]),
    ({"media_id": "", "comment_id": None}, ["no_item_id"]),
    ({"media_id": "1/../2"}, ["bad_id"]),
    ({"media_id": "17", "comment_id": "x" * 300}, ["bad_id"]),
    ({"media_id": {"id": "17"}}, ["no_item_id"]),
])
def test_a_mention_webhook_with_no_usable_id_is_skipped(value, skipped):
    assert _events(value) == ([], skipped)


def test_a_mention_webhook_is_a_read_back_of_its_ids():
    [event], skipped = _events({"comment_id": "179", "media_id": 180})
    assert skipped == []
    assert (event.action, event.mention_ids) == (meta.READ_BACK, ("179", "180"))
    [event], _ = _events({"media_id": "180"})
    assert event.mention_ids == ("", "180")


def test_a_backoff_doubles_to_six_hours():
    waits = [mentions.backoff(n) for n in (1, 2, 3, 10, 100)]
    assert waits == [timedelta(minutes=1), timedelta(minutes=2),
                     timedelta(minutes=4), timedelta(hours=6), timedelta(hours=6)]


@pytest.mark.parametrize(("error", "gone"), [
    (Rejected("x", network_code="100/33", http_status=400), True),
    # An invalid parameter, not a missing object (T7b-4).
    (Rejected("x", network_code=100, http_status=400), False),
    (Rejected("x", http_status=404), True),
    (Rejected("x", network_code=190, http_status=400), False),
    (Rejected("x", network_code=10, http_status=403), False),
    (TransientError("x", http_status=500), False),
])
def test_which_answers_say_a_mention_is_gone(error, gone):
    assert instagram.mention_gone(error) is gone


def test_an_answer_that_is_not_the_mention_asked_for_is_read_again(
    world, sandbox, monkeypatch
):
    """An untrusted answer naming another object (or none) is no mention:
    the read-back waits and is tried again."""
    _channel, mention, deliver = world
    made, hook = mention("@kbh hej")
    deliver(hook)
    monkeypatch.setattr(instagram.InstagramAdapter, "get",
                        lambda self, path, **params: {"mentioned_media": {
                            "id": "999", "caption": "noget andet"}})
    assert mentions.read_due_mentions() == 0
    row = MentionReadBack.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert not InboxItem.objects.exists()
    assert made["item_id"] != "999"


def test_a_mention_with_a_cpr_number_arrives_where_hiding_is_asked_for(
    world, sandbox, organisation
):
    """Someone else's caption cannot be hidden by the account: the guard's
    attempt fails (the editors are told), the mention is stored and read."""
    from kanal.inbox.models import InboxSettings

    InboxSettings.objects.create(organisation=organisation, hide_personal_data=True)
    _channel, mention, deliver = world
    made, hook = mention("@kbh mit cpr er 010190-1234")
    deliver(hook)
    assert mentions.read_due_mentions() == 1
    item = InboxItem.objects.get()
    assert item.personal_data == ["cpr"]
    assert MentionReadBack.objects.get().status == "read"
    assert not sandbox.item("instagram", made["item_id"])["hidden"]
