"""Polling is guarded per channel and per item: what one channel's network
answers never stops polling of the channels after it, and the failure is on
that channel's cursor for the desk to see."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as tz

import pytest
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.channels.networks.base import InboxPage
from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import polling
from kanal.inbox.models import InboxItem, PollCursor
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


def network_item(channel, *, text="Hvornår åbner det?", created_at, remote_id=None):
    return NetworkItem(
        remote_id=remote_id or f"r-{channel.pk}", kind="comment", author_id="a",
        author_name="Mette", text=text, created_at=created_at,
        post_remote_id="p", parent_remote_id="p")


def answering(monkeypatch, answer):
    """Polling's adapters replaced by one whose ``fetch_inbox`` is
    ``answer(channel)``: what a network could send."""

    class Adapter:
        def __init__(self, channel):
            self.channel = channel

        def fetch_inbox(self, since=None):
            return answer(self.channel)

    monkeypatch.setattr(polling, "adapter_for", Adapter)


@pytest.fixture
def two_channels(organisation):
    return (ChannelFactory(organisation=organisation, network="mastodon"),
            ChannelFactory(organisation=organisation, network="mastodon"))


def test_a_comment_with_a_nul_character_does_not_stop_polling(
    two_channels, monkeypatch
):
    first, second = two_channels
    now = timezone.now()

    def answer(channel):
        text = "hej \x00" if channel.pk == first.pk else "Hvornår åbner det?"
        return InboxPage(items=(network_item(
            channel, text=text, created_at=now - timedelta(minutes=1)),),
            cursor="next")

    answering(monkeypatch, answer)
    polling.poll_due_channels(now=now)
    assert InboxItem.objects.filter(channel=second).exists()
    assert PollCursor.objects.get(channel=first).cursor == "next"


def test_an_unreadable_answer_stops_only_its_channel_and_is_on_its_cursor(
    two_channels, monkeypatch, member, client_for
):
    first, second = two_channels
    now = timezone.now()

    def answer(channel):
        if channel.pk == first.pk:
            # What json.loads raises on a deeply nested answer.
            raise RecursionError("maximum recursion depth exceeded")
        return InboxPage(items=(network_item(
            channel, created_at=now - timedelta(minutes=1)),), cursor="c2")

    PollCursor.objects.create(channel=first, cursor="where-we-were")
    answering(monkeypatch, answer)
    assert polling.poll_due_channels(now=now) == 2
    assert InboxItem.objects.filter(channel=second).exists()
    cursor = PollCursor.objects.get(channel=first)
    assert cursor.cursor == "where-we-were"  # the next poll reads the span again
    assert cursor.last_polled_at == now  # it waits its turn, not first every run
    assert "Indbakken kunne ikke hentes" in polling.poll_error(cursor)
    assert "RecursionError" in polling.poll_error(cursor)
    assert first not in polling.due_channels(now + timedelta(seconds=1))
    # The desk sees why the channel's inbox went quiet, on the channel's page,
    # in the reader's language (the reason is stored untranslated: T4-8).
    client = client_for(member(Role.EDITOR))
    page = client.get(f"/kanaler/{first.pk}/")
    assert "Indbakken: Indbakken kunne ikke hentes" in page.content.decode()
    client.cookies["django_language"] = "en"
    page = client.get(f"/kanaler/{first.pk}/").content.decode()
    assert ("The inbox could not be fetched: the network&#x27;s answer could not "
            "be read (RecursionError)") in page


def test_an_item_that_cannot_be_stored_is_skipped_and_the_cursor_moves_on(
    two_channels, monkeypatch
):
    first, _second = two_channels
    now = timezone.now()
    year_one = datetime(1, 1, 1, tzinfo=tz(timedelta(hours=1)))

    answering(monkeypatch, lambda channel: InboxPage(items=(
        network_item(channel, created_at=year_one, remote_id="odd"),
        network_item(channel, created_at=now - timedelta(minutes=1),
                     remote_id="good"),
    ), cursor="next"))
    polling.poll_due_channels(now=now)
    assert InboxItem.objects.filter(channel=first, remote_id="good").exists()
    cursor = PollCursor.objects.get(channel=first)
    assert (cursor.cursor, cursor.last_error) == ("next", "")


def test_a_run_stops_at_its_time_budget_and_the_channels_left_go_first_next_run(
    organisation, monkeypatch, settings
):
    """A slow network must not hold the worker's network lane: one run starts
    no new channel after ``POLL_RUN_SECONDS``; those left waited longest and
    are polled first in the next run."""
    from kanal.publishing import periodic

    settings.KANAL_INBOX = {"POLL_RUN_SECONDS": 30}
    now = timezone.now()
    channels = [ChannelFactory(organisation=organisation, network="mastodon")
                for _ in range(4)]
    # Polled before, oldest first: channels[3] waited longest, then [2] …
    for age, channel in enumerate(channels):
        PollCursor.objects.create(channel=channel, cursor="c",
                                  last_polled_at=now - timedelta(hours=2, minutes=age))
    clock = [1000.0]
    monkeypatch.setattr(periodic.time, "monotonic", lambda: clock[0])
    order = []

    def answer(channel):
        order.append(channel.pk)
        clock[0] += 20  # every network answers in 20 s
        return InboxPage(items=(), cursor="c")

    answering(monkeypatch, answer)
    assert polling.poll_due_channels(now=now) == 2  # 0 s and 20 s: started; 40 s: not
    assert order == [channels[3].pk, channels[2].pk]
    later = now + timedelta(seconds=1)
    assert polling.poll_due_channels(now=later) == 2
    assert order[2:] == [channels[1].pk, channels[0].pk]
    # Each was polled once: none waits for ever behind the slow ones.
    assert sorted(order) == sorted(c.pk for c in channels)


def test_never_polled_channels_go_first(organisation):
    now = timezone.now()
    old = ChannelFactory(organisation=organisation, network="mastodon")
    PollCursor.objects.create(channel=old, cursor="c",
                              last_polled_at=now - timedelta(days=2))
    new = ChannelFactory(organisation=organisation, network="mastodon")
    assert polling.due_channels(now) == [new, old]
