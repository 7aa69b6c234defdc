"""Publishing's settings, with defaults, and every wait the engine makes.

Override in ``settings.KANAL_PUBLISHING`` or with ``KANAL_PUBLISH_*``
environment variables (benchmarks, operations). Lease arithmetic is done with
the database's clock (``lease()``, ``write_lease()`` are durations added to
it), so workers whose clocks are minutes off still agree on who holds a row.
"""

from __future__ import annotations

import json
import math
import os
import random
from datetime import datetime, timedelta

from django.conf import settings

DEFAULTS = {
    # A publication this late becomes "missed" instead of going out.
    "LATE_CUTOFF_SECONDS": 2 * 3600,
    # How long a claim holds; a dedicated thread renews it while the job runs.
    "LEASE_SECONDS": 60,
    # How long the send fence extends a lease for one write (the longest a
    # write can take); 0 derives it from the HTTP timeout.
    "WRITE_LEASE_SECONDS": 0.0,
    "MAX_ATTEMPTS": 6,
    "BACKOFF_BASE_SECONDS": 5,
    "BACKOFF_MAX_SECONDS": 900,
    # An outcome to reconcile is asked about again after this (then backoff).
    "RECONCILE_RETRY_SECONDS": 5,
    # A publication for a channel that must be reconnected looks again after.
    "RECONNECT_RECHECK_SECONDS": 60,
    # A quota without a reset time from the network waits this long.
    "QUOTA_FALLBACK_SECONDS": 3600,
    # After the worker's own database failed mid-job (not a network attempt).
    "LOCAL_ERROR_RETRY_SECONDS": 5,
    # How far before the first write (database clock) a post found on the
    # network may be dated and still be this publication. The adapters move
    # this bound onto the network's own clock (its Date header) and allow
    # for it further, so this stays small: a wide window could match an
    # older post with the same text.
    "RECONCILE_SLACK_SECONDS": 300,
    # How long a network keeps Kanal's idempotency key (Mastodon: 1 hour),
    # less a margin: within it, sending again with the key is safe.
    "IDEMPOTENCY_KEY_WINDOW_SECONDS": 3000,
    # Simultaneous calls per channel and per network (all workers together).
    "CHANNEL_CONCURRENCY": 1,
    "NETWORK_CONCURRENCY": 64,
    # Kanal's own count of posts per 24 h where a network has a rolling
    # quota: network -> posts. Empty: each adapter's documented figure
    # (``default_quota_total``: Instagram 100, Threads 250), the one value.
    "DAILY_QUOTA": {},
    # Longest sleep while idle on databases without LISTEN/NOTIFY.
    "IDLE_POLL_SECONDS": 0.2,
    # Refresh a token this long before it expires, per network (X's access
    # tokens live two hours, Bluesky's sessions about two; the others weeks).
    "TOKEN_REFRESH_AHEAD_SECONDS": {
        "x": 20 * 60,
        "bluesky": 20 * 60,
        "default": 3 * 24 * 3600,
    },
    # The per-channel token refresh lock (longer than one refresh call).
    "TOKEN_LOCK_SECONDS": 60,
    # An access token this close to expiry no longer counts as working.
    "TOKEN_STILL_VALID_MARGIN_SECONDS": 120,
    "SWEEP_EVERY_SECONDS": 5,
    "MARK_MISSED_EVERY_SECONDS": 30,
    "TOKEN_REFRESH_EVERY_SECONDS": 60,
    "APPROVAL_WATCH_EVERY_SECONDS": 60,
    # How often the periodic thread looks for a job to run, and the worker
    # for follow-up work nobody announced (another worker's, a retry's).
    "PERIODIC_POLL_SECONDS": 0.25,
    # How often a worker measures its host's clock against the database's.
    "CLOCK_CHECK_SECONDS": 30,
    "FOLLOW_UP_POLL_SECONDS": 1.0,
    # Follow-up work (first comment, pin): tries before a person is told.
    "FOLLOW_UP_MAX_ATTEMPTS": 6,
    # Database unreachable: back off up to this between tries, and give up
    # (exit for the supervisor to restart) after this long.
    "DB_RETRY_MAX_SECONDS": 15,
    # First waits after the database failed (doubling up to the maximum):
    # the worker's own work, and the listening connection that wakes it.
    "DB_RETRY_BASE_SECONDS": 0.1,
    "DB_RECONNECT_BASE_SECONDS": 0.5,
    # The longest the worker sleeps before looking for due work again.
    "IDLE_WAKE_MAX_SECONDS": 5.0,
    # A network's quota reset sooner than this is not trusted (a clock off,
    # a reset already past): QUOTA_FALLBACK_SECONDS applies instead.
    "QUOTA_RESET_MIN_SECONDS": 30,
    "DB_GIVE_UP_SECONDS": 600,
    # Read timeout for publishing calls; 0 keeps the adapters' own default.
    "HTTP_TIMEOUT_SECONDS": 0.0,
    # How often a worker's main loop records its heartbeat, and how old the
    # newest beat may be before /readyz says no worker is working.
    "HEARTBEAT_SECONDS": 10,
    "HEARTBEAT_MAX_AGE_SECONDS": 60,
}


