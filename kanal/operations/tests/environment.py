"""The environment an operator gives Kanal in production (README,
"Configuration"), for tests and benchmarks that start the real processes."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet


def production_environment(tmp: Path, database_url: str) -> dict[str, str]:
    """``os.environ`` with ``kanal.settings.production``'s required settings:
    fresh keys, every directory under ``tmp``, HTTPS redirects off (the
    proxy's job; the processes are reached on loopback) and JSON logs."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kanal.settings.production",
        "DATABASE_URL": database_url,
        "KANAL_SECRET_KEY": secrets.token_urlsafe(50),
        "KANAL_VAULT_KEYS": Fernet.generate_key().decode(),
        "KANAL_AUDIT_KEYS": secrets.token_urlsafe(40),
        "KANAL_AUDIT_CHECKPOINT_DIR": str(tmp / "checkpoints"),
        "KANAL_ALLOWED_HOSTS": "127.0.0.1",
        "KANAL_SSL_REDIRECT": "0",
        "KANAL_VAR_DIR": str(tmp),
        "KANAL_STATIC_ROOT": str(tmp / "static"),
        "KANAL_MEDIA_ROOT": str(tmp / "media"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
        "KANAL_LOG_FORMAT": "json",
    }
    env.pop("KANAL_METRICS_TOKEN", None)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def kanal_web(tmp: Path, base: Path, **settings: str):
    """``kanal-web`` on SQLite under ``tmp`` with ``settings`` added to the
    environment, once it answers /healthz: ``(process, base URL)``. Stopped
    afterwards with SIGTERM if still running (SIGKILL to the main process
    alone would leave its worker processes running), killed if that fails."""
    port = free_port()
    env = {**production_environment(tmp, f"sqlite:///{tmp / 'web.sqlite3'}"),
           "KANAL_WEB_BIND": f"127.0.0.1:{port}", **settings}
    url = f"http://127.0.0.1:{port}"
    log = (tmp / "web.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "kanal.web"], cwd=base,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, log.seek(0) or log.read()
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "kanal-web never answered"
                time.sleep(0.2)
        yield server, url
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
