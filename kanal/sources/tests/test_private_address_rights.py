"""Only an administrator decides which internal address a source fetches:
pointing a source that may fetch internal addresses elsewhere needs that
right too (found by the outside tester: an editor re-pointed an allowed
source at another internal service and read it on the source page)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kanal.sources.models import Source

pytestmark = pytest.mark.django_db

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
       b"<item><title>HEMMELIGT-INTERNT-INDHOLD</title><guid>1</guid>"
       b"<link>http://a/</link></item></channel></rss>")


def test_an_editor_cannot_repoint_a_source_allowed_internal_addresses(
    client_for, desk, make_source, feed_server
):
    source = make_source("http://intranet.invalid/kalender.ics", kind="rss",
                         allow_private=True)
    feed_server.routes["/admin/secret"] = lambda h: (
        200, {"Content-Type": "application/rss+xml"}, RSS)
    client = client_for(desk.editor)
    response = client.post(reverse("sources:source_edit", args=[source.pk]), {
        "name": source.name, "kind": "rss",
        "url": feed_server.url("/admin/secret"),
        "owner_administration": desk.kff.pk, "fetch_every_minutes": 60,
    })
    assert response.status_code == 400
    assert "Kun en administrator kan ændre dens adresse" in response.content.decode()
    source.refresh_from_db()
    assert source.url == "http://intranet.invalid/kalender.ics"
    assert source.allow_private
    client.post(reverse("sources:source_fetch", args=[source.pk]))
    assert feed_server.requests == []


def test_an_administrator_may_repoint_it(client_for, desk, make_source, feed_server,
                                         member):
    from kanal.organisations.roles import Role

    source = make_source("http://intranet.invalid/kalender.ics", kind="rss",
                         allow_private=True)
    admin = member(Role.ADMIN, administration=desk.kff)
    response = client_for(admin).post(
        reverse("sources:source_edit", args=[source.pk]), {
            "name": source.name, "kind": "rss", "url": feed_server.url("/ny"),
            "owner_administration": desk.kff.pk, "fetch_every_minutes": 60,
            "allow_private": "on",
        })
    assert response.status_code == 302
    assert Source.objects.get(pk=source.pk).url == feed_server.url("/ny")


def test_an_editor_may_repoint_a_public_source(client_for, desk, make_source):
    source = make_source("https://kk.dk/a.rss", kind="rss", allow_private=False)
    response = client_for(desk.editor).post(
        reverse("sources:source_edit", args=[source.pk]), {
            "name": source.name, "kind": "rss", "url": "https://kk.dk/b.rss",
            "owner_administration": desk.kff.pk, "fetch_every_minutes": 60,
        })
    assert response.status_code == 302
    assert Source.objects.get(pk=source.pk).url == "https://kk.dk/b.rss"


def test_an_editor_may_rename_it_and_cannot_untick_the_right(client_for, desk,
                                                            make_source):
    source = make_source("http://intranet.invalid/kalender.ics", kind="rss",
                         allow_private=True)
    response = client_for(desk.editor).post(
        reverse("sources:source_edit", args=[source.pk]), {
            "name": "Intranettets kalender", "kind": "rss", "url": source.url,
            "owner_administration": desk.kff.pk, "fetch_every_minutes": 60,
        })
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.name == "Intranettets kalender" and source.allow_private
