from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    name = "kanal.sources"
    label = "sources"
    verbose_name = _("Kilder")

    def ready(self) -> None:
        from kanal.planning import overlays
        from kanal.publishing import periodic

        from . import selectors, tasks

        overlays.register("sources", selectors.calendar_entries)

        periodic.register(
            periodic.PeriodicJob(
                "sources_fetch_due",
                "Henter kilder (kalendere, nyheder, pressemeddelelser), hvis tur "
                "det er, og laver forslag til opslag.",
                lambda: 300.0,
                tasks.fetch_due_sources,
                lane="network",
            )
        )
