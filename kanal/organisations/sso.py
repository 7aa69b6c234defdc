"""OpenID Connect sign-in: the protocol half (no database writes).

Authorisation code flow with PKCE (S256), ``state`` and ``nonce``, built on
Authlib's OAuth 2.0 pieces (grant URI, PKCE challenge, tokens) and joserfc
(Authlib's JOSE library) for the ID token. The provider is found by discovery
(``/.well-known/openid-configuration``, whose ``issuer`` must be the
configured one); its signing keys (JWKS) are cached and fetched again once
when an ID token names a key id Kanal has not seen (key rotation).

Every refusal is a ``SignInRefused`` with a reason code; the view turns it
into a Danish page and an audit entry (``actions.refuse_sign_in``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

FLOW_SESSION_KEY = "kanal_sso_flow"
SIGNED_IN_SESSION_KEY = "kanal_sso"
FLOW_MAX_AGE = 600
ALGORITHMS = ["RS256", "PS256", "ES256"]
SCOPE = "openid profile email groups"
METADATA_TTL = 3600
# amr values (RFC 8176) that say the person used more than a password.
MFA_METHODS = frozenset({"mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "sc"})

REASONS = {
    "state_mismatch": _(
        "Svaret fra login-tjenesten passer ikke til et login, der er startet "
        "her (forkert eller manglende state). Start forfra fra Kanals "
        "login-side."
    ),
    "provider_error": _(
        "Login-tjenesten afbrød login. Start forfra; sker det igen, kontakt "
        "kommunens IT-afdeling."
    ),
    "code_rejected": _(
        "Login-tjenesten afviste login-koden: den er allerede brugt eller "
        "udløbet. Start forfra fra Kanals login-side."
    ),
    "unknown_issuer": _(
        "Svaret kommer fra en anden login-tjeneste end den, din organisation "
        "har sat op. Ingen er logget ind. Start forfra; sker det igen, kontakt "
        "kommunens IT-afdeling."
    ),
    "token_invalid": _(
        "Login-beviset (ID-token) fra login-tjenesten kunne ikke godkendes "
        "(ugyldig signatur eller forkert modtager). Ingen er logget ind. Start "
        "forfra; sker det igen, kontakt kommunens IT-afdeling."
    ),
    "token_expired": _(
        "Login-beviset (ID-token) fra login-tjenesten er udløbet. Start forfra "
        "fra Kanals login-side."
    ),
    "clock_skew": _(
        "Login-beviset er udstedt ud i fremtiden: Kanals ur og login-tjenestens "
        "ur går for forskelligt. Bed kommunens IT-afdeling tjekke urene "
        "(NTP) på begge servere."
    ),
    "provider_unreachable": _(
        "Kanal kan ikke nå login-tjenesten lige nu. Prøv igen om lidt, eller "
        "log ind med adgangskode, hvis din organisation tillader det."
    ),
    "mfa_missing": _(
        "Din organisation kræver to-faktor-login, men login-tjenesten har ikke "
        "bekræftet det. Log ind igen med to-faktor hos login-tjenesten."
    ),
    "unknown_role": _(
        "Din gruppe hos login-tjenesten giver en rolle eller forvaltning, som "
        "Kanal ikke kender. Bed din administrator rette tilknytningen af "
        "grupper til roller under Organisation → Fælles login."
    ),
    "no_group": _(
        "Ingen af dine grupper hos login-tjenesten giver adgang til Kanal. Bed "
        "din administrator om at få den rette gruppe."
    ),
    "inactive": _(
        "Dit medlemskab af organisationen er deaktiveret. Kontakt din "
        "administrator."
    ),
    "not_configured": _(
        "Fælles login er ikke sat op for denne organisation. Log ind med "
        "adgangskode, eller kontakt din administrator."
    ),
}


class SignInRefused(Exception):
    """A sign-in that must not succeed. ``reason`` is a key of ``REASONS``."""

    def __init__(self, reason: str, *, detail: str = "", subject: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.subject = subject

    @property
    def message(self) -> str:
        return str(REASONS[self.reason])


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str = ""


def redirect_uri() -> str:
    """The one redirect URI an IdP registers for Kanal (all organisations)."""
    return settings.KANAL_BASE_URL.rstrip("/") + reverse("sso_callback")


def post_logout_redirect_uri() -> str:
    return settings.KANAL_BASE_URL.rstrip("/") + reverse("login")


def _get_json(url: str) -> dict:
    try:
        response = httpx.get(url, timeout=10, follow_redirects=False)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise SignInRefused("provider_unreachable", detail=f"{url}: {e}") from e


def discover(issuer: str) -> ProviderMetadata:
    """The provider's endpoints (cached an hour). Refuses a document whose
    ``issuer`` is not the configured one (OpenID Connect Discovery 4.3)."""
    key = f"kanal:sso:metadata:{issuer}"
    document = cache.get(key)
    if document is None:
        document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if document.get("issuer") != issuer:
            raise SignInRefused(
                "unknown_issuer",
                detail=f"discovery names {document.get('issuer')!r}",
            )
        cache.set(key, document, METADATA_TTL)
    try:
        return ProviderMetadata(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=document.get("end_session_endpoint", ""),
        )
    except KeyError as e:
        raise SignInRefused("provider_unreachable", detail=f"missing {e}") from e


def signing_keys(metadata: ProviderMetadata, *, refresh: bool = False) -> KeySet:
    key = f"kanal:sso:jwks:{metadata.jwks_uri}"
    document = None if refresh else cache.get(key)
    if document is None:
        document = _get_json(metadata.jwks_uri)
        cache.set(key, document, METADATA_TTL)
    return KeySet.import_key_set(document)


def begin(request, config, *, next_url: str = "") -> str:
    """Start a sign-in: remember state, nonce and the PKCE verifier in the
    session; return the provider's authorisation URL."""
    metadata = discover(config.issuer)
    flow = {
        "organisation": config.organisation_id,
        "state": generate_token(32),
        "nonce": generate_token(32),
        "verifier": generate_token(64),
        "at": time.time(),
        "next": next_url,
    }
    request.session[FLOW_SESSION_KEY] = flow
    return prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id=config.client_id,
        response_type="code",
        redirect_uri=redirect_uri(),
        scope=SCOPE,
        state=flow["state"],
        nonce=flow["nonce"],
        code_challenge=create_s256_code_challenge(flow["verifier"]),
        code_challenge_method="S256",
    )


