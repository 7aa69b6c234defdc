"""The production configuration, started as an operator starts it: the web
tier (``kanal-web``) and kanal.settings.production on PostgreSQL,
the worker as its own process; a browser logs in and sees the dashboard.

Not marked ``browser``: the suite's PostgreSQL pass skips those, and this
test is about PostgreSQL (it skips on SQLite).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import PASSWORD

from .environment import production_environment

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    """A loopback port nobody listens on now (not a fixed one: another
    suite on this machine may be running this test at the same time)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return (f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}")


def _wait_for(predicate, what: str, process, seconds: float = 60.0):
    """Poll until ``predicate()`` is true; fail with the process's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what}: the process exited ({process.returncode})")
        try:
            result = predicate()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {seconds} s")


@pytest.fixture
def production(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("Produktionskonfigurationen køres på PostgreSQL "
                    "(DATABASE_URL=postgresql://…).")
    port = _free_port()
    env = {**production_environment(tmp_path, _database_url()),
           "KANAL_WEB_BIND": f"127.0.0.1:{port}", "KANAL_WEB_WORKERS": "2"}
    base = Path(settings.BASE_DIR)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=base, env=env, check=True, timeout=300,
    )
    web_log = (tmp_path / "web.log").open("w+")
    web = subprocess.Popen(
        [sys.executable, "-m", "kanal.web"],
        cwd=base, env=env, stdout=web_log, stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--concurrency", "2",
         "--name", "production-test"],
        cwd=base, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield {"web": web, "worker": worker, "log": tmp_path / "web.log",
               "url": f"http://127.0.0.1:{port}"}
    finally:
        for process in (worker, web):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (worker, web):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        web_log.close()


@pytest.mark.serial
def test_the_production_server_serves_kanal(production, member, chromium):
    membership = member(Role.EDITOR)
    user = membership.user
    # Production's password hashers, not the test suite's fast one.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "saltforthetest")
    user.save(update_fields=["password"])
    web = production["web"]
    base = production["url"]
    http = httpx.Client(base_url=base, timeout=10)

    assert _wait_for(lambda: http.get("/healthz").status_code == 200,
                     "healthz", web)
    ready = _wait_for(
        lambda: (r := http.get("/readyz")).status_code == 200 and r.json(),
        "readyz with the worker's heartbeat", web,
    )
    assert ready["status"] == "ready"
    assert "production-test" in ready["checks"]["worker"]["detail"]

    context = chromium.new_context(locale="da-DK", base_url=base,
                                   timezone_id="Europe/Copenhagen")
    page = context.new_page()
    page.set_default_timeout(15_000)
    stylesheets = []
    page.on("response", lambda r: stylesheets.append(r)
            if r.url.endswith(".css") else None)
    page.goto("/")
    page.wait_for_url("**/konto/log-ind/**")
    page.get_by_label("Brugernavn").fill(user.username)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{base}/")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text().startswith("Goddag")
    context.close()

    # WhiteNoise serves the hashed static files, cached for a year.
    css = next(r for r in stylesheets if "/static/kanal/kanal." in r.url)
    assert css.status == 200
    assert "max-age=315360000" in css.headers["cache-control"]

    # The request id comes back, and the JSON log line carries it.
    response = http.get("/healthz", headers={"X-Request-ID": "smoke-4711"})
    assert response.headers["X-Request-ID"] == "smoke-4711"
    # Metrics from loopback: request latency summed over the web tier's processes.
    metrics = _wait_for(
        lambda: 'view="dashboard"' in (t := http.get("/metrics").text) and t,
        "request latency in /metrics", web,
    )
    assert "kanal_workers_live 1.0" in metrics
    lines = [json.loads(line) for line in production["log"].read_text().splitlines()
             if line.startswith("{")]
    assert any(line.get("request_id") == "smoke-4711"
               and line["logger"] == "kanal.request" for line in lines)

    # The worker stops: /readyz says so.
    worker = production["worker"]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    unready = http.get("/readyz")
    assert unready.status_code == 503
    assert unready.json()["checks"]["worker"]["ok"] is False


@pytest.mark.django_db(transaction=False)
def test_every_setting_read_from_the_environment_is_in_the_one_documented_list():
    import re

    base = Path(settings.BASE_DIR)
    sources = [*sorted((base / "kanal" / "settings").glob("*.py")),
               base / "kanal" / "web.py"]
    read = set()
    for source in sources:
        read |= set(re.findall(r'"((?:KANAL|PROMETHEUS)_[A-Z_]+|DATABASE_URL)"',
                               source.read_text()))
    readme = (base / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## Run it in")]
    documented = set(re.findall(r"`((?:KANAL|PROMETHEUS)_[A-Z_]+|DATABASE_URL)`",
                                table))
    assert len(read) > 30
    assert read <= documented, sorted(read - documented)
    example = (base / "deploy" / "kanal.env.example").read_text()
    in_example = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert in_example <= documented, sorted(in_example - documented)
