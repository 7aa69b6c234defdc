"""The dialogue dashboard reads the inbox: conversations per channel begun in
the period, answered, answered on time, median first response, negative,
personal data, hidden."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox.models import Conversation
from kanal.inbox.tests.factories import citizen_item
from kanal.insights import selectors
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversations(organisation):
    facebook = ChannelFactory(organisation=organisation, network="facebook",
                              display_name="KK Facebook")
    x = ChannelFactory(organisation=organisation, network="x", display_name="KK X")
    now = timezone.now()
    made = []
    for channel, text, wait_hours, on_time, extra in [
        (facebook, "Hvornår åbner havnebadet?", 2, True, {}),
        (facebook, "Mit CPR er 010190-1234", 10, False,
         {"has_personal_data": True}),
        (facebook, "Elendig service!", None, None, {"negative": True}),
        (x, "Køb solbriller her", None, None, {"status": "hidden"}),
    ]:
        item = citizen_item(channel, text, author=f"Borger {len(made)}")
        conversation = item.conversation
        fields = dict(extra)
        if wait_hours is not None:
            fields["first_response_at"] = conversation.created_at + timedelta(
                hours=wait_hours)
            fields["answered_on_time"] = on_time
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        made.append(conversation)
    # A conversation from long before the period is not counted.
    old = citizen_item(facebook, "Gammelt spørgsmål", author="Borger gammel")
    Conversation.objects.filter(pk=old.conversation_id).update(
        created_at=now - timedelta(days=400))
    return {"facebook": facebook, "x": x}


def period_today():
    today = timezone.localdate()
    return selectors.Period(today - timedelta(days=6), today)


def test_dialogue_counts_per_channel(organisation, conversations):
    table = selectors.dialogue(organisation.pk, period_today())
    rows = {row["key"]: row for row in table.rows}
    facebook = rows[conversations["facebook"].pk]
    assert facebook["conversations"] == 3
    assert facebook["answered"] == 2
    assert facebook["on_time"] == 50.0
    assert facebook["median_hours"] == 6.0
    assert facebook["negative"] == 1
    assert facebook["personal_data"] == 1
    x = rows[conversations["x"].pk]
    assert (x["conversations"], x["answered"], x["hidden"]) == (1, 0, 1)
    assert x["on_time"] is None and x["median_hours"] is None  # no data, not 0


def test_a_period_without_conversations_says_so(organisation, conversations):
    empty = selectors.Period(date(2020, 1, 1), date(2020, 1, 31))
    assert selectors.dialogue(organisation.pk, empty).rows == []


def test_the_dialogue_page_shows_the_table_to_an_analyst(
    organisation, conversations, member, client_for
):
    client = client_for(member(Role.ANALYST))
    response = client.get("/indsigt/dialog/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-table="dialogue"' in html
    assert "KK Facebook" in html
    assert "50,0 %" in html
    response = client.get("/indsigt/dialog/?fra=2020-01-01&til=2020-01-31")
    assert "Ingen data endnu i denne periode." in response.content.decode()


def test_a_conversation_with_an_item_hidden_on_the_network_counts_as_hidden(
    organisation, conversations
):
    """The guard hides a comment with personal data and the conversation
    stays open (it still needs an answer); a spam reply hidden under an open
    question leaves the question open: both were hidden."""
    from kanal.inbox.models import InboxItem

    facebook = conversations["facebook"]
    guarded = citizen_item(facebook, "Ring til mig på 12345678",
                           author="Borger med telefon")
    InboxItem.objects.filter(pk=guarded.pk).update(hidden_on_network=True)
    question = citizen_item(facebook, "Hvornår tømmes skraldet?", author="Spurgt")
    spam = citizen_item(facebook, "Køb billige ure", author="Sælger",
                        kind="reply", parent=question.remote_id)
    assert spam.conversation_id == question.conversation_id
    InboxItem.objects.filter(pk=spam.pk).update(hidden_on_network=True)
    shown_again = citizen_item(facebook, "Vist igen", author="Vist")
    InboxItem.objects.filter(pk=shown_again.pk).update(hidden_on_network=False)
    assert Conversation.objects.get(pk=guarded.conversation_id).status == "new"
    rows = {row["key"]: row for row in selectors.dialogue(
        organisation.pk, period_today()).rows}
    assert rows[facebook.pk]["hidden"] == 2
    assert rows[conversations["x"].pk]["hidden"] == 1  # status Skjult, as before
