"""T6-6: a network's "wait" is its own untrusted word. A Mastodon instance
(anyone's server) answering 429 with ``Retry-After: 1e12``, ``inf`` or an
``X-RateLimit-Reset`` in year 9999 held the post until then (or failed the
job with OverflowError); a ``Retry-After`` date written with ``-0000``
raised TypeError in the adapter instead of a rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kanal.channels.networks.errors import RateLimited
from kanal.channels.networks.http import retry_after_seconds
from kanal.publishing.conf import MAX_NETWORK_WAIT, backoff

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("retry_after", "reset_at"), [
    (1e12, None),
    (float("inf"), None),
    (float("nan"), None),
    (None, datetime(9999, 12, 31, tzinfo=UTC)),
    (1e12, datetime(9999, 12, 31, tzinfo=UTC)),
])
def test_the_network_holds_a_post_back_a_day_at_most(retry_after, reset_at):
    error = RateLimited("vent", retry_after=retry_after, reset_at=reset_at)
    at = backoff(1, error, NOW)
    assert NOW < at <= NOW + MAX_NETWORK_WAIT


def test_a_reasonable_wait_is_still_kept():
    error = RateLimited("vent", retry_after=600,
                        reset_at=NOW + timedelta(hours=2))
    assert backoff(1, error, NOW) == NOW + timedelta(hours=2)


@pytest.mark.parametrize(("header", "expected"), [
    ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
    ("inf", None),
    ("nan", None),
    ("1e400", None),
    ("99999999999", 7 * 24 * 3600.0),
    ("Fri, 31 Dec 9999 23:59:59 GMT", 7 * 24 * 3600.0),
    ("120", 120.0),
])
def test_retry_after_is_read_as_a_finite_bounded_wait(header, expected):
    response = httpx.Response(429, headers={"Retry-After": header})
    assert retry_after_seconds(response) == expected
