from django.core.management.base import BaseCommand

from kanal.channels.vault import generate_key


class Command(BaseCommand):
    help = "Print a new random key for KANAL_VAULT_KEYS."

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
