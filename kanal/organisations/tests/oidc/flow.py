"""Driving the real provider's sign-in and consent pages over HTTP."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx


def sign_in_at_provider(authorize_url: str, login: str, password: str) -> str:
    """Follow the provider from ``authorize_url`` through its login and
    consent pages; return the URL it sends the browser back to (Kanal's
    redirect URI with ``code``, ``state`` and ``iss``)."""
    provider = authorize_url.split("/auth", 1)[0]
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(authorize_url)
        for _step in range(12):
            if response.status_code in (302, 303):
                target = urljoin(str(response.url), response.headers["location"])
                if not target.startswith(provider):
                    return target
                response = browser.get(target)
            elif "/interaction/" in str(response.url):
                form = (
                    {"login": login, "password": password}
                    if 'name="login"' in response.text
                    else {}
                )
                response = browser.post(str(response.url), data=form)
            else:
                raise AssertionError(
                    f"Unexpected provider page {response.url}: {response.text[:300]}"
                )
    raise AssertionError("The provider never sent the browser back")
