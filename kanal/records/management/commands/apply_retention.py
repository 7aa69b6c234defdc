from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kanal.records.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Sletter journalposter, hvis opbevaringsperiode er udløbet, og renser "
        "henvendelser i indbakken for personoplysninger efter indbakkens "
        "opbevaringsperiode (ikke det, der er på retligt hold)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Vis kun, hvor meget der ville blive slettet.")

    def handle(self, *args, dry_run=False, **options):
        done = apply_retention(dry_run=dry_run)
        counts = {"count": done.deleted, "redacted": done.redacted}
        if dry_run:
            self.stdout.write(
                _("%(count)s journalposter ville blive slettet, og %(redacted)s "
                  "henvendelser i indbakken ville blive renset.") % counts)
        else:
            self.stdout.write(
                _("%(count)s journalposter er slettet, og %(redacted)s "
                  "henvendelser i indbakken er renset.") % counts)
