import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.store import Store
from sandbox.webhooks import WebhookSender, signature


@pytest.fixture
def receiver():
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = parse_qs(urlsplit(self.path).query)
            echo = query["hub.challenge"][0]
            if query.get("hub.verify_token") != ["right"]:
                echo = "nope"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(echo.encode())

        def do_POST(self):
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, self.headers["X-Hub-Signature-256"], raw))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(tmp_path):
    made = Store(tmp_path / "s.sqlite3")
    yield made
    made.close()


def test_signature_is_hmac_sha256_of_the_raw_body():
    body = '{"object":"page","x":"æøå"}'.encode()
    expected = hmac.new(b"hemmelig", body, hashlib.sha256).hexdigest()
    assert signature("hemmelig", body) == f"sha256={expected}"


def test_subscriber_must_echo_the_challenge(receiver, store):
    url, _got = receiver
    sender = WebhookSender(store=store, app_secret="s")
    assert sender.verify_subscriber(url, "right") is True
    assert sender.verify_subscriber(url, "wrong") is False
    assert sender.verify_subscriber("http://127.0.0.1:9/hook", "right") is False


def test_events_go_signed_to_subscribers_and_the_default_url(receiver, store):
    url, got = receiver
    store.add_subscription("instagram", f"{url}/sub", verified=True)
    store.add_subscription("instagram", f"{url}/unverified", verified=False)
    sender = WebhookSender(store=store, app_secret="s",
                           default_url=f"{url}/hooks/{{network}}/")
    assert sender.send("instagram", {"object": "instagram", "tekst": "Hej"}) == 2
    sender.drain()
    assert sorted(path for path, _, _ in got) == ["/hooks/instagram/", "/sub"]
    for _path, signed, raw in got:
        assert signed == signature("s", raw)
        assert json.loads(raw)["tekst"] == "Hej"
    assert [d.status for d in sender.recent] == [200, 200]
