"""OUTSIDE TESTER 4 (branch tester4): failing tests for answers from the
inbox. Each test names its finding (T4-N) in /work/briefs/findings4.md."""

from __future__ import annotations

import pytest

from kanal.channels.actions import disable_channel
from kanal.inbox.models import Answer
from kanal.publishing.models import FollowUp

from .factories import citizen_item, page_seen

pytestmark = pytest.mark.django_db


def test_t4_4_an_answer_on_a_disabled_channel_is_refused_not_queued(
    desk, client, member
):
    """T4-4: the administrator turned the channel off ("Slået fra": stop
    all use of it). The editor still gets the reply form, sends an answer
    and reads "Svaret sendes nu"; it waits unseen and goes out whenever the
    channel is turned on again, weeks later and out of context. It should be
    refused at once (400, in Danish) with nothing queued."""
    from kanal.organisations.roles import Role

    item = citizen_item(desk["channel"])
    disable_channel(desk["channel"], actor=member(Role.ADMIN), reason="Lukket")
    client.force_login(desk["editor"].user)
    response = client.post(f"/indbakke/{item.conversation_id}/svar/", {
        "item": item.pk, "text": "Vi åbner kl. 10.", "key": "t4-4",
        "seen": page_seen(item)})
    assert response.status_code == 400
    assert not FollowUp.objects.exists()
    assert not Answer.objects.exists()


def test_t4_10_an_edit_while_the_desk_writes_stops_the_answer_like_a_new_item(
    desk
):
    """T4-10: the reply form refuses an answer when the citizen wrote again
    while the editor wrote (``meanwhile``), but an edit of the question is
    not counted: the citizen changes "Hvornår åbner svømmehallen?" to ask
    about something else, and the answer to the old wording goes out
    unnoticed. The edit should refuse it like a new item does."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.inbox import intake, meanwhile, replies

    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    seen = meanwhile.Seen.parse(page_seen(item))
    intake.ingest(desk["channel"], NetworkItem(
        remote_id=item.remote_id, kind=item.kind, author_id=item.author_id,
        author_name=item.author_name,
        text="Hvornår lukker svømmehallen for vinteren?",
        created_at=item.created_at, post_remote_id=item.post_remote_id,
        parent_remote_id=item.parent_remote_id,
    ), action="edited", at=timezone.now())
    item.refresh_from_db()
    assert item.text == "Hvornår lukker svømmehallen for vinteren?"
    with pytest.raises(ValidationError):
        replies.reply_to_item(item, actor=desk["editor"], text="Kl. 10.",
                              key="t4-10", seen=seen)
    assert not Answer.objects.exists()
