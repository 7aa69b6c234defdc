from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kanal.core"
    label = "core"
    verbose_name = _("Kerne")

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import (
            checks,  # noqa: F401  (registers the system checks)
            fts,
        )

        connection_created.connect(fts.register_functions,
                                   dispatch_uid="core.fts_functions")
