"""What a network sends is untrusted: a NUL, a control character, an id
longer than Kanal keeps or a link too long to keep never stops intake; one
poisoned webhook body never blocks the bodies after it (on PostgreSQL a
failed statement used to roll back the whole batch, so the same body failed
first on every later run and no comment was processed again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import intake
from kanal.inbox.models import DeliveryStatus, InboxItem, WebhookDelivery

from .conftest import fb_comment

pytestmark = pytest.mark.django_db

GOOD = "104738291045678_1"


@pytest.mark.parametrize("bad", [
    fb_comment("104738291045678_2", text="hej \u0000 der"),
    fb_comment("104738291045678_" + "9" * 300),
    fb_comment("104738291045678_3", author="a" * 400, text="x"),
    fb_comment("104738291045678_4\u0000", text="id med NUL"),
], ids=["nul-in-text", "long-id", "long-author-id", "nul-in-id"])
def test_one_poisoned_body_does_not_block_the_ones_after_it(
    post_webhook, facebook_channel, bad
):
    assert post_webhook("facebook", bad).status_code == 200
    assert post_webhook("facebook", fb_comment(GOOD)).status_code == 200
    intake.process_deliveries()
    assert InboxItem.objects.filter(remote_id=GOOD).exists()
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()


def test_control_characters_leave_the_text_and_the_name(post_webhook,
                                                       facebook_channel):
    post_webhook("facebook", fb_comment(
        "104738291045678_2", text="hej \u0000der\u0007 \u001b[31m\tog\nfarvel"))
    intake.process_deliveries()
    item = InboxItem.objects.get(remote_id="104738291045678_2")
    assert item.text == "hej der [31m\tog\nfarvel"
    assert item.versions.get().text == item.text


def _polled(**kw):
    values = dict(remote_id="p1", kind="comment", author_id="a1",
                  author_name="Borger", text="Hej", created_at=datetime.now(UTC),
                  post_remote_id="post1")
    values.update(kw)
    return NetworkItem(**values)


def test_a_polled_item_is_checked_the_same_way(facebook_channel):
    outcome = intake.ingest(facebook_channel, _polled(remote_id="x" * 201))
    assert outcome.skipped == {"bad_id": 1}
    intake.ingest(facebook_channel, _polled(
        remote_id="p2", author_name="Navn\u0000" + "n" * 400,
        url="https://example.org/" + "a" * 600, text="NUL\u0000"))
    item = InboxItem.objects.get(remote_id="p2")
    assert item.text == "NUL" and item.url == ""
    assert len(item.author_name) == intake.NAME_LIMIT
    assert "\u0000" not in item.author_name


def test_a_body_that_fails_unforeseen_is_marked_failed_and_the_rest_go_on(
    post_webhook, facebook_channel, monkeypatch
):
    post_webhook("facebook", fb_comment("104738291045678_2"))
    post_webhook("facebook", fb_comment(GOOD))
    real = intake.process_delivery
    first = WebhookDelivery.objects.order_by("pk").first()

    def explode(delivery, **kw):
        if delivery.pk == first.pk:
            raise RuntimeError("boom")
        return real(delivery, **kw)

    monkeypatch.setattr(intake, "process_delivery", explode)
    intake.process_deliveries()
    first.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED
    assert first.outcome == {"error": "unexpected", "type": "RuntimeError"}
    assert InboxItem.objects.filter(remote_id=GOOD).exists()


def test_an_edit_back_to_the_first_wording_is_what_the_inbox_shows(
    post_webhook, facebook_channel
):
    """Found by the outside tester: the last edit was dropped because an
    older version had the same words, so the desk saw a text the citizen no
    longer shows."""
    cid = "104738291045678_7"
    post_webhook("facebook", fb_comment(cid, text="Hvornår åbner det?"))
    post_webhook("facebook", fb_comment(cid, text="Det er en skandale!", verb="edited",
                                        when=1_780_000_100))
    back = fb_comment(cid, text="Hvornår åbner det?", verb="edited", when=1_780_000_200)
    post_webhook("facebook", back)
    post_webhook("facebook", back)  # a replay changes nothing
    intake.process_deliveries()
    item = InboxItem.objects.get(remote_id=cid)
    assert item.text == "Hvornår åbner det?"
    assert list(item.versions.order_by("pk").values_list("change", "text")) == [
        ("original", "Hvornår åbner det?"), ("edited", "Det er en skandale!"),
        ("edited", "Hvornår åbner det?")]


def test_a_poll_that_sees_an_edit_back_records_it(facebook_channel):
    intake.ingest(facebook_channel, _polled(remote_id="p3", text="A"), action="poll")
    intake.ingest(facebook_channel, _polled(remote_id="p3", text="B"), action="poll")
    intake.ingest(facebook_channel, _polled(remote_id="p3", text="A"), action="poll")
    intake.ingest(facebook_channel, _polled(remote_id="p3", text="A"), action="poll")
    item = InboxItem.objects.get(remote_id="p3")
    assert item.text == "A"
    assert list(item.versions.order_by("pk").values_list("text", flat=True)) == [
        "A", "B", "A"]


@pytest.mark.parametrize("bad", [
    fb_comment("104738291045678_5", text="\ud800 halv"),
    fb_comment("104738291045678_6\ud800"),
    fb_comment("104738291045678_8", created="0001-01-01T00:00:00+01:00",
               when="0001-01-01T00:00:00+01:00"),
], ids=["lone-surrogate-in-text", "lone-surrogate-in-id", "year-1"])
def test_a_lone_surrogate_or_a_time_in_year_one_does_not_block_intake(
    post_webhook, facebook_channel, bad
):
    import json

    # As Meta would send it: the half pair escaped in the JSON text.
    assert post_webhook("facebook", json.dumps(bad).encode()).status_code == 200
    assert post_webhook("facebook", fb_comment(GOOD)).status_code == 200
    intake.process_deliveries()
    assert InboxItem.objects.filter(remote_id=GOOD).exists()
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    for item in InboxItem.objects.all():
        assert "\ud800" not in item.text and item.created_at.year > 2000


def test_a_network_answer_nested_too_deep_is_unreadable_not_a_crash():
    import httpx

    from kanal.channels.networks.errors import TransientError
    from kanal.channels.networks.http import read_json

    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(TransientError):
        read_json(httpx.Response(200, content=body), network="mastodon")


@pytest.mark.parametrize("remote_id", ['{"id": 1}', "1 2", "../../me", "ø1"])
def test_an_id_no_network_sends_is_refused_not_stored(facebook_channel, remote_id):
    """``kanal.untrusted.usable_id`` is intake's rule too: an object printed
    as text, a space, a path step or a letter outside ASCII is no id of the
    seven networks, so the item is refused, never stored under it."""
    outcome = intake.ingest(facebook_channel, _polled(remote_id=remote_id))
    assert outcome.skipped == {"bad_id": 1}
    assert not InboxItem.objects.exists()


@pytest.mark.parametrize("remote_id", [
    "104738291045678_1", "m_AbC-d_9+/e==", "at://did:plc:abc123/app.bsky.feed.post/3k2a",
    "urn:li:comment:(urn:li:activity:7141,7142)", "17895695668004550"])
def test_the_seven_networks_ids_are_kept(facebook_channel, remote_id):
    intake.ingest(facebook_channel, _polled(remote_id=remote_id))
    assert InboxItem.objects.get().remote_id == remote_id
