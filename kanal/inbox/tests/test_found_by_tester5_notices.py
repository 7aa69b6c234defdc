"""OUTSIDE TESTER 5a (branch tester5a): who the inbox tells. Each test names
its finding (T5a-N)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kanal.inbox import actions, targets
from kanal.inbox.models import Conversation
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def _overdue(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        due_at=timezone.now() - timedelta(hours=1))


@pytest.mark.parametrize("gone", ["membership", "user", "role"])
def test_t5a_3_an_overdue_question_of_someone_who_left_tells_who_can_answer(
    desk, gone
):
    """T5a-3: a conversation assigned to a person told that person alone
    when it went overdue, even after they were deactivated, their login
    closed, or their role changed to one that cannot see the inbox: nobody
    who could answer it learnt it was overdue, once and for all (it is told
    once). Those of the administration who answer are told instead."""
    contributor = desk["buf_contributor"]
    colleague = _member_like(desk, Role.CONTRIBUTOR, desk["buf"])
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                person=contributor)
    Notification.objects.all().delete()
    if gone == "membership":
        contributor.is_active = False
        contributor.save(update_fields=["is_active"])
    elif gone == "user":
        contributor.user.is_active = False
        contributor.user.save(update_fields=["is_active"])
    else:
        contributor.role = Role.ANALYST
        contributor.save(update_fields=["role"])
    _overdue(conversation)
    assert targets.notify_overdue() == 1
    told = set(Notification.objects.filter(kind="inbox_overdue")
               .values_list("recipient_id", flat=True))
    assert told == {colleague.pk}


def test_an_overdue_question_of_someone_still_here_tells_them_alone(desk):
    """T5a-3 (fixer): the person it is assigned to, while they can see it,
    is the one told."""
    contributor = desk["buf_contributor"]
    _member_like(desk, Role.CONTRIBUTOR, desk["buf"])
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                person=contributor)
    _overdue(conversation)
    assert targets.notify_overdue() == 1
    assert list(Notification.objects.filter(kind="inbox_overdue")
                .values_list("recipient_id", flat=True)) == [contributor.pk]


def _member_like(desk, role, administration):
    from kanal.organisations.tests.factories import MembershipFactory

    return MembershipFactory(organisation=desk["channel"].organisation,
                             role=role, administration=administration)


def test_t5a_5_a_conversation_is_not_given_to_a_closed_login(desk, client):
    """T5a-5: the assignment form offered, and the action took, a person
    whose login was closed (membership still active): the conversation was
    theirs, nobody was told who could answer it, and the page's list of
    people said nothing. They are not offered, and the action refuses
    anyone who cannot see the inbox."""
    conversation = citizen_item(desk["channel"]).conversation
    gone = desk["buf_contributor"]
    gone.user.is_active = False
    gone.user.save(update_fields=["is_active"])
    client.force_login(desk["editor"].user)
    page = client.get(f"/indbakke/{conversation.pk}/").content.decode()
    assert f'{gone.display_name} (BUF)</option>' not in page
    response = client.post(f"/indbakke/{conversation.pk}/tildel/",
                           {"person": gone.pk}, follow=True)
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.assigned_to_id is None
    analyst = desk["analyst"]
    with pytest.raises(ValidationError):
        actions.assign_conversation(conversation, actor=desk["editor"],
                                    person=analyst)
    with pytest.raises(ValidationError):
        actions.assign_conversation(conversation, actor=desk["editor"],
                                    person=gone)
    assert not Notification.objects.filter(kind="inbox_assigned").exists()


def test_t5a_5_an_assignment_to_an_administration_tells_no_closed_login(desk):
    """T5a-5, the same class: an assignment to an administration told its
    contributors, a closed login among them."""
    gone = desk["buf_contributor"]
    gone.user.is_active = False
    gone.user.save(update_fields=["is_active"])
    here = _member_like(desk, Role.CONTRIBUTOR, desk["buf"])
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["buf"])
    assert set(Notification.objects.filter(kind="inbox_assigned")
               .values_list("recipient_id", flat=True)) == {here.pk}
