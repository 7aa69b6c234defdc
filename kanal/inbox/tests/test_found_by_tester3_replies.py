"""OUTSIDE TESTER 3 (branch tester3): failing tests for answers from the
inbox. Each test names its finding (T3-N) in
/work/briefs/tester3-findings.md."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.inbox import actions, replies

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", [
    "Hej {navn}. Se åbningstiderne på kk.dk.",  # not a variable Kanal knows
    "Hej {Fornavn}. Se åbningstiderne på kk.dk.",  # the case of a known one
    "Hej {fornavn. Se åbningstiderne på kk.dk.",  # a brace left open
])
def test_t3_2_a_standard_answer_with_a_variable_kanal_cannot_fill_is_refused(
    desk, text
):
    """T3-2: a standard answer (or referral template) is saved with any
    ``{...}``; only ``{fornavn}``, ``{kanalnavn}`` and
    ``{forvaltningsnavn}`` are filled in, so a typo goes out in the
    municipality's public answer as it is: "Hej {navn}." Saving it should
    say in Danish which variable is unknown."""
    with pytest.raises(ValidationError):
        actions.save_standard_answer(actor=desk["editor"], title="Åbningstider",
                                     text=text)


def test_t3_2_and_the_answer_filled_from_it_is_not_sent_with_braces(desk):
    """T3-2, the answer itself: one kept before such a check existed (or a
    referral template) must not be queued with the braces in it."""
    from kanal.inbox.models import StandardAnswer

    from .factories import citizen_item

    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    kept = StandardAnswer.objects.create(
        organisation=desk["channel"].organisation, title="Gammel",
        text="Kære {navn}, svømmehallen åbner kl. 7.")
    with pytest.raises(ValidationError):
        replies.reply_to_item(item, actor=desk["editor"], standard_answer=kept,
                              key="t3-2")


def _reply_form_fields(html: str) -> dict:
    """The reply form's hidden fields and its chosen item, as the browser
    would send them."""
    import re

    form = html.split('action="/indbakke/', 1)[1]
    form = form[form.index("/svar/"):]
    form = form[:form.index("</form>")]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name[1]] = value[1] if value else ""
    selected = re.search(r'<option value="(\d+)"[^>]*selected', form)
    if selected:
        fields["item"] = selected[1]
    return fields


def test_t3_10_two_colleagues_answering_at_once_do_not_both_go_out(
    desk, member, client
):
    """T3-10: two editors open the same conversation and each answers the
    citizen. Each form has its own key, so both answers are queued and the
    citizen gets two public answers from the municipality ("Kl. 10" and
    "Kl. 11"), with no word to the second editor that a colleague answered
    while they were writing. The second answer, written on a page that did
    not show the first, should be stopped with a Danish message (and kept
    in the form), not sent."""
    from kanal.inbox.models import Answer
    from kanal.organisations.roles import Role

    from .factories import citizen_item

    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    other = member(Role.EDITOR, administration=desk["kff"])
    url = f"/indbakke/{item.conversation_id}/"
    client.force_login(desk["editor"].user)
    first = _reply_form_fields(client.get(url).content.decode())
    client.force_login(other.user)
    second = _reply_form_fields(client.get(url).content.decode())
    client.force_login(desk["editor"].user)
    client.post(url + "svar/", {**first, "text": "Kl. 10 i morgen."})
    client.force_login(other.user)
    response = client.post(url + "svar/", {**second, "text": "Kl. 11 i morgen."})
    assert Answer.objects.count() == 1
    assert response.status_code == 409
