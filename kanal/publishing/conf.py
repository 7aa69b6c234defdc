"""Publishing's settings, with defaults. Override in ``settings.KANAL_PUBLISHING``
or with ``KANAL_PUBLISH_*`` environment variables (benchmarks, operations)."""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings

DEFAULTS = {
    # A publication this late becomes "missed" instead of going out.
    "LATE_CUTOFF_SECONDS": 2 * 3600,
    # How long a claim holds; the worker renews it while the call runs.
    "LEASE_SECONDS": 60,
    "MAX_ATTEMPTS": 6,
    "BACKOFF_BASE_SECONDS": 5,
    "BACKOFF_MAX_SECONDS": 900,
    # Simultaneous calls per channel and per network (all workers together).
    "CHANNEL_CONCURRENCY": 1,
    "NETWORK_CONCURRENCY": 64,
    # Kanal's own count of posts per 24 h where a network has a rolling quota.
    "DAILY_QUOTA": {"instagram": 50, "threads": 250},
    # Longest sleep while idle on databases without LISTEN/NOTIFY.
    "IDLE_POLL_SECONDS": 0.2,
    # Refresh tokens that expire within this many seconds.
    "TOKEN_REFRESH_AHEAD_SECONDS": 3 * 24 * 3600,
    "SWEEP_EVERY_SECONDS": 5,
    "TOKEN_REFRESH_EVERY_SECONDS": 600,
    # Read timeout for publishing calls; 0 keeps the adapters' own default.
    "HTTP_TIMEOUT_SECONDS": 0.0,
}


def get(name: str):
    env = os.environ.get(f"KANAL_PUBLISH_{name}")
    default = DEFAULTS[name]
    if env is not None and not isinstance(default, dict):
        try:
            return type(default)(env)
        except ValueError:
            return float(env)
    return getattr(settings, "KANAL_PUBLISHING", {}).get(name, default)


def late_cutoff() -> timedelta:
    return timedelta(seconds=get("LATE_CUTOFF_SECONDS"))


def lease() -> timedelta:
    return timedelta(seconds=get("LEASE_SECONDS"))
