from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kanal.records.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Sletter journalposter, hvis opbevaringsperiode er udløbet "
        "(ikke det, der er på hold)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Vis kun, hvor mange poster der ville blive slettet.")

    def handle(self, *args, dry_run=False, **options):
        count = apply_retention(dry_run=dry_run)
        if dry_run:
            self.stdout.write(_("%(count)s journalposter ville blive slettet.")
                              % {"count": count})
        else:
            self.stdout.write(
                _("%(count)s journalposter er slettet.") % {"count": count}
            )
