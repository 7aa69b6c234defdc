"""Single sign-on against a real OpenID provider (panva's oidc-provider on
loopback): the happy path, the unknown person, and each kind of bad input
the provider can produce. Token-validation cases the provider will not
produce (a foreign signature, a rotated key) are in test_sso_tokens.py."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import time_machine
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.organisations import sso_actions
from kanal.organisations.models import ExternalIdentity, SingleSignOn
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import (
    AdministrationFactory,
    MembershipFactory,
    UserFactory,
)

from .oidc import CLIENT_ID, CLIENT_SECRET, running_provider
from .oidc.flow import sign_in_at_provider

CALLBACK = "http://testserver/konto/sso/retur/"


@pytest.fixture(scope="module")
def issuer():
    with running_provider([CALLBACK], ["http://testserver/konto/log-ind/"]) as url:
        yield url


@pytest.fixture(autouse=True)
def _base_url(settings):
    # The provider's metadata and keys are cached in the database cache,
    # which each test's transaction rolls back.
    settings.KANAL_BASE_URL = "http://testserver"


@pytest.fixture
def desk(organisation, issuer):
    kff = AdministrationFactory(
        organisation=organisation, code="KFF", name="Kultur", is_central_desk=True
    )
    buf = AdministrationFactory(organisation=organisation, code="BUF", name="Børn")
    config = sso_actions.configure_single_sign_on(
        organisation,
        actor=None,
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        group_roles=[
            {"group": "kanal-redaktion", "role": "admin", "administration": "KFF"},
            {"group": "kanal-buf", "role": "contributor", "administration": "BUF"},
        ],
    )
    ada = MembershipFactory(
        organisation=organisation,
        administration=buf,
        role=Role.ANALYST,
        user=UserFactory(username="ada.kanal", email="ada@kommune.example"),
    )
    sso_actions.link_identity(ada, actor=None, subject="ada")
    return config, ada, kff


def _provider_answer(client, login="ada", password="Ada-kode-1"):
    """Start at Kanal, sign in at the provider; the callback's path + query."""
    response = client.get("/konto/sso/testkommune/")
    assert response.status_code == 302
    back = sign_in_at_provider(response["Location"], login, password)
    assert back.startswith(CALLBACK)
    return back.removeprefix("http://testserver")


def _refusals(reason):
    return AuditEntry.objects.filter(
        event="organisations.sso.refused", changes__reason=reason
    )


def _assert_nobody_signed_in(client):
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_member_signs_in_with_the_role_their_group_maps_to(client, desk):
    _config, ada, kff = desk
    response = client.get(_provider_answer(client))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    ada.refresh_from_db()
    assert (ada.role, ada.administration) == (Role.ADMIN, kff)
    login = AuditEntry.objects.get(event="organisations.user.logged_in")
    assert login.changes["method"] == "sso"
    assert login.changes["subject"] == "ada"
    assert login.changes["second_factor"] == "identity_provider"
    assert login.changes["amr"] == ["pwd", "mfa"]
    changed = AuditEntry.objects.get(event="organisations.membership.changed")
    assert changed.changes["role"] == [Role.ANALYST, Role.ADMIN]
    assert ExternalIdentity.objects.get(subject="ada").last_login_at is not None


