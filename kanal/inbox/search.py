"""Full-text search over citizens' items, stored so a search never reads text.

PostgreSQL: ``InboxItem.search_vector`` (Danish configuration) is set by a
trigger on every insert and on every change of the text or the author's name,
so bulk inserts, edits and retention's redaction (all ``.update()`` calls)
keep it right; a GIN index answers ``@@``. SQLite: an FTS5 table with the
item table as its external content, kept by triggers the same way.

Both index the text as a screen shows it, as far as a search can use it:
without the invisible format characters (``INVISIBLE_RANGES``: a zero-width space
or joiner, a soft hyphen or a bidi control inside a word would split it in
two, so "svømme\\u00adhallen" was never found as "svømmehallen") and in
NFKC (full-width letters as letters): PostgreSQL by a function of its own
(``SHOWN_FUNCTION``), SQLite by Kanal's (``fts.SHOWN``). Neither reorders
what a right-to-left override draws backwards: a search is typed in logical
order, and an Arabic or Hebrew word indexed as drawn would never be found
(the keyword rules, the crisis words and the personal-data scan read the
display order). Migration 0020 indexed the rows stored before again.

Both are created by migration 0002 and again after every ``migrate``
(``ensure_search``): SQLite rebuilds a table when a later migration alters
it, which drops its triggers; ``ensure_search`` puts them back and rebuilds
the FTS index when they were missing.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from kanal.core import fts

#: Words of a query that are searched (more are ignored).
MAX_WORDS = 8

#: The code points of Unicode's format characters (category Cf: what
#: ``untrusted.without_format`` removes), as ranges: no screen draws them,
#: and a search index would split a word at each.
INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
#: The same as a PostgreSQL regular expression (escapes, so no invisible
#: character stands in the SQL).
_INVISIBLE_PATTERN = "[" + "".join(
    rf"\U{a:08x}" if a == b else rf"\U{a:08x}-\U{b:08x}"
    for a, b in INVISIBLE_RANGES) + "]"
#: PostgreSQL's function that gives a text as the index reads it.
SHOWN_FUNCTION = "inbox_shown_text"


def ensure_search(connection) -> None:
    """Create what search needs on ``connection`` if it is missing."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        columns = {c.name for c in connection.introspection.get_table_description(
            cursor, "inbox_inboxitem")} if "inbox_inboxitem" in tables else set()
    if "search_vector" not in columns:
        return  # migrated back before search, or not migrated yet
    if connection.vendor == "postgresql":
        _ensure_postgresql(connection, columns)
    elif connection.vendor == "sqlite":
        _ensure_sqlite(connection)


#: PostgreSQL's search index once items carry their conversation's
#: assignment (``scope``, migration 0015): the search vector and the two
#: columns in one GIN (``btree_gin``), so a contributor's search narrows by
#: the assignment in the index; a search without it reads the same index.
SCOPED_INDEX = "inbox_item_search_scope"
SCOPED_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {SCOPED_INDEX} ON inbox_inboxitem USING gin "
    "(search_vector, assigned_administration_id, assigned_to_id)"
)
PLAIN_INDEX_SQL = ("CREATE INDEX IF NOT EXISTS inbox_item_search_gin ON "
                   "inbox_inboxitem USING gin (search_vector)")


#: What the trigger and ``fill_postgresql`` index: the text and the
#: author's name joined with a space, as shown.
_VECTOR_SQL = (
    f"to_tsvector('pg_catalog.danish', {SHOWN_FUNCTION}("
    "coalesce({row}text, '') || ' ' || coalesce({row}author_name, '')))"
)


def _ensure_postgresql(connection, columns: set[str]) -> None:
    scoped = "assigned_administration_id" in columns
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_encoding")
        # normalize() needs a UTF-8 database.
        nfkc = cursor.fetchone()[0].upper() in ("UTF8", "UTF-8")
        # A text already in NFKC (most) is only checked: a third of the cost.
        shown = ("CASE WHEN v IS NFKC NORMALIZED THEN v ELSE normalize(v, NFKC) "
                 "END" if nfkc else "v")
        cursor.execute(SCOPED_INDEX_SQL if scoped else PLAIN_INDEX_SQL)
        cursor.execute(
            "DROP TRIGGER IF EXISTS inbox_item_search_vector ON inbox_inboxitem"
        )
        # Every part below is a constant of this module, no input.
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {SHOWN_FUNCTION}(value text) RETURNS "  # noqa: S608
            f"text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {shown} FROM "
            f"regexp_replace(value, '{_INVISIBLE_PATTERN}', '', 'g') AS v $$"
        )
        cursor.execute(
            "CREATE OR REPLACE FUNCTION inbox_item_search_vector() RETURNS "
            "trigger LANGUAGE plpgsql AS $$ BEGIN NEW.search_vector := "
            + _VECTOR_SQL.format(row="NEW.") + "; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER inbox_item_search_vector BEFORE INSERT OR UPDATE OF "
            "text, author_name ON inbox_inboxitem FOR EACH ROW EXECUTE FUNCTION "
            "inbox_item_search_vector()"
        )


