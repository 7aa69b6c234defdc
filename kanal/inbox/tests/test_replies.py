"""Answering citizens through publishing's follow-ups (claimed, fenced, sent
once), against the sandbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.core.models import AuditEntry
from kanal.inbox import actions, replies
from kanal.inbox.models import Answer, InboxSettings, StandardAnswer
from kanal.organisations.roles import Role
from kanal.publishing import followup
from kanal.publishing.models import FollowUp

pytestmark = pytest.mark.django_db(transaction=True)


def run_follow_ups():
    jobs = followup.claim_follow_ups(owner="test", limit=10)
    for job in jobs:
        followup.record_follow_up(followup.execute_follow_up(job))
    return jobs


def replies_on_network(sandbox, item):
    return [i for i in sandbox.items("facebook")
            if i.get("parent_id") == item.remote_id]


def test_a_reply_goes_out_once_and_marks_the_conversation_answered(world):
    item, sandbox = world["item"], world["sandbox"]
    replies.reply_to_item(item, actor=world["editor"], text="Kl. 10 i morgen.",
                          key="form-1")
    # The same form sent twice makes one answer.
    replies.reply_to_item(item, actor=world["editor"], text="Kl. 10 i morgen.",
                          key="form-1")
    assert Answer.objects.count() == 1
    assert len(run_follow_ups()) == 1
    assert run_follow_ups() == []
    sent = replies_on_network(sandbox, item)
    assert [r["text"] for r in sent] == ["Kl. 10 i morgen."]
    item.conversation.refresh_from_db()
    assert item.conversation.status == "answered"
    assert item.conversation.first_response_at is not None
    assert item.conversation.answered_on_time is (
        item.conversation.first_response_at <= item.conversation.due_at)
    follow_up = FollowUp.objects.get()
    assert follow_up.remote_id == sent[0]["item_id"]
    assert AuditEntry.objects.filter(event="inbox.reply.sent").count() == 1
    assert AuditEntry.objects.filter(event="publishing.reply.sent").count() == 1


def test_a_standard_answer_is_filled_in_and_the_required_footer_added(world):
    item, sandbox = world["item"], world["sandbox"]
    InboxSettings.objects.create(organisation=item.organisation,
                                 require_footer=True,
                                 footer_text="Svaret er vejledning.")
    standard = actions.save_standard_answer(
        actor=world["editor"], title="Åbningstider",
        text="Hej {fornavn}. Se åbningstiderne på kk.dk.")
    replies.reply_to_item(item, actor=world["editor"], standard_answer=standard,
                          key="form-2")
    run_follow_ups()
    [reply] = replies_on_network(sandbox, item)
    assert reply["text"] == ("Hej Mette. Se åbningstiderne på kk.dk.\n\n"
                             "Svaret er vejledning.")
    assert Answer.objects.get().standard_answer == standard


def test_an_empty_answer_is_refused_in_danish(world):
    with pytest.raises(ValidationError, match="Skriv et svar"):
        replies.reply_to_item(world["item"], actor=world["editor"], text="  ",
                              key="k1")
    assert FollowUp.objects.count() == 0


def test_a_reply_that_the_network_refuses_tells_the_person_and_is_not_answered(
    world
):
    from kanal.channels.models import ChannelStatus

    item = world["item"]
    replies.reply_to_item(item, actor=world["editor"], text="Hej", key="k3")
    # The channel is disconnected: the fence stops the write; nothing is sent.
    type(world["channel"]).objects.filter(pk=world["channel"].pk).update(
        status=ChannelStatus.DISABLED)
    run_follow_ups()
    assert replies_on_network(world["sandbox"], item) == []
    item.conversation.refresh_from_db()
    assert item.conversation.status == "new"


def test_only_the_desk_keeps_standard_answers(world, member):
    contributor = member(Role.CONTRIBUTOR)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.save_standard_answer(actor=contributor, title="x", text="y")
    assert StandardAnswer.objects.count() == 0
