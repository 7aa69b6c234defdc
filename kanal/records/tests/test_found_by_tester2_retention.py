"""OUTSIDE TESTER 2 (branch tester2): failing tests for retention and
erasure of citizens' personal data in the inbox. Each test names its finding
in /work/briefs/findings2.md. They fail on main as of 39dbe77."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.inbox import intake
from kanal.inbox.models import InboxItem, InboxSettings, WebhookDelivery
from kanal.records import retention

pytestmark = pytest.mark.django_db

PAGE = "104738291045678"
CPR = "010190-1234"


@pytest.fixture
def delivered(organisation, desk):
    """A Facebook page; a citizen's comment with a CPR number and a message,
    each delivered by a (stored) webhook and processed; 30-day period."""
    from kanal.channels.tests.factories import ChannelFactory

    InboxSettings.objects.create(organisation=organisation, retention_days=30)
    ChannelFactory(organisation=organisation, network="facebook", remote_id=PAGE,
                   owner_administration=desk["kff"])
    comment = {"object": "page", "entry": [{"id": PAGE, "time": 1_780_000_000,
        "changes": [{"field": "feed", "value": {
            "from": {"id": "c-77", "name": "Mette Hansen"},
            "post_id": f"{PAGE}_9", "comment_id": f"{PAGE}_1",
            "parent_id": f"{PAGE}_9", "item": "comment", "verb": "add",
            "message": f"Mit CPR er {CPR}", "created_time": 1_780_000_000}}]}]}
    message = {"object": "page", "entry": [{"id": PAGE, "time": 1_780_000_000,
        "messaging": [{"sender": {"id": "c-77"}, "recipient": {"id": PAGE},
                       "timestamp": 1_780_000_000_000,
                       "message": {"mid": "m_1", "text": f"CPR {CPR}"}}]}]}
    for body in (comment, message):
        intake.store_delivery(network="facebook",
                              body=json.dumps(body).encode())
    intake.process_deliveries()
    old = timezone.now() - timedelta(days=60)
    InboxItem.objects.update(received_at=old, created_at=old)
    return organisation


def _still_holding_personal_data():
    return [d.pk for d in WebhookDelivery.objects.all()
            if CPR in d.body or "Mette Hansen" in d.body or "c-77" in d.body]


@pytest.mark.usefixtures("delivered")
def test_finding_14_retention_leaves_the_raw_webhook_bodies():
    """Finding 14: retention redacts the items and their versions, but the
    raw webhook bodies (``WebhookDelivery.body``, kept forever, no job
    removes them) still hold the citizen's text with the CPR number, name
    and id."""
    assert retention.apply_retention().redacted == 2
    assert not InboxItem.objects.filter(text__contains=CPR).exists()
    assert _still_holding_personal_data() == []


@pytest.mark.usefixtures("delivered")
def test_finding_14_an_erasure_leaves_them_too(desk):
    """Finding 14: a citizen's erasure (``erase_person``) redacts their items
    and leaves the same raw bodies."""
    erasure = retention.erase_person(actor=desk["officer"], person="c-77",
                                     reason="Borgerens anmodning")
    assert erasure.inbox_redacted == 2
    assert _still_holding_personal_data() == []


@pytest.mark.usefixtures("delivered")
def test_finding_14_the_message_conversation_keeps_the_citizens_id(desk):
    """Finding 14: after the erasure the message conversation is still keyed
    ``dm:<their network id>`` (the id the items lost), so the person is
    still found, and a new message from them joins the erased thread."""
    from kanal.inbox.models import Conversation

    retention.erase_person(actor=desk["officer"], person="c-77",
                           reason="Borgerens anmodning")
    assert not Conversation.objects.filter(key__contains="c-77").exists()
