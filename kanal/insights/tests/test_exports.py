"""Exports: CSV and XLSX of every table, safe against formula injection;
long exports in the background with progress and a download."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kanal.core.models import AuditEntry
from kanal.insights import exports, selectors, tasks
from kanal.insights.models import ExportJob
from kanal.organisations.roles import Role
from kanal.publishing.periodic import PERIODIC_JOBS

from .factories import metric, published_post

pytestmark = pytest.mark.django_db

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def hostile_world(script, channel):
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    for n, category in enumerate(HOSTILE):
        post = published_post(channel, published_at=now - timedelta(hours=n + 1),
                              category=category)
        script.posts[post.remote_id] = [metric("post_media_view", 10 + n, "views")]
    script.account = [metric("followers_count", 1000, "followers")]
    tasks.collect_metrics(now=now)
    tasks.update_rollups(now=now)
    return now


def test_formula_starts_are_neutralised():
    assert [exports.safe_text(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]
    assert exports.safe_text("Kultur") == "Kultur"


def _post_export(client, **data):
    return client.post(reverse("insights:export"), data)


@pytest.mark.usefixtures("hostile_world")
def test_every_table_exports_as_csv_and_xlsx(member, client_for):
    client = client_for(member(Role.ANALYST))
    for slug in selectors.TABLES:
        for file_format in ("csv", "xlsx"):
            response = _post_export(client, tabel=slug, format=file_format)
            assert response.status_code == 200, (slug, file_format)
            assert response["Content-Disposition"].endswith(f'.{file_format}"')


@pytest.mark.usefixtures("hostile_world")
def test_a_csv_export_is_danish_and_safe(member, client_for):
    client = client_for(member(Role.EDITOR))
    response = _post_export(client, tabel="category", format="csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Indholdskategori", "Opslag", "Visninger"]
    labels = {row[0] for row in rows[1:]}
    assert labels == {"'" + t for t in HOSTILE}


@pytest.mark.usefixtures("hostile_world")
def test_an_xlsx_export_opens_and_keeps_numbers_as_numbers(
    member, client_for, tmp_path
):
    client = client_for(member(Role.EDITOR))
    response = _post_export(client, tabel="category", format="xlsx")
    path = tmp_path / "kategori.xlsx"
    path.write_bytes(response.content)
    sheet = load_workbook(path).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Indholdskategori"
    # XML reads a carriage return back as a line feed.
    assert {row[0] for row in values[1:]} == {
        "'" + t.replace("\r", "\n") for t in HOSTILE
    }
    assert all(isinstance(row[2], int) for row in values[1:])
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        # A spreadsheet program reads it: convert it to CSV headless.
        subprocess.run(
            [soffice, "--headless", "--convert-to", "csv", "--outdir",
             str(tmp_path), str(path)],
            check=True, capture_output=True, timeout=120,
        )
        converted = (tmp_path / "kategori.csv").read_text(encoding="utf-8",
                                                          errors="replace")
        assert "Indholdskategori" in converted


def test_bad_export_input_is_a_danish_400(member, client_for):
    client = client_for(member(Role.EDITOR))
    for data in [{"tabel": "alt", "format": "csv"},
                 {"tabel": "channels", "format": "pdf"},
                 {"tabel": "channels", "format": "csv", "fra": "i morgen"}]:
        response = _post_export(client, **data)
        assert response.status_code == 400
        assert "Eksporten kunne ikke laves" in response.content.decode()


@pytest.mark.usefixtures("hostile_world")
def test_a_long_export_runs_in_the_background_with_progress(
    member, client_for, settings, django_capture_on_commit_callbacks
):
    settings.KANAL_INSIGHTS = {"EXPORT_INLINE_MAX_ROWS": 0}
    analyst = member(Role.ANALYST)
    client = client_for(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_export(client, tabel="category", format="xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("insights:export_job", args=[job.pk])
    # The test settings run tasks at once: the job is done.
    assert (job.status, job.progress, job.requested_by) == ("done", 100, analyst)
    assert AuditEntry.objects.filter(event="insights.export.requested").exists()
    page = client.get(response["Location"]).content.decode()
    assert 'value="100"' in page
    download = client.get(reverse("insights:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert download.content[:2] == b"PK"


def test_a_queued_export_shows_its_progress_and_polls(member, client_for):
    editor = member(Role.EDITOR)
    today = timezone.localdate()
    job = ExportJob.objects.create(
        organisation=editor.organisation, requested_by=editor, table="channels",
        file_format="csv", start=today, end=today, progress=40, status="running",
    )
    client = client_for(editor)
    fragment = client.get(reverse("insights:export_job", args=[job.pk]),
                          HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert 'value="40"' in fragment
    assert client.get(reverse("insights:export_download",
                              args=[job.pk])).status_code == 404


def test_old_exports_and_their_files_are_pruned_after_the_configured_days(
    member, client_for, settings
):
    settings.KANAL_INSIGHTS_EXPORT_RETENTION_DAYS = 3
    analyst = member(Role.ANALYST)
    now = timezone.now()
    today = timezone.localdate()

    def job(age_days: float, status: str) -> ExportJob:
        made = ExportJob.objects.create(
            organisation=analyst.organisation, requested_by=analyst,
            table="channels", file_format="csv", start=today, end=today,
            status=status, content=b"a;b" if status == "done" else None,
            file_name="kanal.csv",
        )
        ExportJob.objects.filter(pk=made.pk).update(
            created_at=now - timedelta(days=age_days))
        return made

    old_done = job(4, "done")
    job(3.5, "failed")
    job(10, "running")  # a worker that died with it
    recent = job(2, "done")
    assert "insights_prune_exports" in {j.name for j in PERIODIC_JOBS}
    assert tasks.prune_exports(now=now, dry_run=True) == 3
    assert ExportJob.objects.count() == 4
    assert tasks.prune_exports(now=now) == 3
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    client = client_for(analyst)
    gone = reverse("insights:export_download", args=[old_done.pk])
    assert client.get(gone).status_code == 404
    assert client.get(reverse("insights:export_download",
                              args=[recent.pk])).content == b"a;b"
    # The environment's setting is the default; KANAL_INSIGHTS still wins.
    settings.KANAL_INSIGHTS = {"EXPORT_RETENTION_DAYS": 1}
    assert tasks.prune_exports(now=now) == 1


@pytest.mark.parametrize("raw", ["Mette\x0bHansen", "Mette\x01Hansen",
                                 "Mette\x0cHansen", "Mette\ud800Hansen"])
def test_characters_no_spreadsheet_can_hold_become_a_space(raw):
    assert exports.safe_text(raw) == "Mette Hansen"


def test_xlsx_export_with_a_control_character_in_a_network_name(
    organisation, member, client_for, tmp_path
):
    """A name stored before names from tag searches were cleaned (or any
    stored text with a control character) still exports."""
    from kanal.insights.models import HashtagUse

    now = timezone.now()
    HashtagUse.objects.create(
        organisation=organisation, network="mastodon", tag="voreskbh",
        remote_id="1", author_name="Mette\x0bHansen", text="Sommer #voreskbh",
        url="https://kk.social/@mette/1", posted_at=now, found_at=now,
        day=timezone.localdate(now))
    client = client_for(member(Role.ANALYST))
    response = client.post("/indsigt/eksport/", {"tabel": "contributors",
                                                 "format": "xlsx"})
    assert response.status_code == 200
    path = tmp_path / "bidrag.xlsx"
    path.write_bytes(response.content)
    values = list(load_workbook(path).active.iter_rows(values_only=True))
    assert any("Mette Hansen" in str(cell) for row in values for cell in row)
