"""The machinery of the fault benchmark (``bench/publishing_faults.py``).

Everything here runs inside one scenario process: a fresh database (an
SQLite file or a PostgreSQL database of its own), the sandbox with all seven
emulators as a subprocess, ``kanal worker`` processes as subprocesses, and the
judge, which reads only the sandbox's publish log (what reached the networks)
to count duplicates, lost posts and sends that started too late. Kanal's own
rows are read only to compare them with that truth.

The code under test can be another checkout (``KANAL_BENCH_CODE``): its
``kanal`` package is put first on ``sys.path`` here and the workers run from
it, so the same benchmark measures the code before and after a change. The
sandbox always runs from this checkout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CODE = Path(os.environ.get("KANAL_BENCH_CODE") or ROOT).resolve()
SANDBOX_CODE = Path(os.environ.get("KANAL_BENCH_SANDBOX_CODE") or CODE).resolve()
PY = sys.executable
PG_ADMIN_URL = os.environ.get(
    "KANAL_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NETWORKS = ("facebook", "instagram", "x", "mastodon", "bluesky", "linkedin",
            "threads")
BASE_PATHS = {"facebook": "/v25.0", "instagram": "/v25.0", "threads": "/v1.0"}
# Every worker's PostgreSQL connections carry this name, so the database
# fault can terminate exactly the workers' backends.
WORKER_APPNAME = "kanal-bench-worker"
SETTLED = ("published", "failed", "missed", "cancelled", "paused")
logger = logging.getLogger("bench.faults")


def export_commit(rev: str) -> Path:
    """A clean copy of the commit ``rev`` of this repository (cached), so a
    run tests what was committed, not a working tree that others edit."""
    sha = subprocess.run(["git", "rev-parse", "--short=12", rev], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout.strip()
    target = Path(tempfile.gettempdir()) / f"kanal-bench-code-{sha}"
    if not (target / "manage.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive,
                       check=True)
    return target


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_at(value) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(values) -> dict:
    values = sorted(values)
    if not values:
        return {}

    def pick(q):
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    return {"n": len(values), "p50": round(pick(0.5), 3),
            "p99": round(pick(0.99), 3), "max": round(values[-1], 3),
            "mean": round(statistics.mean(values), 3)}


# ---------------------------------------------------------------------------
# The sandbox


class Sandbox:
    """The sandbox (all seven emulators) as a subprocess on a free port."""

    def __init__(self, tmp: Path, *, latency_ms: int, seed: int = 7) -> None:
        self.port = int(os.environ.get("KANAL_BENCH_SANDBOX_PORT") or free_port())
        self.url = f"http://127.0.0.1:{self.port}"
        self.latency_ms = latency_ms
        self.publish_delay_ms = 0
        self.log = open(tmp / "sandbox.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [PY, "-m", "sandbox", "--port", str(self.port), "--db",
             str(tmp / "sandbox.sqlite3"), "--latency-ms", str(latency_ms),
             "--seed", str(seed)],
            cwd=SANDBOX_CODE, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.http = httpx.Client(base_url=self.url, timeout=60)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.http.get("/_sandbox/")
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)
        status = self.control("GET", "/_sandbox/")
        missing = set(NETWORKS) - set(status["networks"])
        if missing:
            raise RuntimeError(f"sandbox lacks {sorted(missing)}")

    def control(self, method, path, json=None, params=None):
        response = self.http.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} "
                               f"{response.text[:300]}")
        return response.json()

    def fault(self, network: str, kind: str, **opts) -> dict:
        opts.setdefault("count", None)
        if kind == "latency" and opts.get("operation") == "publish" and \
                opts.get("probability") is None:
            # Known for the judge's fallback when the log has no receive time.
            self.publish_delay_ms = max(self.publish_delay_ms,
                                        int(opts.get("delay_ms") or 0))
        return self.control("POST", "/_sandbox/faults",
                            {"network": network, "kind": kind, **opts})

    def clear_faults(self) -> None:
        self.control("DELETE", "/_sandbox/faults")

    def faults(self) -> list[dict]:
        return self.control("GET", "/_sandbox/faults")

    def fault_kinds(self) -> set[str]:
        """The fault kinds this sandbox knows (an unknown one answers 400)."""
        known = set()
        for kind in ("server_error_after_create", "unreadable_after_create",
                     "token_answer_lost",
                     "timeout_after_create", "latency"):
            response = self.http.post("/_sandbox/faults", json={
                "network": "mastodon", "kind": kind, "count": 1,
                "account": "no-such-account"})
            if response.status_code < 400:
                known.add(kind)
        self.clear_faults()
        return known

    def set_network_clock(self, network: str, seconds: float) -> bool:
        """One network's clock ``seconds`` off; False where the sandbox has
        a single clock for all networks."""
        response = self.http.post("/_sandbox/clock", json={
            "network": network, "offset_seconds": seconds})
        return response.status_code < 400 and "network_offsets_seconds" in \
            response.json()

    def advance_clock(self, seconds: float) -> dict:
        return self.control("POST", "/_sandbox/clock", {"advance_seconds": seconds})

    def published(self) -> list[dict]:
        return self.control("GET", "/_sandbox/published")

    def provision(self, network: str, **body) -> dict:
        return self.control("POST", "/_sandbox/accounts",
                            {"network": network, **body})

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.http.close()
        self.log.close()


# ---------------------------------------------------------------------------
# The database and Django


def prepare_database(db: str, tmp: Path) -> tuple[str, str]:
    """A fresh database: ``(url, name)``; PostgreSQL gets one per process."""
    if db == "postgres":
        import psycopg

        prefix = os.environ.get("KANAL_BENCH_PG_PREFIX") or "kanal_bench_faults"
        name = f"{prefix}_{os.getpid()}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name
    path = tmp / "kanal.sqlite3"
    return f"sqlite:///{path}", str(path)


def drop_database(db: str, name: str) -> None:
    if db != "postgres" or os.environ.get("KANAL_BENCH_KEEP_DB"):
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def worker_env(db_url: str, tmp: Path, overrides: dict, base_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "kanal.settings.base",
        "KANAL_MEDIA_ROOT": str(tmp / "media"),
        # Instagram and Threads fetch the image from KANAL_BASE_URL/media/….
        "KANAL_BASE_URL": base_url,
        "PGAPPNAME": WORKER_APPNAME,
        **{f"KANAL_PUBLISH_{k}": str(v) for k, v in overrides.items()},
    }


def setup_django(env: dict) -> None:
    for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "KANAL_MEDIA_ROOT",
                "KANAL_BASE_URL"):
        os.environ[key] = env[key]
    for key, value in env.items():
        if key.startswith("KANAL_PUBLISH_"):
            os.environ[key] = value
    os.environ["PGAPPNAME"] = "kanal-bench-judge"
    if str(CODE) not in sys.path[:1]:
        sys.path.insert(0, str(CODE))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def db_retry(fn, *args, attempts: int = 40, **kwargs):
    """Run a judge-side query, reconnecting when a fault broke the connection."""
    from django.db import close_old_connections, connection
    from django.db.utils import DatabaseError, InterfaceError

    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except (DatabaseError, InterfaceError):
            if attempt + 1 == attempts:
                raise
            with contextlib.suppress(Exception):
                connection.close()
            close_old_connections()
            time.sleep(0.5)
    return None


# ---------------------------------------------------------------------------
# Organisation, people, channels


@dataclass
class World:
    org: object
    administration: object
    editor: object
    approver: object
    crisis_lead: object
    admin: object
    channels: list = field(default_factory=list)


def make_world() -> World:
    from django.contrib.auth import get_user_model

    from kanal.organisations.models import Administration, Membership, Organisation
    from kanal.organisations.roles import Role

    org = Organisation.objects.create(name="Bench Kommune", slug="bench",
                                      require_two_factor=False)
    adm = Administration.objects.create(organisation=org, code="KFF", name="KFF",
                                        is_central_desk=True)
    user_model = get_user_model()

    def member(name, role):
        user = user_model.objects.create_user(username=name, password="x" * 16)
        return Membership.objects.create(user=user, organisation=org,
                                         administration=adm, role=role)

    return World(org, adm, member("redaktor", Role.EDITOR),
                 member("godkender", Role.APPROVER),
                 member("krise", Role.CRISIS_LEAD), member("admin", Role.ADMIN))


def provision_options(network: str, *, token_days: float | None) -> dict:
    body: dict = {"followers": 1000}
    if network in ("instagram", "threads"):
        body["extra"] = {"quota_total": 5000}
    if token_days is not None and network in ("linkedin", "threads", "instagram"):
        body["expires_in"] = int(token_days * 86400)
    return body


def make_channels(world: World, sandbox: Sandbox, *, per_network: int,
                  networks=NETWORKS, token_days: float | None = None,
                  container_delay: float = 0.0) -> list:
    from kanal.channels import vault
    from kanal.channels.models import Channel

    made = []
    for network in networks:
        for i in range(per_network):
            body = provision_options(network, token_days=token_days)
            if container_delay and network in ("instagram", "threads"):
                body.setdefault("extra", {})["container_delay_seconds"] = \
                    container_delay
            got = sandbox.provision(network, handle=f"bench-{network}-{i}",
                                    display_name=f"Bench {network} {i}", **body)
            account, tokens = got["account"], got["tokens"]
            settings = {}
            if network in ("instagram", "threads"):
                settings["container_poll_seconds"] = "0.1"
                settings["container_poll_attempts"] = "60"
            if network == "bluesky":
                settings["web_url"] = f"{sandbox.url}/bluesky"
            credentials = {k: str(v) for k, v in tokens.items()
                           if v and k != "expires_at"}
            expires = parse_at(tokens.get("expires_at"))
            made.append(Channel(
                organisation=world.org, network=network,
                display_name=f"Bench {network} {i}", handle=account["handle"],
                remote_id=account["account_id"],
                owner_administration=world.administration,
                base_url=f"{sandbox.url}/{network}{BASE_PATHS.get(network, '')}",
                api_settings=settings, token_expires_at=expires,
                encrypted_credentials=vault.encrypt(credentials),
            ))
    Channel.objects.bulk_create(made)
    world.channels = list(Channel.objects.filter(organisation=world.org)
                          .order_by("pk"))
    return world.channels


class MediaServer:
    """Kanal's public media address on loopback (``KANAL_BASE_URL``): serves
    ``<tmp>/media/…`` so Instagram's and Threads' emulators can fetch the
    images Kanal hands them, as the real networks fetch from Kanal."""

    def __init__(self, tmp: Path) -> None:
        import functools
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        (tmp / "media").mkdir(exist_ok=True)
        handler = functools.partial(Quiet, directory=str(tmp))
        port = int(os.environ.get("KANAL_BENCH_MEDIA_PORT") or 0)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def image_media(tmp: Path, sandbox: Sandbox) -> list[dict]:
    """One JPEG in Kanal's media storage (loose publications' image)."""
    root = tmp / "media"
    root.mkdir(exist_ok=True)
    data = httpx.get(f"{sandbox.url}/_sandbox/media/square.jpg").content
    (root / "square.jpg").write_bytes(data)
    return [{"kind": "image", "path": "square.jpg", "mime_type": "image/jpeg",
             "alt_text": "Havnebadet en vintermorgen", "width": 1080,
             "height": 1080}]


# ---------------------------------------------------------------------------
# Publications: each text carries a marker the judge finds on the network


#: publication id -> the time it was first planned for (a crisis's "publish
#: now" moves planned_at; "early" is judged against the original time).
ORIGINAL_PLANNED: dict[int, datetime] = {}
MARKER = re.compile(r"kb[0-9a-f]{4}n\d{5}")
FIRST_COMMENT = "Første kommentar til"


class Markers:
    def __init__(self) -> None:
        self.run = f"{random.randrange(16**4):04x}"
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"kb{self.run}n{self.n:05d}"


def post_text(marker: str, network: str) -> str:
    words = ("Havnebadet åbner", "Ny cykelsti på Amager", "Borgerservice holder "
             "åbent", "Koncert i Fælledparken", "Affaldssortering i din gård")
    return (f"{random.choice(words)} ({marker}). Læs mere på kk.dk "
            f"#{network}test")


def make_loose(world: World, planned: list[tuple[object, datetime]], *,
               markers: Markers, media: list[dict], first_comment: bool = False,
               pin: bool = False) -> dict[int, str]:
    """Publications without a planning post (``planned``: channel, time).

    Returns publication id -> marker."""
    from kanal.publishing import conf
    from kanal.publishing.models import Publication

    rows, by_marker = [], {}
    for channel, at in planned:
        marker = markers.next()
        rows.append(Publication(
            organisation=world.org, channel=channel, planned_at=at, due_at=at,
            late_after=at + conf.late_cutoff(), post_id=None,
            text=post_text(marker, channel.network),
            media=media if channel.network == "instagram" else [],
            first_comment=f"{FIRST_COMMENT} {marker}: spørg os endelig."
            if first_comment else "",
            pin=pin and channel.network in ("facebook", "mastodon", "bluesky"),
        ))
        by_marker[marker] = None
    Publication.objects.bulk_create(rows, batch_size=500)
    found = {}
    for pk, text, at in Publication.objects.filter(
            organisation=world.org).values_list("pk", "text", "planned_at"):
        m = MARKER.search(text)
        if m and m.group(0) in by_marker:
            found[pk] = m.group(0)
            ORIGINAL_PLANNED[pk] = at
    return found


def make_planned(world: World, planned: list[tuple[object, datetime]], *,
                 markers: Markers) -> dict[int, str]:
    """Real planning posts (one variant each), written by the editor and
    approved by the approver (approval queues them), so an edit withdraws the
    approval. They are created an hour ahead (planning refuses the past) and
    their publications then moved to the benchmark's times."""
    from kanal.planning import actions as planning
    from kanal.planning.models import MediaAsset
    from kanal.publishing import conf
    from kanal.publishing.models import Publication

    asset = MediaAsset.objects.filter(organisation=world.org).first()
    ahead = utcnow() + timedelta(hours=1)
    found, moves = {}, []
    for channel, at in planned:
        marker = markers.next()
        post = planning.create_post(actor=world.editor, title=f"Bench {marker}",
                                    shared_text=post_text(marker, channel.network),
                                    channels=[channel], planned_at=ahead)
        if channel.network == "instagram":
            planning.update_post(post, actor=world.editor,
                                 variants={channel.pk: {"media": [asset]}})
        planning.submit_post(post, actor=world.editor)
        planning.approve_post(post, actor=world.approver)
        for pk in Publication.objects.filter(post_id=post.pk).values_list(
                "pk", flat=True):
            found[pk] = marker
            moves.append((pk, at))
    for pk, at in moves:
        Publication.objects.filter(pk=pk).update(
            planned_at=at, due_at=at, late_after=at + conf.late_cutoff())
        ORIGINAL_PLANNED[pk] = at
    return found


