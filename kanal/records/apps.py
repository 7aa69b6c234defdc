from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "kanal.records"
    label = "records"
    verbose_name = _("Journalisering")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kanal.publishing import periodic, signals

        from . import (
            capture,
            conf,
            filing,
            inbox_capture,
            readback,
            retention,
            search,
        )

        post_migrate.connect(search.ensure_after_migrate, sender=self,
                             dispatch_uid="records.search")

        inbox_capture.connect()
        signals.publication_changed.connect(
            capture.on_publication_changed, dispatch_uid="records.capture"
        )
        periodic.register(
            periodic.PeriodicJob(
                "records_capture_published",
                "Lægger udgivne opslag, som endnu ikke er i journalen, i journalen.",
                lambda: 300.0,
                capture.capture_published,
                lane="housekeeping",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "records_read_back_published",
                "Læser udgivne opslag igen fra netværkene og lægger ændringer og "
                "sletninger, der er lavet dér, i journalen som nye versioner.",
                lambda: float(conf.get("READBACK_EVERY_SECONDS")),
                readback.read_back_published,
                lane="network",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "records_retention",
                "Sletter journalposter, hvis opbevaringsperiode er udløbet, og "
                "renser henvendelser i indbakken for personoplysninger efter "
                "indbakkens opbevaringsperiode (ikke det, et retligt hold "
                "omfatter).",
                lambda: 3600.0,
                retention.retention_job,
                lane="housekeeping",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "records_filing",
                "Lægger journalposter, der er markeret til journalisering, i "
                "sagssystemets mappe med en kvittering.",
                lambda: 300.0,
                filing.file_waiting,
                lane="housekeeping",
            )
        )
