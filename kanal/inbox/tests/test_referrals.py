"""Referral templates: kept by editors apart from standard answers, used from
the reply form; a referral that went out marks the conversation "referred"."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kanal.core.models import AuditEntry
from kanal.inbox import actions, replies
from kanal.inbox.models import Answer, ReferralTemplate, StandardAnswer
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import (
    AdministrationFactory,
    OrganisationFactory,
)

from .factories import post_answer
from .test_replies import replies_on_network, run_follow_ups

pytestmark = pytest.mark.django_db(transaction=True)


def borgerservice(editor, **kwargs):
    return actions.save_referral_template(
        actor=editor, title="Borgerservice",
        text="Hej {fornavn}. Det kan Borgerservice hjælpe med: kk.dk/borgerservice.",
        **kwargs)


def test_a_referral_goes_out_once_and_the_conversation_stays_referred(world):
    item, editor = world["item"], world["editor"]
    referral = borgerservice(editor)
    replies.reply_to_item(item, actor=editor, referral=referral, key="ref-1")
    replies.reply_to_item(item, actor=editor, referral=referral, key="ref-1")
    item.conversation.refresh_from_db()
    # Referred once it went out, never while it only waits (finding 10).
    assert item.conversation.status == "new"
    assert len(run_follow_ups()) == 1
    [reply] = replies_on_network(world["sandbox"], item)
    assert reply["text"] == ("Hej Mette. Det kan Borgerservice hjælpe med: "
                             "kk.dk/borgerservice.")
    item.conversation.refresh_from_db()
    assert item.conversation.status == "referred"
    assert item.conversation.first_response_at is not None
    assert Answer.objects.get().referral == referral
    assert AuditEntry.objects.filter(event="inbox.conversation.referred").count() == 1


def test_a_referral_to_an_administration_names_it(world):
    item, editor = world["item"], world["editor"]
    buf = AdministrationFactory(organisation=item.organisation, code="BUF",
                                name="Børne- og Ungdomsforvaltningen")
    referral = actions.save_referral_template(
        actor=editor, title="Skole", administration=buf,
        text="Skriv til {forvaltningsnavn}, {fornavn}.")
    answer = replies.reply_to_item(item, actor=editor, referral=referral,
                                   key="ref-2")
    assert answer.text == "Skriv til Børne- og Ungdomsforvaltningen, Mette."


def test_referral_templates_are_a_list_of_their_own(world):
    borgerservice(world["editor"])
    assert ReferralTemplate.objects.count() == 1
    assert StandardAnswer.objects.count() == 0


def test_only_editors_keep_referral_templates(world, member):
    contributor = member(Role.CONTRIBUTOR)
    with pytest.raises(PermissionDenied):
        borgerservice(contributor)
    referral = borgerservice(world["editor"])
    with pytest.raises(PermissionDenied):
        actions.delete_referral_template(referral, actor=contributor)
    actions.delete_referral_template(referral, actor=world["editor"])
    assert ReferralTemplate.objects.count() == 0
    assert AuditEntry.objects.filter(event__startswith="inbox.referral.").count() == 2


def test_bad_referrals_are_refused_in_danish(world):
    editor, item = world["editor"], world["item"]
    referral = borgerservice(editor)
    # The same form again (a double click) is the same template (T4-12);
    # another text under its title is refused.
    assert borgerservice(editor) == referral
    with pytest.raises(ValidationError, match="allerede brugt"):
        actions.save_referral_template(actor=editor, title="Borgerservice",
                                       text="Ring til Borgerservice.")
    with pytest.raises(ValidationError, match="titel og en tekst"):
        actions.save_referral_template(actor=editor, title="Tom", text="  ")
    other = AdministrationFactory(organisation=OrganisationFactory(slug="anden"))
    with pytest.raises(ValidationError, match="Forvaltningen"):
        actions.save_referral_template(actor=editor, title="Anden", text="x",
                                       administration=other)
    standard = actions.save_standard_answer(actor=editor, title="Pas", text="x")
    with pytest.raises(ValidationError, match="enten et standardsvar"):
        replies.reply_to_item(item, actor=editor, referral=referral,
                              standard_answer=standard, key="ref-3")
    item.conversation.refresh_from_db()
    assert item.conversation.status == "new"


def test_the_reply_form_refers_and_the_pages_keep_templates(world, client_for):
    editor, item = world["editor"], world["item"]
    client = client_for(editor)
    response = client.post("/indbakke/henvisninger/", {
        "title": "kk.dk", "text": "Se kk.dk/{fornavn}", "administration": ""})
    assert response.status_code == 302
    referral = ReferralTemplate.objects.get(title="kk.dk")
    page = client.get(f"/indbakke/{item.conversation_id}/?henvisning={referral.pk}")
    assert "Se kk.dk/Mette" in page.content.decode()
    response = post_answer(client, item, key="form-ref", referral=referral.pk)
    assert response.status_code == 302
    run_follow_ups()
    item.conversation.refresh_from_db()
    assert item.conversation.status == "referred"
    response = client.post("/indbakke/henvisninger/", {"title": "kk.dk", "text": "y"})
    assert response.status_code == 400  # refused (T7a-1)
    assert "allerede brugt" in response.content.decode()
    response = client.post(f"/indbakke/henvisninger/{referral.pk}/",
                           {"title": "kk.dk", "text": "Ny tekst"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.text == "Ny tekst"
