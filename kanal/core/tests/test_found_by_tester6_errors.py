"""T6-5: Kanal's error pages name their static files through the manifest
``collectstatic`` writes. Started without it (collectstatic forgotten, or
run after the processes started), every refusal of a client's mistake (a
missing page, a bad Host, a forged form) answered 500 instead."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_manifest(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=str(tmp_path), DEBUG=False):
        yield


@pytest.mark.usefixtures("no_manifest")
@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/findes-ikke/", {}, 404),
    ("/healthz", {"HTTP_HOST": "127.0.0.1:abc"}, 400),
    ("/healthz", {"HTTP_HOST": "ond.example"}, 400),
])
def test_a_refusal_stays_a_refusal_without_the_static_manifest(
        caplog, path, headers, status):
    response = Client(raise_request_exception=False).get(path, **headers)
    assert response.status_code == status
    assert "<html" in response.content.decode()
    assert any("staticfiles" in r.getMessage() or "manifest" in str(r.exc_info)
               for r in caplog.records if r.levelname == "ERROR")
