from django.urls import include, path
from django.views.generic import RedirectView

from kanal.core import views as core_views
from kanal.dashboard import dashboard_view
from kanal.operations import views as operations_views
from kanal.organisations.urls import (
    account_urls,
    installation_urls,
    member_urls,
    organisation_urls,
)
from kanal.planning.views import media_file_view

handler400 = "kanal.core.views.bad_request"
handler403 = "kanal.core.views.permission_denied"
handler404 = "kanal.core.views.page_not_found"
handler500 = "kanal.core.views.server_error"

urlpatterns = [
    # Signed webhooks from the networks (no login; the signature is the
    # check). First, so the busiest machine-to-machine address resolves on
    # the first pattern tried.
    path("webhooks/", include("kanal.inbox.webhook_urls")),
    path("", dashboard_view, name="dashboard"),
    path("konto/", include(account_urls)),
    path("medlemmer/", include(member_urls)),
    path("organisation/", include(organisation_urls)),
    path("installation/", include(installation_urls)),
    path("kanaler/", include("kanal.channels.urls")),
    path("udgivelser/", include("kanal.publishing.urls")),
    path("plan/", include("kanal.planning.urls")),
    path("notifikationer/", include("kanal.notifications.urls")),
    path("kilder/", include("kanal.sources.urls")),
    path("journal/", include("kanal.records.urls")),
    path("indsigt/", include("kanal.insights.urls")),
    path("indbakke/", include("kanal.inbox.urls")),
    path("revisionsspor/", core_views.audit_list_view, name="audit_list"),
    path(
        "tilgaengelighed/",
        core_views.accessibility_statement_view,
        name="accessibility_statement",
    ),
    # The short address public bodies give their statement ("/was").
    path(
        "was",
        RedirectView.as_view(pattern_name="accessibility_statement"),
        name="accessibility_statement_short",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("media/<path:name>", media_file_view, name="media_file"),
    # Browsers and feed readers ask for /favicon.ico whatever the page says.
    path("favicon.ico", core_views.favicon_view),
    # For probes and Prometheus (kanal/operations/): no login.
    path("healthz", operations_views.healthz_view, name="healthz"),
    path("readyz", operations_views.readyz_view, name="readyz"),
    path("metrics", operations_views.metrics_view, name="metrics"),
]
