from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import PASSWORD

LOGIN = "/konto/log-ind/"


def _post_login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=6):06d}"


def test_login_with_right_password_reaches_the_danish_dashboard(member, client):
    editor = member(Role.EDITOR)
    response = _post_login(client, editor.user.username)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Goddag" in page.content.decode()
    assert 'lang="da"' in page.content.decode()


def test_wrong_password_is_refused_with_a_danish_message(member, client):
    editor = member(Role.EDITOR)
    response = _post_login(client, editor.user.username, "forkert")
    assert response.status_code == 401
    assert "Brugernavn eller adgangskode er forkert" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_username_even_with_the_right_password(
    member, client, settings
):
    settings.KANAL_LOGIN_MAX_FAILURES = 3
    editor = member(Role.EDITOR)
    for _ in range(2):
        assert _post_login(client, editor.user.username, "forkert").status_code == 401
    assert _post_login(client, editor.user.username, "forkert").status_code == 429
    response = _post_login(client, editor.user.username)
    assert response.status_code == 429
    assert "For mange mislykkede forsøg" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_open_redirect_after_login_is_refused(member, client):
    editor = member(Role.EDITOR)
    response = client.post(
        LOGIN + "?next=https://evil.example/",
        {
            "username": editor.user.username,
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_user_with_a_device_must_give_a_valid_code(member, client):
    editor = member(Role.EDITOR)
    device = TOTPDevice.objects.create(user=editor.user, name="app", confirmed=True)
    response = _post_login(client, editor.user.username)
    assert response["Location"] == reverse("login_token")
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("login_token"), {"token": "000000"})
    assert wrong.status_code == 401
    assert "Koden passer ikke" in wrong.content.decode()
    # django-otp throttles a device after a failure; a person waits a moment.
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        right = client.post(reverse("login_token"), {"token": _token(device)})
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_required_two_factor_sends_an_editor_to_set_up_first(member, client):
    editor = member(Role.EDITOR)
    editor.organisation.require_two_factor = True
    editor.organisation.save()
    _post_login(client, editor.user.username)
    response = client.get("/kanaler/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))
    setup = client.get(reverse("two_factor_setup"))
    assert "data:image/svg+xml;base64," in setup.content.decode()
    device = TOTPDevice.objects.get(user=editor.user)
    assert not device.confirmed
    confirm = client.post(reverse("two_factor_setup"), {"token": _token(device)})
    assert confirm.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/kanaler/").status_code == 200
    from kanal.core.models import AuditEntry

    assert AuditEntry.objects.filter(
        event="organisations.user.two_factor_enabled", actor=editor.user
    ).exists()


def test_the_way_back_after_two_factor_set_up_keeps_the_whole_address(
    member, client
):
    editor = member(Role.EDITOR)
    editor.organisation.require_two_factor = True
    editor.organisation.save()
    _post_login(client, editor.user.username)
    response = client.get("/plan/uge/?uge=2026-W49&kanal=1")
    assert response["Location"] == (
        "/konto/to-faktor/?next=%2Fplan%2Fuge%2F%3Fuge%3D2026-W49%26kanal%3D1"
    )


def test_two_factor_is_not_forced_on_a_contributor(member, client):
    contributor = member(Role.CONTRIBUTOR)
    contributor.organisation.require_two_factor = True
    contributor.organisation.save()
    _post_login(client, contributor.user.username)
    assert client.get("/kanaler/").status_code == 200


def test_a_disabled_users_session_stops_working(member, client):
    editor = member(Role.EDITOR)
    _post_login(client, editor.user.username)
    assert client.get("/kanaler/").status_code == 200
    editor.user.is_active = False
    editor.user.save()
    response = client.get("/kanaler/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_a_deactivated_membership_gets_a_danish_403(member, client):
    editor = member(Role.EDITOR)
    _post_login(client, editor.user.username)
    editor.is_active = False
    editor.save()
    response = client.get("/kanaler/")
    assert response.status_code == 403
    assert "ikke (længere) medlem" in response.content.decode()


def test_forged_csrf_is_refused_in_danish_and_changes_nothing(member):
    admin = member(Role.ADMIN)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    response = client.post(
        "/medlemmer/ny/",
        {
            "username": "ny",
            "full_name": "Ny Person",
            "email": "ny@example.dk",
            "administration": admin.administration.pk,
            "role": "editor",
        },
    )
    assert response.status_code == 403
    assert "Formularen var for gammel" in response.content.decode()
    assert not admin.organisation.memberships.filter(user__username="ny").exists()


def test_logout_requires_post(member, client):
    editor = member(Role.EDITOR)
    client.force_login(editor.user)
    assert client.get("/konto/log-ud/").status_code == 405
    assert client.post("/konto/log-ud/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "field,value", [("username", "x" * 151), ("password", "y" * 201)]
)
def test_overlong_login_fields_are_refused(member, client, field, value):
    data = {"username": "a", "password": "b", field: value}
    response = client.post(LOGIN, data)
    assert response.status_code == 400
    assert "højst" in response.content.decode()
