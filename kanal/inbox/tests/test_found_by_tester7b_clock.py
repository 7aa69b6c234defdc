"""Found by tester7b (T7b-5): edit order when the clocks disagree.

Meta stamps each edit with its own clock. Intake pulled every network time
ahead of Kanal's now back to now, so with Meta's clock minutes ahead of
Kanal's, two edits delivered out of order (a retry) were ordered by when
Kanal processed them: the citizen's older wording stayed on screen as the
newest. The network's times now order the versions (only what Kanal shows
or counts as a moment is kept at most now), and a poll, which reads what
the network shows now, still sorts after every version it has seen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import intake
from kanal.inbox.models import InboxItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meta_channels")]


def _feed(post_webhook, *, verb, text, at):
    """Facebook's ``feed`` event for the comment C1 (``verb`` add or
    edited) stamped ``at`` on Meta's clock, delivered and processed."""
    seconds = int(at.timestamp())
    post_webhook("facebook", {"object": "page", "entry": [{
        "id": "P1", "time": seconds, "changes": [{"field": "feed", "value": {
            "from": {"id": "u1", "name": "Ida"}, "post_id": "POST",
            "comment_id": "C1", "parent_id": "POST", "message": text,
            "created_time": int((at if verb == "add" else _asked).timestamp()),
            "item": "comment", "verb": verb}}]}]})
    intake.process_deliveries()


_asked = datetime.now(UTC)


@pytest.mark.parametrize("skew", [timedelta(minutes=5), timedelta(minutes=-10)],
                         ids=["meta-ahead", "meta-behind"])
def test_two_edits_delivered_out_of_order_show_the_newest(post_webhook, skew):
    global _asked
    base = datetime.now(UTC).replace(microsecond=0) + skew
    _asked = base - timedelta(minutes=2)
    _feed(post_webhook, verb="add", text="Hvornår åbner hallen?", at=_asked)
    _feed(post_webhook, verb="edited", text="Hvornår åbner hallen i dag?",
          at=base + timedelta(minutes=1))
    _feed(post_webhook, verb="edited", text="Hvornår åbner hallen i morgen?",
          at=base)
    item = InboxItem.objects.get()
    assert item.text == "Hvornår åbner hallen i dag?"
    assert [v.text for v in item.versions.order_by("network_time")] == [
        "Hvornår åbner hallen?", "Hvornår åbner hallen i morgen?",
        "Hvornår åbner hallen i dag?"]
    # What Kanal shows as a moment is never after its own now.
    assert item.edited_at <= timezone.now()


def test_a_poll_after_edits_stamped_ahead_shows_what_the_network_shows(
    post_webhook, meta_channels
):
    """Meta five minutes ahead: an edit stamped in Kanal's future, then a
    poll that reads a later wording; then another edit after the poll."""
    global _asked
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    _asked = ahead - timedelta(minutes=2)
    _feed(post_webhook, verb="add", text="Er stien åben?", at=_asked)
    _feed(post_webhook, verb="edited", text="Er stien åben nu?", at=ahead)
    polled = NetworkItem(remote_id="C1", kind="comment", author_id="u1",
                         author_name="Ida", text="Er cykelstien åben nu?",
                         created_at=_asked, post_remote_id="POST",
                         parent_remote_id="POST")
    intake.ingest(meta_channels["facebook"], polled, action="poll")
    assert InboxItem.objects.get().text == "Er cykelstien åben nu?"
    _feed(post_webhook, verb="edited", text="Er cykelstien åben i aften?",
          at=ahead + timedelta(minutes=2))
    assert InboxItem.objects.get().text == "Er cykelstien åben i aften?"


def _hide(post_webhook, verb, at):
    seconds = int(at.timestamp())
    post_webhook("facebook", {"object": "page", "entry": [{
        "id": "P1", "time": seconds, "changes": [{"field": "feed", "value": {
            "from": {"id": "u1", "name": "Ida"}, "post_id": "POST",
            "comment_id": "C1", "parent_id": "POST", "message": "Tekst",
            "created_time": int(_asked.timestamp()), "item": "comment",
            "verb": verb}}]}]})
    intake.process_deliveries()


def test_a_poll_after_a_hide_stamped_ahead_is_not_undone_by_that_hide(
    post_webhook, meta_channels
):
    """Meta five minutes ahead: the page hides the comment, shows it again;
    a poll reads it shown; the hide's event, delivered again late, must not
    hide it once more (it is older than what the poll read)."""
    global _asked
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    _asked = ahead - timedelta(minutes=2)
    _feed(post_webhook, verb="add", text="Tekst", at=_asked)
    _hide(post_webhook, "hide", ahead)
    assert InboxItem.objects.get().hidden_on_network is True
    polled = NetworkItem(remote_id="C1", kind="comment", author_id="u1",
                         author_name="Ida", text="Tekst", created_at=_asked,
                         post_remote_id="POST", parent_remote_id="POST",
                         is_hidden=False)
    intake.ingest(meta_channels["facebook"], polled, action="poll")
    assert InboxItem.objects.get().hidden_on_network is False
    _hide(post_webhook, "hide", ahead)  # Meta's retry of the same event
    assert InboxItem.objects.get().hidden_on_network is False


def test_a_network_time_orders_up_to_minutes_ahead_and_no_further():
    """Minutes ahead (a drifting clock) order as stamped; hours ahead are
    the network's error and count as Kanal's now (T4's edit stamped 20
    hours ahead); a time before social media is none."""
    from kanal.untrusted import CLOCK_SKEW, network_order_time

    now = datetime(2026, 12, 8, 12, tzinfo=UTC)
    assert network_order_time(now + CLOCK_SKEW, now=now) == now + CLOCK_SKEW
    assert network_order_time(now - timedelta(hours=3), now=now) == (
        now - timedelta(hours=3))
    assert network_order_time(now + CLOCK_SKEW + timedelta(seconds=1),
                              now=now) == now
    assert network_order_time(now + timedelta(hours=20), now=now) == now
    assert network_order_time(datetime(1970, 1, 1, tzinfo=UTC), now=now) is None
