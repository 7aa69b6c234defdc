"""Periodic jobs that go through channels or organisations guard each one:
one that fails for a reason nobody foresaw is logged and recorded, and the
others go on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.channels.networks.errors import NotSupported
from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role
from kanal.publishing import tokens
from kanal.publishing.models import ChannelTokenRefresh

pytestmark = pytest.mark.django_db


def test_one_channels_unreadable_token_answer_does_not_stop_the_refresh_of_others(
    organisation, monkeypatch, member, client_for
):
    soon = timezone.now() + timedelta(minutes=5)
    first, _second = (ChannelFactory(organisation=organisation, network="x",
                                     status="connected", token_expires_at=soon,
                                     remote_id=f"acct-{n}")
                      for n in range(2))
    asked = []

    class Adapter:
        def __init__(self, connection):
            self.connection = connection

        def refresh_token(self):
            asked.append(self.connection.account_id)
            if self.connection.account_id == first.remote_id:
                raise RecursionError("a token answer nested too deep")
            raise NotSupported("x")

    monkeypatch.setattr(tokens, "build_adapter",
                        lambda connection, **kw: Adapter(connection))
    tokens.refresh_due_tokens()
    assert sorted(asked) == ["acct-0", "acct-1"]
    state = ChannelTokenRefresh.objects.get(channel=first)
    assert "Adgangen kunne ikke fornyes" in state.last_error
    assert "RecursionError" in state.last_error
    assert state.lease_owner == ""  # the lock was let go
    page = client_for(member(Role.EDITOR)).get(f"/kanaler/{first.pk}/")
    assert "Fornyelse af adgangen: Adgangen kunne ikke fornyes" in \
        page.content.decode()
