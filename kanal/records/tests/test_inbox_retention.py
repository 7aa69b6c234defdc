"""Retention and legal holds have one home, the record: its deletion job
redacts inbox items past the inbox's period, and a hold placed in the record
keeps a person's (a case's, a period's) inbox items as it keeps their
entries. The inbox has no hold or retention job of its own any more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.core.models import AuditEntry
from kanal.inbox.intake import ingest
from kanal.inbox.models import InboxItem, InboxSettings, ItemVersion
from kanal.inbox.tests.factories import citizen_item
from kanal.publishing.periodic import PERIODIC_JOBS
from kanal.records import actions, retention
from kanal.records.inbox_capture import item_key
from kanal.records.models import ErasureRequest, LegalHold, RetentionRun

pytestmark = pytest.mark.django_db


def aged(item, days):
    """``item`` as if it arrived ``days`` ago."""
    when = timezone.now() - timedelta(days=days)
    InboxItem.objects.filter(pk=item.pk).update(received_at=when, created_at=when)
    item.refresh_from_db()
    return item


@pytest.fixture
def inbox(organisation, desk):
    """Three items 40 to 42 days old (Mette twice, Jens once), one new, a
    30-day inbox period."""
    InboxSettings.objects.create(organisation=organisation, retention_days=30)
    channel = desk["facebook"]
    return {
        "mette": aged(citizen_item(channel, "Mit CPR er 010190-1234",
                                   author="Mette Hansen"), 40),
        "mette2": aged(citizen_item(channel, "Og mit nummer 12345678",
                                    author="Mette Hansen"), 41),
        "jens": aged(citizen_item(channel, "Sag om aktindsigt",
                                  author="Jens Holm"), 42),
        "young": citizen_item(channel, "Ny kommentar", author="Jens Holm"),
    }


def redacted(item) -> bool:
    item.refresh_from_db()
    return item.redacted_at is not None


def test_a_records_hold_on_a_person_stops_the_deletion_of_their_inbox_items(
    desk, inbox
):
    """Every retention job there is runs; a hold in the record on Jens keeps
    his old item, Mette's are redacted."""
    actions.place_hold(actor=desk["officer"], reason="Klagesag", person="jens holm")
    jobs = [job for job in PERIODIC_JOBS if "retention" in job.name]
    assert jobs
    for job in jobs:
        job.run(now=timezone.now())
    assert not redacted(inbox["jens"])
    assert inbox["jens"].text == "Sag om aktindsigt"
    assert redacted(inbox["mette"]) and redacted(inbox["mette2"])
    assert not redacted(inbox["young"])


def test_the_inbox_has_no_retention_job_or_command_of_its_own():
    from django.core.management import get_commands

    assert "inbox_retention" not in {job.name for job in PERIODIC_JOBS}
    assert "inbox_retention" not in get_commands()
    assert not hasattr(InboxItem, "legal_hold")


def test_retention_removes_personal_data_past_the_inbox_period(desk, inbox):
    old = inbox["mette"]
    done = retention.apply_retention()
    assert done.redacted == 3
    old.refresh_from_db()
    assert (old.text, old.author_name, old.author_id, old.url,
            old.personal_data) == ("", "", "", "", [])
    assert list(ItemVersion.objects.filter(item=old).values_list(
        "text", flat=True)) == [""]
    assert not redacted(inbox["young"])
    run = RetentionRun.objects.get()
    assert run.inbox_redacted == 3 and run.finished_at
    entry = AuditEntry.objects.get(event="records.retention.applied")
    assert entry.changes == {"deleted": 0, "inbox_redacted": 3}
    assert retention.apply_retention().redacted == 0  # nothing twice
    # A replayed webhook for a redacted item does not bring the text back.
    ingest(desk["facebook"], NetworkItem(
        remote_id=old.remote_id, kind="comment", author_id="x", author_name="y",
        text="Mit CPR er 010190-1234", created_at=timezone.now()))
    old.refresh_from_db()
    assert old.text == ""


