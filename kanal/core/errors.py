"""Kanal's own error pages for refusals and missing pages, in every setting.

Django logs a refused request (``PermissionDenied``) and a missing page
(``Http404``) with the exception's traceback, and with ``DEBUG`` on it shows
its technical 404 page instead of Kanal's. A refusal is an answer, not a
fault: this middleware renders Kanal's page (Django still logs the one line
"Forbidden: /path", now without a traceback). Errors that are faults (500)
are left to Django.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import views


class ErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and "text/html" in response.get("Content-Type", "")
        ):
            # No URL matched: Django answered with its technical 404 page.
            return views.page_not_found(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            return views.permission_denied(request, exception)
        if isinstance(exception, Http404):
            return views.page_not_found(request, exception)
        return None
