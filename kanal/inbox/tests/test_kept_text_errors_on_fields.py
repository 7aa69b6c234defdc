"""A standard answer or referral refused for what is in one field (a
variable Kanal cannot fill in the text, a title already used) says so on
that field, so the field is marked, the page's error summary leads to it and
what was written stays (W3-3). It was said above the form, tied to no
field."""

from __future__ import annotations

import pytest

from kanal.inbox.models import ReferralTemplate, StandardAnswer
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(member, client_for):
    return client_for(member(Role.EDITOR))


@pytest.mark.parametrize("url", ["/indbakke/standardsvar/", "/indbakke/henvisninger/"])
def test_an_unknown_variable_is_an_error_on_the_text(desk_client, url):
    response = desk_client.post(url, {"title": "Pas", "text": "Hej {navn}, se kk.dk"})
    assert response.status_code == 400  # refused (T7a-1)
    form = response.context["form"]
    assert form.non_field_errors() == []
    assert "{navn}" in form.errors["text"][0]
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'id="id_text_error"' in html
    assert "Hej {navn}, se kk.dk" in html  # nothing written is lost
    assert not StandardAnswer.objects.exists()
    assert not ReferralTemplate.objects.exists()


def test_a_title_in_use_is_an_error_on_the_title(desk_client, organisation):
    StandardAnswer.objects.create(organisation=organisation, title="Pas",
                                  text="Bestil tid på kk.dk/pas.")
    response = desk_client.post("/indbakke/standardsvar/",
                                {"title": "Pas", "text": "Noget andet"})
    form = response.context["form"]
    assert form.non_field_errors() == []
    assert form.errors["title"] == ["Titlen er allerede brugt. Vælg en anden titel."]
    answer = StandardAnswer.objects.get()
    edit = desk_client.post(f"/indbakke/standardsvar/{answer.pk}/",
                            {"title": "Pas", "text": "Hej {Fornavn}"})
    assert "{Fornavn}" in edit.context["form"].errors["text"][0]
    answer.refresh_from_db()
    assert answer.text == "Bestil tid på kk.dk/pas."
