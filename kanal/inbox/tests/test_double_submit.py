"""The same reply form sent twice at the same moment (a double click) makes
one answer and no error page (found by the outside tester: the second
request got a 500 on PostgreSQL from the answer's one-to-one)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kanal.inbox import actions
from kanal.inbox.models import Answer
from kanal.organisations.roles import Role
from kanal.publishing import followup
from kanal.publishing.models import FollowUp

from .factories import citizen_item


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite lets one writer in at a time")
def test_a_reply_sent_twice_at_once_is_one_answer_and_no_error(
    organisation, member, monkeypatch
):
    from kanal.channels.tests.factories import ChannelFactory

    channel = ChannelFactory(organisation=organisation, network="facebook")
    item = citizen_item(channel)
    editor = member(Role.EDITOR)
    # Both requests have passed the "already answered with this key?" check
    # before either writes: that is all the barrier arranges.
    barrier = threading.Barrier(2, timeout=20)
    original = followup.queue_reply

    def queue_reply(**kwargs):
        barrier.wait()
        return original(**kwargs)

    monkeypatch.setattr(followup, "queue_reply", queue_reply)
    answers, errors = [], []

    def submit():
        from django.db import connections

        try:
            answers.append(actions.reply_to_item(
                item, actor=editor, text="Tak, vi ser på det.", key="a" * 32).pk)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Answer.objects.count() == 1 and FollowUp.objects.count() == 1
    assert answers == [Answer.objects.get().pk] * 2
