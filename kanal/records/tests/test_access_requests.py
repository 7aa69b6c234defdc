"""Access requests: literal search, withholding, redaction, the package."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from kanal.records import actions, capture
from kanal.records.export import run_export
from kanal.records.models import (
    AccessExport,
    AccessRequest,
    ExportStatus,
    RecordMedia,
)


@pytest.fixture
def recorded(desk, published, stored_image):
    """Four posts in the record over the last weeks."""
    image = stored_image()
    pubs = {
        "bath": published(desk["facebook"], "Havnebadet på Islands Brygge åbner. "
                          "Spørg Jens Hansen, tlf. 12345678", media=[image]),
        "markup": published(desk["facebook"], "Se <b>havnebad</b> (.*) i aften"),
        "x": published(desk["x"], "HAVNEBAD lukket pga. alger", ago=timedelta(days=5)),
        "other": published(desk["x"], "Bibliotekerne holder åbent"),
        "old": published(desk["facebook"], "Havnebad sidste år",
                         ago=timedelta(days=400)),
    }
    return {k: capture.capture_publication(p) for k, p in pubs.items()}


def _build(desk, **kw):
    today = timezone.localdate()
    values = dict(title="Aktindsigt om havnebad", requester="Journalist",
                  case_ref="2026-123", period_start=today - timedelta(days=30),
                  period_end=today, search_words=["havnebad"])
    values.update(kw)
    return actions.build_access_request(actor=desk["officer"], **values)


def test_search_words_are_literal_and_case_insensitive(desk, recorded):
    access = _build(desk)
    found = set(access.items.values_list("entry_id", flat=True))
    assert found == {recorded["bath"].pk, recorded["markup"].pk, recorded["x"].pk}
    # Markup and pattern characters are looked for as written.
    for word, expected in (("<b>", {"markup"}), ("(.*)", {"markup"}),
                           (".*", {"markup"}), ("%", set()), ("_", set())):
        access = _build(desk, search_words=[word])
        assert set(access.items.values_list("entry_id", flat=True)) == {
            recorded[k].pk for k in expected}, word


def test_case_is_ignored_for_danish_letters_too(desk, published):
    entry = capture.capture_publication(
        published(desk["facebook"], "ÆBLEGRØD på Østerbro"))
    for word in ("æblegrød", "østerbro", "ÆBLEGRØD PÅ"):
        access = _build(desk, search_words=[word])
        assert list(access.items.values_list("entry_id", flat=True)) == [
            entry.pk], word


def test_channels_administrations_and_period_narrow_the_search(desk, recorded):
    assert set(_build(desk, channels=[desk["x"]]).items.values_list(
        "entry_id", flat=True)) == {recorded["x"].pk}
    assert set(_build(desk, administrations=[desk["kff"]]).items.values_list(
        "entry_id", flat=True)) == {recorded["bath"].pk, recorded["markup"].pk}
    today = timezone.localdate()
    year = _build(desk, period_start=today - timedelta(days=500))
    assert recorded["old"].pk in set(year.items.values_list("entry_id", flat=True))


def test_the_form_refuses_a_period_over_ten_years_in_danish(desk, client_for):
    client = client_for(desk["officer"])
    response = client.post("/journal/aktindsigt/ny/", {
        "title": "For meget", "period_start": "2014-01-01",
        "period_end": "2026-01-01"})
    assert response.status_code == 400
    assert "Perioden må højst være ti år" in response.content.decode()


def test_too_many_found_is_a_clear_400(desk, recorded, client_for, monkeypatch):
    monkeypatch.setattr(actions, "MAX_FOUND", 2)
    today = timezone.localdate()
    response = client_for(desk["officer"]).post("/journal/aktindsigt/ny/", {
        "title": "Bredt", "period_start": str(today - timedelta(days=30)),
        "period_end": str(today), "search_words": "havnebad"})
    assert response.status_code == 400
    assert "Søgningen finder mere end 2 journalposter" in response.content.decode()


def _ask(client, **fields):
    today = timezone.localdate()
    return client.post("/journal/aktindsigt/ny/", {
        "title": "Metro", "period_start": str(today - timedelta(days=30)),
        "period_end": str(today), **fields})


def test_a_21st_search_word_is_refused_in_danish_not_dropped(
    desk, published, client_for
):
    capture.capture_publication(
        published(desk["facebook"], "Borgermøde om metroen på Amager"))
    words = [f"ord{n}" for n in range(20)] + ["metroen"]
    client = client_for(desk["officer"])
    response = _ask(client, search_words="\n".join(words))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Skriv højst 20 søgeord; der er 21." in page
    assert "metroen" in page  # what was typed is kept in the form
    assert not AccessRequest.objects.exists()
    # Twenty (the same word twice counts once) are searched, every one.
    response = _ask(client, search_words="\n".join([*words[1:], "ord1"]))
    assert response.status_code == 302
    access = AccessRequest.objects.get()
    assert access.search_words == words[1:] and access.found == 1


@pytest.mark.parametrize("field, message", [
    ("search_words", "Et søgeord må højst være 200 tegn; „xxxxxxxx"),
    ("persons", "Et navn må højst være 200 tegn; „xxxxxxxx"),
])
def test_a_search_word_or_name_too_long_is_refused_not_cut(
    desk, client_for, field, message
):
    response = _ask(client_for(desk["officer"]), **{field: "x" * 201})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "er 201" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_201st_person_is_refused_not_dropped(desk, client_for):
    persons = "\n".join(f"borger{n}" for n in range(201))
    response = _ask(client_for(desk["officer"]), persons=persons)
    assert response.status_code == 400
    assert "Skriv højst 200 personer; der er 201." in response.content.decode()
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("terms, message", [
    ({"search_words": [f"ord{n}" for n in range(21)]}, "højst 20 søgeord"),
    ({"persons": [f"p{n}" for n in range(201)]}, "højst 200 personer"),
    ({"search_words": ["x" * 201]}, "højst være 200 tegn"),
    ({"persons": ["x" * 201]}, "højst være 200 tegn"),
])
def test_the_action_refuses_what_the_form_refuses(desk, terms, message):
    from kanal.core.safety import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        _build(desk, **terms)
    assert not AccessRequest.objects.exists()


def test_building_through_the_page_shows_what_was_found(desk, recorded, client_for):
    client = client_for(desk["officer"])
    today = timezone.localdate()
    response = client.post("/journal/aktindsigt/ny/", {
        "title": "Havnebad", "period_start": str(today - timedelta(days=30)),
        "period_end": str(today), "search_words": "<script>alert(1)</script>\nhavnebad",
        "channels": [desk["facebook"].pk]}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Havnebadet på Islands Brygge" in html
    assert "HAVNEBAD lukket" not in html  # the X channel was not chosen
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_withheld_content_is_seen_only_by_records_officers(
    desk, recorded, client_for
):
    access = _build(desk)
    item = access.items.get(entry=recorded["bath"])
    officer = client_for(desk["officer"])
    response = officer.post(f"/journal/aktindsigt/{access.pk}/post/{item.pk}/undtag/",
                            {"ground": "ofl_30_1", "note": "Borgerens telefon"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.withheld and item.ground == "ofl_30_1"
    html = officer.get(f"/journal/aktindsigt/{access.pk}/").content.decode()
    assert "Islands Brygge" in html and "§ 30, nr. 1" in html
    editor = client_for(desk["editor"])
    html = editor.get(f"/journal/aktindsigt/{access.pk}/").content.decode()
    assert "Islands Brygge" not in html
    assert "§ 30, nr. 1" in html
    assert "Indholdet vises kun for journalansvarlige" in html
    # Editors may not withhold.
    other = access.items.get(entry=recorded["x"])
    assert editor.post(f"/journal/aktindsigt/{access.pk}/post/{other.pk}/undtag/",
                       {"ground": "ofl_30_1"}).status_code == 403


def test_a_withheld_entry_is_hidden_from_the_record_for_other_readers(
    desk, recorded, client_for, member
):
    from kanal.organisations.roles import Role

    admin = member(Role.ADMIN, administration=desk["kff"])
    access = _build(desk)
    actions.withhold_item(access.items.get(entry=recorded["bath"]),
                          actor=desk["officer"], ground="ofl_30_1")
    client = client_for(admin)
    assert client.get(f"/journal/post/{recorded['bath'].pk}/").status_code == 404
    assert "Islands Brygge" not in client.get("/journal/").content.decode()
    assert client.get(f"/journal/post/{recorded['x'].pk}/").status_code == 200
    officer = client_for(desk["officer"])
    assert officer.get(f"/journal/post/{recorded['bath'].pk}/").status_code == 200


def test_withholding_needs_a_ground(desk, recorded, client_for):
    access = _build(desk)
    item = access.items.first()
    response = client_for(desk["officer"]).post(
        f"/journal/aktindsigt/{access.pk}/post/{item.pk}/undtag/", {"ground": ""})
    assert response.status_code == 400
    item.refresh_from_db()
    assert not item.withheld


def test_redaction_blacks_out_the_passage_for_everyone_but_the_officer(
    desk, recorded, client_for
):
    access = _build(desk)
    item = access.items.get(entry=recorded["bath"])
    officer = client_for(desk["officer"])
    url = f"/journal/aktindsigt/{access.pk}/post/{item.pk}/overstreg/"
    assert officer.post(url, {"passage": "ikke i teksten", "ground": "ofl_30_1"}
                        ).status_code == 400
    assert officer.post(url, {"passage": "Jens Hansen, tlf. 12345678",
                              "ground": "ofl_30_1"}).status_code == 302
    html = client_for(desk["editor"]).get(
        f"/journal/aktindsigt/{access.pk}/").content.decode()
    assert "12345678" not in html
    assert "█████ overstreget (1)" in html
    # The record itself is untouched.
    recorded["bath"].refresh_from_db()
    assert "12345678" in recorded["bath"].text


def test_the_package_holds_no_withheld_or_redacted_content_and_verifies(
    desk, recorded
):
    access = _build(desk)
    withheld = access.items.get(entry=recorded["x"])
    actions.withhold_item(withheld, actor=desk["officer"], ground="ofl_30_1")
    actions.redact_item(access.items.get(entry=recorded["bath"]),
                        actor=desk["officer"], passage="12345678", ground="ofl_30_1")
    export = actions.start_export(access, actor=desk["officer"])
    export = run_export(export.pk)
    assert export.status == ExportStatus.DONE and export.percent == 100
    pdf = default_storage.open(export.pdf_path).read()
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == export.pdf_sha256
    archive = zipfile.ZipFile(io.BytesIO(default_storage.open(export.zip_path).read()))
    manifest = json.loads(archive.read("manifest.json"))
    for name, sha in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha, name
    media = [n for n in archive.namelist() if n.startswith("media/")]
    assert len(media) == 1
    assert manifest["missing_media"] == []
    items = json.loads(archive.read("items.json"))["items"]
    text = archive.read("items.json").decode()
    assert "HAVNEBAD lukket" not in text
    assert "12345678" not in text
    hidden = next(i for i in items if i["id"] == recorded["x"].pk)
    assert hidden["withheld"] and hidden["ground"] == "ofl_30_1"
    assert "content" not in hidden
    sums = archive.read("SHA256SUMS").decode()
    assert f"{manifest['files']['items.json']}  items.json" in sums


def test_the_pdf_reads_in_danish_with_page_numbers(desk, recorded):
    from pypdf import PdfReader

    access = _build(desk)
    actions.withhold_item(access.items.get(entry=recorded["x"]),
                          actor=desk["officer"], ground="ofl_30_1")
    export = run_export(actions.start_export(access, actor=desk["officer"]).pk)
    reader = PdfReader(io.BytesIO(default_storage.open(export.pdf_path).read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Aktindsigt" in text
    assert "Side 1 af" in text
    assert "Havnebadet på Islands Brygge" in text
    assert "HAVNEBAD lukket" not in text
    assert "Undtaget" in text and "§ 30, nr. 1" in text


def test_missing_media_is_reported_not_fatal(desk, recorded):
    RecordMedia.objects.all().delete()
    access = _build(desk)
    export = run_export(actions.start_export(access, actor=desk["officer"]).pk)
    assert export.status == ExportStatus.DONE
    assert export.missing_media == 1
    archive = zipfile.ZipFile(io.BytesIO(default_storage.open(export.zip_path).read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["missing_media"][0]["item"] == recorded["bath"].pk


def test_two_officers_exporting_at_once_each_get_their_own(desk, recorded, member):
    from kanal.organisations.roles import Role

    second = member(Role.RECORDS_OFFICER, administration=desk["kff"])
    access = _build(desk)
    first = actions.start_export(access, actor=desk["officer"])
    other = actions.start_export(access, actor=second)
    run_export(other.pk)
    run_export(first.pk)
    first.refresh_from_db()
    other.refresh_from_db()
    assert first.status == other.status == ExportStatus.DONE
    assert first.pdf_path != other.pdf_path and first.zip_path != other.zip_path
    assert default_storage.exists(first.pdf_path)
    assert default_storage.exists(other.pdf_path)
    # A run of a finished export does nothing.
    assert run_export(first.pk).pdf_path == first.pdf_path


def test_export_progress_and_download_through_the_pages(
    desk, recorded, client_for, django_capture_on_commit_callbacks
):
    client = client_for(desk["officer"])
    access = _build(desk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/journal/aktindsigt/{access.pk}/eksport/")
    export = AccessExport.objects.get()
    assert response["Location"] == f"/journal/eksport/{export.pk}/"
    status = client.get(f"/journal/eksport/{export.pk}/",
                        HTTP_ACCEPT="application/json").json()
    assert status == {"status": "done", "running": False, "percent": 100,
                      "message": status["message"]}
    pdf = client.get(f"/journal/eksport/{export.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    from kanal.core.models import AuditEntry

    events = list(AuditEntry.objects.filter(event__startswith="records.access_export")
                  .order_by("seq").values_list("event", flat=True))
    assert events == ["records.access_export.started",
                      "records.access_export.finished",
                      "records.access_export.downloaded"]
    assert client.get(f"/journal/eksport/{export.pk}/exe/").status_code == 404


def test_progress_is_reported_while_the_export_runs(desk, recorded, monkeypatch):
    from kanal.records import export as export_module

    seen = []
    real = export_module._progress

    def spy(export_id, done, total):
        real(export_id, done, total)
        seen.append(AccessExport.objects.get(pk=export_id).percent)

    monkeypatch.setattr(export_module, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(export_module, "_progress", spy)
    access = _build(desk)
    run_export(actions.start_export(access, actor=desk["officer"]).pk)
    assert seen[0] == 0
    assert any(0 < p < 100 for p in seen)
    assert seen == sorted(seen)


def test_the_search_can_use_a_trigram_index_on_postgresql(desk, recorded):
    """On PostgreSQL the literal word (``search_text LIKE '%word%'``) can be
    answered by the trigram index (the planner is kept off the table scan,
    which it prefers for a few rows). SQLite's index is an FTS5 table
    (``test_search_index.py``)."""
    from django.db import connection

    from kanal.records.selectors import search

    today = timezone.localdate()
    found = search(organisation=desk["officer"].organisation,
                   period_start=today - timedelta(days=30), period_end=today,
                   words=["havnebad"])
    assert found.count() == 3
    if connection.vendor != "postgresql":
        return
    sql, _params = found.values("pk").query.sql_with_params()
    assert "search_text" in sql and " LIKE " in sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes "
                       "WHERE indexname = 'record_search_trgm'")
        [(definition,)] = cursor.fetchall()
        assert "gin (search_text gin_trgm_ops)" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM records_recordentry "
                       "WHERE search_text LIKE %s", ["%havnebad%"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "record_search_trgm" in plan


def test_facts_taller_than_a_page_still_make_the_package(desk, published):
    """The facts (title, search words, channels) are as long as the form
    allows, and then some channels: the table splits across pages."""
    from pypdf import PdfReader

    from kanal.channels.tests.factories import ChannelFactory

    capture.capture_publication(published(desk["facebook"], "Havnebad"))
    words = ["havnebad"] + [("W " * 100)[:198] + f"{n:02d}" for n in range(19)]
    channels = [desk["facebook"]] + [
        ChannelFactory(organisation=desk["facebook"].organisation,
                       network="mastodon", display_name=f"{n} " + "Kanal " * 32)
        for n in range(40)]
    access = _build(desk, title="W " * 99, search_words=words, channels=channels)
    export = run_export(actions.start_export(access, actor=desk["officer"]).pk)
    assert export.status == ExportStatus.DONE, export.error
    reader = PdfReader(io.BytesIO(default_storage.open(export.pdf_path).read()))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 3
    assert "39 Kanal" in text and "Havnebad" in text
