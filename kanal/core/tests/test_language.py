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


def test_follower_counts_are_grouped_the_danish_way(member, client_for):
    from kanal.channels.tests.factories import ChannelFactory

    editor = member(Role.EDITOR)
    ChannelFactory(
        organisation=editor.organisation,
        owner_administration=editor.administration,
        follower_count=43000,
    )
    page = client_for(editor).get("/").content.decode()
    assert "43.000" in page
