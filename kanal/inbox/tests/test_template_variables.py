"""Kept texts (standard answers and referral templates) hold only the
variables Kanal fills in; a ``{…}`` from a template never goes out in the
municipality's public answer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.inbox import actions, replies, templating
from kanal.inbox.models import Answer, ReferralTemplate, StandardAnswer

from .factories import citizen_item

pytestmark = pytest.mark.django_db

UNFILLABLE = [
    ("Hej {navn}. Se kk.dk.", "{navn}"),
    ("Hej {Fornavn}. Se kk.dk.", "{Fornavn}"),
    ("Hej {fornavn. Se kk.dk.", "{fornavn."),
    ("Hej fornavn}. Se kk.dk.", "}"),
    ("Hej { fornavn }. Se kk.dk.", "{"),
    ("Hej {fornavn}. Hilsen {kanal navn}", "{kanal"),
]


@pytest.mark.parametrize("save", ["standard_answer", "referral_template"])
@pytest.mark.parametrize(("text", "named"), UNFILLABLE)
def test_a_kept_text_with_a_variable_kanal_cannot_fill_is_refused_in_danish(
    desk, save, text, named
):
    with pytest.raises(ValidationError) as caught:
        getattr(actions, f"save_{save}")(actor=desk["editor"], title="Pas",
                                         text=text)
    message = caught.value.messages[0]
    assert named in message
    assert "{fornavn}, {kanalnavn}, {forvaltningsnavn}" in message
    assert "kan ikke udfylde" in message or "ikke kan udfylde" in message
    assert not StandardAnswer.objects.exists()
    assert not ReferralTemplate.objects.exists()


def test_a_kept_text_with_the_known_variables_is_saved(desk):
    text = "Hej {fornavn}. {forvaltningsnavn} svarer her. Hilsen {kanalnavn}"
    answer = actions.save_standard_answer(actor=desk["editor"], title="Pas",
                                          text=text)
    referral = actions.save_referral_template(actor=desk["editor"], title="Pas",
                                              text=text)
    assert answer.text == referral.text == text


def test_changing_a_kept_text_is_checked_too(desk):
    answer = actions.save_standard_answer(actor=desk["editor"], title="Pas",
                                          text="Hej {fornavn}.")
    with pytest.raises(ValidationError, match=r"\{navn\}"):
        actions.save_standard_answer(actor=desk["editor"], title="Pas",
                                     text="Hej {navn}.", answer=answer)
    answer.refresh_from_db()
    assert answer.text == "Hej {fornavn}."


def test_the_page_shows_the_refusal_and_keeps_nothing(desk, client_for):
    client = client_for(desk["editor"])
    for path in ("/indbakke/standardsvar/", "/indbakke/henvisninger/"):
        response = client.post(path, {"title": "Pas", "text": "Hej {navn}.",
                                      "administration": ""})
        assert response.status_code == 400  # refused (T7a-1)
        assert "{navn}" in response.content.decode()
        assert "ikke kan udfylde" in response.content.decode()
    assert not StandardAnswer.objects.exists()
    assert not ReferralTemplate.objects.exists()


@pytest.mark.parametrize("model", [StandardAnswer, ReferralTemplate])
@pytest.mark.parametrize("typed", [False, True])
def test_an_answer_from_a_kept_text_never_goes_out_with_its_braces(
    desk, model, typed
):
    """Kept before the check (or changed in the database): filled in by
    Kanal (an empty text field), or shown in the form and sent on as typed
    text, the answer is refused, not queued."""
    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    kept = model.objects.create(organisation=desk["channel"].organisation,
                                title="Gammel",
                                text="Kære {navn}, svømmehallen åbner kl. 7.")
    field = "standard_answer" if model is StandardAnswer else "referral"
    text = templating.fill_standard_answer(kept, item) if typed else ""
    with pytest.raises(ValidationError, match=r"\{navn\}.*Gammel|Gammel.*\{navn\}"):
        replies.reply_to_item(item, actor=desk["editor"], text=text,
                              key="old", **{field: kept})
    assert not Answer.objects.exists()


def test_a_brace_the_person_typed_themselves_is_theirs(desk):
    """The check is about what a template left unfilled: a person who
    writes braces in their own answer (with a clean template or none)
    sends them."""
    item = citizen_item(desk["channel"], "Hvad betyder {}?")
    kept = StandardAnswer.objects.create(organisation=desk["channel"].organisation,
                                         title="Hej", text="Hej {fornavn}.")
    answer = replies.reply_to_item(item, actor=desk["editor"],
                                   text="Hej. {} er bare to klammer.",
                                   standard_answer=kept, key="own")
    assert "{}" in answer.text
