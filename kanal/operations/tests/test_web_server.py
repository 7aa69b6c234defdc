"""The web tier (``kanal-web``, kanal/web.py): its settings, refused in Danish
before anything starts, and a reload that replaces the processes while
requests keep being answered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from kanal import web

from .environment import kanal_web

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


@pytest.mark.serial
def test_a_reload_replaces_the_processes_and_refuses_no_request(tmp_path):
    """``systemctl reload kanal-web`` (SIGHUP) during an upgrade: every
    process is replaced, and a client asking all the while gets only 200s.
    SIGTERM then stops the server cleanly."""
    answers: list[int | str] = []
    stop = threading.Event()

    with kanal_web(tmp_path, BASE, KANAL_WEB_WORKERS="2") as (server, url):
        http = httpx.Client(base_url=url, timeout=30)

        def ask_all_the_while():
            while not stop.is_set():
                try:
                    answers.append(http.get("/healthz").status_code)
                except httpx.HTTPError as e:
                    answers.append(type(e).__name__)

        try:
            before = _worker_pids(server)
            assert len(before) == 2
            asking = threading.Thread(target=ask_all_the_while)
            asking.start()
            time.sleep(0.5)
            server.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 60
            while not (_worker_pids(server).isdisjoint(before)
                       and len(_worker_pids(server)) == 2):
                assert time.monotonic() < deadline, "the processes were not replaced"
                time.sleep(0.2)
            time.sleep(1)  # the new processes answer too
            stop.set()
            asking.join(timeout=30)
            assert answers and set(answers) == {200}, {a for a in answers if a != 200}
            assert answers.count(200) > 10
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0
        finally:
            stop.set()
