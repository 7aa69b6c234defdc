"""Uploaded media is served by URL (networks fetch it), but only as media."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kanal.planning import actions
from kanal.planning.tests.factories import image_bytes

pytestmark = pytest.mark.django_db


def _upload(desk, name="havnebad.jpg"):
    upload = SimpleUploadedFile(name, image_bytes(1080, 1080), "image/jpeg")
    return actions.upload_media(
        actor=desk.editor, upload=upload, alt_text="Badende i havnen"
    )


def test_stored_names_are_unguessable_and_keep_the_original_apart(desk):
    asset = _upload(desk)
    assert "havnebad" not in asset.file.name
    assert asset.file.name.endswith(".jpg")
    assert len(asset.file.name.rsplit("/", 1)[1]) >= 32
    assert asset.original_name == "havnebad.jpg"
    assert "havnebad" not in asset.thumbnail.name


def test_an_asset_is_served_without_login_with_safe_headers(desk, client):
    asset = _upload(desk)
    response = client.get(f"/media/{asset.file.name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    thumbnail = client.get(f"/media/{asset.thumbnail.name}")
    assert thumbnail.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "media/2026/11/findes-ikke.jpg",
        "../kanal/settings/base.py",
        "media/../../etc/passwd",
    ],
)
def test_anything_that_is_not_an_asset_is_not_found(desk, client, path):
    _upload(desk)
    assert client.get(f"/media/{path}").status_code == 404


def test_an_uploaded_html_name_is_still_served_as_the_verified_image(desk, client):
    asset = _upload(desk, name="side.html")
    assert asset.file.name.endswith(".jpg")
    response = client.get(f"/media/{asset.file.name}")
    assert response["Content-Type"] == "image/jpeg"
