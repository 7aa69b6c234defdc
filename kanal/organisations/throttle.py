"""Login throttling: too many failures for one username or one address lock
further attempts for a while. Counters live in the shared cache, so every web
process sees the same numbers."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, address: str) -> list[str]:
    user_key = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"kanal:login-fail:user:{user_key}", f"kanal:login-fail:ip:{address}"]


def is_locked(username: str, address: str) -> bool:
    limit = settings.KANAL_LOGIN_MAX_FAILURES
    return any((cache.get(key) or 0) >= limit for key in _keys(username, address))


def record_failure(username: str, address: str) -> None:
    window = settings.KANAL_LOGIN_WINDOW_SECONDS
    for key in _keys(username, address):
        if cache.add(key, 1, timeout=window):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def clear(username: str, address: str) -> None:
    # Only the username's counter: one person logging in must not reset the
    # lock on an address that is guessing other accounts.
    cache.delete(_keys(username, address)[0])


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"
