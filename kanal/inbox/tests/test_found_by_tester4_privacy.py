"""OUTSIDE TESTER 4 (branch tester4): failing tests for personal data that
Kanal does not find or does not remove. Each test names its finding (T4-N)
in /work/briefs/findings4.md."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kanal.inbox import privacy, replies, retention
from kanal.inbox.models import StandardAnswer
from kanal.publishing.models import FollowUp

from .factories import citizen_item


@pytest.mark.parametrize("text", [
    "Mit cpr er 120385\u200b-1234",  # zero-width space (pasted from a web page)
    "Mit cpr er 1203\u200b851234",
    "Mit cpr er 120385-12\u200d34",  # zero-width joiner
    "Mit cpr er 120385\u20601234",  # word joiner
    "Mit cpr er 120385\ufeff-1234",  # a byte-order mark mid-text
    "Mit cpr er 120385\u00ad1234",  # soft hyphen
])
def test_t4_1_a_cpr_with_an_invisible_character_inside_is_found(text):
    """T4-1: the citizen's page, Kanal's list and the network all show
    "120385-1234", but the invisible character between the digits makes
    ``privacy.find`` see nothing: not flagged, not masked, and the
    personal-data guard never hides it on the network."""
    assert privacy.find(text) == ["cpr"]
    assert "1234" not in privacy.mask(text)


def test_t4_2_a_cpr_shown_through_a_right_to_left_override_is_found():
    """T4-2: "\\u202e4321-583021\\u202c" is drawn by every browser (and the
    network) as "120385-1234". Kanal reads the stored order and finds no
    CPR number, so it is shown unmasked and never hidden."""
    assert privacy.find("Mit cpr er \u202e4321-583021\u202c") == ["cpr"]


@pytest.mark.django_db
def test_t4_3_redaction_removes_the_first_name_a_standard_answer_put_in(desk):
    """T4-3: ``{fornavn}`` puts the citizen's first name in the answer
    ("Hej Mette."). Retention or an erasure redacts the item and replaces
    the citizen's full name, id and handle in answers and notes, but not the
    first name Kanal itself wrote: the answer and the text its follow-up
    sent still name her after her data was removed."""
    item = citizen_item(desk["channel"], author="Mette Hansen")
    template = StandardAnswer.objects.create(
        organisation=desk["channel"].organisation, title="Åbningstider",
        text="Hej {fornavn}. Se åbningstiderne på kk.dk.")
    answer = replies.reply_to_item(item, actor=desk["editor"],
                                   standard_answer=template, key="t4-3")
    assert answer.text.startswith("Hej Mette.")
    retention.redact_items([item.pk], now=timezone.now())
    answer.refresh_from_db()
    assert "Mette" not in answer.text
    assert "Mette" not in FollowUp.objects.get(pk=answer.follow_up_id).text


@pytest.mark.django_db
@pytest.mark.parametrize("gone_by", ["redaction", "citizens_edit"])
def test_t4_11_the_personal_data_flag_follows_the_text(desk, gone_by):
    """T4-11: "Personoplysninger" on a conversation (the list's pill and its
    filter "Med personoplysninger") is set when an item holds a CPR number
    and never cleared: not when retention or an erasure removes the text,
    not when the citizen edits the number away. The filter the desk uses to
    find what needs care fills up with conversations that hold nothing."""
    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.inbox import intake
    from kanal.inbox.models import Conversation

    item = citizen_item(desk["channel"], "Mit cpr er 120385-1234")
    assert Conversation.objects.get(pk=item.conversation_id).has_personal_data
    if gone_by == "redaction":
        retention.redact_items([item.pk], now=timezone.now())
    else:
        intake.ingest(desk["channel"], NetworkItem(
            remote_id=item.remote_id, kind=item.kind, author_id=item.author_id,
            author_name=item.author_name, text="Hvornår åbner svømmehallen?",
            created_at=item.created_at, post_remote_id=item.post_remote_id,
            parent_remote_id=item.parent_remote_id,
        ), action="edited", at=timezone.now())
        item.refresh_from_db()
        assert item.personal_data == []
    assert not Conversation.objects.get(pk=item.conversation_id).has_personal_data
