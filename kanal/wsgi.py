"""The WSGI application the web tier serves (``kanal.wsgi``, kanal/web.py).

Requests under ``KANAL_WEBHOOK_PREFIX`` (the networks' signed webhooks) go
through a handler with ``KANAL_WEBHOOK_MIDDLEWARE`` only; everything else
through the site's full ``MIDDLEWARE``. Both resolve the same URLs and views.

Under kanal-web, requests that send a body may hold at most half of a
process's threads (``BodyGate``): a client sending its body a byte at a time
holds its thread as long as it likes, and a dozen of them took every thread
(the site, /healthz too, answered nothing). The other half stays for requests
without a body; a body that finds no place is told to come back (503).
"""

import os
import threading

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kanal.settings.dev")


class WebhookHandler(WSGIHandler):
    """A WSGI handler whose middleware is ``KANAL_WEBHOOK_MIDDLEWARE``."""

    def load_middleware(self, is_async=False):
        from django.conf import settings

        # Django builds the chain from settings.MIDDLEWARE; this runs once,
        # when the module is imported (one thread), and puts it back.
        site = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.KANAL_WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site


class BodyGate:
    """At most ``places`` requests with a body in this process at a time."""

    def __init__(self, places: int):
        self.places = threading.BoundedSemaphore(places)

    @staticmethod
    def has_body(environ) -> bool:
        return (environ.get("CONTENT_LENGTH", "").strip() not in ("", "0")
                or "HTTP_TRANSFER_ENCODING" in environ)

    def __call__(self, app, environ, start_response):
        if not self.has_body(environ):
            return app(environ, start_response)
        if not self.places.acquire(blocking=False):
            return self.busy(start_response)
        try:
            return app(environ, start_response)
        finally:
            self.places.release()

    @staticmethod
    def busy(start_response):
        from django.utils.translation import gettext as _

        text = (_("Serveren modtager for mange forespørgsler med indhold lige "
                  "nu; prøv igen om lidt. Intet er gemt.") + "\n").encode()
        start_response("503 Service Unavailable", [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(text))),
            ("Retry-After", "5"),
            ("Connection", "close"),
        ])
        return [text]


def body_gate() -> BodyGate | None:
    """Half of kanal-web's threads per process (kanal/web.py names them in
    ``KANAL_WEB_THREADS``); none under another server."""
    threads = os.environ.get("KANAL_WEB_THREADS", "").strip()
    if not threads.isascii() or not threads.isdigit():
        return None
    return BodyGate(max(1, int(threads) // 2))


def make_application():
    from django.conf import settings

    site = get_wsgi_application()
    webhooks = WebhookHandler()
    prefix = settings.KANAL_WEBHOOK_PREFIX
    gate = body_gate()

    def dispatch(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(prefix):
            return webhooks(environ, start_response)
        return site(environ, start_response)

    if gate is None:
        return dispatch

    def application(environ, start_response):
        return gate(dispatch, environ, start_response)

    return application


application = make_application()