def get(name: str):
    env = os.environ.get(f"KANAL_PUBLISH_{name}")
    default = DEFAULTS[name]
    if env is not None:
        if isinstance(default, dict):
            try:
                value = json.loads(env)
            except ValueError:
                value = None
            if isinstance(value, dict):
                return {**default, **value}
        else:
            try:
                return type(default)(env)
            except ValueError:
                return float(env)
    return getattr(settings, "KANAL_PUBLISHING", {}).get(name, default)


def seconds(name: str) -> timedelta:
    return timedelta(seconds=float(get(name)))


def late_cutoff() -> timedelta:
    return seconds("LATE_CUTOFF_SECONDS")


def lease() -> timedelta:
    return seconds("LEASE_SECONDS")


def write_lease() -> timedelta:
    """How long a fenced write may take: the connect, pool, send and read
    timeouts of one request, plus one ordinary lease as margin (a stall
    between the fence and the request, a network slow to apply it)."""
    explicit = float(get("WRITE_LEASE_SECONDS"))
    if explicit > 0:
        return timedelta(seconds=explicit)
    timeout = float(get("HTTP_TIMEOUT_SECONDS"))
    # The adapters' default: connect 5 s, write 20 s, read 20 s, pool 5 s.
    call = 4 * timeout if timeout > 0 else 50.0
    return timedelta(seconds=call) + lease()


def token_refresh_ahead(network: str) -> timedelta:
    ahead = get("TOKEN_REFRESH_AHEAD_SECONDS")
    if not isinstance(ahead, dict):
        return timedelta(seconds=float(ahead))
    return timedelta(seconds=float(ahead.get(network, ahead.get("default", 0))))


#: The longest a network's own word (``retry_after``, ``reset_at``) holds a
#: post back: its answer is untrusted, and a year (or year 9999, or infinity)
#: would hold the post for ever or fail the job.
MAX_NETWORK_WAIT = timedelta(days=1)


def backoff(
    attempts: int, error: BaseException | None, now: datetime, *, base: str = ""
) -> datetime:
    """When to try again after ``attempts`` tries: exponential with full
    jitter in its upper half, capped, never before the network's own
    ``retry_after`` or ``reset_at``."""
    first = float(get(base or "BACKOFF_BASE_SECONDS"))
    cap = float(get("BACKOFF_MAX_SECONDS"))
    delay = min(cap, first * 2 ** max(0, attempts - 1))
    delay = random.uniform(delay / 2, delay)
    longest = MAX_NETWORK_WAIT.total_seconds()
    try:
        retry_after = float(getattr(error, "retry_after", None) or 0)
    except (TypeError, ValueError):
        retry_after = 0.0
    if math.isfinite(retry_after) and retry_after > 0:
        delay = max(delay, min(retry_after, longest))
    at = now + timedelta(seconds=delay)
    reset_at = getattr(error, "reset_at", None)
    if isinstance(reset_at, datetime) and reset_at.tzinfo is not None and reset_at > at:
        at = min(reset_at, now + MAX_NETWORK_WAIT)
    return at
