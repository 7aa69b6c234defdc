"""Found by tester7b (T7b-1, T7b-2): answers written on the network itself.

Someone at the page answers a citizen's direct message in Meta's own app
(Business Suite, the Instagram app): Meta sends the message back with
``is_echo`` and the page as sender. Kanal skipped it ("own_item") and
nothing else: the conversation stayed *Ny*, went overdue and invited a
second answer to a citizen already answered. Now the echo answers that
conversation (status, first response time) and is kept as an answer
written on the network, shown on the conversation's page; it is never a
citizen's item (no new conversation, no notification, no rule). A citizen's
reply to an answer the page wrote on the network joins the conversation it
answered (T7b-2); before, it started a conversation of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kanal.inbox import intake
from kanal.inbox.models import (
    AssignmentRule,
    Conversation,
    ConversationStatus,
    InboxItem,
    NetworkAnswer,
    WebhookDelivery,
)
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.models import FollowUp, FollowUpKind
from kanal.publishing.tests.conftest import (
    sandbox_channel,
)

from .test_answers_written_meanwhile import two  # noqa: F401 (fixture)
from .test_found_by_tester5_statuses import _deliver

ECHO_NETWORKS = ("facebook", "instagram")


def _hooks(sandbox, receiver, obj):
    sandbox.ctx.webhooks.drain()
    return [r["json"] for r in receiver.received if r["json"].get("object") == obj]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
@pytest.mark.parametrize("network", ECHO_NETWORKS)
def test_a_message_answered_in_metas_own_app_answers_the_conversation(
    sandbox, organisation, member, webhook_receiver, post_webhook, client, network
):
    """T7b-1."""
    obj = "page" if network == "facebook" else "instagram"
    channel = sandbox_channel(sandbox, organisation, network)
    editor = member(Role.EDITOR)
    # A rule that would assign any new conversation: the echo starts none.
    AssignmentRule.objects.create(organisation=organisation, keyword="",
                                  administration=editor.administration)
    sandbox.ctx.webhooks.default_url = webhook_receiver.url
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": network, "kind": "message", "account": channel.remote_id,
        "text": "Hvornår åbner Kulturhuset?", "author_id": "citizen-ida",
        "author_name": "Ida Holm"})
    [question] = _hooks(sandbox, webhook_receiver, obj)
    assert post_webhook(network, question).status_code == 200
    intake.process_deliveries()
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.key == "dm:citizen-ida"
    conversation.status = ConversationStatus.NEW
    conversation.assigned_administration = None
    conversation.save()
    notified = Notification.objects.count()

    sandbox.control("POST", "/_sandbox/owner/message", {
        "network": network, "account": channel.remote_id,
        "recipient_id": "citizen-ida", "text": "Kl. 10 i morgen. Mvh. Kulturhuset"})
    echo = _hooks(sandbox, webhook_receiver, obj)[-1]
    assert echo["entry"][0]["messaging"][0]["message"]["is_echo"] is True
    for _replay in range(2):  # a replayed echo changes nothing more
        assert post_webhook(network, echo).status_code == 200
        intake.process_deliveries()

    conversation.refresh_from_db()
    assert InboxItem.objects.filter(channel=channel).count() == 1
    assert Conversation.objects.filter(channel=channel).count() == 1
    assert conversation.status == ConversationStatus.ANSWERED
    assert conversation.assigned_administration is None
    assert conversation.first_response_at is not None
    [kept] = NetworkAnswer.objects.filter(conversation=conversation)
    assert kept.text == "Kl. 10 i morgen. Mvh. Kulturhuset"
    assert Notification.objects.count() == notified
    # Nothing reached the network from Kanal: the answer was the page's own.
    assert [p for p in sandbox.published(network, channel.remote_id)
            if p["kind"] == "message"] == []

    client.force_login(editor.user)
    page = client.get(f"/indbakke/{conversation.pk}/").content.decode()
    assert f'id="network-answer-{kept.pk}"' in page
    assert "Kl. 10 i morgen. Mvh. Kulturhuset" in page
    assert "Skrevet på netværket" in page


def _dm(page, *, sender, recipient, mid, text="Hej", echo=False, at=None):
    at = at or datetime.now(UTC)
    millis = int(at.timestamp() * 1000)
    message = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
    return {"object": "page" if page == "P1" else "instagram", "entry": [{
        "id": page, "time": millis, "messaging": [{
            "sender": {"id": sender}, "recipient": {"id": recipient},
            "timestamp": millis, "message": message}]}]}


@pytest.mark.django_db
@pytest.mark.usefixtures("meta_channels")
def test_kanals_own_message_echoed_is_settled_by_its_follow_up(
    post_webhook, meta_channels
):
    """The echo of an answer Kanal sent (its follow-up's remote id) is no
    answer written on the network: the follow-up settles it."""
    asked = datetime.now(UTC) - timedelta(minutes=30)
    post_webhook("facebook", _dm("P1", sender="u9", recipient="P1", mid="m_q",
                                 at=asked))
    intake.process_deliveries()
    FollowUp.objects.create(kind=FollowUpKind.REPLY, channel=meta_channels["facebook"],
                            target_remote_id="m_q", text="Svar", idempotency_key="k",
                            status="running", remote_id="m_a")
    post_webhook("facebook", _dm("P1", sender="P1", recipient="u9", mid="m_a",
                                 echo=True))
    intake.process_deliveries()
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.NEW
    assert not NetworkAnswer.objects.exists()
    assert WebhookDelivery.objects.order_by("-pk").first().outcome[
        "skipped"] == {"own_item": 1}


@pytest.mark.django_db
@pytest.mark.usefixtures("meta_channels")
def test_an_echo_to_someone_kanal_never_heard_from_stores_nothing(post_webhook):
    post_webhook("instagram", _dm("IG1", sender="IG1", recipient="u7", mid="m_x",
                                  echo=True))
    intake.process_deliveries()
    assert not Conversation.objects.exists()
    assert not NetworkAnswer.objects.exists()
    assert not InboxItem.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("meta_channels")
def test_an_echo_before_the_citizens_next_message_leaves_that_one_waiting(
    post_webhook,
):
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    post_webhook("facebook", _dm("P1", sender="u9", recipient="P1", mid="m_1",
                                 at=asked))
    post_webhook("facebook", _dm("P1", sender="u9", recipient="P1", mid="m_2",
                                 at=asked + timedelta(minutes=20)))
    post_webhook("facebook", _dm("P1", sender="P1", recipient="u9", mid="m_e",
                                 echo=True, at=asked + timedelta(minutes=10)))
    intake.process_deliveries()
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.NEW
    assert conversation.first_response_at == asked + timedelta(minutes=10)
    assert NetworkAnswer.objects.get().conversation == conversation


@pytest.mark.django_db
@pytest.mark.usefixtures("meta_channels")
def test_a_reply_to_the_pages_answer_on_the_network_joins_its_conversation(
    post_webhook,
):
    """T7b-2: Threads names the exact post a reply answers: the citizen's
    reply to the page's answer written in the Threads app."""
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, "threads", item="Q1", parent="POST", author="citizen",
             at=asked)
    _deliver(post_webhook, "threads", item="A1", parent="Q1", author="kbh_kommune",
             at=asked + timedelta(minutes=5))
    _deliver(post_webhook, "threads", item="Q2", parent="A1", author="citizen",
             at=asked + timedelta(minutes=10))
    conversation = Conversation.objects.get()
    assert InboxItem.objects.get(remote_id="Q2").conversation == conversation
    assert conversation.status == ConversationStatus.NEW


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_an_x_message_written_in_xs_app_answers_the_conversation_by_poll(
    sandbox, organisation, member
):
    """T7b-1 on X: ``/2/dm_events`` lists the account's own messages too
    (the sandbox did not); one written in X's app answers the citizen's
    conversation, and Kanal's own answer, read back the same way, is
    settled by its follow-up, not counted again."""
    from kanal.inbox import polling, replies

    from .test_message_answers import run_follow_ups

    channel = sandbox_channel(sandbox, organisation, "x")
    editor = member(Role.EDITOR)
    sandbox.control("POST", "/_sandbox/citizens/item", {
        "network": "x", "kind": "message", "account": channel.remote_id,
        "text": "Hvornår tømmes skraldet?", "author_id": "2244994945",
        "author_name": "Ida Holm"})
    polling.poll_channel(channel)
    [item] = InboxItem.objects.filter(channel=channel)
    conversation = item.conversation
    assert conversation.status == ConversationStatus.NEW

    replies.reply_to_item(item, actor=editor, text="Tirsdag.", key="x-dm")
    run_follow_ups()
    Conversation.objects.filter(pk=conversation.pk).update(
        status=ConversationStatus.NEW, first_response_at=None)
    polling.poll_channel(channel)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.NEW  # the follow-up's
    assert not NetworkAnswer.objects.exists()

    sandbox.control("POST", "/_sandbox/owner/message", {
        "network": "x", "account": channel.remote_id,
        "recipient_id": "2244994945", "text": "Og torsdag for haveaffald."})
    polling.poll_channel(channel)
    polling.poll_channel(channel)
    conversation.refresh_from_db()
    assert InboxItem.objects.filter(channel=channel).count() == 1
    assert conversation.status == ConversationStatus.ANSWERED
    assert NetworkAnswer.objects.get().text == "Og torsdag for haveaffald."
    assert [p["text"] for p in sandbox.published("x", channel.remote_id)
            if p["kind"] == "message"] == ["Tirsdag."]


