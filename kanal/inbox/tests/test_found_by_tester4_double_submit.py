"""OUTSIDE TESTER 4 (branch tester4): failing tests for forms sent twice.
Each test names its finding (T4-N) in /work/briefs/findings4.md."""

from __future__ import annotations

import re

import pytest

from kanal.inbox import actions
from kanal.inbox.models import Note
from kanal.notifications.models import Notification

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def _form_fields(page: str, action: str) -> dict:
    """The hidden and text inputs of the page's form posting to ``action``."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page,
                     re.S).group()
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                             form))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


@pytest.mark.xfail(strict=True, reason="T4-12: a note sent twice (double "
                   "click) is stored and announced twice")
def test_t4_12_a_note_form_sent_twice_is_one_note(desk, client):
    """T4-12: the reply form carries a key so a double click makes one
    answer; the note form has none. A double click on "Gem note" stores the
    note twice and tells the @mentioned colleague twice."""
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["tmf"])
    Notification.objects.all().delete()
    client.force_login(desk["editor"].user)
    action = f"/indbakke/{conversation.pk}/note/"
    page = client.get(f"/indbakke/{conversation.pk}/").content.decode()
    data = _form_fields(page, action)
    data["text"] = f"Kan du tage den, @{desk['tmf_contributor'].user.username}?"
    client.post(action, data)
    client.post(action, data)
    assert Note.objects.filter(conversation=conversation).count() == 1
    assert Notification.objects.filter(
        recipient=desk["tmf_contributor"]).count() == 1
