import secrets

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new random key for KANAL_AUDIT_KEYS."

    def handle(self, *args, **options):
        self.stdout.write(secrets.token_urlsafe(48))
