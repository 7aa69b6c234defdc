"""What got in the way of the desk and a contributor using the inbox role by
role: a status list that claimed "Ny" for a hidden conversation, "---------"
as choices, a length counter that counted nothing when a standard answer
was chosen, a refused answer whose field was not marked, and an empty list
that spoke of filters nobody had set."""

from __future__ import annotations

import re

import pytest

from kanal.inbox.models import ConversationStatus, InboxSettings, StandardAnswer
from kanal.inbox.policies import conversation_policy
from kanal.organisations.models import Membership
from kanal.organisations.roles import Role

from .factories import citizen_item, page_seen

pytestmark = pytest.mark.django_db


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found, name
    return found.group(1)


def test_a_hidden_conversation_is_not_offered_as_new_in_the_status_list(
        desk, client_for):
    item = citizen_item(desk["channel"])
    item.conversation.status = ConversationStatus.HIDDEN
    item.conversation.save(update_fields=["status"])
    html = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/").content.decode()
    options = _select(html, "status")
    selected = re.findall(r'<option value="([^"]*)"[^>]*selected', options)
    assert selected == [""]
    assert "Vælg en ny status" in options


def test_an_open_conversation_shows_its_own_status(desk, client_for):
    item = citizen_item(desk["channel"])
    html = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/").content.decode()
    options = _select(html, "status")
    assert re.findall(r'<option value="([^"]*)"[^>]*selected', options) == ["new"]
    assert "Vælg en ny status" not in options


def test_the_assign_lists_say_what_an_empty_choice_means(desk, client_for):
    item = citizen_item(desk["channel"])
    html = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/").content.decode()
    assert "---------" not in html
    assert '<option value="" selected>Vælg forvaltning</option>' in html
    assert '<option value="" selected>Ingen bestemt person</option>' in html


def _counter(client, item, **data):
    return client.post(f"/indbakke/{item.conversation_id}/svar/laengde/",
                       {"item": item.pk, **data}).content.decode()


def test_the_counter_counts_the_chosen_standard_answer_when_the_field_is_empty(
        desk, client_for, organisation):
    answer = StandardAnswer.objects.create(
        organisation=organisation, title="Åbningstider",
        text="Hej {fornavn}. Se åbningstiderne på kk.dk.")
    item = citizen_item(desk["channel"], author="Mette Hansen")
    client = client_for(desk["editor"])
    filled = len("Hej Mette. Se åbningstiderne på kk.dk.")
    assert 'data-count="0"' in _counter(client, item, text="")
    assert f'data-count="{filled}"' in _counter(
        client, item, text="", standard_answer=answer.pk)
    # What is typed is what is sent, and so what is counted.
    assert 'data-count="3"' in _counter(client, item, text="Hej",
                                        standard_answer=answer.pk)


def test_the_counter_follows_the_standard_answer_and_referral_lists(
        desk, client_for):
    item = citizen_item(desk["channel"])
    html = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/").content.decode()
    trigger = re.search(r'id="reply-count"[^>]*hx-trigger="([^"]*)"', html).group(1)
    assert "change from:#reply-standard_answer" in trigger
    assert "change from:#reply-referral" in trigger
    assert 'id="reply-standard_answer"' in html and 'id="reply-referral"' in html


def test_the_counter_says_the_guidance_footer_is_counted(
        desk, client_for, organisation):
    item = citizen_item(desk["channel"])
    client = client_for(desk["editor"])
    assert "med vejledningen" not in _counter(client, item, text="Hej")
    InboxSettings.objects.create(organisation=organisation, require_footer=True)
    assert "med vejledningen, der sættes under svaret" in _counter(
        client, item, text="Hej")


def test_a_refused_answer_marks_the_field_and_the_error_summary_leads_to_it(
        desk, client_for):
    item = citizen_item(desk["channel"])
    response = client_for(desk["editor"]).post(
        f"/indbakke/{item.conversation_id}/svar/",
        {"item": item.pk, "text": "", "key": "k" * 32, "seen": page_seen(item)})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert '<a href="#reply-text">' in html
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*id="reply-text"', html)
    # Said once, in the summary and at the field, not again as a message.
    assert html.count("Skriv et svar, eller vælg et standardsvar.") == 2