def make_asset(world: World, tmp: Path, sandbox: Sandbox) -> None:
    """The planning library's copy of the image (for planned Instagram posts)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kanal.planning import actions as planning

    data = httpx.get(f"{sandbox.url}/_sandbox/media/square.jpg").content
    planning.upload_media(
        actor=world.editor,
        upload=SimpleUploadedFile("havnebad.jpg", data, "image/jpeg"),
        alt_text="Havnebadet en vintermorgen",
    )


def spread(channels, n: int, *, start: datetime, seconds: float,
           networks=None) -> list[tuple[object, datetime]]:
    """``n`` (channel, time) pairs, round robin over the networks' channels,
    times spread evenly over ``seconds`` and shuffled."""
    by_network = defaultdict(list)
    for c in channels:
        if networks is None or c.network in networks:
            by_network[c.network].append(c)
    order = sorted(by_network)
    out = []
    for i in range(n):
        pool = by_network[order[i % len(order)]]
        channel = pool[(i // len(order)) % len(pool)]
        out.append((channel, start + timedelta(seconds=seconds * i / max(1, n))))
    times = [t for _, t in out]
    random.shuffle(times)
    return [(c, t) for (c, _), t in zip(out, times, strict=True)]


# ---------------------------------------------------------------------------
# Workers


class Workers:
    """``kanal worker`` processes of the code under test."""

    def __init__(self, env: dict, tmp: Path, *, concurrency: int,
                 bootstrap: Path | None = None) -> None:
        self.env = env
        self.tmp = tmp
        self.concurrency = concurrency
        self.bootstrap = bootstrap
        self.procs: dict[int, subprocess.Popen] = {}
        self.names: dict[int, str] = {}
        self.extra_env: dict[int, dict] = {}
        self.log_from: dict[int, tuple[Path, int]] = {}
        self.started = 0
        self.exits: list[tuple[str, int]] = []
        self.cpu_done = 0.0  # CPU seconds of processes that have ended
        self.logs = []
        self.stopped: set[int] = set()
        # A fault thread kills while the main thread reaps.
        self.lock = threading.RLock()

    def start(self, i: int, **extra_env) -> None:
        with self.lock:
            self._start(i, **extra_env)

    def _start(self, i: int, **extra_env) -> None:
        self.started += 1
        name = f"bench-{i}-{self.started}"
        path = self.tmp / f"worker-{i}.log"
        log = open(path, "a")  # noqa: SIM115
        self.logs.append(log)
        # Where this start's output begins: ``starting`` reads from here.
        self.log_from[i] = (path, path.stat().st_size)
        env = {**self.env, **self.extra_env.get(i, {}), **extra_env}
        if extra_env:
            self.extra_env[i] = {**self.extra_env.get(i, {}), **extra_env}
        entry = [str(self.bootstrap)] if self.bootstrap else ["manage.py"]
        self.procs[i] = subprocess.Popen(
            [PY, *entry, "worker", "--concurrency", str(self.concurrency),
             "--name", name],
            cwd=CODE, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.names[i] = name

    def starting(self) -> bool:
        """Whether a running worker has not yet said it is ready (its
        "N threads, polling|LISTEN/NOTIFY" line): on a busy machine a
        Django process can take many seconds to start, and that is not a
        publication standing still."""
        with self.lock:
            for i, proc in self.procs.items():
                if proc.poll() is not None or i not in self.log_from:
                    continue
                path, offset = self.log_from[i]
                try:
                    with open(path, "rb") as f:
                        f.seek(offset)
                        text = f.read().decode(errors="replace")
                except OSError:
                    continue
                if " threads, " not in text:
                    return True
        return False

    def start_all(self, n: int) -> None:
        for i in range(n):
            self.start(i)

    def index_of(self, owner: str) -> int | None:
        for i, name in self.names.items():
            if name == owner:
                return i
        return None

    @staticmethod
    def _cpu_of(pid: int) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def cpu_seconds(self) -> float:
        """CPU used so far by every worker process (ended ones included)."""
        return self.cpu_done + sum(self._cpu_of(p.pid) for p in self.procs.values()
                                   if p.poll() is None)

    def reap(self) -> list[tuple[str, int]]:
        """Workers that exited by themselves: (name, exit code); restarted."""
        exited = []
        with self.lock:
            for i, proc in list(self.procs.items()):
                code = proc.poll()
                if code is not None and i not in self.stopped:
                    exited.append((self.names[i], code))
                    self.exits.append((self.names[i], code))
                    self._start(i)
        return exited

    def kill(self, i: int, *, restart: bool = True) -> None:
        with self.lock:
            proc = self.procs[i]
            self.cpu_done += self._cpu_of(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if restart:
                self._start(i)

    def pause(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGSTOP)

    def resume(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for i, proc in self.procs.items():
            proc.send_signal(signal.SIGCONT)
            self.stopped.add(i)
        for proc in self.procs.values():
            self.cpu_done += self._cpu_of(proc.pid)
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


def write_bootstrap(tmp: Path) -> Path:
    """A ``manage.py`` that shifts the worker's clock by
    ``KANAL_BENCH_CLOCK_OFFSET`` seconds (``django.utils.timezone.now``, which
    every lease, due time and sweep reads)."""
    path = tmp / "skewed_manage.py"
    path.write_text(
        "import os, sys\n"
        "from datetime import timedelta\n"
        "sys.path.insert(0, os.getcwd())\n"
        "offset = timedelta(seconds=float(os.environ.get("
        "'KANAL_BENCH_CLOCK_OFFSET', '0')))\n"
        "from django.utils import timezone\n"
        "_real = timezone.now\n"
        "timezone.now = lambda: _real() + offset\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', *sys.argv[1:]])\n"
    )
    return path


# ---------------------------------------------------------------------------
# Waiting


def statuses(ids=None) -> Counter:
    from django.db.models import Count

    from kanal.publishing.models import Publication

    qs = Publication.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return Counter(dict(qs.values_list("status").annotate(n=Count("pk"))))


def settle(ids, *, timeout: float, quiet: float, during=None,
           workers: Workers | None = None, sandbox: Sandbox | None = None,
           hold=None) -> dict:
    """Wait until every publication in ``ids`` is settled, or nothing has
    changed for ``quiet`` seconds (some are stuck), or ``timeout``."""
    from django.db.utils import DatabaseError

    ids = list(ids)
    started = time.monotonic()
    last_change = started
    last: tuple = ()
    log_len = -1
    while True:
        if during is not None:
            try:
                during()
            except DatabaseError as e:
                # The scenario's own writes (an edit, a crisis switch) meet
                # the same locked or dropped database as the workers: try
                # again on the next turn.
                logger.warning("scenario step failed (%s); again shortly", e)
                with contextlib.suppress(Exception):
                    from django.db import connection

                    connection.close()
        if workers is not None:
            for name, code in workers.reap():
                logger.info("worker %s exited by itself with %s (restarted)",
                            name, code)
        counts = db_retry(statuses, ids)
        snapshot = tuple(sorted(counts.items()))
        if sandbox is not None and time.monotonic() - last_change > 2:
            n = len(sandbox.published())
            if n != log_len:
                log_len = n
                last_change = time.monotonic()
        if snapshot != last:
            last = snapshot
            last_change = time.monotonic()
        done = sum(counts.get(s, 0) for s in SETTLED)
        now = time.monotonic()
        if workers is not None and workers.starting() \
                and now - started < timeout:
            # Nothing can have moved while a worker is still starting.
            last_change = now
        if hold is not None and hold():
            last_change = now
            if now - started < timeout:
                time.sleep(0.2)
                continue
        if done >= len(ids):
            return {"settled": True, "seconds": round(now - started, 1)}
        if now - last_change > quiet or now - started > timeout:
            return {"settled": False, "seconds": round(now - started, 1),
                    "stuck": {k: v for k, v in counts.items() if k not in SETTLED}}
        time.sleep(0.2)


# ---------------------------------------------------------------------------
# The judge


def received_at(record: dict, latency_ms: int,
                clock_offset: float | None) -> datetime | None:
    """When the request reached the network (wall clock).

    The sandbox's ``received_at`` where it has one; otherwise its write time
    less the clock offset and the network latency (an upper bound on the
    arrival time, slightly later than the truth)."""
    got = parse_at(record.get("received_at"))
    if got is not None:
        return got
    if clock_offset is None:
        return None
    at = parse_at(record["at"]) - timedelta(seconds=clock_offset)
    return at - timedelta(milliseconds=latency_ms)


#: A request that reaches the network this long after a stop committed
#: started after it (its fence, if any, ran after the commit): loopback
#: transit plus the client's own work is far below this on an idle machine;
#: on a busy one a send whose fence passed just before the commit can arrive
#: a few tens of milliseconds after it. Every margin is reported.
STOP_TOLERANCE = 0.25
#: A post that reached the network this long before its planned time.
EARLY_TOLERANCE = 1.0


def _all_items(sandbox: Sandbox, network: str):
    """Every item the emulator holds for ``network``, page by page (newest
    first), so that no judgement rests on a truncated list."""
    before = None
    while True:
        params = {"network": network, "include_deleted": "1", "limit": 10_000}
        if before is not None:
            params["before"] = before
        page = sandbox.control("GET", "/_sandbox/items", params=params)
        yield from page
        if len(page) < 10_000:
            return
        before = min(item["seq"] for item in page)


def judge(sandbox: Sandbox, by_id: dict[int, str], *,
          expect_out: set[int] | None = None,
          stop_times: dict[int, datetime] | None = None,
          first_comments: bool = False,
          clock_offset: float | None = 0.0) -> dict:
    """Compare the networks' publish log with what should be there.

    ``by_id``: publication id -> marker. ``expect_out``: ids that must reach
    the network (default: all). ``stop_times``: id -> the commit time after
    which no send of it may start (withdrawal, crisis, channel disabled).
    """
    from kanal.channels.models import Channel, ChannelStatus
    from kanal.core.models import AuditEntry
    from kanal.notifications.models import Notification
    from kanal.publishing.models import Publication

    log = sandbox.published()
    posts_by_marker: dict[str, list[dict]] = defaultdict(list)
    replies_by_marker: dict[str, list[dict]] = defaultdict(list)
    for record in log:
        text = record.get("text") or ""
        m = MARKER.search(text)
        if not m or text.startswith(FIRST_COMMENT):
            continue
        if record.get("kind", "post") == "post":
            posts_by_marker[m.group(0)].append(record)
    if first_comments:
        # Replies are read from the networks' items (Instagram's emulator does
        # not log comments in the publish log; X logs a reply as a post).
        for network in NETWORKS:
            for item in _all_items(sandbox, network):
                text = item.get("text") or ""
                m = MARKER.search(text)
                # Containers (Instagram/Threads) carry the text but are not
                # replies until published.
                if m and text.startswith(FIRST_COMMENT) and \
                        item.get("kind") != "container" and item.get("parent_id"):
                    replies_by_marker[m.group(0)].append(item)
    pubs = {p["pk"]: p for p in Publication.objects.filter(pk__in=list(by_id))
            .values("pk", "status", "remote_id", "error_kind", "last_error",
                    "first_comment", "first_comment_remote_id", "channel__network",
                    "attempts", "planned_at")}
    expect_out = set(by_id) if expect_out is None else expect_out
    dup, lost, live_wrong, phantom, late_sends, wrong_id = [], [], [], [], [], []
    margins, early = [], []
    reply_dup, reply_missing, reply_told = [], [], []
    per_network = defaultdict(Counter)
    groups = defaultdict(list)
    for pk, marker in by_id.items():
        groups[marker].append(pk)
    for marker, pks in groups.items():
        if len(pks) < 2:
            continue
        # Twins: publications with the same text on the same channel (a
        # weekly reminder). Each needs its own post; two rows may never
        # claim one post.
        out = posts_by_marker.get(marker, [])
        rows = [pubs.get(pk, {}) for pk in pks]
        network = rows[0].get("channel__network", "?")
        per_network[network]["publications"] += len(pks)
        per_network[network]["network_posts"] += len(out)
        published = [r for r in rows if r.get("status") == "published"]
        if len(out) > len(pks):
            dup.append({"publications": pks, "network": network,
                        "copies": len(out) - len(pks) + 1,
                        "items": [r["item_id"] for r in out]})
            per_network[network]["duplicates"] += len(out) - len(pks)
        expected = [pk for pk in pks if pk in expect_out]
        for _ in range(max(0, len(expected) - len(out))):
            lost.append({"publications": pks, "network": network,
                         "statuses": [r.get("status") for r in rows],
                         "remote_ids": [r.get("remote_id") for r in rows]})
            per_network[network]["lost"] += 1
        ids = [r.get("remote_id") for r in published if r.get("remote_id")]
        if len(set(ids)) < len(ids) or len(published) > len(out):
            phantom.append({"publications": pks, "network": network,
                            "remote_ids": ids,
                            "network_items": [r["item_id"] for r in out]})
        if len(out) > len(published) and len(published) < len(pks):
            live_wrong.append({"publications": pks, "network": network,
                               "statuses": [r.get("status") for r in rows],
                               "network_posts": len(out)})
            per_network[network]["live_marked_not_published"] += 1
    for pk, marker in by_id.items():
        if len(groups[marker]) > 1:
            continue
        pub = pubs.get(pk, {})
        network = pub.get("channel__network", "?")
        out = posts_by_marker.get(marker, [])
        per_network[network]["publications"] += 1
        per_network[network]["network_posts"] += len(out)
        if len(out) > 1:
            dup.append({"publication": pk, "network": network, "copies": len(out),
                        "items": [r["item_id"] for r in out],
                        "at": [r["at"] for r in out], "status": pub.get("status")})
            per_network[network]["duplicates"] += len(out) - 1
        if not out and pk in expect_out:
            lost.append({"publication": pk, "network": network,
                         "status": pub.get("status"),
                         "why": pub.get("error_kind")})
            per_network[network]["lost"] += 1
        if out and pub.get("status") != "published":
            live_wrong.append({"publication": pk, "network": network,
                               "status": pub.get("status"),
                               "why": pub.get("error_kind"),
                               "message": (pub.get("last_error") or "")[:160]})
            per_network[network]["live_marked_not_published"] += 1
        if not out and pub.get("status") == "published":
            phantom.append({"publication": pk, "network": network})
        if out and pub.get("status") == "published" and pub.get("remote_id") and \
                not any(pub["remote_id"] in (r["item_id"], r["item_id"].split("/")[-1])
                        or r["item_id"].endswith(pub["remote_id"]) for r in out):
            wrong_id.append({"publication": pk, "network": network,
                             "kanal": pub["remote_id"],
                             "network_items": [r["item_id"] for r in out]})
        if stop_times and pk in stop_times:
            window = stop_times[pk]
            begin, end = window if isinstance(window, tuple) else (window, None)
            for r in out:
                start = received_at(r, sandbox.latency_ms + sandbox.publish_delay_ms,
                                    clock_offset)
                if start is None:
                    continue
                margin = (start - begin).total_seconds()
                if end is not None and start >= end:
                    continue
                if margin > 0:
                    margins.append(margin)
                if margin > STOP_TOLERANCE:
                    late_sends.append({"publication": pk, "network": network,
                                       "started_after_commit_s": round(margin, 3),
                                       "item": r["item_id"]})
                    per_network[network]["sends_after_stop"] += 1
        for r in out:
            start = received_at(r, sandbox.latency_ms + sandbox.publish_delay_ms,
                                clock_offset)
            planned_at = ORIGINAL_PLANNED.get(pk) or (pub or {}).get("planned_at")
            ahead = (planned_at - start).total_seconds() \
                if planned_at and start else 0
            if ahead > EARLY_TOLERANCE:
                early.append({"publication": pk, "network": network,
                              "seconds_before_planned": round(ahead, 3)})
        if first_comments and pub.get("first_comment") and out:
            got = replies_by_marker.get(marker, [])
            if len(got) > 1:
                reply_dup.append({"publication": pk, "network": network,
                                  "copies": len(got)})
            if not got:
                told = Notification.objects.filter(
                    subject=f"publishing.publication:{pk}",
                    kind__startswith="first_comment_").exists()
                (reply_told if told else reply_missing).append({
                    "publication": pk, "network": network,
                    "kanal": pub.get("first_comment_remote_id") or "(none)"})
    wrongly = list(Channel.objects.filter(status=ChannelStatus.NEEDS_RECONNECT)
                   .values_list("pk", "network", "last_error"))
    marked = AuditEntry.objects.filter(
        event="channels.channel.needs_reconnect").count() \
        if hasattr(AuditEntry, "event") else None
    result = {
        "publications": len(by_id),
        "network_posts": sum(len(posts_by_marker.get(m, []))
                             for m in set(by_id.values())),
        "duplicates": sum(d["copies"] - 1 for d in dup),
        "twins": sum(1 for pks in groups.values() if len(pks) > 1),
        "lost": len(lost),
        "live_marked_not_published": len(live_wrong),
        "live_marked_not_published_by_status": dict(Counter(
            s for e in live_wrong for s in ([e["status"]] if "status" in e
                                            else e["statuses"]))),
        "published_but_not_on_network": len(phantom),
        "wrong_remote_id": len(wrong_id),
        "sends_after_stop": len(late_sends),
        "sends_after_stop_within_tolerance": sum(
            1 for m in margins if m <= STOP_TOLERANCE),
        "latest_send_after_stop_s": round(max(margins), 3) if margins else None,
        "early_sends": len(early),
        "channels_needing_reconnect": len(wrongly),
        "needs_reconnect_events": marked,
        "kanal_statuses": dict(Counter(p["status"] for p in pubs.values())),
        "per_network": {k: dict(v) for k, v in sorted(per_network.items())},
        "evidence": {
            "duplicates": dup[:12], "lost": lost[:12],
            "live_marked_not_published": live_wrong[:12],
            "published_but_not_on_network": phantom[:6],
            "wrong_remote_id": wrong_id[:6],
            "sends_after_stop": sorted(late_sends, key=lambda r: -r[
                "started_after_commit_s"])[:12],
            "early_sends": early[:6],
            "channels_needing_reconnect": [
                {"channel": c, "network": n, "error": (e or "")[:160]}
                for c, n, e in wrongly[:8]],
        },
    }
    if first_comments:
        result["first_comment_duplicates"] = sum(r["copies"] - 1 for r in reply_dup)
        result["first_comment_missing"] = len(reply_missing)
        result["first_comment_missing_person_told"] = len(reply_told)
        result["evidence"]["first_comment_missing_person_told"] = reply_told[:8]
        result["evidence"]["first_comment_duplicates"] = reply_dup[:8]
        result["evidence"]["first_comment_missing"] = reply_missing[:8]
    return result


def ok_of(result: dict) -> bool:
    keys = ("duplicates", "lost", "live_marked_not_published",
            "published_but_not_on_network", "sends_after_stop", "early_sends",
            "channels_needing_reconnect", "first_comment_duplicates",
            "first_comment_missing")
    return all(not result.get(k) for k in keys)


def worker_log_summary(tmp: Path) -> dict:
    """Tracebacks and exits the workers wrote (evidence for the notes)."""
    errors = Counter()
    for path in sorted(tmp.glob("worker-*.log")):
        text = path.read_text(errors="replace")
        for line in text.splitlines():
            if re.match(r"^\w*(Error|Exception)\b|^[\w.]+(Error|Exception):", line):
                errors[line[:160]] += 1
    return dict(errors.most_common(8))


class Ticker:
    """Run ``fn`` every ``every`` seconds in a background thread."""

    def __init__(self, fn, every: float) -> None:
        self.fn, self.every = fn, every
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.errors = 0

    def loop(self) -> None:
        while not self.stop_event.wait(self.every):
            try:
                self.fn()
            except Exception:
                self.errors += 1
                logger.exception("ticker failed")

    def start(self) -> Ticker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)


def dump(obj) -> str:
    return json.dumps(obj, default=str, ensure_ascii=False)
