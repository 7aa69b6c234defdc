"""An item's versions in the record are ordered and labelled by when the
network says they happened, not by when Kanal learnt of them: an original
that arrives after its edit (a late webhook, a poll that reads it after the
edit was recorded) is recorded as the original ("Oprettet"), the edit as an
edit, and the record shows them in the network's order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox.intake import ingest
from kanal.inbox.models import InboxItem
from kanal.records import actions
from kanal.records.inbox_capture import item_key
from kanal.records.models import RecordChange, RecordEntry

pytestmark = pytest.mark.django_db


def _event(text, created_at):
    return NetworkItem(remote_id="c-9", kind="comment", author_id="77",
                       author_name="Mette Hansen", text=text,
                       created_at=created_at, post_remote_id="p-1",
                       parent_remote_id="p-1")


def _by_network_time(item):
    return [(e.change, e.text, e.occurred_at) for e in RecordEntry.objects.filter(
        source_key=item_key(item)).order_by("occurred_at", "version")]


def test_an_edit_that_arrives_before_its_original_is_recorded_as_an_edit(
        desk, django_capture_on_commit_callbacks):
    channel = desk["facebook"]
    written = timezone.now() - timedelta(hours=1)
    edited = written + timedelta(minutes=10)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, _event("Er badet åbent i dag?", written),
               action="edited", at=edited)
    item = InboxItem.objects.get(remote_id="c-9")
    assert _by_network_time(item) == [
        (RecordChange.EDITED, "Er badet åbent i dag?", edited)]
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, _event("Er badet åbent?", written), action="add",
               at=written)
    assert _by_network_time(item) == [
        (RecordChange.CREATED, "Er badet åbent?", written),
        (RecordChange.EDITED, "Er badet åbent i dag?", edited),
    ]
    # The newest by the network's time is what a deletion carries on.
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, _event("", written), action="remove",
               at=edited + timedelta(minutes=5))
    newest = _by_network_time(item)[-1]
    assert newest[:2] == (RecordChange.DELETED, "Er badet åbent i dag?")


def test_a_version_older_than_every_recorded_one_is_the_original(desk):
    organisation = desk["officer"].organisation
    now = timezone.now()
    later = actions.record(organisation=organisation, kind="post",
                           source="test", source_key="post:1",
                           content={"text": "Rettet"}, occurred_at=now)
    assert later.change == RecordChange.CREATED  # the first Kanal knows
    earlier = actions.record(organisation=organisation, kind="post",
                             source="test", source_key="post:1",
                             content={"text": "Først"},
                             occurred_at=now - timedelta(hours=1))
    assert (earlier.version, earlier.change) == (2, RecordChange.CREATED)
    newer = actions.record(organisation=organisation, kind="post",
                           source="test", source_key="post:1",
                           content={"text": "Rettet igen"},
                           occurred_at=now + timedelta(hours=1))
    assert (newer.version, newer.change) == (3, RecordChange.EDITED)


def test_the_record_page_shows_versions_in_the_networks_order(
        desk, client_for):
    organisation = desk["officer"].organisation
    now = timezone.now()
    actions.record(organisation=organisation, kind="post", source="test",
                   source_key="post:2", content={"text": "Anden udgave"},
                   occurred_at=now, change=RecordChange.EDITED)
    first = actions.record(organisation=organisation, kind="post",
                           source="test", source_key="post:2",
                           content={"text": "Første udgave"},
                           occurred_at=now - timedelta(hours=1))
    page = client_for(desk["officer"]).get(
        f"/journal/post/{first.pk}/").content.decode()
    assert page.index("Første udgave") < page.index("Anden udgave")
