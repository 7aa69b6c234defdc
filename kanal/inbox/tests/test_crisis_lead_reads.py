"""The crisis lead (krisestyring) reads the whole inbox in a crisis: every
conversation, filtered, searched and narrowed to crisis priority. They
answer, note, assign, set the status of, moderate, like and set up nothing:
every write is refused (403) and changes nothing (W3-1)."""

from __future__ import annotations

import pytest

from kanal.inbox import actions
from kanal.inbox.models import (
    AssignmentRule,
    Conversation,
    Note,
    ReferralTemplate,
    StandardAnswer,
)
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.models import Crisis

from .factories import citizen_item, page_seen

pytestmark = pytest.mark.django_db


@pytest.fixture
def crisis(desk, member, organisation):
    channel = desk["channel"]
    calm = citizen_item(channel, "Hvornår åbner biblioteket?", author="Ida")
    Crisis.objects.create(organisation=organisation, reason="Skybrud")
    flooded = citizen_item(channel, "Vandet stiger i kælderen på Nørrebro",
                           author="Karl")
    actions.assign_conversation(flooded.conversation, actor=desk["editor"],
                                administration=desk["buf"])
    okf = desk["tmf"]  # any administration but the ones it is assigned to
    return {
        "lead": member(Role.CRISIS_LEAD, administration=okf),
        "calm": calm, "flooded": flooded, "channel": channel,
        "answer": StandardAnswer.objects.create(
            organisation=organisation, title="Åbningstider", text="Se kk.dk"),
        "referral": ReferralTemplate.objects.create(
            organisation=organisation, title="Vand", text="Ring 112"),
        "rule": AssignmentRule.objects.create(
            organisation=organisation, keyword="vand",
            administration=desk["buf"]),
    }


def test_the_crisis_lead_sees_every_conversation(crisis, client_for):
    client = client_for(crisis["lead"])
    response = client.get("/indbakke/")
    assert response.status_code == 200
    shown = {c.pk for c in response.context["page"]}
    assert shown == {crisis["calm"].conversation_id,
                     crisis["flooded"].conversation_id}
    # The counts per status count the whole organisation too.
    assert sum(n for _value, _label, n in response.context["counts"]) == 2
    html = response.content.decode()
    assert "Indbakke" in html and 'name="priority"' in html

    # The crisis-priority filter, a search and the live updates.
    page = client.get("/indbakke/", {"priority": "on"}).context["page"]
    assert [c.pk for c in page] == [crisis["flooded"].conversation_id]
    page = client.get("/indbakke/", {"q": "biblioteket"}).context["page"]
    assert [c.pk for c in page] == [crisis["calm"].conversation_id]
    body = client.get("/indbakke/nye/", {"siden": 0}).json()
    assert body["count"] == 2

    detail = client.get(f"/indbakke/{crisis['flooded'].conversation_id}/")
    assert detail.status_code == 200
    assert "Vandet stiger i kælderen" in detail.content.decode()


def test_the_menu_offers_the_crisis_lead_the_inbox(crisis, client_for):
    html = client_for(crisis["lead"]).get("/").content.decode()
    assert 'href="/indbakke/"' in html


