"""Fetching a feed safely: conditional requests, a size limit, a deadline, at
most three redirects, and no connection to a private, link-local, loopback or
reserved address unless the source is allowed one.

Each hop's host is resolved here and the connection goes to exactly the
address that was checked (the URL carries the IP, the Host header and TLS
server name carry the name), so a name that resolves differently a moment
later (DNS rebinding) cannot slip past the check.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
from django.conf import settings

from .reasons import _

logger = logging.getLogger("kanal.sources")

MAX_REDIRECTS = 3
USER_AGENT = "Kanal-kildehenter/1.0"


def max_bytes() -> int:
    return int(getattr(settings, "KANAL_SOURCES_MAX_BYTES", 20 * 1024 * 1024))


def timeout_seconds() -> float:
    return float(getattr(settings, "KANAL_SOURCES_TIMEOUT_SECONDS", 15))


class FetchError(Exception):
    """A fetch that failed; ``str()`` is a plain Danish sentence for the desk."""


@dataclass(frozen=True)
class FetchResult:
    not_modified: bool
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    final_url: str = ""


Resolver = Callable[[str, int], list[str]]


class _DeadlineBackend(httpcore.NetworkBackend):
    """Sockets whose every connect, read and write waits at most until one
    moment: the fetch's overall deadline. A per-read timeout alone lets a
    server that sends a byte now and then keep a fetch (and the worker's
    source job, or a person's request) busy for as long as it likes."""

    def __init__(self, deadline: float):
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def left(self, timeout: float | None, error=httpcore.ReadTimeout) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the fetch's overall deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host, port, timeout=None, local_address=None,
                    socket_options=None):
        stream = self._inner.connect_tcp(
            host, port, self.left(timeout, httpcore.ConnectTimeout),
            local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("no unix sockets for feeds")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream, backend: _DeadlineBackend):
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._backend.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        stream = self._stream.start_tls(
            ssl_context, server_hostname, self._backend.left(timeout))
        return _DeadlineStream(stream, self._backend)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


def _transport(deadline: float) -> httpx.HTTPTransport:
    """httpx's own transport over sockets that keep ``deadline``. httpx takes
    no network backend, so its connection pool is replaced by one that has
    it (same TLS context, environment ignored)."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=_DeadlineBackend(deadline),
    )
    return transport


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def address_refused(address: str) -> bool:
    """True for an address Kanal must not fetch from without permission:
    private, loopback, link-local, multicast, reserved or otherwise not
    public (IPv4 mapped into IPv6 is judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _pinned_url(parts, address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def _check_hop(url: str, *, allow_private: bool, resolver: Resolver):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(
            _("Adressen %(url)s er ikke en http- eller https-adresse.") % {"url": url}
        )
    if parts.username or parts.password:
        raise FetchError(_("Adressen må ikke indeholde brugernavn eller adgangskode."))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolver(parts.hostname, port)
    except (OSError, UnicodeError) as e:
        raise FetchError(
            _("Navnet %(host)s findes ikke (DNS). Tjek adressen.")
            % {"host": parts.hostname}
        ) from e
    if not addresses:
        raise FetchError(
            _("Navnet %(host)s findes ikke (DNS). Tjek adressen.")
            % {"host": parts.hostname}
        )
    if not allow_private and any(address_refused(a) for a in addresses):
        raise FetchError(
            _(
                "%(host)s peger på en intern adresse (%(address)s). Kanal henter "
                "kun fra interne adresser, når en administrator har tilladt det "
                "for kilden."
            )
            % {"host": parts.hostname, "address": addresses[0]}
        )
    return parts, addresses[0]


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    allow_private: bool = False,
    resolver: Resolver = resolve,
    transport: httpx.BaseTransport | None = None,
    limit: int | None = None,
    too_big=None,
) -> FetchResult:
    """GET ``url`` conditionally; raise ``FetchError`` with a Danish reason.

    ``limit`` (bytes) and ``too_big`` (the reason to give past it) default
    to a feed's."""
    limit = limit or max_bytes()
    timeout = timeout_seconds()
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    seen: list[str] = []
    with httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        transport=transport or _transport(deadline),
        trust_env=False,
    ) as client:
        while True:
            parts, address = _check_hop(
                url, allow_private=allow_private, resolver=resolver
            )
            seen.append(url)
            host_header = parts.netloc.rsplit("@", 1)[-1]
            try:
                with client.stream(
                    "GET",
                    _pinned_url(parts, address),
                    headers={**headers, "Host": host_header},
                    extensions={"sni_hostname": parts.hostname},
                ) as response:
                    if response.status_code == 304:
                        return FetchResult(not_modified=True, final_url=url)
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location", "")
                        if len(seen) > MAX_REDIRECTS:
                            raise FetchError(
                                _(
                                    "Adressen sender videre mere end %(n)s gange "
                                    "(måske i ring). Brug den endelige adresse."
                                )
                                % {"n": MAX_REDIRECTS}
                            )
                        if not location:
                            raise FetchError(
                                _("Serveren sendte videre uden at sige hvorhen.")
                            )
                        url = urljoin(url, location)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(_status_message(response.status_code))
                    body = _read_limited(response, limit, deadline, too_big)
                    logger.info(
                        "source fetched url=%s status=%s bytes=%s",
                        url,
                        response.status_code,
                        len(body),
                    )
                    return FetchResult(
                        not_modified=False,
                        body=body,
                        content_type=response.headers.get("content-type", ""),
                        etag=response.headers.get("etag", "")[:500],
                        last_modified=response.headers.get("last-modified", "")[:100],
                        final_url=url,
                    )
            except httpx.TimeoutException as e:
                raise FetchError(_timeout_message(timeout)) from e
            except httpx.DecodingError as e:
                raise FetchError(
                    _("Serverens komprimerede svar kunne ikke pakkes ud.")
                ) from e
            except httpx.HTTPError as e:
                raise FetchError(
                    _(
                        "Kanal kunne ikke få forbindelse til %(host)s. Prøv igen "
                        "senere, eller tjek adressen."
                    )
                    % {"host": parts.hostname}
                ) from e


def _timeout_message(timeout: float) -> str:
    return _(
        "Serveren svarede ikke færdigt inden for %(seconds)s sekunder. Kanal "
        "prøver igen ved næste hentning."
    ) % {"seconds": f"{timeout:g}"}


def _read_limited(
    response: httpx.Response, limit: int, deadline: float, reason=None
) -> bytes:
    too_big = FetchError(
        reason
        or _(
            "Feedet er større end %(mb)s MB, som er grænsen. Bed udgiveren om et "
            "mindre feed (fx kun kommende begivenheder)."
        )
        % {"mb": limit // (1024 * 1024)}
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise too_big
        if time.monotonic() > deadline:
            raise FetchError(_timeout_message(timeout_seconds()))
        chunks.append(chunk)
    return b"".join(chunks)


def _status_message(status: int) -> str:
    if status == 404:
        return _("Feedet findes ikke længere på adressen (404). Tjek adressen.")
    if status in (401, 403):
        return _("Serveren afviser Kanal (%(status)s). Feedet kræver måske login.") % {
            "status": status
        }
    if status == 429:
        return _("Serveren beder Kanal vente (429). Kanal prøver igen senere.")
    if status >= 500:
        return _("Serveren har en fejl (%(status)s). Kanal prøver igen senere.") % {
            "status": status
        }
    return _("Serveren svarede %(status)s i stedet for feedet.") % {"status": status}
