from django.db import migrations


def index_again(apps, schema_editor):
    """Every item indexed again without its invisible characters (and on
    PostgreSQL in NFKC), in batches (``search.index_again``)."""
    from kanal.inbox import search

    search.index_again(schema_editor.connection)


class Migration(migrations.Migration):
    # Existing rows are indexed in batches, each committed on its own.
    atomic = False

    dependencies = [
        ('inbox', '0019_poll_not_before'),
    ]

    operations = [
        migrations.RunPython(index_again, migrations.RunPython.noop),
    ]
