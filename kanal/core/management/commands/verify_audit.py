import sys

from django.core.management.base import BaseCommand

from kanal.core.audit import verify_chain
from kanal.core.checkpoints import checkpoint_dir, read_checkpoints
from kanal.core.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Check the audit log's keyed hash chain and its signed checkpoints; "
        "exit 1 if any entry was altered, rebuilt or cut off."
    )

    def handle(self, *args, **options):
        problems = verify_chain()
        total = AuditEntry.objects.count()
        directory = checkpoint_dir()
        checkpoints, _unreadable = read_checkpoints()
        if directory is None:
            self.stdout.write(
                "Ingen checkpoints (KANAL_AUDIT_CHECKPOINT_DIR er tom): afskårne "
                "nyeste poster kan ikke opdages."
            )
        else:
            self.stdout.write(
                f"{len(checkpoints)} checkpoint(s) i {directory} kontrolleret."
            )
        if not problems:
            self.stdout.write(
                f"Revisionssporet er intakt: {total} poster kontrolleret."
            )
            return
        for problem in problems:
            self.stdout.write(f"#{problem.seq}: {problem.message}")
        self.stdout.write(
            f"Revisionssporet er IKKE intakt: {len(problems)} problem(er) "
            f"i {total} poster."
        )
        sys.exit(1)
