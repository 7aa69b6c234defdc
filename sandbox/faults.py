"""Fault injection: queued failures each emulator renders its network's way.

A fault targets a network and optionally one account and one operation. It
fires ``count`` times (``None`` = until cleared), or with ``probability``
(drawn from a seeded ``random.Random``, so a given seed replays the same
sequence). The emulator asks ``FaultInjector.take`` at the start of each
operation and renders what it gets in the network's own envelope.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field

KINDS = frozenset(
    {
        "latency",  # delay_ms, then the request proceeds normally
        "rate_limit",  # the network's throttle response, with its reset headers
        "server_error",  # 5xx (or the network's "unknown error")
        "timeout_after_create",  # the write is applied, the answer comes delay_ms late
        "expired_token",
        "policy_block",
        "duplicate",
        "quota_exhausted",
        "invalid_media",
    }
)

OPERATIONS = frozenset(
    {
        "publish", "media", "delete", "reply", "hide", "pin", "repost", "inbox",
        "metrics", "hashtag", "token", "verify",
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
    id: int = 0
    fired: int = 0

    def as_json(self) -> dict:
        return asdict(self)


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
        if delay_ms is None:
            delay_ms = DEFAULT_DELAYS_MS.get(kind, 0)
        with self._lock:
            fault = Fault(
                network=network, kind=kind, account=account or None,
                operation=operation or None, count=count, probability=probability,
                delay_ms=int(delay_ms), params=dict(params or {}), id=self._next_id,
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
        """
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
