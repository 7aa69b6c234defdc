"""A channel the administrator turned off ("Slået fra": stop all use) takes
nothing from the inbox to its network: not an answer, a message, a like, a
hide or a delete, whether it was turned off before the person acted, while
the like was on its way, or after the answer was queued (T4-4, T4-7)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.channels.actions import disable_channel, enable_channel
from kanal.inbox import likes, moderation, reach, replies
from kanal.inbox.models import Answer, ConversationStatus
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.models import FollowUp

from .factories import citizen_item, page_seen
from .test_replies import replies_on_network, run_follow_ups

OFF = "er slået fra"


def _turn_off(channel, member):
    disable_channel(channel, actor=member(Role.ADMIN), reason="Overdraget")


@pytest.mark.django_db(transaction=True)
def test_an_answer_queued_before_the_channel_was_turned_off_never_goes_out(
    world, member
):
    item, channel, editor = world["item"], world["channel"], world["editor"]
    answer = replies.reply_to_item(item, actor=editor, text="Kl. 10.", key="k-1")
    _turn_off(channel, member)
    run_follow_ups()
    follow_up = FollowUp.objects.get(pk=answer.follow_up_id)
    assert follow_up.status == "failed"
    assert Notification.objects.filter(recipient=editor,
                                       kind="reply_channel_disabled").exists()
    item.conversation.refresh_from_db()
    assert item.conversation.status not in (ConversationStatus.ANSWERED,)
    # Turned on again weeks later: the old answer stays where it was.
    enable_channel(channel, actor=member(Role.ADMIN))
    assert run_follow_ups() == []
    assert replies_on_network(world["sandbox"], item) == []


@pytest.mark.django_db(transaction=True)
def test_unlike_and_delete_are_refused_on_a_channel_turned_off(world, member):
    item, editor, sandbox = world["item"], world["editor"], world["sandbox"]
    assert likes.set_liked(item, actor=editor) is True
    _turn_off(world["channel"], member)
    with pytest.raises(ValidationError, match=OFF):
        likes.set_liked(item, actor=editor, liked=False)
    with pytest.raises(ValidationError, match=OFF):
        moderation.moderate_item(item, actor=editor, kind="delete",
                                 reason="spam")
    stored = sandbox.item("facebook", item.remote_id)
    assert stored["data"]["liked_by"] == [world["channel"].remote_id]
    assert stored["deleted_at"] is None
    item.refresh_from_db()
    assert item.liked_at is not None and item.deleted_on_network_at is None


@pytest.mark.django_db(transaction=True)
def test_a_channel_turned_off_while_the_like_was_on_its_way_stops_it(
    world, member, monkeypatch
):
    item, editor = world["item"], world["editor"]
    checked = reach.check_on

    def turned_off_after_the_check(channel):
        checked(channel)
        _turn_off(channel, member)

    monkeypatch.setattr(reach, "check_on", turned_off_after_the_check)
    with pytest.raises(ValidationError, match=OFF):
        likes.set_liked(item, actor=editor)
    stored = world["sandbox"].item("facebook", item.remote_id)
    assert stored["data"].get("liked_by") in (None, [])
    item.refresh_from_db()
    assert item.liked_at is None


@pytest.mark.django_db
def test_a_message_on_a_channel_turned_off_is_not_answered(desk, member):
    item = citizen_item(desk["channel"], "Mit CPR-nummer?", kind="message")
    _turn_off(desk["channel"], member)
    with pytest.raises(ValidationError, match=OFF):
        replies.reply_to_item(item, actor=desk["editor"], text="Vi ringer.",
                              key="m-1")
    assert not FollowUp.objects.exists() and not Answer.objects.exists()


@pytest.mark.django_db
def test_the_page_of_a_channel_turned_off_offers_nothing_for_the_network(
    desk, client, member
):
    item = citizen_item(desk["channel"])
    client.force_login(desk["editor"].user)
    url = f"/indbakke/{item.conversation_id}/"
    page = client.get(url).content.decode()
    network_forms = (f'action="/indbakke/henvendelse/{item.pk}/moderer/"',
                     f'action="/indbakke/henvendelse/{item.pk}/synes-godt-om/"')
    assert 'id="reply-heading"' in page and 'id="channel-off"' not in page
    assert all(form in page for form in network_forms)
    _turn_off(desk["channel"], member)
    page = client.get(url).content.decode()
    assert 'id="channel-off"' in page
    assert 'id="reply-heading"' not in page
    assert not any(form in page for form in network_forms)
    # An answer sent from a page drawn before is refused, its text kept.
    response = client.post(f"/indbakke/{item.conversation_id}/svar/", {
        "item": item.pk, "text": "Vi åbner kl. 10.", "key": "k-2",
        "seen": page_seen(item)})
    assert response.status_code == 400
    content = response.content.decode()
    assert "Vi åbner kl. 10." in content and OFF in content
    assert not FollowUp.objects.exists()
