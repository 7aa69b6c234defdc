"""Network emulators. ``NETWORKS`` maps a slug to its module's path.

A module that does not exist (yet) is skipped when the app starts, so each
emulator can land on its own.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

logger = logging.getLogger("sandbox")

NETWORKS: dict[str, str] = {
    "facebook": "sandbox.networks.facebook",
    "instagram": "sandbox.networks.instagram",
    "x": "sandbox.networks.x",
    "mastodon": "sandbox.networks.mastodon",
    "bluesky": "sandbox.networks.bluesky",
    "linkedin": "sandbox.networks.linkedin",
    "threads": "sandbox.networks.threads",
}

DISPLAY_NAMES: dict[str, str] = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "linkedin": "LinkedIn",
    "threads": "Threads",
}


def load_network(slug: str) -> ModuleType | None:
    """The emulator module for ``slug``, or None when it is missing or broken."""
    path = NETWORKS[slug]
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as e:
        if e.name == path:
            logger.info("sandbox: no emulator for %s yet", slug)
            return None
        logger.exception("sandbox: emulator %s could not be imported", slug)
        return None
    except Exception:
        logger.exception("sandbox: emulator %s could not be imported", slug)
        return None
