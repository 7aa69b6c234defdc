"""OUTSIDE TESTER 3 (branch tester3): failing tests for answers from the
inbox. Each test names its finding (T3-N) in
/work/briefs/tester3-findings.md."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.inbox import actions

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
        actions.reply_to_item(item, actor=desk["editor"], standard_answer=kept,
                              key="t3-2")
