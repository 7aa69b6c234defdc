from django.core.management.base import BaseCommand, CommandError

from kanal.organisations.actions import set_up_organisation
from kanal.organisations.forms import parse_administration


class Command(BaseCommand):
    help = (
        "Opret en organisation (en kommune), dens forvaltninger og dens første "
        "administrator. Kan køres igen: det, der findes, bevares."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="fx 'Aarhus Kommune'")
        parser.add_argument("--slug", required=True, help="kort navn, fx 'aarhus'")
        parser.add_argument(
            "--administration",
            action="append",
            required=True,
            metavar="KODE=NAVN",
            help="en forvaltning; gentag for flere",
        )
        parser.add_argument(
            "--central-desk", required=True, metavar="KODE",
            help="forvaltningen med den centrale redaktion",
        )
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", default="")

    def handle(self, *args, **options):
        try:
            administrations = [
                parse_administration(item) for item in options["administration"]
            ]
            report = set_up_organisation(
                actor=None,
                name=options["name"],
                slug=options["slug"],
                administrations=administrations,
                central_desk=options["central_desk"],
                admin_username=options["admin_username"],
                admin_email=options["admin_email"],
                admin_name=options["admin_name"],
            )
        except ValueError as e:
            raise CommandError(f"{e} Intet er ændret.") from e
        for line in report:
            self.stdout.write(str(line))
