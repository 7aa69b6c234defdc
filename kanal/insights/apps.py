from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "kanal.insights"
    label = "insights"
    verbose_name = _("Indsigt")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kanal.channels import problems
        from kanal.notifications.kinds import register_param
        from kanal.publishing import periodic

        from . import conf, report, tasks

        problems.register("insights_collect", tasks.collection_problem)

        register_param("report_cadence", report.cadence_label)
        register_param("report_period", report.period_label)

        periodic.register(
            periodic.PeriodicJob(
                "insights_collect",
                "Henter tal for kanaler (dagligt øjebliksbillede) og for "
                "udgivne opslag (tidsserie) fra netværkene.",
                lambda: conf.get("COLLECT_EVERY_SECONDS"),
                tasks.collect_metrics,
                lane="network",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "insights_rollup",
                "Opdaterer dagstallene pr. kanal, kategori, formål, forvaltning "
                "og kampagne for de dage, der har fået nye tal.",
                lambda: conf.get("ROLLUP_EVERY_SECONDS"),
                tasks.update_rollups,
                lane="housekeeping",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "insights_hashtags",
                "Tæller brugen af #voreskbh og kampagnernes hashtags pr. netværk "
                "og dag (Instagram inden for 30 hashtags på 7 dage).",
                lambda: conf.get("HASHTAGS_EVERY_SECONDS"),
                tasks.collect_hashtags,
                lane="network",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "insights_prune_raw",
                "Sletter rå svar fra netværkene, når opbevaringstiden er gået.",
                lambda: 3600.0,
                tasks.prune_raw_responses,
                lane="housekeeping",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "insights_prune_exports",
                "Sletter eksporter og deres filer, når "
                "KANAL_INSIGHTS_EXPORT_RETENTION_DAYS dage er gået.",
                lambda: 3600.0,
                tasks.prune_exports,
                lane="housekeeping",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "insights_report_emails",
                "Sender sidste måneds og kvartals rapport som PDF på e-mail til "
                "dem, der abonnerer: én gang pr. periode, også hvis jobbet kører "
                "to gange.",
                lambda: conf.get("REPORT_EMAILS_EVERY_SECONDS"),
                tasks.send_report_emails,
                lane="housekeeping",
            )
        )
