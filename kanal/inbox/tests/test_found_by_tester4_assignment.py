"""OUTSIDE TESTER 4 (branch tester4): failing tests for assigning
conversations. Each test names its finding (T4-N) in
/work/briefs/findings4.md."""

from __future__ import annotations

import pytest

from kanal.inbox import actions
from kanal.inbox.models import Conversation

from .factories import citizen_item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("second", ["administration", "person"])
def test_t4_6_an_assigned_conversation_can_be_given_to_someone_else(
    desk, client, second
):
    """T4-6: the first assignment works; every later one (the question went
    to the wrong administration, an assignment rule routed it, a colleague
    takes it over) is a server error. The audit's "before" holds the
    Administration and Membership objects, which the audit cannot write, so
    the desk can never move a conversation once it is assigned."""
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["buf"])
    client.force_login(desk["editor"].user)
    client.raise_request_exception = False
    value = (desk["tmf"].pk if second == "administration"
             else desk["tmf_contributor"].pk)
    response = client.post(f"/indbakke/{conversation.pk}/tildel/",
                           {second: value})
    assert response.status_code == 302
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.assigned_administration == desk["tmf"]


def test_a_reassignment_is_audited_with_ids_of_what_it_replaced(desk):
    """T4-6 (fixer): the audit of a second assignment names what the
    conversation had before by id (and the administration by code), and a
    third one works as well."""
    from kanal.core.models import AuditEntry

    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                person=desk["buf_contributor"])
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["tmf"])
    actions.assign_conversation(conversation, actor=desk["editor"],
                                person=desk["tmf_contributor"])
    entries = list(AuditEntry.objects.filter(
        event="inbox.conversation.assigned").order_by("seq"))
    assert [e.changes["administration"] for e in entries] == ["BUF", "TMF", "TMF"]
    assert entries[1].changes["before"] == {
        "assigned_administration_id": desk["buf"].pk,
        "assigned_to_id": desk["buf_contributor"].pk, "status": "assigned"}
    assert entries[2].changes["before"]["assigned_to_id"] is None
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.assigned_to == desk["tmf_contributor"]
