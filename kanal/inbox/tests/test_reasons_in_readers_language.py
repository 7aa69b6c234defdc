"""Why an answer was not sent and why a poll failed are stored as a kind
and its values (or the network's untranslated sentence) and said in the
reader's language (T4-8)."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from kanal.inbox import polling
from kanal.inbox.models import PollCursor
from kanal.notifications.kinds import render
from kanal.publishing.models import FollowUp

pytestmark = pytest.mark.django_db

NETWORK_SAYS = "Netværket svarede med en fejl."


def test_a_failed_answers_reason_and_the_networks_words_follow_the_reader(desk):
    follow_up = FollowUp(kind="reply", channel=desk["channel"], status="failed",
                         error_kind="reply_failed",
                         reason_params={"channel": "Facebook", "why": NETWORK_SAYS})
    with translation.override("en"):
        english = follow_up.reason
    with translation.override("da"):
        danish = follow_up.reason
    assert english.startswith("Facebook: the answer to the citizen was not sent (")
    assert NETWORK_SAYS not in english
    assert danish.startswith("Facebook: svaret til borgeren blev ikke sendt ("
                             f"{NETWORK_SAYS}")


def test_a_notifications_network_reason_follows_the_reader():
    with translation.override("en"):
        text = render("reply_failed", {"channel": "X", "why": NETWORK_SAYS})
    assert NETWORK_SAYS not in text


def test_a_reason_stored_before_kinds_is_shown_as_written(desk):
    old = FollowUp(kind="reply", channel=desk["channel"], status="failed",
                   last_error="svaret til borgeren blev ikke sendt (fejl)")
    with translation.override("en"):
        assert old.reason == "svaret til borgeren blev ikke sendt (fejl)"


def test_a_polls_network_reason_follows_the_reader(desk):
    cursor = PollCursor.objects.create(channel=desk["channel"],
                                       last_polled_at=timezone.now())
    polling._save(cursor, timezone.now(), error=NETWORK_SAYS, new_cursor="")
    cursor.refresh_from_db()
    with translation.override("en"):
        assert polling.poll_problem(desk["channel"]).text != NETWORK_SAYS
    with translation.override("da"):
        assert polling.poll_problem(desk["channel"]).text == NETWORK_SAYS
