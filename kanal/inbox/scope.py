"""Who may see an item, on the item's own row: its conversation's assignment.

A contributor sees the conversations assigned to their administration or to
them (``policies.ConversationPolicy.narrow``). Asked through the
conversations, a contributor's search for a common word read every match of
the word in the search index and then each matching item's conversation;
with the assignment on the item, the search index narrows by it too
(PostgreSQL: one GIN index of the search vector and the two columns,
``search``).

``InboxItem.assigned_administration`` and ``assigned_to`` are the one copy,
and the database is its one home: triggers set them on every insert of an
item and every move of an item to another conversation (from the
conversation's row), and on every change of a conversation's assignment
(into its items), whatever wrote it: an action's ``save()``, an assignment
rule at intake, a bulk ``.update()``, the ``SET NULL`` of a deleted
administration or member, a restore's raw inserts (in any order), raw SQL.
A value written straight into an item's copy is put back from its
conversation. On PostgreSQL an item's insert locks its conversation's row
first, so an assignment committed meanwhile is never missed.

Like the search's and the counts' triggers, they are made by a migration
(0015) and again after every ``migrate``. On SQLite, where a migration that
rebuilds one of the two tables fails while a trigger of the other names it,
they are dropped before ``migrate`` and made again after it, and the items
are filled again (``fill``: one set-based UPDATE of the rows that differ).
"""

from __future__ import annotations

from django.db import transaction

_SQLITE_TRIGGERS = ("inbox_item_scope_ai", "inbox_item_scope_au",
                    "inbox_conversation_scope_ai", "inbox_conversation_scope_au")
_POSTGRESQL_TRIGGERS = {
    "inbox_item_scope_ins": "inbox_inboxitem",
    "inbox_item_scope_upd": "inbox_inboxitem",
    "inbox_conversation_scope_ins": "inbox_conversation",
    "inbox_conversation_scope_upd": "inbox_conversation",
}
# The statements, in PostgreSQL's words; SQLite says IS NOT for IS DISTINCT
# FROM and names the rows in lower case (``_sqlite``).
_FILL = (
    "UPDATE inbox_inboxitem SET "
    "assigned_administration_id = c.assigned_administration_id, "
    "assigned_to_id = c.assigned_to_id "
    "FROM inbox_conversation c WHERE c.id = inbox_inboxitem.conversation_id "
    "AND (inbox_inboxitem.assigned_administration_id IS DISTINCT FROM "
    "c.assigned_administration_id OR inbox_inboxitem.assigned_to_id "
    "IS DISTINCT FROM c.assigned_to_id)"
)
_DISAGREEING = (
    "SELECT i.id FROM inbox_inboxitem i "
    "JOIN inbox_conversation c ON c.id = i.conversation_id "
    "WHERE i.assigned_administration_id IS DISTINCT FROM "
    "c.assigned_administration_id OR i.assigned_to_id IS DISTINCT FROM "
    "c.assigned_to_id"
)
#: The conversation's assignment changed: into its items.
_INTO_ITEMS = (
    "UPDATE inbox_inboxitem SET "
    "assigned_administration_id = NEW.assigned_administration_id, "
    "assigned_to_id = NEW.assigned_to_id WHERE conversation_id = NEW.id "
    "AND (assigned_administration_id IS DISTINCT FROM "
    "NEW.assigned_administration_id OR assigned_to_id IS DISTINCT FROM "
    "NEW.assigned_to_id)"
)
_ASSIGNMENT_CHANGED = (
    "OLD.assigned_administration_id IS DISTINCT FROM "
    "NEW.assigned_administration_id OR "
    "OLD.assigned_to_id IS DISTINCT FROM NEW.assigned_to_id"
)
#: SQLite: an item (``NEW``) whose copy differs from its conversation's.
_ITEM_DIFFERS = (
    "NEW.assigned_administration_id IS DISTINCT FROM (SELECT "
    "assigned_administration_id FROM inbox_conversation WHERE id = "
    "NEW.conversation_id) OR NEW.assigned_to_id IS DISTINCT FROM (SELECT "
    "assigned_to_id FROM inbox_conversation WHERE id = NEW.conversation_id)"
)
_COPY_INTO_ITEM = (
    "UPDATE inbox_inboxitem SET assigned_administration_id = (SELECT "
    "assigned_administration_id FROM inbox_conversation WHERE id = "
    "NEW.conversation_id), assigned_to_id = (SELECT assigned_to_id FROM "
    "inbox_conversation WHERE id = NEW.conversation_id) WHERE id = NEW.id"
)


def _sqlite(statement: str) -> str:
    return (statement.replace("IS DISTINCT FROM", "IS NOT")
            .replace("OLD.", "old.").replace("NEW.", "new."))


def _vendor(connection, statement: str) -> str:
    return statement if connection.vendor == "postgresql" else _sqlite(statement)


def _columns_exist(connection) -> bool:
    with connection.cursor() as cursor:
        if "inbox_inboxitem" not in connection.introspection.table_names(cursor):
            return False
        columns = {c.name for c in connection.introspection.get_table_description(
            cursor, "inbox_inboxitem")}
    return {"assigned_administration_id", "assigned_to_id"} <= columns


def fill(connection) -> int:
    """Copy every conversation's assignment into its items where they differ,
    in one set-based UPDATE; returns how many items changed."""
    with connection.cursor() as cursor:
        cursor.execute(_vendor(connection, _FILL))
        return cursor.rowcount


