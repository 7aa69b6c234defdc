"""The pages and messages added for issue 11 read in English too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client_for, desk, settings):
    client = client_for(desk.editor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize(
    ("name", "english_words", "danish_words"),
    [
        (
            "planning:report",
            ["Published and planned", "Not published"],
            ["Ikke udgivet"],
        ),
        (
            "planning:link_tracking",
            ["Link tracking (UTM)", "As the organisation"],
            ["Som organisationen"],
        ),
        (
            "planning:post_import",
            ["Import posts from a spreadsheet", "Check the file"],
            ["Tjek filen"],
        ),
        (
            "planning:media_list",
            ["Search the media library", "File name, alt text"],
            ["Søg i mediebiblioteket"],
        ),
        (
            "planning:calendar",
            ["Import from a spreadsheet", "Link tracking"],
            ["Importér fra regneark"],
        ),
    ],
)
def test_new_pages_in_english(english, name, english_words, danish_words):
    html = english.get(reverse(name)).content.decode()
    for word in english_words:
        assert word in html, word
    for word in danish_words:
        assert word not in html, word


def test_the_import_report_in_english(english):
    day = (timezone.localdate() + timedelta(days=2)).strftime("%d.%m.%Y")
    text = f"dato;tid;overskrift;kanaler\r\n{day};25:00;;tiktok\r\n"
    html = english.post(
        reverse("planning:post_import"),
        {
            "fil": SimpleUploadedFile("plan.csv", text.encode(), "text/csv"),
            "handling": "tjek",
        },
    ).content.decode()
    assert "The time “25:00” cannot be read" in html
    assert "The title is missing." in html
    assert "The channel “tiktok” does not exist" in html
    assert "1 row has errors." in html
