"""The record's literal search, answered by an index on both databases.

An access request's words are matched literally anywhere in the case-folded
text (``<b>`` or ``.*`` are looked for as those characters). PostgreSQL
answers ``search_text LIKE '%word%'`` with ``pg_trgm``'s GIN index
(migration 0003). SQLite answers it with an FTS5 table of trigrams over the
same column (migration 0004, kept by triggers and checked after every
``migrate``): a quoted phrase in a trigram index matches a substring. FTS5
cannot look up fewer than three characters, so a shorter word is matched by
LIKE over the period's rows.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Q
from django.db.models.expressions import RawSQL

from kanal.core import fts

#: The SQLite index. The text is case-folded before it is stored and so is
#: the word, so the index compares letters as they are.
SQLITE_INDEX = fts.Index(
    name="records_entry_fts", table="records_recordentry", columns=("search_text",),
    tokenize="trigram case_sensitive 1",
)
#: The shortest word the trigram index can answer.
TRIGRAM = 3


def ensure(connection) -> None:
    """Create the SQLite index where it is missing (migration, post_migrate)."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if "records_recordentry" in tables:
        fts.ensure(connection, SQLITE_INDEX)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    """``post_migrate`` receiver for the records app."""
    ensure(connections[using])


def remove(connection) -> None:
    fts.remove(connection, SQLITE_INDEX)


def word_filter(word: str, vendor: str) -> Q:
    """Entries whose text holds ``word`` literally, case ignored."""
    word = word.casefold()
    if vendor == "sqlite" and len(word) >= TRIGRAM:
        # The phrase is a parameter; only FTS5's quoting is built here.
        return Q(pk__in=RawSQL(
            "SELECT rowid FROM records_entry_fts WHERE records_entry_fts MATCH %s",
            (fts.phrase(word),),
        ))
    return Q(search_text__contains=word)
