"""The worker runs each lane of periodic jobs in its own thread: a job that
waits on a slow network never delays publishing's own sweeps or the inbox's
webhook processing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kanal.publishing import periodic
from kanal.publishing.worker import PublishingWorker


def _run_and_close(worker):
    try:
        worker.run()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_hanging_network_job_does_not_delay_the_other_lanes(monkeypatch):
    hanging = threading.Event()
    release = threading.Event()
    swept = threading.Event()
    processed = threading.Event()

    def slow_network(**_kwargs):
        hanging.set()
        release.wait(30)
        return 0

    jobs = [
        # First in the list: in one thread it would hold every job after it.
        periodic.PeriodicJob("slow_poll", "a network that does not answer",
                             lambda: 60.0, slow_network, lane="network"),
        periodic.PeriodicJob("sweep", "lease sweep", lambda: 0.05,
                             lambda **_kw: swept.set() or 0),
        periodic.PeriodicJob("webhooks", "webhook processing", lambda: 0.05,
                             lambda **_kw: processed.set() or 0, lane="intake"),
    ]
    monkeypatch.setattr("kanal.publishing.worker.PERIODIC_JOBS", jobs)
    worker = PublishingWorker(concurrency=1, name="lanes")
    thread = threading.Thread(target=_run_and_close, args=(worker,))
    thread.start()
    try:
        assert hanging.wait(10)
        swept.clear()
        processed.clear()
        # Both run again while the network job still hangs.
        assert swept.wait(10)
        assert processed.wait(10)
        assert not release.is_set()
    finally:
        release.set()
        worker.stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_every_job_has_a_known_lane_and_the_apps_jobs_are_in_theirs():
    by_name = {job.name: job.lane for job in periodic.PERIODIC_JOBS}
    assert set(by_name.values()) <= set(periodic.LANES)
    assert by_name["sweep_expired_leases"] == "engine"
    assert by_name["inbox_process_webhooks"] == "intake"
    assert by_name["inbox_poll"] == "network"
    assert by_name["records_read_back_published"] == "network"
    assert by_name["records_retention"] == "housekeeping"


def test_an_unknown_lane_is_refused():
    with pytest.raises(ValueError, match="unknown lane"):
        periodic.PeriodicJob("x", "x", lambda: 1.0, lambda **_kw: 0, lane="fast")
