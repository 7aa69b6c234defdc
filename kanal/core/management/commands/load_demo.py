from django.core.management.base import BaseCommand

from kanal.demo import load_demo


class Command(BaseCommand):
    help = "Load the Københavns Kommune demo (idempotent: twice changes nothing)."

    def handle(self, *args, **options):
        organisation = load_demo()
        self.stdout.write(f"Demoen er indlæst: {organisation.name}.")
