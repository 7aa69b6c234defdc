"""Sources fixtures: a desk with channels, and a feed server on loopback."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kanal.organisations.roles import Role


class FeedServer:
    """A tiny HTTP server on 127.0.0.1. ``routes[path]`` is a callable
    ``(handler) -> (status, headers, body)`` (or None when it wrote the
    response itself); ``requests`` records each
    request's path and headers."""

    def __init__(self) -> None:
        self.routes: dict = {}
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    status, headers, body = 404, {}, b"not found"
                else:
                    answer = route(self)
                    if answer is None:  # the route wrote its own response
                        return
                    status, headers, body = answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if body is not None and "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body is not None:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path, body: bytes, *, content_type="text/calendar", **headers):
        self.routes[path] = lambda h: (
            200,
            {"Content-Type": content_type, **headers},
            body,
        )

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def desk(organisation, member):
    """KFF with Facebook, Instagram and X channels; an admin, an editor and a
    contributor."""
    from kanal.channels.models import Network
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import AdministrationFactory

    kff = AdministrationFactory(
        organisation=organisation, code="KFF", name="Kultur- og Fritid"
    )
    channels = {
        network: ChannelFactory(
            organisation=organisation,
            owner_administration=kff,
            network=network,
            display_name=f"Københavns Kommune ({network})",
        )
        for network in (Network.FACEBOOK, Network.INSTAGRAM, Network.X)
    }

    class Desk:
        pass

    d = Desk()
    d.kff = kff
    d.channels = channels
    d.admin = member(Role.ADMIN, administration=kff)
    d.editor = member(Role.EDITOR, administration=kff)
    d.contributor = member(Role.CONTRIBUTOR, administration=kff)
    d.analyst = member(Role.ANALYST, administration=kff)
    return d


@pytest.fixture
def make_source(desk):
    from kanal.sources.actions import create_source

    def make(url, *, kind="ical", channels=None, **kwargs):
        return create_source(
            actor=desk.admin,
            name=kwargs.pop("name", "Hovedbiblioteket"),
            kind=kind,
            url=url,
            owner_administration=desk.kff,
            channels=list(desk.channels.values()) if channels is None else channels,
            allow_private=kwargs.pop("allow_private", True),
            **kwargs,
        )

    return make


@pytest.fixture
def mastodon_channel(sandbox, desk, organisation):
    """A Mastodon channel of the desk, connected to the sandbox's instance
    (which seeds the partner accounts bibliotek@kk.social and
    politi@kk.social)."""
    from kanal.channels import vault
    from kanal.channels.networks.tests.test_contract_mastodon import (
        TestMastodonContract,
    )
    from kanal.channels.tests.factories import ChannelFactory

    contract = TestMastodonContract()
    account = sandbox.provision("mastodon", **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    return ChannelFactory(
        organisation=organisation,
        owner_administration=desk.kff,
        network="mastodon",
        display_name="Københavns Kommune (mastodon)",
        base_url=conn.base_url,
        remote_id=conn.account_id,
        handle=conn.handle,
        api_settings=dict(conn.settings),
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
    )


@pytest.fixture
def partner_source(desk, mastodon_channel):
    """The libraries' Mastodon account followed; suggestions on Mastodon
    (a boost) and Facebook (a quote with credit)."""
    from kanal.sources.actions import create_source

    def make(**kwargs):
        return create_source(
            actor=desk.admin,
            name=kwargs.pop("name", "Bibliotekernes opslag"),
            kind="partner",
            url="",
            owner_administration=desk.kff,
            channels=kwargs.pop(
                "channels", [mastodon_channel, desk.channels["facebook"]]
            ),
            partner_channel=mastodon_channel,
            partner_account=kwargs.pop("partner_account", "bibliotek@kk.social"),
            **kwargs,
        )

    return make
