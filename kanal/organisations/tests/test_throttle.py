"""Nobody can lock everyone out: counters per (address, account), per account
and per address, password resets apart, the client's address read only
through trusted proxies, and every login event in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.organisations import throttle
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import PASSWORD

LOGIN = "/konto/log-ind/"


def _login(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def _events(name):
    return AuditEntry.objects.filter(event=name)


@pytest.fixture
def office(member):
    """Two colleagues and an attacker, all behind one address."""
    editor = member(Role.EDITOR)
    colleague = member(Role.APPROVER, administration=editor.administration)
    return editor, colleague


def test_failures_on_one_account_do_not_lock_colleagues_at_the_same_address(
    office, settings
):
    settings.KANAL_LOGIN_MAX_FAILURES = 3
    editor, colleague = office
    attacker = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(6):
        _login(attacker, editor.user.username, "forkert")
    assert _login(attacker, editor.user.username).status_code == 429
    same_address = Client(REMOTE_ADDR="192.0.2.10")
    response = _login(same_address, colleague.user.username)
    assert response.status_code == 302
    # The victim, from another address, is not locked out either.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(elsewhere, editor.user.username).status_code == 302


def test_guessing_one_account_from_many_addresses_locks_that_account(office, settings):
    settings.KANAL_LOGIN_MAX_FAILURES = 5
    settings.KANAL_LOGIN_MAX_ACCOUNT_FAILURES = 4
    editor, colleague = office
    for n in range(4):
        _login(Client(REMOTE_ADDR=f"203.0.113.{n}"), editor.user.username, "forkert")
    fresh = Client(REMOTE_ADDR="203.0.113.99")
    assert _login(fresh, editor.user.username).status_code == 429
    assert _login(fresh, colleague.user.username).status_code == 302
    lockout = _events("organisations.user.locked_out").get()
    assert lockout.changes["scope"] == "account"
    assert lockout.object_id == str(editor.user.pk)


def test_one_address_trying_many_accounts_hits_the_higher_address_limit(
    office, settings
):
    settings.KANAL_LOGIN_MAX_FAILURES = 5
    settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES = 6
    editor, colleague = office
    sprayer = Client(REMOTE_ADDR="192.0.2.66")
    statuses = [_login(sprayer, f"gæt{n}", "forkert").status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]
    assert _login(sprayer, colleague.user.username).status_code == 429
    assert (
        _login(Client(REMOTE_ADDR="192.0.2.67"), editor.user.username).status_code
        == 302
    )
    assert _events("organisations.login.address_locked").get().changes == {
        "address": "192.0.2.66",
        "limit": 6,
    }


def test_password_reset_requests_never_lock_logins(office, settings):
    settings.KANAL_LOGIN_MAX_FAILURES = 2
    settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES = 2
    editor, _colleague = office
    client = Client(REMOTE_ADDR="192.0.2.20")
    for _ in range(10):
        client.post("/konto/glemt/", {"email": editor.user.email})
    assert _login(client, editor.user.username).status_code == 302


def test_a_lock_lifts_when_the_window_has_passed(office, settings):
    settings.KANAL_LOGIN_MAX_FAILURES = 2
    settings.KANAL_LOGIN_WINDOW_SECONDS = 900
    editor, _colleague = office
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            _login(client, editor.user.username, "forkert")
        assert _login(client, editor.user.username).status_code == 429
    with time_machine.travel(start + timedelta(seconds=600), tick=False):
        assert _login(client, editor.user.username).status_code == 429
    with time_machine.travel(start + timedelta(seconds=901), tick=False):
        assert _login(client, editor.user.username).status_code == 302


def test_a_forged_forwarded_for_is_not_believed_without_a_trusted_proxy(
    office, settings
):
    settings.KANAL_LOGIN_MAX_FAILURES = 2
    editor, _colleague = office
    for n in range(4):
        spoofer = Client(REMOTE_ADDR="192.0.2.30", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
        _login(spoofer, editor.user.username, "forkert")
    assert (
        _login(Client(REMOTE_ADDR="192.0.2.30"), editor.user.username).status_code
        == 429
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_counter(office, settings):
    settings.KANAL_TRUSTED_PROXIES = "10.0.0.0/24"
    settings.KANAL_LOGIN_MAX_FAILURES = 2
    editor, _colleague = office

    def via_proxy(client_ip, forged=""):
        chain = f"{forged}, {client_ip}" if forged else client_ip
        return Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=chain)

    for _ in range(3):
        _login(
            via_proxy("198.51.100.1", forged="192.0.2.99"), editor.user.username, "x"
        )
    assert _login(via_proxy("198.51.100.1"), editor.user.username).status_code == 429
    assert _login(via_proxy("198.51.100.2"), editor.user.username).status_code == 302


@pytest.mark.parametrize(
    "trusted,remote,forwarded,expected",
    [
        ("", "192.0.2.1", "198.51.100.9", "192.0.2.1"),
        ("10.0.0.1", "192.0.2.1", "198.51.100.9", "192.0.2.1"),
        ("10.0.0.1", "10.0.0.1", "198.51.100.9", "198.51.100.9"),
        ("10.0.0.1", "10.0.0.1", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        ("10.0.0.0/8", "10.0.0.1", "198.51.100.9, 10.2.0.1", "198.51.100.9"),
        ("10.0.0.1", "10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1", "ikke-en-adresse", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(settings, trusted, remote, forwarded, expected):
    settings.KANAL_TRUSTED_PROXIES = trusted
    request = RequestFactory().get(
        "/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded
    )
    assert throttle.client_address(request) == expected


def test_ipv6_neighbours_in_one_64_share_the_address_counter():
    a = throttle.login_counters("x", "2001:db8:1:2::1")[2]
    b = throttle.login_counters("y", "2001:db8:1:2:ffff::9")[2]
    c = throttle.login_counters("y", "2001:db8:1:3::1")[2]
    assert a.key == b.key != c.key


def test_logins_failures_lockouts_and_resets_are_audited(office, settings, mailoutbox):
    settings.KANAL_LOGIN_MAX_FAILURES = 2
    editor, colleague = office
    client = Client(REMOTE_ADDR="192.0.2.40")
    _login(client, editor.user.username, "forkert")
    _login(client, editor.user.username, "forkert")
    for _ in range(5):  # refused while locked: not audited again
        _login(client, editor.user.username, "forkert")
    failures = _events("organisations.user.login_failed")
    assert failures.count() == 2
    assert failures.first().changes == {"address": "192.0.2.40", "stage": "password"}
    assert failures.first().actor is None
    assert failures.first().organisation == editor.organisation
    assert _events("organisations.user.locked_out").count() == 1
    _login(Client(REMOTE_ADDR="192.0.2.41"), colleague.user.username)
    login = _events("organisations.user.logged_in").get()
    assert login.actor == colleague.user
    assert login.changes == {"address": "192.0.2.41", "second_factor": False}
    Client().post("/konto/glemt/", {"email": colleague.user.email})
    assert _events("organisations.user.password_reset_requested").count() == 1


def test_made_up_usernames_do_not_reach_the_audit_log(db, settings):
    settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES = 1000
    client = Client(REMOTE_ADDR="192.0.2.50")
    for n in range(30):
        assert _login(client, f"findes-ikke-{n}", "forkert").status_code == 401
    assert not AuditEntry.objects.exists()


def test_completed_password_reset_is_audited(office, mailoutbox):
    editor, _colleague = office
    client = Client()
    client.post("/konto/glemt/", {"email": editor.user.email})
    link = next(
        line
        for line in mailoutbox[0].body.splitlines()
        if "/konto/adgangskode/" in line
    )
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Havnebadet-2026!", "new_password2": "Havnebadet-2026!"},
    )
    entry = _events("organisations.user.password_reset").get()
    assert entry.actor == editor.user


def test_expired_counters_are_pruned(office, settings):
    editor, _colleague = office
    _login(Client(), editor.user.username, "forkert")
    later = timezone.now() + timedelta(seconds=settings.KANAL_LOGIN_WINDOW_SECONDS + 1)
    assert throttle.prune(now=later, dry_run=True) == 3
    assert throttle.prune(now=later) == 3
    assert throttle.prune(now=later) == 0
