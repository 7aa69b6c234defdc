import sys

from django.core.management.base import BaseCommand

from kanal.core.audit import verify_chain
from kanal.core.models import AuditEntry


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit 1 if any entry was altered."

    def handle(self, *args, **options):
        problems = verify_chain()
        total = AuditEntry.objects.count()
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
