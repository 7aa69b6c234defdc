"""The list's status counts, kept by the database instead of counted per page.

A GROUP BY over every conversation of the organisation cost most of a list
page at 250,000 conversations. Instead, triggers on ``inbox_conversation``
add a row to ``inbox_statuscount`` (``StatusCount``) of +1 for the new
(organisation, administration, person, status) and -1 for the old one on
every insert, deletion and change of those columns, in the writer's own
transaction; the count of a key is the sum of its rows. Because the
triggers are in the database, every path is covered: ``save()``, bulk
``.update()``, a cascade or ``SET NULL`` from a deleted administration,
raw SQL, PostgreSQL's ``COPY``. The triggers only insert, so concurrent
writers never queue on a counter row and cannot deadlock on it.

``fold`` (a periodic job) replaces the rows with one per key; ``check``
compares the sums with a fresh GROUP BY; ``rebuild`` recounts from the
conversations (``manage.py inbox_counts --check`` / ``--repair``).

Like the search's triggers, they are made by a migration and again after
every ``migrate`` (SQLite rebuilds a table a later migration alters, which
drops its triggers; ``ensure_counts`` recounts when they were missing).
"""

from __future__ import annotations

from collections import Counter

from django.db import connection as default_connection
from django.db import transaction
from django.db.models import Count, Q, Sum

from .models import Conversation, StatusCount

TABLE = "inbox_statuscount"
# One row of +1 for the new key, -1 for the old (the triggers' statements).
_ADD_NEW = ("INSERT INTO inbox_statuscount (organisation_id, administration_id, "
            "person_id, status, n) VALUES (NEW.organisation_id, "
            "coalesce(NEW.assigned_administration_id, 0), "
            "coalesce(NEW.assigned_to_id, 0), NEW.status, 1)")
_TAKE_OLD = ("INSERT INTO inbox_statuscount (organisation_id, administration_id, "
             "person_id, status, n) VALUES (OLD.organisation_id, "
             "coalesce(OLD.assigned_administration_id, 0), "
             "coalesce(OLD.assigned_to_id, 0), OLD.status, -1)")
_CHANGED = ("OLD.status IS DISTINCT FROM NEW.status OR "
            "OLD.assigned_administration_id IS DISTINCT FROM "
            "NEW.assigned_administration_id OR "
            "OLD.assigned_to_id IS DISTINCT FROM NEW.assigned_to_id OR "
            "OLD.organisation_id IS DISTINCT FROM NEW.organisation_id")
_SQLITE_TRIGGERS = ("inbox_statuscount_ai", "inbox_statuscount_ad",
                    "inbox_statuscount_au")


def ensure_counts(connection) -> None:
    """Create the triggers on ``connection`` if they are missing; recount
    when they were (rows written without them are not in the counts)."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if TABLE not in tables:
        return  # migrated back before the counts, or not migrated yet
    if connection.vendor == "postgresql":
        missing = _ensure_postgresql(connection)
    elif connection.vendor == "sqlite":
        missing = _ensure_sqlite(connection)
    else:  # pragma: no cover - Kanal runs on these two
        return
    if missing:
        rebuild(connection)


def _ensure_postgresql(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname IN "
                       "('inbox_statuscount_insdel', 'inbox_statuscount_upd')")
        if cursor.fetchone()[0] == 2:
            return False
        cursor.execute(
            "CREATE OR REPLACE FUNCTION inbox_statuscount_delta() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP <> 'INSERT' THEN " + _TAKE_OLD + "; END IF; "
            "IF TG_OP <> 'DELETE' THEN " + _ADD_NEW + "; END IF; "
            "RETURN NULL; END $$"
        )
        cursor.execute("DROP TRIGGER IF EXISTS inbox_statuscount_insdel ON "
                       "inbox_conversation")
        cursor.execute("DROP TRIGGER IF EXISTS inbox_statuscount_upd ON "
                       "inbox_conversation")
        cursor.execute("CREATE TRIGGER inbox_statuscount_insdel AFTER INSERT OR "
                       "DELETE ON inbox_conversation FOR EACH ROW EXECUTE FUNCTION "
                       "inbox_statuscount_delta()")
        cursor.execute(
            "CREATE TRIGGER inbox_statuscount_upd AFTER UPDATE OF status, "
            "assigned_administration_id, assigned_to_id, organisation_id ON "
            "inbox_conversation "
            "FOR EACH ROW WHEN (" + _CHANGED + ") "
            "EXECUTE FUNCTION inbox_statuscount_delta()")
    return True


def _ensure_sqlite(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND name IN (%s, %s, %s)", _SQLITE_TRIGGERS)
        if cursor.fetchone()[0] == 3:
            return False
        # SQLite names the rows in lower case and says IS NOT for IS
        # DISTINCT FROM; the statements are the same.
        add_new = _ADD_NEW.replace("NEW.", "new.")
        take_old = _TAKE_OLD.replace("OLD.", "old.")
        changed = (_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
                   .replace("OLD.", "old.").replace("NEW.", "new."))
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_statuscount_ai AFTER INSERT ON "
            "inbox_conversation BEGIN " + add_new + "; END")
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_statuscount_ad AFTER DELETE ON "
            "inbox_conversation BEGIN " + take_old + "; END")
        cursor.execute(
            "CREATE TRIGGER IF NOT EXISTS inbox_statuscount_au AFTER UPDATE OF "
            "status, assigned_administration_id, assigned_to_id, organisation_id "
            "ON inbox_conversation WHEN " + changed + " BEGIN " + take_old + "; "
            + add_new + "; END")
    return True


def remove_counts(connection) -> None:
    """Undo ``ensure_counts`` (migrating back before the counts)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS inbox_statuscount_insdel ON "
                           "inbox_conversation")
            cursor.execute("DROP TRIGGER IF EXISTS inbox_statuscount_upd ON "
                           "inbox_conversation")
            cursor.execute("DROP FUNCTION IF EXISTS inbox_statuscount_delta()")
        elif connection.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute("DROP TRIGGER IF EXISTS " + name)


