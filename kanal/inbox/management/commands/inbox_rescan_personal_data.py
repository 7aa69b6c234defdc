from django.core.management.base import BaseCommand

from kanal.inbox import rescan


class Command(BaseCommand):
    help = (
        "Read the personal data of stored inbox items again as new items are "
        "read (as shown on a screen) and flag them; a young item that gains a "
        "flag is hidden where the organisation asks for it. --dry-run only "
        "counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would change; change nothing.")
        parser.add_argument("--batch", type=int, default=rescan.BATCH,
                            help="Items a transaction (default %(default)s).")
        parser.add_argument(
            "--hide-days", type=int, default=rescan.HIDE_DAYS,
            help="Hide (where the organisation asks) and tell the editors "
                 "only of items at most this many days old (default "
                 "%(default)s).")

    def handle(self, *args, dry_run, batch, hide_days, **options):
        done = rescan.rescan(batch=max(1, batch), hide_days=max(0, hide_days),
                             dry_run=dry_run)
        self.stdout.write(
            f"{'Prøvekørsel: ' if dry_run else ''}{done.read} læst, "
            f"{done.flagged} får nyt flag ({done.young} højst {hide_days} dage "
            f"gamle), {done.cleared} mister et flag."
        )
