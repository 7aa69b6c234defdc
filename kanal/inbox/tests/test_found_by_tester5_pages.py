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


@pytest.mark.parametrize("query", [
    {"q": "parkering " * 25},  # longer than the search field takes
    {"status": "lukket"},  # no such status
    {"network": "myspace"},  # no such network
    {"channel": "999999"},  # another organisation's channel, or a deleted one
])
def test_t5a_2_a_filter_the_list_cannot_read_is_said_not_dropped(
    desk, client, query
):
    """T5a-2: the filter form dropped whatever it could not read and listed
    the rest: a search of more than 200 characters (a pasted comment)
    listed every conversation as if it had matched, and an unknown status,
    network or channel (an old bookmark) listed all, without a word; the
    live update did the same every few seconds. The page says what is
    wrong, in Danish, keeps what was typed, and lists nothing it did not
    find."""
    citizen_item(desk["channel"], text="Hvornår åbner svømmehallen?")
    client.force_login(desk["editor"].user)
    response = client.get("/indbakke/", query)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-summary"' in page
    assert "svømmehallen" not in page
    if "q" in query:
        assert "højst 200 tegn" in page
        assert 'value="parkering parkering' in page  # nothing typed is lost
    updates = client.get("/indbakke/nye/", {**query, "siden": "0"})
    assert updates.status_code == 400
    assert "rows" not in updates.json()
