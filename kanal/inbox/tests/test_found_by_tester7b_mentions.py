"""Found by tester7b (T7b-3, T7b-4): Instagram mention read-backs.

T7b-4: any Graph 400 with code 100 was read as "the mention is gone", so a
read refused as an invalid parameter (code 100 with another subcode than
33, or none) recorded the mention gone for ever; only 100/33 ("does not
exist") and a 404/410 mean gone now. A permission error never meant gone,
but nobody was told: the mention waited, retried in silence. Now the
channel's desk is told (once while unread) and the mention is kept.

T7b-3: a read that kept failing was retried every six hours for ever,
without a word to anyone. Now a mention unread three days after its
webhook (and after eight failed reads) is given up, marked so, and the
desk is told (once while unread).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels.networks import graph
from kanal.inbox import mentions
from kanal.inbox.models import InboxItem, MentionReadBack
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role

from .test_instagram_mentions import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.sandbox


def _notes(kind):
    return Notification.objects.filter(kind=kind)


@pytest.mark.parametrize(("subcode", "status"), [
    (33, "gone"), (None, "pending"), (2108006, "pending"),
])
def test_only_object_does_not_exist_makes_a_mention_gone(
    world, member, monkeypatch, subcode, status  # noqa: F811
):
    """T7b-4: Graph's code 100 as Kanal's Graph translation makes it."""
    _channel, mention, deliver = world
    member(Role.ADMIN)
    _made, hook = mention("@kbh hvor er cykelstien?")
    deliver(hook)
    error = graph.error_for(graph.GraphError(100, subcode=subcode,
                                             message="(#100) x"),
                            http_status=400, network="instagram")

    class Refusing:
        def read_mention(self, **_ids):
            raise error

    monkeypatch.setattr(mentions, "adapter_for", lambda channel: Refusing())
    assert mentions.read_due_mentions() == 0
    row = MentionReadBack.objects.get()
    assert row.status == status
    assert row.finished_at is (None if status == "pending" else row.finished_at)
    if status == "pending":
        assert mentions.due(timezone.now() + timedelta(hours=1)).count() == 1


def test_a_permission_error_keeps_the_mention_and_tells_the_desk_once(
    world, sandbox, member  # noqa: F811
):
    """T7b-4: the sandbox's Instagram answers 403, code 10."""
    channel, mention, deliver = world
    admin = member(Role.ADMIN)
    made, hook = mention("@kbh tak for i går")
    deliver(hook)
    now = timezone.now()
    sandbox.fault("instagram", "missing_permission", operation="inbox", count=2)
    assert mentions.read_due_mentions(now=now) == 0
    assert mentions.read_due_mentions(now=now + timedelta(minutes=1)) == 0
    row = MentionReadBack.objects.get()
    assert (row.status, row.attempts) == ("pending", 2)
    [note] = _notes(mentions.MENTION_DENIED)
    assert note.recipient == admin
    assert note.read_at is None
    assert "(#10)" in note.message or "kode 10" in note.message
    assert str(channel) in note.message

    # The permission is given back: the mention is read, the notice is over.
    assert mentions.read_due_mentions(now=now + timedelta(minutes=4)) == 1
    assert InboxItem.objects.get().remote_id == made["item_id"]
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_mention_failing_for_three_days_is_given_up_and_the_desk_told(
    world, sandbox, member  # noqa: F811
):
    """T7b-3."""
    channel, mention, deliver = world
    admin = member(Role.ADMIN)
    _made, hook = mention("@kbh vejen er oversvømmet")
    deliver(hook)
    sandbox.fault("instagram", "server_error", operation="inbox", count=100)
    row = MentionReadBack.objects.get()
    now = timezone.now()
    tries = 0
    while row.status == "pending":
        assert now - row.received_at < mentions.GIVE_UP_AFTER + timedelta(hours=7)
        assert mentions.read_due_mentions(now=now) == 0
        tries, tried_at = tries + 1, now
        row.refresh_from_db()
        assert not _notes(mentions.MENTION_GAVE_UP).exists() or (
            row.status == "gave_up")
        now = max(row.next_attempt_at, now)
    assert row.status == "gave_up"
    assert tries >= mentions.GIVE_UP_ATTEMPTS
    assert tried_at - row.received_at >= mentions.GIVE_UP_AFTER
    assert row.finished_at == tried_at
    assert "HTTP 5" in row.last_error
    [note] = _notes(mentions.MENTION_GAVE_UP)
    assert note.recipient == admin
    assert str(channel) in note.message and "3 dage" in note.message
    # Asked for no more.
    assert mentions.due(tried_at + timedelta(days=30)).count() == 0
    assert not InboxItem.objects.exists()


def test_many_mentions_given_up_at_once_are_one_notice(world, sandbox, member):  # noqa: F811
    _channel, mention, deliver = world
    member(Role.ADMIN)
    for text in ("@kbh én", "@kbh to", "@kbh tre"):
        deliver(mention(text)[1])
    sandbox.fault("instagram", "server_error", operation="inbox", count=100)
    later = timezone.now() + mentions.GIVE_UP_AFTER
    MentionReadBack.objects.update(attempts=mentions.GIVE_UP_ATTEMPTS)
    mentions.read_due_mentions(now=later)
    assert set(MentionReadBack.objects.values_list("status", flat=True)) == {
        "gave_up"}
    assert _notes(mentions.MENTION_GAVE_UP).count() == 1


def test_a_mention_that_waited_for_its_connection_gets_its_tries(
    world, sandbox  # noqa: F811
):
    """Old but never tried (its channel was broken): one failure gives
    nothing up."""
    _channel, mention, deliver = world
    deliver(mention("@kbh gammel omtale")[1])
    sandbox.fault("instagram", "server_error", operation="inbox", count=1)
    mentions.read_due_mentions(now=timezone.now() + timedelta(days=5))
    assert MentionReadBack.objects.get().status == "pending"
