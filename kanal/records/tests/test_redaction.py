"""Redacting passages for the requester: every redaction is kept, however
the officers' requests interleave, and a redacted passage is in no field of
what the requester gets."""

from __future__ import annotations

import contextlib
import threading
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from kanal.organisations.roles import Role
from kanal.records import actions, capture
from kanal.records.export import run_export
from kanal.records.models import AccessRequestItem, WithholdingGround

GROUND = WithholdingGround.THIRD_PARTY


def _request_for(desk, word="havnebad"):
    today = timezone.localdate()
    return actions.build_access_request(
        actor=desk["officer"], title="Havnebad", requester="Journalist",
        case_ref="1", period_start=today - timedelta(days=30), period_end=today,
        search_words=[word])


def _archive(access, desk) -> dict[str, bytes]:
    export = run_export(actions.start_export(access, actor=desk["officer"]).pk)
    with default_storage.open(export.zip_path, "rb") as handle, \
            zipfile.ZipFile(handle) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _loaded(access):
    """The item as a request's ``views._item`` loads it."""
    return AccessRequestItem.objects.select_related("entry", "request").get(
        request=access)


@pytest.mark.django_db
def test_two_redactions_from_stale_copies_are_both_kept(desk, published, member):
    capture.capture_publication(published(
        desk["facebook"], "Havnebad: spørg Jens Hansen, tlf. 12345678"))
    access = _request_for(desk)
    second_officer = member(Role.RECORDS_OFFICER, administration=desk["kff"])
    # Each officer's request loaded the item before the other saved.
    seen_by_first, seen_by_second = _loaded(access), _loaded(access)
    actions.redact_item(seen_by_first, actor=desk["officer"], passage="Jens Hansen",
                        ground=GROUND)
    actions.redact_item(seen_by_second, actor=second_officer, passage="12345678",
                        ground=GROUND)
    kept = [r["text"] for r in _loaded(access).redactions]
    assert kept == ["Jens Hansen", "12345678"]
    archive = _archive(access, desk)
    assert not [n for n, data in archive.items()
                if b"Jens Hansen" in data or b"12345678" in data]


@pytest.mark.django_db(transaction=True)
def test_two_redactions_at_the_same_moment_are_both_kept(
    desk, published, member, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers")
    capture.capture_publication(published(
        desk["facebook"], "Havnebad: spørg Jens Hansen, tlf. 12345678"))
    access = _request_for(desk)
    officers = [desk["officer"], member(Role.RECORDS_OFFICER,
                                        administration=desk["kff"])]
    # Both requests reach the save at once unless one waits for the other's
    # row lock (then the first goes on after a moment).
    barrier = threading.Barrier(2)
    real_save = AccessRequestItem.save

    def save(self, *args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(AccessRequestItem, "save", save)
    errors = []

    def redact(officer, passage):
        from django.db import connections

        try:
            actions.redact_item(_loaded(access), actor=officer, passage=passage,
                                ground=GROUND)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redact, args=args)
               for args in zip(officers, ["Jens Hansen", "12345678"], strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    kept = sorted(r["text"] for r in _loaded(access).redactions)
    assert kept == ["12345678", "Jens Hansen"]


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_a_redacted_name_is_in_no_field_and_no_file_of_the_package(desk):
    from kanal.inbox.tests.factories import citizen_item
    from kanal.records import inbox_capture

    item = citizen_item(desk["facebook"],
                        "Jeg hedder Mette Hansen og bor ved havnebadet",
                        author="Mette Hansen")
    inbox_capture.record_item(item)
    access = _request_for(desk, "havnebadet")
    actions.redact_item(_loaded(access), actor=desk["officer"],
                        passage="Mette Hansen", ground=GROUND)
    archive = _archive(access, desk)
    assert [n for n, data in archive.items() if b"Mette Hansen" in data] == []
    assert "Mette Hansen" not in _pdf_text(archive["aktindsigt.pdf"])
    import json

    content = json.loads(archive["items.json"])["items"][0]["content"]
    assert content["author_name"] == "[█████ overstreget (1)]"
    assert "Mette Hansen" not in content["author_id"]


@pytest.mark.django_db
def test_a_name_that_is_only_the_author_can_be_redacted(desk, client_for):
    from kanal.inbox.tests.factories import citizen_item
    from kanal.records import inbox_capture

    inbox_capture.record_item(citizen_item(
        desk["facebook"], "Hvornår åbner havnebadet?", author="Mette Hansen"))
    access = _request_for(desk, "havnebadet")
    item = _loaded(access)
    officer = client_for(desk["officer"])
    response = officer.post(
        f"/journal/aktindsigt/{access.pk}/post/{item.pk}/overstreg/",
        {"passage": "Mette Hansen", "ground": GROUND})
    assert response.status_code == 302
    assert [r["text"] for r in _loaded(access).redactions] == ["Mette Hansen"]
    # Nor do the access request's pages show it to anyone but the officer.
    page = client_for(desk["editor"]).get(f"/journal/aktindsigt/{access.pk}/")
    assert "Mette Hansen" not in page.content.decode()
    archive = _archive(access, desk)
    assert [n for n, data in archive.items() if b"Mette Hansen" in data] == []


def test_overlapping_passages_leave_no_part_of_either_in_clear():
    from kanal.records.selectors import redacted_text

    redactions = [{"text": "Mette"}, {"text": "Mette Hansen"},
                  {"text": "Hansen, tlf"}]
    assert redacted_text("Spørg Mette Hansen, tlf. 1234, eller Mette.",
                         redactions) == (
        "Spørg [█████ overstreget (1, 2, 3)]. 1234, eller "
        "[█████ overstreget (1)].")


@pytest.mark.django_db
def test_a_redacted_item_carries_no_hash_to_confirm_a_guess_with(desk, published):
    import json

    entry = capture.capture_publication(published(
        desk["facebook"], "Havnebad: ring på tlf. 12345678"))
    access = _request_for(desk)
    rows = json.loads(_archive(access, desk)["items.json"])["items"]
    assert rows[0]["content_sha256"] == entry.content_hash
    actions.redact_item(_loaded(access), actor=desk["officer"],
                        passage="12345678", ground=GROUND)
    rows = json.loads(_archive(access, desk)["items.json"])["items"]
    assert rows[0]["content_sha256"] is None
