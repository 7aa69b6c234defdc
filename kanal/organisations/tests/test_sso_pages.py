"""The pages around single sign-on and organisations: an administrator sets
up the identity provider and links members; a superuser creates a
municipality; two municipalities on one installation never see each other."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.test import Client

from kanal.core.models import AuditEntry
from kanal.organisations import sso_actions
from kanal.organisations.models import ExternalIdentity, Organisation, SingleSignOn
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import UserFactory

SETTINGS = {
    "enabled": "on",
    "issuer": "https://login.testkommune.dk",
    "client_id": "kanal",
    "client_secret": "meget-hemmelig",
    "groups_claim": "groups",
    "group_roles": "kanal-redaktion = editor KFF\nkanal-admin = admin KFF",
    "local_passwords": "break_glass",
}


@pytest.fixture
def admin(member):
    return member(Role.ADMIN)


def test_administrator_sets_up_the_identity_provider(client_for, admin):
    client = client_for(admin)
    page = client.get("/organisation/faelles-login/")
    assert "http://127.0.0.1:8000/konto/sso/retur/" in page.content.decode()
    response = client.post("/organisation/faelles-login/", SETTINGS)
    assert response.status_code == 302
    config = SingleSignOn.objects.get(organisation=admin.organisation)
    assert config.group_roles == [
        {"group": "kanal-redaktion", "role": "editor", "administration": "KFF"},
        {"group": "kanal-admin", "role": "admin", "administration": "KFF"},
    ]
    assert config.client_secret == "meget-hemmelig"
    assert "meget-hemmelig" not in config.encrypted_client_secret
    entry = AuditEntry.objects.get(event="organisations.single_sign_on.configured")
    assert entry.changes["client_secret"] == "changed"
    assert "meget-hemmelig" not in str(entry.changes)
    # A blank secret keeps the stored one.
    client.post("/organisation/faelles-login/", {**SETTINGS, "client_secret": ""})
    config.refresh_from_db()
    assert config.client_secret == "meget-hemmelig"


@pytest.mark.parametrize(
    "mapping, message",
    [
        ("kanal-redaktion = chefredaktør KFF", "rollen «chefredaktør» findes ikke"),
        ("kanal-redaktion = editor XYZ", "forvaltningen «XYZ» findes ikke"),
        ("kanal-redaktion editor", "Linje 1 skal skrives"),
    ],
)
def test_mapping_to_a_role_that_does_not_exist_is_refused(
    client_for, admin, mapping, message
):
    response = client_for(admin).post(
        "/organisation/faelles-login/", {**SETTINGS, "group_roles": mapping}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SingleSignOn.objects.exists()


def test_issuer_without_https_is_refused(client_for, admin):
    response = client_for(admin).post(
        "/organisation/faelles-login/",
        {**SETTINGS, "issuer": "http://login.testkommune.dk"},
    )
    message = "Udstederen skal have en https-adresse"
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SingleSignOn.objects.exists()


def test_only_administrators_see_the_identity_provider(client_for, member):
    editor = member(Role.EDITOR)
    assert client_for(editor).get("/organisation/faelles-login/").status_code == 403


def test_administrator_links_and_unlinks_a_member(client_for, admin, member):
    client = client_for(admin)
    client.post("/organisation/faelles-login/", SETTINGS)
    editor = member(Role.EDITOR)
    path = f"/medlemmer/{editor.pk}/login-tjeneste/"
    response = client.post(path, {"subject": "s-1"})
    assert response.status_code == 302
    identity = ExternalIdentity.objects.get(user=editor.user)
    assert (identity.issuer, identity.subject) == (SETTINGS["issuer"], "s-1")
    assert "s-1" in client.get(f"/medlemmer/{editor.pk}/").content.decode()
    # Another person's subject is refused.
    other = member(Role.ANALYST)
    client.post(f"/medlemmer/{other.pk}/login-tjeneste/", {"subject": "s-1"})
    assert not ExternalIdentity.objects.filter(user=other.user).exists()
    client.post(f"/medlemmer/{editor.pk}/login-tjeneste/", {"subject": ""})
    assert not ExternalIdentity.objects.exists()
    assert AuditEntry.objects.filter(event="organisations.identity.unlinked").exists()


NEW = {
    "name": "Odense Kommune",
    "slug": "odense",
    "administrations": "BKF=Borgmesterforvaltningen\nKUF=Kultur",
    "central_desk": "bkf",
    "admin_username": "o.admin",
    "admin_email": "admin@odense.example",
    "admin_name": "Olga Admin",
}


def _verified_superuser(client):
    """A superuser signed in with password and authenticator code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    superuser = UserFactory(username="drift", is_superuser=True)
    device = TOTPDevice.objects.create(user=superuser, confirmed=True, name="K")
    client.force_login(superuser)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return superuser


