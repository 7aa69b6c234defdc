from django.core.management.base import BaseCommand

from kanal.demo import load_demo


class Command(BaseCommand):
    help = "Load the Københavns Kommune demo (idempotent: twice changes nothing)."

    def handle(self, *args, **options):
        notes: list[str] = []
        organisation = load_demo(notes=notes)
        self.stdout.write(f"Demoen er indlæst: {organisation.name}.")
        for note in notes:
            self.stdout.write(note)
