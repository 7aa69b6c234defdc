"""The reply form refuses what cannot be sent, keeps what was typed, and a
conversation page stays usable however long the thread (found by the
outside tester: a 920-character answer on X was "being sent"; a used form
key silently dropped a different answer; 5,000 items took 55 s)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kanal.inbox import views
from kanal.inbox.models import Answer
from kanal.organisations.roles import Role

from .factories import citizen_item, post_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def x_item(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    channel = ChannelFactory(organisation=organisation, network="x")
    return citizen_item(channel, "Hvornår kommer skraldebilen?")


def test_an_answer_longer_than_the_network_takes_is_refused_and_kept(
    member, client_for, x_item
):
    long = "Tak for dit spørgsmål. " * 40
    response = post_answer(client_for(member(Role.EDITOR)), x_item, long)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Svaret er for langt til X (Twitter)" in page
    assert "Tak for dit spørgsmål. Tak for dit spørgsmål." in page  # kept
    assert not Answer.objects.exists()
    # A short one goes.
    response = post_answer(client_for(member(Role.EDITOR)), x_item, "Tirsdag.",
                           key="n" * 32)
    assert response.status_code == 302 and Answer.objects.count() == 1


def test_a_used_form_key_with_another_answer_is_refused_not_dropped(
    member, client_for, x_item, organisation
):
    client = client_for(member(Role.EDITOR))
    assert post_answer(client, x_item, "Tirsdag.").status_code == 302
    assert post_answer(client, x_item, "Tirsdag.").status_code == 302  # same: same
    other = citizen_item(x_item.channel, "Og genbrug?", author="Ole")
    response = post_answer(client, other, "Onsdag.")
    assert response.status_code == 400
    assert "Formularen er allerede brugt til et andet svar" in response.content.decode()
    assert "Onsdag." in response.content.decode()
    assert list(Answer.objects.values_list("text", flat=True)) == ["Tirsdag."]


def test_a_long_conversation_shows_its_newest_items_with_flat_queries(
    member, client_for, organisation
):
    from kanal.channels.tests.factories import ChannelFactory

    channel = ChannelFactory(organisation=organisation, network="facebook")
    client = client_for(member(Role.EDITOR))

    def page(n):
        first = citizen_item(channel, "Spam 0", author="Spammer",
                             remote_id=f"s{n}-0")
        for i in range(1, n):
            citizen_item(channel, f"Spam {i}", author="Spammer",
                         remote_id=f"s{n}-{i}", parent=first.remote_id, kind="reply")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/indbakke/{first.conversation_id}/")
        assert response.status_code == 200
        return response, len(queries)

    _small, few = page(3)
    big, many = page(views.ITEMS_PER_PAGE + 20)
    assert many <= few + 3, (few, many)
    html = big.content.decode()
    assert f"Spam {views.ITEMS_PER_PAGE + 19}" in html and "Spam 19<" not in html
    assert f"Viser {views.ITEMS_PER_PAGE} af {views.ITEMS_PER_PAGE + 20}" in html
    earlier = client.get(big.wsgi_request.path + f"?tidligere={views.ITEMS_PER_PAGE}")
    assert "Spam 0<" in earlier.content.decode()


# -- the reply form's counter counts as the network and the action do ----------


def _count(client, item, text):
    response = client.post(f"/indbakke/{item.conversation_id}/svar/laengde/",
                           {"item": item.pk, "text": text})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def instagram_message(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    channel = ChannelFactory(organisation=organisation, network="instagram")
    return citizen_item(channel, "Hvornår åbner svømmehallen?", kind="message",
                        author="Ida Holm")


@pytest.mark.parametrize("text, shown, over", [
    ("æ" * 500, ['data-count="1000"', "1.000 af 1.000 bytes", "500 af 999 tegn"],
     False),
    ("æ" * 500 + "a", ["1.001 af 1.000 bytes"], True),
    ("😀" * 250, ["1.000 af 1.000 bytes", "250 af 999 tegn"], False),
    ("😀" * 250 + "ø", ["1.002 af 1.000 bytes"], True),
    ("a" * 999, ["999 af 1.000 bytes", "999 af 999 tegn"], False),
    ("a" * 1000, ["1.000 af 1.000 bytes", "1.000 af 999 tegn"], True),
])
def test_the_counter_of_an_instagram_message_answer_shows_bytes_and_characters(
    member, client_for, instagram_message, text, shown, over
):
    page = _count(client_for(member(Role.EDITOR)), instagram_message, text)
    for words in shown:
        assert words in page
    assert ('class="over ' in page) is over
    assert ("forkort svaret" in page) is over


def test_the_counter_includes_the_guidance_footer_and_counts_as_x_does(
    member, client_for, x_item, organisation
):
    from kanal.inbox.models import InboxSettings

    client = client_for(member(Role.EDITOR))
    # X weighs a link as 23 and an emoji as 2: 3 + 23 + 1 + 2.
    assert "29 af 280 tegn" in _count(client, x_item, "Se https://kk.dk/bad 😀")
    InboxSettings.objects.update_or_create(organisation=organisation, defaults={
        "require_footer": True, "footer_text": "Mvh. Kommunen"})
    # "Tak." + two newlines + the footer's 13 characters.
    assert "19 af 280 tegn" in _count(client, x_item, "Tak.")
