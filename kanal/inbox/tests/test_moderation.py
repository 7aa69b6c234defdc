"""Moderation by the house rules, the personal-data guard and retention."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.inbox import actions, intake, moderation, polling, retention
from kanal.inbox.models import InboxItem, InboxSettings, ItemVersion, ModerationAction
from kanal.notifications.kinds import render
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.tests.conftest import sandbox_channel

from .factories import citizen_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_sandbox(sandbox, organisation, member):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "facebook")
    post = adapter_for(channel).publish(OutgoingPost(text="Kulturnat"),
                                        idempotency_key="post-m")
    editor = member(Role.EDITOR)

    def comment(text, author="Omar Khan"):
        made = sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": "facebook", "text": text, "parent_id": post.remote_id,
            "author_name": author, "author_id": f"id-{author}"})
        return made["item_id"]

    return {"channel": channel, "editor": editor, "comment": comment,
            "sandbox": sandbox}


def test_hiding_records_the_reason_audits_and_hides_on_the_network(on_sandbox):
    remote = on_sandbox["comment"]("Køb billige solbriller her!!!")
    polling.poll_channel(on_sandbox["channel"])
    item = InboxItem.objects.get(remote_id=remote)
    with pytest.raises(ValidationError, match="husregel"):
        moderation.moderate_item(item, actor=on_sandbox["editor"], kind="hide")
    moderation.moderate_item(item, actor=on_sandbox["editor"], kind="hide",
                             reason="advertising")
    item.refresh_from_db()
    assert item.hidden_on_network
    assert on_sandbox["sandbox"].item("facebook", remote)["hidden"] is True
    entry = AuditEntry.objects.get(event="inbox.item.hidden")
    assert entry.changes["reason"] == "advertising"
    item.conversation.refresh_from_db()
    assert item.conversation.status == "hidden"
    moderation.moderate_item(item, actor=on_sandbox["editor"], kind="unhide")
    assert on_sandbox["sandbox"].item("facebook", remote)["hidden"] is False


def test_the_warning_count_follows_the_author_and_the_policy(on_sandbox):
    InboxSettings.objects.create(organisation=on_sandbox["channel"].organisation,
                                 block_at_warning=2)
    first = on_sandbox["comment"]("Spam 1", author="Spammer")
    second = on_sandbox["comment"]("Spam 2", author="Spammer")
    polling.poll_channel(on_sandbox["channel"])
    one = InboxItem.objects.get(remote_id=first)
    two = InboxItem.objects.get(remote_id=second)
    assert moderation.warning_policy(two) == {
        "count": 0, "limit": 2, "block": False, "rules_url": ""}
    moderation.moderate_item(one, actor=on_sandbox["editor"], kind="hide",
                             reason="spam")
    assert moderation.warning_policy(two)["count"] == 1
    moderation.moderate_item(two, actor=on_sandbox["editor"], kind="delete",
                             reason="spam")
    policy = moderation.warning_policy(two)
    assert policy["count"] == 2 and policy["block"] is True
    # Unhiding is not a warning.
    moderation.moderate_item(one, actor=on_sandbox["editor"], kind="unhide")
    assert moderation.warning_policy(two)["count"] == 2


def test_contributors_may_not_moderate(on_sandbox, member):
    from django.core.exceptions import PermissionDenied

    on_sandbox["comment"]("Hej")
    polling.poll_channel(on_sandbox["channel"])
    item = InboxItem.objects.get()
    actions.assign_conversation(item.conversation, actor=on_sandbox["editor"],
                                administration=on_sandbox["editor"].administration)
    contributor = member(Role.CONTRIBUTOR,
                         administration=on_sandbox["editor"].administration)
    with pytest.raises(PermissionDenied):
        moderation.moderate_item(item, actor=contributor, kind="hide",
                                 reason="spam")
    assert ModerationAction.objects.count() == 0


def test_a_cpr_comment_is_hidden_at_once_and_the_editor_told(
    on_sandbox, post_webhook
):
    organisation = on_sandbox["channel"].organisation
    InboxSettings.objects.create(organisation=organisation, hide_personal_data=True)
    remote = on_sandbox["comment"]("Mit CPR er 120387-4321, ring 22 33 44 55")
    polling.poll_channel(on_sandbox["channel"])
    item = InboxItem.objects.get(remote_id=remote)
    assert item.personal_data == ["cpr", "phone"]
    assert item.hidden_on_network
    assert on_sandbox["sandbox"].item("facebook", remote)["hidden"] is True
    assert item.conversation.has_personal_data
    assert ModerationAction.objects.get().reason == "personal_data"
    note = Notification.objects.get(kind="inbox_personal_data")
    assert note.recipient == on_sandbox["editor"]
    text = render(note.kind, note.params)
    assert "CPR-nummer, telefonnummer" in text
    assert "skjult på netværket med det samme" in text


def test_without_the_setting_the_editor_is_told_but_nothing_hidden(on_sandbox):
    remote = on_sandbox["comment"]("Skriv til mig på a@b.dk")
    polling.poll_channel(on_sandbox["channel"])
    item = InboxItem.objects.get(remote_id=remote)
    assert not item.hidden_on_network
    note = Notification.objects.get(kind="inbox_personal_data")
    assert "Overvej" in render(note.kind, note.params)


def test_retention_removes_personal_data_but_respects_legal_hold(
    organisation, member, time_machine
):
    from kanal.channels.tests.factories import ChannelFactory

    editor = member(Role.EDITOR)
    channel = ChannelFactory(organisation=organisation)
    InboxSettings.objects.create(organisation=organisation, retention_days=30)
    time_machine.move_to(timezone.now() - timedelta(days=40))
    old = citizen_item(channel, "Mit CPR er 010190-1234", author="Mette Hansen")
    held = citizen_item(channel, "Sag om aktindsigt", author="Jens Holm")
    time_machine.move_to(timezone.now() + timedelta(days=40))
    young = citizen_item(channel, "Ny kommentar")
    actions.set_legal_hold(held.conversation, actor=editor, hold=True)

    out = StringIO()
    call_command("inbox_retention", "--dry-run", stdout=out)
    assert "1 henvendelser ældre end 30 dage ville blive slettet" in out.getvalue()
    old.refresh_from_db()
    assert old.text == "Mit CPR er 010190-1234"

    assert retention.apply_retention() == 1
    old.refresh_from_db()
    assert (old.text, old.author_name, old.author_id, old.personal_data) == (
        "", "", "", [])
    assert old.redacted_at is not None
    assert list(ItemVersion.objects.filter(item=old).values_list("text", flat=True)
                ) == [""]
    held.refresh_from_db()
    young.refresh_from_db()
    assert held.text == "Sag om aktindsigt"
    assert young.text == "Ny kommentar"
    entry = AuditEntry.objects.get(event="inbox.retention.applied")
    assert entry.changes == {"items": 1, "days": 30}
    assert retention.apply_retention() == 0
    # A replayed webhook for a redacted item does not bring the text back.
    intake.ingest(channel, __import__(
        "kanal.channels.networks.base", fromlist=["InboxItem"]).InboxItem(
        remote_id=old.remote_id, kind="comment", author_id="x", author_name="y",
        text="Mit CPR er 010190-1234", created_at=timezone.now()))
    old.refresh_from_db()
    assert old.text == ""
