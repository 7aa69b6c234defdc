"""Shared helpers for Meta's Graph APIs (Facebook Pages, Instagram, Threads).

All three answer errors with the same envelope::

    {"error": {"message": "…", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "is_transient": false,
               "error_user_title": "…", "error_user_msg": "…",
               "fbtrace_id": "…"}}

``translate`` turns such a response into one of Kanal's errors, with a Danish
message, a retry hint read from the rate-limit headers
(``X-Business-Use-Case-Usage``, ``X-App-Usage``, ``Retry-After``) and the
network's code in ``network_code`` (``"code/subcode"`` when there is a
subcode, else the bare code as ``int``). ``parse_error`` gives the raw
envelope to adapters that must act on a specific code (an expired container is
recreated, not reported).

Also here: webhook signatures (``X-Hub-Signature-256``), the hub challenge,
and the token exchange/refresh calls the three networks share.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from .base import TokenSet
from .errors import (
    AuthExpired,
    NetworkError,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)
from .http import NetworkClient, retry_after_seconds

# --------------------------------------------------------------------------
# The error envelope

#: Codes Meta documents as "temporary, retry".
TRANSIENT_CODES = frozenset({1, 2})
#: Rate-limit codes (app, user, page, custom, BUC for Pages and Instagram).
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002, 80003, 80004,
                            80005, 80006, 80008, 80009, 80014})
#: Code 190 subcodes (458 app not installed … 467 invalid token).
AUTH_SUBCODES = frozenset(range(458, 468))

SUBCODE_QUOTA = 2207042  # code 9: the 24 h publishing limit
SUBCODE_NOT_READY = 2207027  # code 9007: published before FINISHED
SUBCODE_EXPIRED_CONTAINER = 2207020  # code -2
SUBCODE_SERVER_ERROR = 2207001  # code -1
SUBCODE_DOWNLOAD_TIMEOUT = 2207003  # code -2
SUBCODE_IMAGE_TOO_LARGE = 2207004  # code 36000
SUBCODE_SPAM = 2207051  # code 4
SUBCODE_BUILDER_NOT_FOUND = 2207008  # code 24
SUBCODE_CREATE_FAILED = 2207032  # code -1

# Platform rate limits use a rolling hour; without a better hint, wait a while.
DEFAULT_THROTTLE_SECONDS = 300.0
NOT_READY_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class GraphError:
    """The ``error`` object of a Graph response, or a stand-in for a bare one."""

    code: int | None
    subcode: int | None = None
    message: str = ""
    type: str = ""
    is_transient: bool = False
    user_title: str = ""
    user_message: str = ""
    fbtrace_id: str = ""

    @property
    def network_code(self) -> str | int | None:
        if self.subcode:
            return f"{self.code}/{self.subcode}"
        return self.code

    def matches(self, code: int, subcode: int | None = None) -> bool:
        return self.code == code and (subcode is None or self.subcode == subcode)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_error(response: httpx.Response) -> GraphError | None:
    """The Graph error in ``response``, or None for a success.

    A failing status without an envelope (a proxy's HTML 502) gives a
    ``GraphError`` with ``code=None``.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return GraphError(
            code=_int_or_none(error.get("code")),
            subcode=_int_or_none(error.get("error_subcode")),
            message=str(error.get("message", "")),
            type=str(error.get("type", "")),
            is_transient=bool(error.get("is_transient", False)),
            user_title=str(error.get("error_user_title", "")),
            user_message=str(error.get("error_user_msg", "")),
            fbtrace_id=str(error.get("fbtrace_id", "")),
        )
    if response.status_code >= 400:
        return GraphError(code=None, message=response.reason_phrase or "")
    return None


def is_transient(error: GraphError | Mapping | None) -> bool:
    """Whether retrying the same call later may succeed without any change."""
    if error is None:
        return False
    if isinstance(error, Mapping):
        inner = error.get("error", error)
        error = GraphError(
            code=_int_or_none(inner.get("code")),
            subcode=_int_or_none(inner.get("error_subcode")),
            is_transient=bool(inner.get("is_transient", False)),
        )
    if error.code in TRANSIENT_CODES:
        return True
    if error.matches(-1, SUBCODE_SERVER_ERROR) or error.matches(
        -2, SUBCODE_DOWNLOAD_TIMEOUT
    ):
        return True
    if error.matches(9007, SUBCODE_NOT_READY):
        return True
    if error.code in THROTTLE_CODES and error.subcode != SUBCODE_SPAM:
        return True
    return error.is_transient


# --------------------------------------------------------------------------
# Rate-limit headers


@dataclass(frozen=True)
class Usage:
    """What the usage headers say: the highest percentage, and the wait."""

    percent: int = 0
    regain_seconds: float | None = None

    @property
    def throttled(self) -> bool:
        return self.percent >= 100


def _load_header(headers: Mapping[str, str], name: str):
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def usage_from_headers(headers: Mapping[str, str]) -> Usage:
    """Read ``X-Business-Use-Case-Usage`` and ``X-App-Usage``.

    BUC entries carry ``estimated_time_to_regain_access`` in minutes; the app
    header only has percentages.
    """
    percent = 0
    regain_minutes: float | None = None
    buc = _load_header(headers, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if not isinstance(entry, dict):
                    continue
                for key in ("call_count", "total_cputime", "total_time"):
                    percent = max(percent, _int_or_none(entry.get(key)) or 0)
                minutes = _int_or_none(entry.get("estimated_time_to_regain_access"))
                if minutes:
                    regain_minutes = max(regain_minutes or 0, minutes)
    for name in ("x-app-usage", "x-ad-account-usage"):
        app = _load_header(headers, name)
        if isinstance(app, dict):
            for key in ("call_count", "total_cputime", "total_time"):
                percent = max(percent, _int_or_none(app.get(key)) or 0)
    regain = regain_minutes * 60.0 if regain_minutes else None
    return Usage(percent=percent, regain_seconds=regain)


def retry_hint(response: httpx.Response) -> float | None:
    """Seconds to wait before the next call, from any header that says so."""
    after = retry_after_seconds(response)
    if after is not None:
        return after
    usage = usage_from_headers(response.headers)
    if usage.regain_seconds is not None:
        return usage.regain_seconds
    if usage.throttled:
        return DEFAULT_THROTTLE_SECONDS
    return None


# --------------------------------------------------------------------------
# Envelope → Kanal error


def error_for(
    error: GraphError,
    *,
    http_status: int | None = None,
    retry_after: float | None = None,
    network: str = "",
    now: datetime | None = None,
) -> NetworkError:
    """Kanal's error for one Graph error."""
    kw = {
        "network": network,
        "network_code": error.network_code,
        "network_message": error.message,
        "http_status": http_status,
    }
    code, sub = error.code, error.subcode

    if code == 9 and sub == SUBCODE_QUOTA:
        wait = retry_after if retry_after is not None else 3600.0
        return QuotaExhausted(
            retry_after=wait,
            reset_at=(now or datetime.now(UTC)) + timedelta(seconds=wait),
            **kw,
        )
    if code == 4 and sub == SUBCODE_SPAM:
        return Rejected(
            "Netværket har midlertidigt begrænset kontoen, fordi aktiviteten "
            "ligner spam. Vent med at udgive, og tjek kontoen i appen.",
            **kw,
        )
    if code == 9007 or sub == SUBCODE_NOT_READY:
        return TransientError(
            "Netværket var ikke færdigt med at behandle mediet. "
            "Kanal prøver igen om lidt.",
            retry_after=retry_after or NOT_READY_RETRY_SECONDS,
            **kw,
        )
    if sub == SUBCODE_EXPIRED_CONTAINER:
        return Rejected(
            "Det forberedte opslag udløb, før det blev udgivet (efter 24 timer). "
            "Kanal skal forberede det igen.",
            **kw,
        )
    if sub == SUBCODE_IMAGE_TOO_LARGE or code == 36000:
        return Rejected(
            "Billedet er for stort (højst 8 MB). Gem det mindre, og prøv igen.",
            **kw,
        )
    if sub == SUBCODE_BUILDER_NOT_FOUND or code == 24:
        return Rejected(
            "Netværket kunne ikke finde det forberedte opslag. "
            "Kanal skal forberede det igen.",
            **kw,
        )
    if code in (-1, -2) and sub in (SUBCODE_SERVER_ERROR, SUBCODE_DOWNLOAD_TIMEOUT):
        return TransientError(retry_after=retry_after, **kw)
    if code in (-1, -2) and sub == SUBCODE_CREATE_FAILED:
        return Rejected(
            "Netværket kunne ikke lave opslaget ud fra mediet. Tjek at filen "
            "er et gyldigt billede eller en video, og prøv igen.",
            **kw,
        )
    if code in THROTTLE_CODES:
        return RateLimited(retry_after=retry_after or DEFAULT_THROTTLE_SECONDS, **kw)
    if code == 190 or code == 102:
        return AuthExpired(**kw)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return AuthExpired(
            "Kanal mangler tilladelse til dette på kontoen. En administrator "
            "skal forbinde kanalen igen og give de nødvendige tilladelser.",
            **kw,
        )
    if code == 368:
        return Rejected(
            "Netværket har midlertidigt blokeret kontoen for brud på dets "
            "regler. Vent, og tjek kontoens status i appen, før I prøver igen.",
            **kw,
        )
    if code == 506:
        return Rejected(
            "Netværket afviste opslaget som en dublet af et tidligere opslag. "
            "Ret teksten, hvis det skal ud igen.",
            **kw,
        )
    if code == 1609005:
        return Rejected(
            "Netværket kunne ikke hente linket. Tjek at adressen virker.", **kw
        )
    if "LINK_LIMIT_EXCEEDED" in f"{error.message} {error.user_title}":
        return Rejected(
            "Opslaget har for mange links (højst 5). Fjern nogle, og prøv igen.",
            **kw,
        )
    if is_transient(error) or (http_status or 0) >= 500:
        return TransientError(retry_after=retry_after, **kw)
    if http_status == 429:
        return RateLimited(retry_after=retry_after or DEFAULT_THROTTLE_SECONDS, **kw)
    if code == 100:
        return Rejected(
            "Netværket afviste en oplysning i opslaget"
            + (f": {error.user_message}" if error.user_message else ".")
            + " Ret opslaget, og prøv igen.",
            **kw,
        )
    if http_status in (401,):
        return AuthExpired(**kw)
    return Rejected(**kw)


def translate(response: httpx.Response, *, network: str = "") -> NetworkError | None:
    """``NetworkClient`` ``translate`` hook for every Graph network."""
    error = parse_error(response)
    if error is None:
        return None
    return error_for(
        error,
        http_status=response.status_code,
        retry_after=retry_hint(response),
        network=network,
    )


# --------------------------------------------------------------------------
# Webhooks


def sign(app_secret: str, raw_body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``raw_body``."""
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``X-Hub-Signature-256``) signs ``raw_body``.

    Computed over the raw bytes as received, never over re-serialised JSON.
    """
    if not app_secret or not header:
        return False
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    expected = sign(app_secret, raw_body).partition("=")[2]
    return hmac.compare_digest(expected, given.strip().lower())


def hub_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo for a subscription check, or None to refuse it."""
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


# --------------------------------------------------------------------------
# Tokens

#: Instagram and Threads refuse to refresh a long-lived token younger than 24 h.
MIN_REFRESH_AGE = timedelta(hours=24)
LONG_LIVED_LIFETIME = timedelta(days=60)


def token_set_from(body: Mapping, *, now: datetime | None = None) -> TokenSet:
    """A ``TokenSet`` from an ``access_token`` response."""
    now = now or datetime.now(UTC)
    expires_in = _int_or_none(body.get("expires_in"))
    expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    extra = {"issued_at": now.isoformat()}
    if body.get("token_type"):
        extra["token_type"] = str(body["token_type"])
    if body.get("user_id"):
        extra["user_id"] = str(body["user_id"])
    return TokenSet(
        access_token=str(body.get("access_token", "")),
        expires_at=expires_at,
        extra=extra,
    )


def token_request(
    client: NetworkClient,
    path: str,
    params: Mapping[str, str],
    *,
    network: str = "",
    now: datetime | None = None,
) -> TokenSet:
    """GET a token endpoint; a refused token raises ``AuthExpired``."""

    def translate_token(response: httpx.Response) -> NetworkError | None:
        error = translate(response, network=network)
        if isinstance(error, Rejected):
            return AuthExpired(
                network=network,
                network_code=error.network_code,
                network_message=error.network_message,
                http_status=error.http_status,
            )
        return error

    response = client.request("GET", path, params=dict(params),
                              translate=translate_token)
    body = response.json()
    if not body.get("access_token"):
        raise AuthExpired(network=network, network_message="no access_token")
    return token_set_from(body, now=now)


def exchange_facebook_token(
    client: NetworkClient, *, client_id: str, client_secret: str, short_token: str,
    now: datetime | None = None,
) -> TokenSet:
    """Short-lived Facebook user token → long-lived (~60 days)."""
    return token_request(
        client,
        "/oauth/access_token",
        {
            "grant_type": "fb_exchange_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "fb_exchange_token": short_token,
        },
        network="facebook",
        now=now,
    )


_LONG_LIVED_GRANTS = {
    "instagram": ("ig_exchange_token", "ig_refresh_token"),
    "threads": ("th_exchange_token", "th_refresh_token"),
}


def exchange_long_lived(
    client: NetworkClient, *, network: str, client_secret: str, short_token: str,
    now: datetime | None = None,
) -> TokenSet:
    """Short-lived Instagram/Threads token (1 h) → long-lived (60 days)."""
    grant = _LONG_LIVED_GRANTS[network][0]
    return token_request(
        client,
        "/access_token",
        {"grant_type": grant, "client_secret": client_secret,
         "access_token": short_token},
        network=network,
        now=now,
    )


def refresh_long_lived(
    client: NetworkClient, *, network: str, token: str,
    now: datetime | None = None,
) -> TokenSet:
    """Refresh a long-lived Instagram/Threads token for another 60 days."""
    grant = _LONG_LIVED_GRANTS[network][1]
    return token_request(
        client,
        "/refresh_access_token",
        {"grant_type": grant, "access_token": token},
        network=network,
        now=now,
    )


def token_issued_at(
    credentials: Mapping[str, str], expires_at: datetime | None
) -> datetime | None:
    """When the token was issued: stored ``issued_at``, else 60 days before expiry."""
    raw = credentials.get("issued_at") or credentials.get("token_issued_at")
    if raw:
        try:
            issued = datetime.fromisoformat(str(raw))
        except ValueError:
            issued = None
        if issued is not None:
            return issued if issued.tzinfo else issued.replace(tzinfo=UTC)
    if expires_at is not None:
        return expires_at - LONG_LIVED_LIFETIME
    return None


def refresh_allowed(issued_at: datetime | None, *, now: datetime | None = None) -> bool:
    """Whether a long-lived token is old enough (≥ 24 h) to be refreshed."""
    if issued_at is None:
        return True
    return (now or datetime.now(UTC)) - issued_at >= MIN_REFRESH_AGE
