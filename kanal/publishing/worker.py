"""The publishing worker: claim, call in threads, record, sleep until due.

One process runs three kinds of thread, each with its own database
connection:

- the main loop claims only as many due publications (then follow-ups) as it
  has idle call threads, hands each to a thread, records finished calls, and
  sleeps until the next ``due_at`` or until woken (PostgreSQL ``LISTEN
  kanal_publications``; on SQLite a short bounded sleep);
- the lease keeper renews the leases of every job in flight (or finished but
  not yet recorded) every third of a lease, whatever the other threads do;
- one periodic thread per lane (``periodic.LANES``) runs that lane's periodic
  jobs (sweeper, missed cutoff, token refresh …; the apps' intake, network
  reads and housekeeping), so a slow token endpoint never delays a claim or a
  renewal, and a slow network's inbox never delays the lease sweeps.

A conflict with another transaction (a deadlock, a serialization failure,
SQLite's busy lock) is no outage: the transaction is run again at once, a
few times, with jitter (``kanal.core.database``); one that outlasts those
tries is logged as a conflict and the work is tried again within a second.

A database that goes away (restart, dropped connections) is waited for:
connections are dropped and opened again with backoff, results that could
not be recorded are kept (their leases renewed) and recorded when it is back.
Only when it stays unreachable for ``DB_GIVE_UP_SECONDS`` does the worker
stop, with exit status 75 (``EX_TEMPFAIL``) for its supervisor to restart it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.db import DatabaseError, connection

from kanal.core.database import (
    conflict_delay,
    is_conflict,
    is_unavailable,
    retry_conflicts,
)

from . import conf, engine, followup, heartbeat
from .actions import WAKE_CHANNEL
from .periodic import LANES, PERIODIC_JOBS
from .selectors import next_due_at

logger = logging.getLogger("kanal.publishing.worker")

#: Exit status when the database stayed unreachable (sysexits EX_TEMPFAIL).
EXIT_DATABASE_UNAVAILABLE = 75
#: Exit status when the database's migrations are not the code's (sysexits
#: EX_CONFIG): a supervisor should not restart it (RestartPreventExitStatus).
EXIT_SCHEMA_MISMATCH = 78


class Waker:
    """Sleep until a timeout or a NOTIFY (PostgreSQL), whichever is first.

    The listening connection is opened again after it breaks (a restarted
    database); until then the waker polls.
    """

    def __init__(self) -> None:
        self.conn = None
        self.next_connect = 0.0
        self.failures = 0
        self.postgres = connection.vendor == "postgresql"
        self.connect()

    def connect(self) -> None:
        if not self.postgres or time.monotonic() < self.next_connect:
            return
        try:
            import psycopg

            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            self.conn = psycopg.connect(**params, autocommit=True)
            self.conn.execute(f"LISTEN {WAKE_CHANNEL}")
            self.failures = 0
        except Exception as e:
            logger.warning("LISTEN unavailable (%s); polling meanwhile", e)
            self._broken()

    def _broken(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None
        self.failures += 1
        delay = min(
            conf.get("DB_RETRY_MAX_SECONDS"),
            conf.get("DB_RECONNECT_BASE_SECONDS") * 2 ** self.failures,
        )
        self.next_connect = time.monotonic() + delay

    @property
    def listens(self) -> bool:
        return self.conn is not None

    def wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.conn is None:
            self.connect()
        if self.conn is None:
            time.sleep(min(seconds, conf.get("IDLE_POLL_SECONDS")))
            return
        try:
            for _notify in self.conn.notifies(timeout=seconds, stop_after=1):
                pass
        except Exception as e:
            logger.warning("LISTEN connection lost (%s); reconnecting", e)
            self._broken()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class LeaseKeeper(threading.Thread):
    """Renews the leases of the jobs in ``tokens()`` every third of a lease,
    on its own connection, independent of everything else the worker does."""

    def __init__(self, tokens, stop: threading.Event) -> None:
        super().__init__(name="kanal-leases", daemon=True)
        self.tokens = tokens
        self.stop_event = stop
        self.renewals = 0

    def run(self) -> None:
        try:
            while not self.stop_event.wait(conf.lease().total_seconds() / 3):
                self.renew_once()
        finally:
            connection.close()

    def renew_once(self) -> int:
        tokens = self.tokens()
        if not tokens:
            return 0
        try:
            renewed = retry_conflicts(lambda: engine.renew_leases(tokens),
                                      what="renewing leases")
            self.renewals += 1
            return renewed
        except DatabaseError as e:
            logger.warning("lease renewal failed (%s); trying again", e)
            if not is_conflict(e):
                engine.drop_connection()
            return 0


class PeriodicRunner(threading.Thread):
    """Runs the periodic jobs of one lane (all of them when ``lane`` is None),
    each on its interval, on its own connection."""

    def __init__(self, stop: threading.Event, clock, *,
                 lane: str | None = None) -> None:
        super().__init__(name=f"kanal-periodic-{lane or 'all'}", daemon=True)
        self.stop_event = stop
        self.clock = clock
        self.lane = lane
        self.next_run = dict.fromkeys((j.name for j in self.jobs()), 0.0)

    def jobs(self):
        return [job for job in PERIODIC_JOBS
                if self.lane is None or job.lane == self.lane]

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self.run_due()
                self.stop_event.wait(conf.get("PERIODIC_POLL_SECONDS"))
        finally:
            connection.close()

    def run_due(self, *, force: bool = False) -> None:
        for job in self.jobs():
            clock = time.monotonic()
            if self.stop_event.is_set():
                return
            if not force and clock < self.next_run.get(job.name, 0.0):
                continue
            engine.fresh_connection()
            try:
                changed = job.run(now=self.clock.now())
                if changed:
                    logger.info("%s: %s", job.name, changed)
            except DatabaseError as e:
                if is_conflict(e):
                    # Another transaction won a race: the job runs again soon.
                    logger.warning("periodic job %s: database conflict (%s); "
                                   "running it again shortly", job.name, e)
                    self.next_run[job.name] = time.monotonic() + conflict_delay(5)
                    continue
                logger.warning("periodic job %s: database error (%s)", job.name, e)
                engine.drop_connection()
            except Exception:
                logger.exception("periodic job %s failed", job.name)
            self.next_run[job.name] = time.monotonic() + float(job.every())


class PublishingWorker:
    def __init__(self, *, concurrency: int = 8, name: str = "") -> None:
        self.concurrency = max(1, concurrency)
        self.owner = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stop = threading.Event()
        self.in_flight: dict[Future, object] = {}
        # Finished but not recorded yet (the database was away).
        self.unrecorded: list[tuple[engine.Job, engine.Outcome]] = []
        self.unrecorded_follow_ups: list[followup.FollowUpJob] = []
        self.lock = threading.Lock()
        self.published = 0
        self.exit_code = 0
        self.db_down_since: float | None = None
        self.db_failures = 0
        self.conflicts = 0
        self.follow_ups_due = True
        self.next_follow_up_look = 0.0
        self.next_beat = 0.0
        # Due times are compared with the database's clock, not this host's.
        self.clock = engine.DatabaseClock()

    # -- what the lease keeper renews -----------------------------------------

    def lease_tokens(self) -> set[str]:
        with self.lock:
            jobs = list(self.in_flight.values())
            jobs += [job for job, _outcome in self.unrecorded]
            jobs += self.unrecorded_follow_ups
        return {job.lease_token for job in jobs}

    # -- one pass ----------------------------------------------------------

    def record_finished(self) -> int:
        with self.lock:
            done = [f for f in self.in_flight if f.done()]
            finished = [(f, self.in_flight.pop(f)) for f in done]
        results = list(self.unrecorded)
        follow_ups = list(self.unrecorded_follow_ups)
        for future, job in finished:
            if isinstance(job, followup.FollowUpJob):
                try:
                    follow_ups.append(future.result())
                except BaseException as e:  # execute catches; belt and braces
                    job.outcome, job.error = "crash", e
                    follow_ups.append(job)
                continue
            try:
                outcome = future.result()
            except BaseException as e:
                outcome = engine.Outcome("crash", error=e)
            results.append((job, outcome))
        kept: list = []
        why: DatabaseError | None = None
        if results:
            statuses = engine.record_many(results, now=self.clock.now())
            for (job, outcome), status in zip(results, statuses, strict=True):
                if status is engine.NOT_RECORDED:
                    kept.append((job, outcome))
                elif status == "published":
                    self.published += 1
            why = engine.take_kept_error()
            if engine.take_follow_up_signal():
                self.follow_ups_due = True
        kept_follow_ups = []
        for job in follow_ups:
            try:
                retry_conflicts(
                    lambda job=job: followup.record_follow_up(
                        job, now=self.clock.now()),
                    what=f"recording follow-up {job.follow_up_id}")
            except DatabaseError as e:
                if not is_conflict(e) and not is_unavailable(e):
                    logger.exception("could not record follow-up %s",
                                     job.follow_up_id)
                    continue
                if is_unavailable(e):
                    engine.drop_connection()
                if why is None or is_conflict(why):
                    why = e  # the database away outweighs a conflict
                kept_follow_ups.append(job)
            except Exception:
                logger.exception("could not record follow-up %s", job.follow_up_id)
        with self.lock:
            self.unrecorded = kept
            self.unrecorded_follow_ups = kept_follow_ups
        if kept or kept_follow_ups:
            raise why or DatabaseError("results kept until the database is back")
        return len(finished)

    def claim(self, executor: ThreadPoolExecutor) -> int:
        """Claim work only for idle threads: a claimed job never waits for a
        thread while its lease runs."""
        free = self.concurrency - len(self.in_flight)
        if free <= 0:
            return 0
        jobs = engine.claim_due(owner=self.owner, limit=free, now=self.clock.now())
        with self.lock:
            for job in jobs:
                self.in_flight[executor.submit(engine.execute, job)] = job
        free -= len(jobs)
        claimed = len(jobs)
        if free > 0 and (
            self.follow_ups_due or time.monotonic() >= self.next_follow_up_look
        ):
            self.follow_ups_due = False
            self.next_follow_up_look = (
                time.monotonic() + conf.get("FOLLOW_UP_POLL_SECONDS")
            )
            extra = followup.claim_follow_ups(
                owner=self.owner, limit=free, now=self.clock.now()
            )
            with self.lock:
                for job in extra:
                    future = executor.submit(followup.execute_follow_up, job)
                    self.in_flight[future] = job
            claimed += len(extra)
            if len(extra) == free:
                self.follow_ups_due = True
        return claimed

    def seconds_until_due(self) -> float:
        due = next_due_at()
        if due is None:
            return conf.get("IDLE_WAKE_MAX_SECONDS")
        return max(0.0, (due - self.clock.now()).total_seconds())

    def beat(self) -> None:
        """The heartbeat /readyz and the metrics read, every HEARTBEAT_SECONDS
        of the main loop (a failure is the database's, handled by the loop)."""
        if time.monotonic() < self.next_beat:
            return
        heartbeat.beat(self.owner)
        self.next_beat = time.monotonic() + float(conf.get("HEARTBEAT_SECONDS"))

    # -- the database going away ----------------------------------------------

    def database_back(self) -> None:
        if self.db_down_since is not None:
            logger.info("worker %s: database reachable again", self.owner)
        self.db_down_since = None
        self.db_failures = 0
        self.conflicts = 0

    def database_failed(self, error: BaseException) -> float:
        """Note a failure; return how long to wait before trying again (0 and
        ``exit_code`` set when it is time to give up). A conflict with another
        transaction is no outage: the pass runs again shortly."""
        if is_conflict(error):
            self.conflicts += 1
            logger.warning("worker %s: database conflict (%s); trying again",
                           self.owner, error)
            return conflict_delay(self.conflicts)
        engine.drop_connection()
        now = time.monotonic()
        if self.db_down_since is None:
            self.db_down_since = now
            logger.warning("worker %s: database unavailable (%s)", self.owner, error)
        if now - self.db_down_since > conf.get("DB_GIVE_UP_SECONDS"):
            logger.error(
                "worker %s: database unreachable for %.0f s; exiting for the "
                "supervisor to restart",
                self.owner, now - self.db_down_since,
            )
            self.exit_code = EXIT_DATABASE_UNAVAILABLE
            return 0.0
        self.db_failures += 1
        cap = conf.get("DB_RETRY_MAX_SECONDS")
        base = conf.get("DB_RETRY_BASE_SECONDS")
        delay = min(cap, base * 2 ** min(self.db_failures, 10))
        return random.uniform(delay / 2, delay)

    # -- the loop ----------------------------------------------------------

    def run(self, *, once: bool = False) -> int:
        waker = Waker()
        logger.info(
            "worker %s: %d threads, %s",
            self.owner,
            self.concurrency,
            "LISTEN/NOTIFY" if waker.listens else "polling",
        )
        executor = ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="kanal-publish"
        )
        keeper = LeaseKeeper(self.lease_tokens, self.stop)
        keeper.start()
        if once:
            PeriodicRunner(self.stop, self.clock).run_due(force=True)
            runners = []
        else:
            runners = [PeriodicRunner(self.stop, self.clock, lane=lane)
                       for lane in LANES]
            for runner in runners:
                runner.start()
        try:
            while not self.stop.is_set():
                try:
                    self.beat()
                    self.record_finished()
                    claimed = self.claim(executor)
                    busy = len(self.in_flight)
                    if claimed and busy < self.concurrency:
                        continue
                    until_due = 0.0 if claimed else self.seconds_until_due()
                    self.database_back()
                except DatabaseError as e:
                    delay = self.database_failed(e)
                    if self.exit_code:
                        break
                    if self.in_flight:
                        wait(list(self.in_flight), timeout=delay,
                             return_when=FIRST_COMPLETED)
                    else:
                        self.stop.wait(delay)
                    continue
                if once and not self.in_flight and claimed == 0 and until_due > 0:
                    break
                if self.in_flight:
                    wait(
                        list(self.in_flight),
                        timeout=min(
                            until_due or conf.get("IDLE_POLL_SECONDS"),
                            conf.get("IDLE_POLL_SECONDS"),
                        ),
                        return_when=FIRST_COMPLETED,
                    )
                elif until_due > 0:
                    waker.wait(min(until_due, conf.get("IDLE_WAKE_MAX_SECONDS")))
                elif not claimed:
                    # Due but not claimable now (pacing): wait a moment.
                    time.sleep(conf.get("IDLE_POLL_SECONDS"))
        finally:
            wait(list(self.in_flight))
            try:
                self.record_finished()
            except DatabaseError:
                logger.warning(
                    "worker %s: %d results not recorded; their leases run out "
                    "and the rows are reconciled", self.owner,
                    len(self.unrecorded) + len(self.unrecorded_follow_ups),
                )
            self.stop.set()
            with contextlib.suppress(DatabaseError):
                heartbeat.stopped(self.owner)
            _close_thread_connections(executor, self.concurrency)
            executor.shutdown(wait=True)
            keeper.join(timeout=5)
            # The lanes finish their current job together: 30 s for all.
            deadline = time.monotonic() + 30
            for runner in runners:
                runner.join(timeout=max(0.0, deadline - time.monotonic()))
            waker.close()
            connection.close()
        return self.published


def _close_thread_connections(executor: ThreadPoolExecutor, threads: int) -> None:
    """Close each call thread's database connection before the pool ends
    (Django's connections belong to their thread). One task per thread: each
    waits at a barrier, so no thread runs two."""
    barrier = threading.Barrier(threads)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        connection.close()

    wait([executor.submit(close) for _ in range(threads)], timeout=10)
