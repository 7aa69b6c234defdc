"""Meta-style webhooks sent by the sandbox to Kanal.

Verification: a GET to the subscriber with ``hub.mode=subscribe``,
``hub.verify_token`` and ``hub.challenge``; the subscriber must answer 200
with the raw challenge. Events: a POST of JSON with
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``.

Delivery is best effort, in a background thread with a short timeout, so an
API response never waits for Kanal. The last deliveries are kept in memory
(``recent``) for tests and the control API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import httpx

logger = logging.getLogger("sandbox.webhooks")

TIMEOUT_SECONDS = 3.0


def signature(app_secret: str, body: bytes) -> str:
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass
class Delivery:
    network: str
    url: str
    body: str
    signature: str
    status: int | None = None
    error: str = ""
    at: str = ""

    def as_json(self) -> dict:
        return asdict(self)


class WebhookSender:
    """Sends signed events to ``default_url`` and the store's subscriptions.

    ``default_url`` may contain ``{network}`` (e.g.
    ``http://127.0.0.1:8000/webhooks/{network}/``).
    """

    def __init__(self, *, store, default_url: str = "", app_secret: str = "") -> None:
        self.store = store
        self.default_url = default_url
        self.app_secret = app_secret
        self.recent: deque[Delivery] = deque(maxlen=200)
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- verification (synchronous: the caller asked for it) --------------

    def verify_subscriber(self, url: str, verify_token: str) -> bool:
        challenge = secrets.token_hex(8)
        try:
            response = httpx.get(
                url,
                params={
                    "hub.mode": "subscribe",
                    "hub.verify_token": verify_token,
                    "hub.challenge": challenge,
                },
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as e:
            logger.warning("webhook verification of %s failed: %s", url, e)
            return False
        return response.status_code == 200 and response.text.strip() == challenge

    # -- events --------------------------------------------------------------

    def targets(self, network: str) -> list[str]:
        urls = [
            s.callback_url for s in self.store.subscriptions(network) if s.verified
        ]
        if self.default_url:
            urls.append(self.default_url.replace("{network}", network))
        return list(dict.fromkeys(urls))

    def send(self, network: str, payload: dict) -> int:
        """Queue ``payload`` for every target; returns how many were queued."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        urls = self.targets(network)
        for url in urls:
            self._queue.put((network, url, body.encode()))
        if urls:
            self._ensure_thread()
        return len(urls)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sandbox-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            while True:
                try:
                    network, url, body = self._queue.get(timeout=30)
                except queue.Empty:
                    # Under the lock, so a concurrent send starts a new thread.
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                try:
                    self._deliver(client, network, url, body)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, network: str, url: str, body: bytes):
        signed = signature(self.app_secret, body)
        delivery = Delivery(
            network=network, url=url, body=body.decode(), signature=signed,
            at=datetime.now(UTC).isoformat(),
        )
        try:
            response = client.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": signed,
                    "User-Agent": "facebookexternalua",
                },
            )
            delivery.status = response.status_code
        except httpx.HTTPError as e:
            delivery.error = type(e).__name__
            logger.info("webhook to %s not delivered: %s", url, e)
        self.recent.append(delivery)

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until queued events are delivered (tests)."""
        deadline = datetime.now(UTC).timestamp() + timeout
        while (
            self._queue.unfinished_tasks
            and datetime.now(UTC).timestamp() < deadline
        ):
            threading.Event().wait(0.02)
