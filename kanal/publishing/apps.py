from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "kanal.publishing"
    label = "publishing"
    verbose_name = _("Udgivelse")

    def ready(self) -> None:
        from kanal.channels import problems
        from kanal.notifications.kinds import register_param

        from . import (
            crisis,  # noqa: F401  (registers the desk-hours check)
            tokens,
        )
        from .outcomes import render_notification_reason

        register_param("why", render_notification_reason)
        problems.register("refresh_tokens", tokens.refresh_problem)
