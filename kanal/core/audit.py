"""Appending to and verifying the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import GENESIS_HASH, AuditChain, AuditEntry


def record(
    event: str,
    *,
    actor=None,
    organisation=None,
    target: models.Model | None = None,
    changes: dict | None = None,
) -> AuditEntry:
    """Append one entry. ``actor`` is a Membership, a User, or None (system).

    Must run inside the caller's transaction, so the entry and the change it
    describes commit (or roll back) together.
    """
    user, label = _actor_identity(actor)
    if organisation is None and actor is not None and hasattr(actor, "organisation"):
        organisation = actor.organisation
    # Round-trip through JSON so what is hashed now is exactly what the
    # database gives back when verifying (dates, decimals, lazy strings).
    changes = json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))
    with transaction.atomic():
        chain, _ = AuditChain.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=chain.last_seq + 1,
            created_at=timezone.now(),
            organisation=organisation,
            actor=user,
            actor_label=label,
            event=event,
            object_type=target._meta.label_lower if target is not None else "",
            object_id=str(target.pk) if target is not None else "",
            object_repr=str(target)[:300] if target is not None else "",
            changes=changes,
            prev_hash=chain.last_hash,
        )
        entry.hash = entry.compute_hash()
        entry.save()
        chain.last_seq = entry.seq
        chain.last_hash = entry.hash
        chain.save(update_fields=["last_seq", "last_hash"])
    return entry


def _actor_identity(actor):
    if actor is None:
        return None, "system"
    user = getattr(actor, "user", actor)
    return user, user.get_username()


def diff(instance: models.Model, fields, before: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed."""
    changed = {}
    for name in fields:
        new = getattr(instance, name)
        if before.get(name) != new:
            changed[name] = [before.get(name), new]
    return changed


def snapshot(instance: models.Model, fields) -> dict:
    return {name: getattr(instance, name) for name in fields}


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


def verify_chain(batch_size: int = 2000) -> list[Problem]:
    """Walk the whole chain; return every break found (empty = intact)."""
    problems: list[Problem] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    last_seen = 0
    entries = AuditEntry.objects.order_by("seq")
    while True:
        batch = list(entries.filter(seq__gt=last_seen)[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.seq != expected_seq:
                problems.append(
                    Problem(
                        entry.seq,
                        f"Mangler post(er) {expected_seq}–{entry.seq - 1}: slettet.",
                    )
                )
            if entry.prev_hash != prev_hash:
                problems.append(
                    Problem(entry.seq, "Kæden er brudt: forrige hash passer ikke.")
                )
            if entry.compute_hash() != entry.hash:
                problems.append(
                    Problem(entry.seq, "Indholdet er ændret efter det blev skrevet.")
                )
            prev_hash = entry.hash
            expected_seq = entry.seq + 1
            last_seen = entry.seq
    chain = AuditChain.objects.filter(pk=1).first()
    if chain is not None and chain.last_seq != last_seen:
        problems.append(
            Problem(
                chain.last_seq,
                f"Kædens hoved peger på post {chain.last_seq}, men den sidste "
                f"post er {last_seen}: de sidste poster er slettet.",
            )
        )
    elif chain is not None and chain.last_hash != prev_hash:
        problems.append(Problem(last_seen, "Kædens hoved passer ikke med sidste post."))
    return problems
