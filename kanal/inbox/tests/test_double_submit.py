"""The same reply form sent twice at the same moment (a double click) makes
one answer and no error page (found by the outside tester: the second
request got a 500 on PostgreSQL from the answer's one-to-one)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kanal.inbox import replies
from kanal.inbox.models import Answer
from kanal.organisations.roles import Role
from kanal.publishing.models import FollowUp

from .factories import citizen_item, together_at_queuing


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
    # Unordered, both requests pass the "already answered with this key?"
    # check before either writes. The conversation's row lock orders them:
    # the second waits and finds the first's answer by its key.
    together_at_queuing(monkeypatch)
    answers, errors = [], []

    def submit():
        from django.db import connections

        try:
            answers.append(replies.reply_to_item(
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


@pytest.mark.django_db
def test_a_form_key_used_for_another_conversation_is_refused(organisation, member):
    """A form's key names one answer: sent again for another conversation
    (a form copied, a key replayed) it is refused in Danish, and never hands
    back, or queues, another conversation's answer."""
    from django.core.exceptions import ValidationError

    from kanal.channels.tests.factories import ChannelFactory

    channel = ChannelFactory(organisation=organisation, network="facebook")
    editor = member(Role.EDITOR)
    first, second = citizen_item(channel), citizen_item(channel)
    kept = replies.reply_to_item(first, actor=editor, text="Tak.", key="b" * 32)
    with pytest.raises(ValidationError, match="Formularen er allerede brugt"):
        replies.reply_to_item(second, actor=editor, text="Tak.", key="b" * 32)
    assert list(Answer.objects.all()) == [kept]
    assert FollowUp.objects.count() == 1