def test_authorisation_request_uses_pkce_state_and_nonce(client, desk):
    response = client.get("/konto/sso/testkommune/")
    query = parse_qs(urlparse(response["Location"]).query)
    flow = client.session["kanal_sso_flow"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"] == [flow["state"]]
    assert query["nonce"] == [flow["nonce"]]
    assert flow["verifier"] not in response["Location"]


def test_unknown_person_is_asked_to_see_an_administrator(client, desk):
    # "ukendt" has Ada's e-mail address at the provider: no match by e-mail.
    response = client.get(
        _provider_answer(client, login="ukendt", password="Ukendt-kode-1")
    )
    assert response.status_code == 403
    assert "Spørg din administrator" in response.content.decode()
    assert "ukendt" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("unknown_person").get().changes["subject"] == "ukendt"


def test_linked_subject_lets_the_person_in_after_the_administrator_acts(
    client, desk, organisation
):
    _config, ada, kff = desk
    bo = MembershipFactory(
        organisation=organisation, administration=kff, role=Role.EDITOR
    )
    assert client.get(_provider_answer(client, "bo", "Bo-kode-1")).status_code == 403
    ada.role = Role.ADMIN
    ada.save()
    sso_actions.link_identity(bo, actor=ada, subject="bo")
    assert client.get(_provider_answer(client, "bo", "Bo-kode-1")).status_code == 302
    bo.refresh_from_db()
    assert bo.role == Role.CONTRIBUTOR
    assert bo.administration.code == "BUF"


def test_replayed_authorisation_code_is_refused(client, desk):
    answer = _provider_answer(client)
    assert client.get(answer).status_code == 302
    client.post("/konto/log-ud/")
    # A fresh sign-in (new state) fed the code that was already redeemed.
    client.get("/konto/sso/testkommune/")
    code = parse_qs(urlparse(answer).query)["code"][0]
    state = client.session["kanal_sso_flow"]["state"]
    query = urlencode({"code": code, "state": state})
    response = client.get(f"/konto/sso/retur/?{query}")
    assert response.status_code == 400
    assert "allerede brugt eller udløbet" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("code_rejected").count() == 1


def test_state_mismatch_is_refused_and_the_code_left_unused(client, desk):
    answer = _provider_answer(client)
    response = client.get(answer.replace("state=", "state=x"))
    assert response.status_code == 400
    assert "forkert eller manglende state" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("state_mismatch").count() == 1
    # The flow is spent: the genuine answer afterwards is refused too.
    assert client.get(answer).status_code == 400


def test_answer_naming_another_issuer_is_refused(client, desk):
    answer = _provider_answer(client)
    query = parse_qs(urlparse(answer).query)
    query["iss"] = ["https://andet-idp.example"]
    response = client.get("/konto/sso/retur/?" + urlencode(query, doseq=True))
    assert response.status_code == 400
    assert "anden login-tjeneste" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("unknown_issuer").count() == 1


def test_expired_id_token_is_refused(client, desk):
    answer = _provider_answer(client)
    # The provider's ID tokens live 120 s; Kanal allows 60 s of leeway.
    with time_machine.travel(timezone.now() + timedelta(seconds=240)):
        response = client.get(answer)
    assert response.status_code == 400
    assert "udløbet" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("token_expired").count() == 1


def test_clock_skew_beyond_leeway_is_refused(client, desk):
    answer = _provider_answer(client)
    with time_machine.travel(timezone.now() - timedelta(seconds=300)):
        response = client.get(answer)
    assert response.status_code == 400
    assert "urene" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("clock_skew").count() == 1


def test_clock_skew_within_leeway_is_accepted(client, desk):
    answer = _provider_answer(client)
    with time_machine.travel(timezone.now() - timedelta(seconds=30)):
        assert client.get(answer).status_code == 302


def test_group_mapped_to_a_role_that_does_not_exist_is_refused(client, desk):
    config, ada, _kff = desk
    SingleSignOn.objects.filter(pk=config.pk).update(
        group_roles=[
            {
                "group": "kanal-redaktion",
                "role": "chefredaktør",
                "administration": "KFF",
            }
        ]
    )
    response = client.get(_provider_answer(client))
    assert response.status_code == 400
    assert "rolle eller forvaltning" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert _refusals("unknown_role").count() == 1
    ada.refresh_from_db()
    assert ada.role == Role.ANALYST


def test_identity_provider_second_factor_can_be_required(client, desk, organisation):
    config, _ada, kff = desk
    organisation.require_two_factor = True
    organisation.save()
    SingleSignOn.objects.filter(pk=config.pk).update(require_mfa_claim=True)
    bo = MembershipFactory(organisation=organisation, administration=kff)
    sso_actions.link_identity(bo, actor=None, subject="bo")
    SingleSignOn.objects.filter(pk=config.pk).update(
        group_roles=[
            {"group": "kanal-buf", "role": "editor", "administration": "KFF"},
            {"group": "kanal-redaktion", "role": "admin", "administration": "KFF"},
        ]
    )
    # Bo's provider login was a password only (amr ["pwd"]).
    response = client.get(_provider_answer(client, "bo", "Bo-kode-1"))
    assert response.status_code == 400
    _assert_nobody_signed_in(client)
    assert _refusals("mfa_missing").count() == 1
    # Ada's said "mfa": in, and Kanal does not ask for its own code.
    assert client.get(_provider_answer(client)).status_code == 302
    assert client.get("/").status_code == 200


def test_logout_ends_the_session_at_the_provider_too(client, desk, issuer):
    client.get(_provider_answer(client))
    response = client.post("/konto/log-ud/")
    assert response.status_code == 200
    assert "Du er logget ud af Kanal" in response.content.decode()
    target = urlparse(response.context["url"])
    assert f"{target.scheme}://{target.netloc}" == issuer
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/konto/log-ind/"]
    assert query["id_token_hint"][0].count(".") == 2
    _assert_nobody_signed_in(client)


def test_local_passwords_are_for_break_glass_administrators_only(client, desk):
    from kanal.organisations.tests.factories import PASSWORD

    config, ada, _kff = desk
    response = client.post(
        "/konto/log-ind/", {"username": "ada.kanal", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "fælles login" in response.content.decode()
    _assert_nobody_signed_in(client)
    assert AuditEntry.objects.filter(
        event="organisations.user.login_refused"
    ).exists()
    # An administrator with a second factor keeps the password way in, and
    # is then asked for the code.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    ada.role = Role.ADMIN
    ada.save()
    TOTPDevice.objects.create(user=ada.user, confirmed=True, name="Kanal")
    response = client.post(
        "/konto/log-ind/", {"username": "ada.kanal", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/konto/log-ind/kode/"
    # The organisation may keep passwords for everyone.
    SingleSignOn.objects.filter(pk=config.pk).update(local_passwords="all")
    ada.role = Role.ANALYST
    ada.save()
    TOTPDevice.objects.all().delete()
    client.logout()
    response = client.post(
        "/konto/log-ind/", {"username": "ada.kanal", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_page_offers_the_organisations_sign_in(client, desk):
    response = client.get("/konto/log-ind/")
    assert "Log ind med Testkommunes login" in response.content.decode()
    assert 'href="/konto/sso/testkommune/"' in response.content.decode()


def test_refusals_from_one_address_are_audited_only_up_to_its_limit(
    client, desk, settings
):
    settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES = 2
    answers = [client.get("/konto/sso/retur/?code=x&state=y") for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert "For mange mislykkede forsøg" in answers[2].content.decode()
    assert _refusals("state_mismatch").count() == 2
    # A good sign-in from another address is not held up.
    other = type(client)(REMOTE_ADDR="10.1.2.3")
    assert other.get(_provider_answer(other)).status_code == 302
