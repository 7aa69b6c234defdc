"""Raw HTTP against one Meta Graph emulator (Instagram or Threads): its
Starlette app, in process, through httpx's ASGI transport."""

from __future__ import annotations

import asyncio

import httpx

from sandbox.app import create_app
from sandbox.core import SandboxConfig


class GraphClient:
    """One emulator with the demo data, a token and calls by path."""

    def __init__(self, tmp_path, network: str, *, version: str, account: str,
                 token: str) -> None:
        self.app = create_app(SandboxConfig(
            db_path=str(tmp_path / "s.sqlite3"), networks=(network,), seed=3))
        self.network, self.account, self.token = network, account, token
        self.root = f"/{network}/{version}"

    @property
    def store(self):
        return self.app.state.ctx.store

    def request(self, method: str, path: str, *, token: str | None = None,
                **params) -> httpx.Response:
        params["access_token"] = self.token if token is None else token

        async def run():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1:8765"
            ) as client:
                if method == "GET":
                    return await client.get(self.root + path, params=params)
                return await client.request(method, self.root + path, data=params)

        return asyncio.run(run())

    def get(self, path: str, **params) -> httpx.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, **params) -> httpx.Response:
        return self.request("POST", path, **params)

    def set_account(self, **extra) -> None:
        self.store.update_account(self.network, self.account, extra=extra)

    def advance(self, seconds: float) -> None:
        self.app.state.ctx.clock.advance(seconds)

    def published(self, kind: str | None = None) -> list:
        return [r for r in self.store.published(self.network, self.account)
                if kind is None or r.kind == kind]


def error(response: httpx.Response) -> dict:
    """The Graph error envelope's body, after checking it is one."""
    assert response.status_code >= 400, response.text
    return response.json()["error"]
