"""Found by the fifth outside tester (T5b): Meta webhook bodies as a proxy
or a relay may pass them on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kanal.inbox import intake
from kanal.inbox.models import InboxItem, WebhookDelivery

pytestmark = pytest.mark.django_db


def _comment_body(comment="P1_1") -> bytes:
    now = int(datetime.now(UTC).timestamp())
    return json.dumps({"object": "page", "entry": [{
        "id": "P1", "time": now, "changes": [{"field": "feed", "value": {
            "from": {"id": "c-1", "name": "Mette"}, "post_id": "P1_9",
            "comment_id": comment, "parent_id": "P1_9", "message": "Hej æøå",
            "created_time": now, "item": "comment", "verb": "add"}}]}]},
        ensure_ascii=False).encode("utf-8")


@pytest.mark.usefixtures("meta_channels")
def test_a_signed_body_with_a_byte_order_mark_is_read(post_webhook):
    """T5b-6: a body signed as sent, with a UTF-8 byte order mark in front
    (RFC 8259: a parser may ignore it), was refused 400 "invalid_json":
    Meta tries a refused delivery again for a while, then drops it, and the
    comment waited for the catch-up poll, if it ever came by. The mark is
    ignored; the signature is still checked over the bytes as sent."""
    response = post_webhook("facebook", b"\xef\xbb\xbf" + _comment_body())
    assert response.status_code == 200
    intake.process_deliveries()
    assert InboxItem.objects.get().text == "Hej æøå"
    assert WebhookDelivery.objects.get().status == "processed"


@pytest.mark.usefixtures("meta_channels")
def test_a_signed_body_that_is_not_utf8_is_still_refused(post_webhook):
    body = _comment_body().replace("æøå".encode(), "æøå".encode("latin-1"))
    response = post_webhook("facebook", body)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


@pytest.mark.usefixtures("meta_channels")
def test_the_mark_is_no_way_around_the_signature(client):
    """The signature over the body without the mark does not pass for the
    body with it: the bytes as sent are signed."""
    from django.conf import settings

    from kanal.channels.networks import graph

    body = _comment_body()
    response = client.generic(
        "POST", "/webhooks/facebook/", b"\xef\xbb\xbf" + body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=graph.sign(settings.KANAL_META_APP_SECRET, body))
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists()


def _visitor_post(*, post="P1_77", author="c-5", item="status", verb="add",
                  message="Hvorfor er der ikke ryddet sne på Amagerbrogade?"):
    now = int(datetime.now(UTC).timestamp())
    value = {"post_id": post, "message": message, "created_time": now,
             "item": item, "verb": verb, "published": 1}
    if author:
        value["from"] = {"id": author, "name": "Jens"}
    return {"object": "page", "entry": [{"id": "P1", "time": now, "changes": [
        {"field": "feed", "value": value}]}]}


@pytest.mark.parametrize("item", ["status", "photo", "video", "post", "share"])
@pytest.mark.usefixtures("meta_channels")
def test_a_citizens_post_on_the_page_reaches_the_inbox(post_webhook, item):
    """T5b-7: a citizen's own post on the page (Facebook's visitor posts:
    ``feed`` with ``item`` status, photo, video …) was skipped as
    "not_a_comment", and the catch-up poll reads only the page's own posts'
    comments: a question written to the municipality on its page never
    reached the desk. It is stored as a mention of the page (its own
    conversation, answered by a comment under it); the page's own posts
    announced the same way stay out."""
    post_webhook("facebook", _visitor_post(item=item))
    intake.process_deliveries()
    stored = InboxItem.objects.get()
    assert (stored.remote_id, stored.kind, stored.author_id) == (
        "P1_77", "mention", "c-5")
    assert stored.text.startswith("Hvorfor er der ikke ryddet sne")
    assert stored.conversation.status == "new"


@pytest.mark.usefixtures("meta_channels")
def test_a_citizens_post_edited_and_removed_is_recorded(post_webhook):
    post_webhook("facebook", _visitor_post())
    post_webhook("facebook", _visitor_post(verb="edited", message="Nu med billede"))
    post_webhook("facebook", _visitor_post(verb="remove"))
    intake.process_deliveries()
    stored = InboxItem.objects.get()
    assert stored.text == "Nu med billede"
    assert stored.deleted_on_network_at is not None


@pytest.mark.parametrize("author", ["P1", ""], ids=["the page", "no author"])
@pytest.mark.usefixtures("meta_channels")
def test_the_pages_own_post_or_one_without_author_is_no_question(
    post_webhook, author
):
    post_webhook("facebook", _visitor_post(author=author))
    intake.process_deliveries()
    assert not InboxItem.objects.exists()


@pytest.mark.usefixtures("meta_channels")
def test_a_comment_under_a_citizens_post_joins_its_conversation(post_webhook):
    post_webhook("facebook", _visitor_post())
    now = int(datetime.now(UTC).timestamp())
    post_webhook("facebook", {"object": "page", "entry": [{
        "id": "P1", "time": now, "changes": [{"field": "feed", "value": {
            "from": {"id": "c-6", "name": "Lise"}, "post_id": "P1_77",
            "comment_id": "P1_77_1", "parent_id": "P1_77", "message": "Enig!",
            "created_time": now, "item": "comment", "verb": "add"}}]}]})
    intake.process_deliveries()
    assert InboxItem.objects.count() == 2
    assert len({i.conversation_id for i in InboxItem.objects.all()}) == 1


@pytest.mark.usefixtures("meta_channels")
def test_a_webhook_for_a_channel_turned_off_says_so(post_webhook, meta_channels,
                                                   caplog):
    """T5b-9: a comment on a page whose channel is turned off ("Slået
    fra") was skipped as "unknown_page" and logged as a page Kanal does not
    know: the operator reading the delivery was sent looking for a missing
    channel. It is skipped as "channel_disabled" (nothing is stored while
    the channel is off; the poll reads from its cursor when it is on
    again)."""
    meta_channels["facebook"].status = "disabled"
    meta_channels["facebook"].save(update_fields=["status"])
    post_webhook("facebook", _comment_body())
    with caplog.at_level("WARNING", logger="kanal.inbox.intake"):
        intake.process_deliveries()
    assert not InboxItem.objects.exists()
    assert WebhookDelivery.objects.get().outcome["skipped"] == {
        "channel_disabled": 1}
    assert "does not know" not in caplog.text


@pytest.mark.usefixtures("meta_channels")
def test_the_page_turned_off_here_and_connected_elsewhere_goes_there(
    post_webhook, meta_channels, organisation
):
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import OrganisationFactory

    meta_channels["facebook"].status = "disabled"
    meta_channels["facebook"].save(update_fields=["status"])
    other = ChannelFactory(organisation=OrganisationFactory(), network="facebook",
                           remote_id="P1", status="connected")
    post_webhook("facebook", _comment_body())
    intake.process_deliveries()
    assert InboxItem.objects.get().channel == other
    # Named by the turned-off channel's organisation, it is not the other's.
    post_webhook("facebook", _comment_body(comment="P1_2"),
                 path=f"/webhooks/facebook/{organisation.slug}/")
    intake.process_deliveries()
    assert WebhookDelivery.objects.order_by("-pk").first().outcome["skipped"] == {
        "channel_disabled": 1}
