"""Answering citizens' direct messages from the inbox: privately, through
publishing's follow-ups (claimed, fenced, looked up after a lost answer),
exactly once on the network, judged by the sandbox's publish log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kanal.channels.models import ChannelStatus
from kanal.core.models import AuditEntry
from kanal.inbox import actions, polling, replies
from kanal.inbox.models import Answer, InboxItem
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing import followup
from kanal.publishing.models import FollowUp, FollowUpKind
from kanal.publishing.tests.conftest import (  # noqa: F401 (fixture)
    sandbox_channel,
    short_timeout,
)

from .factories import post_answer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]

NETWORKS = ("facebook", "instagram", "bluesky", "x", "mastodon")


def run_follow_ups():
    jobs = followup.claim_follow_ups(owner="test", limit=10)
    for job in jobs:
        followup.record_follow_up(followup.execute_follow_up(job))
    return jobs


def due_again():
    FollowUp.objects.update(due_at=timezone.now() - timedelta(seconds=1))


def messages_on(sandbox, channel):
    """What reached the network as a private message from the account."""
    return [p for p in sandbox.published(channel.network, channel.remote_id)
            if p["kind"] == "message"]


def public_answers_on(sandbox, channel):
    return [p for p in sandbox.published(channel.network, channel.remote_id)
            if p["kind"] in ("reply", "comment", "post")]


@pytest.mark.parametrize("network", NETWORKS)
def test_a_message_is_answered_privately_and_once(sandbox, dm_world, network):
    world = dm_world(network)
    item, channel = world["item"], world["channel"]
    for _ in range(2):  # the same form sent twice
        replies.reply_to_item(item, actor=world["editor"], text="Kl. 10-16.",
                              key="dm-form-1")
    assert Answer.objects.count() == 1
    assert len(run_follow_ups()) == 1
    assert run_follow_ups() == []

    [sent] = messages_on(sandbox, channel)
    assert sent["text"].endswith("Kl. 10-16.")
    assert public_answers_on(sandbox, channel) == []
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.status) == (FollowUpKind.MESSAGE, "done")
    assert follow_up.remote_id == sent["item_id"]
    assert follow_up.recipient["recipient_id"] == item.author_id
    item.conversation.refresh_from_db()
    assert item.conversation.status == "answered"
    assert item.conversation.first_response_at is not None
    assert AuditEntry.objects.filter(event="publishing.message.sent").count() == 1
    assert AuditEntry.objects.filter(event="inbox.reply.sent").count() == 1


@pytest.mark.parametrize("fault", ["server_error_after_create",
                                   "unreadable_after_create"])
@pytest.mark.parametrize("network", NETWORKS)
def test_an_answer_the_network_made_before_failing_is_found_not_sent_again(
    sandbox, dm_world, network, fault
):
    world = dm_world(network)
    channel = world["channel"]
    replies.reply_to_item(world["item"], actor=world["editor"],
                          text="Vi ringer dig op i morgen.", key="dm-lost")
    sandbox.fault(network, fault, operation="message", count=1)

    run_follow_ups()

    follow_up = FollowUp.objects.get()
    assert (follow_up.status, follow_up.write_started) == ("pending", True)
    assert len(messages_on(sandbox, channel)) == 1
    due_again()
    run_follow_ups()

    follow_up.refresh_from_db()
    [sent] = messages_on(sandbox, channel)
    assert follow_up.status == "done"
    assert follow_up.remote_id == sent["item_id"]


@pytest.mark.parametrize("network", NETWORKS)
def test_an_answer_whose_reply_never_came_is_found_not_sent_again(
    sandbox, dm_world, network, short_timeout  # noqa: F811
):
    from kanal.channels import adapters

    world = dm_world(network)
    channel = world["channel"]
    replies.reply_to_item(world["item"], actor=world["editor"],
                          text="Tak, vi kigger på det.", key="dm-timeout")
    # Polling and the form made the channel's client with the usual timeout.
    adapters._clients.clear()
    sandbox.fault(network, "timeout_after_create", operation="message", count=1,
                  delay_ms=2500)

    run_follow_ups()

    assert FollowUp.objects.get().status == "pending"
    due_again()
    run_follow_ups()

    assert FollowUp.objects.get().status == "done"
    assert len(messages_on(sandbox, channel)) == 1


def test_a_message_answer_refused_before_the_write_is_sent_once_later(
    sandbox, dm_world
):
    world = dm_world("x")
    replies.reply_to_item(world["item"], actor=world["editor"], text="Hej Ida.",
                          key="dm-503")
    sandbox.fault("x", "server_error", operation="message", count=1,
                  params={"status": 503})
    run_follow_ups()
    assert messages_on(sandbox, world["channel"]) == []
    due_again()
    run_follow_ups()
    assert len(messages_on(sandbox, world["channel"])) == 1


# -- stops -------------------------------------------------------------------------


def test_a_channel_to_reconnect_holds_a_message_answer_at_its_fence(
    sandbox, dm_world
):
    world = dm_world("facebook")
    channel = world["channel"]
    replies.reply_to_item(world["item"], actor=world["editor"], text="Hej.",
                          key="dm-fenced")
    type(channel).objects.filter(pk=channel.pk).update(
        status=ChannelStatus.NEEDS_RECONNECT)

    run_follow_ups()

    assert messages_on(sandbox, channel) == []
    follow_up = FollowUp.objects.get()
    assert (follow_up.status, follow_up.write_started) == ("pending", False)
    type(channel).objects.filter(pk=channel.pk).update(
        status=ChannelStatus.CONNECTED)
    due_again()
    run_follow_ups()
    assert len(messages_on(sandbox, channel)) == 1


def test_a_channel_turned_off_stops_a_message_answer_for_good(sandbox, dm_world):
    """"Slået fra" stops all use: the answer fails at the fence and never
    goes out when the channel is turned on again weeks later (T4-4)."""
    world = dm_world("facebook")
    channel = world["channel"]
    replies.reply_to_item(world["item"], actor=world["editor"], text="Hej.",
                          key="dm-fenced")
    type(channel).objects.filter(pk=channel.pk).update(
        status=ChannelStatus.DISABLED)

    run_follow_ups()

    follow_up = FollowUp.objects.get()
    assert (follow_up.status, follow_up.write_started) == ("failed", False)
    type(channel).objects.filter(pk=channel.pk).update(
        status=ChannelStatus.CONNECTED)
    due_again()
    assert run_follow_ups() == []
    assert messages_on(sandbox, channel) == []


def test_crisis_mode_treats_message_answers_as_it_treats_replies(
    sandbox, dm_world, member
):
    """Crisis mode pauses publishing, not the desk's answers to citizens
    (``followup._stop_reason``): a message answer goes out during a crisis,
    as a reply does, and its fence still checks the channel."""
    from kanal.publishing import actions as publishing_actions

    world = dm_world("mastodon")
    lead = member(Role.CRISIS_LEAD)
    publishing_actions.start_crisis(actor=lead, organisation=lead.organisation,
                                    reason="Skybrud")
    replies.reply_to_item(world["item"], actor=world["editor"],
                          text="Ring 112 ved fare for liv.", key="dm-crisis")
    run_follow_ups()
    assert len(messages_on(sandbox, world["channel"])) == 1
    assert FollowUp.objects.get().status == "done"


# -- Messenger's windows and networks that take no answers ---------------------------


def test_a_messenger_message_older_than_7_days_is_refused_before_queueing(
    sandbox, dm_world
):
    world = dm_world("facebook")
    item = world["item"]
    InboxItem.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - timedelta(days=7, hours=1))
    item.refresh_from_db()

    with pytest.raises(ValidationError, match="7 dage"):
        replies.reply_to_item(item, actor=world["editor"], text="Undskyld.",
                              key="dm-old")

    assert FollowUp.objects.count() == 0
    assert Answer.objects.count() == 0


def test_a_messenger_answer_after_a_day_goes_out_tagged_human_agent(
    sandbox, dm_world
):
    world = dm_world("facebook")
    item = world["item"]
    InboxItem.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - timedelta(days=2))
    sandbox.advance_clock(2 * 86400)
    item.refresh_from_db()
    replies.reply_to_item(item, actor=world["editor"], text="Beklager ventetiden.",
                          key="dm-tagged")
    run_follow_ups()
    [stored] = sandbox.items("facebook", world["channel"].remote_id,
                             kind="page_message")
    assert (stored["data"]["messaging_type"], stored["data"]["tag"]) == (
        "MESSAGE_TAG", "HUMAN_AGENT")
    assert FollowUp.objects.get().status == "done"


def test_an_answer_messenger_refuses_fails_with_its_danish_reason(
    sandbox, dm_world
):
    """Kanal's copy says the citizen wrote just now, Messenger says a day
    ago: the refusal is recorded and told, never retried, nothing sent."""
    world = dm_world("facebook")
    sandbox.advance_clock(25 * 3600)
    replies.reply_to_item(world["item"], actor=world["editor"], text="Hej.",
                          key="dm-refused")
    run_follow_ups()
    follow_up = FollowUp.objects.get()
    assert follow_up.status == "failed"
    assert "24 timer" in follow_up.last_error
    assert messages_on(sandbox, world["channel"]) == []
    assert Notification.objects.filter(kind="reply_failed",
                                       recipient=world["editor"]).exists()
    world["item"].conversation.refresh_from_db()
    assert world["item"].conversation.status == "new"
    assert AuditEntry.objects.filter(event="publishing.message.failed").count() == 1


def test_a_message_on_a_network_without_answers_is_refused_in_danish(
    organisation, member
):
    from kanal.channels.tests.factories import ChannelFactory

    from .factories import citizen_item

    channel = ChannelFactory(organisation=organisation, network="linkedin")
    item = citizen_item(channel, "Hej", kind="message")
    with pytest.raises(ValidationError, match="lader ikke Kanal besvare beskeder"):
        replies.reply_to_item(item, actor=member(Role.EDITOR), text="Hej.",
                              key="dm-li")
    assert FollowUp.objects.count() == 0


def test_a_lost_mastodon_answer_is_found_after_its_key_expired(sandbox, dm_world):
    """Mastodon keeps an Idempotency-Key for an hour; a retry after that is
    settled by finding the direct status, not by the key."""
    world = dm_world("mastodon")
    replies.reply_to_item(world["item"], actor=world["editor"],
                          text="Vi vender tilbage.", key="dm-late")
    sandbox.fault("mastodon", "server_error_after_create", operation="message",
                  count=1)
    run_follow_ups()
    sandbox.advance_clock(2 * 3600)
    due_again()
    run_follow_ups()
    [sent] = messages_on(sandbox, world["channel"])
    assert FollowUp.objects.get().remote_id == sent["item_id"]


def test_a_lost_mastodon_reply_is_found_after_its_key_expired(
    sandbox, organisation, member
):
    """The same for a public reply: the retry after Mastodon forgot the key
    asks the thread first instead of trusting the key (it used to resend,
    and the citizen got the answer twice)."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "mastodon")
    post = adapter_for(channel).publish(OutgoingPost(text="Kulturnat"),
                                        idempotency_key="post-late")
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "mastodon", "text": "Hvornår starter det?",
        "parent_id": post.remote_id, "author_name": "Ida Holm",
        "author_id": "citizen-ida"})
    polling.poll_channel(channel)
    item = InboxItem.objects.get(channel=channel)
    replies.reply_to_item(item, actor=member(Role.EDITOR), text="Kl. 17.",
                          key="reply-late")
    sandbox.fault("mastodon", "server_error_after_create", operation="reply",
                  count=1)
    run_follow_ups()
    sandbox.advance_clock(2 * 3600)
    due_again()
    run_follow_ups()
    sent = [p for p in sandbox.published("mastodon", channel.remote_id)
               if p["kind"] == "reply"]
    assert len(sent) == 1
    assert FollowUp.objects.get().remote_id == sent[0]["item_id"]


