"""A conflict with another transaction (SQLite's busy lock, a PostgreSQL
deadlock) is no outage: results are recorded after a prompt retry, the
worker does not count the database as away, and a periodic item that met
one is not recorded as its failure."""

from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import wait

import pytest
from django.db import OperationalError, connection

from kanal.core import database
from kanal.publishing import engine, periodic
from kanal.publishing.models import Publication, PublicationStatus
from kanal.publishing.worker import PublishingWorker

from .conftest import call_threads

S = PublicationStatus
pytestmark = pytest.mark.django_db(transaction=True)


def conflict() -> OperationalError:
    """SQLite's own "database is locked", as Django raises it."""
    try:
        raise OperationalError("database is locked") from sqlite3.OperationalError(
            "database is locked")
    except OperationalError as error:
        return error


@pytest.fixture
def sqlite_writer_holds_the_lock():
    """``hold(seconds)``: another connection takes SQLite's write lock for
    ``seconds`` while this one waits at most 50 ms (its busy timeout)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout=50")
    path = connection.settings_dict["NAME"]
    holders = []

    def hold(seconds: float) -> None:
        holder = sqlite3.connect(path, isolation_level=None,
                                 check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(seconds, lambda: (holder.execute("COMMIT"),
                                                  holder.close()))
        timer.start()
        holders.append(timer)

    yield hold
    for timer in holders:
        timer.join(5)
    connection.close()  # the next test's connection has the normal timeout


def test_results_met_by_sqlites_lock_are_recorded_after_a_prompt_retry(
    fake_network, queue, sqlite_writer_holds_the_lock, caplog
):
    pub = queue()
    [job] = engine.claim_due(owner="w", limit=5)
    outcome = engine.execute(job)
    sqlite_writer_holds_the_lock(0.12)
    with caplog.at_level(logging.INFO, logger="kanal"):
        assert engine.record_many([(job, outcome)]) == [S.PUBLISHED]
    assert Publication.objects.get(pk=pub.pk).status == S.PUBLISHED
    assert "database conflict" in caplog.text
    assert "unavailable" not in caplog.text
    assert engine.take_kept_error() is None


def test_a_conflict_that_outlasts_its_retries_keeps_the_result_as_a_conflict(
    fake_network, queue, monkeypatch, caplog
):
    monkeypatch.setattr(database.time, "sleep", lambda seconds: None)
    pub = queue()
    worker = PublishingWorker(concurrency=2, name="w")
    real_record = engine._record_locked

    def locked(*args):
        raise conflict()

    with call_threads(2) as executor:
        assert worker.claim(executor) == 1
        wait(list(worker.in_flight))
        monkeypatch.setattr(engine, "_record_locked", locked)
        with caplog.at_level(logging.INFO, logger="kanal"), \
                pytest.raises(OperationalError) as raised:
            worker.record_finished()
        assert database.is_conflict(raised.value)
        assert len(worker.unrecorded) == 1
        assert Publication.objects.get(pk=pub.pk).status == S.PUBLISHING
        # No outage: the database is not counted as away, the pass comes
        # round again within a second.
        delay = worker.database_failed(raised.value)
        assert delay <= 1.0
        assert worker.db_down_since is None and worker.exit_code == 0
        assert "unavailable" not in caplog.text
        monkeypatch.setattr(engine, "_record_locked", real_record)
        worker.record_finished()
    assert worker.unrecorded == []
    assert Publication.objects.get(pk=pub.pk).status == S.PUBLISHED


def test_a_periodic_item_that_met_a_conflict_waits_for_the_next_run(caplog):
    recorded = []

    def work(n):
        if n == 2:
            raise conflict()
        return n

    with caplog.at_level(logging.WARNING, logger="kanal"):
        total = periodic.each_guarded(
            "test", [1, 2, 3], work, record=lambda n, e: recorded.append(n))
    assert total == 4
    assert recorded == []  # not the item's fault: nothing said on it
    assert "database conflict" in caplog.text
