"""The webhook through the production WSGI application (``kanal.wsgi``),
which gives /webhooks/ a short middleware chain: the checks, the status
codes and the security headers are those of the full chain, without the
session, authentication or messages a webhook never uses."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections, connection
from django.utils import timezone

from kanal.channels.networks import graph
from kanal.inbox import intake
from kanal.inbox.models import DeliveryStatus, WebhookDelivery

from .conftest import fb_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi():
    """``wsgi(method, path, body, **headers)`` -> (status, headers, body)
    through ``kanal.wsgi.application``; the test's transaction stays open
    (as Django's test client does, requests do not close the connection)."""
    from kanal.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def call(method, path, body=b"", *, content_type="application/json",
             signature=None, cookie="", host="testserver", chunked=False):
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "testserver", "SERVER_PORT": "80",
            "HTTP_HOST": host, "wsgi.url_scheme": "http",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
        }
        if signature is not None:
            environ["HTTP_X_HUB_SIGNATURE_256"] = signature
        if chunked:  # as a server passes on a body sent in chunks
            del environ["CONTENT_LENGTH"]
            environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        if cookie:
            environ["HTTP_COOKIE"] = cookie
        started = []
        content = b"".join(application(
            environ, lambda status, headers, *_: started.append((status, headers))))
        status, headers = started[0]
        return int(status.split()[0]), dict(headers), content

    try:
        yield call
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def signed(payload) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, graph.sign(settings.KANAL_META_APP_SECRET, body)


def test_a_signed_webhook_is_stored_with_the_short_chain(wsgi, facebook_channel):
    body, signature = signed(fb_comment())
    status, headers, content = wsgi("POST", "/webhooks/facebook/", body,
                                    signature=signature,
                                    cookie="sessionid=abc; messages=x")
    assert status == 200, content
    delivery = WebhookDelivery.objects.get()
    assert json.loads(content) == {"status": "accepted", "delivery": delivery.pk}
    assert delivery.body == body.decode()
    # The one INSERT (intake.store_delivery) writes what the model's save did.
    assert (delivery.network, delivery.organisation, delivery.status,
            delivery.processed_at, delivery.outcome) == (
        "facebook", None, DeliveryStatus.PENDING, None, {})
    assert abs(timezone.now() - delivery.received_at) < timedelta(minutes=1)
    # An address naming the organisation stores it with the body.
    status, _, content = wsgi(
        "POST", f"/webhooks/facebook/{facebook_channel.organisation.slug}/",
        body, signature=signature)
    assert status == 200, content
    named = WebhookDelivery.objects.get(pk=json.loads(content)["delivery"])
    assert named.organisation == facebook_channel.organisation
    assert named.pk > delivery.pk
    assert intake.process_deliveries() == 2
    # The security headers and the request id, as on every answer ...
    assert "Content-Security-Policy" in headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Request-ID"]
    # ... and nothing of a session: no cookie set, no Vary: Cookie.
    assert "Set-Cookie" not in headers
    assert "Cookie" not in headers.get("Vary", "")


def test_the_short_chain_is_only_for_webhooks(wsgi):
    status, headers, _ = wsgi("GET", "/indbakke/")
    assert status == 302  # the site's chain: sign in first
    assert "Cookie" in headers.get("Vary", "")


@pytest.mark.parametrize("case", ["missing", "bad", "other_body"])
def test_a_bad_signature_is_still_403_and_nothing_stored(wsgi, case,
                                                          facebook_channel):
    body, signature = signed(fb_comment())
    signature = {"missing": None, "bad": "sha256=" + "0" * 64,
                 "other_body": signed(fb_comment("x_2"))[1]}[case]
    status, _, content = wsgi("POST", "/webhooks/facebook/", body,
                              signature=signature)
    assert status == 403
    assert json.loads(content)["error"] == "bad_signature"
    assert WebhookDelivery.objects.count() == 0


def test_too_big_wrong_type_bad_json_and_unknown_organisation(wsgi, settings):
    settings.KANAL_WEBHOOK_MAX_BYTES = 100
    body, signature = signed(fb_comment(text="x" * 200))
    assert wsgi("POST", "/webhooks/facebook/", body, signature=signature)[0] == 413
    settings.KANAL_WEBHOOK_MAX_BYTES = 1_000_000
    assert wsgi("POST", "/webhooks/facebook/", body, signature=signature,
                content_type="text/plain")[0] == 415
    raw = b"{not json"
    status, _, content = wsgi("POST", "/webhooks/facebook/", raw,
                              signature=graph.sign(settings.KANAL_META_APP_SECRET,
                                                   raw))
    assert status == 400
    assert json.loads(content)["error"]
    status = wsgi("POST", "/webhooks/facebook/ingen-saadan/", body,
                  signature=signature)[0]
    assert status == 404
    assert WebhookDelivery.objects.count() == 0


def test_a_body_without_a_declared_length_is_411_not_a_bad_signature(
        wsgi, facebook_channel):
    body, signature = signed(fb_comment())
    status, _, content = wsgi("POST", "/webhooks/facebook/", body,
                              signature=signature, chunked=True)
    assert status == 411
    assert json.loads(content)["message"].startswith(
        "Webhooks skal sendes med Content-Length")
    assert WebhookDelivery.objects.count() == 0
    # An empty body that says so is still judged by its signature.
    assert wsgi("POST", "/webhooks/facebook/", b"", signature=signature)[0] == 403


def test_a_host_not_allowed_is_refused_on_the_short_chain(wsgi, facebook_channel):
    body, signature = signed(fb_comment())
    status = wsgi("POST", "/webhooks/facebook/", body, signature=signature,
                  host="kanal.example.org")[0]
    assert status == 400
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_database_connection_outlives_a_request(facebook_channel):
    """Requests keep their thread's connection (``CONN_MAX_AGE``), on SQLite
    too: opening the file and closing it (a checkpoint of the log) for
    every webhook cost more than storing it."""
    from kanal.wsgi import application

    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    body, signature = signed(fb_comment())
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/webhooks/facebook/",
        "QUERY_STRING": "", "SERVER_NAME": "testserver", "SERVER_PORT": "80",
        "HTTP_HOST": "testserver", "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_HUB_SIGNATURE_256": signature, "wsgi.errors": io.StringIO(),
    }
    opened, started = [], []
    for _ in range(2):
        response = application({**environ, "wsgi.input": io.BytesIO(body)},
                               lambda status, headers, *_: started.append(status))
        b"".join(response)
        response.close()  # request_finished: close_old_connections
        opened.append(connection.connection)
    assert started == ["200 OK", "200 OK"]
    assert opened[0] is not None and opened[0] is opened[1]
    assert WebhookDelivery.objects.count() == 2
