"""SQLite FTS5 indexes kept by triggers: one home for every app's search.

An FTS5 table with a model's table as its *external content* holds only the
index; three triggers keep it right on every insert, delete and change of
the indexed columns, so bulk inserts and ``.update()`` calls (redaction,
retention) need no Python. SQLite rebuilds a table when a later migration
alters it, which drops its triggers: each app calls :func:`ensure` from a
``post_migrate`` receiver, and a missing trigger means the index is rebuilt
from the table.

A :class:`Index` names the FTS5 table, the content table, its columns and
the tokenizer (``unicode61`` for words, ``trigram`` for substrings), and
whether it indexes its columns as shown (``shown``: in NFKC and without the
invisible format characters that would split a word in two). Such an index
reads them through ``SHOWN``, a function Kanal gives every SQLite
connection it opens (``register_functions``); a writer outside Kanal (the
``sqlite3`` shell) cannot write such a table (SQLite says "no such
function"), which is loud, never a wrong index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kanal import untrusted

#: What a name or a tokenizer may hold: they are written into the SQL, so
#: only plain identifiers (and the tokenizer's words) get there.
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
TOKENIZER = re.compile(r"[a-z0-9_ ]+")
#: The SQL function that gives a column as shown (``shown_text``).
SHOWN = "kanal_shown"


def shown_text(value):
    """``value`` as an index reads it when ``Index.shown``: in NFKC and
    without format characters (``untrusted.without_format``); not reordered,
    so a right-to-left word stays in the order it is typed."""
    if not isinstance(value, str):
        return value
    return untrusted.without_format(unicodedata.normalize("NFKC", value))[0]


def register_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give a SQLite connection ``SHOWN``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SHOWN, 1, shown_text,
                                              deterministic=True)


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: tuple[str, ...]
    tokenize: str
    #: Index the columns as shown (``shown_text``), not as stored.
    shown: bool = False

    def __post_init__(self):
        for identifier in (self.name, self.table, *self.columns):
            if not IDENTIFIER.fullmatch(identifier):
                raise ValueError(f"not an SQL identifier: {identifier!r}")
        if not TOKENIZER.fullmatch(self.tokenize):
            raise ValueError(f"not a tokenizer: {self.tokenize!r}")

    @property
    def triggers(self) -> tuple[str, str, str]:
        return (f"{self.name}_ai", f"{self.name}_ad", f"{self.name}_au")

    def values(self, prefix: str = "") -> str:
        """The indexed columns as SQL (``prefix``: ``new.``, ``old.`` or
        none), through ``SHOWN`` where the index reads them as shown."""
        return ", ".join(f"{SHOWN}({prefix}{c})" if self.shown else f"{prefix}{c}"
                         for c in self.columns)


def phrase(text: str) -> str:
    """``text`` as one FTS5 phrase: FTS5's own syntax in it is text."""
    return '"' + text.replace('"', '""') + '"'


def ensure(connection, index: Index) -> bool:
    """Create ``index`` and its triggers on ``connection`` (SQLite) where
    they are missing; returns whether anything was (re)built."""
    if connection.vendor != "sqlite":
        return False
    names = (index.name, *index.triggers)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN (%s, %s, %s, %s)",
            names,
        )
        if cursor.fetchone()[0] == len(names):
            return False
        columns = ", ".join(index.columns)
        new, old = index.values("new."), index.values("old.")
        insert, delete, update = index.triggers
        # Every name below is an identifier checked by ``Index``.
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {index.name} USING fts5({columns}, "
            f"content='{index.table}', content_rowid='id', "
            f"tokenize='{index.tokenize}')"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {index.table} "  # noqa: S608
            f"BEGIN INSERT INTO {index.name}(rowid, {columns}) VALUES (new.id, {new}); "
            "END"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON {index.table} "  # noqa: S608
            f"BEGIN INSERT INTO {index.name}({index.name}, rowid, {columns}) "
            f"VALUES ('delete', old.id, {old}); END"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF {columns} ON "  # noqa: S608
            f"{index.table} BEGIN "
            f"INSERT INTO {index.name}({index.name}, rowid, {columns}) "
            f"VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {index.name}(rowid, {columns}) VALUES (new.id, {new}); "
            "END"
        )
        # Rows written while the triggers were missing are indexed again.
        if not index.shown:
            cursor.execute(
                f"INSERT INTO {index.name}({index.name}) VALUES ('rebuild')"  # noqa: S608
            )
            return True
        # FTS5's rebuild reads the columns as stored: read them as the
        # triggers do instead.
        cursor.execute(
            f"INSERT INTO {index.name}({index.name}) VALUES ('delete-all')"  # noqa: S608
        )
        cursor.execute(
            f"INSERT INTO {index.name}(rowid, {columns}) "  # noqa: S608
            f"SELECT id, {index.values()} FROM {index.table}"
        )
    return True


def remove(connection, index: Index) -> None:
    """Undo :func:`ensure` (migrating back)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in index.triggers:
            cursor.execute("DROP TRIGGER IF EXISTS " + name)
        cursor.execute("DROP TABLE IF EXISTS " + index.name)
