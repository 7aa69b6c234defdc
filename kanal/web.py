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
import os
import re
import socket
import stat
import sys
import tempfile


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


def main() -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    try:
        config = settings_from_environment()
        can_listen(config["address"], config["port"])
        fresh_metrics_directory()
    except BadSetting as e:
        sys.exit(f"kanal-web: {e}")
    # The processes size their gate for request bodies by it (kanal/wsgi.py).
    os.environ["KANAL_WEB_THREADS"] = str(config["blocking_threads"])
    Server(
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
