"""Deleting what is due: the retention job and a citizen's erasure request.

This is the one home of retention and legal holds for the record and the
inbox alike. A ``LegalHold`` covers the record's entries (``held_q``) and the
inbox's items (``held_items_q``: by the person who wrote them and when, or,
for a case, by the item's entries in the record that carry it). The job
deletes due entries (by the kind's ``RetentionRule``) and redacts inbox items
past the organisation's inbox period (``InboxSettings.retention_days``)
through the inbox's own primitive (``kanal.inbox.retention.redact_items``),
and deletes the failed webhook bodies kept past the shortest inbox period
(``forget_deliveries``); an erasure request does both for one person (and
blanks kept bodies that name them, ``erase_deliveries``). The inbox itself neither holds
nor runs retention.

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
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.core.safety import InvalidInput
from kanal.inbox import retention as inbox_retention
from kanal.inbox.models import InboxItem
from kanal.organisations.models import Organisation

from .actions import person_hash, record
from .inbox_capture import ITEM_KEY
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
#: How many due ids one query reads (a few hundred kilobytes of integers).
SCAN = 50_000


class RetentionResult(NamedTuple):
    """What a run deleted from the record and redacted in the inbox (with
    ``dry_run``: would have)."""

    deleted: int
    redacted: int


def _active_holds(organisation_id: int):
    return LegalHold.objects.filter(organisation_id=organisation_id,
                                    released_at__isnull=True)


def held_q(organisation_id: int) -> Q:
    """Entries covered by an active hold of the organisation."""
    q = Q(pk__in=[])
    for hold in _active_holds(organisation_id):
        q |= hold.q()
    return q


def _hold_items_q(hold: LegalHold, among=None) -> Q:
    """The inbox items ``hold`` covers (``among``: of those ids; a person's
    names are compared as shown among them only, see ``by_person``)."""
    if hold.case_ref:
        # Only the record knows an item's case: its entries carry it.
        keys = RecordEntry.objects.filter(
            organisation_id=hold.organisation_id, source_key__startswith=ITEM_KEY
        ).filter(hold.q()).values_list("source_key", flat=True)
        return Q(pk__in={int(key.removeprefix(ITEM_KEY)) for key in keys
                         if key.removeprefix(ITEM_KEY).isdigit()})
    q = Q()
    if hold.person:
        q &= inbox_retention.by_person(
            hold.person, organisation_id=hold.organisation_id, among=among)
    if hold.period_start or hold.period_end:
        # In the period when written or edited in it, as its entries are.
        q &= _in_period("created_at", hold) | _in_period("edited_at", hold)
    return q


def _in_period(field: str, hold: LegalHold) -> Q:
    q = Q()
    if hold.period_start:
        q &= Q(**{f"{field}__gte": hold.period_start})
    if hold.period_end:
        q &= Q(**{f"{field}__lte": hold.period_end})
    return q


def held_items_q(organisation_id: int, among=None) -> Q:
    """Inbox items covered by an active hold of the organisation (``among``:
    of those ids, which makes reading a person's names cheap)."""
    q = Q(pk__in=[])
    for hold in _active_holds(organisation_id):
        q |= _hold_items_q(hold, among)
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
            RecordEntry.objects.select_for_update().filter(pk__in=ids).only(
                "organisation_id", "source_key", "version", "kind",
                "content_hash", "occurred_at")
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


def _redact_items(organisation_id: int, ids, *, now) -> int:
    """Redact the inbox items ``ids`` in one transaction, rechecking holds
    (one placed since they were chosen still counts)."""
    with transaction.atomic():
        chosen = list(
            InboxItem.objects.select_for_update()
            .filter(pk__in=ids, redacted_at__isnull=True)
            .exclude(held_items_q(organisation_id, among=ids))
            .values_list("pk", flat=True)
        )
        inbox_retention.redact_items(chosen, now=now)
    return len(chosen)


def due_inbox_items(organisation: Organisation, now):
    """The organisation's inbox items past its inbox period that no hold
    covers."""
    days = inbox_retention.retention_days(organisation)
    return inbox_retention.unredacted(organisation).filter(
        received_at__lt=now - timedelta(days=days)
    ).exclude(held_items_q(organisation.pk))


def _in_batches(due, work, budget: list[int]) -> tuple[int, bool]:
    """Call ``work(ids)`` for ``due``'s ids, ``BATCH`` at a time in id order
    (so a batch that kept some back is not chosen again); returns the sum and
    whether the run's batch budget (``stop_after``) ran out.

    The ids are read ``SCAN`` at a time: reading a batch's worth per query
    made the database walk every due row again for each batch (quadratic
    over a year's expired items)."""
    done = 0
    last_pk = 0
    while True:
        scanned = list(due.filter(pk__gt=last_pk).order_by("pk")
                       .values_list("pk", flat=True)[:SCAN])
        if not scanned:
            return done, False
        last_pk = scanned[-1]
        for start in range(0, len(scanned), BATCH):
            done += work(scanned[start:start + BATCH])
            budget[0] -= 1
            if budget[0] == 0:
                return done, True


def _guarded(what: str, work) -> tuple[int, bool]:
    """``work()`` (an ``_in_batches`` run); an unforeseen failure is logged
    and the run goes on with the next rule or organisation, so one that
    fails (first in line on every run) cannot stop all deletion. The batches
    it committed stay done; the next run tries the rest again."""
    try:
        return work()
    except Exception:
        logger.exception("retention: %s failed", what)
        return 0, False


def apply_retention(now=None, dry_run: bool = False, *, organisation=None,
                    actor=None, stop_after: int | None = None) -> RetentionResult:
    """Delete every entry whose kind's period has run out and redact every
    inbox item past the inbox period, leaving what a hold covers; return
    how many were (or, with ``dry_run``, would be) deleted and redacted.

    ``stop_after`` ends the run after that many batches (tests use it to
    stand for a job killed half way).
    """
    if actor is not None:
        record_policy.check(actor, "apply_retention")
        organisation = actor.organisation
    now = now or timezone.now()
    rules = RetentionRule.objects.all()
    organisations = Organisation.objects.order_by("pk")
    if organisation is not None:
        rules = rules.filter(organisation=organisation)
        organisations = organisations.filter(pk=organisation.pk)
    deleted = redacted = 0
    # A negative budget never reaches 0: no limit.
    budget = [stop_after if stop_after is not None else -1]
    run = None
    if not dry_run:
        run = RetentionRun.objects.create(
            organisation=organisation, started_at=now, dry_run=False
        )
    if not dry_run:
        # Failed webhook bodies kept for the operator hold what citizens
        # wrote outside the items: never kept past the shortest period.
        _guarded("forgetting webhook bodies", lambda: (
            inbox_retention.forget_deliveries(now=now, organisation=organisation),
            False))
    for rule in rules.order_by("organisation_id", "kind"):
        due = due_for_rule(rule, now).exclude(
            held_q(rule.organisation_id) | in_open_request_q()
        )
        if dry_run:
            deleted += due.count()
            continue
        policy = f"retention:{rule.kind}:{rule.keep_days}d"
        reason = _("Opbevaringsperioden for %(kind)s (%(days)s dage) er udløbet.") % {
            "kind": rule.get_kind_display(),
            "days": rule.keep_days,
        }
        done, stopped = _guarded(
            f"the {rule.kind} rule of organisation {rule.organisation_id}",
            lambda due=due, policy=policy, reason=reason: _in_batches(
                due,
                lambda ids: _delete_batch(
                    ids, policy=policy, reason=reason, run=run, now=now),
                budget,
            ),
        )
        deleted += done
        if stopped:
            return RetentionResult(deleted, redacted)
    for org in organisations:
        due = due_inbox_items(org, now)
        if dry_run:
            redacted += due.count()
            continue
        done, stopped = _guarded(
            f"the inbox of organisation {org.pk}",
            lambda due=due, org_id=org.pk: _in_batches(
                due, lambda ids: _redact_items(org_id, ids, now=now), budget),
        )
        redacted += done
        RetentionRun.objects.filter(pk=run.pk).update(inbox_redacted=redacted)
        if stopped:
            return RetentionResult(deleted, redacted)
    if run is not None:
        run.finished_at = timezone.now()
        run.inbox_redacted = redacted
        run.save(update_fields=["finished_at", "inbox_redacted"])
    if run is not None and (deleted or redacted):
        audit.record(
            "records.retention.applied",
            actor=actor,
            organisation=organisation,
            target=run,
            changes={"deleted": deleted, "inbox_redacted": redacted},
        )
    return RetentionResult(deleted, redacted)


def retention_job(now=None, dry_run: bool = False) -> int:
    """The periodic job: ``apply_retention`` for every organisation, told as
    one count (entries deleted plus inbox items redacted)."""
    done = apply_retention(now=now, dry_run=dry_run)
    return done.deleted + done.redacted


def _naming(names: set[str]) -> Q:
    """Entries that name a citizen by any of ``names`` (the name asked for,
    and every name, id and handle their inbox items show): as the entry's
    person or as the author in its content."""
    match = Q()
    for spelling in names:
        match |= (Q(person__iexact=spelling) | Q(content__author_id=spelling)
                  | Q(content__author_name__iexact=spelling))
    return match


def erase_person(*, actor, person: str, reason: str) -> ErasureRequest:
    """A citizen's request for erasure, as one action across record and
    inbox: every entry naming them that no hold covers is deleted (with
    tombstones), every inbox item they wrote that no hold covers is
    redacted, and the request is itself recorded (without the name)."""
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
        items = inbox_retention.unredacted(organisation).filter(
            inbox_retention.by_person(person, organisation_id=organisation.pk))
        names = {person} | inbox_retention.names_of(items)
        theirs = RecordEntry.objects.filter(
            organisation=organisation
        ).filter(_naming(names)).exclude(kind=RecordKind.ERASURE)
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
        held_items = items.filter(held_items_q(organisation.pk))
        erasure.inbox_held_back = held_items.count()
        item_ids = list(items.exclude(pk__in=held_items.values("pk"))
                        .order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(item_ids), BATCH):
            erasure.inbox_redacted += _redact_items(
                organisation.pk, item_ids[start:start + BATCH], now=now)
        inbox_retention.erase_deliveries(names, organisation=organisation)
        erasure.deleted = deleted
        erasure.held_back = held_count
        erasure.save(update_fields=["deleted", "held_back", "inbox_redacted",
                                    "inbox_held_back"])
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
                "inbox_redacted": erasure.inbox_redacted,
                "inbox_held_back": erasure.inbox_held_back,
                "by": actor.user.get_username(),
            },
            occurred_at=now,
            text=_(
                "Anmodning om sletning: %(deleted)s slettet, %(held)s holdt "
                "tilbage; i indbakken %(redacted)s renset, %(items_held)s holdt "
                "tilbage."
            )
            % {"deleted": deleted, "held": held_count,
               "redacted": erasure.inbox_redacted,
               "items_held": erasure.inbox_held_back},
        )
        audit.record(
            "records.erasure.done",
            actor=actor,
            target=erasure,
            changes={"deleted": deleted, "held_back": held_count,
                     "inbox_redacted": erasure.inbox_redacted,
                     "inbox_held_back": erasure.inbox_held_back},
        )
    return erasure
