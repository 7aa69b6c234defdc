"""Meta's webhook events out of order, and their times (findings 8 and 9 of
the second outside tester, the wider class: the other direction, edits, the
desk's own hide, replies in answered conversations, and times near now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kanal.inbox import intake, meta, moderation
from kanal.inbox.models import Conversation, InboxItem, Reason, WebhookDelivery

from .conftest import fb_comment

pytestmark = pytest.mark.django_db

T0 = 1_780_000_000


def _versions(item):
    return list(item.versions.order_by("network_time", "pk").values_list(
        "change", "text"))


def test_a_hide_delivered_after_an_older_unhide_still_hides(deliver):
    deliver(
        fb_comment(),
        fb_comment(verb="hide", when=T0 + 100),
        fb_comment(verb="unhide", when=T0 + 50))
    assert InboxItem.objects.get().hidden_on_network is True


def test_an_older_hide_after_a_first_seen_unhide_changes_nothing(deliver):
    deliver(
        fb_comment(verb="unhide", when=T0 + 100),
        fb_comment(verb="hide", when=T0 + 50))
    assert InboxItem.objects.get().hidden_on_network is False


@pytest.mark.django_db(transaction=True)
def test_the_desks_own_unhide_is_not_undone_by_an_older_hide_delivered_late(
    post_webhook, world
):
    item, editor = world["item"], world["editor"]
    moderation.moderate_item(item, actor=editor, kind="hide", reason=Reason.SPAM)
    moderation.moderate_item(item, actor=editor, kind="unhide", reason=Reason.SPAM)
    # Meta's event for the desk's hide, retried, arrives after both.
    before = int((timezone.now() - timedelta(seconds=5)).timestamp())
    post_webhook("facebook", fb_comment(item.remote_id, verb="hide", when=before,
                                        page=world["channel"].remote_id))
    intake.process_deliveries()
    assert WebhookDelivery.objects.get().outcome["skipped"] == {"older_change": 1}
    item.refresh_from_db()
    assert item.hidden_on_network is False


def test_an_edit_before_its_comment_is_an_edit_and_the_comment_the_original(deliver):
    deliver(
        fb_comment(verb="edited", text="Rettet", when=T0 + 300),
        fb_comment(text="Først"))
    item = InboxItem.objects.get()
    assert _versions(item) == [("original", "Først"), ("edited", "Rettet")]
    assert item.text == "Rettet"
    assert item.edited_at == datetime.fromtimestamp(T0 + 300, UTC)


def test_a_replayed_comment_after_its_deletion_and_late_add_adds_nothing(deliver):
    deliver(
        fb_comment(verb="remove", text="", when=T0 + 900),
        fb_comment(text="Hvornår åbner det?"),
        fb_comment(text="Hvornår åbner det?"))
    item = InboxItem.objects.get()
    assert _versions(item) == [("original", "Hvornår åbner det?"), ("deleted", "")]
    assert item.deleted_on_network_at is not None


def test_a_deleted_reply_first_seen_does_not_reopen_an_answered_conversation(deliver):
    now = int(timezone.now().timestamp())
    deliver(fb_comment("c_1", created=now - 600))
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(status="answered",
                                                           due_at=None)
    deliver(fb_comment("c_2", verb="remove", text="", parent="c_1",
                       created=now - 60, when=now))
    conversation.refresh_from_db()
    assert InboxItem.objects.count() == 2
    assert conversation.status == "answered"
    assert conversation.due_at is None


def test_a_comment_first_seen_deleted_needs_no_reply_and_its_add_keeps_it_so(deliver):
    now = int(timezone.now().timestamp())
    deliver(
        fb_comment(verb="remove", text="", created=now - 60, when=now),
        fb_comment(created=now - 60))
    conversation = Conversation.objects.get()
    assert conversation.status == "no_reply"
    assert conversation.due_at is None


@pytest.mark.parametrize("value", [
    4_102_444_800_000,  # 2100 in milliseconds
    "4102444800",  # 2100 as a numeric string
    "2027-06-01T00:00:00+0000",  # next year: within the year, not the hour
    1_000_000_000,  # 2001, before social media
])
def test_a_time_far_from_the_delivery_is_refused_however_written(value):
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert meta._time(value, now) == now


@pytest.mark.parametrize("value", [
    int(datetime(2026, 12, 7, 13, 0, tzinfo=UTC).timestamp()),  # a clock ahead
    int(datetime(2026, 12, 7, 11, 0, tzinfo=UTC).timestamp()) * 1000,
    "2026-12-06T09:30:00+0000",
])
def test_a_time_near_the_delivery_is_kept(value):
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert meta._time(value, now) != now