def install(connection) -> int:
    """Fill the items and make the triggers, in one transaction; returns how
    many items were filled. On PostgreSQL writers of conversations and items
    wait until it is committed, so nothing is written between the fill and
    the triggers."""
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE inbox_conversation, inbox_inboxitem IN "
                               "SHARE ROW EXCLUSIVE MODE")
        filled = fill(connection)
        if connection.vendor == "postgresql":
            _create_postgresql(connection)
        else:
            _create_sqlite(connection)
    return filled


def _create_postgresql(connection) -> None:
    with connection.cursor() as cursor:
        # FOR NO KEY UPDATE: an assignment of the conversation waits for
        # this item's transaction (and then copies into it), or this insert
        # waits for the assignment's and reads it. FOR SHARE would let two
        # items of one conversation deadlock on intake's update of it.
        cursor.execute(
            "CREATE OR REPLACE FUNCTION inbox_item_scope() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "SELECT c.assigned_administration_id, c.assigned_to_id "
            "INTO NEW.assigned_administration_id, NEW.assigned_to_id "
            "FROM inbox_conversation c WHERE c.id = NEW.conversation_id "
            "FOR NO KEY UPDATE; RETURN NEW; END $$")
        cursor.execute(
            "CREATE OR REPLACE FUNCTION inbox_conversation_scope() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN " + _INTO_ITEMS + "; RETURN NULL; END $$")
        for name, table in _POSTGRESQL_TRIGGERS.items():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        cursor.execute(
            "CREATE TRIGGER inbox_item_scope_ins BEFORE INSERT ON inbox_inboxitem "
            "FOR EACH ROW EXECUTE FUNCTION inbox_item_scope()")
        cursor.execute(
            "CREATE TRIGGER inbox_item_scope_upd BEFORE UPDATE OF conversation_id, "
            "assigned_administration_id, assigned_to_id ON inbox_inboxitem "
            "FOR EACH ROW WHEN (OLD.conversation_id IS DISTINCT FROM "
            "NEW.conversation_id OR " + _ASSIGNMENT_CHANGED + ") "
            "EXECUTE FUNCTION inbox_item_scope()")
        # An item restored before its conversation found none to copy.
        cursor.execute(
            "CREATE TRIGGER inbox_conversation_scope_ins AFTER INSERT ON "
            "inbox_conversation FOR EACH ROW WHEN (NEW.assigned_administration_id "
            "IS NOT NULL OR NEW.assigned_to_id IS NOT NULL) "
            "EXECUTE FUNCTION inbox_conversation_scope()")
        cursor.execute(
            "CREATE TRIGGER inbox_conversation_scope_upd AFTER UPDATE OF "
            "assigned_administration_id, assigned_to_id ON inbox_conversation "
            "FOR EACH ROW WHEN (" + _ASSIGNMENT_CHANGED + ") "
            "EXECUTE FUNCTION inbox_conversation_scope()")


def _create_sqlite(connection) -> None:
    differs, copy = _sqlite(_ITEM_DIFFERS), _sqlite(_COPY_INTO_ITEM)
    into_items = _sqlite(_INTO_ITEMS)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_item_scope_ai AFTER INSERT ON "
            f"inbox_inboxitem WHEN {differs} BEGIN {copy}; END")
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_item_scope_au AFTER UPDATE OF "
            "conversation_id, assigned_administration_id, assigned_to_id ON "
            f"inbox_inboxitem WHEN {differs} BEGIN {copy}; END")
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_conversation_scope_ai AFTER INSERT "
            "ON inbox_conversation WHEN new.assigned_administration_id IS NOT NULL "
            f"OR new.assigned_to_id IS NOT NULL BEGIN {into_items}; END")
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_conversation_scope_au AFTER UPDATE "
            "OF assigned_administration_id, assigned_to_id ON inbox_conversation "
            f"WHEN {_sqlite(_ASSIGNMENT_CHANGED)} BEGIN {into_items}; END")


def _installed(connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s)",
                           [list(_POSTGRESQL_TRIGGERS)])
            return cursor.fetchone()[0] == len(_POSTGRESQL_TRIGGERS)
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND name IN (%s, %s, %s, %s)", _SQLITE_TRIGGERS)
        return cursor.fetchone()[0] == len(_SQLITE_TRIGGERS)


def ensure_scope(connection) -> bool:
    """Make the triggers where any is missing, and fill the items written
    without them; returns whether it did."""
    if connection.vendor not in ("postgresql", "sqlite"):  # pragma: no cover
        return False  # Kanal runs on these two
    if not _columns_exist(connection) or _installed(connection):
        return False
    install(connection)
    return True


def remove_scope(connection) -> None:
    """Drop the triggers (migrating back, or SQLite before ``migrate``)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, table in _POSTGRESQL_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS inbox_item_scope()")
            cursor.execute("DROP FUNCTION IF EXISTS inbox_conversation_scope()")
        elif connection.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute("DROP TRIGGER IF EXISTS " + name)


def disagreeing():
    """The items whose copy differs from their conversation's assignment
    (none, while the triggers are in place)."""
    from django.db import connection
    from django.db.models.expressions import RawSQL

    from .models import InboxItem

    # A constant statement, no parameters.
    return InboxItem.objects.filter(
        pk__in=RawSQL(_vendor(connection, _DISAGREEING), ()))  # noqa: S611


def drop_before_migrate(sender, using, **kwargs) -> None:
    """``pre_migrate`` receiver: SQLite's triggers go (see the module)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        remove_scope(connection)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    """``post_migrate`` receiver for the inbox app."""
    from django.db import connections

    ensure_scope(connections[using])
