from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "kanal.planning"
    label = "planning"
    verbose_name = _("Planlægning")

    def ready(self) -> None:
        from kanal.publishing import conf, periodic, signals

        from . import bridge, tasks

        signals.publication_changed.connect(
            bridge.on_publication_changed, dispatch_uid="planning.roll_up"
        )
        signals.approval_check.connect(
            bridge.on_approval_check, dispatch_uid="planning.approval"
        )
        periodic.register(
            periodic.PeriodicJob(
                "planning_approval_watch",
                "Advarer om opslag, der ikke er godkendt i tide, og markerer "
                "dem som ikke nået, når tiden er gået.",
                lambda: conf.get("APPROVAL_WATCH_EVERY_SECONDS"),
                tasks.approval_watch,
                lane="intake",
            )
        )
