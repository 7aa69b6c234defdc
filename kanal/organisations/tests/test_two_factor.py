"""Every way in passes the same password, throttle and second factor; a new
authenticator replaces a confirmed one only with a code from the old one, or
after an administrator's audited reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import PASSWORD

LOGIN = "/konto/log-ind/"
SETUP = "/konto/to-faktor/"


def _token(device: TOTPDevice) -> str:
    """The device's code now (time-machine moves ``now``)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=6):06d}"


def _sign_in_with_code(client, membership, device):
    response = client.post(
        LOGIN, {"username": membership.user.username, "password": PASSWORD}
    )
    assert response["Location"] == reverse("login_token")
    response = client.post(reverse("login_token"), {"token": _token(device)})
    assert response.status_code == 302, response
    return response


@pytest.fixture
def staff_with_device(member):
    admin = member(Role.ADMIN)
    admin.user.is_staff = True
    admin.user.is_superuser = True
    admin.user.save()
    device = TOTPDevice.objects.create(user=admin.user, name="app", confirmed=True)
    return admin, device


def test_django_admin_login_does_not_sign_in_with_the_password_alone(
    staff_with_device, client
):
    admin, _device = staff_with_device
    response = client.post(
        "/django-admin/login/",
        {"username": admin.user.username, "password": PASSWORD, "next": "/"},
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 404
    assert client.get("/django-admin/").status_code == 404


def test_a_half_signed_in_session_cannot_enrol_a_new_authenticator(
    staff_with_device, client
):
    """A session that has the password but not the code (however it got
    there) is signed out instead of being offered a new device."""
    admin, device = staff_with_device
    client.force_login(admin.user)  # password only, as the admin login did
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert list(TOTPDevice.objects.filter(user=admin.user)) == [device]


def test_a_half_signed_in_session_reaches_no_page(staff_with_device, client):
    admin, _device = staff_with_device
    client.force_login(admin.user)
    for path in ("/", "/kanaler/", "/medlemmer/", "/konto/to-faktor/"):
        client.force_login(admin.user)
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(LOGIN), path
        assert "_auth_user_id" not in client.session


def test_first_enrolment_cannot_be_confirmed_over_an_existing_device(member):
    from kanal.organisations import actions

    editor = member(Role.EDITOR)
    TOTPDevice.objects.create(user=editor.user, name="app", confirmed=True)
    pending = actions.pending_two_factor_device(editor.user)
    with pytest.raises(PermissionDenied):
        actions.confirm_two_factor(pending, token=_token(pending), actor=editor)
    pending.refresh_from_db()
    assert not pending.confirmed


def test_replacing_the_authenticator_needs_a_code_from_the_old_one(member, client):
    editor = member(Role.EDITOR)
    old = TOTPDevice.objects.create(user=editor.user, name="app", confirmed=True)
    _sign_in_with_code(client, editor, old)
    page = client.get(SETUP)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Skift godkendelses-app" in body
    assert 'name="current_token"' in body
    new = TOTPDevice.objects.get(user=editor.user, confirmed=False)

    later = timezone.now() + timedelta(seconds=40)
    with time_machine.travel(later, tick=False):
        wrong = client.post(SETUP, {"current_token": "000000", "token": _token(new)})
    assert wrong.status_code == 400
    assert "Koden fra din nuværende app passer ikke" in wrong.content.decode()
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.confirmed and not new.confirmed

    later = later + timedelta(seconds=40)
    with time_machine.travel(later, tick=False):
        right = client.post(
            SETUP,
            {"current_token": _token(old), "token": _token(new)},
        )
    assert right.status_code == 302
    assert list(TOTPDevice.objects.filter(user=editor.user)) == [new]
    new.refresh_from_db()
    assert new.confirmed
    entry = AuditEntry.objects.get(event="organisations.user.two_factor_replaced")
    assert entry.actor == editor.user
    assert client.get("/").status_code == 200


def test_an_administrator_resets_a_members_authenticator_audited(member, client_for):
    admin = member(Role.ADMIN)
    editor = member(Role.EDITOR, administration=admin.administration)
    TOTPDevice.objects.create(user=editor.user, name="app", confirmed=True)
    url = reverse("member_reset_two_factor", args=[editor.pk])
    client = client_for(admin)
    assert (
        "Nulstil to-faktor-login"
        in client.get(reverse("member_edit", args=[editor.pk])).content.decode()
    )
    response = client.post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=editor.user).exists()
    entry = AuditEntry.objects.get(event="organisations.user.two_factor_reset")
    assert entry.actor == admin.user
    assert entry.organisation == admin.organisation
    assert entry.changes["user"] == editor.user.username


def test_an_administrator_cannot_reset_their_own_authenticator(member, client):
    admin = member(Role.ADMIN)
    device = TOTPDevice.objects.create(user=admin.user, name="app", confirmed=True)
    _sign_in_with_code(client, admin, device)
    response = client.post(reverse("member_reset_two_factor", args=[admin.pk]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=admin.user, confirmed=True).exists()


def test_login_code_step_is_throttled_per_account(member, settings):
    settings.KANAL_LOGIN_MAX_FAILURES = 3
    editor = member(Role.EDITOR)
    device = TOTPDevice.objects.create(user=editor.user, name="app", confirmed=True)
    client = Client()
    client.post(LOGIN, {"username": editor.user.username, "password": PASSWORD})
    moment = timezone.now()
    statuses = []
    for i in range(4):
        moment += timedelta(minutes=1)
        with time_machine.travel(moment, tick=False):
            wrong = "000000" if _token(device) != "000000" else "111111"
            statuses.append(
                client.post(reverse("login_token"), {"token": wrong}).status_code
            )
            assert (
                i < 3
                or "For mange"
                in client.post(
                    reverse("login_token"), {"token": _token(device)}
                ).content.decode()
            )
    assert statuses == [401, 401, 429, 429]
    assert "_auth_user_id" not in client.session
