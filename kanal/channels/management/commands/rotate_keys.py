from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kanal.channels import vault
from kanal.channels.models import Channel
from kanal.core import audit


class Command(BaseCommand):
    help = (
        "Re-encrypt every channel's credentials with the newest key in "
        "KANAL_VAULT_KEYS (the first one). Old keys may be removed afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check that every secret can be decrypted; change nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        rotated = 0
        try:
            with transaction.atomic():
                for channel in Channel.objects.select_for_update().exclude(
                    encrypted_credentials=""
                ):
                    new = vault.rotate(channel.encrypted_credentials)
                    if not dry_run:
                        channel.encrypted_credentials = new
                        channel.save(update_fields=["encrypted_credentials"])
                    rotated += 1
                if not dry_run:
                    audit.record(
                        "channels.vault.rotated", changes={"channels": rotated}
                    )
        except vault.VaultError as e:
            raise CommandError(f"{e} Intet er ændret.") from e
        verb = "kan roteres" if dry_run else "er krypteret med den nyeste nøgle"
        self.stdout.write(f"{rotated} kanalers adgangsoplysninger {verb}.")
