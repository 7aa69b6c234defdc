"""``kanal-web``: the production web tier, granian serving ``kanal.wsgi``.

Every value comes from the environment (README, "Configuration"), with a
default for one machine: ``KANAL_WEB_BIND``, ``KANAL_WEB_WORKERS``,
``KANAL_WEB_THREADS``, ``KANAL_WEB_LIFETIME``, ``KANAL_WEB_BACKLOG`` and
``PROMETHEUS_MULTIPROC_DIR``. This process never imports Django: the
processes it forks each load the application themselves, with nothing
(a database connection, a metrics registry) inherited.

Why granian, not gunicorn: a signed webhook costs Kanal's own Python about
half a millisecond; gunicorn's HTTP handling, written in Python, added
0.3-0.6 ms more, granian's (compiled) about 0.1 ms (BENCHMARKS.md, "Inbox:
Meta webhook intake"). ``SIGHUP`` replaces the processes one at a time
(upgrades); ``SIGTERM`` lets requests in flight finish.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path

from granian.constants import Interfaces
from granian.server import Server

log = logging.getLogger("kanal.web")


class BadSetting(ValueError):
    """A setting in the environment Kanal cannot start with (in Danish)."""


def _number(name: str, default: int, least: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadSetting(f"{name} skal være et helt tal, ikke {raw!r}.")
    if int(raw) < least:
        raise BadSetting(f"{name} skal være mindst {least}, ikke {raw}.")
    return int(raw)


def settings_from_environment() -> dict:
    """The server's settings, read and checked before anything starts."""
    bind = os.environ.get("KANAL_WEB_BIND", "127.0.0.1:8000").strip()
    host, _sep, port = bind.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise BadSetting(f"KANAL_WEB_BIND skal være vært:port, ikke {bind!r}.")
    lifetime = _number("KANAL_WEB_LIFETIME", 86400, least=0)
    if 0 < lifetime < 60:
        raise BadSetting("KANAL_WEB_LIFETIME skal være 0 (aldrig) eller mindst "
                         f"60 sekunder, ikke {lifetime}.")
    address = host.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        # The server takes an address, not a name: a name ended in a traceback.
        raise BadSetting(
            "KANAL_WEB_BIND skal være en IP-adresse og en port "
            f"(fx 127.0.0.1:8000 eller [::1]:8000), ikke {bind!r}."
        ) from None
    return {
        "address": address,
        "port": int(port),
        # Processes for the CPUs; threads for the database's waits.
        "workers": _number("KANAL_WEB_WORKERS", os.cpu_count() or 1, least=1),
        "blocking_threads": _number("KANAL_WEB_THREADS", 8, least=1),
        # A process is renewed after this many seconds (0: never), so a slow
        # leak never grows old; one at a time, as on a reload.
        "workers_lifetime": lifetime or None,
        "backlog": _number("KANAL_WEB_BACKLOG", 1024, least=128),
    }


#: The files prometheus-client keeps per process ("histogram_4711.db"); only
#: these are removed, whatever else an operator keeps in the directory.
_METRICS_FILE = re.compile(
    r"(counter|histogram|summary|gauge_(live)?(all|min|max|sum|mostrecent))_\d+\.db"
)


def fresh_metrics_directory() -> str:
    """Request latency from every process is kept in files in
    ``PROMETHEUS_MULTIPROC_DIR`` and added up at scrape time; a new server
    starts them from zero. Set before any process loads the application.

    Only the metrics' own files are removed (the directory may be one that
    holds more, by an operator's mistake); the default, a fixed name in the
    shared temporary directory, must be this user's own directory, not a
    link or a directory another user made first."""
    default = os.path.join(tempfile.gettempdir(), f"kanal-prometheus-{os.getuid()}")
    directory = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", default)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if directory == default:
        found = os.lstat(directory)
        if (not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid()
                or found.st_mode & 0o002):
            raise BadSetting(
                f"{directory} er ikke brugerens egen mappe; sæt "
                "PROMETHEUS_MULTIPROC_DIR til en mappe kun Kanal skriver i.")
    with os.scandir(directory) as entries:
        for entry in entries:
            ours = _METRICS_FILE.fullmatch(entry.name)
            if ours and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
    return directory


