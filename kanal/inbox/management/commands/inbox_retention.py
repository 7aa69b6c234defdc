"""``kanal inbox_retention``: remove citizens' personal data past its period."""

from django.core.management.base import BaseCommand

from kanal.inbox.retention import apply_retention


class Command(BaseCommand):
    help = ("Sletter borgeres personoplysninger i indbakken efter organisationens "
            "opbevaringsperiode (ikke det, der er på retligt tilbagehold).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Vis hvad der ville blive slettet, uden at slette.")

    def handle(self, *args, dry_run=False, **options):
        def report(organisation, count, days):
            verb = "ville blive slettet" if dry_run else "slettet"
            self.stdout.write(
                f"{organisation.name}: {count} henvendelser ældre end {days} dage "
                f"{verb}."
            )

        total = apply_retention(dry_run=dry_run, report=report)
        self.stdout.write(("I alt ville " if dry_run else "I alt er ")
                          + f"{total} henvendelser " +
                          ("blive renset." if dry_run else "renset."))
