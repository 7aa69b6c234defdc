"""A record keeps a network's address only as ``kanal.untrusted.safe_url``
keeps it, and its page links only such an address (a row written before
that rule, or by hand in the database, is shown without its link)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.html import escape

from kanal.inbox.tests.test_hostile_links import HOSTILE, IDS
from kanal.records import actions
from kanal.records.models import RecordEntry, RecordKind

pytestmark = pytest.mark.django_db

#: The inbox's hostile links, the long one made too long for a record (the
#: last: no column holds it, so it is never stored to be shown).
RECORD_HOSTILE = [*HOSTILE[:-1], "https://x.example/" + "p" * 1000]


def _recorded(desk, permalink):
    return actions.record(
        organisation=desk["facebook"].organisation, kind=RecordKind.values[0],
        source="inbox", source_key="inbox:item:1", content={"text": "Hej"},
        occurred_at=timezone.now(), channel=desk["facebook"], text="Hej",
        permalink=permalink)


@pytest.mark.parametrize("hostile", RECORD_HOSTILE, ids=IDS)
def test_a_hostile_permalink_is_not_recorded(desk, hostile):
    assert _recorded(desk, hostile).permalink == ""


@pytest.mark.parametrize("hostile", RECORD_HOSTILE[:-1], ids=IDS[:-1])
def test_a_hostile_permalink_already_stored_is_not_linked(desk, client_for, hostile):
    entry = _recorded(desk, "")
    with connection.cursor() as cursor:  # the model refuses every update
        cursor.execute(f"UPDATE {RecordEntry._meta.db_table} SET permalink = %s "
                       "WHERE id = %s", [hostile, entry.pk])
    page = client_for(desk["officer"]).get(f"/journal/post/{entry.pk}/")
    assert page.status_code == 200
    assert 'href="javascript:' not in page.content.decode().lower()
    assert f'<a href="{escape(hostile)}">' not in page.content.decode()


def test_a_networks_address_is_recorded_and_linked(desk, client_for):
    entry = _recorded(desk, "https://www.facebook.com/104738291045678_1")
    assert entry.permalink == "https://www.facebook.com/104738291045678_1"
    page = client_for(desk["officer"]).get(f"/journal/post/{entry.pk}/")
    assert ('<a href="https://www.facebook.com/104738291045678_1">'
            in page.content.decode())
