"""Insights' settings, with defaults. Override in ``settings.KANAL_INSIGHTS``;
a setting ``KANAL_INSIGHTS_<NAME>`` (from the environment) is the default."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "COLLECT_EVERY_SECONDS": 900.0,
    # One collection run starts no new channel after this many seconds (the
    # worker's network lane is shared); the channels left, collected longest
    # ago, go first next run.
    "COLLECT_RUN_SECONDS": 60.0,
    "ROLLUP_EVERY_SECONDS": 300.0,
    "HASHTAGS_EVERY_SECONDS": 3600.0,
    # One hashtag run starts no new search after this many seconds (the
    # network lane is shared); the tags left, searched longest ago, go first
    # next run.
    "HASHTAGS_RUN_SECONDS": 60.0,
    # Raw network answers are kept this long (support, re-reading renamed
    # metrics), then deleted.
    "RAW_RETENTION_DAYS": 30,
    # A post is sampled often while young, rarely later: (age below, every).
    # Older than the last age: not sampled again.
    "POST_SAMPLING": [
        (2 * 86400, 3600),
        (14 * 86400, 6 * 3600),
        (90 * 86400, 86400),
        (366 * 86400, 7 * 86400),
    ],
    # How often the report e-mails are looked at (each is sent once).
    "REPORT_EMAILS_EVERY_SECONDS": 3600.0,
    # At most this many posts per channel in one call.
    "POSTS_PER_CALL": 50,
    # A network that asks Kanal to wait without saying how long: wait this.
    "RATE_LIMIT_FALLBACK_SECONDS": 900,
    # Days recomputed per rollup run (the rest wait for the next run).
    "ROLLUP_DAYS_PER_RUN": 400,
    # A background export (and its file) is deleted after this many days.
    "EXPORT_RETENTION_DAYS": 7,
    # An export reading more rollup rows than this is made in the background.
    "EXPORT_INLINE_MAX_ROWS": 20000,
}


def get(name: str):
    overrides = getattr(settings, "KANAL_INSIGHTS", {})
    if name in overrides:
        return overrides[name]
    return getattr(settings, f"KANAL_INSIGHTS_{name}", DEFAULTS[name])