# -- the conversation page ---------------------------------------------------------


def test_the_reply_form_answers_a_message_and_the_thread_shows_the_outcome(
    sandbox, dm_world, client_for
):
    from kanal.inbox.models import InboxSettings

    world = dm_world("x")
    item = world["item"]
    conversation = item.conversation
    InboxSettings.objects.create(organisation=item.organisation,
                                 require_footer=True,
                                 footer_text="Svaret er vejledning.")
    standard = actions.save_standard_answer(
        actor=world["editor"], title="Åbent", text="Hej {fornavn}. Vi har åbent.")
    client = client_for(world["editor"])
    url = f"/indbakke/{conversation.pk}/"

    page = client.get(url).content.decode()
    assert 'id="private-answer"' in page
    assert f'value="{item.pk}"' in page

    response = post_answer(client, item, key="form-dm-view",
                           standard_answer=standard.pk)
    assert response.status_code == 302
    assert "Sendes" in client.get(url).content.decode()
    run_follow_ups()

    [sent] = messages_on(sandbox, world["channel"])
    assert sent["text"] == "Hej Ida. Vi har åbent.\n\nSvaret er vejledning."
    page = client.get(url).content.decode()
    assert "Sendt" in page and "Hej Ida. Vi har åbent." in page


def test_a_refused_message_answer_shows_not_sent_with_the_reason(
    sandbox, dm_world, client_for
):
    world = dm_world("facebook")
    conversation = world["item"].conversation
    sandbox.advance_clock(25 * 3600)
    client = client_for(world["editor"])
    post_answer(client, world["item"], "Hej.", key="form-dm-refused")
    run_follow_ups()
    page = client.get(f"/indbakke/{conversation.pk}/").content.decode()
    assert "Ikke sendt" in page
    assert "Netværket afviste svaret" in page


