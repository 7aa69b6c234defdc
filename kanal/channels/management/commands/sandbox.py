"""``kanal sandbox``: run the network emulators (the "øvebane") on loopback."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Kør øvebanen: lokale udgaver af de sociale netværk (kun på loopback)."

    def add_arguments(self, parser):
        default = urlsplit(getattr(settings, "KANAL_SANDBOX_URL",
                                   "http://127.0.0.1:8765"))
        parser.add_argument("--host", default=default.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=default.port or 8765)
        var_dir = getattr(settings, "VAR_DIR", settings.BASE_DIR / "var")
        parser.add_argument("--db", default=str(var_dir / "sandbox.sqlite3"))
        parser.add_argument(
            "--webhook-url",
            default=getattr(settings, "KANAL_SANDBOX_WEBHOOK_URL", None),
            help="Hvor signerede webhooks sendes hen; må indeholde {network}.")
        parser.add_argument(
            "--app-secret",
            default=getattr(settings, "KANAL_SANDBOX_APP_SECRET", None))
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--citizens-every", type=float, default=0.0,
                            help="Sekunder mellem simulerede borgeres aktivitet.")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        from sandbox.__main__ import is_loopback, serve

        if not is_loopback(options["host"]):
            raise CommandError(
                "Øvebanen har ingen adgangskontrol og kører kun på loopback "
                f"(127.0.0.1); {options['host']!r} er afvist."
            )
        serve(
            host=options["host"], port=options["port"], db=options["db"],
            webhook_url=options["webhook_url"], app_secret=options["app_secret"],
            latency_ms=options["latency_ms"],
            citizens_every=options["citizens_every"], seed=options["seed"],
        )
