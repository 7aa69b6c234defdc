"""The fetcher: the private-address guard on every hop, pinned addresses,
redirect limits, size limits, timeouts and conditional requests."""

from __future__ import annotations

import threading

import pytest

from kanal.sources import fetch
from kanal.sources.fetch import FetchError


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.5.6.7",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "192.0.2.1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert fetch.address_refused(address)


@pytest.mark.parametrize("address", ["193.163.0.10", "8.8.8.8", "2a00:1450::1"])
def test_public_addresses_are_allowed(address):
    assert not fetch.address_refused(address)


def test_loopback_is_refused_unless_allowed(feed_server):
    feed_server.serve("/k.ics", b"BEGIN:VCALENDAR")
    with pytest.raises(FetchError) as e:
        fetch.fetch(feed_server.url("/k.ics"))
    assert "intern adresse" in str(e.value)
    assert feed_server.requests == []

    result = fetch.fetch(feed_server.url("/k.ics"), allow_private=True)
    assert result.body == b"BEGIN:VCALENDAR"


def test_a_name_is_resolved_once_per_hop_and_that_address_is_used(feed_server):
    """No DNS-rebinding gap: the address that was checked is the one connected
    to, while the server still sees the feed's own host name."""
    feed_server.serve("/k.ics", b"ok")
    calls = []

    def resolver(host, port):
        calls.append(host)
        # A second answer would point elsewhere; it must never be asked for.
        return ["127.0.0.1"] if len(calls) == 1 else ["10.9.9.9"]

    result = fetch.fetch(
        feed_server.url("/k.ics", host="kalender.test"),
        allow_private=True,
        resolver=resolver,
    )
    assert result.body == b"ok"
    assert calls == ["kalender.test"]
    assert feed_server.requests[0][1]["Host"] == f"kalender.test:{feed_server.port}"


def test_a_redirect_to_a_private_address_is_refused(feed_server, monkeypatch):
    """The first hop is treated as public; its redirect points at a name that
    resolves into a private network and is refused before any connection."""
    monkeypatch.setattr(fetch, "address_refused", lambda a: a != "127.0.0.1")
    feed_server.routes["/presse.xml"] = lambda h: (
        302,
        {"Location": "http://intranet.test/hemmeligt.xml"},
        b"",
    )
    addresses = {"www.kk.test": ["127.0.0.1"], "intranet.test": ["10.0.0.5"]}

    with pytest.raises(FetchError) as e:
        fetch.fetch(
            feed_server.url("/presse.xml", host="www.kk.test"),
            resolver=lambda host, port: addresses[host],
        )
    assert "intranet.test peger på en intern adresse (10.0.0.5)" in str(e.value)
    assert [path for path, _headers in feed_server.requests] == ["/presse.xml"]


def test_redirects_in_a_circle_stop_after_three(feed_server):
    feed_server.routes["/a"] = lambda h: (302, {"Location": "/b"}, b"")
    feed_server.routes["/b"] = lambda h: (301, {"Location": "/a"}, b"")
    with pytest.raises(FetchError) as e:
        fetch.fetch(feed_server.url("/a"), allow_private=True)
    assert "mere end 3 gange" in str(e.value)
    assert len(feed_server.requests) == 4


def test_three_redirects_are_followed(feed_server):
    for a, b in (("/1", "/2"), ("/2", "/3"), ("/3", "/4")):
        feed_server.routes[a] = lambda h, b=b: (307, {"Location": b}, b"")
    feed_server.serve("/4", b"fundet")
    result = fetch.fetch(feed_server.url("/1"), allow_private=True)
    assert result.body == b"fundet"
    assert result.final_url.endswith("/4")


def test_a_declared_huge_feed_is_refused(feed_server, settings):
    settings.KANAL_SOURCES_MAX_BYTES = 1024 * 1024
    feed_server.routes["/big"] = lambda h: (
        200,
        {"Content-Length": str(50 * 1024 * 1024)},
        b"",
    )
    with pytest.raises(FetchError) as e:
        fetch.fetch(feed_server.url("/big"), allow_private=True)
    assert "større end 1 MB" in str(e.value)


