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
