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
