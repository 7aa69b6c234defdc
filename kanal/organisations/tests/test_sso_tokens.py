"""ID tokens the real provider will not produce: a foreign signature, a
rotated signing key, the wrong audience or nonce, a discovery document of
another issuer. A provider at https://idp.test is stubbed with respx (its
discovery, JWKS and token endpoint), signing with keys made here."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import respx
from joserfc import jwt
from joserfc.jwk import RSAKey

from kanal.core.models import AuditEntry
from kanal.organisations import sso_actions
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory, MembershipFactory

ISSUER = "https://idp.test"
KEY_A = RSAKey.generate_key(2048, parameters={"kid": "a"}, private=True)
KEY_B = RSAKey.generate_key(2048, parameters={"kid": "b"}, private=True)
STRANGER = RSAKey.generate_key(2048, parameters={"kid": "a"}, private=True)


def _jwks(*keys):
    return {"keys": [k.as_dict(private=False) for k in keys]}


@pytest.fixture
def person(organisation, settings):
    settings.KANAL_BASE_URL = "http://testserver"
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    sso_actions.configure_single_sign_on(
        organisation,
        actor=None,
        issuer=ISSUER,
        client_id="kanal",
        client_secret="hemmelig",
    )
    membership = MembershipFactory(
        organisation=organisation, administration=kff, role=Role.EDITOR
    )
    sso_actions.link_identity(membership, actor=None, subject="person-1")
    return membership


@pytest.fixture
def idp():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mock.get(f"{ISSUER}/.well-known/openid-configuration").respond(
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
                "end_session_endpoint": f"{ISSUER}/logout",
            }
        )
        yield mock


def _sign_in(client, idp, *, key=KEY_A, jwks=((KEY_A,),), **overrides):
    """Start a sign-in, let the stub provider answer with an ID token signed
    by ``key`` (claims changed by ``overrides``); the callback's response."""
    start = client.get("/konto/sso/testkommune/")
    query = parse_qs(urlparse(start["Location"]).query)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "person-1",
        "aud": "kanal",
        "iat": now,
        "exp": now + 300,
        "nonce": query["nonce"][0],
        **overrides,
    }
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    jwks_route = idp.get(f"{ISSUER}/jwks")
    jwks_route.side_effect = [httpx.Response(200, json=_jwks(*k)) for k in jwks]
    idp.post(f"{ISSUER}/token").respond(json={"id_token": token})
    return client.get(f"/konto/sso/retur/?code=c&state={query['state'][0]}")


def _refused(reason):
    return AuditEntry.objects.filter(
        event="organisations.sso.refused", changes__reason=reason
    ).count()


def test_token_signed_by_the_provider_signs_in(client, person, idp):
    assert _sign_in(client, idp).status_code == 302
    assert client.get("/").status_code == 200


def test_token_with_a_foreign_signature_is_refused(client, person, idp):
    response = _sign_in(client, idp, key=STRANGER)
    assert response.status_code == 400
    assert "ugyldig signatur" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _refused("token_invalid") == 1


def test_rotated_key_is_fetched_once_when_a_token_names_it(client, person, idp):
    # Kanal has key "a" cached; the provider now signs with "b".
    assert _sign_in(client, idp).status_code == 302
    client.post("/konto/log-ud/")
    response = _sign_in(client, idp, key=KEY_B, jwks=[(KEY_A, KEY_B)])
    assert response.status_code == 302
    # Once for the first sign-in, once more for the unknown key id.
    assert [c.request.url.path for c in idp.calls].count("/jwks") == 2


def test_unknown_key_after_refetch_is_refused(client, person, idp):
    response = _sign_in(client, idp, key=KEY_B, jwks=[(KEY_A,), (KEY_A,)])
    assert response.status_code == 400
    assert _refused("token_invalid") == 1


@pytest.mark.parametrize(
    "claim, value",
    [("aud", "en-anden-klient"), ("nonce", "genbrugt"), ("sub", "")],
)
def test_token_for_someone_else_is_refused(client, person, idp, claim, value):
    response = _sign_in(client, idp, **{claim: value})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert _refused("token_invalid") == 1


def test_token_from_another_issuer_is_refused(client, person, idp):
    response = _sign_in(client, idp, iss="https://andet-idp.test")
    assert response.status_code == 400
    assert _refused("unknown_issuer") == 1


def test_discovery_naming_another_issuer_is_refused(client, person, idp):
    idp.get(f"{ISSUER}/.well-known/openid-configuration").respond(
        json={"issuer": "https://andet-idp.test"}
    )
    response = client.get("/konto/sso/testkommune/")
    assert response.status_code == 400
    assert "anden login-tjeneste" in response.content.decode()
    assert _refused("unknown_issuer") == 1


def test_unreachable_provider_is_said_plainly(client, person, idp):
    idp.get(f"{ISSUER}/.well-known/openid-configuration").respond(503)
    response = client.get("/konto/sso/testkommune/")
    assert response.status_code == 400
    assert "kan ikke nå login-tjenesten" in response.content.decode()
