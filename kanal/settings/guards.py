"""Checks that production secrets are real secrets (used by production.py).

Pure functions, no Django: settings modules import them before Django is
set up.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import Counter


def entropy_bits(value: str) -> float:
    """Shannon entropy of ``value``'s characters times its length: a rough
    upper bound on how hard it is to guess. A 32-character run of one letter
    scores 0; 50 random characters of Django's alphabet about 240."""
    if not value:
        return 0.0
    counts = Counter(value)
    length = len(value)
    per_char = -sum(n / length * math.log2(n / length) for n in counts.values())
    return per_char * length


def is_weak_secret(value: str, *, min_length: int, min_bits: float = 128) -> bool:
    return (
        len(value) < min_length
        or len(set(value)) < 10
        or entropy_bits(value) < min_bits
    )


def split_keys(value: str) -> list[str]:
    return [k.strip() for k in value.split(",") if k.strip()]


def is_weak_fernet_key(key: str) -> bool:
    """A Fernet key is 32 bytes in URL-safe base64; random bytes show many
    distinct values (about 30 of 32), a made-up one few."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        return True
    return len(raw) != 32 or len(set(raw)) < 16
