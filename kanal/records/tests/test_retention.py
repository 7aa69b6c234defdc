"""Retention: periods, legal holds, the deletion job (and its resumption),
erasure requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from kanal.records import actions, retention
from kanal.records.models import (
    ErasureRequest,
    LegalHold,
    RecordEntry,
    RecordKind,
    RecordTombstone,
    RetentionRule,
)


@pytest.fixture
def comments(organisation, desk):
    """Twelve citizen comments, 400 days old, and one from yesterday."""
    old = timezone.now() - timedelta(days=400)
    made = []
    for n in range(12):
        made.append(actions.record(
            organisation=organisation, kind="comment", source="inbox",
            source_key=f"inbox.item:{n}", content={"text": f"Kommentar {n}"},
            occurred_at=old + timedelta(minutes=n), channel=desk["facebook"],
            person="borger-a" if n < 3 else "borger-b",
            case_ref="S-1" if n in (3, 4) else "",
        ))
    made.append(actions.record(
        organisation=organisation, kind="comment", source="inbox",
        source_key="inbox.item:new", content={"text": "Ny"},
        occurred_at=timezone.now() - timedelta(days=1), channel=desk["facebook"],
        person="borger-a"))
    actions.set_retention(actor=desk["officer"], kind=RecordKind.COMMENT,
                          keep_days=365)
    return made


def test_dry_run_counts_and_deletes_nothing(comments):
    assert retention.apply_retention(dry_run=True).deleted == 12
    assert RecordEntry.objects.count() == 13
    assert not RecordTombstone.objects.exists()


def test_due_entries_are_deleted_with_a_tombstone_each(comments):
    assert retention.apply_retention().deleted == 12
    assert list(RecordEntry.objects.values_list("source_key", flat=True)) == [
        "inbox.item:new"]
    stone = RecordTombstone.objects.get(entry_id=comments[0].pk)
    assert stone.policy == "retention:comment:365d"
    assert stone.content_hash == comments[0].content_hash
    assert "Opbevaringsperioden" in stone.reason
    assert RecordTombstone.objects.count() == 12
    assert retention.apply_retention().deleted == 0  # nothing twice


def test_other_kinds_are_kept_without_a_rule(desk, published, comments):
    from kanal.records import capture

    post = capture.capture_publication(
        published(desk["facebook"], "Gammelt opslag", ago=timedelta(days=900)))
    retention.apply_retention()
    assert RecordEntry.objects.filter(pk=post.pk).exists()


@pytest.mark.parametrize("hold", [
    {"case_ref": "S-1"},
    {"person": "BORGER-A"},
    {"period_start": "first", "period_end": "first"},
])
def test_a_legal_hold_stops_a_deletion(desk, comments, hold):
    if "period_start" in hold:
        hold = {"period_start": comments[0].occurred_at - timedelta(seconds=1),
                "period_end": comments[0].occurred_at + timedelta(seconds=1)}
    placed = actions.place_hold(actor=desk["officer"], reason="Klagesag", **hold)
    deleted = retention.apply_retention().deleted
    covered = set(RecordEntry.objects.filter(placed.q()).values_list(
        "pk", flat=True))
    assert covered
    assert deleted == 12 - len(covered & {c.pk for c in comments[:12]})
    assert not RecordTombstone.objects.filter(entry_id__in=covered).exists()
    # Released, the next run deletes what is due.
    actions.release_hold(placed, actor=desk["officer"])
    retention.apply_retention()
    assert RecordEntry.objects.count() == 1


def test_a_hold_placed_while_the_job_runs_still_holds(desk, comments, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 4)
    real = retention._delete_batch
    calls = []

    def hold_after_first_batch(ids, **kw):
        calls.append(ids)
        if len(calls) == 2:
            actions.place_hold(actor=desk["officer"], reason="Ny klage",
                               person="borger-b")
        return real(ids, **kw)

    monkeypatch.setattr(retention, "_delete_batch", hold_after_first_batch)
    retention.apply_retention()
    # The first batch (borger-a ×3, one of borger-b) went; the rest of
    # borger-b's comments were held by the new hold.
    assert RecordEntry.objects.filter(person="borger-b").count() == 8


def test_a_killed_job_resumes_without_deleting_twice_or_losing_a_hold(
    desk, comments, monkeypatch
):
    monkeypatch.setattr(retention, "BATCH", 5)
    hold = actions.place_hold(actor=desk["officer"], reason="Sag", case_ref="S-1")
    # Killed after its first batch: that batch is committed whole.
    assert retention.apply_retention(stop_after=1).deleted == 5
    assert RecordTombstone.objects.count() == 5
    assert RecordEntry.objects.count() == 8
    # The next run finds the rest; the held two stay, no tombstone twice.
    assert retention.apply_retention().deleted == 5
    assert RecordTombstone.objects.count() == 10
    assert len(set(RecordTombstone.objects.values_list("entry_id", flat=True))) == 10
    assert set(RecordEntry.objects.values_list("case_ref", flat=True)) == {"S-1", ""}
    assert LegalHold.objects.get(pk=hold.pk).is_active


def test_entries_in_an_open_access_request_are_kept(desk, comments):
    today = timezone.localdate()
    access = actions.build_access_request(
        actor=desk["officer"], title="Aktindsigt", requester="", case_ref="",
        period_start=today - timedelta(days=500), period_end=today,
        search_words=["Kommentar 1"])
    kept = set(access.items.values_list("entry_id", flat=True))
    assert kept
    retention.apply_retention()
    assert kept <= set(RecordEntry.objects.values_list("pk", flat=True))
    # Closed, its entries go when their period has run out (and leave it).
    actions.close_access_request(access, actor=desk["officer"])
    retention.apply_retention()
    assert not RecordEntry.objects.filter(pk__in=kept).exists()
    assert not access.items.exists()


def test_management_command_with_dry_run(comments, capsys):
    call_command("apply_retention", "--dry-run")
    assert "12 journalposter ville blive slettet" in capsys.readouterr().out
    assert RecordEntry.objects.count() == 13
    call_command("apply_retention")
    assert "12 journalposter er slettet" in capsys.readouterr().out
    assert RecordEntry.objects.count() == 1


def test_the_periodic_job_is_registered():
    from kanal.publishing.periodic import PERIODIC_JOBS

    names = {job.name for job in PERIODIC_JOBS}
    assert {"records_retention", "records_capture_published"} <= names


def test_erasure_request_is_one_action_with_its_own_record(desk, comments):
    actions.place_hold(actor=desk["officer"], reason="Sag", case_ref="S-1")
    erasure = retention.erase_person(actor=desk["officer"], person="Borger-B",
                                     reason="Borgeren bad om det")
    # Nine comments of borger-b; two of them are on the held case S-1.
    assert (erasure.deleted, erasure.held_back) == (7, 2)
    assert RecordEntry.objects.filter(person="borger-b").count() == 2
    own = RecordEntry.objects.get(kind=RecordKind.ERASURE)
    assert "borger-b" not in own.text.lower()
    assert "borger-b" not in str(own.content).lower()
    assert own.content["deleted"] == 7
    assert RecordTombstone.objects.filter(policy=f"erasure:{erasure.pk}").count() == 7
    assert ErasureRequest.objects.get().person_hash != "Borger-B"


def test_only_the_records_officer_manages_retention(desk, client_for, comments):
    editor = client_for(desk["editor"])
    assert editor.get("/journal/opbevaring/").status_code == 403
    officer = client_for(desk["officer"])
    response = officer.post("/journal/opbevaring/", {
        "what": "hold", "hold-reason": "Klage", "hold-person": "borger-a"})
    assert response.status_code == 302
    assert LegalHold.objects.get().person == "borger-a"
    response = officer.post("/journal/opbevaring/", {"what": "hold",
                                                     "hold-reason": "Tom"})
    assert response.status_code == 400
    assert "Angiv en sag, en person eller en periode" in response.content.decode()
    response = officer.post("/journal/opbevaring/", {
        "what": "rule", "rule-kind": "message", "rule-keep_days": "30"})
    assert response.status_code == 302
    assert RetentionRule.objects.get(kind="message").keep_days == 30
    officer.post("/journal/opbevaring/", {"what": "apply"})
    assert RecordEntry.objects.filter(person="borger-a").count() == 4
    assert officer.post("/journal/opbevaring/", {"what": "nej"}).status_code == 400


def test_a_person_with_thousands_of_messages(desk, organisation):
    """Found whole by an access request, erased whole in batches."""
    from kanal.records.content import content_hash

    when = timezone.now() - timedelta(days=10)
    RecordEntry.objects.bulk_create([
        RecordEntry(
            organisation=organisation, kind="message", source="inbox",
            source_key=f"inbox.item:{n}", text=f"Besked {n}",
            search_text=f"besked {n}",
            content={"text": f"Besked {n}"},
            content_hash=content_hash({"text": f"Besked {n}"}),
            person="flittig", occurred_at=when + timedelta(seconds=n),
            recorded_at=when, channel=desk["facebook"],
        )
        for n in range(3000)
    ])
    today = timezone.localdate()
    access = actions.build_access_request(
        actor=desk["officer"], title="Alt om én", requester="", case_ref="",
        period_start=today - timedelta(days=30), period_end=today,
        persons=["FLITTIG"])
    assert access.found == 3000 == access.items.count()
    actions.close_access_request(access, actor=desk["officer"])
    erasure = retention.erase_person(actor=desk["officer"], person="flittig",
                                     reason="Anmodning")
    assert erasure.deleted == 3000
    assert not RecordEntry.objects.filter(person="flittig").exists()
    assert RecordTombstone.objects.filter(policy=f"erasure:{erasure.pk}").count() == (
        3000)


def test_one_organisation_that_fails_does_not_stop_the_others(
    organisation, desk, monkeypatch
):
    from kanal.inbox.models import InboxItem, InboxSettings
    from kanal.inbox.tests.factories import citizen_item
    from kanal.organisations.roles import Role
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        MembershipFactory,
        OrganisationFactory,
    )

    other = OrganisationFactory(name="Andenkommune", slug="anden")
    other_officer = MembershipFactory(
        organisation=other, role=Role.RECORDS_OFFICER,
        administration=AdministrationFactory(organisation=other, code="X"))
    old = timezone.now() - timedelta(days=400)
    for org, officer in ((organisation, desk["officer"]), (other, other_officer)):
        actions.record(organisation=org, kind="comment", source="inbox",
                       source_key="inbox.item:gammel", content={"text": "Gammel"},
                       occurred_at=old)
        actions.set_retention(actor=officer, kind=RecordKind.COMMENT, keep_days=30)
    real_delete = retention._delete_batch

    def delete_batch(ids, **kwargs):
        if RecordEntry.objects.filter(pk__in=ids, organisation=organisation).exists():
            raise RuntimeError("a row the database refuses")
        return real_delete(ids, **kwargs)

    monkeypatch.setattr(retention, "_delete_batch", delete_batch)
    # The same for the inbox: the first organisation's redaction fails.
    from kanal.channels.tests.factories import ChannelFactory

    items = {}
    for org in (organisation, other):
        InboxSettings.objects.create(organisation=org, retention_days=30)
        item = citizen_item(ChannelFactory(organisation=org, network="facebook"),
                            "Mit nummer er 12345678", author="Mette Hansen")
        InboxItem.objects.filter(pk=item.pk).update(received_at=old, created_at=old)
        items[org.pk] = item
    real_redact = retention._redact_items

    def redact_items(organisation_id, ids, **kwargs):
        if organisation_id == organisation.pk:
            raise RuntimeError("a row the database refuses")
        return real_redact(organisation_id, ids, **kwargs)

    monkeypatch.setattr(retention, "_redact_items", redact_items)
    assert retention.apply_retention() == (1, 1)
    assert list(RecordEntry.objects.values_list("organisation", flat=True)) == [
        organisation.pk]
    for org, redacted in ((organisation, False), (other, True)):
        item = InboxItem.objects.get(pk=items[org.pk].pk)
        assert (item.redacted_at is not None) is redacted, org
