"""The shared HTTP client: transport failures become Kanal's errors."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import respx

from kanal.channels.networks.errors import (
    Fenced,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.networks.http import (
    NetworkClient,
    epoch_to_datetime,
    iso_to_datetime,
    read_json,
    retry_after_seconds,
    server_date,
    set_write_deadline,
)


class Handler(BaseHTTPRequestHandler):
    received: list[str] = []
    #: A /slow request is held until the test lets it go (its client has
    #: given up by then).
    let_go = threading.Event()

    def _answer(self):
        length = int(self.headers.get("Content-Length", 0))
        if length:
            self.rfile.read(length)
        Handler.received.append(f"{self.command} {self.path}")
        if self.path.startswith("/slow"):
            Handler.let_go.wait(10)
        if self.path.startswith("/hang-up"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')
        except OSError:
            pass  # the client gave up (the timeout tests)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def client_for(base_url: str, timeout: float = 0.3) -> NetworkClient:
    return NetworkClient(network="facebook", base_url=base_url, timeout=timeout)


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def held():
    Handler.let_go.clear()
    yield
    Handler.let_go.set()


def test_post_that_times_out_after_sending_is_outcome_unknown(server, held):
    Handler.received.clear()
    with pytest.raises(OutcomeUnknown) as caught:
        client_for(server).request("POST", "/slow/feed", data={"message": "Hej"})
    assert caught.value.network == "facebook"
    assert caught.value.network_message == "ReadTimeout"
    assert "POST /slow/feed" in Handler.received


def test_get_that_times_out_is_transient(server, held):
    with pytest.raises(TransientError) as caught:
        client_for(server).request("GET", "/slow/feed")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert "svarede ikke i tide" in caught.value.message


def test_post_whose_connection_is_dropped_is_outcome_unknown(server):
    with pytest.raises(OutcomeUnknown):
        client_for(server, timeout=2).request("POST", "/hang-up", data={"a": "1"})


def test_get_whose_connection_is_dropped_is_transient(server):
    with pytest.raises(TransientError) as caught:
        client_for(server, timeout=2).request("GET", "/hang-up")
    assert not isinstance(caught.value, OutcomeUnknown)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_refused_connection_is_transient_for_every_method(method):
    client = client_for(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(TransientError) as caught:
        client.request(method, "/feed")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.network_message == "ConnectError"
    assert "forbindelse" in caught.value.message


@respx.mock
def test_connect_timeout_on_post_is_transient_because_nothing_was_sent():
    respx.post("https://graph.example/feed").mock(
        side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(TransientError) as caught:
        client_for("https://graph.example").request("POST", "/feed")
    assert not isinstance(caught.value, OutcomeUnknown)


@respx.mock
def test_translate_turns_an_error_response_into_its_error():
    respx.post("https://graph.example/feed").mock(
        return_value=httpx.Response(400, json={"error": {"code": 506}}))

    def translate(response):
        if response.status_code >= 400:
            return Rejected(network_code=response.json()["error"]["code"],
                            http_status=response.status_code)
        return None

    with pytest.raises(Rejected) as caught:
        client_for("https://graph.example").request("POST", "/feed",
                                                    translate=translate)
    assert caught.value.network == "facebook"
    assert caught.value.network_code == 506
    assert caught.value.http_status == 400


@respx.mock
def test_translate_returning_none_gives_the_response():
    respx.get("https://graph.example/me").mock(
        return_value=httpx.Response(200, json={"id": "1"}))
    response = client_for("https://graph.example").request(
        "GET", "/me", translate=lambda r: None)
    assert response.json() == {"id": "1"}


@respx.mock
def test_log_line_leaves_out_the_query_string(caplog):
    respx.get("https://graph.example/me").mock(return_value=httpx.Response(200))
    with caplog.at_level(logging.INFO, logger="kanal.networks"):
        client_for("https://graph.example").request(
            "GET", "/me?access_token=secret-token")
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert "facebook GET https://graph.example/me -> 200" in line
    assert "secret-token" not in line


def retry_after(value: str | None) -> float | None:
    headers = {"Retry-After": value} if value is not None else {}
    return retry_after_seconds(httpx.Response(429, headers=headers))


def test_retry_after_in_seconds():
    assert retry_after("120") == 120.0


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = retry_after(format_datetime(when, usegmt=True))
    assert 85 <= seconds <= 90


def test_retry_after_in_the_past_or_negative_is_zero():
    past = datetime.now(UTC) - timedelta(minutes=5)
    assert retry_after(format_datetime(past, usegmt=True)) == 0.0
    assert retry_after("-3") == 0.0


def test_retry_after_missing_or_garbled_is_none():
    assert retry_after(None) is None
    assert retry_after("soon") is None


def test_epoch_header_becomes_an_aware_datetime():
    assert epoch_to_datetime("1764320400") == datetime(2025, 11, 28, 9, 0,
                                                       tzinfo=UTC)
    assert epoch_to_datetime("") is None
    assert epoch_to_datetime("tomorrow") is None


def test_iso_time_in_any_network_spelling_becomes_an_aware_utc_datetime():
    expected = datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)
    for spelling in ("2026-11-28T10:00:05Z", "2026-11-28T10:00:05+0000",
                     "2026-11-28T11:00:05+01:00", "2026-11-28T10:00:05"):
        moment = iso_to_datetime(spelling)
        assert moment == expected
        assert moment.tzinfo is UTC


@pytest.mark.parametrize("value", [None, "", "i går", 20261128, {"a": 1},
                                   "0001-01-01T00:30:00+01:00"])
def test_iso_time_that_is_missing_or_no_time_is_none(value):
    assert iso_to_datetime(value) is None


# -- writes that must not be sent twice --------------------------------------


def mock_client(handler) -> NetworkClient:
    return NetworkClient(network="x", base_url="https://api.example",
                         transport=httpx.MockTransport(handler))


def five_hundred(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": "boom"},
                          headers={"Date": "Sun, 06 Dec 2026 21:00:00 GMT"})


def translate_5xx(response: httpx.Response):
    if response.status_code >= 500:
        return TransientError(http_status=response.status_code)
    if response.status_code == 429:
        return RateLimited(http_status=429, retry_after=3)
    if response.status_code >= 400:
        return TransientError(http_status=response.status_code)
    return None


def test_a_5xx_to_a_write_is_outcome_unknown_and_to_a_read_transient():
    client = mock_client(five_hundred)
    with pytest.raises(OutcomeUnknown) as caught:
        client.request("POST", "/posts", translate=translate_5xx, write=True)
    assert caught.value.http_status == 500
    assert "tjekker" in caught.value.message
    with pytest.raises(TransientError) as caught:
        client.request("GET", "/posts", translate=translate_5xx)
    assert not isinstance(caught.value, OutcomeUnknown)
    # Without a translate hook the client still refuses to call it transient.
    with pytest.raises(OutcomeUnknown):
        client.request("POST", "/posts", write=True)


def test_a_throttle_or_a_4xx_not_ready_to_a_write_stays_what_it_is():
    client = mock_client(lambda r: httpx.Response(
        429 if r.url.path == "/slow-down" else 400))
    with pytest.raises(RateLimited):
        client.request("POST", "/slow-down", translate=translate_5xx, write=True)
    with pytest.raises(TransientError) as caught:
        client.request("POST", "/not-ready", translate=translate_5xx, write=True)
    assert not isinstance(caught.value, OutcomeUnknown)


def test_an_unreadable_answer_to_a_write_is_unknown_and_to_a_read_transient():
    response = httpx.Response(200, content=b'{"data": {"id": "12')
    with pytest.raises(OutcomeUnknown):
        read_json(response, network="x", write=True)
    with pytest.raises(TransientError) as caught:
        read_json(response, network="x")
    assert not isinstance(caught.value, OutcomeUnknown)


def test_a_deeply_nested_answer_is_unreadable_not_a_crash():
    """json.loads raises RecursionError on deep nesting: an answer like that
    is as unreadable as broken JSON, never an error out of every adapter."""
    response = httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(TransientError):
        read_json(response, network="mastodon")
    with pytest.raises(OutcomeUnknown):
        read_json(response, network="mastodon", write=True)


def test_the_network_clock_is_read_from_the_date_header():
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=7)
    client = mock_client(lambda r: httpx.Response(
        200, json={}, headers={"Date": format_datetime(ahead, usegmt=True)}))
    assert client.network_offset() is None
    client.request("GET", "/")
    offset = client.network_offset()
    assert timedelta(minutes=6, seconds=58) < offset < timedelta(minutes=7, seconds=2)
    assert server_date(httpx.Response(200, headers={
        "Date": "Sun, 06 Dec 2026 21:00:00 GMT, Sun, 06 Dec 2026 21:00:01 GMT"})) \
        == datetime(2026, 12, 6, 21, 0, tzinfo=UTC)


def test_a_write_whose_deadline_passed_is_not_sent():
    sent = []
    client = mock_client(lambda r: sent.append(r) or httpx.Response(200, json={}))
    set_write_deadline(time.monotonic() - 0.001)
    client.request("GET", "/reads-ignore-it")
    with pytest.raises(Fenced):
        client.request("POST", "/posts", write=True)
    assert [r.url.path for r in sent] == ["/reads-ignore-it"]
    # Used once: the next write (with no deadline) goes out.
    client.request("POST", "/posts", write=True)
    set_write_deadline(time.monotonic() + 30)
    client.request("POST", "/posts", write=True)
    assert [r.url.path for r in sent] == ["/reads-ignore-it", "/posts", "/posts"]