def test_an_undeclared_huge_feed_is_cut_off_while_streaming(feed_server, settings):
    settings.KANAL_SOURCES_MAX_BYTES = 1024 * 1024

    def endless(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/calendar")
        handler.end_headers()
        chunk = b"X" * 65536
        try:
            for _ in range(200):  # 12.5 MB if nobody stops reading
                handler.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return None

    feed_server.routes["/stream"] = endless
    with pytest.raises(FetchError) as e:
        fetch.fetch(feed_server.url("/stream"), allow_private=True)
    assert "større end 1 MB" in str(e.value)


def test_a_server_that_never_answers_times_out(feed_server, settings):
    settings.KANAL_SOURCES_TIMEOUT_SECONDS = 0.5
    # The server holds its answer until the fetch has given up, so the
    # fetch can only end by its own timeout (however slow the machine).
    gave_up = threading.Event()

    def held(handler):
        gave_up.wait(30)
        return 200, {}, b"late"

    feed_server.routes["/slow"] = held
    try:
        with pytest.raises(FetchError) as e:
            fetch.fetch(feed_server.url("/slow"), allow_private=True)
    finally:
        gave_up.set()
    assert "svarede ikke færdigt" in str(e.value)


def test_a_server_that_dribbles_its_headers_is_given_up_at_the_deadline(settings):
    """A byte now and then keeps every single read alive: the overall
    deadline must still end the fetch (found by the outside tester: 21.7 s
    for a 1 s timeout, and days for a patient server)."""
    import socket
    import time

    settings.KANAL_SOURCES_TIMEOUT_SECONDS = 1
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop, finished = threading.Event(), threading.Event()

    def dribble():
        conn, _ = server.accept()
        conn.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 400 + b"\r\n"
        try:
            for byte in head:  # 80 s if nobody gives up
                if stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
            finished.set()
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=dribble, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/feed.xml"
    try:
        with pytest.raises(FetchError) as e:
            fetch.fetch(url, allow_private=True)
        assert not finished.is_set()
    finally:
        stop.set()
        server.close()
    assert "svarede ikke færdigt" in str(e.value)


def test_conditional_headers_are_sent_and_304_means_unchanged(feed_server):
    feed_server.routes["/k"] = lambda h: (304, {}, None)
    result = fetch.fetch(
        feed_server.url("/k"),
        etag='"abc"',
        last_modified="Mon, 07 Dec 2026 08:00:00 GMT",
        allow_private=True,
    )
    assert result.not_modified
    headers = feed_server.requests[0][1]
    assert headers["If-None-Match"] == '"abc"'
    assert headers["If-Modified-Since"] == "Mon, 07 Dec 2026 08:00:00 GMT"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/feed", "http- eller https"),
        ("file:///etc/passwd", "http- eller https"),
        ("http://bruger:kode@example.org/", "brugernavn"),
    ],
)
def test_odd_addresses_are_refused(url, words):
    with pytest.raises(FetchError) as e:
        fetch.fetch(url, allow_private=True)
    assert words in str(e.value)


def test_an_unknown_name_says_so():
    def resolver(host, port):
        raise OSError("no such host")

    with pytest.raises(FetchError) as e:
        fetch.fetch("https://findes-ikke.test/", resolver=resolver)
    assert "findes ikke (DNS)" in str(e.value)


def test_a_compressed_bomb_is_cut_off_by_its_unpacked_size(feed_server, settings):
    import gzip

    settings.KANAL_SOURCES_MAX_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    assert len(bomb) < 100_000
    feed_server.serve("/bomb.ics", bomb, **{"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as e:
        fetch.fetch(feed_server.url("/bomb.ics"), allow_private=True)
    assert "større end 1 MB" in str(e.value)
