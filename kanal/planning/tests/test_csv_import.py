"""Bulk planning from a spreadsheet: a dry run that reports every error per
row in Danish, and nothing saved unless every row is valid."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.planning import csv_import
from kanal.planning.models import Post, PostStatus
from kanal.planning.tests.factories import CampaignFactory, MediaAssetFactory

pytestmark = pytest.mark.django_db

HEADER = "dato;tid;overskrift;tekst;kanaler;kategori;formål;kampagne;link;hashtags"


def _day(days=3):
    return (timezone.localdate() + timedelta(days=days)).strftime("%d.%m.%Y")


def _csv(*rows, header=HEADER, sep=";"):
    lines = [header.replace(";", sep), *[r.replace(";", sep) for r in rows]]
    return "\r\n".join(lines) + "\r\n"


def _upload(text, encoding="utf-8-sig", name="plan.csv"):
    return SimpleUploadedFile(name, text.encode(encoding), "text/csv")


def _check(client, upload):
    return client.post(
        reverse("planning:post_import"), {"fil": upload, "handling": "tjek"}
    )


def _import(client, response):
    content = re.search(r'name="indhold" value="([^"]+)"', response.content.decode())
    return client.post(
        reverse("planning:post_import"),
        {"indhold": content.group(1), "filnavn": "plan.csv", "handling": "importer"},
    )


GOOD = [
    f"{_day()};10:00;Julemarked;Julemarkedet åbner.;facebook, x;Arrangementer;"
    "branding, service;Jul;https://www.kk.dk/jul;#julikbh",
    f"{_day(4)};9.30;Vejarbejde;Vejarbejde på Amagerbrogade.;x;;information;;;",
    f'{_day(5)};14:00;"Koncert; gratis";"Koncert i Kulturhuset.\nKom i god tid!";'
    "mastodon;;;;;",
]


def test_a_dry_run_saves_nothing_then_the_import_creates_drafts(desk, client_for):
    CampaignFactory(organisation=desk.organisation, name="Jul", hashtags=["#jul"])
    client = client_for(desk.editor)
    response = _check(client, _upload(_csv(*GOOD)))
    html = response.content.decode()
    assert response.status_code == 200, html[:3000]
    assert "Alle 3 rækker er i orden." in html
    assert "Læst som UTF-8, adskilt med semikolon." in html
    assert Post.objects.count() == 0
    response = _import(client, response)
    assert response.status_code == 302
    posts = {p.title: p for p in Post.objects.all()}
    assert set(posts) == {"Julemarked", "Vejarbejde", "Koncert; gratis"}
    assert all(p.status == PostStatus.DRAFT for p in posts.values())
    jul = posts["Julemarked"]
    assert {v.channel.network for v in jul.variants.all()} == {"facebook", "x"}
    assert jul.campaign.name == "Jul" and jul.purposes == ["branding", "service"]
    facebook = jul.variants.get(channel__network="facebook")
    assert facebook.link == "https://www.kk.dk/jul"
    assert facebook.hashtags == ["#jul", "#julikbh"]
    assert (
        posts["Koncert; gratis"].shared_text == "Koncert i Kulturhuset.\nKom i god tid!"
    )
    local = timezone.localtime(posts["Vejarbejde"].planned_at)
    assert (local.hour, local.minute) == (9, 30)
    entry = AuditEntry.objects.get(event="planning.posts.imported")
    assert entry.changes["rows"] == 3 and len(entry.changes["sha256"]) == 64
    assert AuditEntry.objects.filter(event="planning.post.created").count() == 3
    # Importing the same file again is refused row by row.
    again = _check(client, _upload(_csv(*GOOD)))
    assert again.status_code == 400
    assert again.content.decode().count("Er filen importeret før?") == 3


def test_every_error_is_reported_per_row_and_nothing_is_saved(desk, client_for):
    yesterday = (timezone.localdate() - timedelta(days=1)).strftime("%d.%m.%Y")
    rows = [
        GOOD[1],
        "31.02.2027;10:00;Forkert dato;Tekst;facebook;;;;;",
        f"{yesterday};10:00;For sent;Tekst;facebook;;;;;",
        f"{_day()};25:00;Forkert tid;Tekst;tiktok;;;;;",
        f"{_day()};10:00;Ukendt kampagne;Tekst;facebook;;glæde;Påske;ftp://x;#ok",
        f'{_day()};10:00;=HYPERLINK("http://x");Tekst;facebook;;;;;',
        f"{_day()};11:00;;Uden overskrift;facebook;;;;;",
        f"{_day()};12:00;To gange;Tekst;facebook;;;;;",
        f"{_day()};12:00;To gange;Tekst;facebook;;;;;",
        f"{_day()};13:00;Uden kanal;Tekst;;;;;;",
    ]
    client = client_for(desk.editor)
    response = _check(client, _upload(_csv(*rows)))
    html = response.content.decode()
    assert response.status_code == 400

    def row(number):
        part = html[html.index(f'id="row-{number}"') :]
        return part[: part.index("</tr>")]

    assert "✓" in row(2)
    assert "Datoen «31.02.2027» kan ikke læses" in row(3)
    assert "er passeret" in row(4)
    assert "Klokkeslættet «25:00» kan ikke læses" in row(5)
    assert "Kanalen «tiktok» findes ikke" in row(5)
    assert "Formålet «glæde» findes ikke" in row(6)
    assert "Kampagnen «Påske» findes ikke" in row(6)
    assert "Linket «ftp://x» er ikke en gyldig adresse" in row(6)
    assert "ligner en regnearksformel" in row(7)
    assert "Overskriften mangler." in row(8)
    assert "✓" in row(9)
    assert "magen til række 9" in row(10)
    assert "Vælg mindst én kanal" in row(11)
    assert "8 rækker har fejl." in html
    assert 'name="handling" value="importer"' not in html
    # Forcing the import of a file with errors saves nothing.
    content = base64.b64encode(_csv(*rows).encode()).decode()
    response = client.post(
        reverse("planning:post_import"),
        {"indhold": content, "filnavn": "plan.csv", "handling": "importer"},
    )
    assert response.status_code == 400
    assert Post.objects.count() == 0
    assert not AuditEntry.objects.filter(event="planning.posts.imported").exists()


@pytest.mark.parametrize(
    ("encoding", "sep", "label"),
    [
        ("cp1252", ";", "Windows-1252"),
        ("utf-8", ",", "UTF-8, adskilt med komma"),
        ("utf-8-sig", ";", "UTF-8, adskilt med semikolon"),
        ("utf-16", "\t", "UTF-16"),
    ],
)
def test_files_as_spreadsheets_save_them(desk, client_for, encoding, sep, label):
    text = _csv(
        f"{_day()};10:00;Æblefest på Østerbro;Smag årets æbler i Fælledparken.;"
        "facebook;;;;;",
        sep=sep,
    )
    response = _check(client_for(desk.editor), _upload(text, encoding))
    html = response.content.decode()
    assert response.status_code == 200, html[:2000]
    assert "Æblefest på Østerbro" in html
    assert label in html


def test_the_header_is_checked_first(desk, client_for):
    text = "dato;tid;overskrfit;kanaler\r\n" + f"{_day()};10:00;X;facebook\r\n"
    response = _check(client_for(desk.editor), _upload(text))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ukendt kolonne «overskrfit»" in html
    assert "Kolonnen «overskrift» mangler." in html


def test_limits(desk, client_for):
    client = client_for(desk.editor)
    big = _upload("x" * (csv_import.MAX_BYTES + 1))
    response = _check(client, big)
    assert response.status_code == 400
    assert "Filen er for stor" in response.content.decode()
    many = _csv(
        *[f"{_day()};10:{i % 60:02d};Opslag {i};T;facebook;;;;;" for i in range(501)]
    )
    response = _check(client, _upload(many))
    assert response.status_code == 400
    assert "mere end 500 opslag" in response.content.decode()
    binary = SimpleUploadedFile("plan.csv", b"PK\x03\x04\x00\x00", "text/csv")
    response = _check(client, binary)
    assert "ikke en CSV-fil" in response.content.decode()
    assert Post.objects.count() == 0


def test_network_rules_are_warnings_and_media_come_from_the_library(desk, client_for):
    MediaAssetFactory(
        organisation=desk.organisation, administration=desk.kff, original_name="bad.jpg"
    )
    long_text = "Lang tekst " * 40
    rows = [
        f"{_day()};10:00;Til X;{long_text};x;;;;;",
        f"{_day()};11:00;Til Instagram;Havnebadet.;instagram;;;;;",
    ]
    header = HEADER + ";medie"
    rows = [r + (";bad.jpg" if "Instagram" in r else ";") for r in rows]
    client = client_for(desk.editor)
    response = _check(client, _upload(_csv(*rows, header=header)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Bemærk" in html and "X" in html
    response = _import(client, response)
    assert response.status_code == 302
    instagram = Post.objects.get(title="Til Instagram").variants.get()
    assert [m.original_name for m in instagram.media.all()] == ["bad.jpg"]


def test_the_template_file_reads_back(desk, client_for):
    client = client_for(desk.editor)
    response = client.get(reverse("planning:post_import_template"))
    assert response["Content-Type"].startswith("text/csv")
    data = response.content
    assert data.startswith("\ufeff".encode())
    response = _check(client, SimpleUploadedFile("skabelon.csv", data, "text/csv"))
    assert response.status_code == 200, response.content.decode()[:3000]
    assert "rækker er i orden." in response.content.decode()
