"""Conversations: who sees them, assignment, status, notes, list and search."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.inbox import actions, selectors
from kanal.inbox.models import Conversation, Note
from kanal.inbox.policies import conversation_policy
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def test_replies_group_under_their_comment_and_messages_by_person(desk):
    channel = desk["channel"]
    first = citizen_item(channel, "Spørgsmål", remote_id="c1")
    citizen_item(channel, "Opfølgning", remote_id="c2", kind="reply", parent="c1")
    citizen_item(channel, "Hej", remote_id="m1", kind="message")
    citizen_item(channel, "Hej igen", remote_id="m2", kind="message")
    assert first.conversation.items.count() == 2
    assert Conversation.objects.count() == 2


def test_contributors_see_only_what_is_assigned_to_their_administration(desk):
    channel = desk["channel"]
    mine = citizen_item(channel, "Til BUF").conversation
    citizen_item(channel, "Ikke tildelt")
    actions.assign_conversation(mine, actor=desk["editor"],
                                administration=desk["buf"])
    assert list(conversation_policy.visible(desk["buf_contributor"])) == [mine]
    assert list(conversation_policy.visible(desk["tmf_contributor"])) == []
    assert conversation_policy.visible(desk["editor"]).count() == 2
    assert conversation_policy.visible(desk["analyst"]).count() == 0


def test_assigning_audits_notifies_and_moves_new_to_assigned(desk):
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["buf"])
    conversation.refresh_from_db()
    assert conversation.status == "assigned"
    assert conversation.assigned_administration == desk["buf"]
    entry = AuditEntry.objects.get(event="inbox.conversation.assigned")
    assert entry.changes["administration"] == "BUF"
    note = Notification.objects.get(kind="inbox_assigned")
    assert note.recipient == desk["buf_contributor"]


def test_an_assigned_conversation_is_given_on_through_the_page(desk, client_for):
    conversation = citizen_item(desk["channel"]).conversation
    client = client_for(desk["editor"])
    for administration in (desk["buf"], desk["tmf"]):
        response = client.post(f"/indbakke/{conversation.pk}/tildel/",
                                {"administration": administration.pk})
        assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_administration == desk["tmf"]
    entry = AuditEntry.objects.filter(event="inbox.conversation.assigned").latest(
        "seq")
    assert entry.changes["administration"] == "TMF"
    assert entry.changes["before"]["assigned_administration_id"] == desk["buf"].pk


def test_assigning_to_a_person_brings_their_administration(desk):
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                person=desk["tmf_contributor"])
    conversation.refresh_from_db()
    assert conversation.assigned_administration == desk["tmf"]
    assert conversation.assigned_to == desk["tmf_contributor"]
    assert list(conversation_policy.visible(desk["tmf_contributor"])) == [
        conversation]


def test_contributors_may_not_assign(desk):
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["buf"])
    with pytest.raises(PermissionDenied):
        actions.assign_conversation(conversation, actor=desk["buf_contributor"],
                                    administration=desk["tmf"])


def test_an_administration_of_another_organisation_is_refused(desk):
    conversation = citizen_item(desk["channel"]).conversation
    with pytest.raises(ValidationError):
        actions.assign_conversation(conversation, actor=desk["editor"],
                                    administration=AdministrationFactory())


def test_status_changes_are_audited_and_hidden_cannot_be_chosen(desk):
    conversation = citizen_item(desk["channel"]).conversation
    actions.set_conversation_status(conversation, actor=desk["editor"],
                                    status="no_reply")
    assert AuditEntry.objects.filter(
        event="inbox.conversation.status_changed").count() == 1
    with pytest.raises(ValidationError):
        actions.set_conversation_status(conversation, actor=desk["editor"],
                                        status="hidden")


@pytest.mark.parametrize("status", ["answered", "no_reply", "hidden", "referred"])
def test_a_new_item_reopens_a_closed_conversation(desk, status):
    """Whatever closed it (an answer, "no reply needed", a hide, a referral),
    the citizen writing again puts it before the desk again."""
    first = citizen_item(desk["channel"], remote_id="c1")
    Conversation.objects.filter(pk=first.conversation_id).update(status=status)
    citizen_item(desk["channel"], "Men hvad så med...", remote_id="c2",
                 kind="reply", parent="c1")
    first.conversation.refresh_from_db()
    assert first.conversation.status == "new"
    assert first.conversation.due_at is not None


def test_a_note_with_a_mention_tells_the_colleague_who_may_see_it(desk):
    conversation = citizen_item(desk["channel"]).conversation
    actions.assign_conversation(conversation, actor=desk["editor"],
                                administration=desk["buf"])
    buf_name = desk["buf_contributor"].user.username
    tmf_name = desk["tmf_contributor"].user.username
    actions.add_note(conversation, actor=desk["editor"],
                     text=f"@{buf_name} kan du svare? @{tmf_name} til orientering")
    assert Note.objects.count() == 1
    told = Notification.objects.filter(kind="inbox_mentioned")
    # TMF cannot see the conversation, so is not told about it.
    assert [n.recipient for n in told] == [desk["buf_contributor"]]


def test_an_empty_note_is_refused(desk):
    conversation = citizen_item(desk["channel"]).conversation
    with pytest.raises(ValidationError):
        actions.add_note(conversation, actor=desk["editor"], text="   ")


def test_filters_and_search(desk, organisation):
    channel = desk["channel"]
    x = ChannelFactory(organisation=organisation, network="x")
    pas = citizen_item(channel, "Hvor lang tid tager et nyt pas?").conversation
    citizen_item(x, "Cykelstien på Jagtvej er fuld af huller")
    cpr = citizen_item(channel, "Mit CPR er 010190-1234").conversation
    visible = conversation_policy.visible(desk["editor"])

    def found(**filters):
        return set(selectors.conversations(visible, selectors.Filters(**filters)))

    assert found(network="x") == {Conversation.objects.get(channel=x)}
    assert found(personal_data=True) == {cpr}
    assert found(q="pas") == {pas}
    assert found(status="new", channel=channel.pk) == {pas, cpr}


def test_the_list_masks_personal_data_and_shows_markup_as_text(
    desk, client_for
):
    citizen_item(desk["channel"], "<b>Hej</b> mit CPR er 010190-1234")
    response = client_for(desk["editor"]).get("/indbakke/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "010190-1234" not in html
    assert "[CPR-nummer skjult]" in html
    assert "&lt;b&gt;Hej&lt;/b&gt;" in html


def test_the_updates_endpoint_answers_new_rows_only_when_something_came(
    desk, client_for
):
    client = client_for(desk["editor"])
    first = citizen_item(desk["channel"], "Første")
    body = client.get("/indbakke/nye/", {"siden": first.pk}).json()
    assert body == {"latest": first.pk, "changed": False}
    second = citizen_item(desk["channel"], "Anden henvendelse")
    body = client.get("/indbakke/nye/", {"siden": first.pk}).json()
    assert body["latest"] == second.pk
    assert "Anden henvendelse" in body["rows"]
    assert json.dumps(body)


def test_bad_filter_values_are_said_not_server_errors(desk, client_for):
    """Filters the form cannot read are shown as errors (T5a-2), never a
    server error; a page number it cannot read is the first page."""
    citizen_item(desk["channel"])
    response = client_for(desk["editor"]).get(
        "/indbakke/", {"channel": "abc", "status": "nope", "side": "x",
                       "administration": "9999999"})
    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    response = client_for(desk["editor"]).get("/indbakke/", {"side": "x"})
    assert response.status_code == 200
    response = client_for(desk["editor"]).get("/indbakke/nye/", {"siden": "x"})
    assert response.status_code == 200


def test_detail_views_assign_and_status_through_http(desk, client_for):
    conversation = citizen_item(desk["channel"], "Mit CPR er 010190-1234").conversation
    client = client_for(desk["editor"])
    page = client.get(f"/indbakke/{conversation.pk}/").content.decode()
    assert "[CPR-nummer skjult]" in page
    response = client.post(f"/indbakke/{conversation.pk}/tildel/",
                           {"administration": desk["buf"].pk})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_administration == desk["buf"]
    response = client.post(f"/indbakke/{conversation.pk}/status/",
                           {"status": "bogus"}, follow=True)
    assert "Vælg en gyldig status." in response.content.decode()


def test_administrators_keep_the_inbox_settings(organisation, member, client_for):
    from kanal.inbox.models import InboxSettings

    admin = member(Role.ADMIN)
    client = client_for(admin)
    response = client.post("/indbakke/indstillinger/", {
        "opens_at": "09:00", "closes_at": "08:00", "open_weekdays": ["0", "1"],
        "target_hours": "8", "retention_days": "30", "footer_text": "",
        "require_footer": "on", "block_at_warning": "3",
    })
    assert response.status_code == 400  # refused (T7a-1)
    html = response.content.decode()
    assert "Lukketiden skal ligge efter åbningstiden." in html
    assert "Skriv vejledningsteksten" in html
    assert not InboxSettings.objects.exists()
    response = client.post("/indbakke/indstillinger/", {
        "opens_at": "09:00", "closes_at": "15:00", "open_weekdays": ["0", "1"],
        "target_hours": "8", "retention_days": "30",
        "footer_text": "Svaret er vejledning.", "require_footer": "on",
        "block_at_warning": "3", "hide_personal_data": "on",
    })
    assert response.status_code == 302
    row = InboxSettings.objects.get(organisation=organisation)
    assert row.open_weekdays == [0, 1] and row.hide_personal_data
    assert AuditEntry.objects.filter(event="inbox.settings.changed").exists()


def test_rules_assign_new_conversations_by_channel_or_keyword(desk, organisation,
                                                              member, client_for):
    admin = member(Role.ADMIN)
    client = client_for(admin)
    response = client.post("/indbakke/indstillinger/", {
        "form": "rule", "keyword": "", "channel": "",
        "administration": desk["buf"].pk})
    assert "Vælg en kanal, et nøgleord eller begge." in response.content.decode()
    response = client.post("/indbakke/indstillinger/", {
        "form": "rule", "keyword": "Skole", "administration": desk["buf"].pk})
    assert response.status_code == 302
    x = ChannelFactory(organisation=organisation, network="x")
    actions.add_assignment_rule(actor=admin, administration=desk["tmf"], channel=x)
    school = citizen_item(desk["channel"], "Hvornår starter skolen?").conversation
    traffic = citizen_item(x, "Cykelstien er fuld af huller").conversation
    other = citizen_item(desk["channel"], "Tak for i dag").conversation
    for c in (school, traffic, other):
        c.refresh_from_db()
    assert (school.assigned_administration, school.status) == (desk["buf"],
                                                               "assigned")
    assert traffic.assigned_administration == desk["tmf"]
    assert other.assigned_administration is None
    assert Notification.objects.filter(kind="inbox_assigned",
                                       recipient=desk["buf_contributor"]).exists()


def test_the_inbox_says_which_networks_messages_cannot_reach_it(
    client, organisation, member
):
    """LinkedIn and Threads offer no message API for such accounts: the list
    says so for the organisation's channels there, and never of a network
    whose messages Kanal reads (Facebook, Instagram)."""
    ChannelFactory(organisation=organisation, network="facebook")
    ChannelFactory(organisation=organisation, network="instagram")
    client.force_login(member(Role.EDITOR).user)
    page = client.get("/indbakke/").content.decode()
    assert 'id="no-messages"' not in page

    ChannelFactory(organisation=organisation, network="threads")
    ChannelFactory(organisation=organisation, network="linkedin")
    page = client.get("/indbakke/").content.decode()
    assert "Beskeder til kontoen på LinkedIn og Threads kommer ikke hertil" in page


@pytest.mark.parametrize("language", ["da", "en"])
def test_a_status_label_is_the_choice_label_in_the_active_language(language):
    from django.utils import translation

    from kanal.inbox.models import ConversationStatus

    with translation.override(language):
        for value, label in ConversationStatus.choices:
            shown = Conversation(status=value).get_status_display()
            assert shown == str(label) and isinstance(shown, str)
        assert Conversation(status="unknown").get_status_display() == "unknown"
    with translation.override("en"):
        assert Conversation(status="new").get_status_display() == "New"
