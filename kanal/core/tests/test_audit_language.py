"""The audit log reads in the reader's language and in Danish time."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from kanal.core import audit
from kanal.organisations.roles import Role


def _entry(admin):
    from kanal.channels.tests.factories import ChannelFactory

    channel = ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )
    with transaction.atomic():
        audit.record(
            "channels.channel.checked",
            actor=None,
            organisation=admin.organisation,
            target=channel,
            changes={
                "status": ["connected", "needs_reconnect"],
                "checked_at": "2026-12-05T13:30:00+00:00",
            },
        )


def test_audit_log_shows_danish_time_and_labels(member, client_for):
    admin = member(Role.ADMIN)
    _entry(admin)
    page = client_for(admin).get("/revisionsspor/").content.decode()
    assert "5. dec. 2026 14:30:00" in page
    assert "Forbundet → Skal forbindes igen" in page
    assert "+00:00" not in page and "needs_reconnect" not in page
    assert "Kanal: " in page  # what the object is, by its model's name


def test_audit_log_in_english(member, client_for):
    admin = member(Role.ADMIN)
    _entry(admin)
    client = client_for(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/revisionsspor/").content.decode()
    assert "5 Dec 2026 14:30:00" in page
    assert "Connected → Needs reconnecting" in page
    assert "Skal forbindes igen" not in page and "Forbundet" not in page
    assert "Channel: " in page
