"""The canonical form of recorded content and its SHA-256, and the facts
that identify an entry.

The hash covers a canonical JSON (sorted keys, no spaces, UTF-8) of the
content, in which every media item carries the SHA-256 of its bytes: so the
hash changes when a word or a single pixel of what went out changes.
"""

from __future__ import annotations

import hashlib
import json

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder

CHUNK = 1024 * 1024


def canonical_json(content: dict) -> str:
    return json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
    )


def normalised(content: dict) -> dict:
    """``content`` as the database gives it back (dates as text)."""
    return json.loads(canonical_json(content))


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def entry_facts(entry) -> dict:
    """What identifies a record entry and where it came from, as every
    export and filing shows it."""
    return {
        "id": entry.pk,
        "source_key": entry.source_key,
        "version": entry.version,
        "change": entry.change,
        "kind": entry.kind,
        "network": entry.network,
        "channel": entry.channel.display_name if entry.channel else "",
        "administration": entry.administration.code if entry.administration else "",
    }


def file_sha256(path: str, storage=default_storage) -> str | None:
    """SHA-256 of a stored file, or None when it is missing or unreadable."""
    digest = hashlib.sha256()
    try:
        with storage.open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()
