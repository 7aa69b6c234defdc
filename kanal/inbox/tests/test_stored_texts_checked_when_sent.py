"""Texts kept for answers before their form refused braces (or changed in
the database) are checked when an answer is sent, and the settings page
names every one that no longer passes (G3-1)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kanal.inbox.models import (
    Answer,
    AssignmentRule,
    InboxSettings,
    ReferralTemplate,
    StandardAnswer,
)
from kanal.organisations.roles import Role
from kanal.publishing.models import FollowUp

from .factories import citizen_item, post_answer

pytestmark = pytest.mark.django_db


def old_footer(organisation, text="Hilsen {kanalnavn}. Se kk.dk.", *,
               required=True):
    # Saved as a row straight in the database: the form refuses it now.
    return InboxSettings.objects.create(organisation=organisation,
                                        require_footer=required,
                                        footer_text=text)


def test_an_old_footer_with_braces_stops_the_answer_with_a_danish_reason(
    desk, client_for
):
    old_footer(desk["channel"].organisation)
    item = citizen_item(desk["channel"])
    response = post_answer(client_for(desk["editor"]), item,
                           "Svømmehallen åbner kl. 7.")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Svaret er ikke sendt: vejledningsteksten" in page
    assert "{kanalnavn}" in page
    assert "Svømmehallen åbner kl. 7." in page  # what was written is kept
    assert not Answer.objects.exists()
    assert not FollowUp.objects.exists()


def test_an_old_footer_not_required_is_not_in_the_way(desk, client_for):
    old_footer(desk["channel"].organisation, required=False)
    item = citizen_item(desk["channel"])
    response = post_answer(client_for(desk["editor"]), item, "Kl. 7.")
    assert response.status_code == 302
    assert Answer.objects.get().text == "Kl. 7."


def test_a_clean_footer_still_goes_under_the_answer(desk, client_for):
    old_footer(desk["channel"].organisation, "Svaret er vejledning.")
    item = citizen_item(desk["channel"])
    post_answer(client_for(desk["editor"]), item, "Kl. 7.")
    assert Answer.objects.get().text == "Kl. 7.\n\nSvaret er vejledning."


def test_the_settings_page_names_every_stored_text_that_no_longer_passes(
    desk, member, client_for
):
    organisation = desk["channel"].organisation
    old_footer(organisation, "Skriv til {forvaltningsnavn}.")
    bad = StandardAnswer.objects.create(organisation=organisation,
                                        title="Åbningstider",
                                        text="Hej {navn}, kl. 7.")
    StandardAnswer.objects.create(organisation=organisation, title="God",
                                  text="Hej {fornavn}.")
    referral = ReferralTemplate.objects.create(organisation=organisation,
                                               title="Borgerservice",
                                               text="Se kk.dk }")
    page = client_for(member(Role.ADMIN)).get(
        "/indbakke/indstillinger/").content.decode()
    assert 'id="stored-problems"' in page
    assert "{forvaltningsnavn}" in page
    assert f'/indbakke/standardsvar/{bad.pk}/' in page
    assert "Åbningstider" in page and "{navn}" in page
    assert f'/indbakke/henvisninger/{referral.pk}/' in page
    assert "God" not in page.split('id="stored-problems"')[1].split("</div>")[0]


def test_the_settings_page_warns_of_nothing_when_all_pass(desk, member,
                                                          client_for):
    old_footer(desk["channel"].organisation, "Svaret er vejledning.")
    StandardAnswer.objects.create(organisation=desk["channel"].organisation,
                                  title="God", text="Hej {fornavn}.")
    page = client_for(member(Role.ADMIN)).get(
        "/indbakke/indstillinger/").content.decode()
    assert 'id="stored-problems"' not in page


def test_another_organisations_texts_are_not_named(desk, member, client_for):
    from kanal.organisations.tests.factories import OrganisationFactory

    other = OrganisationFactory()
    StandardAnswer.objects.create(organisation=other, title="Fremmed",
                                  text="Hej {navn}.")
    page = client_for(member(Role.ADMIN)).get(
        "/indbakke/indstillinger/").content.decode()
    assert 'id="stored-problems"' not in page
    assert "Fremmed" not in page


INVISIBLE = "\u200b\u200b"


def test_a_keyword_of_invisible_characters_is_refused(desk, member, client_for):
    from kanal.inbox import actions

    admin = member(Role.ADMIN)
    with pytest.raises(ValidationError, match="tegn, der ikke ses"):
        actions.add_assignment_rule(actor=admin, administration=desk["buf"],
                                    keyword=INVISIBLE)
    response = client_for(admin).post("/indbakke/indstillinger/", {
        "form": "rule", "channel": "", "keyword": INVISIBLE,
        "administration": desk["buf"].pk})
    assert response.status_code == 400  # refused (T7a-1)
    assert "tegn, der ikke ses" in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_a_stored_invisible_keyword_assigns_nothing_and_is_named(
    desk, member, client_for
):
    """Kept before the action refused it: read as nothing, it was in every
    text, so every new conversation went to its administration."""
    rule = AssignmentRule.objects.create(
        organisation=desk["channel"].organisation, keyword=INVISIBLE,
        administration=desk["buf"], position=1)
    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    item.conversation.refresh_from_db()
    assert item.conversation.assigned_administration_id is None
    page = client_for(member(Role.ADMIN)).get(
        "/indbakke/indstillinger/").content.decode()
    warning = page.split('id="stored-problems"')[1].split("</div>")[0]
    assert f"#regel-{rule.pk}" in warning
    assert "nøgleord uden synlige tegn" in warning
    assert f'id="regel-{rule.pk}"' in page


@pytest.mark.parametrize(("model", "path"), [
    (StandardAnswer, "/indbakke/standardsvar/"),
    (ReferralTemplate, "/indbakke/henvisninger/")])
def test_the_lists_mark_the_kept_text_that_cannot_be_used(desk, client_for,
                                                          model, path):
    organisation = desk["channel"].organisation
    model.objects.create(organisation=organisation, title="Gammel",
                         text="Hej {navn}.")
    model.objects.create(organisation=organisation, title="God",
                         text="Hej {fornavn}.")
    page = client_for(desk["editor"]).get(path).content.decode()
    assert page.count("Kan ikke bruges i svar") == 1
    assert "Kanal kan ikke udfylde {navn}" in page