def test_a_message_too_old_for_messenger_is_refused_on_the_page(
    sandbox, dm_world, client_for
):
    world = dm_world("facebook")
    item = world["item"]
    InboxItem.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - timedelta(days=8))
    client = client_for(world["editor"])
    response = post_answer(client, item, "Hej.", key="form-dm-old")
    # Refused on the page itself, with what was written kept in the form.
    assert response.status_code == 400
    assert "7 dage" in response.content.decode()
    assert "Hej.</textarea>" in response.content.decode()
    assert FollowUp.objects.count() == 0


def test_the_messenger_refusal_reads_in_the_persons_language(sandbox, dm_world):
    from django.utils import translation

    world = dm_world("facebook")
    item = world["item"]
    InboxItem.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - timedelta(days=9))
    item.refresh_from_db()
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        replies.reply_to_item(item, actor=world["editor"], text="Hi.", key="dm-en")
    assert "Messenger only allows answers up to 7 days" in caught.value.messages[0]


def test_a_message_without_a_sender_is_refused_in_danish(sandbox, dm_world):
    world = dm_world("x")
    InboxItem.objects.filter(pk=world["item"].pk).update(author_id="")
    world["item"].refresh_from_db()
    with pytest.raises(ValidationError, match="hvem beskeden er fra"):
        replies.reply_to_item(world["item"], actor=world["editor"], text="Hej.",
                              key="dm-nobody")
    assert FollowUp.objects.count() == 0


