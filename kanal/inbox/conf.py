"""The inbox's settings, with defaults. Override in ``settings.KANAL_INBOX``."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # A channel is polled often while its newest published post is young and
    # rarely once it is old: (age below, every) in seconds, youngest first.
    "POLL_CADENCE": [
        (6 * 3600, 30),
        (2 * 86400, 120),
        (14 * 86400, 900),
    ],
    # Newest post older than the last age, or no post at all.
    "POLL_OLD_EVERY": 3600,
    # Never more often than this per network: Meta's webhooks bring comments
    # at once, so its poll only catches up; LinkedIn's rate limits are tight.
    "POLL_NETWORK_FLOOR": {
        "x": 60,
        "mastodon": 30,
        "bluesky": 30,
        "linkedin": 120,
        "facebook": 300,
        "instagram": 300,
        "threads": 300,
    },
    # One run of the poll starts no new channel after this many seconds (it
    # shares the worker's network lane with read-back, insights and sources);
    # the channels left wait longest and go first next run.
    "POLL_RUN_SECONDS": 30,
    # Networks without webhooks for edits and deletions: each poll reads back
    # up to RECHECK_PER_POLL of the channel's items younger than
    # RECHECK_DAYS by their ids (``polling.recheck``), an item again once
    # RECHECK_FRACTION of its age (at least RECHECK_FLOOR seconds) has passed:
    # about 13 reads an item in a week at a half, on 4-5 UTC days (X bills a
    # post once per UTC day it is read: about $0.02 an item; see
    # ``polling.recheck``).
    "RECHECK_NETWORKS": ("x", "mastodon", "bluesky", "linkedin"),
    "RECHECK_PER_POLL": 10,
    "RECHECK_DAYS": 7,
    "RECHECK_FRACTION": 0.5,
    "RECHECK_FLOOR": 120,
}


def get(name: str):
    return getattr(settings, "KANAL_INBOX", {}).get(name, DEFAULTS[name])
