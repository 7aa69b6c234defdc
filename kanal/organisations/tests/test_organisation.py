from __future__ import annotations

import re

from django.core import mail

from kanal.core.models import AuditEntry
from kanal.organisations.models import Administration, Membership, Team
from kanal.organisations.roles import Role


def test_admin_changes_the_organisations_rules(member, client_for):
    admin = member(Role.ADMIN)
    response = client_for(admin).post(
        "/organisation/",
        {
            "form": "settings",
            "name": "Testkommune",
            "require_two_factor": "on",
        },
    )
    assert response.status_code == 302
    admin.organisation.refresh_from_db()
    assert admin.organisation.require_two_factor
    assert not admin.organisation.forbid_self_approval
    entry = AuditEntry.objects.get(event="organisations.organisation.updated")
    assert entry.changes["forbid_self_approval"] == [True, False]


def test_admin_adds_an_administration_and_a_team(member, client_for):
    admin = member(Role.ADMIN)
    client = client_for(admin)
    response = client.post(
        "/organisation/",
        {
            "form": "administration",
            "code": "buf",
            "name": "Børne- og Ungdom",
        },
    )
    assert response.status_code == 302
    buf = Administration.objects.get(organisation=admin.organisation, code="BUF")
    response = client.post(
        "/organisation/",
        {
            "form": "team",
            "administration": buf.pk,
            "name": "Skoler",
        },
    )
    assert response.status_code == 302
    assert Team.objects.filter(administration=buf, name="Skoler").exists()
    duplicate = client.post(
        "/organisation/",
        {
            "form": "administration",
            "code": "BUF",
            "name": "Igen",
        },
    )
    assert duplicate.status_code == 400
    assert "allerede brugt" in duplicate.content.decode()


def test_editor_cannot_change_the_organisation(member, client_for):
    editor = member(Role.EDITOR)
    response = client_for(editor).post(
        "/organisation/",
        {
            "form": "settings",
            "name": "Kapret",
            "require_two_factor": "",
        },
    )
    assert response.status_code == 403
    editor.organisation.refresh_from_db()
    assert editor.organisation.name == "Testkommune"


def test_a_new_member_gets_a_link_to_choose_a_password(
    member, client_for, client, django_capture_on_commit_callbacks
):
    admin = member(Role.ADMIN)
    with_link = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        with_link.post(
            "/medlemmer/ny/",
            {
                "username": "sofie",
                "full_name": "Sofie Sørensen",
                "email": "sofie@example.dk",
                "administration": admin.administration.pk,
                "role": Role.CONTRIBUTOR,
            },
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sofie@example.dk"]
    link = re.search(r"https?://\S+/konto/adgangskode/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    with_link.post("/konto/log-ud/")
    form = client.get("/" + path, follow=True)
    assert "Vælg din adgangskode" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "Havnebadet-2026!",
            "new_password2": "Havnebadet-2026!",
        },
    )
    assert response.status_code == 302
    user = Membership.objects.get(user__username="sofie").user
    user.refresh_from_db()
    assert user.check_password("Havnebadet-2026!")
    reused = client.get("/" + path, follow=True)
    assert "Linket virker ikke længere" in reused.content.decode()


def test_forgotten_password_requests_are_throttled(member, client, settings):
    settings.KANAL_PASSWORD_RESET_MAX_REQUESTS = 2
    editor = member(Role.EDITOR)
    for _ in range(4):
        response = client.post("/konto/glemt/", {"email": editor.user.email})
        assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert "Ny adgangskode til Kanal" in mail.outbox[0].subject