def ensure_counts_installed(connection=None) -> None:
    """``ensure_counts`` on the default database (the repair command: a
    recount without the triggers would drift again)."""
    ensure_counts(connection or default_connection)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    """``post_migrate`` receiver for the inbox app."""
    from django.db import connections

    ensure_counts(connections[using])


def fold(connection=None) -> int:
    """Replace the rows with one per key (none for a key that sums to 0);
    returns how many rows were folded away. Exactly the rows the DELETE
    removed are summed, so a writer committing meanwhile loses nothing."""
    connection = connection or default_connection
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_statuscount RETURNING organisation_id, "
                       "administration_id, person_id, status, n")
        rows = cursor.fetchall()
        sums: Counter = Counter()
        for *key, n in rows:
            sums[tuple(key)] += n
        kept = [(*key, n) for key, n in sorted(sums.items()) if n]
        if kept:
            cursor.executemany("INSERT INTO inbox_statuscount (organisation_id, "
                               "administration_id, person_id, status, n) VALUES "
                               "(%s, %s, %s, %s, %s)", kept)
    return len(rows) - len(kept)


def fold_job(*, now=None, dry_run: bool = False) -> int:
    """The worker's periodic job: ``fold``; ``dry_run`` says how many rows
    it would fold away."""
    if dry_run:
        kept = StatusCount.objects.values(
            "organisation_id", "administration_id", "status"
        ).annotate(total=Sum("n")).exclude(total=0).count()
        return StatusCount.objects.count() - kept
    return fold()


def rebuild(connection=None) -> None:
    """Recount every organisation's conversations from scratch."""
    connection = connection or default_connection
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Writers of conversations wait until the recount is committed
            # (SQLite has one writer at a time anyway).
            cursor.execute("LOCK TABLE inbox_conversation IN SHARE MODE")
        cursor.execute("DELETE FROM inbox_statuscount")
        cursor.execute(
            "INSERT INTO inbox_statuscount (organisation_id, administration_id, "
            "person_id, status, n) SELECT organisation_id, "
            "coalesce(assigned_administration_id, 0), coalesce(assigned_to_id, 0), "
            "status, count(*) FROM inbox_conversation GROUP BY organisation_id, "
            "coalesce(assigned_administration_id, 0), coalesce(assigned_to_id, 0), "
            "status")


def check() -> list[tuple]:
    """Keys whose kept count differs from a fresh count: (organisation,
    administration, person, status, kept, counted); empty when all agree."""
    kept = {
        (r["organisation_id"], r["administration_id"], r["person_id"],
         r["status"]): r["total"]
        for r in StatusCount.objects.values(
            "organisation_id", "administration_id", "person_id", "status"
        ).annotate(total=Sum("n"))
    }
    counted = {
        (r["organisation_id"], r["assigned_administration_id"] or 0,
         r["assigned_to_id"] or 0, r["status"]): r["total"]
        for r in Conversation.objects.order_by().values(
            "organisation_id", "assigned_administration_id", "assigned_to_id",
            "status"
        ).annotate(total=Count("pk"))
    }
    return sorted((*key, kept.get(key, 0), counted.get(key, 0))
                  for key in kept.keys() | counted.keys()
                  if kept.get(key, 0) != counted.get(key, 0))


def status_counts(actor, *, administration: int | None = None) -> dict[str, int]:
    """The number of conversations ``actor`` sees (``conversation_policy``)
    per status, from the kept counts alone: the whole organisation for the
    desk (or one ``administration``'s, the desk only); for a contributor,
    their administration's plus those assigned to them personally in
    another."""
    if not actor.has_perm("inbox.answer"):
        return {}
    rows = StatusCount.objects.filter(organisation_id=actor.organisation_id)
    if actor.has_perm("inbox.view_all"):
        if administration is not None:
            rows = rows.filter(administration_id=administration)
    elif administration is not None:
        raise ValueError("a contributor's counts are not kept per administration")
    else:
        rows = rows.filter(Q(administration_id=actor.administration_id)
                           | Q(person_id=actor.pk))
    return {
        r["status"]: r["total"]
        for r in rows.order_by().values("status").annotate(total=Sum("n"))
        if r["total"]
    }


def list_count(actor, filters, per_status: dict[str, int]) -> int | None:
    """How many conversations the list shows for ``filters``, from the kept
    counts when the filters are only a status and (for the desk) an
    administration; None when the list must count them itself."""
    if (filters.network or filters.channel or filters.overdue
            or filters.personal_data or filters.negative or filters.q):
        return None
    if filters.administration:
        if not actor.has_perm("inbox.view_all"):
            return None
        per_status = status_counts(actor, administration=filters.administration)
    if filters.status:
        return per_status.get(filters.status, 0)
    return sum(per_status.values())
