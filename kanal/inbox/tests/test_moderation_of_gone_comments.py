"""A network's refusal that may say the comment is gone is checked with the
network (``read_post``), for every inbox action that reaches the comment
(the like's in ``test_likes``):
a gone comment is recorded as deleted on the network (the conversation
retimed, nothing counted as a warning); one still there stays a refusal
(T4-5)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.core.models import AuditEntry
from kanal.inbox import moderation
from kanal.inbox.models import ConversationStatus, ItemVersion, ModerationAction

pytestmark = pytest.mark.django_db(transaction=True)

GONE = "findes ikke længere"


def _citizen_deletes(world):
    item = world["item"]
    world["sandbox"].control("DELETE", f"/_sandbox/items/facebook/{item.remote_id}")


def _recorded_deleted(item):
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    assert item.versions.filter(change=ItemVersion.Change.DELETED).count() == 1
    assert not item.conversation.unanswered_items().exists()


def test_showing_again_a_hidden_comment_already_gone_records_it_deleted(world):
    item, editor = world["item"], world["editor"]
    moderation.moderate_item(item, actor=editor, kind="hide", reason="spam")
    _citizen_deletes(world)
    item.refresh_from_db()
    with pytest.raises(ValidationError, match=GONE):
        moderation.moderate_item(item, actor=editor, kind="unhide")
    _recorded_deleted(item)
    assert item.hidden_on_network is True
    assert list(ModerationAction.objects.values_list("kind", flat=True)) == ["hide"]
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.HIDDEN


def test_a_refusal_of_a_comment_still_there_stays_a_refusal(world):
    item = world["item"]
    world["sandbox"].fault("facebook", "policy_block", operation="hide")
    with pytest.raises(ValidationError, match="afviste"):
        moderation.moderate_item(item, actor=world["editor"], kind="hide",
                                 reason="spam")
    item.refresh_from_db()
    assert item.deleted_on_network_at is None and not item.hidden_on_network
    assert not AuditEntry.objects.filter(event="inbox.item.found_deleted").exists()