def fill_postgresql(connection, *, batch: int = 10_000, every: bool = False) -> int:
    """Set the search vector of rows that have none (``every``: of every
    row), ``batch`` rows a statement (each committed on its own outside a
    transaction)."""
    filled, last = 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT max(id) FROM (SELECT id FROM inbox_inboxitem WHERE id > %s "
                "ORDER BY id LIMIT %s) AS batch",
                [last, batch],
            )
            upto = cursor.fetchone()[0]
            if upto is None:
                return filled
            cursor.execute(
                "UPDATE inbox_inboxitem SET search_vector = "  # noqa: S608
                + _VECTOR_SQL.format(row="") + " WHERE id > %s AND id <= %s"
                + ("" if every else " AND search_vector IS NULL"),
                [last, upto],
            )
            filled += cursor.rowcount
            last = upto


#: The SQLite index. remove_diacritics 0: "æ", "ø" and "å" stay letters of
#: their own.
SQLITE_INDEX = fts.Index(
    name="inbox_item_fts", table="inbox_inboxitem", columns=("text", "author_name"),
    tokenize="unicode61 remove_diacritics 0", shown=True,
)


def _ensure_sqlite(connection) -> None:
    fts.ensure(connection, SQLITE_INDEX)


def remove_search(connection) -> None:
    """Undo ``ensure_search`` (migrating back before search)."""
    fts.remove(connection, SQLITE_INDEX)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER IF EXISTS inbox_item_search_vector ON inbox_inboxitem")
            cursor.execute("DROP FUNCTION IF EXISTS inbox_item_search_vector()")
            cursor.execute(f"DROP FUNCTION IF EXISTS {SHOWN_FUNCTION}(text)")
            cursor.execute("DROP INDEX IF EXISTS inbox_item_search_gin")
            cursor.execute(f"DROP INDEX IF EXISTS {SCOPED_INDEX}")


def index_again(connection, *, batch: int = 10_000) -> int:
    """Index every row again as ``ensure_search`` now reads it (migration
    0020: rows indexed with their invisible characters); returns how many
    (PostgreSQL: in batches, each committed on its own outside a
    transaction; SQLite: the FTS5 table made anew in one statement)."""
    if connection.vendor == "sqlite":
        fts.remove(connection, SQLITE_INDEX)
        ensure_search(connection)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inbox_inboxitem")
            return cursor.fetchone()[0]
    ensure_search(connection)
    return fill_postgresql(connection, batch=batch, every=True)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    """``post_migrate`` receiver for the inbox app."""
    from django.db import connections

    ensure_search(connections[using])


def fts5_query(q: str) -> str:
    """``q`` as an FTS5 query: every word must occur, as a word or the start
    of one ("parkering" finds "parkeringen"); FTS5 syntax in ``q`` is text."""
    words = [w for w in q.split() if any(c.isalnum() for c in w)][:MAX_WORDS]
    return " ".join(fts.phrase(w) + "*" for w in words)


def matching_items(items: QuerySet, q: str, vendor: str) -> QuerySet:
    """``items`` whose text or author's name matches the search ``q`` (read
    as the index reads the text: a query pasted with an invisible character
    in a word finds the word)."""
    q = fts.shown_text(q)
    if vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        # "plain": every word must occur, and the syntax around them is
        # text, as in ``fts5_query`` ("websearch" read "-pas" as "without
        # pas" and "or" as either word).
        return items.filter(
            search_vector=SearchQuery(q, config="danish", search_type="plain")
        )
    expression = fts5_query(q)
    if not expression:
        return items.none()
    # The query is a parameter; only FTS5's own syntax is built here.
    return items.filter(pk__in=RawSQL(
        "SELECT rowid FROM inbox_item_fts WHERE inbox_item_fts MATCH %s",
        (expression,),
    ))



def newest_matching_sqlite(items: QuerySet, q: str) -> QuerySet:
    """SQLite: ``items`` matching ``q``, newest (highest id) first, to be
    sliced. The FTS5 table is joined and ordered by its rowid, which FTS5
    reads in that order, so a slice stops early; asked as ``id IN
    (matches)``, SQLite collected every match of a common word first."""
    expression = fts5_query(fts.shown_text(q))
    if not expression:
        return items.none()
    # The query is a parameter; only FTS5's own syntax is built here.
    return items.extra(
        tables=["inbox_item_fts"],
        where=["inbox_item_fts.rowid = inbox_inboxitem.id",
               "inbox_item_fts MATCH %s"],
        params=[expression],
        select={"fts_rowid": "inbox_item_fts.rowid"},
    ).order_by("-fts_rowid")
