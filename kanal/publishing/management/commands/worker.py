"""`kanal worker`: publish due publications, run publishing's periodic jobs,
and run django-tasks' database worker (follow-up work) in a thread beside."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kanal.core.schema import schema_state
from kanal.publishing.periodic import PERIODIC_JOBS
from kanal.publishing.worker import EXIT_SCHEMA_MISMATCH, PublishingWorker

logger = logging.getLogger("kanal.publishing.worker")


class Command(BaseCommand):
    help = "Udgiver planlagte opslag (og kører opfølgende opgaver)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=8,
                            help="Simultaneous network calls (threads).")
        parser.add_argument("--once", action="store_true",
                            help="Publish what is due now, then exit.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Report what the periodic jobs would change.")
        parser.add_argument("--no-tasks", action="store_true",
                            help="Do not run the django-tasks worker thread.")
        parser.add_argument("--name", default="", help="Worker name (lease owner).")

    def handle(self, *args, concurrency, once, dry_run, no_tasks, name, **options):
        self.refuse_other_schema()
        if dry_run:
            for job in PERIODIC_JOBS:
                n = job.run(dry_run=True)
                self.stdout.write(f"{job.name}: {n} — {job.description}")
            return
        worker = PublishingWorker(concurrency=concurrency, name=name)
        tasks_worker = None
        if not no_tasks:
            tasks_worker = _start_tasks_worker(worker.owner, batch=once)

        def stop(signum, frame):
            logger.info("worker %s: stopping (signal %s)", worker.owner, signum)
            worker.stop.set()
            if tasks_worker is not None:
                tasks_worker.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        published = worker.run(once=once)
        if tasks_worker is not None and (once or worker.exit_code):
            tasks_worker.running = False
            tasks_worker.thread.join(timeout=30)
        self.stdout.write(f"published {published}")
        if worker.exit_code:
            # The database stayed unreachable: a supervisor restarts the worker.
            sys.exit(worker.exit_code)


    def refuse_other_schema(self) -> None:
        """A worker never runs against a schema its code does not match: older
        code could write rows the new schema reads differently, newer code
        would fail on missing columns mid-publish."""
        state = schema_state()
        if state.unknown:
            self.stderr.write(_(
                "Arbejderen starter ikke: databasen har migreringer, som denne "
                "version af Kanal ikke kender (%(names)s). Koden er ældre end "
                "databasen: installér den nye version, og start arbejderen igen."
            ) % {"names": ", ".join(state.unknown)})
            sys.exit(EXIT_SCHEMA_MISMATCH)
        if state.pending:
            self.stderr.write(_(
                "Arbejderen starter ikke: %(count)d migrering(er) er ikke kørt "
                "(%(names)s). Kør `kanal migrate`, og start arbejderen igen."
            ) % {"count": len(state.pending), "names": ", ".join(state.pending)})
            sys.exit(EXIT_SCHEMA_MISMATCH)


def _start_tasks_worker(owner: str, *, batch: bool):
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return None
    from django_tasks_db.management.commands.db_worker import Worker

    tasks_worker = Worker(
        queue_names=["*"],
        interval=0.5,
        batch=batch,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{owner}:tasks"[:64],
        excluded_queue_names=[],
    )
    tasks_worker.thread = threading.Thread(
        target=_keep_running, args=(tasks_worker,), name="kanal-tasks", daemon=True
    )
    tasks_worker.thread.start()
    return tasks_worker


def _keep_running(tasks_worker) -> None:
    """django-tasks' worker loop, started again after it dies (a database
    error ends it), with backoff, until the worker stops."""
    from django.db import connection

    failures = 0
    while tasks_worker.running:
        try:
            tasks_worker.run()
            return
        except Exception:
            failures += 1
            logger.exception("tasks worker stopped; starting it again")
            connection.close()
            time.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
