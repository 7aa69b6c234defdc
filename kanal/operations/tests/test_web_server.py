"""The web tier (``kanal-web``, kanal/web.py): its settings, refused in Danish
before anything starts, and a reload that replaces the processes while
requests keep being answered."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from kanal import web

from .environment import free_port, kanal_web

BASE = Path(settings.BASE_DIR)


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("KANAL_WEB_BIND", "KANAL_WEB_WORKERS", "KANAL_WEB_THREADS",
                 "KANAL_WEB_LIFETIME", "KANAL_WEB_BACKLOG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_suit_one_machine(clean_environment):
    config = web.settings_from_environment()
    assert config == {
        "address": "127.0.0.1", "port": 8000, "workers": os.cpu_count(),
        "blocking_threads": 8, "workers_lifetime": 86400, "backlog": 1024,
    }


def test_settings_are_read_from_the_environment(clean_environment):
    clean_environment.setenv("KANAL_WEB_BIND", "[::1]:8443")
    clean_environment.setenv("KANAL_WEB_WORKERS", "3")
    clean_environment.setenv("KANAL_WEB_THREADS", " 16 ")
    clean_environment.setenv("KANAL_WEB_LIFETIME", "0")
    config = web.settings_from_environment()
    assert (config["address"], config["port"]) == ("::1", 8443)
    assert (config["workers"], config["blocking_threads"]) == (3, 16)
    assert config["workers_lifetime"] is None  # 0: never renewed


@pytest.mark.parametrize(("name", "value", "message"), [
    ("KANAL_WEB_BIND", "8000", "skal være vært:port"),
    ("KANAL_WEB_BIND", "127.0.0.1:99999", "skal være vært:port"),
    ("KANAL_WEB_BIND", "127.0.0.1:８０", "skal være vært:port"),
    ("KANAL_WEB_WORKERS", "0", "skal være mindst 1"),
    ("KANAL_WEB_WORKERS", "to", "skal være et helt tal"),
    ("KANAL_WEB_THREADS", "-4", "skal være et helt tal"),
    ("KANAL_WEB_LIFETIME", "30", "mindst 60 sekunder"),
    ("KANAL_WEB_BACKLOG", "10", "skal være mindst 128"),
])
def test_a_bad_setting_is_refused_in_danish(clean_environment, name, value, message):
    clean_environment.setenv(name, value)
    with pytest.raises(web.BadSetting, match=message):
        web.settings_from_environment()


def test_the_server_does_not_start_with_a_bad_setting():
    result = subprocess.run(
        [sys.executable, "-m", "kanal.web"], cwd=BASE, capture_output=True,
        text=True, timeout=60, env={**os.environ, "KANAL_WEB_WORKERS": "mange"},
    )
    assert result.returncode == 1
    assert "kanal-web: KANAL_WEB_WORKERS skal være et helt tal" in result.stderr


def test_each_start_empties_the_metrics_directory(tmp_path, monkeypatch):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "histogram_4711.db").write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    assert web.fresh_metrics_directory() == str(directory)
    assert directory.is_dir() and not any(directory.iterdir())


def _worker_pids(server: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return {int(pid) for pid in children.read_text().split()}


def test_kanal_web_warns_in_danish_when_queued_connections_would_be_reset(
        tmp_path, monkeypatch):
    setting = tmp_path / "tcp_migrate_req"
    monkeypatch.setattr(web, "MIGRATE_REQUESTS", setting)
    monkeypatch.setattr(web.sys, "platform", "linux")
    setting.write_text("0\n")
    warning = web.kernel_warning({"workers": 2})
    assert "net.ipv4.tcp_migrate_req er ikke slået til" in warning
    assert "deploy/sysctl/60-kanal.conf" in warning
    setting.unlink()  # a kernel before 5.14 has no such setting
    assert web.kernel_warning({"workers": 2}) == warning
    setting.write_text("1\n")
    assert web.kernel_warning({"workers": 2}) is None
    setting.write_text("0\n")
    assert web.kernel_warning({"workers": 1}) is None  # nothing is replaced beside it


def test_the_sysctl_file_turns_on_what_kanal_web_asks_for():
    lines = (BASE / "deploy" / "sysctl" / "60-kanal.conf").read_text().splitlines()
    assert "net.ipv4.tcp_migrate_req = 1" in lines


def test_nginx_opens_a_new_connection_for_each_request():
    """A kept-alive connection to a process being replaced is closed under
    the next request; nginx does not retry a POST, so it would answer 502."""
    conf = (BASE / "deploy" / "nginx" / "kanal.conf").read_text()
    directives = [line.split("#")[0].strip() for line in conf.splitlines()]
    assert not [d for d in directives if d.startswith("keepalive")]
    assert "proxy_pass http://kanal_web;" in directives


@pytest.fixture
def queued_connections_migrate():
    """``net.ipv4.tcp_migrate_req`` on, as deploy/sysctl/60-kanal.conf sets
    it in production, for this test only (this network namespace's
    setting)."""
    setting = web.MIGRATE_REQUESTS
    try:
        before = setting.read_text()
        if before.strip() != "1":
            setting.write_text("1")
    except OSError as e:
        pytest.skip(f"net.ipv4.tcp_migrate_req cannot be turned on here: {e}")
    yield
    if before.strip() != "1":
        setting.write_text(before)


@pytest.mark.serial
@pytest.mark.usefixtures("queued_connections_migrate")
def test_a_reload_replaces_the_processes_and_refuses_no_request(tmp_path):
    """``systemctl reload kanal-web`` (SIGHUP) during an upgrade: every
    process is replaced while clients ask all the while, each request on a
    new connection as nginx sends them (deploy/nginx/kanal.conf). No
    connection is refused or reset, no request gets an error status.

    One race remains, in granian's HTTP library (hyper): a process told to
    stop closes a connection it has accepted but not yet read a request on.
    A request sent in those microseconds ends without an answer (the
    connection closed or reset), having done nothing; the client may send it
    again (README, "Why granian"). Such
    requests are rare, and each is answered when sent again. SIGTERM then
    stops the server cleanly."""
    answers: list[int | str] = []
    cut_off: list[int | str] = []
    stop = threading.Event()

    with kanal_web(tmp_path, BASE, KANAL_WEB_WORKERS="2") as (server, url):
        def ask_all_the_while():
            with httpx.Client(base_url=url, timeout=30,
                              limits=httpx.Limits(max_keepalive_connections=0)) as http:
                while not stop.is_set():
                    try:
                        answers.append(http.get("/healthz").status_code)
                    except (httpx.RemoteProtocolError, httpx.ReadError):
                        try:
                            cut_off.append(http.get("/healthz").status_code)
                        except httpx.HTTPError as e:
                            cut_off.append(type(e).__name__)
                    except httpx.HTTPError as e:
                        answers.append(type(e).__name__)

        askers = [threading.Thread(target=ask_all_the_while) for _ in range(4)]
        try:
            before = _worker_pids(server)
            assert len(before) == 2
            for asker in askers:
                asker.start()
            time.sleep(0.5)
            server.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 60
            while not (_worker_pids(server).isdisjoint(before)
                       and len(_worker_pids(server)) == 2):
                assert time.monotonic() < deadline, "the processes were not replaced"
                time.sleep(0.2)
            time.sleep(1)  # the new processes answer too
            stop.set()
            for asker in askers:
                asker.join(timeout=30)
            assert answers and set(answers) == {200}, {a for a in answers if a != 200}
            assert answers.count(200) > 100
            assert set(cut_off) <= {200}, cut_off
            assert len(cut_off) * 100 < len(answers), (len(cut_off), len(answers))
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0
        finally:
            stop.set()


SERVE_SLOW_APPLICATION = """
import sys
from granian.constants import Interfaces
from kanal import web
server = web.KanalServer if sys.argv[2] == "kanal" else web.Server
server("kanal.operations.tests.slow_wsgi:application", interface=Interfaces.WSGI,
       address="127.0.0.1", port=int(sys.argv[1]), workers=1,
       respawn_failed_workers=True, workers_kill_timeout=30).serve()
