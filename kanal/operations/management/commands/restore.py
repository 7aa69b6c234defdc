"""`kanal restore FILE`: check the archive in full, then replace the database
and the media (kanal/operations/backup.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kanal.operations.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = _(
        "Gendanner databasen og mediefilerne fra en sikkerhedskopi. Alt i den "
        "nuværende database erstattes. Stop web og arbejdere først."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive from `kanal backup`.")
        parser.add_argument("--yes", action="store_true",
                            help="Do not ask before replacing the database.")

    def handle(self, *args, archive, yes, **options):
        if not yes and options.get("interactive", True):
            answer = input(_(
                "Alt i databasen og alle mediefiler erstattes med sikkerhedskopien. "
                "Skriv 'ja' for at fortsætte: "
            ))
            if answer.strip().lower() != "ja":
                raise CommandError(_("Afbrudt. Intet er ændret."))
        try:
            checked = restore_backup(Path(archive))
        except BackupError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(_(
            "Gendannet fra %(path)s (taget %(created)s): %(rows)d rækker. Kør "
            "`kanal verify-audit` for at kontrollere revisionssporet."
        ) % {"path": archive, "created": checked.manifest.get("created_at"),
             "rows": checked.rows})
