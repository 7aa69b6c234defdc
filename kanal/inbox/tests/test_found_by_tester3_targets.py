"""OUTSIDE TESTER 3 (branch tester3): failing tests for response targets.
Each test names its finding (T3-N) in /work/briefs/tester3-findings.md."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kanal.inbox import intake, targets
from kanal.inbox.models import InboxItem as StoredItem

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def test_t3_8_a_question_the_citizen_deleted_sends_no_overdue_notice(desk):
    """T3-8: a citizen asks, then deletes the comment (Meta's ``remove``, or
    polling's read-back "gone"). The item is marked deleted and the reply
    form refuses it ("Borgeren har slettet kommentaren; den kan ikke
    besvares"), but the conversation stays *Ny* with its due time; the
    overdue job then tells the desk to "Svar den nu" about a question that
    no longer exists and cannot be answered. (Tester 2's finding 8 covers
    only a comment first seen by its deletion.)"""
    from kanal.channels.networks.base import InboxItem
    from kanal.notifications.models import Notification

    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    assert item.conversation.due_at is not None
    intake.ingest(desk["channel"], InboxItem(
        remote_id=item.remote_id, kind="comment", author_id=item.author_id,
        author_name=item.author_name, text="", created_at=item.created_at,
        post_remote_id=item.post_remote_id,
        parent_remote_id=item.parent_remote_id,
    ), action="remove", at=timezone.now())
    assert StoredItem.objects.get(pk=item.pk).deleted_on_network_at is not None
    targets.notify_overdue(now=timezone.now() + timedelta(days=30))
    assert not Notification.objects.filter(kind="inbox_overdue").exists()
