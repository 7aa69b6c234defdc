"""Security headers on every response: a strict Content-Security-Policy and a
Permissions-Policy.

A small middleware rather than django-csp: the policy is one fixed string
(Kanal has no inline script, inline style or third-party origin, so it needs
no nonces or per-view policies, which are what django-csp adds), and
Permissions-Policy is outside django-csp anyway. Django 6 has a CSP
middleware of its own; this is the one line to swap then.

A response that already carries a policy keeps it: the media view serves
uploads with its own ``sandbox`` policy.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # htmx's indicator style is switched off in base.html's htmx-config;
        # its classes are styled in kanal.css instead.
        "style-src 'self'",
        # The two-factor QR code is a data: SVG image.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RefuseNulMiddleware:
    """A NUL character in the address, the query or a cookie is refused with
    a Danish 400 before any view, session or query sees it.

    No text Kanal keeps can hold one: PostgreSQL refuses it in every text
    column, so a NUL reaching a lookup was a 500 there (and a silent miss on
    SQLite). One check here instead of one per view. Forms are not refused
    (that would lose what was typed): their fields drop or refuse a NUL
    themselves (``safety.typed_text``, Django's ``ProhibitNullCharactersValidator``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = [request.path, *request.GET.keys(), *request.GET.values(),
                  *request.COOKIES.keys(), *request.COOKIES.values()]
        if any("\x00" in value for value in values):
            from django.contrib.auth.models import AnonymousUser
            from django.utils import translation

            from .safety import InvalidInput, unsearchable_message
            from .views import bad_request

            request.user = AnonymousUser()
            # Before LocaleMiddleware: the thread still has the language of
            # the last request it served, so the reader's is chosen here.
            language = translation.get_language_from_request(request)
            with translation.override(language):
                return bad_request(request, InvalidInput(unsearchable_message()))
        return self.get_response(request)
