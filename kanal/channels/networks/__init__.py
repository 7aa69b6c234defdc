"""Network adapters. ``REGISTRY`` maps a network's slug to its adapter class.

Adding a network: write ``<slug>.py`` with a ``NetworkAdapter`` subclass, list
it here, and subclass the contract tests in ``tests/contract.py`` (a meta-test
fails for a registered network without them).
"""

from __future__ import annotations

from importlib import import_module

from .base import NetworkAdapter

REGISTRY: dict[str, str] = {
    "facebook": "kanal.channels.networks.facebook.FacebookAdapter",
    "instagram": "kanal.channels.networks.instagram.InstagramAdapter",
    "x": "kanal.channels.networks.x.XAdapter",
    "mastodon": "kanal.channels.networks.mastodon.MastodonAdapter",
    "bluesky": "kanal.channels.networks.bluesky.BlueskyAdapter",
    "linkedin": "kanal.channels.networks.linkedin.LinkedInAdapter",
    "threads": "kanal.channels.networks.threads.ThreadsAdapter",
}


def adapter_class(network: str) -> type[NetworkAdapter]:
    """The adapter class for ``network``; KeyError for an unknown network."""
    module_name, _, class_name = REGISTRY[network].rpartition(".")
    return getattr(import_module(module_name), class_name)

