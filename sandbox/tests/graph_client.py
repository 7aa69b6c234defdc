"""Raw HTTP against one Meta Graph emulator (Facebook, Instagram or Threads):
an ``EmulatorClient`` whose token goes in ``access_token``, as Graph takes it."""

from __future__ import annotations

import httpx

from .emulator_client import EmulatorClient


class GraphClient(EmulatorClient):
    """One Graph emulator with the demo data, a token and calls by path below
    the API version."""

    def __init__(self, tmp_path, network: str, *, version: str, account: str,
                 token: str) -> None:
        super().__init__(tmp_path, network, account=account, token=token,
                         root=f"/{version}")

    def headers(self, token: str | None) -> dict:
        return {}  # the token is a parameter

    def request(self, method: str, path: str, *, token: str | None = None,
                **params) -> httpx.Response:
        params["access_token"] = self.token if token is None else token
        if method == "GET":
            return self.call("GET", path, params=params)
        return self.call(method, path, data=params)

    def get(self, path: str, **params) -> httpx.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, **params) -> httpx.Response:
        return self.request("POST", path, **params)


def error(response: httpx.Response) -> dict:
    """The Graph error envelope's body, after checking it is one."""
    assert response.status_code >= 400, response.text
    return response.json()["error"]
