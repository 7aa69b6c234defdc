"""Demo content for the record: what the inbox will feed it (citizens'
comments about the harbour bath over the last month, one edited and one
deleted by its author, the desk's answers, a moderation), fed through the
public ``record`` API; the published history (recorded as it is published)
and a retention period and a legal hold for the records officer to see.

``load_records_demo(organisation)`` is idempotent: the entries have fixed
source keys, so loading again adds nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from . import actions, capture
from .models import LegalHold, RecordKind, RetentionRule

SOURCE = "inbox"

#: (days ago, hour, kind, person, text, key)
CONVERSATION = [
    (26, 9, RecordKind.COMMENT, "sofie.n",
     "Hvornår åbner havnebadet ved Islands Brygge for vinterbadere?", "c1"),
    (26, 11, RecordKind.REPLY, "Københavns Kommune",
     "Havnebadet er åbent for vinterbadere hver weekend kl. 8–12.", "r1"),
    (19, 14, RecordKind.COMMENT, "jens_hansen_kbh",
     "Min søn fik en skade ved havnebadet i går. Ring til mig på 22 33 44 55, "
     "Jens Hansen, Njalsgade 3.", "c2"),
    (19, 15, RecordKind.REPLY, "Københavns Kommune",
     "Det er vi kede af at høre. Vi har sendt din besked videre til "
     "Kultur- og Fritidsforvaltningen, som kontakter dig.", "r2"),
    (12, 8, RecordKind.COMMENT, "mads1987",
     "Vandkvaliteten i havnebadet er elendig!!", "c3"),
    (12, 10, RecordKind.MODERATION, "Københavns Kommune",
     "Kommentar skjult: indeholdt et CPR-nummer (husorden, punkt 3).", "m1"),
    (5, 17, RecordKind.COMMENT, "ida.k",
     "Tak for et dejligt havnebad i Sydhavnen. Kommer igen!", "c4"),
]


def load_records_demo(organisation) -> int:
    """Add the demo conversation once (returns how many items it added) and
    record what was published since."""
    facebook = (
        organisation.channels.filter(network="facebook").first()
        or organisation.channels.first()
    )
    from .models import RecordEntry

    if RecordEntry.objects.filter(organisation=organisation,
                                  source_key="inbox.demo:c1").exists():
        capture.capture_published()
        return 0
    now = timezone.now()
    count = 0
    for days, hour, kind, person, text, key in CONVERSATION:
        when = (now - timedelta(days=days)).replace(
            hour=hour, minute=0, second=0, microsecond=0
        )
        actions.record(
            organisation=organisation,
            kind=kind,
            source=SOURCE,
            source_key=f"inbox.demo:{key}",
            content={"kind": kind, "text": text, "author": person},
            occurred_at=when,
            channel=facebook,
            person=person if kind == RecordKind.COMMENT else "",
        )
        count += 1
    # The author edits her comment, and another deletes his, on the network.
    first = now - timedelta(days=26)
    actions.record(
        organisation=organisation, kind=RecordKind.COMMENT, source=SOURCE,
        source_key="inbox.demo:c1",
        content={"kind": RecordKind.COMMENT, "author": "sofie.n",
                 "text": "Hvornår åbner havnebadet ved Islands Brygge for "
                         "vinterbadere? Og er saunaen åben?"},
        occurred_at=first.replace(hour=9, minute=20, second=0, microsecond=0),
        channel=facebook, person="sofie.n",
    )
    actions.record_deleted(
        organisation=organisation, source_key="inbox.demo:c3",
        occurred_at=(now - timedelta(days=11)).replace(
            hour=7, minute=0, second=0, microsecond=0),
    )
    # What was published before the record existed.
    capture.capture_published(now=now)
    RetentionRule.objects.get_or_create(
        organisation=organisation, kind=RecordKind.COMMENT,
        defaults={"keep_days": 365 * 5},
    )
    RetentionRule.objects.get_or_create(
        organisation=organisation, kind=RecordKind.MODERATION,
        defaults={"keep_days": 365 * 2},
    )
    if not LegalHold.objects.filter(organisation=organisation,
                                    case_ref="2026-04711").exists():
        LegalHold.objects.create(
            organisation=organisation,
            reason="Erstatningssag om skaden ved Islands Brygge Havnebad",
            case_ref="2026-04711",
            person="jens_hansen_kbh",
        )
    return count
