"""Fault injection: queued failures each emulator renders its network's way.

A fault targets a network and optionally one account and one operation. It
fires ``count`` times (``None`` = until cleared), or with ``probability``
(drawn from a seeded ``random.Random``, so a given seed replays the same
sequence). The emulator asks ``FaultInjector.take`` at the start of each
operation and renders what it gets in the network's own envelope.

A fault may also be narrowed to one HTTP ``method`` and a ``path`` (a
substring of the request path, or a shell pattern with ``*``), so a benchmark
can slow one endpoint or break one call of a multi-step flow.

The ``*_after_create`` kinds other than ``timeout_after_create`` are applied
by ``FaultMiddleware`` around the whole app: the emulator handles the request
normally (the write happens), then its answer is replaced: a 5xx in the
network's own error shape (``server_error_after_create``; ``params.status``,
``params.body="proxy"`` for a load balancer's HTML page), a 2xx whose body
is cut short (``unreadable_after_create``) or a 2xx whose body is readable
but hostile (``hostile_after_create``; ``params.answer`` says how, one of
``HOSTILE_ANSWERS``).
"""

from __future__ import annotations

import contextvars
import fnmatch
import json
import random
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime

KINDS = frozenset(
    {
        "latency",  # delay_ms, then the request proceeds normally
        "rate_limit",  # the network's throttle response, with its reset headers
        "server_error",  # 5xx (or the network's "unknown error")
        "timeout_after_create",  # the write is applied, the answer comes delay_ms late
        "expired_token",
        "policy_block",
        # The token lacks the permission for this call (Meta's
        # pages_messaging / instagram_manage_messages, X's dm.read, a Bluesky
        # app password without chat access); narrow it with ``path``.
        "missing_permission",
        "duplicate",
        "quota_exhausted",
        "invalid_media",
        "server_error_after_create",  # the write is applied, the answer is a 5xx
        "unreadable_after_create",  # the write is applied, the 2xx body is cut
        "hostile_after_create",  # the write is applied, the 2xx body is hostile
    }
)

# Kinds the emulator does not see: the middleware replaces its answer.
AFTER_KINDS = frozenset({"server_error_after_create", "unreadable_after_create",
                         "hostile_after_create"})

#: How ``hostile_after_create`` spoils a successful answer (``params.answer``):
#: every id in it (also LinkedIn's id headers) made 300 characters long, given
#: a NUL or a lone UTF-16 half, left out, or made an object; every address
#: made ``javascript:``, another host's or the text in ``params.url``
#: (``given_url``); or the whole body nested deeper than any parser goes.
HOSTILE_ANSWERS = frozenset({
    "long_id", "nul_id", "surrogate_id", "missing_id", "wrong_type_id",
    "javascript_url", "other_host_url", "given_url", "deep",
})

OPERATIONS = frozenset(
    {
        "publish", "media", "delete", "reply", "hide", "pin", "repost", "like",
        "inbox", "metrics", "hashtag", "token", "verify", "message", "read",
    }
)

# A client in a test times out quickly; the default delay outlasts it.
DEFAULT_DELAYS_MS = {"timeout_after_create": 3000, "latency": 500}


@dataclass
class Fault:
    network: str
    kind: str
    account: str | None = None
    operation: str | None = None
    count: int | None = 1
    probability: float | None = None
    delay_ms: int = 0
    # Extra, network-specific knobs (e.g. {"retry_after": 30, "code": 32}).
    params: dict = field(default_factory=dict)
    # Only requests with this method and path (substring, or pattern with *).
    method: str | None = None
    path: str | None = None
    id: int = 0
    fired: int = 0

    def as_json(self) -> dict:
        return asdict(self)

    def matches_request(self, request: RequestScope | None) -> bool:
        if self.method and (request is None
                            or request.method.upper() != self.method.upper()):
            return False
        if self.path:
            if request is None:
                return False
            if "*" in self.path or "?" in self.path:
                return fnmatch.fnmatchcase(request.path, self.path)
            return self.path in request.path
        return True


@dataclass
class RequestScope:
    """The request being handled (set by ``FaultMiddleware``)."""

    network: str = ""
    method: str = ""
    path: str = ""
    # An *_after_create fault taken while handling it: applied to the answer.
    after: Fault | None = None
    # Wall clock (not the sandbox clock) when the request arrived.
    received_at: datetime | None = None


CURRENT_REQUEST: contextvars.ContextVar[RequestScope | None] = (
    contextvars.ContextVar("sandbox_request", default=None)
)


def current_request() -> RequestScope | None:
    return CURRENT_REQUEST.get()


class FaultError(ValueError):
    pass


