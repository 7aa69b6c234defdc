"""The demo grants a records officer and holds data; in the browser the
officer builds an access request for last month with the word "havnebad",
withholds one item with a reason, makes the package with progress and
downloads a PDF that reads well and an archive whose checksums verify."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from kanal.organisations.models import Membership
from kanal.organisations.roles import Role
from kanal.records.models import RecordEntry

CLOSED = "http://127.0.0.1:9"


@pytest.mark.django_db
def test_the_demo_has_a_records_officer_and_a_record(settings):
    from kanal.demo import load_demo

    settings.KANAL_SANDBOX_URL = CLOSED
    settings.KANAL_BASE_URL = CLOSED
    organisation = load_demo(notes=[])
    officer = Membership.objects.get(organisation=organisation,
                                     user__username="journal")
    assert officer.role == Role.RECORDS_OFFICER
    entries = RecordEntry.objects.filter(organisation=organisation)
    assert entries.filter(text__icontains="havnebad").count() >= 5
    # The edited comment has two versions, the deleted one a deletion.
    assert list(entries.filter(source_key="inbox.demo:c1").values_list(
        "change", flat=True).order_by("version")) == ["created", "edited"]
    assert entries.filter(source_key="inbox.demo:c3", change="deleted").exists()
    count = entries.count()
    load_demo(notes=[])
    assert entries.count() == count


@pytest.fixture
def axe_page(chromium, live_server):
    """A page whose script policy is bypassed for the test's own axe script
    only (as in the accessibility sweep)."""
    context = chromium.new_context(
        locale="da-DK", timezone_id="Europe/Copenhagen", base_url=live_server.url,
        viewport={"width": 1280, "height": 900}, bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.mark.browser
def test_officer_answers_an_access_request_in_the_browser(
    axe_page, browser_login, organisation, member
):
    from playwright.sync_api import expect

    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import AdministrationFactory
    from kanal.records.demo import load_records_demo

    kff = AdministrationFactory(organisation=organisation, code="KFF")
    ChannelFactory(organisation=organisation, network="facebook",
                   display_name="Københavns Kommune", owner_administration=kff)
    load_records_demo(organisation)
    officer = member(Role.RECORDS_OFFICER, administration=kff)
    page = browser_login(axe_page, officer)
    for path in ("/journal/", "/journal/aktindsigt/", "/journal/opbevaring/"):
        page.goto(path)
        _accessible(page)
    page.goto(f"/journal/post/{RecordEntry.objects.first().pk}/")
    _accessible(page)
    # The form's error state: the summary names the fields.
    page.goto("/journal/aktindsigt/ny/")
    page.get_by_role("button", name="Find poster").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert page.title().startswith("Fejl")
    _accessible(page)

    page.goto("/journal/aktindsigt/ny/")
    today = timezone.localdate()
    page.get_by_label("Titel").fill("Aktindsigt: havnebad")
    page.get_by_label("Anmoder").fill("Journalist på Politiken")
    page.get_by_label("Fra dato").fill(str(today - timedelta(days=30)))
    page.get_by_label("Til dato").fill(str(today))
    page.get_by_label("Søgeord").fill("havnebad")
    page.get_by_role("button", name="Find poster").click()
    expect(page.locator("#found-count")).to_have_text("7")
    page.screenshot(path="/tmp/records_request.png", full_page=True)
    _accessible(page)

    item = page.locator("article", has_text="Jens Hansen, Njalsgade 3")
    item.locator("summary").click()
    item.get_by_label("Hjemmel", exact=True).select_option("ofl_30_1")
    item.get_by_label("Bemærkning").fill("Borgerens navn, adresse og telefon")
    item.get_by_role("button", name="Undtag posten").click()
    item = page.locator("article", has_text="Jens Hansen, Njalsgade 3")
    expect(item.locator(".withheld-ground")).to_contain_text("§ 30, nr. 1")

    page.get_by_role("button", name="Lav pakke til udlevering").click()
    expect(page.locator("#export-progress")).to_be_visible()
    expect(page.locator("#export-status")).to_have_text("Pakken er klar.")
    expect(page.locator("#export-progress")).to_have_attribute("value", "100")
    page.screenshot(path="/tmp/records_export.png", full_page=True)
    _accessible(page)

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Hent PDF til anmoderen").click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    with page.expect_download() as zip_download:
        page.get_by_role("link", name="Hent arkivet (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(zip_download.value.path()).read_bytes()))

    # The PDF, as a picture and as text: Danish, page numbers, the withheld
    # comment named with its ground and without its content.
    import pypdfium2
    from pypdf import PdfReader

    document = pypdfium2.PdfDocument(pdf)
    document[0].render(scale=1.4).to_pil().save("/tmp/records_export_pdf.png")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Aktindsigt: havnebad" in text and "Side 1 af" in text
    assert "Njalsgade" not in text and "22 33 44 55" not in text
    assert "Oplysninger om enkeltpersoners private forhold" in text
    assert "saunaen" in text  # the edited version is there too

    manifest = json.loads(archive.read("manifest.json"))
    for name, sha in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha
    assert manifest["files"]["aktindsigt.pdf"] == hashlib.sha256(pdf).hexdigest()
    assert b"Njalsgade" not in archive.read("items.json")


def _accessible(page):
    from kanal.core.tests.a11y import describe_violations, run_axe

    violations = run_axe(page)
    assert not violations, describe_violations(violations)


@pytest.mark.browser
def test_the_export_page_follows_the_progress_until_the_package_is_ready(
    browser_page, browser_login, organisation, member
):
    from playwright.sync_api import expect

    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import AdministrationFactory
    from kanal.records import actions
    from kanal.records.demo import load_records_demo
    from kanal.records.export import run_export
    from kanal.records.models import AccessExport

    kff = AdministrationFactory(organisation=organisation, code="KFF")
    ChannelFactory(organisation=organisation, network="facebook",
                   owner_administration=kff)
    load_records_demo(organisation)
    officer = member(Role.RECORDS_OFFICER, administration=kff)
    today = timezone.localdate()
    access = actions.build_access_request(
        actor=officer, title="Havnebad", requester="", case_ref="",
        period_start=today - timedelta(days=30), period_end=today,
        search_words=["havnebad"])
    # Queued as the worker would find it (not yet started).
    export = AccessExport.objects.create(request=access, created_by=officer.user)
    page = browser_login(browser_page, officer)
    page.goto(f"/journal/eksport/{export.pk}/")
    expect(page.locator("#export-status")).to_contain_text("0 % færdig")
    expect(page.get_by_role("link", name="Hent PDF til anmoderen")).to_have_count(0)
    AccessExport.objects.filter(pk=export.pk).update(status="running", done=3,
                                                     total=6)
    expect(page.locator("#export-status")).to_contain_text("50 % færdig")
    expect(page.locator("#export-progress")).to_have_attribute("value", "50")
    AccessExport.objects.filter(pk=export.pk).update(status="queued", done=0)
    run_export(export.pk)
    expect(page.locator("#export-status")).to_have_text("Pakken er klar.")
    expect(page.get_by_role("link", name="Hent PDF til anmoderen")).to_be_visible()
