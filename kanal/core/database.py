"""What a database error means for the code that meets it.

- a *conflict* with another transaction: a PostgreSQL deadlock (SQLSTATE
  40P01) or serialization failure (40001), SQLite's "database is locked"
  (SQLITE_BUSY, SQLITE_LOCKED). The database is there; the transaction lost a
  race and was undone as a whole, so running it again shortly is right;
- the database *unavailable*: any other ``OperationalError`` or
  ``InterfaceError`` (a restart, a dropped connection, a full disk). The
  worker waits for it;
- anything else (``IntegrityError``, ``DataError`` …): the statement's own
  fault, for its caller to decide.

``retry_conflicts`` is the one prompt, bounded, jittered retry of a conflict.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger("kanal.core.database")
T = TypeVar("T")

CONFLICT = "conflict"
UNAVAILABLE = "unavailable"

#: PostgreSQL: deadlock_detected, serialization_failure.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
#: SQLite's primary result codes SQLITE_BUSY and SQLITE_LOCKED.
SQLITE_CONFLICT_CODES = frozenset({5, 6})
#: What SQLite says when its busy timeout ran out (older drivers give no code).
SQLITE_CONFLICT_TEXTS = ("database is locked", "database table is locked")

#: A conflict is tried again this many times before it is given up (and
#: said as a conflict), waiting about 50, 100, 200 ms between (with jitter,
#: so two transactions that collided do not collide again in step).
CONFLICT_ATTEMPTS = 4
CONFLICT_BASE_SECONDS = 0.05
CONFLICT_MAX_SECONDS = 2.0


def classify(error: BaseException) -> str | None:
    """``CONFLICT``, ``UNAVAILABLE`` or None (neither) for a database error,
    Django's (whose ``__cause__`` is the driver's) or the driver's own."""
    for candidate in (error, error.__cause__):
        if candidate is None:
            continue
        if getattr(candidate, "sqlstate", None) in CONFLICT_SQLSTATES:
            return CONFLICT
        code = getattr(candidate, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in SQLITE_CONFLICT_CODES:
            return CONFLICT
        if code is None and any(text in str(candidate)
                                for text in SQLITE_CONFLICT_TEXTS):
            return CONFLICT
    if isinstance(error, (OperationalError, InterfaceError)):
        return UNAVAILABLE
    return None


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a transaction's lost race (try again shortly)."""
    return classify(error) == CONFLICT


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is away (wait for it)."""
    return classify(error) == UNAVAILABLE


def conflict_delay(attempt: int) -> float:
    """Seconds to wait before try ``attempt`` (1, 2, …) after a conflict:
    doubling from ``CONFLICT_BASE_SECONDS``, at most ``CONFLICT_MAX_SECONDS``,
    jittered down to half of that."""
    delay = min(CONFLICT_MAX_SECONDS,
                CONFLICT_BASE_SECONDS * 2 ** max(0, min(attempt - 1, 10)))
    return random.uniform(delay / 2, delay)


def retry_conflicts(step: Callable[[], T], *, what: str,
                    attempts: int = CONFLICT_ATTEMPTS) -> T:
    """``step()``; after a conflict, again after ``conflict_delay``, at most
    ``attempts`` times in all; the last conflict is raised.

    ``step`` must be one whole transaction (or one statement in autocommit):
    after a conflict the database has undone all of it. Inside a caller's
    transaction nothing is retried: the conflict undid the caller's work too,
    so it is the caller's to run again.
    """
    attempt = 1
    while True:
        try:
            return step()
        except OperationalError as error:
            if (not is_conflict(error) or connection.in_atomic_block
                    or attempt >= attempts):
                if is_conflict(error):
                    logger.warning("database conflict while %s, after %d "
                                   "tries: %s", what, attempt, error)
                raise
            logger.info("database conflict while %s (%s); trying again",
                        what, error)
        time.sleep(conflict_delay(attempt))
        attempt += 1
