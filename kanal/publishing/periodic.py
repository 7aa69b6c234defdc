"""Every periodic job of Kanal, declared in one place.

Each takes ``now`` and ``dry_run`` and returns how many rows it changed (or
would change). ``kanal worker`` runs them on their interval;
``kanal worker --dry-run`` reports what each would do.

Each job runs in a *lane*, one thread per lane in the worker, so a job that
waits cannot delay a job of another lane: publishing's own sweeps (a dead
worker's publications reconciled in time) never wait for a slow network's
inbox, and a citizen's webhook is processed within seconds while a large
retention run or a report e-mail is still working.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kanal.core import checkpoints
from kanal.core.database import CONFLICT, UNAVAILABLE, classify
from kanal.organisations import throttle

from . import conf, engine, followup, heartbeat, tokens

logger = logging.getLogger("kanal.publishing.periodic")
T = TypeVar("T")


#: The lanes, one worker thread each (``PeriodicJob.lane``):
#: ``engine``: publishing's own safety work (leases, missed cutoff, tokens);
#: ``intake``: what the desk waits for in seconds (webhooks, counts, alerts),
#: database work only;
#: ``network``: reading from the networks and sources, whose answers may be
#: slow (each such job stops starting new calls after its time budget);
#: ``housekeeping``: long database and file work (records, rollups, e-mails).
LANES = ("engine", "intake", "network", "housekeeping")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    description: str
    every: Callable[[], float]
    run: Callable[..., int]
    lane: str = "engine"

    def __post_init__(self) -> None:
        if self.lane not in LANES:
            raise ValueError(f"periodic job {self.name}: unknown lane {self.lane!r}")


#: Apps above publishing add theirs at start (``register``).
PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob(
        "sweep_expired_leases",
        "Tager udgivelser tilbage, hvis arbejder døde midt i et kald, og afklarer dem.",
        lambda: conf.get("SWEEP_EVERY_SECONDS"),
        engine.sweep_expired_leases,
    ),
    PeriodicJob(
        "sweep_expired_follow_ups",
        "Tager opfølgende arbejde (første kommentar, fastgørelse) tilbage, hvis "
        "arbejderen døde midt i det.",
        lambda: conf.get("SWEEP_EVERY_SECONDS"),
        followup.sweep_expired_follow_ups,
    ),
    PeriodicJob(
        "mark_missed",
        "Markerer udgivelser, der er for sent på den, som ikke udgivet.",
        lambda: conf.get("MARK_MISSED_EVERY_SECONDS"),
        engine.mark_missed,
    ),
    PeriodicJob(
        "refresh_tokens",
        "Fornyer kanalers adgang, før den udløber.",
        lambda: conf.get("TOKEN_REFRESH_EVERY_SECONDS"),
        tokens.refresh_due_tokens,
    ),
    PeriodicJob(
        "audit_checkpoint",
        "Skriver et signeret checkpoint af revisionssporets hoved uden for "
        "databasen, så afskårne poster opdages.",
        lambda: float(settings.KANAL_AUDIT_CHECKPOINT_SECONDS),
        checkpoints.write_checkpoint,
    ),
    PeriodicJob(
        "prune_login_counters",
        "Sletter udløbne tællere for mislykkede login.",
        lambda: 3600.0,
        throttle.prune,
    ),
    PeriodicJob(
        "prune_worker_heartbeats",
        "Glemmer arbejdere, der har været stoppet eller tavse i et døgn.",
        lambda: 3600.0,
        heartbeat.prune,
    ),
]


def register(job: PeriodicJob) -> None:
    """Add ``job`` (once) to the jobs ``kanal worker`` runs."""
    if all(existing.name != job.name for existing in PERIODIC_JOBS):
        PERIODIC_JOBS.append(job)


def each_guarded(
    job: str,
    items: Iterable[T],
    work: Callable[[T], int],
    *,
    record: Callable[[T, Exception], object] | None = None,
    budget_seconds: float | None = None,
) -> int:
    """``work(item)`` for each of ``items`` (channels, organisations, sources),
    each guarded: when one fails in any way, the failure is logged, handed to
    ``record(item, error)`` (which writes it where the desk sees it, e.g. the
    channel's cursor) and the loop goes on with the next, so one channel's odd
    answer never stops the job for every channel after it. Returns the sum of
    what ``work`` returned for the items that did not fail.

    Inside a caller's transaction each item runs in a savepoint, so a refused
    statement is undone for that item only; in the worker (autocommit) every
    statement commits on its own and nothing is held open around network calls.
    Losing the database itself is not one item's fault: that is raised, and
    the worker waits for the database. Nor is a conflict with another
    transaction (a deadlock, SQLite's busy lock) that outlasted the retries
    of the statement that met it: it is logged as a conflict, not recorded
    on the item, and the item waits for the next run (not run again here:
    an item's network call, a token refresh, may not be safe to repeat).

    With ``budget_seconds`` no item is started once that much time has gone
    by since the first (which always runs): the rest wait for the next run,
    so callers hand the items over longest-waiting first.
    """
    done = 0
    stop_at = None if budget_seconds is None else time.monotonic() + budget_seconds
    for started, item in enumerate(items):
        if started and stop_at is not None and time.monotonic() >= stop_at:
            logger.info("periodic job %s: time budget of %ss used after %d; "
                        "the rest wait for the next run", job, budget_seconds, started)
            break
        guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
        try:
            with guard:
                done += work(item) or 0
        except DatabaseError as error:
            kind = classify(error)
            if kind == UNAVAILABLE:
                raise  # the database itself is away: the worker waits for it
            if kind == CONFLICT:
                logger.warning("periodic job %s: %r met a database conflict "
                               "(%s); it waits for the next run", job, item, error)
                continue
            _failed(job, item, error, record)
        except Exception as error:
            _failed(job, item, error, record)
    return done


def _failed(job: str, item, error: Exception, record) -> None:
    """Log one item's failure and hand it to ``record``."""
    logger.exception("periodic job %s: %r failed; the others go on", job, item)
    if record is not None:
        try:
            record(item, error)
        except Exception:
            logger.exception("periodic job %s: the failure of %r could not be "
                             "recorded", job, item)
