"""Which API addresses a channel may point at.

A channel's secrets go to whatever address its ``base_url`` names, so the
address is a security boundary: each network has an allow-list of its real
API hosts (https only), plus the sandbox address from the settings
(``KANAL_SANDBOX_URL``). Only the installation's settings can add more
(``KANAL_API_HOSTS``, e.g. a municipality's own Mastodon instance or
Bluesky PDS); nobody can do it from a page.

``KANAL_API_HOSTS`` maps a network (or ``"*"`` for every network) to a list
of entries; an entry is a host name (``social.kk.dk``: https on port 443) or
an origin (``http://127.0.0.1:8900``: that scheme, host and port exactly).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

#: The hosts named in PLATFORMS.md and the README, per network.
REAL_API_HOSTS: dict[str, tuple[str, ...]] = {
    "facebook": ("graph.facebook.com", "graph-video.facebook.com"),
    "instagram": ("graph.facebook.com", "graph.instagram.com"),
    "x": ("api.x.com", "api.twitter.com"),
    "mastodon": ("mastodon.social",),
    "bluesky": ("bsky.social",),
    "linkedin": ("api.linkedin.com",),
    "threads": ("graph.threads.net", "graph.threads.com"),
}

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of ``url``, lower-cased; ``None`` if unreadable."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except (ValueError, AttributeError):
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    return scheme, host.lower().rstrip("."), port or _DEFAULT_PORTS[scheme]


def _entry_origin(entry: str) -> tuple[str, str, int] | None:
    entry = entry.strip()
    if not entry:
        return None
    if "://" in entry:
        return origin(entry)
    return origin(f"https://{entry}")


def allowed_origins(network: str) -> list[tuple[str, str, int]]:
    """Every origin a channel of ``network`` may use, real hosts first."""
    found = [("https", host, 443) for host in REAL_API_HOSTS.get(network, ())]
    sandbox = _entry_origin(getattr(settings, "KANAL_SANDBOX_URL", "") or "")
    if sandbox is not None:
        found.append(sandbox)
    extra = getattr(settings, "KANAL_API_HOSTS", None) or {}
    for key in (network, "*"):
        for entry in extra.get(key, ()):
            parsed = _entry_origin(entry)
            if parsed is not None:
                found.append(parsed)
    return list(dict.fromkeys(found))


def is_allowed(network: str, url: str) -> bool:
    found = origin(url)
    return found is not None and found in allowed_origins(network)


def describe(network: str) -> str:
    """The allowed addresses, for a Danish message."""
    shown = []
    for scheme, host, port in allowed_origins(network):
        default = _DEFAULT_PORTS[scheme] == port
        shown.append(f"{scheme}://{host}" + ("" if default else f":{port}"))
    return ", ".join(shown)


def refusal(network: str) -> str:
    return _(
        "API-adressen skal være en af netværkets egne (%(hosts)s). Andre "
        "adresser, fx jeres egen Mastodon-server, kan kun tilføjes i "
        "installationens indstillinger (KANAL_API_HOSTS) af den, der driver "
        "Kanal."
    ) % {"hosts": describe(network)}


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)
