"""Raw HTTP against one network emulator: its Starlette app, in process,
through httpx's ASGI transport, with the demo data, and the sandbox's control
API (faults, citizens, clock) beside it."""

from __future__ import annotations

import asyncio

import httpx

from sandbox.app import create_app
from sandbox.core import SandboxConfig


class EmulatorClient:
    """One emulator (``network``) with the demo account; calls by path below
    ``root`` with ``headers`` (the account's bearer token unless replaced)."""

    def __init__(self, tmp_path, network: str, *, account: str, token: str,
                 root: str = "") -> None:
        self.app = create_app(SandboxConfig(
            db_path=str(tmp_path / "s.sqlite3"), networks=(network,), seed=3))
        self.network, self.account, self.token = network, account, token
        self.root = f"/{network}{root}"

    @property
    def store(self):
        return self.app.state.ctx.store

    def headers(self, token: str | None) -> dict:
        return {"Authorization": f"Bearer {self.token if token is None else token}"}

    def call(self, method: str, path: str, *, token: str | None = None,
             headers: dict | None = None, **kwargs) -> httpx.Response:
        """One call to the emulator (``path`` below ``root``, or an absolute
        ``/_sandbox/…`` control path); ``kwargs`` as httpx takes them."""
        return self.calls(1, method, path, token=token, headers=headers,
                          **kwargs)[0]

    def calls(self, times: int, method: str, path: str, *, token: str | None = None,
              headers: dict | None = None, **kwargs) -> list[httpx.Response]:
        """The same call ``times`` times, in order."""
        url = path if path.startswith("/_sandbox/") else self.root + path
        sent = {**self.headers(token), **(headers or {})}

        async def run():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1:8765"
            ) as client:
                return [await client.request(method, url, headers=sent, **kwargs)
                        for _ in range(times)]

        return asyncio.run(run())

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def delete(self, path: str, **kwargs) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)

    def fault(self, kind: str, operation: str, **extra) -> None:
        """Schedule one fault for the account's next ``operation``."""
        made = self.call("POST", "/_sandbox/faults", json={
            "network": self.network, "kind": kind, "operation": operation,
            "account": self.account, **extra})
        assert made.status_code == 201, made.text

    def citizen(self, text: str, **extra) -> str:
        """A citizen's item (a mention, or an answer to ``parent_id``): its id."""
        made = self.call("POST", "/_sandbox/citizens/item", json={
            "network": self.network, "account": self.account, "text": text,
            "author_id": "borger-7", "author_name": "Ida Holm", **extra})
        assert made.status_code == 201, made.text
        return made.json()["item_id"]

    def set_account(self, **extra) -> None:
        self.store.update_account(self.network, self.account, extra=extra)

    def advance(self, seconds: float) -> None:
        self.app.state.ctx.clock.advance(seconds)

    def published(self, kind: str | None = None) -> list:
        return [r for r in self.store.published(self.network, self.account)
                if kind is None or r.kind == kind]
