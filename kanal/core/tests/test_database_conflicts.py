"""``kanal.core.database``: a deadlock, a serialization failure or SQLite's
busy lock is a conflict (tried again at once, bounded), not the database
being away; real ones, from two connections."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from kanal.core import database
from kanal.organisations.models import Organisation


def sqlite_lock_error(tmp_path) -> OperationalError:
    """A real "database is locked" from SQLite, as Django raises it: one
    connection holds the write lock, the other's busy timeout runs out."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (n INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    try:
        other.execute("INSERT INTO t VALUES (1)")
    except sqlite3.OperationalError as driver_error:
        try:
            raise OperationalError(*driver_error.args) from driver_error
        except OperationalError as error:
            return error
    finally:
        other.close()
        holder.close()
    raise AssertionError("SQLite did not refuse the second writer")


def test_sqlites_busy_lock_is_a_conflict_not_an_outage(tmp_path):
    error = sqlite_lock_error(tmp_path)
    assert error.__cause__.sqlite_errorname == "SQLITE_BUSY"
    assert database.classify(error) == database.CONFLICT
    assert database.is_conflict(error) and not database.is_unavailable(error)


def test_a_lost_connection_is_the_database_away_and_a_refused_row_is_neither():
    assert database.classify(OperationalError(
        "server closed the connection unexpectedly")) == database.UNAVAILABLE
    assert database.classify(IntegrityError("duplicate key")) is None
    assert database.classify(ValueError("no database error")) is None


def test_a_conflict_is_tried_again_and_its_last_try_is_raised(tmp_path, monkeypatch):
    error = sqlite_lock_error(tmp_path)
    monkeypatch.setattr(database.time, "sleep", lambda seconds: None)
    tries = []

    def step():
        tries.append(1)
        if len(tries) < 3:
            raise error
        return "stored"

    assert database.retry_conflicts(step, what="a test") == "stored"
    assert len(tries) == 3

    def always():
        tries.append(1)
        raise error

    tries.clear()
    with pytest.raises(OperationalError):
        database.retry_conflicts(always, what="a test")
    assert len(tries) == database.CONFLICT_ATTEMPTS


def test_an_outage_is_not_tried_again(monkeypatch):
    tries = []

    def step():
        tries.append(1)
        raise OperationalError("could not connect to server")

    with pytest.raises(OperationalError):
        database.retry_conflicts(step, what="a test")
    assert tries == [1]


def test_the_waits_between_tries_grow_are_jittered_and_bounded():
    waits = [database.conflict_delay(n) for n in (1, 1, 1, 2, 3, 30)]
    assert all(0.025 <= w <= 0.05 for w in waits[:3])
    assert len(set(waits[:3])) == 3  # jittered
    assert 0.05 <= waits[3] <= 0.1 and 0.1 <= waits[4] <= 0.2
    assert waits[5] <= database.CONFLICT_MAX_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_real_postgresql_deadlock_is_a_conflict_and_both_sides_finish():
    """Two threads, two connections, two rows locked in opposite orders:
    PostgreSQL kills one (SQLSTATE 40P01); run again, it finishes too."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's deadlock detector")
    first = Organisation.objects.create(name="A", slug="a")
    second = Organisation.objects.create(name="B", slug="b")
    both_hold_one = threading.Barrier(2, timeout=10)
    seen: list[str | None] = []
    finished: list[str] = []

    def lock_in_order(name, rows):
        tries = []

        def step():
            tries.append(1)
            with transaction.atomic():
                Organisation.objects.select_for_update().get(pk=rows[0].pk)
                if len(tries) == 1:
                    both_hold_one.wait()
                Organisation.objects.select_for_update().get(pk=rows[1].pk)
                Organisation.objects.filter(pk=rows[0].pk).update(name=name)

        try:
            database.retry_conflicts(_noting(step, seen), what="a test")
            finished.append(name)
        finally:
            connection.close()

    threads = [threading.Thread(target=lock_in_order, args=("x", (first, second))),
               threading.Thread(target=lock_in_order, args=("y", (second, first)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(finished) == ["x", "y"]
    assert seen == [database.CONFLICT]


def _noting(step, seen):
    def noted():
        try:
            return step()
        except OperationalError as error:
            assert error.__cause__.sqlstate == "40P01"
            seen.append(database.classify(error))
            raise

    return noted