def test_dry_run_counts_inbox_items_and_changes_nothing(desk, inbox, capsys):
    actions.place_hold(actor=desk["officer"], reason="Klage", person="Jens Holm")
    call_command("apply_retention", "--dry-run")
    assert ("0 journalposter ville blive slettet, og 2 henvendelser i indbakken "
            "ville blive renset") in capsys.readouterr().out
    assert not InboxItem.objects.filter(redacted_at__isnull=False).exists()
    call_command("apply_retention")
    assert "og 2 henvendelser i indbakken er renset" in capsys.readouterr().out
    assert not redacted(inbox["jens"])


def test_a_hold_on_a_period_keeps_the_items_written_in_it(desk, inbox):
    written = inbox["mette"].created_at
    actions.place_hold(actor=desk["officer"], reason="Periode",
                       period_start=written - timedelta(seconds=1),
                       period_end=written + timedelta(seconds=1))
    retention.apply_retention()
    assert not redacted(inbox["mette"])
    assert redacted(inbox["jens"])


def test_a_hold_on_a_case_keeps_the_items_whose_record_carries_it(
    organisation, desk, inbox
):
    item = inbox["mette2"]
    actions.record(organisation=organisation, kind="comment", source="inbox",
                   source_key=item_key(item), content={"text": item.text},
                   occurred_at=item.created_at, channel=desk["facebook"],
                   person=item.author_name, case_ref="S-7")
    actions.place_hold(actor=desk["officer"], reason="Sag", case_ref="S-7")
    retention.apply_retention()
    assert not redacted(item)
    assert redacted(inbox["mette"])


def test_a_released_hold_lets_the_next_run_redact(desk, inbox):
    hold = actions.place_hold(actor=desk["officer"], reason="Klage",
                              person="Jens Holm")
    retention.apply_retention()
    assert not redacted(inbox["jens"])
    actions.release_hold(hold, actor=desk["officer"])
    assert retention.apply_retention().redacted == 1
    assert redacted(inbox["jens"])


def test_a_hold_placed_while_the_job_runs_still_holds(desk, inbox, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 1)
    real = retention._redact_items

    def hold_before_the_last_batch(org_id, ids, **kw):
        if ids == [inbox["jens"].pk]:
            actions.place_hold(actor=desk["officer"], reason="Ny klage",
                               person="Jens Holm")
        return real(org_id, ids, **kw)

    monkeypatch.setattr(retention, "_redact_items", hold_before_the_last_batch)
    assert retention.apply_retention().redacted == 2
    assert not redacted(inbox["jens"])


