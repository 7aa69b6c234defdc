"""A citizen's name in the desk's answers and on the desk's pages (findings
12 and 15 of the second outside tester, the wider class)."""

from __future__ import annotations

import pytest

from kanal.inbox import actions, templating
from kanal.inbox.models import InboxItem, StandardAnswer

from .factories import citizen_item

pytestmark = pytest.mark.django_db

RLO = "\u202e"


@pytest.mark.parametrize(("name", "filled"), [
    ("Mette Hansen", "Hej Mette. Tak for din besked."),
    ("Anne-Marie Hansen", "Hej Anne-Marie. Tak for din besked."),
    ("Mette, Hansen", "Hej Mette. Tak for din besked."),
    ("محمد علي", "Hej محمد. Tak for din besked."),
    ("borgmester_kbh Hansen", "Hej. Tak for din besked."),
    ("svindel.dk Hansen", "Hej. Tak for din besked."),
    ("<b>Mette</b>", "Hej. Tak for din besked."),
    ("*Mette*", "Hej. Tak for din besked."),
    (f"{RLO}etteM", "Hej. Tak for din besked."),
    ("Mette@svindel.dk", "Hej. Tak for din besked."),
    ("", "Hej. Tak for din besked."),
])
def test_only_a_plain_first_name_goes_into_a_standard_answer(desk, name, filled):
    item = citizen_item(desk["channel"], "Hvornår åbner det?")
    InboxItem.objects.filter(pk=item.pk).update(author_name=name)
    item.refresh_from_db()
    answer = StandardAnswer(organisation=item.organisation, title="Tak",
                            text="Hej {fornavn}. Tak for din besked.")
    assert templating.fill_standard_answer(answer, item) == filled


def test_the_reply_form_fills_in_the_plain_name_only(desk, client_for):
    item = citizen_item(desk["channel"], "Hvornår?", author="@borgmester Hansen")
    answer = actions.save_standard_answer(actor=desk["editor"], title="Tak",
                                          text="Kære {fornavn}, tak.")
    page = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/?standardsvar={answer.pk}")
    html = page.content.decode()
    # The text to send (the item list still names the citizen as they are).
    assert "Kære, tak.</textarea>" in html


NAME = "דנה כהן"
TEXT = "מתי נפתחת הבריכה?"


def test_the_live_update_rows_isolate_right_to_left_names_and_text(desk, client_for):
    citizen_item(desk["channel"], TEXT, author=NAME)
    body = client_for(desk["editor"]).get("/indbakke/nye/?siden=0").json()
    assert f"<bdi>{NAME}</bdi>" in body["rows"]
    assert f'dir="auto">{TEXT}</p>' in body["rows"]


def test_notes_and_answers_on_the_conversation_page_have_their_own_direction(
    desk, client_for
):
    item = citizen_item(desk["channel"], TEXT, author=NAME)
    actions.add_note(item.conversation, actor=desk["editor"], text=TEXT)
    html = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/").content.decode()
    assert f"<strong><bdi>{NAME}</bdi></strong>" in html
    assert f'<p dir="auto">{TEXT}</p>' in html