"""


@contextlib.contextmanager
def serving_slow_application(tmp_path, server_class="kanal", **env):
    """One process of granian (``KanalServer`` or granian's own ``Server``)
    serving slow_wsgi; yields (process, client, log path)."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVE_SLOW_APPLICATION, str(port), server_class],
            cwd=BASE, stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, **env})
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                        limits=httpx.Limits(max_keepalive_connections=0))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                http.get("/")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        yield server, http, log_path
    finally:
        http.close()
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=60)


def _serving_process(http) -> str:
    return http.get("/").headers["X-Process"]


@pytest.mark.serial
@pytest.mark.parametrize(("server_class", "refused"),
                         [("kanal", False), ("granian", True)])
def test_a_process_is_replaced_only_once_its_successor_listens(
        tmp_path, server_class, refused):
    """Loading the application takes 5 s, longer than granian's fixed 3.5 s
    pause between starting a successor and stopping the process it replaces:
    granian's own server is without a listener for a moment and refuses
    connections (the comparison proves this test can see it); kanal-web
    waits until the successor listens and refuses none."""
    failures: list[str] = []
    stop = threading.Event()
    with serving_slow_application(tmp_path, server_class,
                                  KANAL_TEST_START_SECONDS="5") as (server, http, _log):
        before = _serving_process(http)

        def ask_all_the_while():
            while not stop.is_set():
                try:
                    http.get("/")
                except httpx.HTTPError as e:
                    failures.append(type(e).__name__)
                time.sleep(0.01)

        asking = threading.Thread(target=ask_all_the_while)
        asking.start()
        try:
            server.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if _serving_process(http) != before:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the process was not replaced"
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            stop.set()
            asking.join(timeout=30)
        assert ("ConnectError" in failures) is refused, failures


