"""The WSGI application the web tier serves (``kanal.wsgi``, kanal/web.py).

Requests under ``KANAL_WEBHOOK_PREFIX`` (the networks' signed webhooks) go
through a handler with ``KANAL_WEBHOOK_MIDDLEWARE`` only; everything else
through the site's full ``MIDDLEWARE``. Both resolve the same URLs and views.
"""

import os

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


def make_application():
    from django.conf import settings

    site = get_wsgi_application()
    webhooks = WebhookHandler()
    prefix = settings.KANAL_WEBHOOK_PREFIX

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(prefix):
            return webhooks(environ, start_response)
        return site(environ, start_response)

    return application


application = make_application()