def test_a_message_row_with_an_unreadable_time_is_still_sent_once(
    sandbox, dm_world
):
    """The worker claims a row whose stored time cannot be read (hand-edited
    data) instead of stopping; the network's own window decides."""
    world = dm_world("facebook")
    replies.reply_to_item(world["item"], actor=world["editor"], text="Hej.",
                          key="dm-garbled")
    row = FollowUp.objects.get()
    FollowUp.objects.filter(pk=row.pk).update(
        recipient={**row.recipient, "last_received_at": "i går"})
    run_follow_ups()
    assert FollowUp.objects.get().status == "done"
    assert len(messages_on(sandbox, world["channel"])) == 1


# -- Instagram -----------------------------------------------------------------


def test_an_instagram_message_by_webhook_and_poll_is_one_item_and_the_echo_none(
    sandbox, organisation, member, webhook_receiver, post_webhook
):
    """Instagram's ``messaging`` webhook and the conversations poll name a
    message by the same ``mid``: one item. The echo Instagram sends of the
    account's own answer (``is_echo``) is no citizen's item."""
    from kanal.inbox import intake
    from kanal.inbox.models import WebhookDelivery

    channel = sandbox_channel(sandbox, organisation, "instagram")
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "instagram", "kind": "message", "account": channel.remote_id,
        "text": "Hvornår åbner Kulturhuset?", "author_id": "igsid-ida",
        "author_name": "Ida Holm"})
    sandbox.ctx.webhooks.drain()
    [hook] = [r["json"] for r in webhook_receiver.received
              if r["json"].get("object") == "instagram"]
    assert post_webhook("instagram", hook).status_code == 200
    intake.process_deliveries()
    polling.poll_channel(channel)

    [item] = InboxItem.objects.filter(channel=channel)
    assert (item.kind, item.author_id, item.text) == (
        "message", "igsid-ida", "Hvornår åbner Kulturhuset?")
    assert item.conversation.key == "dm:igsid-ida"

    replies.reply_to_item(item, actor=member(Role.EDITOR), text="Kl. 10.",
                          key="ig-dm")
    run_follow_ups()
    sandbox.ctx.webhooks.drain()
    echo = webhook_receiver.received[-1]["json"]
    assert echo["entry"][0]["messaging"][0]["message"]["is_echo"] is True
    post_webhook("instagram", echo)
    intake.process_deliveries()
    polling.poll_channel(channel)

    assert InboxItem.objects.filter(channel=channel).count() == 1
    assert WebhookDelivery.objects.order_by("-pk").first().outcome[
        "skipped"] == {"own_item": 1}
    assert len(messages_on(sandbox, channel)) == 1


