"""Liking citizens' comments on the network from the inbox, judged by what
reached the sandbox (its ``liked_by``, Bluesky's like records)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kanal.core.models import AuditEntry
from kanal.inbox import actions, likes, moderation, polling
from kanal.inbox.models import InboxItem
from kanal.organisations.roles import Role
from kanal.publishing.models import Crisis

from .factories import citizen_item

pytestmark = pytest.mark.django_db(transaction=True)


def network_likes(world, item=None):
    item = item or world["item"]
    stored = world["sandbox"].item("facebook", item.remote_id)
    return stored["data"].get("liked_by") or []


def test_a_like_reaches_the_network_once_and_is_recorded_and_audited(world):
    item, editor = world["item"], world["editor"]
    assert likes.set_liked(item, actor=editor) is True
    assert network_likes(world) == [world["channel"].remote_id]
    item.refresh_from_db()
    assert item.liked_at is not None and item.liked_by == editor
    entry = AuditEntry.objects.get(event="inbox.item.liked")
    assert entry.changes == {"network": "facebook", "channel": item.channel_id}
    # A second click finds it liked: nothing is sent, nothing recorded again.
    assert likes.set_liked(item, actor=editor) is False
    assert network_likes(world) == [world["channel"].remote_id]
    assert AuditEntry.objects.filter(event="inbox.item.liked").count() == 1

    assert likes.set_liked(item, actor=editor, liked=False) is True
    assert network_likes(world) == []
    item.refresh_from_db()
    assert item.liked_at is None and item.liked_by is None
    assert AuditEntry.objects.filter(event="inbox.item.unliked").count() == 1


def test_two_people_give_one_like(world, member, client_for):
    item, editor = world["item"], world["editor"]
    actions.assign_conversation(item.conversation, actor=editor,
                                administration=editor.administration)
    contributor = member(Role.CONTRIBUTOR, administration=editor.administration)
    url = reverse("inbox:like", args=[item.pk])
    for person in (editor, contributor):
        response = client_for(person).post(url, {"liked": "1"}, follow=True)
        assert response.status_code == 200
    assert network_likes(world) == [world["channel"].remote_id]
    assert AuditEntry.objects.filter(event="inbox.item.liked").count() == 1
    assert "synes allerede godt om" in response.content.decode()


def test_a_like_in_progress_holds_off_a_second_request(world):
    item = world["item"]
    cache.add(f"inbox:like:{item.pk}", 1, timeout=60)
    try:
        with pytest.raises(ValidationError, match="En anden er ved at"):
            likes.set_liked(item, actor=world["editor"])
    finally:
        cache.delete(f"inbox:like:{item.pk}")
    assert network_likes(world) == []


def test_who_may_reply_or_moderate_may_like_and_no_one_else(world, member):
    item, editor = world["item"], world["editor"]
    contributor = member(Role.CONTRIBUTOR, administration=editor.administration)
    # Not assigned to the contributor's administration: not even visible.
    with pytest.raises(PermissionDenied):
        likes.set_liked(item, actor=contributor)
    analyst = member(Role.ANALYST, administration=editor.administration)
    with pytest.raises(PermissionDenied):
        likes.set_liked(item, actor=analyst)
    assert network_likes(world) == []
    actions.assign_conversation(item.conversation, actor=editor,
                                administration=editor.administration)
    assert likes.set_liked(item, actor=contributor) is True
    assert network_likes(world) == [world["channel"].remote_id]


def test_a_crisis_on_the_channel_refuses_a_like_but_not_hide_or_unlike(world):
    item, editor = world["item"], world["editor"]
    likes.set_liked(item, actor=editor)
    crisis = Crisis.objects.create(organisation=item.organisation, reason="Skybrud",
                                   whole_organisation=False)
    crisis.channels.set([world["channel"]])
    # Taking a like back is allowed in a crisis.
    assert likes.set_liked(item, actor=editor, liked=False) is True
    with pytest.raises(ValidationError, match="Krisetilstand er aktiv"):
        likes.set_liked(item, actor=editor)
    assert network_likes(world) == []
    assert AuditEntry.objects.filter(event="inbox.item.liked").count() == 1
    moderation.moderate_item(item, actor=editor, kind="hide", reason="spam")
    assert world["sandbox"].item("facebook", item.remote_id)["hidden"] is True


def test_a_crisis_that_begins_before_the_write_stops_it_at_the_fence(
    world, monkeypatch
):
    """The check passed, then a crisis began: the adapter's fence, asked right
    before the write, refuses it; nothing is sent or recorded."""
    item = world["item"]
    asked = []

    def covers(checked):
        asked.append(checked.pk)
        return len(asked) > 1  # no crisis at the check, one at the fence

    monkeypatch.setattr(likes, "crisis_covers", covers)
    with pytest.raises(ValidationError, match="Krisetilstand er aktiv"):
        likes.set_liked(item, actor=world["editor"])
    assert asked == [item.pk, item.pk]
    assert network_likes(world) == []
    item.refresh_from_db()
    assert item.liked_at is None
    assert not AuditEntry.objects.filter(event="inbox.item.liked").exists()


def test_a_network_refusal_records_nothing(world):
    sandbox, item = world["sandbox"], world["item"]
    sandbox.fault("facebook", "server_error", operation="like",
                  account=world["channel"].remote_id)
    with pytest.raises(ValidationError, match="Netværket afviste det"):
        likes.set_liked(item, actor=world["editor"])
    item.refresh_from_db()
    assert item.liked_at is None
    assert network_likes(world) == []
    assert not AuditEntry.objects.filter(event="inbox.item.liked").exists()
    # The lease was given back: the next click works.
    assert likes.set_liked(item, actor=world["editor"]) is True


def test_a_comment_gone_from_the_network_is_refused_in_danish(world):
    sandbox, item = world["sandbox"], world["item"]
    sandbox.ctx.store.delete_item("facebook", item.remote_id)  # the citizen did
    # The refusal says it is gone: recorded as deleted, as polling would
    # (T4-5), so nobody is offered a like or an answer to it again.
    with pytest.raises(ValidationError, match="findes ikke længere"):
        likes.set_liked(item, actor=world["editor"])
    item.refresh_from_db()
    assert item.liked_at is None and item.deleted_on_network_at is not None
    entry = AuditEntry.objects.get(event="inbox.item.found_deleted")
    assert entry.changes == {"kind": "like", "network": "facebook"}


def test_messages_and_networks_without_likes_are_not_offered(
    organisation, member
):
    from kanal.channels.tests.factories import ChannelFactory

    editor = member(Role.EDITOR)
    facebook = ChannelFactory(organisation=organisation, network="facebook")
    message = citizen_item(facebook, "Må jeg skrive privat?", kind="message")
    assert likes.can_like(message) is False
    with pytest.raises(ValidationError, match="En besked kan ikke"):
        likes.set_liked(message, actor=editor)
    threads = ChannelFactory(organisation=organisation, network="threads")
    comment = citizen_item(threads, "Fint opslag")
    assert likes.can_like(comment) is False
    with pytest.raises(ValidationError, match="lader ikke Kanal"):
        likes.set_liked(comment, actor=editor)


def test_the_conversation_page_offers_the_like_and_shows_its_state(
    world, client_for
):
    item, editor = world["item"], world["editor"]
    client = client_for(editor)
    page = client.get(reverse("inbox:detail", args=[item.conversation_id]))
    html = page.content.decode()
    assert 'name="liked" value="1"' in html
    assert 'Synes godt om<span class="visually-hidden"> · <bdi>' in html
    assert "Kanalen synes godt om kommentaren" not in html
    response = client.post(reverse("inbox:like", args=[item.pk]), {"liked": "1"},
                           follow=True)
    html = response.content.decode()
    assert "Kanalen synes nu godt om kommentaren på netværket." in html
    assert "Kanalen synes godt om kommentaren på netværket (sat af" in html
    assert "Fjern synes godt om<span class=\"visually-hidden\"> · <bdi>" in html


def test_bad_input_is_refused_with_a_message_and_nothing_sent(world, client_for):
    item = world["item"]
    client = client_for(world["editor"])
    url = reverse("inbox:like", args=[item.pk])
    response = client.post(url, {"liked": "ja"}, follow=True)
    assert response.status_code == 200
    assert "Vælg om kanalen skal synes godt om" in response.content.decode()
    assert client.get(url).status_code == 405
    assert client.post(reverse("inbox:like", args=[999999]),
                       {"liked": "1"}).status_code == 404
    assert network_likes(world) == []


def test_an_item_of_another_organisation_is_not_found(world, client_for):
    from kanal.organisations.tests.factories import (
        MembershipFactory,
        OrganisationFactory,
    )

    other = MembershipFactory(organisation=OrganisationFactory(slug="anden"),
                              role=Role.EDITOR)
    response = client_for(other).post(
        reverse("inbox:like", args=[world["item"].pk]), {"liked": "1"})
    assert response.status_code == 404
    assert network_likes(world) == []


def test_bluesky_keeps_one_like_whoever_clicks_and_whatever_was_there(
    sandbox, organisation, member
):
    """On Bluesky every like record counts; the inbox's like twice, and a
    like the account already made in the app, still leave one record."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost
    from kanal.publishing.tests.conftest import sandbox_channel

    channel = sandbox_channel(sandbox, organisation, "bluesky")
    post = adapter_for(channel).publish(OutgoingPost(text="Kulturnat i aften"),
                                        idempotency_key="bsky-like-post")
    made = sandbox.citizen("bluesky", "Glæder mig!", parent_id=post.remote_id)
    polling.poll_channel(channel)
    item = InboxItem.objects.get(remote_id=made["item_id"])
    editor = member(Role.EDITOR)

    def records():
        return [r for r in sandbox.items("bluesky", channel.remote_id, kind="like")
                if r["parent_id"] == item.remote_id]

    assert likes.set_liked(item, actor=editor) is True
    InboxItem.objects.filter(pk=item.pk).update(liked_at=None)  # Kanal forgot
    assert likes.set_liked(item, actor=editor) is True
    assert len(records()) == 1
    assert likes.set_liked(item, actor=editor, liked=False) is True
    assert records() == []


def test_a_post_that_mentions_the_page_can_be_liked_too(world):
    sandbox, channel = world["sandbox"], world["channel"]
    made = sandbox.citizen("facebook", "Flot arbejde, Københavns Kommune!",
                           account=channel.remote_id, kind="mention")
    polling.poll_channel(channel)
    item = InboxItem.objects.get(remote_id=made["item_id"])
    assert item.kind == "mention"
    assert likes.set_liked(item, actor=world["editor"]) is True
    assert network_likes(world, item) == [channel.remote_id]
