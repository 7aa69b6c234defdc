"""Production server benchmark: requests per second and p99 for the dashboard
(``/``) and the month calendar (``/plan/``) under the production web tier
(``kanal-web``, kanal/web.py) against ``manage.py runserver`` as the baseline.

``python -m bench operations_server`` fills a fresh SQLite database with the
planning benchmark's data set (``bench.planning_calendar.fill``, ≥ 20,000
posts) under ``kanal.settings.production`` (as
``kanal/operations/tests/test_production.py`` starts it: real keys from the
environment, collected static files, no HTTPS redirect on loopback), starts
both servers on the same database and settings, so that only the server
differs, logs in once as the data set's editor through the login form, checks
that every URL answers 200 for that session (not a redirect to the login),
then runs ApacheBench (``ab -n 400 -c 8``) per URL per server, alternating the
servers, for a few rounds. The figures go to the server section of
BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import write_section

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- operations-server:start -->", "<!-- operations-server:end -->"
WEB_PORT, RUNSERVER_PORT = 8190, 8191
URLS = ["/", "/plan/"]
REQUESTS, CONCURRENCY, ROUNDS = 400, 8, 3
USERNAME, PASSWORD = "bench-editor", "x" * 12  # made by planning_calendar.fill


def _env(tmp: Path) -> dict:
    from kanal.operations.tests.environment import production_environment

    return production_environment(tmp, f"sqlite:///{tmp / 'server.sqlite3'}")


def _wait_healthy(http, base: str, process, seconds: float = 90.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{base}: the server exited ({process.returncode})")
        try:
            if http.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base}: /healthz not 200 within {seconds} s")


def _cookies(response) -> dict:
    """The name=value pairs of the Set-Cookie headers (the cookies are
    Secure in production, so a client jar would not send them over HTTP)."""
    pairs = {}
    for header in response.headers.get_list("set-cookie"):
        name, _eq, value = header.split(";", 1)[0].partition("=")
        pairs[name.strip()] = value.strip()
    return pairs


def _login(http, base: str) -> str:
    page = http.get(f"{base}/konto/log-ind/")
    jar = _cookies(page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    answer = http.post(
        f"{base}/konto/log-ind/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": USERNAME,
            "password": PASSWORD,
        },
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login answered {answer.status_code}, not a redirect")
    jar.update(_cookies(answer))
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _ab(url: str, cookie: str) -> dict:
    out = subprocess.run(
        [
            "ab",
            "-q",
            "-l",
            "-n",
            str(REQUESTS),
            "-c",
            str(CONCURRENCY),
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    ).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    p99 = int(re.search(r"^\s*99%\s+(\d+)", out, re.M).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p99_ms": p99,
        "failed": failed,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "load1": round(os.getloadavg()[0], 2),
    }


def _stop(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_benchmarks(argv) -> int:
    if shutil.which("ab") is None:
        print(
            "ApacheBench (ab) mangler, så serverbenchmarken springes over. "
            "Installér den med `sudo apt-get install apache2-utils`.",
            file=sys.stderr,
        )
        return 0
    import httpx

    with tempfile.TemporaryDirectory(prefix="kanal-bench-server-") as name:
        tmp = Path(name)
        env = _env(tmp)
        fill_out = tmp / "fill.json"
        subprocess.run(
            [sys.executable, "-m", "bench.operations_server", "--fill", str(fill_out)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        filled = json.loads(fill_out.read_text())
        servers = {
            "kanal-web": (
                [sys.executable, "-m", "kanal.web"],
                {"KANAL_WEB_BIND": f"127.0.0.1:{WEB_PORT}"},
                WEB_PORT,
            ),
            "runserver": (
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    "--noreload",
                    f"127.0.0.1:{RUNSERVER_PORT}",
                ],
                {},
                RUNSERVER_PORT,
            ),
        }
        processes = {}
        results = {(s, u): [] for s in servers for u in URLS}
        try:
            for server, (command, extra, _port) in servers.items():
                log = (tmp / f"{server}.log").open("w")
                processes[server] = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env={**env, **extra},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            http = httpx.Client(timeout=30, follow_redirects=False)
            for server, (_c, _e, port) in servers.items():
                _wait_healthy(http, f"http://127.0.0.1:{port}", processes[server])
            cookie = _login(http, f"http://127.0.0.1:{WEB_PORT}")
            for server, (_c, _e, port) in servers.items():
                for url in URLS:
                    answer = http.get(
                        f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookie}
                    )
                    if answer.status_code != 200:
                        raise RuntimeError(
                            f"{server} {url} answered "
                            f"{answer.status_code} for the session"
                        )
            for round_ in range(ROUNDS):
                order = list(servers) if round_ % 2 == 0 else list(servers)[::-1]
                for url in URLS:
                    for server in order:
                        port = servers[server][2]
                        result = _ab(f"http://127.0.0.1:{port}{url}", cookie)
                        print(server, url, result, flush=True)
                        results[(server, url)].append(result)
        finally:
            for process in processes.values():
                _stop(process)
    summary = {
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "posts": filled["posts"],
        "workers": os.cpu_count(),
        "results": {f"{s} {u}": r for (s, u), r in results.items()},
    }
    print(json.dumps(summary, indent=2))
    write_markdown(summary)
    bad = any(r["non_2xx"] for rs in results.values() for r in rs)
    return 1 if bad else 0


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import platform

    return f"{os.cpu_count()} CPU {model}, {platform.system()} {platform.release()}"


def fill_database(out: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.planning_calendar import fill

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    data = fill(timezone.now())
    out.write_text(json.dumps({"posts": data["posts"]}))


def _median(values):
    values = sorted(values)
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


HEADER = (
    "| URL | server | req/s (median) | p99 (median) | req/s per round "
    "| p99 ms per round | non-2xx | load |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def write_markdown(summary: dict) -> None:
    res = summary["results"]
    rows, ratios = [], []
    for url in URLS:
        medians = {}
        for server in ("kanal-web", "runserver"):
            runs = res[f"{server} {url}"]
            medians[server] = (
                _median([r["rps"] for r in runs]),
                _median([r["p99_ms"] for r in runs]),
            )
            rps = " / ".join(f"{r['rps']:.1f}" for r in runs)
            p99 = " / ".join(str(r["p99_ms"]) for r in runs)
            load = " / ".join(f"{r['load1']:.2f}" for r in runs)
            non2xx = sum(r["non_2xx"] for r in runs)
            rows.append(
                f"| `{url}` | {server} | {medians[server][0]:.1f} "
                f"| {medians[server][1]:.0f} ms | {rps} | {p99} | {non2xx} | {load} |"
            )
        g, b = medians["kanal-web"], medians["runserver"]
        ratios.append(
            f"- `{url}`: kanal-web/runserver requests per second "
            f"**{g[0] / b[0]:.2f}×**, p99 kanal-web/runserver **{g[1] / b[1]:.2f}×**"
        )
    section = f"""{START}
