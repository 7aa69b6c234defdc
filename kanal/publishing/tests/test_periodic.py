from __future__ import annotations

import pytest
from django.core.management import call_command

from kanal.publishing.periodic import PERIODIC_JOBS


def test_every_periodic_job_is_declared_once_with_an_interval():
    names = [job.name for job in PERIODIC_JOBS]
    assert len(names) == len(set(names))
    assert {
        "sweep_expired_leases",
        "mark_missed",
        "refresh_tokens",
        "planning_approval_watch",
    } <= set(names)
    assert all(job.every() > 0 for job in PERIODIC_JOBS)


@pytest.mark.django_db
def test_every_periodic_job_runs_dry(capsys):
    for job in PERIODIC_JOBS:
        assert job.run(dry_run=True) == 0
    call_command("worker", "--dry-run")
    out = capsys.readouterr().out
    assert "planning_approval_watch" in out