@pytest.mark.serial
def test_an_upgrade_that_cannot_start_leaves_the_old_process_serving(tmp_path):
    broken = tmp_path / "broken"
    with serving_slow_application(tmp_path, KANAL_TEST_BROKEN=str(broken)) as (
            server, http, log_path):
        before = _serving_process(http)
        broken.touch()
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while "lyttede ikke" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            assert _serving_process(http) == before
            time.sleep(0.2)
        for _ in range(20):
            assert _serving_process(http) == before
        assert "den gamle proces" in log_path.read_text()

        broken.unlink()  # the fault mended: the next attempt takes over
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while _serving_process(http) == before:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, log_path.read_text()


@pytest.mark.serial
def test_a_stop_during_a_reload_does_not_wait_for_the_successor(tmp_path):
    """SIGTERM while a reload waits for a successor that hangs without
    listening: kanal-web kept waiting out START_SECONDS (120 s, longer
    than systemd waits before it kills) and then went on replacing; now it
    stops at once, the old process finishing its requests."""
    hang = tmp_path / "hang"
    with serving_slow_application(tmp_path, KANAL_TEST_HANG=str(hang)) as (
            server, http, log_path):
        before = _serving_process(http)
        hang.touch()
        server.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert _serving_process(http) == before
        asked = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0, log_path.read_text()
        assert time.monotonic() - asked < 15
        assert "lyttede ikke" not in log_path.read_text()


@pytest.mark.serial
def test_a_process_that_dies_while_its_successor_loads_does_not_stop_the_server(
        tmp_path):
    """The process being replaced crashes while its successor loads: once
    the successor listened, granian read the old one's end as a crash of
    the new one just started ("Worker crash loop detected") and the whole
    server exited; now the successor serves on."""
    with serving_slow_application(tmp_path, KANAL_TEST_START_SECONDS="3") as (
            server, http, log_path):
        before = _serving_process(http)
        server.send_signal(signal.SIGHUP)
        time.sleep(1)
        os.kill(int(before), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                if _serving_process(http) != before:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        time.sleep(6)  # granian's main loop has read the crash by now
        assert server.poll() is None, log_path.read_text()
        successor = _serving_process(http)
        assert successor != before
        # A crash of its own afterwards is still granian's to answer.
        os.kill(int(successor), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                if _serving_process(http) not in (before, successor):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)


def test_listens_reads_this_machines_sockets():
    with socket.socket() as listening, socket.socket() as bound:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert web.listens(os.getpid(), port)
        bound.bind(("127.0.0.1", 0))  # bound, not listening
        assert not web.listens(os.getpid(), bound.getsockname()[1])
        assert not web.listens(os.getpid(), free_port())