class FaultInjector:
    """Thread-safe queue of faults, plus a latency setting per network."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._latency: dict[str, int] = {}
        self._next_id = 1
        self._seed = seed
        self._rng = random.Random(seed)

    def add(
        self,
        network: str,
        kind: str,
        *,
        account: str | None = None,
        operation: str | None = None,
        count: int | None = 1,
        probability: float | None = None,
        delay_ms: int | None = None,
        params: dict | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> Fault:
        if kind not in KINDS:
            raise FaultError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        if operation is not None and operation not in OPERATIONS:
            raise FaultError(
                f"unknown operation {operation!r}; one of {sorted(OPERATIONS)}"
            )
        if probability is not None and not 0 <= probability <= 1:
            raise FaultError("probability must be between 0 and 1")
        if count is not None and count < 1:
            raise FaultError("count must be at least 1 (or null for no limit)")
        if kind == "hostile_after_create" and (params or {}).get(
                "answer") not in HOSTILE_ANSWERS:
            raise FaultError(
                f"hostile_after_create needs params.answer, one of "
                f"{sorted(HOSTILE_ANSWERS)}")
        if kind == "hostile_after_create" and params["answer"] == "given_url" and (
                not isinstance(params.get("url"), str)):
            raise FaultError("given_url needs params.url, a string")
        if path is not None and not isinstance(path, str):
            raise FaultError("path must be a string")
        if method is not None and not isinstance(method, str):
            raise FaultError("method must be a string")
        if delay_ms is None:
            delay_ms = DEFAULT_DELAYS_MS.get(kind, 0)
        with self._lock:
            fault = Fault(
                network=network, kind=kind, account=account or None,
                operation=operation or None, count=count, probability=probability,
                delay_ms=int(delay_ms), params=dict(params or {}),
                method=(method or "").upper() or None, path=path or None,
                id=self._next_id,
            )
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(
        self,
        network: str,
        operation: str,
        account: str | None = None,
        *,
        latency: bool | None = None,
    ) -> Fault | None:
        """The first matching fault (used up by one), or None.

        ``latency=True`` looks only at ``latency`` faults, ``False`` skips them.
        A fault with ``method`` or ``path`` matches only the request being
        handled (``current_request``).
        """
        request = current_request()
        with self._lock:
            for fault in self._faults:
                if fault.network != network:
                    continue
                if latency is not None and (fault.kind == "latency") != latency:
                    continue
                if fault.operation and fault.operation != operation:
                    continue
                if fault.account and fault.account != (account or ""):
                    continue
                if not fault.matches_request(request):
                    continue
                if (
                    fault.probability is not None
                    and self._rng.random() >= fault.probability
                ):
                    continue
                fault.fired += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return Fault(**{**asdict(fault)})
            return None

    def clear(self, network: str | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [
                f for f in self._faults if network and f.network != network
            ]
            return before - len(self._faults)

    def pending(self, network: str | None = None) -> list[Fault]:
        with self._lock:
            return [
                Fault(**asdict(f))
                for f in self._faults
                if network is None or f.network == network
            ]

    def set_latency(self, network: str, ms: int) -> None:
        with self._lock:
            if ms:
                self._latency[network] = int(ms)
            else:
                self._latency.pop(network, None)

    def latency_ms(self, network: str) -> int:
        with self._lock:
            return self._latency.get(network, self._latency.get("*", 0))

    def latencies(self) -> dict[str, int]:
        with self._lock:
            return dict(self._latency)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._latency.clear()
            self._rng = random.Random(self._seed)


# --------------------------------------------------------------------------
# Answers replaced after the write (the *_after_create kinds)

_SERVER_ERRORS = {
    "facebook": {"error": {"message": "An unknown error has occurred.",
                           "type": "OAuthException", "code": 1,
                           "is_transient": True, "fbtrace_id": "AsandboxTrace"}},
    "instagram": {"error": {"message": "An unexpected error has occurred. "
                            "Please retry your request later.",
                            "type": "OAuthException", "code": 2,
                            "is_transient": True, "fbtrace_id": "AsandboxTrace"}},
    "threads": {"error": {"message": "An unexpected error has occurred. Please "
                          "retry your request later.", "type": "OAuthException",
                          "code": 2, "is_transient": True,
                          "fbtrace_id": "AsandboxTrace"}},
    "x": {"title": "Internal Server Error", "detail": "Something went wrong. "
          "Try again later.", "type": "https://api.x.com/2/problems/internal-error",
          "status": 500},
    "mastodon": {"error": "We're sorry, but something went wrong on our end."},
    "bluesky": {"error": "InternalServerError", "message": "Internal Server Error"},
    "linkedin": {"message": "Internal Server Error", "status": 500},
}

PROXY_PAGE = (
    "<html><head><title>{status} Bad Gateway</title></head><body>"
    "<center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center>"
    "</body></html>"
)


def after_answer(fault: Fault, network: str, status: int, headers: list,
                 body: bytes) -> tuple[int, list, bytes]:
    """The answer that replaces ``(status, headers, body)`` for ``fault``."""
    params = fault.params or {}
    kept = [(k, v) for k, v in headers
            if k.lower() not in (b"content-length", b"content-type")]
    if fault.kind == "server_error_after_create":
        code = int(params.get("status", 500 if params.get("body") != "proxy"
                                else 502))
        if params.get("body") == "proxy":
            payload = PROXY_PAGE.format(status=code).encode()
            kind = b"text/html"
        else:
            shape = dict(_SERVER_ERRORS.get(network, {"error": "server error"}))
            if "status" in shape:
                shape["status"] = code
            payload = json.dumps(shape).encode()
            kind = b"application/json"
        return code, [*kept, (b"content-type", kind)], payload
    if fault.kind == "hostile_after_create":
        return hostile_answer(params["answer"], status, kept, headers, body,
                              url=params.get("url"))
    # unreadable_after_create: the status stays; the body is cut short (or, for
    # an answer without a body, becomes a few bytes that are not JSON).
    cut = body[: max(1, len(body) // 2)] if len(body) > 1 else b"{"
    original_type = next((v for k, v in headers if k.lower() == b"content-type"),
                         b"application/json")
    kept = [(k, v) for k, v in kept
            if k.lower() not in (b"x-restli-id", b"x-linkedin-id", b"location")]
    return status, [*kept, (b"content-type", original_type)], cut


#: Keys that name what a write made, in the seven networks' answers.
_ID_KEYS = frozenset({"id", "post_id", "message_id", "uri", "cid", "rest_id",
                      "dm_event_id", "media_id", "media_id_string", "id_str",
                      "urn", "activity"})
_ID_HEADERS = (b"x-restli-id", b"x-linkedin-id")
_URL_KEYS = frozenset({"url", "permalink", "permalink_url"})
_HOSTILE_URLS = {"javascript_url": "javascript:alert(document.cookie)",
                 "other_host_url": "https://evil.example/p/1"}
#: Deeper than any JSON parser nests (Python's stops near 1,000).
_DEEP = 100_000


def _spoiled_id(answer: str, value):
    if answer == "long_id":
        return "9" * 300
    if answer == "nul_id":
        return f"{value}\x00"
    if answer == "surrogate_id":
        return f"{value}\ud800"
    return {"id": value}  # wrong_type_id


def _spoiled(answer: str, value, url: str | None = None):
    """``value`` (a parsed answer) with its ids or addresses spoiled (every
    address made ``url`` for ``given_url``)."""
    if isinstance(value, list):
        return [_spoiled(answer, v, url) for v in value]
    if not isinstance(value, dict):
        return value
    spoiled = {}
    for key, inner in value.items():
        if key in _URL_KEYS and answer == "given_url":
            spoiled[key] = url
        elif key in _URL_KEYS and answer in _HOSTILE_URLS:
            spoiled[key] = _HOSTILE_URLS[answer]
        elif key in _ID_KEYS and answer.endswith("_id"):
            if answer == "missing_id":
                continue
            spoiled[key] = _spoiled_id(answer, inner)
        else:
            spoiled[key] = _spoiled(answer, inner, url)
    return spoiled


def hostile_answer(answer: str, status: int, kept: list, headers: list,
                   body: bytes, *, url: str | None = None) -> tuple[int, list, bytes]:
    """The 2xx of a write that happened (or of a read), made hostile the
    ``answer`` way."""
    if answer == "deep":
        payload = b"[" * _DEEP + b"]" * _DEEP
    else:
        try:
            parsed = json.loads(body) if body.strip() else None
        except ValueError:
            parsed = None
        payload = body if parsed is None else json.dumps(
            _spoiled(answer, parsed, url)).encode()
    out = []
    for key, value in kept:
        if key.lower() in _ID_HEADERS and answer.endswith("_id"):
            if answer == "missing_id":
                continue
            text = value.decode("latin-1")
            if answer in ("nul_id", "surrogate_id"):
                # A header carries neither: a byte no id has instead.
                value = text.encode("latin-1") + b"\xff"
            else:
                spoiled = _spoiled_id(answer, text)
                value = (json.dumps(spoiled) if isinstance(spoiled, dict)
                         else spoiled).encode("latin-1")
        out.append((key, value))
    kind = next((v for k, v in headers if k.lower() == b"content-type"),
                b"application/json")
    return status, [*out, (b"content-type", kind)], payload
