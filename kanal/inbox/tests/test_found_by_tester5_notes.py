"""OUTSIDE TESTER 5a (branch tester5a): what a person typed in a note. Each
test names its finding (T5a-N)."""

from __future__ import annotations

import pytest

from kanal.inbox.models import Note

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def test_t5a_4_a_note_the_browser_let_through_is_stored(desk, client):
    """T5a-4: the note field's limit (5,000) is the browser's too, which
    counts a line break as one character but sends it as two (CR LF): a
    note of 4,950 characters over 50 lines was refused as too long, and the
    page came back with the field empty: the note was lost."""
    conversation = citizen_item(desk["channel"]).conversation
    client.force_login(desk["editor"].user)
    text = "\r\n".join(["x" * 99] * 50)  # 4,950 letters, 49 line breaks
    assert len(text.replace("\r\n", "\n")) <= 5000 < len(text)
    response = client.post(f"/indbakke/{conversation.pk}/note/",
                           {"text": text, "key": "n" * 32})
    assert response.status_code == 302
    assert Note.objects.get().text == text.replace("\r\n", "\n")


def test_t5a_4_a_note_refused_comes_back_with_what_was_typed(desk, client):
    """T5a-4: a note refused as too long was thrown away (a message and a
    redirect to the page with an empty field). The page comes back (400)
    with the note in its field and the field marked."""
    conversation = citizen_item(desk["channel"]).conversation
    client.force_login(desk["editor"].user)
    text = "Borgeren ringede igen. " * 220  # 5,060 characters
    response = client.post(f"/indbakke/{conversation.pk}/note/",
                           {"text": text, "key": "n" * 32})
    assert response.status_code == 400
    page = response.content.decode()
    assert text.strip() in page
    assert 'id="error-summary"' in page
    assert "højst 5.000 tegn" in page
    assert not Note.objects.exists()


def test_t5a_4_a_standard_answer_and_a_reply_count_a_line_break_once(desk, client):
    """T5a-4, the same class: the standard answer's and the reply's fields
    (2,000 each) took a line break as two characters too."""
    from kanal.inbox.models import StandardAnswer

    from .factories import page_seen

    item = citizen_item(desk["channel"])
    client.force_login(desk["editor"].user)
    text = "\r\n".join(["y" * 99] * 20)  # 1,980 letters, 19 line breaks
    response = client.post("/indbakke/standardsvar/",
                           {"title": "Langt", "text": text})
    assert response.status_code == 302
    assert StandardAnswer.objects.get().text == text.replace("\r\n", "\n")
    response = client.post(f"/indbakke/{item.conversation_id}/svar/", {
        "item": item.pk, "text": text, "key": "r" * 32, "seen": page_seen(item)})
    assert response.status_code == 302
    assert item.conversation.answers.get().text == text.replace("\r\n", "\n")


@pytest.mark.parametrize("footer", ["Venlig hilsen {kanalnavn}",
                                    "Hilsen {navn}", "Se kk.dk {"])
def test_t5a_7_a_footer_with_a_variable_is_refused_not_sent_with_braces(
    organisation, member, client, footer
):
    """T5a-7: a standard answer with a variable Kanal cannot fill is refused
    (T3-2), but the guidance footer, which goes under every answer, took
    "{kanalnavn}" (a variable it never fills) or any brace, and every answer
    then went out to citizens with it. The settings page refuses it, says
    why in Danish and keeps what was typed."""
    from kanal.inbox.models import InboxSettings
    from kanal.organisations.roles import Role

    client.force_login(member(Role.ADMIN).user)
    response = client.post("/indbakke/indstillinger/", {
        "opens_at": "08:00", "closes_at": "16:00",
        "open_weekdays": ["0", "1", "2", "3", "4"], "target_hours": "8",
        "retention_days": "365", "footer_text": footer, "require_footer": "on",
        "block_at_warning": "3"})
    assert response.status_code == 400  # refused (T7a-1)
    page = response.content.decode()
    assert "Vejledningsteksten udfyldes ikke" in page
    assert f'value="{footer}"' in page
    assert not InboxSettings.objects.exists()


def test_t5a_9_a_reply_target_of_zero_hours_is_refused(organisation, member,
                                                       client):
    """T5a-9: the settings took a reply target of 0 hours (a slip of the
    finger), and every question was due the moment it arrived: overdue at
    once, each one an overdue notice by e-mail to the desk. The page
    refuses it and says why, in Danish."""
    from kanal.inbox.models import InboxSettings
    from kanal.organisations.roles import Role

    client.force_login(member(Role.ADMIN).user)
    response = client.post("/indbakke/indstillinger/", {
        "opens_at": "08:00", "closes_at": "16:00",
        "open_weekdays": ["0", "1", "2", "3", "4"], "target_hours": "0",
        "retention_days": "365", "footer_text": "", "block_at_warning": "3"})
    assert response.status_code == 400  # refused (T7a-1)
    assert "Svarfristen skal være mindst 1 arbejdstime" in response.content.decode()
    assert not InboxSettings.objects.exists()
