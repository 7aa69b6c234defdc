from __future__ import annotations

from kanal.organisations.roles import Role


def test_danish_is_the_default_and_english_can_be_chosen(member, client_for):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    assert "Kanaler og strategi" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'lang="en"' in page
    assert "Channels and strategy" in page and "Log out" in page
