"""The record's settings, with defaults. Override in ``settings.KANAL_RECORDS``."""

from __future__ import annotations

from django.conf import settings

DAY = 86400

DEFAULTS = {
    # How often a published post is read back from its network to see edits
    # and deletions made there: often while it is young, rarely once it is
    # old. (age below, every) in seconds, youngest first; a post older than
    # the last age is not read again.
    "READBACK_CADENCE": [
        (DAY, 3600),  # the first day: hourly
        (30 * DAY, DAY),  # the first month: daily
        (365 * DAY, 7 * DAY),  # the first year: weekly
    ],
    # At most this many reads per run of the job (a run every
    # READBACK_EVERY_SECONDS), so a backlog is spread over runs.
    "READBACK_PER_RUN": 200,
    "READBACK_EVERY_SECONDS": 600,
    # A run starts no new read after this long (the periodic jobs share one
    # thread); what is left stays due for the next run.
    "READBACK_RUN_SECONDS": 30,
    # After a failed read (the network down, a rate limit without a reset
    # time, a token to renew): ask again after this long (the next run),
    # never recorded.
    "READBACK_RETRY_SECONDS": 600,
    # Posts of one run are claimed for this long, so two workers running the
    # job at once never read the same post.
    "READBACK_CLAIM_SECONDS": 900,
}


def get(name: str):
    return getattr(settings, "KANAL_RECORDS", {}).get(name, DEFAULTS[name])
