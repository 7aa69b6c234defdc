"""Deleting a standard answer or a referral asks first (W3-6): "Slet" on the
list deleted the text at once, one slip of the finger (at 320 px it sits
right under "Ret") and the text written with care was gone."""

from __future__ import annotations

import pytest

from kanal.inbox.models import ReferralTemplate, StandardAnswer
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(organisation):
    return {
        "standardsvar": StandardAnswer.objects.create(
            organisation=organisation, title="Pas", text="Bestil tid på kk.dk/pas."),
        "henvisninger": ReferralTemplate.objects.create(
            organisation=organisation, title="Vand", text="Ring til HOFOR."),
    }


@pytest.mark.parametrize("kind", ["standardsvar", "henvisninger"])
def test_delete_asks_first_and_deletes_on_the_answer(member, client_for, kept,
                                                     kind):
    client = client_for(member(Role.EDITOR))
    row = kept[kind]
    listing = client.get(f"/indbakke/{kind}/").content.decode()
    assert f'href="/indbakke/{kind}/{row.pk}/slet/"' in listing
    assert f'action="/indbakke/{kind}/{row.pk}/slet/"' not in listing

    asked = client.get(f"/indbakke/{kind}/{row.pk}/slet/")
    assert asked.status_code == 200
    html = asked.content.decode()
    assert row.text in html and row.title in html and "Fortryd" in html
    assert type(row).objects.filter(pk=row.pk).exists()

    done = client.post(f"/indbakke/{kind}/{row.pk}/slet/")
    assert done.status_code == 302
    assert not type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.CRISIS_LEAD])
@pytest.mark.parametrize("kind", ["standardsvar", "henvisninger"])
def test_only_the_desk_is_asked(member, client_for, kept, kind, role):
    row = kept[kind]
    client = client_for(member(role))
    assert client.get(f"/indbakke/{kind}/{row.pk}/slet/").status_code == 403
    assert client.post(f"/indbakke/{kind}/{row.pk}/slet/").status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()
