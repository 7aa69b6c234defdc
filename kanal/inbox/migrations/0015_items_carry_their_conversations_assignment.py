import django.db.models.deletion
from django.db import migrations, models


def install_scope(apps, schema_editor):
    """Fill every item's copy of its conversation's assignment with one
    set-based UPDATE, then (PostgreSQL) the triggers that keep it and the
    search index that narrows by it. The plain search index goes first, so
    the UPDATE does not write a million rows' words into it again; SQLite
    gets its triggers after ``migrate`` (``scope``)."""
    from kanal.inbox import scope, search

    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        scope.fill(connection)
        return
    # Trusted since PostgreSQL 13: the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute("DROP INDEX IF EXISTS inbox_item_search_gin")
    scope.install(connection)
    schema_editor.execute(search.SCOPED_INDEX_SQL)


def remove_scope(apps, schema_editor):
    """The triggers and the index go; ``btree_gin`` stays (harmless, and
    other indexes may use it; Django's own operation would drop it on
    PostgreSQL and fails on SQLite going back)."""
    from kanal.inbox import scope, search

    connection = schema_editor.connection
    scope.remove_scope(connection)
    if connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {search.SCOPED_INDEX}")
        schema_editor.execute(search.PLAIN_INDEX_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0014_item_author_handle'),
        ('organisations', '0004_records_officer_role'),
    ]

    operations = [
        migrations.AddField(
            model_name='inboxitem',
            name='assigned_administration',
            field=models.ForeignKey(
                blank=True, db_constraint=False, db_index=False, editable=False,
                null=True, on_delete=django.db.models.deletion.DO_NOTHING,
                related_name='+', to='organisations.administration'),
        ),
        migrations.AddField(
            model_name='inboxitem',
            name='assigned_to',
            field=models.ForeignKey(
                blank=True, db_constraint=False, db_index=False, editable=False,
                null=True, on_delete=django.db.models.deletion.DO_NOTHING,
                related_name='+', to='organisations.membership'),
        ),
        migrations.RunPython(install_scope, remove_scope),
    ]
