"""An erasure (and a hold) names a citizen as a person types the name they
read: a stored name with invisible characters in it (a zero-width joiner, a
soft hyphen, bidi controls), in another Unicode form (NFKC) or case, or
drawn right to left by an override, is the same name as shown."""

from __future__ import annotations

import pytest

from kanal.inbox.models import InboxItem
from kanal.inbox.tests.factories import citizen_item
from kanal.records import actions, retention

pytestmark = pytest.mark.django_db

SPELLINGS = [
    "Met\u200dte Hansen",  # zero-width joiner
    "Mette Han\u00adsen",  # soft hyphen
    "\u2066Mette Hansen\u2069",  # an isolate around it
    "\uff2dette Hansen",  # a full-width M (NFKC: M)
    # Drawn right to left: "Mette Hansen" (intake drops the override from
    # a name now; a row stored before kept it).
    "\u202enesnaH etteM\u202c",
    "METTE  HANSEN",  # case and two spaces
]


@pytest.fixture
def items(desk):
    channel = desk["facebook"]
    made = [citizen_item(channel, f"Kommentar {n}", author=name,
                         remote_id=f"shown-{n}")
            for n, name in enumerate(SPELLINGS)]
    for item, name in zip(made, SPELLINGS, strict=True):
        InboxItem.objects.filter(pk=item.pk).update(author_name=name)
    other = citizen_item(channel, "Andet", author="Mette Hansson",
                         remote_id="other")
    return made, other


def test_an_erasure_by_the_typed_name_redacts_every_spelling_as_shown(desk, items):
    made, other = items
    erasure = retention.erase_person(actor=desk["officer"], person="Mette Hansen",
                                     reason="Borgerens anmodning")
    assert erasure.inbox_redacted == len(SPELLINGS)
    assert InboxItem.objects.filter(pk__in=[i.pk for i in made],
                                    redacted_at__isnull=True).count() == 0
    other.refresh_from_db()
    assert other.redacted_at is None and other.author_name == "Mette Hansson"


@pytest.mark.usefixtures("items")
def test_a_hold_on_the_typed_name_keeps_every_spelling_as_shown(desk):
    actions.place_hold(actor=desk["officer"], reason="Sag", person="mette hansen")
    erasure = retention.erase_person(actor=desk["officer"], person="Mette Hansen",
                                     reason="Borgerens anmodning")
    assert (erasure.inbox_redacted, erasure.inbox_held_back) == (0, len(SPELLINGS))



def test_the_retention_job_keeps_every_spelling_a_hold_names(desk, items):
    from datetime import timedelta

    from django.utils import timezone

    from kanal.inbox.models import InboxSettings

    made, other = items
    InboxSettings.objects.create(organisation=desk["facebook"].organisation,
                                 retention_days=30)
    when = timezone.now() - timedelta(days=40)
    InboxItem.objects.update(received_at=when, created_at=when)
    actions.place_hold(actor=desk["officer"], reason="Sag", person="Mette Hansen")
    assert retention.apply_retention().redacted == 1
    other.refresh_from_db()
    assert other.redacted_at is not None
    assert not InboxItem.objects.filter(pk__in=[i.pk for i in made],
                                        redacted_at__isnull=False).exists()
