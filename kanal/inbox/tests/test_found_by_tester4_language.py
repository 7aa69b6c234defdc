"""OUTSIDE TESTER 4 (branch tester4): failing tests for the English inbox.
Each test names its finding (T4-N) in /work/briefs/findings4.md."""

from __future__ import annotations

import pytest

from kanal.inbox import replies

from .test_replies import run_follow_ups

pytestmark = pytest.mark.django_db(transaction=True)


def test_t4_8_an_answer_that_failed_says_why_in_the_readers_language(
    world, client
):
    """T4-8: the worker writes the failed answer's reason into the row in
    Danish (``followup._fail`` renders in LANGUAGE_CODE), and the
    conversation page prints that row as it is. An editor who reads Kanal
    in English sees "svaret til borgeren blev ikke sendt" under the answer,
    although the catalogue has the English sentence."""
    item, sandbox = world["item"], world["sandbox"]
    sandbox.fault("facebook", "policy_block", operation="reply",
                  account=world["channel"].remote_id)
    replies.reply_to_item(item, actor=world["editor"], text="Kl. 10.",
                          key="t4-8")
    run_follow_ups()
    client.force_login(world["editor"].user)
    client.cookies["django_language"] = "en"
    page = client.get(f"/indbakke/{item.conversation_id}/").content.decode()
    assert "Not sent" in page  # the page itself is English
    assert "the answer to the citizen was not sent" in page
    assert "svaret til borgeren blev ikke sendt" not in page


def test_t4_8_a_failed_poll_says_why_in_the_readers_language(desk, client):
    """T4-8, the same class: ``polling.record_poll_failure`` stores its
    sentence already formatted in Danish, so the channel page's
    ``network_sentence`` cannot translate it for an English reader."""
    from django.urls import reverse
    from django.utils import timezone

    from kanal.inbox import polling

    polling.record_poll_failure(desk["channel"], ValueError("x"),
                                now=timezone.now())
    client.force_login(desk["editor"].user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("channel_detail", args=[desk["channel"].pk]))
    text = page.content.decode()
    assert "The inbox could not be fetched" in text
    assert "Indbakken kunne ikke hentes" not in text
