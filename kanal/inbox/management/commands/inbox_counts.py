import sys

from django.core.management.base import BaseCommand

from kanal.inbox import counts


class Command(BaseCommand):
    help = (
        "Compare the inbox's kept status counts with a fresh count of the "
        "conversations (--check, exit 1 when they differ) or count again "
        "(--repair)."
    )

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--check", action="store_true",
                          help="Only compare (the default).")
        what.add_argument("--repair", action="store_true",
                          help="Count every conversation again.")

    def handle(self, *args, check, repair, **options):
        if repair:
            counts.ensure_counts_installed()
            counts.rebuild()
            self.stdout.write("Optællingen pr. status er talt forfra.")
            return
        differences = counts.check()
        if not differences:
            self.stdout.write("Optællingen pr. status stemmer med samtalerne.")
            return
        for (organisation, channel, administration, person, status, kept,
             counted) in differences:
            self.stdout.write(
                f"Organisation {organisation}, kanal {channel}, "
                f"forvaltning {administration or '-'}, "
                f"person {person or '-'}, {status}: {kept} i optællingen, "
                f"{counted} samtaler."
            )
        self.stdout.write(
            f"Optællingen stemmer IKKE: {len(differences)} forskel(le). "
            "Ret den med --repair."
        )
        sys.exit(1)
