"""The Mastodon adapter against a faked instance (respx), one home for what
its tests share: the instance's address, the clock, the adapter, and the
instance limits the adapter caches per process, cleared around a test
(``fresh_mastodon_limits``, a fixture for every app's tests)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kanal.channels.networks.base import Connection
from kanal.channels.networks.mastodon import INSTANCE_CONFIGURATIONS, MastodonAdapter

BASE = "https://social.example"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def mastodon_adapter(*, sleep=lambda seconds: None) -> MastodonAdapter:
    """The account ``kbh`` (id 1) on ``BASE``, its clock at ``NOW``."""
    connection = Connection(network="mastodon", base_url=BASE, account_id="1",
                            handle="kbh", credentials={"access_token": "tok-1"})
    return MastodonAdapter(connection, sleep=sleep, clock=lambda: NOW)


@pytest.fixture
def fresh_mastodon_limits():
    """No instance's limits known before the test, nor left after it (a
    character limit read by one test would count another's answers)."""
    INSTANCE_CONFIGURATIONS.clear()
    yield
    INSTANCE_CONFIGURATIONS.clear()
