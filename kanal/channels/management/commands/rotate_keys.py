from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kanal.channels import vault
from kanal.channels.models import Channel
from kanal.core import audit
from kanal.organisations.models import SingleSignOn


class Command(BaseCommand):
    help = (
        "Re-encrypt every channel's credentials and every single sign-on "
        "client secret with the newest key in "
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
                sign_ons = 0
                for config in SingleSignOn.objects.select_for_update().exclude(
                    encrypted_client_secret=""
                ):
                    new = vault.rotate(config.encrypted_client_secret)
                    if not dry_run:
                        config.encrypted_client_secret = new
                        config.save(update_fields=["encrypted_client_secret"])
                    sign_ons += 1
                if not dry_run:
                    audit.record(
                        "channels.vault.rotated",
                        changes={"channels": rotated, "single_sign_on": sign_ons},
                    )
        except vault.VaultError as e:
            raise CommandError(f"{e} Intet er ændret.") from e
        verb = "kan roteres" if dry_run else "er krypteret med den nyeste nøgle"
        self.stdout.write(f"{rotated} kanalers adgangsoplysninger {verb}.")
        self.stdout.write(
            f"{sign_ons} organisationers klient-hemmeligheder til fælles login {verb}."
        )
