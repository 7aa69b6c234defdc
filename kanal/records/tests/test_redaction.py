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
