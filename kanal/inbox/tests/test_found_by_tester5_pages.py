"""OUTSIDE TESTER 5a (branch tester5a): the list's page numbers and filters
as a hostile browser sends them. Each test names its finding (T5a-N)."""

from __future__ import annotations

import pytest

from kanal.inbox.models import Conversation

from .factories import citizen_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_negative(desk):
    """More negative conversations than the list counts (``COUNT_BOUND``):
    the list pages on without knowing its last page."""
    channel = desk["channel"]
    citizen_item(channel)
    Conversation.objects.bulk_create([
        Conversation(organisation_id=channel.organisation_id, channel=channel,
                     key=f"many-{i}", negative=True) for i in range(1002)])
    return desk


@pytest.mark.parametrize("url", ["/indbakke/", "/indbakke/nye/"])
@pytest.mark.parametrize("number", [str(2 * 10**17), "9" * 40])
def test_t5a_1_a_page_number_past_any_offset_is_the_last_page_not_500(
    many_negative, client, url, number
):
    """T5a-1: a list of more matches than it counts (overdue, personal data
    or negative, over 1,000) took any page number as an offset: a page past
    what the database's 64-bit OFFSET holds was a server error on both
    databases, on the list and on its live update."""
    client.force_login(many_negative["editor"].user)
    client.raise_request_exception = False
    response = client.get(url, {"negative": "on", "side": number})
    assert response.status_code == 200
    rows = response.json()["rows"] if url.endswith("nye/") else (
        response.content.decode())
    assert 'id="conversation-' in rows  # a page of rows, the last counted
