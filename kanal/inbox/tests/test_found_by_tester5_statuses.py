"""Found by the fifth outside tester (T5b): a conversation answered on the
network directly, not from Kanal (someone at the page answers in Meta
Business Suite, the Instagram app or the Threads app).

The page's own reply arrives by webhook like any comment. It was skipped as
"own_item" and nothing else: the conversation stayed new, went overdue, was
notified as overdue, and invited a second answer to a citizen already
answered. The page's own reply to a question Kanal holds now settles that
conversation as answered (first response time included); a citizen who
writes again reopens it as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kanal.inbox import intake, targets
from kanal.inbox.models import Conversation, ConversationStatus, InboxItem
from kanal.publishing.models import FollowUp, FollowUpKind

pytestmark = pytest.mark.django_db

PAGES = {"facebook": "P1", "instagram": "IG1", "threads": "TH1"}


def _body(network, *, item, parent, author, at: datetime, value=None):
    """A Meta webhook announcing ``item`` (a reply to ``parent`` under the
    post "POST", or a comment on it when ``parent`` is the post) by
    ``author`` (an id; Threads: a username) at ``at``, as each network
    sends it (Facebook's ``value`` with ``value``'s fields over it)."""
    seconds = int(at.timestamp())
    if network == "facebook":
        return {"object": "page", "entry": [{
            "id": "P1", "time": seconds, "changes": [{"field": "feed", "value": {
                "from": {"id": author, "name": "Navn"}, "post_id": "POST",
                "comment_id": item, "parent_id": parent, "message": "Tekst",
                "created_time": seconds, "item": "comment", "verb": "add",
                **(value or {})}}]}]}
    if network == "instagram":
        value = {"from": {"id": author, "username": author}, "media": {"id": "POST"},
                 "id": item, "text": "Tekst"}
        if parent != "POST":
            value["parent_id"] = parent
        return {"object": "instagram", "entry": [{
            "id": "IG1", "time": seconds,
            "changes": [{"field": "comments", "value": value}]}]}
    return {"target_id": "TH1", "time": seconds, "values": {
        "field": "replies", "value": {
            "id": item, "username": author, "text": "Tekst",
            "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "replied_to": {"id": parent},
            "root_post": {"id": "POST", "username": "kbh_kommune"}}}}


OWN = {"facebook": "P1", "instagram": "IG1", "threads": "kbh_kommune"}


def _deliver(post_webhook, network, **kwargs):
    post_webhook(network, _body(network, **kwargs))
    intake.process_deliveries()


@pytest.mark.parametrize("network", list(PAGES))
@pytest.mark.usefixtures("meta_channels")
def test_an_answer_given_on_the_network_settles_the_conversation(
    post_webhook, network
):
    """T5b-1."""
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, network, item="Q1", parent="POST", author="citizen",
             at=asked)
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.NEW
    assert conversation.due_at is not None

    answered = asked + timedelta(minutes=10)
    _deliver(post_webhook, network, item="A1", parent="Q1", author=OWN[network],
             at=answered)

    conversation.refresh_from_db()
    assert InboxItem.objects.count() == 1  # the page's reply is no question
    assert conversation.status == ConversationStatus.ANSWERED
    assert conversation.first_response_at == answered
    assert conversation.answered_on_time is True
    # Nothing left to answer: the overdue run passes it by.
    assert targets.notify_overdue(now=timezone.now() + timedelta(days=30),
                                  dry_run=True) == 0

    # The same reply delivered again changes nothing.
    _deliver(post_webhook, network, item="A1", parent="Q1", author=OWN[network],
             at=answered)
    conversation.refresh_from_db()
    assert conversation.first_response_at == answered

    # The citizen writes again: open again, due from the new question.
    # (Meta threads a reply to the page's reply under the first comment.)
    _deliver(post_webhook, network, item="Q2", parent="Q1", author="citizen",
             at=answered + timedelta(minutes=5))
    conversation.refresh_from_db()
    assert Conversation.objects.count() == 1
    assert conversation.status == ConversationStatus.NEW
    assert conversation.first_response_at == answered


@pytest.mark.usefixtures("meta_channels")
def test_an_answer_on_the_network_before_a_later_question_leaves_it_open(
    post_webhook
):
    """The page answered the first question; the citizen's second one (which
    arrived first: deliveries come out of order) still waits."""
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, "facebook", item="Q1", parent="POST", author="citizen",
             at=asked)
    _deliver(post_webhook, "facebook", item="Q2", parent="Q1", author="citizen",
             at=asked + timedelta(minutes=20))
    _deliver(post_webhook, "facebook", item="A1", parent="Q1", author="P1",
             at=asked + timedelta(minutes=10))
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.NEW
    assert conversation.first_response_at == asked + timedelta(minutes=10)


@pytest.mark.usefixtures("meta_channels")
def test_a_conversation_closed_by_the_desk_is_left_as_it_is(post_webhook):
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, "facebook", item="Q1", parent="POST", author="citizen",
             at=asked)
    Conversation.objects.update(status=ConversationStatus.NO_REPLY)
    _deliver(post_webhook, "facebook", item="A1", parent="Q1", author="P1",
             at=asked + timedelta(minutes=10))
    assert Conversation.objects.get().status == ConversationStatus.NO_REPLY


@pytest.mark.usefixtures("meta_channels")
def test_the_page_answering_what_kanal_never_saw_stores_nothing(post_webhook):
    now = datetime.now(UTC).replace(microsecond=0)
    _deliver(post_webhook, "facebook", item="A1", parent="Q-unknown", author="P1",
             at=now)
    assert not Conversation.objects.exists()
    assert not InboxItem.objects.exists()


@pytest.mark.usefixtures("meta_channels")
def test_kanals_own_answer_arriving_by_webhook_is_not_counted_twice(
    post_webhook, organisation, meta_channels
):
    """Kanal's answer (its follow-up's remote id) comes back by webhook too:
    ``replies.record_reply_outcome`` settles it, not the webhook."""
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, "facebook", item="Q1", parent="POST", author="citizen",
             at=asked)
    FollowUp.objects.create(kind=FollowUpKind.REPLY, channel=meta_channels["facebook"],
                            target_remote_id="Q1", text="Svar", idempotency_key="k",
                            status="running", remote_id="A1")
    _deliver(post_webhook, "facebook", item="A1", parent="Q1", author="P1",
             at=asked + timedelta(minutes=10))
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.NEW
    assert conversation.first_response_at is None


@pytest.mark.parametrize("network", list(PAGES))
@pytest.mark.usefixtures("meta_channels")
def test_the_citizen_writing_again_takes_a_waiting_conversation_back(
    post_webhook, network
):
    """T5b-2: "Afventer" (the desk waits: for the citizen's details, a
    colleague's word) stayed "Afventer" when the citizen wrote again, so
    the new question sat under a status that says nothing is needed yet.
    A new item brings it back to the desk, as it does an answered one; the
    due time of the question that already waited is kept."""
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, network, item="Q1", parent="POST", author="citizen",
             at=asked)
    Conversation.objects.update(status=ConversationStatus.WAITING)
    due = Conversation.objects.get().due_at
    _deliver(post_webhook, network, item="Q2", parent="Q1", author="citizen",
             at=asked + timedelta(minutes=20))
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.NEW
    assert conversation.due_at == due


@pytest.mark.usefixtures("meta_channels")
def test_a_waiting_conversation_stays_waiting_for_an_item_first_seen_deleted(
    post_webhook
):
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    _deliver(post_webhook, "facebook", item="Q1", parent="POST", author="citizen",
             at=asked)
    Conversation.objects.update(status=ConversationStatus.WAITING)
    _deliver(post_webhook, "facebook", item="Q2", parent="Q1", author="citizen",
             at=asked + timedelta(minutes=20), value={"verb": "remove"})
    assert Conversation.objects.get().status == ConversationStatus.WAITING


@pytest.mark.usefixtures("meta_channels")
def test_the_pages_comment_under_a_citizens_post_answers_it(post_webhook):
    """A citizen's post on the page (T5b-7) answered by the page's comment
    under it, written on Facebook; the page's comment on its own post
    answers nobody."""
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    seconds = int(asked.timestamp())
    post_webhook("facebook", {"object": "page", "entry": [{
        "id": "P1", "time": seconds, "changes": [{"field": "feed", "value": {
            "from": {"id": "citizen", "name": "Jens"}, "post_id": "P1_77",
            "message": "Hvornår ryddes der sne?", "created_time": seconds,
            "item": "status", "verb": "add"}}]}]})
    intake.process_deliveries()
    _deliver(post_webhook, "facebook", item="C1", parent="POST", author="P1",
             at=asked + timedelta(minutes=5))  # on the page's own post
    assert Conversation.objects.get().status == ConversationStatus.NEW
    _deliver(post_webhook, "facebook", item="C2", parent="P1_77", author="P1",
             at=asked + timedelta(minutes=10), value={"post_id": "P1_77"})
    assert Conversation.objects.get().status == ConversationStatus.ANSWERED
