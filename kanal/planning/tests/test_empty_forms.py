"""A form sent empty is answered with what is missing, never silently."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/plan/kampagner/",
        "/plan/forslag/nyt/",
        "/plan/medier/",
    ],
)
def test_an_empty_form_gets_danish_errors_and_saves_nothing(desk, client, url):
    from kanal.planning.models import Campaign, MediaAsset, Post

    client.force_login(desk.editor.user)
    before = (
        Campaign.objects.count(),
        Post.objects.count(),
        MediaAsset.objects.count(),
    )
    response = client.post(url, {})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert (
        Campaign.objects.count(),
        Post.objects.count(),
        MediaAsset.objects.count(),
    ) == before