def test_an_instagram_answer_at_the_limits_goes_out_and_one_past_is_refused(
    sandbox, dm_world
):
    """Instagram's limits as Kanal keeps them: 1,000 bytes of UTF-8 and fewer
    than 1,000 characters. Each text that fits goes out through the emulator;
    one more letter, emoji or character is refused before anything is
    queued, in bytes or in characters, with what to do."""
    world = dm_world("instagram")
    refusals = {
        "æ" * 500 + "a": "1001 bytes, højst 1000",
        "😀" * 250 + "ø": "1002 bytes, højst 1000",
        "a" * 1000: "1000 tegn, højst 999",
    }
    for n, (text, words) in enumerate(refusals.items()):
        with pytest.raises(ValidationError) as caught:
            replies.reply_to_item(world["item"], actor=world["editor"], text=text,
                                  key=f"ig-long-{n}")
        assert words in str(caught.value)
        assert "Forkort det" in str(caught.value)
    assert FollowUp.objects.count() == 0
    fits = ["æ" * 500, "😀" * 250, "a" * 999]
    for n, text in enumerate(fits):
        replies.reply_to_item(world["item"], actor=world["editor"], text=text,
                              key=f"ig-fits-{n}")
    run_follow_ups()
    assert sorted(m["text"] for m in messages_on(sandbox, world["channel"])) == \
        sorted(fits)


def test_a_mastodon_message_answer_longer_than_a_status_is_refused(
    sandbox, dm_world
):
    """A direct answer on Mastodon is a status: the instance's 500 characters
    hold for it as for a public reply."""
    world = dm_world("mastodon")
    with pytest.raises(ValidationError, match="for langt til Mastodon"):
        replies.reply_to_item(world["item"], actor=world["editor"],
                              text="a" * 501, key="md-long")
    assert FollowUp.objects.count() == 0


def test_an_x_message_answer_is_not_held_to_a_posts_280(sandbox, dm_world):
    world = dm_world("x")
    replies.reply_to_item(world["item"], actor=world["editor"],
                          text="Tak for din besked. " * 20, key="x-long")
    run_follow_ups()
    assert len(messages_on(sandbox, world["channel"])) == 1
