from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "kanal.channels"
    label = "channels"
    verbose_name = _("Kanaler og strategi")

    def ready(self):
        from . import checks  # noqa: F401  (registers the vault key check)