def can_listen(address: str, port: int) -> None:
    """Refuse, in Danish, an address this machine cannot listen on (not one
    of its own, or taken); the server itself stopped with a panic's trace."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as e:
            raise BadSetting(f"KANAL_WEB_BIND: kan ikke lytte på {address} port "
                             f"{port} ({e.strerror or e}).") from None


MIGRATE_REQUESTS = Path("/proc/sys/net/ipv4/tcp_migrate_req")


def kernel_warning(config: dict) -> str | None:
    """Each process listens on its own socket (SO_REUSEPORT): when a reload
    or ``KANAL_WEB_LIFETIME`` replaces a process, the connections waiting in
    its queue are reset unless Linux moves them to another process's queue
    (``net.ipv4.tcp_migrate_req``, Linux 5.14+; deploy/sysctl/)."""
    if sys.platform != "linux" or config["workers"] < 2:
        return None
    try:
        if MIGRATE_REQUESTS.read_text().strip() == "1":
            return None
    except OSError:
        pass
    return ("kanal-web: advarsel: net.ipv4.tcp_migrate_req er ikke slået til, så "
            "forbindelser i kø hos en proces, der udskiftes (systemctl reload, "
            "KANAL_WEB_LIFETIME), afbrydes. Slå den til med "
            "deploy/sysctl/60-kanal.conf (sysctl --system).")


#: How long a new process may take to load Kanal and listen before a reload
#: gives it up and keeps the process it was to replace.
START_SECONDS = 120


def _listening_inodes(port: int) -> set[str]:
    """The sockets listening on ``port`` on this machine (Linux's tables)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a socket listening on ``port``."""
    try:
        links = [os.readlink(entry.path) for entry in os.scandir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    held = {link[8:-1] for link in links if link.startswith("socket:[")}
    return bool(held & _listening_inodes(port))


class KanalServer(Server):
    """granian's server, but a process being replaced (``SIGHUP``,
    ``KANAL_WEB_LIFETIME``) is stopped only once its successor listens.

    granian stops it after a fixed pause (3.5 s) instead; when loading Kanal
    took longer, on a busy machine or after an upgrade, no process listened
    for a moment and connections were refused. A successor that dies or
    never listens leaves the old process serving, with the error logged: an
    upgrade that cannot start does not take the site down; the next reload
    tries again."""

    def _respawn_workers(self, workers, spawn_target, target_loader, delay: float = 0):
        for idx in workers:
            if self.interrupt_signal:
                return  # stopping (SIGTERM): the rest stop as they are
            old = self.wrks[idx]
            successor = self._spawn_worker(idx=idx, target=spawn_target,
                                           callback_loader=target_loader)
            # Until it listens, its end is this method's to handle, not a
            # crash for granian to answer by starting yet another.
            successor.interrupt_by_parent = old.is_alive()
            successor.start()
            if old.is_alive() and not self._started(successor):
                successor.kill()
                successor.join()
                if self.interrupt_signal:
                    # SIGTERM while it loaded: no wait for it (START_SECONDS
                    # is longer than systemd waits before it kills).
                    return
                log.error("kanal-web: den nye proces %d lyttede ikke efter %d sekunder "
                          "eller stoppede; den gamle proces %d tjener videre",
                          idx + 1, START_SECONDS, old.inner.pid)
                return
            successor.interrupt_by_parent = False
            self.wrks[idx] = successor
            # The old process's end is this method's from here, even when
            # it died while its successor loaded: not a crash for granian to
            # answer by replacing the successor just started ("crash loop",
            # the whole server exited).
            old.interrupt_by_parent = True
            if idx in self.interrupt_children:
                self.interrupt_children.remove(idx)
            self.respawned_wrks[idx] = time.monotonic()
            old.terminate()
            old.join(self.workers_kill_timeout)
            if old.is_alive():
                log.warning("kanal-web: den gamle proces %d stoppede ikke på %d "
                            "sekunder og blev dræbt", idx + 1,
                            self.workers_kill_timeout)
                old.kill()
                old.join()
            self._metrics.incr_spawn(1)

    def _started(self, process) -> bool:
        if not Path("/proc/net/tcp").exists():  # not Linux: granian's own pause
            time.sleep(self.respawn_interval)
            return process.is_alive()
        deadline = time.monotonic() + START_SECONDS
        while (process.is_alive() and time.monotonic() < deadline
               and not self.interrupt_signal):
            if listens(process.inner.pid, self.bind_port):
                return True
            time.sleep(0.05)
        return False


def main() -> None:
    try:
        config = settings_from_environment()
        can_listen(config["address"], config["port"])
        fresh_metrics_directory()
    except BadSetting as e:
        sys.exit(f"kanal-web: {e}")
    if warning := kernel_warning(config):
        print(warning, file=sys.stderr, flush=True)
    # The processes size their gate for request bodies by it (kanal/wsgi.py).
    os.environ["KANAL_WEB_THREADS"] = str(config["blocking_threads"])
    KanalServer(
        "kanal.wsgi:application",
        interface=Interfaces.WSGI,
        websockets=False,
        respawn_failed_workers=True,
        # Requests in flight get this long to finish on SIGTERM and SIGHUP.
        workers_kill_timeout=30,
        **config,
    ).serve()


if __name__ == "__main__":
    main()
