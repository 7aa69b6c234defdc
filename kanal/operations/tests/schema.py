"""Make the database's migrations differ from the code's."""

from django.db import connection

FUTURE = "publishing.9999_from_the_future"
NEWEST = ("publishing", "0007_worker_heartbeat_outcome_tally")


def add_future_migration() -> None:
    """As if a newer version of Kanal had migrated this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('publishing', '9999_from_the_future', CURRENT_TIMESTAMP)"
        )


def forget_newest_migration() -> None:
    """As if this version's newest migration had not run yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = %s AND name = %s", NEWEST
        )
