"""The publishing worker loop: claim, call in threads, record, sleep until due.

One process runs one loop. The main thread owns every database write except
adapters' checkpoints: it claims as many due publications as it has free
threads, hands each to a thread for the network call, records finished calls,
renews the leases of calls still running, and runs the periodic jobs. Idle, it
sleeps until the next ``due_at`` (an indexed MIN) or until woken: PostgreSQL
``LISTEN kanal_publications`` (sent on commit by every action that makes
something due); on SQLite a short bounded sleep, capped by the next due time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.db import close_old_connections, connection
from django.utils import timezone

from . import conf, engine
from .actions import WAKE_CHANNEL
from .periodic import PERIODIC_JOBS
from .selectors import next_due_at

logger = logging.getLogger("kanal.publishing.worker")


class Waker:
    """Sleep until a timeout or a NOTIFY (PostgreSQL), whichever is first."""

    def __init__(self) -> None:
        self.conn = None
        if connection.vendor == "postgresql":
            try:
                import psycopg

                params = connection.get_connection_params()
                params.pop("cursor_factory", None)
                params.pop("context", None)
                self.conn = psycopg.connect(**params, autocommit=True)
                self.conn.execute(f"LISTEN {WAKE_CHANNEL}")
            except Exception:
                logger.exception("LISTEN unavailable; falling back to polling")
                self.conn = None

    @property
    def listens(self) -> bool:
        return self.conn is not None

    def wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.conn is None:
            time.sleep(min(seconds, conf.get("IDLE_POLL_SECONDS")))
            return
        for _notify in self.conn.notifies(timeout=seconds, stop_after=1):
            pass

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class PublishingWorker:
    def __init__(self, *, concurrency: int = 8, name: str = "") -> None:
        self.concurrency = max(1, concurrency)
        self.owner = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stop = threading.Event()
        self.in_flight: dict[Future, engine.Job] = {}
        self.next_periodic = dict.fromkeys((j.name for j in PERIODIC_JOBS), 0.0)
        self.next_heartbeat = 0.0
        self.last_claim = 0.0
        self.last_scopes = 0.0
        self.published = 0

    # -- one pass ----------------------------------------------------------

    def run_periodic(self, *, force: bool = False) -> None:
        clock = time.monotonic()
        for job in PERIODIC_JOBS:
            if force or clock >= self.next_periodic[job.name]:
                try:
                    changed = job.run()
                    if changed:
                        logger.info("%s: %s", job.name, changed)
                except Exception:
                    logger.exception("periodic job %s failed", job.name)
                self.next_periodic[job.name] = clock + float(job.every())

    def record_finished(self) -> int:
        done = [f for f in self.in_flight if f.done()]
        if not done:
            return 0
        results = []
        for future in done:
            job = self.in_flight.pop(future)
            try:
                outcome = future.result()
            except BaseException as e:  # execute() catches; belt and braces
                outcome = engine.Outcome("crash", error=e)
            results.append((job, outcome))
        try:
            statuses = engine.record_many(results)
        except Exception:
            # The leases will expire and the sweeper reconciles the rows.
            logger.exception("could not record %d publications", len(results))
            return len(done)
        self.published += statuses.count("published")
        return len(done)

    def claim(self, executor: ThreadPoolExecutor) -> int:
        # Claim up to one extra job per thread, so threads never wait for
        # the main loop's next claim (the extra ones wait in the executor,
        # leased and re-checked for crisis just before their call).
        free = 2 * self.concurrency - len(self.in_flight)
        if free <= 0:
            return 0
        # Under load, claim in batches: one claim transaction per freed
        # thread would cost more than the calls themselves. With one job
        # claimed ahead per thread, waiting until half the threads' worth is
        # free still leaves every thread a job.
        batch = max(1, self.concurrency // 2)
        if (
            self.in_flight
            and free < batch
            and time.monotonic() - self.last_claim < 0.05
        ):
            return 0
        self.last_claim = time.monotonic()
        jobs = engine.claim_due(owner=self.owner, limit=free)
        for job in jobs:
            self.in_flight[executor.submit(engine.execute, job)] = job
        return len(jobs)

    def heartbeat(self) -> None:
        clock = time.monotonic()
        if clock < self.next_heartbeat:
            return
        tokens = {job.lease_token for job in self.in_flight.values()}
        engine.renew_leases(tokens)
        self.next_heartbeat = clock + conf.lease().total_seconds() / 3

    def seconds_until_due(self) -> float:
        due = next_due_at()
        if due is None:
            return 5.0
        return max(0.0, (due - timezone.now()).total_seconds())

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
        try:
            next_check = 0.0
            while not self.stop.is_set():
                if time.monotonic() >= next_check:
                    # Drop broken connections (a restarted database) now and
                    # then; on SQLite (CONN_MAX_AGE 0) this would reconnect
                    # every turn of the loop.
                    if connection.vendor != "sqlite":
                        close_old_connections()
                    next_check = time.monotonic() + 10
                self.run_periodic()
                self.record_finished()
                claimed = self.claim(executor)
                if time.monotonic() - max(self.last_claim, self.last_scopes) > 0.1:
                    # claim_due refreshes them itself when it runs.
                    engine.refresh_crisis_scopes()
                    self.last_scopes = time.monotonic()
                self.heartbeat()
                if claimed and len(self.in_flight) < 2 * self.concurrency:
                    continue
                until_due = 0.0 if claimed else self.seconds_until_due()
                if once and not self.in_flight and (claimed == 0) and until_due > 0:
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
                    waker.wait(min(until_due, 5.0))
                elif not claimed:
                    # Due but not claimable now (pacing): wait a moment.
                    time.sleep(conf.get("IDLE_POLL_SECONDS"))
        finally:
            wait(list(self.in_flight))
            self.record_finished()
            executor.shutdown(wait=True)
            waker.close()
        return self.published
