"""Answers from an emulator with their numbers taken away.

``blank_numbers(client, "null")`` makes every number in the JSON answers a
``NetworkClient`` receives null; ``"missing"`` drops those fields. The rest
of each answer is the emulator's own, so an adapter reads the real shapes
with the numbers absent, the way a network answers for a metric it no
longer offers or cannot give right now.
"""

from __future__ import annotations

import contextlib
import json

import httpx

MODES = ("null", "missing")


def _blank(value, mode: str):
    if isinstance(value, dict):
        return {
            key: None if _is_number(item) else _blank(item, mode)
            for key, item in value.items()
            if not (mode == "missing" and _is_number(item))
        }
    if isinstance(value, list):
        return [_blank(item, mode) for item in value]
    return value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class BlankingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, mode: str) -> None:
        self.inner = inner
        self.mode = mode

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if "json" not in response.headers.get("content-type", ""):
            return response
        body = _blank(json.loads(response.content or b"null"), self.mode)
        headers = [
            (name, value) for name, value in response.headers.items()
            if name.lower() not in {"content-length", "content-encoding"}
        ]
        return httpx.Response(response.status_code, headers=headers,
                              content=json.dumps(body).encode(), request=request)


@contextlib.contextmanager
def blank_numbers(client, mode: str):
    """While inside, ``client`` (a ``NetworkClient``) gets blanked answers."""
    assert mode in MODES
    http = client._client
    original = http._transport
    http._transport = BlankingTransport(original, mode)
    try:
        yield
    finally:
        http._transport = original
