"""Health and metrics for the machines that watch Kanal: no login, no
session, no page; JSON or Prometheus text."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from . import health, metrics


@never_cache
@require_GET
def healthz_view(request):
    """The process is up and answers (nothing else is asked)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz_view(request):
    """Ready to take work: database, migrations, a working worker, the vault.
    503 with every check named when one fails."""
    results = health.readiness()
    ready = all(check.ok for check in results.values())
    if not results["database"].ok:
        connection.close()
    return JsonResponse(
        {
            "status": "ready" if ready else "unready",
            "checks": {
                name: {"ok": check.ok, "detail": check.detail}
                for name, check in results.items()
            },
        },
        status=200 if ready else 503,
    )


@never_cache
@require_GET
def metrics_view(request):
    if not metrics.may_scrape(request):
        return HttpResponse(
            _("Adgang nægtet: metrikker kræver KANAL_METRICS_TOKEN eller en "
              "forespørgsel fra maskinen selv.") + "\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
