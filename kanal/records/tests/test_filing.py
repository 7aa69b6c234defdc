"""Filing: mark, export per item (PDF + JSON metadata) with a receipt to the
configured folder, list filed and waiting."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from kanal.records import capture, filing, retention
from kanal.records.models import Filing, FilingStatus, RecordEntry, RecordKind


@pytest.fixture
def folder(settings, tmp_path):
    settings.KANAL_RECORDS_FILING_DIR = tmp_path / "sag"
    return tmp_path / "sag"


@pytest.fixture
def entry(desk, published):
    return capture.capture_publication(
        published(desk["facebook"], "Havnebadet åbner", ago=timedelta(days=2)))


def test_marked_entry_is_filed_with_pdf_metadata_and_a_receipt(
    desk, entry, folder, organisation
):
    marked = filing.mark_for_filing(entry, actor=desk["officer"],
                                    case_ref="2026/17 ../x")
    assert marked.status == FilingStatus.WAITING
    assert filing.file_waiting(dry_run=True) == 1
    assert filing.file_waiting() == 1
    marked.refresh_from_db()
    assert marked.status == FilingStatus.FILED and marked.filed_at
    target = folder / organisation.slug / "2026-17-..-x"
    assert target.resolve().is_relative_to(folder.resolve())
    stem = f"kanal-{entry.pk}-v1"
    receipt = json.loads((target / f"{stem}.receipt.json").read_text())
    assert receipt == marked.receipt
    for name, sha in receipt["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == sha
    meta = json.loads((target / f"{stem}.json").read_text())
    assert meta["format"] == "kanal-journalpost/1"
    assert meta["content_sha256"] == entry.content_hash
    assert meta["case_ref"] == "2026/17 ../x"
    assert (target / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    assert not list(target.glob(".tmp-*"))
    assert filing.file_waiting() == 0  # nothing twice


def test_an_unwritable_folder_fails_in_danish_and_is_retried(
    desk, entry, settings, tmp_path
):
    blocker = tmp_path / "fil"
    blocker.write_text("ikke en mappe")
    settings.KANAL_RECORDS_FILING_DIR = blocker
    marked = filing.mark_for_filing(entry, actor=desk["officer"])
    assert filing.file_waiting() == 0
    marked.refresh_from_db()
    assert marked.status == FilingStatus.FAILED
    assert "Mappen til sagssystemet kunne ikke skrives" in marked.error
    settings.KANAL_RECORDS_FILING_DIR = tmp_path / "ok"
    assert filing.file_waiting() == 1


def test_an_entry_waiting_for_filing_is_not_deleted_and_a_filed_one_keeps_its_receipt(
    desk, organisation, folder
):
    from django.utils import timezone

    from kanal.records import actions

    old = actions.record(organisation=organisation, kind="comment", source="inbox",
                         source_key="inbox.item:1", content={"text": "Gammel"},
                         occurred_at=timezone.now() - timedelta(days=900))
    actions.set_retention(actor=desk["officer"], kind=RecordKind.COMMENT,
                          keep_days=30)
    marked = filing.mark_for_filing(old, actor=desk["officer"])
    assert retention.apply_retention().deleted == 0
    filing.file_waiting()
    assert retention.apply_retention().deleted == 1
    marked.refresh_from_db()
    assert marked.entry is None and marked.receipt["entry"] == old.pk
    assert not RecordEntry.objects.exists()


def test_pages_mark_and_list(desk, entry, folder, client_for):
    officer = client_for(desk["officer"])
    response = officer.post(f"/journal/post/{entry.pk}/journaliser/",
                            {"case_ref": "S-9"})
    assert response.status_code == 302
    html = officer.get("/journal/journalisering/").content.decode()
    assert "S-9" in html and "Intet er journaliseret endnu" in html
    officer.post("/journal/journalisering/")
    html = officer.get("/journal/journalisering/").content.decode()
    assert "Intet venter" in html and f"kanal-{entry.pk}-v1.pdf" in html
    assert Filing.objects.get().status == FilingStatus.FILED
    # Filing the same entry twice is refused with a clear answer.
    response = officer.post(f"/journal/post/{entry.pk}/journaliser/")
    assert response.status_code == 400
    assert client_for(desk["editor"]).get("/journal/journalisering/").status_code == 403


@pytest.fixture
def other_officer():
    """The records officer of another organisation."""
    from kanal.organisations.roles import Role
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        MembershipFactory,
        OrganisationFactory,
    )

    other = OrganisationFactory(name="Andenkommune", slug="anden")
    return MembershipFactory(
        organisation=other, role=Role.RECORDS_OFFICER,
        administration=AdministrationFactory(organisation=other, code="X"))


def test_filing_now_files_only_the_officers_own_organisation(
    desk, entry, folder, client_for, other_officer
):
    from kanal.core.models import AuditEntry

    filing.mark_for_filing(entry, actor=desk["officer"], case_ref="2026-1")
    response = client_for(other_officer).post("/journal/journalisering/",
                                              follow=True)
    assert response.status_code == 200
    assert Filing.objects.get(entry=entry).status == FilingStatus.WAITING
    assert [str(m) for m in response.context["messages"]] == [
        "0 poster er lagt i sagssystemets mappe."]
    assert not folder.exists()
    # The organisation's own officer files it, and the audit names them.
    client_for(desk["officer"]).post("/journal/journalisering/")
    assert Filing.objects.get(entry=entry).status == FilingStatus.FILED
    audited = AuditEntry.objects.get(event="records.filing.filed")
    assert audited.actor == desk["officer"].user
    # The periodic job (no actor) still files every organisation's entries.
    other_entry = capture.capture_publication(_published_elsewhere(other_officer))
    filing.mark_for_filing(other_entry, actor=other_officer)
    assert filing.file_waiting() == 1


def _published_elsewhere(officer):
    from django.utils import timezone

    from kanal.channels.tests.factories import ChannelFactory
    from kanal.publishing.models import Publication, PublicationStatus

    when = timezone.now() - timedelta(days=1)
    return Publication.objects.create(
        organisation=officer.organisation,
        channel=ChannelFactory(organisation=officer.organisation, network="x"),
        planned_at=when, due_at=when, late_after=when + timedelta(hours=2),
        text="Andenkommunes nyhed", status=PublicationStatus.PUBLISHED,
        published_at=when, remote_id="r-anden", url="https://example.org/anden")


def test_one_entry_that_cannot_be_filed_does_not_stop_the_others(
    desk, published, folder, monkeypatch
):
    first = capture.capture_publication(published(desk["facebook"], "Havnebadet"))
    second = capture.capture_publication(published(desk["x"], "Biblioteket"))
    filing.mark_for_filing(first, actor=desk["officer"])
    filing.mark_for_filing(second, actor=desk["officer"])
    real = filing._entry_pdf

    def entry_pdf(entry, case_ref):
        if entry.pk == first.pk:
            raise RuntimeError("reportlab gave up")
        return real(entry, case_ref)

    monkeypatch.setattr(filing, "_entry_pdf", entry_pdf)
    assert filing.file_waiting() == 1
    failed = Filing.objects.get(entry=first)
    assert failed.status == FilingStatus.FAILED and failed.attempts == 1
    assert "Posten kunne ikke journaliseres" in failed.error
    assert Filing.objects.get(entry=second).status == FilingStatus.FILED
    monkeypatch.setattr(filing, "_entry_pdf", real)
    assert filing.file_waiting() == 1  # retried at the next run
    assert Filing.objects.get(entry=first).status == FilingStatus.FILED


def test_attempts_are_counted_from_the_row_not_a_stale_copy(
    desk, entry, settings, tmp_path
):
    blocker = tmp_path / "fil"
    blocker.write_text("ikke en mappe")
    settings.KANAL_RECORDS_FILING_DIR = blocker
    filing.mark_for_filing(entry, actor=desk["officer"])
    # Two runs (the periodic job and *Læg i sagssystemet nu*) that loaded
    # the row before either wrote.
    seen_by_job, seen_by_officer = Filing.objects.get(), Filing.objects.get()
    filing.file_one(seen_by_job)
    filing.file_one(seen_by_officer)
    assert Filing.objects.get().attempts == 2


@pytest.mark.parametrize("case_ref, problem", [
    ("2026-1\x00", "Null-tegn er ikke tilladte."),
    ("S-" + "9" * 99, "højst have 100 tegn"),
])
def test_a_case_number_kanal_cannot_keep_is_a_danish_400_not_cut_or_a_500(
    desk, entry, case_ref, problem
):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(desk["officer"].user)
    response = client.post(f"/journal/post/{entry.pk}/journaliser/",
                           {"case_ref": case_ref})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Sagsnummeret kan ikke bruges" in page and problem in page
    assert not Filing.objects.exists()
