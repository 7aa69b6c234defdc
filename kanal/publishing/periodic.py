"""Every periodic job of Kanal, declared in one place.

Each takes ``now`` and ``dry_run`` and returns how many rows it changed (or
would change). ``kanal worker`` runs them on their interval;
``kanal worker --dry-run`` reports what each would do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from kanal.core import checkpoints
from kanal.organisations import throttle

from . import conf, engine, followup, heartbeat, tokens


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    description: str
    every: Callable[[], float]
    run: Callable[..., int]


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
