"""Fixtures that run the sandbox on loopback for the adapters' tests.

``sandbox_server`` (session) starts the whole sandbox app with uvicorn in a
background thread, on a free loopback port with a temporary SQLite file.
``sandbox`` (function) is the same server, with faults, latency and the clock
put back after each test.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest


@dataclass(frozen=True)
class SandboxAccount:
    network: str
    account_id: str
    handle: str
    display_name: str
    followers: int
    tokens: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class SandboxServer:
    """A running sandbox and helpers for its ``/_sandbox/`` control API."""

    def __init__(self, url: str, app) -> None:
        self.url = url
        self.app = app
        self.ctx = app.state.ctx
        self.http = httpx.Client(base_url=url, timeout=10)

    def base_url(self, network: str, suffix: str = "") -> str:
        return f"{self.url}/{network}{suffix}"

    def control(self, method: str, path: str, json=None, params=None):
        response = self.http.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise AssertionError(
                f"{method} {path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    def provision(self, network: str, **fields) -> SandboxAccount:
        body = self.control("POST", "/_sandbox/accounts",
                            {"network": network, **fields})
        account = body["account"]
        return SandboxAccount(
            network=network, account_id=account["account_id"],
            handle=account["handle"], display_name=account["display_name"],
            followers=account["followers"], tokens=body["tokens"],
            extra=account["extra"],
        )

    def fault(self, network: str, kind: str, **opts) -> dict:
        return self.control("POST", "/_sandbox/faults",
                            {"network": network, "kind": kind, **opts})

    def clear_faults(self, network: str | None = None) -> None:
        self.control("DELETE", "/_sandbox/faults",
                     params={"network": network} if network else None)

    def latency(self, network: str, ms: int) -> None:
        self.control("POST", "/_sandbox/latency", {"network": network, "ms": ms})

    def published(self, network: str, account: str | None = None) -> list[dict]:
        params = {"network": network}
        if account:
            params["account"] = account
        return self.control("GET", "/_sandbox/published", params=params)

    def items(self, network: str, account: str | None = None, *,
              kind: str | None = None, include_deleted: bool = False) -> list[dict]:
        params = {"network": network}
        if account:
            params["account"] = account
        if kind:
            params["kind"] = kind
        if include_deleted:
            params["include_deleted"] = "1"
        return self.control("GET", "/_sandbox/items", params=params)

    def item(self, network: str, item_id: str) -> dict | None:
        response = self.http.get(f"/_sandbox/items/{network}/{item_id}")
        return response.json() if response.status_code == 200 else None

    def citizen(self, network: str, text: str, *, parent_id: str = "",
                account: str = "", kind: str = "", author_name: str = "",
                data: dict | None = None) -> dict:
        """A comment/reply (``parent_id``), mention or post by a citizen."""
        return self.control("POST", "/_sandbox/citizens/item", {
            "network": network, "text": text, "parent_id": parent_id,
            "account": account, "kind": kind, "author_name": author_name,
            "data": data,
        })

    def advance_clock(self, seconds: float) -> dict:
        return self.control("POST", "/_sandbox/clock", {"advance_seconds": seconds})

    def network_clock(self, network: str, offset_seconds: float) -> dict:
        """Put one network's clock ``offset_seconds`` off everyone else's."""
        return self.control("POST", "/_sandbox/clock",
                            {"network": network, "offset_seconds": offset_seconds})

    def expire_token(self, network: str, token: str) -> None:
        self.control("POST", "/_sandbox/tokens/expire",
                     {"network": network, "token": token})

    def tick(self, **options) -> dict:
        return self.control("POST", "/_sandbox/citizens/tick", options)

    def reset(self) -> None:
        self.control("POST", "/_sandbox/reset")

    def restore(self) -> None:
        """Put faults, latency and the clock back (after each test)."""
        self.ctx.faults.reset()
        self.ctx.clock.reset()
        self.ctx.webhooks.default_url = ""



def serve_in_thread(server, sock) -> threading.Thread:
    """Run the uvicorn ``server`` on ``sock`` in a thread; return once it
    listens (told by its startup, not found by polling)."""
    listening = threading.Event()
    startup = server.startup

    async def announce(sockets=None):
        try:
            await startup(sockets=sockets)
        finally:
            listening.set()

    server.startup = announce
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="sandbox-uvicorn", daemon=True)
    thread.start()
    if not listening.wait(10) or not server.started:
        raise RuntimeError("the sandbox did not start")
    return thread

@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    import uvicorn

    from sandbox.app import create_app
    from sandbox.core import SandboxConfig

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"
    app = create_app(SandboxConfig(base_url=url, db_path=str(db), seed=1234,
                                   webhook_url="", app_secret="test-app-secret"))
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1,
        date_header=False,
    ))
    thread = serve_in_thread(server, sock)
    running = SandboxServer(url, app)
    yield running
    server.should_exit = True
    thread.join(timeout=5)
    running.http.close()
    sock.close()


@pytest.fixture
def sandbox(sandbox_server):
    yield sandbox_server
    sandbox_server.restore()


class WebhookReceiver:
    """A loopback HTTP server that answers Meta's challenge and keeps POSTs."""

    def __init__(self, verify_token: str = "kanal-verify") -> None:
        self.verify_token = verify_token
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                ok = (query.get("hub.mode") == ["subscribe"]
                      and query.get("hub.verify_token") == [receiver.verify_token])
                body = query.get("hub.challenge", [""])[0].encode() if ok else b"no"
                self.send_response(200 if ok else 403)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "raw": raw,
                    "json": json.loads(raw or b"null"),
                })
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