def test_superuser_needs_the_second_factor_for_the_installation_page(client, db):
    client.force_login(UserFactory(username="drift", is_superuser=True))
    response = client.get("/installation/organisationer/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/to-faktor/")
    client.post("/installation/organisationer/", NEW)
    assert not Organisation.objects.filter(slug="odense").exists()


def test_superuser_creates_a_municipality(client, db):
    superuser = _verified_superuser(client)
    response = client.post("/installation/organisationer/", NEW)
    assert response.status_code == 302
    organisation = Organisation.objects.get(slug="odense")
    assert organisation.administrations.get(is_central_desk=True).code == "BKF"
    admin = organisation.memberships.get()
    assert (admin.user.username, admin.role) == ("o.admin", Role.ADMIN)
    entry = AuditEntry.objects.get(event="organisations.organisation.set_up")
    assert entry.actor == superuser
    page = client.get("/installation/organisationer/").content.decode()
    assert "Odense Kommune" in page
    bad = client.post(
        "/installation/organisationer/", {**NEW, "administrations": "BKF"}
    )
    assert bad.status_code == 400
    assert "KODE=Navn" in bad.content.decode()


def test_installation_page_is_hidden_from_everyone_else(client, client_for, admin):
    assert client.get("/installation/organisationer/").status_code == 404
    assert client_for(admin).get("/installation/organisationer/").status_code == 404
    response = client_for(admin).post("/installation/organisationer/", NEW)
    assert response.status_code == 404
    assert not Organisation.objects.filter(slug="odense").exists()


def test_two_municipalities_never_see_each_other(client, db):
    _verified_superuser(client)
    client.post("/installation/organisationer/", NEW)
    client.post(
        "/installation/organisationer/",
        {
            **NEW,
            "name": "Aarhus Kommune",
            "slug": "aarhus",
            "administrations": "MBA=Borgmesterens Afdeling",
            "central_desk": "MBA",
            "admin_username": "a.admin",
            "admin_email": "admin@aarhus.example",
        },
    )
    odense = Organisation.objects.get(slug="odense").memberships.get()
    aarhus = Organisation.objects.get(slug="aarhus").memberships.get()
    sso_actions.configure_single_sign_on(
        odense.organisation,
        actor=odense,
        issuer="https://login.odense.example",
        client_id="odense-kanal",
        client_secret="x",
    )
    sso_actions.link_identity(odense, actor=odense, subject="olga")
    Organisation.objects.update(require_two_factor=False)
    client = Client()
    client.force_login(aarhus.user)
    pages = [
        "/medlemmer/",
        "/organisation/",
        "/organisation/faelles-login/",
        "/medlemmer/ny/",
        "/revisionsspor/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        # Random tokens (CSRF, 64 letters and digits) may hold any three letters.
        text = re.sub(r"[A-Za-z0-9]{32,}", "", response.content.decode())
        assert "Aarhus" in text or "a.admin" in text, path
        for other in ("Odense", "o.admin", "odense.example", "olga", "BKF"):
            assert other not in text, (path, other)
    assert client.get(f"/medlemmer/{odense.pk}/").status_code == 404
    response = client.post(f"/medlemmer/{odense.pk}/login-tjeneste/", {"subject": "x"})
    assert response.status_code == 404
    assert ExternalIdentity.objects.get(user=odense.user).subject == "olga"
    assert client.get("/installation/organisationer/").status_code == 404


def test_rotating_vault_keys_keeps_the_client_secret_readable(
    organisation, settings
):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.KANAL_VAULT_KEYS = old
    config = sso_actions.configure_single_sign_on(
        organisation,
        actor=None,
        issuer="https://login.testkommune.dk",
        client_id="kanal",
        client_secret="hemmelig",
    )
    settings.KANAL_VAULT_KEYS = f"{new},{old}"
    call_command("rotate_keys", stdout=StringIO())
    settings.KANAL_VAULT_KEYS = new
    config.refresh_from_db()
    assert config.client_secret == "hemmelig"
