"""Error pages in Danish (saying what happened and what to do) and the audit
log."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .decorators import membership_required
from .forms import AuditFilterForm
from .policies_audit import audit_policy
from .safety import InvalidInput
from .statement import load_statement

logger = logging.getLogger(__name__)


def _error(request, status: int, title: str, message: str):
    try:
        return render(
            request, "error.html", {"title": title, "message": message}, status=status
        )
    except Exception:
        # The page could not be drawn (a static manifest missing, a database
        # away): the client's mistake is still answered as that, not as 500.
        logger.exception("error page %s drawn without Kanal's layout", status)
        return HttpResponse(
            format_html('<!doctype html><html lang="da"><title>{}</title>'
                        "<h1>{}</h1><p>{}</p></html>", title, title, message),
            status=status, content_type="text/html; charset=utf-8",
        )


def csrf_failure(request, reason=""):
    return _error(
        request,
        403,
        _("Formularen var for gammel"),
        _(
            "Siden var udløbet eller blev sendt fra et andet sted. Gå tilbage, "
            "genindlæs siden og prøv igen. Intet blev gemt."
        ),
    )


def permission_denied(request, exception=None):
    message = (
        str(exception)
        if exception and str(exception)
        else _(
            "Din rolle giver ikke adgang til dette. Kontakt en administrator, hvis "
            "du mener, det er en fejl."
        )
    )
    return _error(request, 403, _("Ingen adgang"), message)


def page_not_found(request, exception=None):
    return _error(
        request,
        404,
        _("Siden findes ikke"),
        _(
            "Siden findes ikke, eller du har ikke adgang til den. Tjek adressen, "
            "eller gå til forsiden."
        ),
    )


def server_error(request):
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    # A value Kanal refused says itself which one and what to do.
    message = (
        str(exception)
        if isinstance(exception, InvalidInput) and str(exception)
        else _("Det sendte kunne ikke læses. Gå tilbage og prøv igen.")
    )
    return _error(request, 400, _("Forespørgslen kunne ikke forstås"), message)


# ---------------------------------------------------------------------------
# Pages


@membership_required
def audit_list_view(request):
    audit_policy.check(request.membership, "list")
    form = AuditFilterForm(request.GET or None)
    entries = audit_policy.visible(request.membership).select_related("actor")
    if form.is_valid():
        entries = form.filter(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("side"))
    query = request.GET.copy()
    query.pop("side", None)
    return render(
        request,
        "core/audit_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def accessibility_statement_view(request):
    """The accessibility statement: public, in the reader's language."""
    language = (get_language() or "da")[:2]
    statement = load_statement(settings.KANAL_ACCESSIBILITY_STATEMENT, language)
    return render(
        request, "core/accessibility_statement.html", {"statement": statement}
    )


def favicon_view(request):
    """Browsers and feed readers ask for /favicon.ico whatever the page says.
    The static URL is resolved per request: at import time the production
    manifest may not exist yet (``check --deploy`` before ``collectstatic``)."""
    return HttpResponsePermanentRedirect(static("kanal/favicon.ico"))
