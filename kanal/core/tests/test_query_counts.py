"""Pages that list channels and publications do not query once per row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role
from kanal.publishing.actions import queue_publication


def _add_channels_with_publications(organisation, administration, count):
    for number in range(count):
        channel = ChannelFactory(
            organisation=organisation, owner_administration=administration
        )
        queue_publication(
            actor=None,
            organisation=organisation,
            channel=channel,
            planned_at=timezone.now() + timedelta(hours=1),
            post_id=None,
            variant_id=None,
            revision_id=None,
            text=f"Opslag {number}",
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/", "/kanaler/", "/udgivelser/"])
def test_queries_do_not_grow_with_the_rows_shown(member, client_for, url):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    _add_channels_with_publications(editor.organisation, editor.administration, 3)
    client.get(url)  # warm per-process caches
    few = _queries(client, url)
    _add_channels_with_publications(editor.organisation, editor.administration, 20)
    assert _queries(client, url) == few
