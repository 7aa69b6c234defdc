"""Appending to and verifying the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import (
    GENESIS_HASH,
    AuditChain,
    AuditEntry,
    audit_keys,
    current_audit_key,
)


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
    key_id, key = current_audit_key()
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
            key_id=key_id,
        )
        entry.hash = entry.compute_hash(key)
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
    """``{field: [old, new]}`` for the fields whose value changed (a
    relation by its id, as ``snapshot`` keeps it)."""
    changed = {}
    for name in fields:
        new = _value(instance, name)
        if before.get(name) != new:
            changed[name] = [before.get(name), new]
    return changed


def snapshot(instance: models.Model, fields) -> dict:
    """The values of ``fields`` on ``instance`` as the audit can keep them:
    a relation (``assigned_to``) is its id, never the object, which JSON
    cannot write."""
    return {name: _value(instance, name) for name in fields}


def _value(instance: models.Model, name: str):
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist:  # a property or an ``…_id`` attribute
        return getattr(instance, name)
    if field.is_relation and field.concrete:
        return getattr(instance, field.attname)
    return getattr(instance, name)


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


def verify_chain(batch_size: int = 2000, *, checkpoints: bool = True) -> list[Problem]:
    """Walk the whole chain; return every break found (empty = intact).

    Each entry's keyed hash is recomputed with the key it names; with
    ``checkpoints``, the signed checkpoints outside the database are checked
    against the chain too (``kanal.core.checkpoints``), which is what
    catches newest entries cut off together with the head.
    """
    problems, last_seen, _prev = verify_segment(
        after_seq=0, after_hash=GENESIS_HASH, batch_size=batch_size
    )
    chain = AuditChain.objects.filter(pk=1).first()
    if chain is not None and chain.last_seq != last_seen:
        problems.append(
            Problem(
                chain.last_seq,
                f"Kædens hoved peger på post {chain.last_seq}, men den sidste "
                f"post er {last_seen}: de sidste poster er slettet.",
            )
        )
    elif chain is not None and chain.last_hash != _prev:
        problems.append(Problem(last_seen, "Kædens hoved passer ikke med sidste post."))
    if checkpoints:
        from .checkpoints import verify_checkpoints

        problems.extend(verify_checkpoints())
    return problems


def verify_segment(
    *, after_seq: int, after_hash: str, batch_size: int = 2000
) -> tuple[list[Problem], int, str]:
    """Check the entries after ``after_seq`` (whose hash is ``after_hash``).

    Returns the problems, the last sequence number seen and its hash.
    """
    problems: list[Problem] = []
    keys = audit_keys()
    expected_seq = after_seq + 1
    prev_hash = after_hash
    last_seen = after_seq
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
            key = keys.get(entry.key_id)
            if key is None:
                problems.append(
                    Problem(
                        entry.seq,
                        "Posten er ikke nøglet med en kendt nøgle "
                        f"({entry.key_id or 'ingen nøgle'}): skrevet uden om Kanal, "
                        "eller en gammel nøgle mangler i KANAL_AUDIT_KEYS.",
                    )
                )
            elif entry.compute_hash(key) != entry.hash:
                problems.append(
                    Problem(entry.seq, "Indholdet er ændret efter det blev skrevet.")
                )
            prev_hash = entry.hash
            expected_seq = entry.seq + 1
            last_seen = entry.seq
    return problems, last_seen, prev_hash
