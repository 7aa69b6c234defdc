"""Deleting what is due: the retention job and a citizen's erasure request.

Entries are deleted in small batches; each batch writes its tombstones and
deletes its entries in one transaction, after taking the holds again inside
that transaction. A job killed half way has committed whole batches only:
the next run finds the rest (nothing is deleted twice: a deleted entry is
gone, and its tombstone's ``entry_id`` is unique) and holds are rows the job
never writes, so none is lost. What is on hold, or part of an access request
still under treatment, is never deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.core.safety import InvalidInput

from .actions import person_hash, record
from .models import (
    AccessRequestItem,
    ErasureRequest,
    LegalHold,
    RecordEntry,
    RecordKind,
    RecordTombstone,
    RetentionRule,
    RetentionRun,
)
from .policies import record_policy

logger = logging.getLogger(__name__)

BATCH = 500

#: Sent after an erasure request deleted a person's entries from the record,
#: so the inbox (above or beside records) erases that person's items too:
#: ``organisation``, ``person``, ``erasure``.
erasure_requested = Signal()


def held_q(organisation_id: int) -> Q:
    """Entries covered by an active hold of the organisation."""
    q = Q(pk__in=[])
    for hold in LegalHold.objects.filter(
        organisation_id=organisation_id, released_at__isnull=True
    ):
        q |= hold.q()
    return q


def in_open_request_q() -> Q:
    """Entries kept whatever their age: part of an access request under
    treatment, or marked for filing and not yet filed."""
    return Q(
        pk__in=AccessRequestItem.objects.filter(request__status="open").values(
            "entry_id"
        )
    ) | Q(filing__status__in=["waiting", "failed"])


def _delete_batch(ids, *, policy: str, reason: str, run, now) -> int:
    """Tombstone and delete ``ids`` in one transaction, rechecking holds."""
    with transaction.atomic():
        entries = list(
            RecordEntry.objects.select_for_update().filter(pk__in=ids)
        )
        if not entries:
            return 0
        org_id = entries[0].organisation_id
        # Holds placed since the batch was chosen still count.
        held = set(
            RecordEntry.objects.filter(pk__in=ids)
            .filter(held_q(org_id) | in_open_request_q())
            .values_list("pk", flat=True)
        )
        entries = [e for e in entries if e.pk not in held]
        RecordTombstone.objects.bulk_create(
            [
                RecordTombstone(
                    organisation_id=e.organisation_id,
                    entry_id=e.pk,
                    source_key=e.source_key,
                    version=e.version,
                    kind=e.kind,
                    content_hash=e.content_hash,
                    occurred_at=e.occurred_at,
                    deleted_at=now,
                    policy=policy,
                    reason=reason,
                    run=run,
                )
                for e in entries
            ]
        )
        RecordEntry.objects.filter(pk__in=[e.pk for e in entries]).purge()
        if run is not None:
            RetentionRun.objects.filter(pk=run.pk).update(
                deleted=run.deleted + len(entries)
            )
            run.deleted += len(entries)
    return len(entries)


def due_for_rule(rule: RetentionRule, now):
    cutoff = now - timedelta(days=rule.keep_days)
    return RecordEntry.objects.filter(
        organisation_id=rule.organisation_id,
        kind=rule.kind,
        occurred_at__lt=cutoff,
    )


def apply_retention(now=None, dry_run: bool = False, *, organisation=None,
                    actor=None, stop_after: int | None = None) -> int:
    """Delete every entry whose kind's period has run out and that no hold
    covers; return how many were (or, with ``dry_run``, would be) deleted.

    ``stop_after`` ends the run after that many batches (tests use it to
    stand for a job killed half way).
    """
    if actor is not None:
        record_policy.check(actor, "apply_retention")
        organisation = actor.organisation
    now = now or timezone.now()
    rules = RetentionRule.objects.all()
    if organisation is not None:
        rules = rules.filter(organisation=organisation)
    total = 0
    batches = 0
    run = None
    for rule in rules.order_by("organisation_id", "kind"):
        due = due_for_rule(rule, now).exclude(
            held_q(rule.organisation_id) | in_open_request_q()
        )
        if dry_run:
            total += due.count()
            continue
        if run is None:
            run = RetentionRun.objects.create(
                organisation=organisation, started_at=now, dry_run=False
            )
        policy = f"retention:{rule.kind}:{rule.keep_days}d"
        reason = _("Opbevaringsperioden for %(kind)s (%(days)s dage) er udløbet.") % {
            "kind": rule.get_kind_display(),
            "days": rule.keep_days,
        }
        last_pk = 0
        while True:
            ids = list(
                due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[
                    :BATCH
                ]
            )
            if not ids:
                break
            last_pk = ids[-1]
            total += _delete_batch(ids, policy=policy, reason=reason, run=run,
                                   now=now)
            batches += 1
            if stop_after is not None and batches >= stop_after:
                return total
    if run is not None:
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
        audit.record(
            "records.retention.applied",
            actor=actor,
            organisation=organisation,
            target=run,
            changes={"deleted": total},
        )
    return total


def erase_person(*, actor, person: str, reason: str) -> ErasureRequest:
    """A citizen's request for erasure, as one action: every entry naming
    them that no hold covers is deleted (with tombstones), the request is
    itself recorded (without the name), and the inbox is told
    (``erasure_requested``)."""
    record_policy.check(actor, "erase")
    person = person.strip()
    if not person:
        raise InvalidInput(
            _("Skriv den person (navn eller brugernavn), der skal slettes.")
        )
    now = timezone.now()
    organisation = actor.organisation
    with transaction.atomic():
        erasure = ErasureRequest.objects.create(
            organisation=organisation,
            person_hash=person_hash(person),
            reason=reason,
            created_by=actor.user,
            created_at=now,
        )
        theirs = RecordEntry.objects.filter(
            organisation=organisation, person__iexact=person
        ).exclude(kind=RecordKind.ERASURE)
        held_back = theirs.filter(held_q(organisation.pk) | in_open_request_q())
        held_count = held_back.count()
        ids = list(theirs.exclude(pk__in=held_back.values("pk")).values_list(
            "pk", flat=True))
        deleted = 0
        for start in range(0, len(ids), BATCH):
            deleted += _delete_batch(
                ids[start:start + BATCH],
                policy=f"erasure:{erasure.pk}",
                reason=reason or _("Anmodning om sletning"),
                run=None,
                now=now,
            )
        erasure.deleted = deleted
        erasure.held_back = held_count
        erasure.save(update_fields=["deleted", "held_back"])
        record(
            organisation=organisation,
            kind=RecordKind.ERASURE,
            source="records",
            source_key=f"erasure:{erasure.pk}",
            content={
                "kind": RecordKind.ERASURE,
                "person_sha256": erasure.person_hash,
                "reason": reason,
                "deleted": deleted,
                "held_back": held_count,
                "by": actor.user.get_username(),
            },
            occurred_at=now,
            text=_(
                "Anmodning om sletning: %(deleted)s slettet, %(held)s holdt "
                "tilbage."
            )
            % {"deleted": deleted, "held": held_count},
        )
        audit.record(
            "records.erasure.done",
            actor=actor,
            target=erasure,
            changes={"deleted": deleted, "held_back": held_count},
        )
        erasure_requested.send(
            sender=ErasureRequest, organisation=organisation, person=person,
            erasure=erasure,
        )
    return erasure