## Operations: production server against runserver

Run {summary["run_at"]} by `python -m bench operations_server`
(`bench/operations_server.py`) on {summary["machine"]}. Data: the planning
benchmark's data set ({summary["posts"]:,} posts) on SQLite. Both servers run
`kanal.settings.production` (DEBUG off, keys from the environment, collected
static files, HTTPS redirect off on loopback, as
`kanal/operations/tests/test_production.py` starts it) on the same database,
so only the server differs: `kanal-web` (granian; its defaults:
{summary["workers"]} processes × 8 threads) and
`manage.py runserver --noreload` (threaded). No worker process runs. One log-in
as the data set's editor through the login form; each URL was checked to
answer 200 for that session before measuring. Load generator: ApacheBench on
the same machine, `ab -l -n {REQUESTS} -c {CONCURRENCY}` per URL per server,
servers alternating, {ROUNDS} rounds; the table gives the median of the rounds
and every round. "load" is the 1-minute load average after each run.
There is no warm-up: the first round includes each process's first requests.

**Other engineers' test suites (pytest) were running on this 2-CPU machine
at the same time**, so the absolute figures are low and noisy; the ratios
between the two servers, measured alternately under the same load, are the
figures to quote:

{chr(10).join(ratios)}

{HEADER}
{chr(10).join(rows)}
{END}"""
    write_section(START, END, section)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--fill":
        fill_database(Path(sys.argv[2]))
    else:
        sys.exit(run_benchmarks(sys.argv[1:]))
