"""Reading stored items for personal data again, as a new item is read.

Items stored before ``privacy.find`` read a text as a screen shows it (an
invisible character inside a CPR number, an override that draws it
backwards) carry no flag for what it finds now. ``rescan`` reads every item
that still holds its text, in batches of ``batch`` (each its own
transaction), and sets its flags (and its conversation's
"Personoplysninger") as intake would; the list and previews mask what the
flags say at once.

What is done about an item that gains a kind is what a new item gets
(``moderation.guard_personal_data``: hidden on the network where the
organisation asks for it, its editors told) only while it is young, at most
``HIDE_DAYS`` old: a comment that stood public for longer has been read,
and hiding it now, or telling the desk about every one of the past, mostly
adds noise. An older item is flagged and masked only, and counted. A direct
message is never hidden (as for new ones). Each organisation's run is
audited (``inbox.personal_data.rescanned``) with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kanal.core import audit

from . import privacy
from .changes import recount_personal_data
from .models import InboxItem

BATCH = 1000
#: The oldest item (by when it was written) that is still hidden and put
#: before the editors when the scan gives it a new flag.
HIDE_DAYS = 7


@dataclass
class Rescanned:
    """What a scan read and did (with ``dry_run``: would do)."""

    read: int = 0
    flagged: int = 0  # gained a kind of personal data
    cleared: int = 0  # lost one (read as shown, it was none)
    young: int = 0  # flagged and young enough to be guarded
    per_organisation: dict[int, dict[str, int]] = field(default_factory=dict)


def rescan(*, batch: int = BATCH, hide_days: int = HIDE_DAYS,
           dry_run: bool = False, now: datetime | None = None) -> Rescanned:
    """Read every unredacted item's text again (see the module's docstring)."""
    from .moderation import guard_personal_data

    now = now or timezone.now()
    young_from = now - timedelta(days=hide_days)
    done = Rescanned()
    last = 0
    while True:
        rows = list(InboxItem.objects.filter(
            pk__gt=last, redacted_at__isnull=True,
        ).order_by("pk").only("pk", "text", "personal_data", "conversation_id",
                              "organisation_id", "created_at")[:batch])
        if not rows:
            break
        last = rows[-1].pk
        changed, to_guard = [], []
        for row in rows:
            done.read += 1
            found = privacy.find(row.text)
            before = set(row.personal_data or [])
            if set(found) == before:
                continue
            counts = done.per_organisation.setdefault(
                row.organisation_id, {"flagged": 0, "cleared": 0, "young": 0})
            gained = bool(set(found) - before)
            key = "flagged" if gained else "cleared"
            setattr(done, key, getattr(done, key) + 1)
            counts[key] += 1
            if gained and row.created_at >= young_from:
                done.young += 1
                counts["young"] += 1
                to_guard.append(row.pk)
            row.personal_data = found
            changed.append(row)
        if dry_run or not changed:
            continue
        with transaction.atomic():
            InboxItem.objects.bulk_update(changed, ["personal_data"])
            recount_personal_data({row.conversation_id for row in changed})
        # After commit: hiding calls the network.
        guard_personal_data(InboxItem.objects.filter(pk__in=to_guard)
                            .select_related("channel", "conversation"))
    if not dry_run:
        for organisation_id, counts in done.per_organisation.items():
            audit.record("inbox.personal_data.rescanned",
                         organisation=_organisation(organisation_id),
                         changes={**counts, "hide_days": hide_days})
    return done


def _organisation(pk: int):
    from kanal.organisations.models import Organisation

    return Organisation.objects.get(pk=pk)
