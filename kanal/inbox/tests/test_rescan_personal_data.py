"""``manage.py inbox_rescan_personal_data``: items stored before personal
data was read as shown (a CPR number with an invisible character in it, or
drawn backwards by an override) are flagged as a new item would be, in
batches; hidden on the network only where the organisation asks for it and
the item is young enough; audited. ``--dry-run`` counts and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.inbox.models import Conversation, InboxItem, InboxSettings
from kanal.notifications.models import Notification

from .factories import citizen_item

HIDDEN_CPR = "Mit cpr er 120385\u200b-1234"
BACKWARDS_CPR = "Mit cpr er \u202e4321-583021\u202c"


def stored_before(item, text, *, days=0):
    """``item`` as stored before the scan read text as shown: ``text``, no
    flag, ``days`` old."""
    when = timezone.now() - timedelta(days=days)
    InboxItem.objects.filter(pk=item.pk).update(
        text=text, personal_data=[], created_at=when, received_at=when)
    Conversation.objects.filter(pk=item.conversation_id).update(
        has_personal_data=False)
    item.refresh_from_db()
    return item


def rescan(*args):
    out = StringIO()
    call_command("inbox_rescan_personal_data", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing(desk):
    item = stored_before(citizen_item(desk["channel"], "Hej"), HIDDEN_CPR)
    citizen_item(desk["channel"], "Ingen numre her")
    out = rescan("--dry-run")
    assert "2 læst, 1 får nyt flag" in out
    item.refresh_from_db()
    assert item.personal_data == []
    assert not AuditEntry.objects.filter(
        event="inbox.personal_data.rescanned").exists()


@pytest.mark.django_db
def test_stored_items_are_flagged_as_new_ones_in_batches(desk):
    hidden = stored_before(citizen_item(desk["channel"], "Hej"), HIDDEN_CPR)
    backwards = stored_before(citizen_item(desk["channel"], "Hej"), BACKWARDS_CPR,
                              days=90)
    plain = citizen_item(desk["channel"], "Ingen numre her")
    out = rescan("--batch", "1")
    assert "3 læst, 2 får nyt flag" in out
    for item in (hidden, backwards, plain):
        item.refresh_from_db()
        item.conversation.refresh_from_db()
    assert hidden.personal_data == ["cpr"] and backwards.personal_data == ["cpr"]
    assert hidden.conversation.has_personal_data
    assert backwards.conversation.has_personal_data
    assert plain.personal_data == [] and not plain.conversation.has_personal_data
    entry = AuditEntry.objects.get(event="inbox.personal_data.rescanned")
    assert entry.changes["flagged"] == 2
    # The young item is put before the editors as a new one would be; the
    # old one is only flagged (no notification for every item of the past).
    subjects = set(Notification.objects.filter(
        kind="inbox_personal_data").values_list("subject", flat=True))
    assert subjects == {f"inbox.conversation:{hidden.conversation_id}"}
    # Run again: nothing new.
    assert "0 får nyt flag" in rescan()


@pytest.mark.django_db(transaction=True)
def test_only_young_items_are_hidden_and_only_where_the_organisation_asks(world):
    item, channel, sandbox = world["item"], world["channel"], world["sandbox"]
    made = sandbox.citizen("facebook", "Hej igen", parent_id=world["post"].remote_id,
                           author_name="Jens Holm", account=channel.remote_id)
    from kanal.inbox import polling

    polling.poll_channel(channel)
    old = InboxItem.objects.get(remote_id=made["item_id"])
    stored_before(item, HIDDEN_CPR)
    stored_before(old, HIDDEN_CPR, days=30)
    InboxSettings.objects.update_or_create(organisation_id=channel.organisation_id,
                                           defaults={"hide_personal_data": True})
    rescan()
    item.refresh_from_db()
    old.refresh_from_db()
    assert item.personal_data == ["cpr"] and old.personal_data == ["cpr"]
    assert item.hidden_on_network is True
    assert old.hidden_on_network is False


@pytest.mark.django_db(transaction=True)
def test_nothing_is_hidden_where_the_organisation_does_not_ask(world):
    item = world["item"]
    stored_before(item, HIDDEN_CPR)
    rescan()
    item.refresh_from_db()
    assert item.personal_data == ["cpr"] and item.hidden_on_network is False