def take_flow(request) -> dict:
    """The pending sign-in, removed from the session (used once)."""
    flow = request.session.pop(FLOW_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not flow or not state or state != flow["state"]:
        raise SignInRefused("state_mismatch")
    if time.time() - flow["at"] > FLOW_MAX_AGE:
        raise SignInRefused("state_mismatch", detail="flow too old")
    return flow


def complete(request, config, flow: dict) -> dict:
    """Finish the sign-in the provider sent back: check its answer, redeem
    the code (with the PKCE verifier), validate the ID token. Returns the ID
    token's claims plus ``id_token`` (kept for logout)."""
    if request.GET.get("error"):
        raise SignInRefused(
            "provider_error",
            detail=f"{request.GET['error']}: {request.GET.get('error_description')}",
        )
    metadata = discover(config.issuer)
    # RFC 9207: the provider says who it is, against mix-up attacks.
    returned_issuer = request.GET.get("iss")
    if returned_issuer is not None and returned_issuer != metadata.issuer:
        raise SignInRefused("unknown_issuer", detail=f"iss={returned_issuer!r}")
    code = request.GET.get("code", "")
    if not code:
        raise SignInRefused("provider_error", detail="no code")
    tokens = _redeem(metadata, config, code=code, verifier=flow["verifier"])
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("token_invalid", detail="no id_token")
    claims = validate_id_token(
        id_token, metadata=metadata, client_id=config.client_id, nonce=flow["nonce"]
    )
    return {**claims, "id_token": id_token}


def _redeem(metadata: ProviderMetadata, config, *, code: str, verifier: str) -> dict:
    try:
        response = httpx.post(
            metadata.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri(),
                "code_verifier": verifier,
            },
            auth=(config.client_id, config.client_secret),
            headers={"Accept": "application/json"},
            timeout=10,
        )
    except httpx.HTTPError as e:
        raise SignInRefused("provider_unreachable", detail=str(e)) from e
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 400 and body.get("error") == "invalid_grant":
        raise SignInRefused("code_rejected", detail=body.get("error_description", ""))
    if response.status_code != 200 or not isinstance(body, dict):
        raise SignInRefused(
            "provider_error", detail=f"token endpoint {response.status_code}: {body}"
        )
    return body


def validate_id_token(
    id_token: str, *, metadata: ProviderMetadata, client_id: str, nonce: str
) -> dict:
    """Check the ID token's signature (by its ``kid``, refetching the JWKS
    once for an unknown one), issuer, audience, nonce, and times within
    ``KANAL_SSO_LEEWAY`` seconds."""
    leeway = settings.KANAL_SSO_LEEWAY

    def key_for(guest):
        kid = guest.headers().get("kid")
        for refresh in (False, True):
            keys = signing_keys(metadata, refresh=refresh)
            if kid is None:
                return keys
            try:
                return keys.get_by_kid(kid)
            except (ValueError, KeyError, JoseError):
                continue
        raise SignInRefused("token_invalid", detail=f"unknown kid {kid!r}")

    try:
        token = jwt.decode(id_token, key_for, algorithms=ALGORITHMS)
    except SignInRefused:
        raise
    except (JoseError, ValueError, TypeError) as e:
        raise SignInRefused("token_invalid", detail=repr(e)) from e
    claims = token.claims
    if claims.get("iss") != metadata.issuer:
        raise SignInRefused("unknown_issuer", detail=f"iss={claims.get('iss')!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences or (
        len(audiences) > 1 and claims.get("azp") != client_id
    ):
        raise SignInRefused("token_invalid", detail=f"aud={audience!r}")
    if not claims.get("nonce") or claims.get("nonce") != nonce:
        raise SignInRefused("token_invalid", detail="nonce mismatch")
    if not claims.get("sub"):
        raise SignInRefused("token_invalid", detail="no sub")
    now = time.time()
    try:
        issued, expires = float(claims["iat"]), float(claims["exp"])
    except (KeyError, TypeError, ValueError) as e:
        raise SignInRefused("token_invalid", detail="no iat/exp") from e
    if issued > now + leeway:
        raise SignInRefused(
            "clock_skew", detail=f"iat {issued - now:.0f}s ahead", subject=claims["sub"]
        )
    if expires < now - leeway:
        raise SignInRefused(
            "token_expired",
            detail=f"exp {now - expires:.0f}s ago",
            subject=claims["sub"],
        )
    return dict(claims)


def has_second_factor(claims: dict) -> bool:
    return bool(MFA_METHODS & set(claims.get("amr") or []))


def logout_url(signed_in: dict) -> str:
    """Where to send a person signing out of an SSO session (RP-initiated
    logout), or "" when the provider offers no end-session endpoint."""
    endpoint = signed_in.get("end_session_endpoint")
    if not endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": signed_in.get("id_token", ""),
            "post_logout_redirect_uri": post_logout_redirect_uri(),
            "client_id": signed_in.get("client_id", ""),
        }
    )
    return f"{endpoint}?{query}"
