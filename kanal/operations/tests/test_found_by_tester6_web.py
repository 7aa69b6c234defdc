"""Faults in the web tier (kanal-web, kanal/wsgi.py, the request metrics)
found by attacking it as a hostile client and as an operator's mistake."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from kanal import web
from kanal.operations import metrics
from kanal.wsgi import BodyGate

from .environment import kanal_web

BASE = Path(settings.BASE_DIR)


@pytest.fixture
def one_process(tmp_path):
    """kanal-web with one process of four threads."""
    with kanal_web(tmp_path, BASE, KANAL_WEB_WORKERS="1",
                   KANAL_WEB_THREADS="4") as (_server, url):
        yield url


@pytest.mark.serial
def test_slow_request_bodies_do_not_take_every_thread(one_process):
    """T6-1: anyone may POST to /webhooks/ (no login). A client that declares
    a body and sends it a byte at a time held one of the process's threads
    for as long as it liked; a dozen such clients stopped the whole site
    (even /healthz waited for ever). Now bodies wait for at most part of
    the threads, the rest answer pages and health checks, and a body that
    finds no thread free is told to come back (503), not queued."""
    port = int(one_process.rsplit(":")[-1])
    held = []
    try:
        for _ in range(12):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST /webhooks/facebook/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n{")
            held.append(sock)
        time.sleep(1)
        http = httpx.Client(base_url=one_process, timeout=5)
        for _ in range(3):
            assert http.get("/healthz").status_code == 200
        refused = http.post("/webhooks/facebook/", content=b"{}",
                            headers={"Content-Type": "application/json"})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"]
    finally:
        for sock in held:
            sock.close()


@pytest.mark.django_db
def test_a_method_a_client_invents_is_not_a_metrics_label(client):
    """T6-2: the request histogram was labelled with the request's method as
    sent; granian passes any token, so each invented method added a dozen
    series to the files every process shares (1,500 requests: a 2 MB
    scrape taking 0.7 s, 4.5 MB of files; unbounded)."""
    for method in ("XFOO1", "XFOO2", "get"):
        client.generic(method, "/healthz")
    client.get("/healthz")
    text = metrics.exposition().decode()
    assert "XFOO" not in text and 'method="get"' not in text
    assert 'method="other",status="4xx",view="healthz"' in text
    assert 'method="GET",status="2xx",view="healthz"' in text


def test_a_start_removes_only_the_metrics_files(tmp_path, monkeypatch):
    """T6-3: each start emptied PROMETHEUS_MULTIPROC_DIR with rmtree; an
    operator who set it to a directory holding anything else (the var
    directory, the media) lost all of it at the next start or restart."""
    directory = tmp_path / "var"
    (directory / "media").mkdir(parents=True)
    (directory / "media" / "video.mp4").write_bytes(b"film")
    (directory / "kanal.sqlite3").write_bytes(b"db")
    (directory / "notes.db").write_bytes(b"own")
    for name in ("histogram_4711.db", "counter_12.db", "gauge_livesum_9.db"):
        (directory / name).write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    assert web.fresh_metrics_directory() == str(directory)
    assert sorted(p.name for p in directory.iterdir()) == [
        "kanal.sqlite3", "media", "notes.db"]
    assert (directory / "media" / "video.mp4").read_bytes() == b"film"


def test_the_default_metrics_directory_is_not_a_link_someone_else_made(
        tmp_path, monkeypatch):
    """T6-3: without PROMETHEUS_MULTIPROC_DIR the files went to a fixed name
    in /tmp; another user could create it first (a link to their own
    directory) and read or fill every process's measurements."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    elsewhere = tmp_path / "theirs"
    elsewhere.mkdir()
    (tmp_path / f"kanal-prometheus-{os.getuid()}").symlink_to(elsewhere)
    with pytest.raises(web.BadSetting, match="PROMETHEUS_MULTIPROC_DIR"):
        web.fresh_metrics_directory()


@pytest.mark.django_db
def test_metrics_answer_this_machine_on_a_dual_stack_server(client):
    """T6-4: under ``KANAL_WEB_BIND=[::]:8000`` Prometheus on this machine
    arrives as ``::ffff:127.0.0.1`` and was refused (403); another machine's
    mapped address still is."""
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.0.0.1").status_code == 403


def test_a_place_is_held_only_while_the_body_arrives():
    """T6-1: the view's own work after reading the body (a network call, a
    search) holds no place, so a second body is taken meanwhile; a view
    that never reads its body gives the place back when it answers."""
    gate = BodyGate(1)
    answers = []

    def inner(environ, start_response):
        start_response("200 OK", [])
        return [b"inner"]

    def reads_then_works(environ, start_response):
        assert environ["wsgi.input"].read(2) == b"{}"
        other = {"CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")}
        answers.append(gate(inner, other, lambda status, _h: answers.append(status)))
        start_response("200 OK", [])
        return [b"outer"]

    def never_reads(environ, start_response):
        start_response("415 Unsupported Media Type", [])
        return [b""]

    first = {"CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")}
    assert gate(reads_then_works, first, lambda *a: None) == [b"outer"]
    assert answers == ["200 OK", [b"inner"]]
    for _ in range(2):
        unread = {"CONTENT_LENGTH": "9", "wsgi.input": io.BytesIO(b"{}")}
        assert gate(never_reads, unread, lambda *a: None) == [b""]
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"{}")}
    assert gate(reads_then_works, chunked, lambda *a: None) == [b"outer"]


@pytest.mark.parametrize(("bind", "message"), [
    ("kanal.example.dk:8000", "KANAL_WEB_BIND skal være en IP-adresse"),
    ("192.0.2.77:8000", "KANAL_WEB_BIND: kan ikke lytte på 192.0.2.77"),
])
def test_an_address_the_server_cannot_take_is_refused_in_danish(bind, message):
    """T6-7: a host name in KANAL_WEB_BIND ended in a Python traceback, an
    address not on this machine in a Rust panic's backtrace."""
    result = subprocess.run(
        [sys.executable, "-m", "kanal.web"], cwd=BASE, capture_output=True,
        text=True, timeout=60, env={**os.environ, "KANAL_WEB_BIND": bind},
    )
    assert result.returncode == 1
    assert f"kanal-web: {message}" in result.stderr
    assert "Traceback" not in result.stderr and "panicked" not in result.stderr


def test_an_address_already_taken_is_refused_in_danish():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(web.BadSetting, match=r"kan ikke lytte på 127\.0\.0\.1"):
            web.can_listen("127.0.0.1", port)


def test_a_body_waits_a_moment_for_a_place_before_it_is_refused():
    """A burst of webhooks (more bodies at once than places for a few
    milliseconds) is taken, not refused: a body waits up to a second for a
    place; only one that finds none by then gets the 503."""
    import threading

    gate = BodyGate(1)
    held = gate.places
    assert held.acquire(blocking=False)  # a slow client holds the one place
    threading.Timer(0.2, held.release).start()

    def reads(environ, start_response):
        environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"taken"]

    statuses = []
    request = {"CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")}
    assert gate(reads, request, lambda status, _h: statuses.append(status)) == [
        b"taken"]
    assert held.acquire(blocking=False)  # held again, for longer than the wait
    request = {"CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")}
    gate(reads, request, lambda status, _h: statuses.append(status))
    assert statuses == ["200 OK", "503 Service Unavailable"]