def test_an_empty_list_says_why_it_is_empty(desk, client_for):
    editor = client_for(desk["editor"])
    assert "Der er ingen henvendelser endnu." in editor.get(
        "/indbakke/").content.decode()
    filtered = editor.get("/indbakke/?q=svømmehal").content.decode()
    assert "Ingen henvendelser passer til filtrene." in filtered
    assert "Der er ingen henvendelser endnu." not in filtered
    contributor = client_for(desk["buf_contributor"])
    assert "Redaktionen tildeler dem" in contributor.get(
        "/indbakke/").content.decode()


def test_the_list_rows_label_their_cells_for_a_narrow_screen(desk, client_for):
    citizen_item(desk["channel"])
    html = client_for(desk["editor"]).get("/indbakke/").content.decode()
    for label in ("Seneste", "Status", "Tildelt", "Svarfrist"):
        assert f'data-label="{label}"' in html


def test_hiding_asks_for_the_house_rule_at_its_list_and_showing_again_does_not(
        desk, client_for):
    item = citizen_item(desk["channel"])
    client = client_for(desk["editor"])
    url = f"/indbakke/{item.conversation_id}/"
    html = client.get(url).content.decode()
    assert re.search(rf'<select name="reason" id="reason-{item.pk}" required>', html)
    item.hidden_on_network = True
    item.save(update_fields=["hidden_on_network"])
    html = client.get(url).content.decode()
    assert re.search(r'<button[^>]*value="unhide"[^>]*formnovalidate>', html)


def _note(client, item, text):
    response = client.post(f"/indbakke/{item.conversation_id}/note/",
                           {"text": text}, follow=True)
    return " ".join(f"{m.level_tag}: {m}" for m in response.context["messages"])


def test_a_note_says_who_its_mentions_reached_and_which_reached_nobody(
        desk, client_for):
    item = citizen_item(desk["channel"])
    conversation = item.conversation
    conversation.assigned_administration = desk["buf"]
    conversation.save(update_fields=["assigned_administration"])
    buf = desk["buf_contributor"]
    tmf = desk["tmf_contributor"]  # may not see a BUF conversation
    said = _note(client_for(desk["editor"]), item,
                 f"@{buf.user.username} kan I svare? Og @{tmf.user.username}, @nogen.")
    assert f"Noten er gemt. {buf.display_name} har fået besked." in said
    names = " eller ".join(sorted(["@nogen", f"@{tmf.user.username}"]))
    assert (f"warning: Ingen kollega, der kan se samtalen, har brugernavnet {names}, "
            "så ingen fik besked om det.") in said
    plain = _note(client_for(desk["editor"]), item, "Uden nævnte.")
    assert plain == "success: Noten er gemt."


def test_the_note_form_lists_whom_a_note_can_mention(desk, client_for, member):
    item = citizen_item(desk["channel"])
    conversation = item.conversation
    conversation.assigned_administration = desk["buf"]
    conversation.save(update_fields=["assigned_administration"])
    html = client_for(desk["editor"]).get(
        f"/indbakke/{item.conversation_id}/").content.decode()
    listed = re.search(r'class="inbox-mentionable".*?</details>', html, re.S).group(0)
    assert f"@{desk['buf_contributor'].user.username}" in listed
    assert f"@{desk['tmf_contributor'].user.username}" not in listed
    assert f"@{desk['analyst'].user.username}" not in listed
    assert f"@{desk['editor'].user.username}" not in listed  # not oneself
    # The list is the policy's own answer, member by member.
    member(Role.ADMIN, administration=desk["tmf"])
    viewers = set(conversation_policy.viewers(conversation))
    for m in Membership.objects.filter(organisation=conversation.organisation):
        assert (m in viewers) == conversation_policy.can(m, "view", conversation), m
