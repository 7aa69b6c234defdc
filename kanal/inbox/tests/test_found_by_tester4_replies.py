"""OUTSIDE TESTER 4 (branch tester4): failing tests for answers from the
inbox. Each test names its finding (T4-N) in /work/briefs/findings4.md."""

from __future__ import annotations

import pytest

from kanal.channels.actions import disable_channel
from kanal.inbox.models import Answer
from kanal.publishing.models import FollowUp

from .factories import citizen_item, page_seen

pytestmark = pytest.mark.django_db


@pytest.mark.xfail(strict=True, reason="T4-4: an answer to a disabled channel's "
                   "conversation is queued and reported as being sent")
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
