"""The reply form counts the answer as the network gets it: on Mastodon
with the citizen's @name in front (the adapter's ``answer_text``), so an
answer that fits only without it is refused with the real count, and what
was typed is kept."""

from __future__ import annotations

import pytest

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox.intake import checked
from kanal.inbox.models import Answer
from kanal.organisations.roles import Role

from .factories import citizen_item, post_answer

pytestmark = [pytest.mark.django_db,
              pytest.mark.usefixtures("fresh_mastodon_limits")]


@pytest.fixture
def mastodon(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    return ChannelFactory(organisation=organisation, network="mastodon")


def _answer(member, client_for, mastodon, text, *, kind="comment"):
    """An editor's answer ``text`` to Mette's item (a ``kind``) on Mastodon,
    whom Mastodon names as @mette@borger.social."""
    item = citizen_item(mastodon, "Hvornår?", kind=kind,
                        handle="mette@borger.social")
    return post_answer(client_for(member(Role.EDITOR)), item, text)


# Mastodon counts "@mette@borger.social " as "@mette " (7); 500 is its
# documented default limit.
@pytest.mark.parametrize("kind", ["comment", "message"])
def test_a_mastodon_answer_at_the_limit_with_the_mention_is_taken(
        member, client_for, mastodon, kind):
    response = _answer(member, client_for, mastodon, "a" * 493, kind=kind)
    assert response.status_code == 302
    assert Answer.objects.get().text == "a" * 493


@pytest.mark.parametrize("kind", ["comment", "message"])
def test_a_mastodon_answer_one_over_with_the_mention_is_refused_and_kept(
        member, client_for, mastodon, kind):
    response = _answer(member, client_for, mastodon, "b" * 494, kind=kind)
    assert response.status_code == 400
    page = response.content.decode()
    assert ("Svaret er for langt til Mastodon: det bliver 501 tegn med "
            "@mette@borger.social foran (Mastodon nævner den, der svares, og "
            "vejledningen er med); Mastodon tillader 500. Forkort det.") in page
    assert "b" * 494 in page  # nothing typed is lost
    assert not Answer.objects.exists()


def test_an_answer_that_already_names_the_citizen_is_counted_as_written(
        member, client_for, mastodon):
    text = "@mette@borger.social " + "c" * 493  # 500 as Mastodon counts
    response = _answer(member, client_for, mastodon, text)
    assert response.status_code == 302


def test_a_handle_that_is_no_handle_is_not_kept():
    from django.utils import timezone

    item = NetworkItem(remote_id="1", kind="comment", author_id="8",
                       author_name="Mette", text="Hej", created_at=timezone.now())
    assert checked(item).author_handle == ""
    from dataclasses import replace

    assert checked(replace(item, author_handle="mette @x")).author_handle == ""
    assert checked(replace(item, author_handle="mette@x.dk")).author_handle == (
        "mette@x.dk")
