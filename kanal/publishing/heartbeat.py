"""The worker's heartbeat: one row per worker process, beaten by its main
loop on the database's clock, marked stopped on a clean exit."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone

from . import conf
from .models import WorkerHeartbeat


def _db_now():
    return ExpressionWrapper(Now(), output_field=DateTimeField())


def beat(owner: str) -> None:
    """Record that ``owner``'s main loop is alive (creates its row once)."""
    updated = WorkerHeartbeat.objects.filter(owner=owner).update(
        beat_at=_db_now(), stopped_at=None
    )
    if not updated:
        started(owner)


def started(owner: str) -> None:
    """A (re)started worker: a fresh start time under its name."""
    WorkerHeartbeat.objects.update_or_create(
        owner=owner,
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": _db_now(),
            "beat_at": _db_now(),
            "stopped_at": None,
        },
    )


def stopped(owner: str) -> None:
    WorkerHeartbeat.objects.filter(owner=owner).update(stopped_at=_db_now())


def max_age() -> timedelta:
    """A beat older than this means the worker is not working."""
    return conf.seconds("HEARTBEAT_MAX_AGE_SECONDS")


def live_workers(now: datetime):
    """Workers that beat within ``max_age()`` of ``now`` (database clock)."""
    return WorkerHeartbeat.objects.filter(
        stopped_at__isnull=True, beat_at__gte=now - max_age()
    )


def prune(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Forget workers stopped or silent for a day (a restarted host's old
    names), so the metrics list only recent ones."""
    now = now or timezone.now()
    old = WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1))
    return old.count() if dry_run else old.delete()[0]
