"""`kanal backup FILE`: the database, the media and the vault keys'
fingerprint in one archive (kanal/operations/backup.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kanal.operations.backup import BackupError, create_backup


class Command(BaseCommand):
    help = _("Tager en sikkerhedskopi af databasen og mediefilerne.")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive to write (.tar.gz).")

    def handle(self, *args, archive, **options):
        try:
            summary = create_backup(Path(archive))
        except BackupError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(_(
            "Sikkerhedskopi skrevet til %(path)s: %(rows)d rækker, %(files)d "
            "mediefiler, %(size).1f MB."
        ) % {"path": summary.path, "rows": summary.rows,
             "files": summary.media_files, "size": summary.size / 1e6})