@pytest.mark.django_db
def test_an_answer_written_on_the_network_naming_the_citizen_is_redacted(desk):
    """The page's answer written on the network is kept like Kanal's own:
    redaction removes the citizen's name where it quotes them."""
    from django.utils import timezone

    from kanal.inbox import retention

    from .factories import citizen_item

    item = citizen_item(desk["channel"], author="Mette Hansen")
    kept = NetworkAnswer.objects.create(
        conversation=item.conversation, channel=desk["channel"], remote_id="a1",
        text="Hej Mette. Vi ringer i morgen.", written_at=timezone.now())
    retention.redact_items([item.pk], now=timezone.now())
    kept.refresh_from_db()
    assert kept.text == "Hej [slettet]. Vi ringer i morgen."


@pytest.mark.django_db
def test_an_answer_written_on_the_network_while_i_wrote_stops_mine(two, desk):  # noqa: F811
    """T7b-1 with ``meanwhile``: a colleague answers in Meta's own app while
    I write in Kanal: mine is not sent, the page says so and marks theirs,
    and "Send alligevel" sends it."""
    from django.utils import timezone

    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.inbox.models import Answer

    from .test_answers_written_meanwhile import _anyway

    channel = desk["channel"]
    intake.ingest(channel, NetworkItem(
        remote_id="own-1", kind="reply", author_id=channel.remote_id,
        author_name="", text="Kl. 10 i morgen. Mvh. Svømmehallen",
        created_at=timezone.now(), post_remote_id="post-1",
        parent_remote_id=two["item"].remote_id))
    kept = NetworkAnswer.objects.get()
    response = two["send"](two["signe"], two["forms"]["signe"], "Kl. 11.")
    page = response.content.decode()
    assert response.status_code == 409
    assert ("Der blev svaret på netværket kl. 14:02, mens du skrev. Dit svar er "
            "ikke sendt.") in page
    assert (f'class="inbox-item kind-answer inbox-meanwhile" '
            f'id="network-answer-{kept.pk}"') in page
    assert "Kl. 11.</textarea>" in page
    assert not Answer.objects.exists()
    fields = {**two["forms"]["signe"], "send_anyway": _anyway(page)}
    assert two["send"](two["signe"], fields, "Kl. 11.").status_code == 302
    assert Answer.objects.get().text == "Kl. 11."
