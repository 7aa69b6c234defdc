"""The record's literal search is answered by an index on both databases
(``kanal.records.search``) and finds exactly what a literal, case-ignoring
look at the text finds: markup, pattern and FTS5 characters are text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kanal.records import search, selectors
from kanal.records.models import RecordEntry

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "Havnebadet på Islands Brygge åbner",
    "Se <b>havnebad</b> (.*) i aften",
    'Han sagde "havnebad" AND NEAR(bad) og gik',
    "ÆBLEGRØD på Østerbro 🎉🎉",
    "100% sikkert_ikke * ^start: kolon",
    "kk.dk/borgerservice eller ring",
    "مرحبا بالعالم havnebad",
    "",
]
WORDS = [
    "havnebad", "HAVNEBAD", "<b>", "(.*)", ".*", '"havnebad"', '"', "AND NEAR(",
    "near(bad)", "æblegrød", "ØSTERBRO", "🎉🎉", "100%", "%", "_", "_ikke", "*",
    "^start:", "kk", "å", "kk.dk/b", "بالعالم", "ingen steder", "bad) og",
]


def _entries(organisation):
    now = timezone.now()
    return [
        RecordEntry.objects.create(
            organisation=organisation, kind="comment", source="test",
            source_key=f"t:{n}:{RecordEntry.objects.count()}", text=text,
            search_text=text.casefold(),
            content={"text": text}, content_hash=str(n), occurred_at=now,
            recorded_at=now,
        )
        for n, text in enumerate(TEXTS)
    ]


def _found(organisation, words):
    today = timezone.localdate()
    return set(selectors.search(
        organisation=organisation, period_start=today - timedelta(days=1),
        period_end=today, words=words,
    ).values_list("pk", flat=True))


def test_a_word_is_found_exactly_where_it_stands_in_the_text(organisation):
    entries = _entries(organisation)
    for word in WORDS:
        expected = {e.pk for e in entries if word.casefold() in e.search_text}
        assert _found(organisation, [word]) == expected, word
    # Several words: any of them.
    assert _found(organisation, ["æblegrød", "kk.dk"]) == {
        entries[3].pk, entries[5].pk}


def test_the_index_follows_inserts_and_the_retention_purge(organisation):
    entries = _entries(organisation)
    assert _found(organisation, ["<b>"]) == {entries[1].pk}
    RecordEntry.objects.filter(pk=entries[1].pk).purge()
    assert _found(organisation, ["<b>"]) == set()
    late = _entries(organisation)[1]  # a new version of the same words
    assert _found(organisation, ["<b>"]) == {late.pk}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_sqlite_reads_the_trigram_index_not_the_periods_rows(organisation):
    _entries(organisation)
    today = timezone.localdate()
    qs = selectors.search(organisation=organisation,
                          period_start=today - timedelta(days=365),
                          period_end=today, words=["havnebad"])
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "VIRTUAL TABLE INDEX" in plan and search.SQLITE_INDEX.name in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_rows_written_while_a_migration_had_dropped_the_triggers_are_found(
    organisation
):
    # SQLite rebuilds a table a migration alters, which drops its triggers;
    # post_migrate puts them back and indexes what was written meanwhile.
    with connection.cursor() as cursor:
        for name in search.SQLITE_INDEX.triggers:
            cursor.execute("DROP TRIGGER " + name)
    entries = _entries(organisation)
    search.ensure(connection)
    assert _found(organisation, ["havnebad"]) == {
        entries[0].pk, entries[1].pk, entries[2].pk, entries[6].pk}
