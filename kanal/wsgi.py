"""The WSGI application the web tier serves (``kanal.wsgi``, kanal/web.py).

Requests under ``KANAL_WEBHOOK_PREFIX`` (the networks' signed webhooks) go
through a handler with ``KANAL_WEBHOOK_MIDDLEWARE`` only; everything else
through the site's full ``MIDDLEWARE``. Both resolve the same URLs and views.

Under kanal-web, at most half of a process's threads may wait for a request's
body (``BodyGate``): a client sending its body a byte at a time holds its
thread as long as it likes, and a dozen of them took every thread (the site,
/healthz too, answered nothing). A place is given back once the body is read,
so the view's own work never counts; a body that finds no place within a
second is told to come back (503).
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


class _Place:
    """One place of a ``BodyGate``, given back once (body read or request
    done)."""

    def __init__(self, places: threading.BoundedSemaphore):
        self.places = places
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.places.release()


class _Body:
    """``wsgi.input`` that gives its place back when the body is read: the
    place guards the wait for a slow client's bytes, not the view's work."""

    def __init__(self, stream, length: int | None, place: _Place):
        self.stream, self.left, self.place = stream, length, place

    def _took(self, data: bytes, size) -> bytes:
        if self.left is not None:
            self.left -= len(data)
        if (self.left is not None and self.left <= 0) or (not data and size != 0):
            self.place.give_back()
        return data

    def read(self, size=-1, /):
        return self._took(self.stream.read(size), size)

    def readline(self, size=-1, /):
        return self._took(self.stream.readline(size), size)


class BodyGate:
    """At most ``places`` requests of this process waiting for their body."""

    WAIT_SECONDS = 1.0

    def __init__(self, places: int):
        self.places = threading.BoundedSemaphore(places)

    @staticmethod
    def declared(environ) -> int | None:
        """The declared length; None for a body in chunks; 0 for none."""
        if "HTTP_TRANSFER_ENCODING" in environ:
            return None
        length = environ.get("CONTENT_LENGTH", "").strip()
        return int(length) if length.isascii() and length.isdigit() else 0

    def __call__(self, app, environ, start_response):
        length = self.declared(environ)
        if length == 0:
            return app(environ, start_response)
        # A place is usually free within milliseconds (a fast client's body
        # is read at once); waiting a moment for one keeps a burst of
        # webhooks from being refused, while slow clients holding every
        # place still get their 503 within ``WAIT_SECONDS``.
        if not self.places.acquire(timeout=self.WAIT_SECONDS):
            return self.busy(start_response)
        place = _Place(self.places)
        environ["wsgi.input"] = _Body(environ["wsgi.input"], length, place)
        try:
            return app(environ, start_response)
        finally:
            place.give_back()

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