def _writes(crisis):
    conversation = crisis["flooded"].conversation_id
    item = crisis["flooded"]
    return [
        (f"/indbakke/{conversation}/tildel/",
         {"administration": crisis["channel"].owner_administration_id}),
        (f"/indbakke/{conversation}/status/", {"status": "closed"}),
        (f"/indbakke/{conversation}/note/", {"text": "Set.", "key": "n" * 32}),
        (f"/indbakke/{conversation}/svar/",
         {"item": item.pk, "text": "Vi kommer.", "key": "k" * 32,
          "seen": page_seen(item)}),
        (f"/indbakke/{conversation}/svar/laengde/", {"item": item.pk,
                                                      "text": "Tak"}),
        (f"/indbakke/henvendelse/{item.pk}/moderer/",
         {"action": "hide", "reason": "spam"}),
        (f"/indbakke/henvendelse/{item.pk}/synes-godt-om/", {"liked": "1"}),
        ("/indbakke/standardsvar/", {"title": "Nyt", "text": "Nyt svar"}),
        (f"/indbakke/standardsvar/{crisis['answer'].pk}/",
         {"title": "Ændret", "text": "Ændret"}),
        (f"/indbakke/standardsvar/{crisis['answer'].pk}/slet/", {}),
        ("/indbakke/henvisninger/", {"title": "Ny", "text": "Ny henvisning"}),
        (f"/indbakke/henvisninger/{crisis['referral'].pk}/",
         {"title": "Ændret", "text": "Ændret"}),
        (f"/indbakke/henvisninger/{crisis['referral'].pk}/slet/", {}),
        ("/indbakke/indstillinger/", {"retention_days": "30"}),
        (f"/indbakke/indstillinger/regler/{crisis['rule'].pk}/slet/", {}),
    ]


def _state():
    return (
        list(Conversation.objects.order_by("pk").values_list(
            "status", "assigned_administration_id", "assigned_to_id")),
        Note.objects.count(),
        list(StandardAnswer.objects.values_list("title", "text")),
        list(ReferralTemplate.objects.values_list("title", "text")),
        AssignmentRule.objects.count(),
        list(crisis_items()),
    )


def crisis_items():
    from kanal.inbox.models import InboxItem

    return InboxItem.objects.order_by("pk").values_list(
        "hidden_on_network", "liked_at")


def test_every_write_in_the_inbox_is_refused_for_the_crisis_lead(crisis,
                                                                  client_for):
    client = client_for(crisis["lead"])
    before = _state()
    for url, data in _writes(crisis):
        response = client.post(url, data)
        assert response.status_code == 403, url
    assert _state() == before
    assert not crisis["flooded"].conversation.answers.exists()


def test_the_conversation_page_offers_the_crisis_lead_no_form_to_send(
        crisis, client_for):
    client = client_for(crisis["lead"])
    Note.objects.create(conversation=crisis["flooded"].conversation,
                        author=None, text="Borgeren er ringet op.")
    html = client.get(f"/indbakke/{crisis['flooded'].conversation_id}/"
                      ).content.decode()
    assert "Borgeren er ringet op." in html  # the desk's notes are read
    assert 'action="/indbakke/' not in html
    assert "/indbakke/standardsvar/" not in html
    assert 'id="read-only"' in html
    # The shortcuts that act offer nothing here; moving between
    # conversations and the overview stay.
    assert "<kbd>a</kbd>" not in html and "<kbd>r</kbd>" not in html
    assert "<kbd>n</kbd>" not in html and "<kbd>j</kbd>" in html
    listing = client.get("/indbakke/").content.decode()
    assert "/indbakke/standardsvar/" not in listing
    assert "/indbakke/henvisninger/" not in listing


def test_the_desk_can_mention_the_crisis_lead_in_a_note(crisis, desk,
                                                        client_for):
    lead = crisis["lead"]
    client = client_for(desk["editor"])
    conversation = crisis["flooded"].conversation_id
    page = client.get(f"/indbakke/{conversation}/").content.decode()
    assert f"@{lead.user.username}" in page  # among those who can be named
    client.post(f"/indbakke/{conversation}/note/",
                {"text": f"@{lead.user.username} se denne", "key": "m" * 32})
    assert Notification.objects.filter(recipient=lead,
                                       kind="inbox_mentioned").count() == 1


def test_an_item_assigned_to_a_crisis_lead_goes_to_who_can_answer(crisis, desk):
    """A person the conversation was assigned to who is now the crisis lead
    reads it but answers nothing: the overdue reminder goes to who can."""
    from kanal.inbox.targets import _who_handles

    person = desk["buf_contributor"]
    conversation = crisis["flooded"].conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["buf"], person=person)
    person.role = Role.CRISIS_LEAD
    person.save(update_fields=["role"])
    conversation.refresh_from_db()
    assert list(_who_handles(conversation)) == [desk["editor"]]
