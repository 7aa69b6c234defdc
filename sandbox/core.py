"""What every network module is given: ``SandboxContext`` (``ctx``).

A network module (``sandbox/networks/<slug>.py``) exposes
``routes(ctx) -> list[starlette.routing.BaseRoute]`` and may expose the
optional hooks listed in ``sandbox/README.md``. ``ctx`` bundles the store,
the fault injector, the clock, the webhook sender and the configuration.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import ModuleType

from .faults import (
    AFTER_KINDS,
    CURRENT_REQUEST,
    Fault,
    FaultInjector,
    RequestScope,
    after_answer,
    current_request,
)
from .store import Item, Store
from .webhooks import WebhookSender

logger = logging.getLogger("sandbox")

DEFAULT_APP_SECRET = "sandbox-app-secret"


@dataclass
class SandboxConfig:
    base_url: str = "http://127.0.0.1:8765"
    db_path: str = "var/sandbox.sqlite3"
    latency_ms: int = 0
    webhook_url: str = field(
        default_factory=lambda: os.environ.get("SANDBOX_WEBHOOK_URL", "")
    )
    app_secret: str = field(
        default_factory=lambda: os.environ.get(
            "SANDBOX_APP_SECRET", DEFAULT_APP_SECRET
        )
    )
    seed: int | None = None
    citizens_every: float = 0.0
    # Mount only these slugs (None = every module in NETWORKS that exists).
    networks: tuple[str, ...] | None = None


class Clock:
    """Real time plus an offset that the control API can move forward.

    Each network may also have a clock of its own (``set_network_offset``):
    while a request to that network is handled, ``now()`` adds its offset,
    so its timestamps, token expiry and ``Date`` header are minutes off the
    rest of the world, as a real network's may be.
    """

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = timedelta(seconds=offset_seconds)
        self._network_offsets: dict[str, timedelta] = {}
        self._lock = threading.Lock()

    def now(self, network: str | None = None) -> datetime:
        if network is None:
            request = current_request()
            network = request.network if request is not None else ""
        with self._lock:
            extra = self._network_offsets.get(network or "", timedelta(0))
            return datetime.now(UTC) + self._offset + extra

    def set_network_offset(self, network: str, seconds: float) -> None:
        with self._lock:
            if seconds:
                self._network_offsets[network] = timedelta(seconds=seconds)
            else:
                self._network_offsets.pop(network, None)

    def network_offsets(self) -> dict[str, float]:
        with self._lock:
            return {k: v.total_seconds() for k, v in self._network_offsets.items()}

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)
            self._network_offsets.clear()


class SandboxContext:
    """The sandbox's shared services, handed to each network module."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.store = Store(config.db_path, now=self.clock.now)
        self.faults = FaultInjector(seed=config.seed)
        self.rng = random.Random(config.seed)
        self.webhooks = WebhookSender(
            store=self.store,
            default_url=config.webhook_url,
            app_secret=config.app_secret,
        )
        self.networks: dict[str, ModuleType] = {}

    # -- time ---------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    async def sleep(self, ms: float) -> None:
        if ms > 0:
            await asyncio.sleep(ms / 1000)

    # -- faults -------------------------------------------------------------

    async def fault(
        self, network: str, operation: str, account: str | None = None
    ) -> Fault | None:
        """Apply latency (global, per network, ``latency`` faults), then return
        the fault the emulator must render for this operation, if any.

        A ``timeout_after_create`` fault is returned too: the emulator applies
        the write, then ``await ctx.sleep(fault.delay_ms)`` before answering.
        """
        delay = self.config.latency_ms + self.faults.latency_ms(network)
        slow = self.faults.take(network, operation, account, latency=True)
        if slow is not None:
            delay += slow.delay_ms
        await self.sleep(delay)
        fault = self.faults.take(network, operation, account, latency=False)
        if fault is not None and fault.kind in AFTER_KINDS:
            # The emulator proceeds as if nothing happened; FaultMiddleware
            # replaces its answer once the write is done.
            request = current_request()
            if request is not None:
                request.after = fault
            return None
        return fault

    # -- ids and urls ---------------------------------------------------------

    def public_url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def token(self, prefix: str, nbytes: int = 16) -> str:
        return f"{prefix}{secrets.token_hex(nbytes)}"

    def new_id(
        self, network: str, kind: str, *, account_id: str = "", parent_id: str = ""
    ) -> str:
        """An id in the network's style (module hook ``new_id``), else numeric."""
        module = self.networks.get(network)
        hook = getattr(module, "new_id", None)
        if hook is not None:
            return hook(self, kind, account_id=account_id, parent_id=parent_id)
        return str(self.store.next_seq(f"{network}:id", start=1_000_000))

    # -- simulated citizens -------------------------------------------------

    def add_citizen_item(
        self,
        network: str,
        *,
        kind: str,
        account_id: str,
        text: str,
        parent_id: str = "",
        root_id: str = "",
        author_id: str = "",
        author_name: str = "",
        data: dict | None = None,
    ) -> Item:
        """A comment, reply, mention, message or public post by a citizen.

        ``account_id`` is the account the item is addressed to (the owner of
        the post commented on, or the one mentioned). The module's
        ``citizen_item`` hook, if any, creates it in the network's own way;
        otherwise a generic item is stored. The module's ``on_citizen_item``
        hook (webhooks, counters) runs afterwards.
        """
        module = self.networks.get(network)
        author_id = author_id or f"citizen-{self.rng.randrange(10**6, 10**7)}"
        author_name = author_name or "Borger"
        hook = getattr(module, "citizen_item", None)
        if hook is not None:
            item = hook(
                self, kind=kind, account_id=account_id, text=text,
                parent_id=parent_id, root_id=root_id, author_id=author_id,
                author_name=author_name, data=data or {},
            )
        else:
            if parent_id and not root_id:
                parent = self.store.get_item(network, parent_id)
                root_id = (parent.root_id or parent.item_id) if parent else ""
            item = self.store.add_item(
                network, account_id,
                self.new_id(network, kind, account_id=account_id,
                            parent_id=parent_id),
                kind, text=text, parent_id=parent_id, root_id=root_id,
                author_id=author_id, author_name=author_name, data=data,
            )
        after = getattr(module, "on_citizen_item", None)
        if after is not None:
            try:
                after(self, item)
            except Exception:
                logger.exception("on_citizen_item hook of %s failed", network)
        return item


