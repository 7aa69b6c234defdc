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


def test_a_used_note_form_with_another_text_is_a_second_note(desk, client):
    """T4-12 (fixer): a form the Back button restored, its key used, with
    another text: nothing written is dropped, it is a note of its own."""
    conversation = citizen_item(desk["channel"]).conversation
    client.force_login(desk["editor"].user)
    action = f"/indbakke/{conversation.pk}/note/"
    page = client.get(f"/indbakke/{conversation.pk}/").content.decode()
    data = _form_fields(page, action)
    assert len(data["key"]) == 32
    for text in ("Ring til borgeren.", "Ring til borgeren.", "Borgeren er ringet op."):
        assert client.post(action, {**data, "text": text}).status_code == 302
    assert list(Note.objects.values_list("text", flat=True)) == [
        "Ring til borgeren.", "Borgeren er ringet op."]


@pytest.mark.parametrize("url,fields", [
    ("/indbakke/standardsvar/", {}),
    ("/indbakke/henvisninger/", {"administration": ""}),
])
def test_a_kept_text_form_sent_twice_is_one_text_and_no_refusal(
    desk, client, url, fields
):
    """T4-12's class: the second send of a new standard answer (or referral
    template) said "Titlen er allerede brugt" though the first one was
    stored; the same form again is the same text. Another text under a
    title in use is still refused."""
    from kanal.inbox.models import ReferralTemplate, StandardAnswer

    client.force_login(desk["editor"].user)
    data = {**fields, "title": "Åbningstider", "text": "Hej {fornavn}. Kl. 10."}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    kept = StandardAnswer if "standardsvar" in url else ReferralTemplate
    assert kept.objects.count() == 1
    other = client.post(url, {**data, "text": "Kl. 11."})
    assert other.status_code == 400  # refused (T7a-1)
    assert "Titlen er allerede brugt" in other.content.decode()
    assert kept.objects.get().text == "Hej {fornavn}. Kl. 10."


def test_an_assignment_rule_form_sent_twice_is_one_rule(desk, member, client):
    from kanal.inbox.models import AssignmentRule
    from kanal.organisations.roles import Role

    client.force_login(member(Role.ADMIN, administration=desk["kff"]).user)
    data = {"form": "rule", "keyword": "skole", "channel": "",
            "administration": desk["buf"].pk}
    assert client.post("/indbakke/indstillinger/", data).status_code == 302
    assert client.post("/indbakke/indstillinger/", data).status_code == 302
    assert AssignmentRule.objects.count() == 1
    client.post("/indbakke/indstillinger/", {**data, "keyword": "daginstitution"})
    assert list(AssignmentRule.objects.order_by("position").values_list(
        "keyword", "position")) == [("skole", 1), ("daginstitution", 2)]


def test_a_kept_text_stored_by_the_other_send_meanwhile_is_that_text(
    desk, monkeypatch
):
    """Both sends of a double click passed the title check at once: the
    second one's insert meets the first one's row and returns it."""
    from django.db.models.query import QuerySet

    from kanal.inbox.models import StandardAnswer

    first = actions.save_standard_answer(actor=desk["editor"], title="Åbningstider",
                                         text="Kl. 10.")
    exists = QuerySet.exists
    checks = []

    def not_yet_committed(queryset):
        if queryset.model is StandardAnswer and not checks:
            checks.append(queryset)
            return False  # what the second send saw before the first committed
        return exists(queryset)

    monkeypatch.setattr(QuerySet, "exists", not_yet_committed)
    again = actions.save_standard_answer(actor=desk["editor"], title="Åbningstider",
                                         text="Kl. 10.")
    assert checks and again.pk == first.pk
    assert StandardAnswer.objects.count() == 1
