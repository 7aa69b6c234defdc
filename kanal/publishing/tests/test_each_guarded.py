"""``periodic.each_guarded``: one item's failure is logged and recorded, and
the loop goes on."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from kanal.organisations.models import Organisation
from kanal.publishing.periodic import each_guarded

pytestmark = pytest.mark.django_db


def test_a_failing_item_is_recorded_and_the_others_go_on():
    recorded = []

    def work(n):
        if n == 2:
            raise RecursionError("deep")
        return n

    total = each_guarded("test", [1, 2, 3], work,
                         record=lambda n, e: recorded.append((n, type(e))))
    assert total == 4
    assert recorded == [(2, RecursionError)]


def test_a_failing_item_is_undone_alone():
    """Inside a transaction (a test, a caller's atomic block) each item has a
    savepoint: what the failing one wrote is undone, the others' work stays,
    and on PostgreSQL a refused statement does not spoil the later queries."""
    assert connection.in_atomic_block

    def work(name):
        Organisation.objects.create(name=name, slug=name)
        if name == "b":
            Organisation.objects.create(name="b\x00", slug="b\x00")
            raise ValueError("a value nobody foresaw")
        return 1

    assert each_guarded("test", ["a", "b", "c"], work) == 2
    assert sorted(Organisation.objects.values_list("slug", flat=True)) == ["a", "c"]


def test_a_failure_to_record_does_not_stop_the_loop():
    def record(n, e):
        raise ValueError("nowhere to write")

    assert each_guarded("test", [1, 2], lambda n: 1 / (n - 1), record=record) == 1


def test_losing_the_database_is_raised_for_the_worker():
    def work(n):
        raise OperationalError("server closed the connection")

    with pytest.raises(OperationalError):
        each_guarded("test", [1, 2], work)
