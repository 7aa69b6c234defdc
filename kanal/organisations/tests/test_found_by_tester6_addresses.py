"""T6-4: kanal-web listening on IPv6 (``KANAL_WEB_BIND=[::]:8000``) sees an
IPv4 peer as ``::ffff:a.b.c.d``. The proxy at 127.0.0.1 was then not the
trusted proxy KANAL_TRUSTED_PROXIES names, so every citizen and colleague
behind it counted as the proxy's one address: a few wrong passwords from
anyone locked the whole desk out."""

from __future__ import annotations

from django.test import Client, RequestFactory

from kanal.organisations import throttle
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import PASSWORD

LOGIN = "/konto/log-ind/"


def _via_dual_stack_proxy(client_ip: str) -> Client:
    return Client(REMOTE_ADDR="::ffff:127.0.0.1", HTTP_X_FORWARDED_FOR=client_ip)


def test_one_guesser_behind_the_proxy_does_not_lock_out_the_others(member, settings):
    settings.KANAL_TRUSTED_PROXIES = "127.0.0.1"
    settings.KANAL_LOGIN_MAX_FAILURES = 2
    settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES = 3
    editor = member(Role.EDITOR)
    victim = member(Role.APPROVER, administration=editor.administration)
    for n in range(6):
        _via_dual_stack_proxy("198.51.100.1").post(
            LOGIN, {"username": f"gæt{n}", "password": "forkert"})
    answer = _via_dual_stack_proxy("198.51.100.2").post(
        LOGIN, {"username": victim.user.username, "password": PASSWORD})
    assert answer.status_code == 302


def test_a_mapped_address_is_its_ipv4_address(settings):
    settings.KANAL_TRUSTED_PROXIES = "10.0.0.0/8"
    request = RequestFactory().get(
        "/", REMOTE_ADDR="::ffff:10.0.0.5",
        HTTP_X_FORWARDED_FOR="::ffff:198.51.100.9, ::ffff:10.2.0.1")
    assert throttle.client_address(request) == "198.51.100.9"
    alone = RequestFactory().get("/", REMOTE_ADDR="::ffff:192.0.2.7")
    assert throttle.client_address(alone) == "192.0.2.7"
