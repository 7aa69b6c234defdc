"""Two processes recording the first version of the same entry at once
(PostgreSQL, two connections): neither fails, and what each saw is kept."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection
from django.utils import timezone

from kanal.organisations.tests.factories import OrganisationFactory
from kanal.records import actions
from kanal.records.models import RecordChange, RecordEntry, RecordKind


def _race(monkeypatch, texts):
    """Record ``texts`` for the same new entry from one thread each, both
    past the numbering lock (which locks nothing yet) before either saves."""
    organisation = OrganisationFactory(name="Race", slug="race")
    barrier = threading.Barrier(len(texts), timeout=5)
    first_pass = threading.local()
    original = actions.safe_url

    def together(url):
        if not getattr(first_pass, "done", False):
            first_pass.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return original(url)

    monkeypatch.setattr(actions, "safe_url", together)
    when = timezone.now()
    results, errors = [], []

    def write(text):
        try:
            results.append(actions.record(
                organisation=organisation, kind=RecordKind.COMMENT,
                source="inbox", source_key="inbox:race", content={"text": text},
                occurred_at=when, text=text))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return organisation, results


@pytest.mark.django_db(transaction=True)
def test_the_same_first_version_recorded_twice_at_once_is_one_version(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL")
    organisation, results = _race(monkeypatch, ["Hej", "Hej"])
    versions = RecordEntry.objects.filter(organisation=organisation)
    assert list(versions.values_list("version", "text")) == [(1, "Hej")]
    assert {entry.pk for entry in results} == {versions.get().pk}


@pytest.mark.django_db(transaction=True)
def test_two_different_first_versions_at_once_are_both_kept(monkeypatch):
    """An original and its edit taken in at the same moment: the second
    writer's text was dropped ("theirs stands"); now it is version 2."""
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once need PostgreSQL")
    organisation, results = _race(monkeypatch, ["Hej", "Hej, rettet"])
    versions = RecordEntry.objects.filter(organisation=organisation).order_by("version")
    assert [entry.version for entry in versions] == [1, 2]
    assert sorted(entry.text for entry in versions) == ["Hej", "Hej, rettet"]
    assert versions[0].change == RecordChange.CREATED
    assert sorted(entry.text for entry in results) == ["Hej", "Hej, rettet"]
