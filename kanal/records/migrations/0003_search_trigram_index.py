"""A trigram index on the record's searchable text, on PostgreSQL only.

An access request's search words are matched literally anywhere in the text
(``search_text LIKE '%word%'``), which no B-tree index can answer; over
three years of a large municipality's record the scan of a year's rows was
the slow part. ``pg_trgm``'s GIN index answers such a LIKE for a word of
three letters or more. ``pg_trgm`` is a trusted extension (PostgreSQL 13 and
later): the database's owner may create it without being a superuser.

SQLite has no such index: there the search stays a scan of the period's rows
(by the organisation-and-time index), which this migration leaves alone.
"""

from django.db import migrations

INDEX = "record_search_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON records_recordentry "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0002_legal_holds_cover_the_inbox"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