def test_a_killed_job_resumes_and_redacts_the_rest(desk, inbox, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    assert retention.apply_retention(stop_after=1).redacted == 2
    assert retention.apply_retention().redacted == 1
    assert InboxItem.objects.filter(redacted_at__isnull=False).count() == 3


def test_an_erasure_redacts_the_persons_items_that_no_hold_covers(desk, inbox):
    young = inbox["young"]
    actions.place_hold(actor=desk["officer"], reason="Sag",
                       period_start=young.created_at - timedelta(seconds=1))
    erasure = retention.erase_person(actor=desk["officer"], person="JENS HOLM",
                                     reason="Borgerens anmodning")
    assert (erasure.inbox_redacted, erasure.inbox_held_back) == (1, 1)
    assert redacted(inbox["jens"])
    assert not redacted(young)
    assert not redacted(inbox["mette"])
    assert ErasureRequest.objects.get().inbox_redacted == 1


BEFORE = [("records", "0001_initial"), ("inbox", "0001_initial")]
AFTER = [("inbox", "0004_legal_hold_moves_to_records")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def newest_schema_afterwards():
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("newest_schema_afterwards")
def test_the_inbox_flag_becomes_a_records_hold_on_the_person():
    apps = _migrate(BEFORE)
    Organisation = apps.get_model("organisations", "Organisation")
    Channel = apps.get_model("channels", "Channel")
    Conversation = apps.get_model("inbox", "Conversation")
    Item = apps.get_model("inbox", "InboxItem")
    Administration = apps.get_model("organisations", "Administration")
    org = Organisation.objects.create(name="Kommune", slug="kommune")
    kff = Administration.objects.create(organisation=org, code="KFF", name="K")
    channel = Channel.objects.create(organisation=org, network="facebook",
                                     display_name="FB", owner_administration=kff)
    conversation = Conversation.objects.create(organisation=org, channel=channel,
                                               key="c:1")
    now = timezone.now()

    def item(remote_id, author, hold):
        return Item.objects.create(
            organisation=org, channel=channel, network="facebook",
            conversation=conversation, remote_id=remote_id, kind="comment",
            author_name=author, author_id="", text="t", created_at=now,
            legal_hold=hold)

    item("1", "Jens Holm", True)
    item("2", "jens holm", True)
    item("3", "", True)
    item("4", "Mette", False)
    _migrate(AFTER)
    holds = LegalHold.objects.filter(organisation_id=org.pk).order_by("pk")
    assert [(h.person, h.period_start is not None) for h in holds] == [
        ("Jens Holm", False), ("", True)]
    assert all(f"samtale {conversation.pk}" in h.reason for h in holds)
    assert all(h.is_active for h in holds)


def test_a_message_conversation_keeps_its_key_until_none_of_its_items_is_personal(
    desk, inbox
):
    """Retention of the old message only: the thread goes on under the
    citizen's id while a newer message of theirs is kept; when that one is
    redacted too, the key no longer names them."""
    from kanal.inbox.models import Conversation

    channel = desk["facebook"]
    old = aged(citizen_item(channel, "CPR 010190-1234", kind="message",
                            author="Søren Ørn"), 40)
    citizen_item(channel, "Hej igen", kind="message", author="Søren Ørn")
    key = old.conversation.key
    assert key == "dm:author-Søren-Ørn"
    retention.apply_retention()
    assert redacted(old)
    assert Conversation.objects.get(pk=old.conversation_id).key == key
    retention.erase_person(actor=desk["officer"], person="Søren Ørn",
                           reason="Borgerens anmodning")
    conversation = Conversation.objects.get(pk=old.conversation_id)
    assert conversation.key == f"redacted:{conversation.pk}"
    assert not Conversation.objects.filter(key=key).exists()


def test_kept_webhook_bodies_are_deleted_after_the_shortest_period_and_erased(
    desk, inbox
):
    """A processed body is emptied at once; a failed one is kept for the
    operator, deleted after 30 days, and blanked by an erasure naming its
    citizen (also as JSON writes a name: \\u00f8 for ø)."""
    import json

    from kanal.inbox import intake
    from kanal.inbox.models import DeliveryStatus, WebhookDelivery

    def failed(name, days):
        row = WebhookDelivery.objects.create(
            network="facebook", status=DeliveryStatus.FAILED,
            body=json.dumps({"from": {"name": name}, "message": "CPR 010190-1234"}))
        WebhookDelivery.objects.filter(pk=row.pk).update(
            received_at=timezone.now() - timedelta(days=days))
        return row.pk

    failed("Jens Holm", 31)  # past 30 days: deleted
    young = failed("Søren Ørn", 2)
    pending = WebhookDelivery.objects.create(network="facebook", body="{}")
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        received_at=timezone.now() - timedelta(days=90))
    retention.apply_retention()
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        young, pending.pk}
    retention.erase_person(actor=desk["officer"], person="Søren Ørn",
                           reason="Borgerens anmodning")
    assert WebhookDelivery.objects.get(pk=young).body == ""
    intake.process_deliveries()
    assert WebhookDelivery.objects.get(pk=pending.pk).body == ""
