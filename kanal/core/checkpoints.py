"""Signed checkpoints of the audit chain's head, kept outside the database.

Someone who can write to the database can delete the newest entries and move
the head back; the chain alone cannot tell. So, on a schedule (a periodic job
of the worker), the newest entry's sequence number and hash are appended,
signed with the audit key, to one file per day in
``KANAL_AUDIT_CHECKPOINT_DIR`` (put it on another disk or machine, or ship it
to a log store the database's users cannot write). ``kanal verify-audit``
checks every checkpoint: its signature, that the entry it names still exists,
and that it still has that hash.

The signature is an HMAC with the same key as the chain: whoever can forge a
checkpoint can also rebuild the chain, so a second secret would add nothing;
what the checkpoints add is a copy of the head in a place the database's
users cannot reach. A checkpoint is only written after the entries since the
previous one have been verified, so a tampered chain is never signed.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .audit import Problem, verify_segment
from .models import (
    GENESIS_HASH,
    AuditEntry,
    audit_keys,
    current_audit_key,
    keyed_digest,
)

logger = logging.getLogger(__name__)

PREFIX = "audit-checkpoints-"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str
    source: str = ""  # "file:line", for messages

    @staticmethod
    def message(seq: int, hash_: str, at: str) -> str:
        return f"kanal-audit-checkpoint\n{seq}\n{hash_}\n{at}"


def checkpoint_dir() -> Path | None:
    """Where checkpoints go; None when ``KANAL_AUDIT_CHECKPOINT_DIR`` is empty."""
    configured = str(settings.KANAL_AUDIT_CHECKPOINT_DIR or "").strip()
    return Path(configured) if configured else None


def read_checkpoints(
    directory: Path | None = None, *, newest_files: int | None = None
) -> tuple[list[Checkpoint], list[Problem]]:
    """Every checkpoint in the directory (or in its newest files), oldest file
    first, and the lines that could not be read."""
    directory = directory or checkpoint_dir()
    found: list[Checkpoint] = []
    problems: list[Problem] = []
    if directory is None or not directory.is_dir():
        return found, problems
    paths = sorted(directory.glob(f"{PREFIX}*.jsonl"))
    if newest_files is not None:
        paths = paths[-newest_files:]
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                source = f"{path.name}:{number}"
                try:
                    data = json.loads(line)
                    found.append(
                        Checkpoint(
                            seq=int(data["seq"]),
                            hash=str(data["hash"]),
                            at=str(data["at"]),
                            key_id=str(data["key_id"]),
                            signature=str(data["signature"]),
                            source=source,
                        )
                    )
                except (ValueError, KeyError, TypeError):
                    problems.append(
                        Problem(
                            0, f"Checkpoint {source} kan ikke læses: filen er ændret."
                        )
                    )
    return found, problems


def _signature_ok(checkpoint: Checkpoint, keys: dict[str, str]) -> bool:
    key = keys.get(checkpoint.key_id)
    if key is None:
        return False
    expected = keyed_digest(
        key, Checkpoint.message(checkpoint.seq, checkpoint.hash, checkpoint.at)
    )
    return hmac.compare_digest(expected, checkpoint.signature)


def verify_checkpoints(directory: Path | None = None) -> list[Problem]:
    """Check every checkpoint against the chain in the database."""
    checkpoints, problems = read_checkpoints(directory)
    if not checkpoints:
        return problems
    keys = audit_keys()
    hashes = dict(
        AuditEntry.objects.filter(seq__in={c.seq for c in checkpoints}).values_list(
            "seq", "hash"
        )
    )
    for checkpoint in checkpoints:
        if not _signature_ok(checkpoint, keys):
            problems.append(
                Problem(
                    checkpoint.seq,
                    f"Checkpoint {checkpoint.source} har ikke en gyldig signatur: "
                    "den er ændret, eller dens nøgle mangler i KANAL_AUDIT_KEYS.",
                )
            )
            continue
        stored = hashes.get(checkpoint.seq)
        if stored is None:
            problems.append(
                Problem(
                    checkpoint.seq,
                    f"Post {checkpoint.seq} fandtes {checkpoint.at} "
                    f"(checkpoint {checkpoint.source}), men er væk nu: poster er "
                    "slettet, også de nyeste.",
                )
            )
        elif stored != checkpoint.hash:
            problems.append(
                Problem(
                    checkpoint.seq,
                    f"Post {checkpoint.seq} har en anden hash end ved checkpoint "
                    f"{checkpoint.source}: kæden er skrevet om.",
                )
            )
    return problems


def write_checkpoint(*, now=None, dry_run: bool = False) -> int:
    """Append a signed checkpoint of the head, if it moved (a periodic job).

    Returns 1 when a checkpoint was (or would be) written, else 0. Refuses,
    logging an error, when the entries since the previous checkpoint do not
    verify: a tampered chain must not be signed.
    """
    now = now or timezone.now()
    directory = checkpoint_dir()
    if directory is None:
        return 0
    head = AuditEntry.objects.order_by("-seq").values("seq", "hash").first()
    if head is None:
        return 0
    keys = audit_keys()
    signed = [c for c in read_checkpoints(newest_files=2)[0] if _signature_ok(c, keys)]
    last = max(signed, key=lambda c: c.seq, default=None)
    if last is not None and (
        last.seq > head["seq"]
        or not AuditEntry.objects.filter(seq=last.seq, hash=last.hash).exists()
    ):
        logger.error(
            "audit checkpoint not written: checkpoint %s no longer matches the "
            "chain (run `kanal verify-audit`)",
            last.source,
        )
        return 0
    if last is not None and last.seq == head["seq"]:
        return 0
    after_seq, after_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    problems, last_seen, last_hash = verify_segment(
        after_seq=after_seq, after_hash=after_hash
    )
    if problems or last_seen != head["seq"]:
        logger.error(
            "audit checkpoint not written: the chain does not verify after #%s "
            "(run `kanal verify-audit`)",
            after_seq,
        )
        return 0
    if dry_run:
        return 1
    key_id, key = current_audit_key()
    at = now.isoformat()
    line = json.dumps(
        {
            "seq": last_seen,
            "hash": last_hash,
            "at": at,
            "key_id": key_id,
            "signature": keyed_digest(
                key, Checkpoint.message(last_seen, last_hash, at)
            ),
        },
        sort_keys=True,
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{PREFIX}{now.date().isoformat()}.jsonl"
    # O_APPEND: each line lands whole at the end, even with two workers.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return 1
