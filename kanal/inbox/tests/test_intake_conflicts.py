"""A conflict with another transaction while intake stores an item (a
PostgreSQL deadlock, SQLite's busy lock) is no fault of the item: it is never
skipped as refused, and a webhook body that met one stays pending."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import OperationalError

from kanal.core import database
from kanal.inbox import intake
from kanal.inbox.models import DeliveryStatus, InboxItem, WebhookDelivery

from .conftest import fb_comment

pytestmark = pytest.mark.django_db(transaction=True)


def conflict() -> OperationalError:
    try:
        raise OperationalError("deadlock detected") from _Deadlock()
    except OperationalError as error:
        return error


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_an_item_met_by_a_conflict_is_stored_on_the_next_try(
    post_webhook, facebook_channel, monkeypatch
):
    monkeypatch.setattr(database.time, "sleep", lambda seconds: None)
    post_webhook("facebook", fb_comment())
    real = intake._ingest
    tries = []

    def once_in_conflict(*args):
        tries.append(1)
        if len(tries) == 1:
            raise conflict()
        return real(*args)

    monkeypatch.setattr(intake, "_ingest", once_in_conflict)
    intake.process_deliveries()
    assert InboxItem.objects.count() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert delivery.outcome["created"] == 1
    assert "refused_by_database" not in delivery.outcome["skipped"]


def test_a_body_whose_conflict_outlasts_the_retries_stays_pending(
    post_webhook, facebook_channel, monkeypatch
):
    monkeypatch.setattr(database.time, "sleep", lambda seconds: None)
    post_webhook("facebook", fb_comment())

    def always(*args):
        raise conflict()

    monkeypatch.setattr(intake, "_ingest", always)
    with pytest.raises(OperationalError):
        intake.process_deliveries()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    assert not InboxItem.objects.exists()
    monkeypatch.undo()
    intake.process_deliveries()
    assert InboxItem.objects.count() == 1


def test_sqlites_lock_is_classified_like_postgresqls_deadlock():
    error = sqlite3.OperationalError("database is locked")
    assert database.classify(error) == database.classify(conflict()) == "conflict"
