"""The worker and the database going away: dropped connections, a restart,
a database that stays away. Local database errors are never network
attempts, results are kept until they can be recorded, the LISTEN waker
reconnects, and the worker exits with a supervisor-friendly status only when
the database stays unreachable."""

from __future__ import annotations

import threading
import time
from concurrent.futures import wait

import pytest
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connection, connections

from kanal.publishing import conf, engine
from kanal.publishing.models import Publication, PublicationStatus
from kanal.publishing.worker import PublishingWorker, Waker

from .conftest import call_threads, run_once

S = PublicationStatus
pytestmark = pytest.mark.django_db(transaction=True)


def refresh(pub) -> Publication:
    return Publication.objects.get(pk=pub.pk)


def drop_this_threads_connection() -> None:
    """The database drops this thread's connection (a restart, a terminated
    backend), without Django noticing."""
    if connection.vendor == "postgresql":
        pid = connection.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()
    else:
        connection.connection.close()


def broken_database(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def in_thread(target):
    """Run ``target`` in a thread of its own (like a worker's call thread)."""
    result = {}

    def run():
        try:
            result["value"] = target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result["value"]


def test_call_thread_whose_connection_was_dropped_publishes_normally(
    fake_network, queue
):
    pub = queue()
    [job] = engine.claim_due(owner="w", limit=5)

    def call():
        Publication.objects.count()  # the thread's connection is open
        drop_this_threads_connection()
        return engine.execute(job)

    outcome = in_thread(call)
    assert outcome.kind == "published", outcome
    assert engine.record(job, outcome) == S.PUBLISHED
    assert refresh(pub).attempts == 1
    assert len(fake_network.log) == 1


def test_database_errors_during_a_job_are_never_network_attempts(
    fake_network, queue
):
    pub = queue()
    for _ in range(conf.get("MAX_ATTEMPTS") + 2):
        [job] = engine.claim_due(owner="w", limit=5)

        def call(job=job):
            with connection.execute_wrapper(broken_database):
                return engine.execute(job)

        outcome = in_thread(call)
        assert outcome.kind == "local_error"
        assert engine.record(job, outcome) == S.RETRYING
        Publication.objects.filter(pk=pub.pk).update(due_at=pub.due_at)
    pub = refresh(pub)
    assert pub.attempts == 0
    assert pub.error_kind == "local_error"
    assert "database" in pub.last_error
    assert not pub.needs_reconcile
    assert fake_network.log == []
    assert run_once() == [S.PUBLISHED]


def test_results_are_kept_and_recorded_when_the_database_is_back(
    fake_network, queue
):
    pub = queue()
    worker = PublishingWorker(concurrency=2, name="w")
    with call_threads(2) as executor:
        assert worker.claim(executor) == 1
        wait(list(worker.in_flight))
        token = next(iter(worker.in_flight.values())).lease_token
        with connection.execute_wrapper(broken_database), \
                pytest.raises(DatabaseError):
            worker.record_finished()
        assert len(worker.unrecorded) == 1
        assert token in worker.lease_tokens()  # its lease is still renewed
        assert refresh(pub).status == S.PUBLISHING
        worker.record_finished()
    assert worker.unrecorded == []
    assert worker.published == 1
    assert refresh(pub).status == S.PUBLISHED
    assert len(fake_network.log) == 1


def test_worker_loop_survives_a_database_restart(
    fake_network, queue, monkeypatch
):
    monkeypatch.setenv("KANAL_PUBLISH_DB_RETRY_MAX_SECONDS", "0.05")
    pub = queue()
    real_claim = engine.claim_due
    failures = iter(range(3))

    def claim_while_restarting(**kwargs):
        if next(failures, None) is not None:
            raise OperationalError("the database system is starting up")
        return real_claim(**kwargs)

    monkeypatch.setattr(engine, "claim_due", claim_while_restarting)
    worker = PublishingWorker(concurrency=2, name="w")
    assert in_thread(lambda: worker.run(once=True)) == 1
    assert worker.exit_code == 0
    assert refresh(pub).status == S.PUBLISHED


def test_worker_exits_for_its_supervisor_when_the_database_stays_away(
    fake_network, queue, monkeypatch
):
    monkeypatch.setenv("KANAL_PUBLISH_DB_RETRY_MAX_SECONDS", "0.05")
    monkeypatch.setenv("KANAL_PUBLISH_DB_GIVE_UP_SECONDS", "0.3")
    queue()

    def unreachable(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(engine, "claim_due", unreachable)
    with pytest.raises(SystemExit) as stopped:
        call_command("worker", "--once", "--no-tasks", "--name", "w")
    assert stopped.value.code == 75  # EX_TEMPFAIL: restart me later


def test_lease_keeper_reconnects_after_its_connection_is_dropped(
    fake_network, queue
):
    from kanal.publishing.worker import LeaseKeeper

    pub = queue()
    [job] = engine.claim_due(owner="w", limit=5)
    before = refresh(pub).lease_expires_at
    keeper = LeaseKeeper(lambda: {job.lease_token}, threading.Event())

    def renew_twice():
        keeper.renew_once()
        drop_this_threads_connection()
        first = keeper.renew_once()  # fails, drops the connection
        return first, keeper.renew_once()

    failed, renewed = in_thread(renew_twice)
    assert failed == 0
    assert renewed == 1
    assert refresh(pub).lease_expires_at > before


def test_listening_waker_reconnects_after_the_database_drops_it():
    from kanal.publishing.actions import wake_workers

    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers poll briefly.")
    waker = Waker()
    try:
        assert waker.listens
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)",
                           [waker.conn.info.backend_pid])
        waker.wait(0.5)  # notices, does not raise
        waker.next_connect = 0.0
        waker.wait(0.01)
        assert waker.listens
        timer = threading.Timer(0.3, lambda: (wake_workers(), connection.close()))
        started = time.monotonic()
        timer.start()
        waker.wait(10)
        assert time.monotonic() - started < 3
    finally:
        waker.close()
