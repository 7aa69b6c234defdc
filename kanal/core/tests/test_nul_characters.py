"""A NUL character anywhere in a request is a Danish 400, never a 500 (on
PostgreSQL a NUL in any lookup raised DataError) and never a silent miss."""

from __future__ import annotations

import pytest

MESSAGE = "tegn, som Kanal ikke kan søge efter"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,params",
    [
        ("/konto/log-ind/", {"next": "/plan/\x00"}),
        ("/plan/medier/", {"q": "a\x00b"}),
        ("/plan/", {"maaned\x00": "1"}),
    ],
)
def test_nul_in_the_query_is_a_danish_400(client, path, params):
    response = client.get(path, params)
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.django_db
def test_the_refusal_is_in_the_readers_language_not_the_last_requests(client):
    """The refusal comes before LocaleMiddleware, in a thread that still has
    the language of the request it served before."""
    from django.utils import translation

    translation.activate("en")  # what an English reader's request leaves
    assert MESSAGE in client.get("/plan/", {"q": "a\x00"}).content.decode()
    english = client.get("/plan/", {"q": "a\x00"}, HTTP_ACCEPT_LANGUAGE="en")
    assert MESSAGE not in english.content.decode()


@pytest.mark.django_db
def test_nul_in_the_path_or_a_cookie_is_a_danish_400(client):
    assert client.get("/plan/%00/").status_code == 400
    client.cookies["sessionid"] = "abc\x00def"
    response = client.get("/konto/log-ind/")
    assert response.status_code == 400 and MESSAGE in response.content.decode()


@pytest.mark.django_db
def test_a_form_with_a_nul_is_answered_by_the_form_not_refused_whole(client):
    """What was typed is not thrown away: the form answers with its own
    message and keeps the other fields."""
    response = client.post("/konto/log-ind/", {"username": "anne\x00", "password": "x"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Null-tegn er ikke tilladte" in page and MESSAGE not in page


@pytest.mark.django_db
def test_ordinary_requests_pass(client):
    assert client.get("/konto/log-ind/", {"next": "/plan/"}).status_code == 200
