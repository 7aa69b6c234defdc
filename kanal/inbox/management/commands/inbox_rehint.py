from django.core.management.base import BaseCommand

from kanal.inbox import rehint


class Command(BaseCommand):
    help = (
        "Give stored inbox items the sentiment and language hints a new item "
        "gets now, and each conversation its 'negative' from its newest "
        "item. Idempotent; --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would change; change nothing.")
        parser.add_argument("--batch", type=int, default=rehint.BATCH,
                            help="Items a transaction (default %(default)s).")

    def handle(self, *args, dry_run, batch, **options):
        done = rehint.rehint(batch=max(1, batch), dry_run=dry_run)
        self.stdout.write(
            f"{'Prøvekørsel: ' if dry_run else ''}{done.read} læst, "
            f"{done.sentiment} får ny stemning, {done.language} nyt sprog, "
            f"{done.negative} samtaler skifter negativ stemning."
        )
