from __future__ import annotations

import pytest

from kanal.channels import adapters

from .factories import SCRIPT, MetricsAdapter


@pytest.fixture
def script(monkeypatch):
    """The scripted network, fresh for each test, wired for Facebook."""
    SCRIPT.__init__()
    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, "facebook", MetricsAdapter)
    return SCRIPT


@pytest.fixture
def channel(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    return ChannelFactory(organisation=organisation, network="facebook",
                          display_name="Københavns Kommune")
