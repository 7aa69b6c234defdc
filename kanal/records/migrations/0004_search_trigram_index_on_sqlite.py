"""A trigram FTS5 index on the record's searchable text, on SQLite.

PostgreSQL got its trigram index in 0003; on SQLite the search scanned the
period's rows, which at full size missed the access request's 2-second
target. ``kanal.records.search`` creates the FTS5 table and its triggers and
indexes the rows already there.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    from kanal.records import search

    search.ensure(schema_editor.connection)


def drop_index(apps, schema_editor):
    from kanal.records import search

    search.remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0003_search_trigram_index"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