class SandboxMiddleware:
    """Around every request: which network it is for (so the clock and path
    faults know), a ``Date`` header on that network's clock, and the answers
    the ``*_after_create`` faults replace (see ``sandbox.faults``)."""

    def __init__(self, app, ctx: SandboxContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        first = path.lstrip("/").split("/", 1)[0]
        network = first if first in self.ctx.networks else ""
        request = RequestScope(network=network, method=scope.get("method", ""),
                               path=path, received_at=datetime.now(UTC))
        token = CURRENT_REQUEST.set(request)
        held: dict | None = None
        chunks: list[bytes] = []

        def dated(headers: list) -> list:
            stamp = format_datetime(self.ctx.clock.now(network), usegmt=True)
            return [*(h for h in headers if h[0].lower() != b"date"),
                    (b"date", stamp.encode())]

        async def send_wrapper(message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = dated(list(message.get("headers", [])))
                message = {**message, "headers": headers}
                if request.after is not None:
                    held = message
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                fault = request.after
                status, headers, body = after_answer(
                    fault, network, held["status"], held["headers"],
                    b"".join(chunks),
                )
                logger.info("sandbox: %s answer to %s %s replaced (%s)",
                            network, request.method, path, fault.kind)
                headers = [*headers, (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": status,
                            "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            CURRENT_REQUEST.reset(token)
