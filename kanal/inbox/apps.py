from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "kanal.inbox"
    label = "inbox"
    verbose_name = _("Indbakke")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from kanal.channels import problems
        from kanal.notifications.kinds import register_param
        from kanal.publishing import periodic, signals

        from . import (
            bridge,
            counts,
            intake,
            mentions,
            moderation,
            polling,
            scope,
            search,
            targets,
        )

        post_migrate.connect(search.ensure_after_migrate, sender=self,
                             dispatch_uid="inbox.search")
        post_migrate.connect(counts.ensure_after_migrate, sender=self,
                             dispatch_uid="inbox.counts")
        pre_migrate.connect(scope.drop_before_migrate, sender=self,
                            dispatch_uid="inbox.scope")
        post_migrate.connect(scope.ensure_after_migrate, sender=self,
                             dispatch_uid="inbox.scope")

        problems.register("inbox_poll", polling.poll_problem)
        problems.register("inbox_messages", polling.messages_problem,
                          many=polling.messages_problems)
        register_param("privacy_step", moderation.render_privacy_step)
        register_param("privacy_kinds", moderation.render_privacy_kinds)
        signals.reply_finished.connect(
            bridge.on_reply_finished, dispatch_uid="inbox.reply_finished"
        )
        periodic.register(
            periodic.PeriodicJob(
                "inbox_process_webhooks",
                "Behandler modtagne webhooks fra Meta og lægger henvendelser i "
                "indbakken.",
                lambda: 1.0,
                intake.process_deliveries,
                lane="intake",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "inbox_poll",
                "Henter nye kommentarer og beskeder fra kanalerne (også en "
                "opsamling på Meta-kanaler, så en mistet webhook ikke mister noget).",
                lambda: 15.0,
                polling.poll_due_channels,
                lane="network",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "inbox_read_mentions",
                "Henter de Instagram-omtaler, som webhooks har meldt, og lægger "
                "dem i indbakken (prøver igen senere, hvis netværket fejler).",
                lambda: 30.0,
                mentions.read_due_mentions,
                lane="network",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "inbox_overdue",
                "Giver besked om henvendelser, der er over svarfristen.",
                lambda: 60.0,
                targets.notify_overdue,
                lane="intake",
            )
        )
        periodic.register(
            periodic.PeriodicJob(
                "inbox_fold_counts",
                "Lægger ændringerne i indbakkens optælling pr. status sammen.",
                lambda: 60.0,
                counts.fold_job,
                lane="intake",
            )
        )
