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
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx

from . import reconcile
from .base import (
    AccountInfo,
    Checkpoint,
    Connection,
    InboxItem,
    InboxPage,
    Metric,
    NetworkAdapter,
    OutgoingMessage,
    OutgoingPost,
    PostState,
    PublishResult,
    TokenSet,
    check_id,
    text_of,
    usable_id,
    web_address,
)
from .errors import (
    AuthExpired,
    Duplicate,
    NetworkError,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    RecipientGone,
    Rejected,
    TransientError,
    gettext_noop,
)
from .http import (
    NetworkClient,
    error_json,
    iso_to_datetime,
    missing_in_answer,
    read_json,
    retry_after_seconds,
)

logger = logging.getLogger("kanal.networks.graph")

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
SUBCODE_MEDIA_DOWNLOAD_FAILED = 2207052  # code 9004: could not fetch the URL
# Messenger Send API (developers.facebook.com/docs/messenger-platform/error-codes)
SUBCODE_OUTSIDE_WINDOW = 2018278  # code 10: sent outside the allowed window
# The same refusal from Instagram's messaging API.
SUBCODE_OUTSIDE_WINDOW_INSTAGRAM = 2534022
CODE_RECIPIENT_UNAVAILABLE = 551  # "This person isn't available right now."
#: ``(#100) No matching user found``: the person a message answers is no
#: longer on the network (Messenger's subcode, then Instagram's).
SUBCODES_NO_MATCHING_USER = frozenset({2018001, 2534014})
#: ``(#100)`` with this subcode: the object does not exist (or is not visible).
SUBCODE_UNKNOWN_OBJECT = 33
NOT_FOUND_MESSAGE = gettext_noop(
    "Netværket kan ikke finde det. Det er måske slettet, eller kontoen har ikke "
    "adgang til det."
)

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
    body = error_json(response)
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
            gettext_noop(
                "Netværket har midlertidigt begrænset kontoen, fordi aktiviteten "
                "ligner spam. Vent med at udgive, og tjek kontoen i appen."
            ),
            **kw,
        )
    if code == 9007 or sub == SUBCODE_NOT_READY:
        return TransientError(
            gettext_noop(
                "Netværket var ikke færdigt med at behandle mediet. "
                "Kanal prøver igen om lidt."
            ),
            retry_after=retry_after or NOT_READY_RETRY_SECONDS,
            **kw,
        )
    if sub == SUBCODE_EXPIRED_CONTAINER:
        return Rejected(
            gettext_noop(
                "Det forberedte opslag udløb, før det blev udgivet (efter 24 timer). "
                "Kanal skal forberede det igen."
            ),
            **kw,
        )
    if sub == SUBCODE_IMAGE_TOO_LARGE or code == 36000:
        return Rejected(
            gettext_noop(
                "Billedet er for stort (højst 8 MB). Gem det mindre, og prøv igen."
            ),
            **kw,
        )
    if sub == SUBCODE_BUILDER_NOT_FOUND or code == 24:
        return Rejected(
            gettext_noop(
                "Netværket kunne ikke finde det forberedte opslag. "
                "Kanal skal forberede det igen."
            ),
            **kw,
        )
    if code in (-1, -2) and sub in (SUBCODE_SERVER_ERROR, SUBCODE_DOWNLOAD_TIMEOUT):
        return TransientError(retry_after=retry_after, **kw)
    if code in (-1, -2) and sub == SUBCODE_CREATE_FAILED:
        return Rejected(
            gettext_noop(
                "Netværket kunne ikke lave opslaget ud fra mediet. Tjek at filen "
                "er et gyldigt billede eller en video, og prøv igen."
            ),
            **kw,
        )
    if code in THROTTLE_CODES:
        return RateLimited(retry_after=retry_after or DEFAULT_THROTTLE_SECONDS, **kw)
    if code == 190 or code == 102:
        return AuthExpired(**kw)
    if code == 10 and sub in (SUBCODE_OUTSIDE_WINDOW,
                              SUBCODE_OUTSIDE_WINDOW_INSTAGRAM):
        return Rejected(
            gettext_noop(
                "Netværket afviste svaret, fordi borgerens seneste besked er for "
                "gammel (svar inden for 24 timer, eller 7 dage fra en medarbejder). "
                "Svar borgeren på en anden måde, eller vent på en ny besked."
            ),
            **kw,
        )
    if code == CODE_RECIPIENT_UNAVAILABLE:
        return Rejected(
            gettext_noop(
                "Borgeren kan ikke modtage beskeder fra siden lige nu (personen har "
                "måske blokeret siden eller slettet sin konto)."
            ),
            **kw,
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        return AuthExpired(
            gettext_noop(
                "Kanal mangler tilladelse til dette på kontoen. En administrator "
                "skal forbinde kanalen igen og give de nødvendige tilladelser."
            ),
            **kw,
        )
    if code == 368:
        return Rejected(
            gettext_noop(
                "Netværket har midlertidigt blokeret kontoen for brud på dets "
                "regler. Vent, og tjek kontoens status i appen, før I prøver igen."
            ),
            **kw,
        )
    if code == 506:
        return Duplicate(
            gettext_noop(
                "Netværket afviste opslaget som en dublet af et tidligere opslag. "
                "Tjek først, om det allerede ligger på siden; ret kun teksten, hvis "
                "det ikke gør."
            ),
            **kw,
        )
    if code == 9004 or sub == SUBCODE_MEDIA_DOWNLOAD_FAILED:
        return Rejected(
            gettext_noop(
                "Netværket kunne ikke hente mediet fra dets adresse. Tjek at filen "
                "findes og er et understøttet billede eller en video, og prøv igen."
            ),
            **kw,
        )
    if code == 1609005:
        return Rejected(
            gettext_noop(
                "Netværket kunne ikke hente linket. Tjek at adressen virker."
            ), **kw
        )
    if "LINK_LIMIT_EXCEEDED" in f"{error.message} {error.user_title}":
        return Rejected(
            gettext_noop(
                "Opslaget har for mange links (højst 5). Fjern nogle, og prøv igen."
            ),
            **kw,
        )
    if is_transient(error) or (http_status or 0) >= 500:
        return TransientError(retry_after=retry_after, **kw)
    if http_status == 429:
        return RateLimited(retry_after=retry_after or DEFAULT_THROTTLE_SECONDS, **kw)
    if code == 100 and sub in SUBCODES_NO_MATCHING_USER:
        return RecipientGone(**kw)
    if code == 100 and sub == SUBCODE_UNKNOWN_OBJECT:
        return Rejected(NOT_FOUND_MESSAGE, **kw)
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


def object_gone(error: NetworkError) -> bool:
    """Whether ``error`` answering a read of one object says it does not exist.

    Graph answers a read of a deleted post with 400, code 100, subcode 33
    ("Object with ID ... does not exist, cannot be loaded due to missing
    permissions, or does not support this operation"); an expired token or a
    missing permission has its own codes (190, 10, 200-299), so for the
    account's own post with a working token it means deleted. A plain 404 or
    410 says the same.
    """
    return isinstance(error, Rejected) and (
        error.network_code == f"100/{SUBCODE_UNKNOWN_OBJECT}"
        or error.http_status in (404, 410)
    )


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
    given = given.strip().lower()
    if not given.isascii():
        # compare_digest raises TypeError on non-ASCII str; a header a client
        # controls must give False, never an error.
        return False
    expected = sign(app_secret, raw_body).partition("=")[2]
    return hmac.compare_digest(expected.encode(), given.encode())


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for a Graph API token (none when empty)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


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
    method: str = "GET",
) -> TokenSet:
    """Call a token endpoint; a refused token raises ``AuthExpired``.

    GET sends ``params`` in the query, POST as a form.
    """

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

    if method.upper() == "POST":
        response = client.request("POST", path, data=dict(params),
                                  translate=translate_token)
    else:
        response = client.request("GET", path, params=dict(params),
                                  translate=translate_token)
    body = read_json(response, network=network)
    if not isinstance(body, dict) or not body.get("access_token"):
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
    now: datetime | None = None, root: str = "",
) -> TokenSet:
    """Short-lived Instagram/Threads token (1 h) → long-lived (60 days).

    ``root`` is the unversioned host (``https://graph.threads.net``) where the
    token endpoints live; without it the client's base URL is used.
    """
    grant = _LONG_LIVED_GRANTS[network][0]
    return token_request(
        client,
        f"{root}/access_token",
        {"grant_type": grant, "client_secret": client_secret,
         "access_token": short_token},
        network=network,
        now=now,
    )


def refresh_long_lived(
    client: NetworkClient, *, network: str, token: str,
    now: datetime | None = None, root: str = "",
) -> TokenSet:
    """Refresh a long-lived Instagram/Threads token for another 60 days."""
    grant = _LONG_LIVED_GRANTS[network][1]
    return token_request(
        client,
        f"{root}/refresh_access_token",
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


# --------------------------------------------------------------------------
# Inbox cursors: Graph timestamps have whole seconds, so the cursor keeps the
# newest time seen and the ids seen at exactly that time.


def listing(body) -> list[Mapping]:
    """The objects of a Graph listing's ``data``; anything else (a list
    where an object belongs, a string, a missing ``data``) is left out."""
    data = body.get("data") if isinstance(body, Mapping) else None
    return [entry for entry in data if isinstance(entry, Mapping)] if isinstance(
        data, list) else []


class InboxReader:
    """A Graph inbox's items, built one entry at a time: an entry Kanal
    cannot read (no usable id, a field of the wrong type) is skipped and
    counted, and the rest of the poll goes on, so one odd comment cannot
    stop a channel's inbox for good."""

    def __init__(self) -> None:
        self.items: list[InboxItem] = []
        self.skipped = 0

    def add(self, build: Callable[..., InboxItem], *args, **kwargs) -> None:
        try:
            item = build(*args, **kwargs)
        except (KeyError, TypeError, ValueError, AttributeError):
            item = None
        if item is None or not usable_id(item.remote_id):
            self.skipped += 1
            return
        self.items.append(item)

    def skip(self) -> None:
        self.skipped += 1


def inbox_page(
    items, since: str | None, *, own_handle: str = "", own_id: str = "",
    now: datetime | None = None, skipped: int = 0,
) -> InboxPage:
    """The items newer than cursor ``since`` (oldest first) and the next cursor.

    The account's own comments and replies (by handle or id) are left out.
    The cursor's time never passes ``now`` (Kanal's clock): an item stamped
    in the future is remembered by its id, not by its time, so it cannot hide
    every item before that time; a stored cursor whose time is in the future
    (from before this bound) is not trusted and the listing is read whole.
    """
    now = now or datetime.now(UTC)
    after, seen = _read_cursor(since)
    if after is not None and after > now:
        after, seen = None, set()
    fresh = [
        item for item in items
        if (after is None or item.created_at >= after)
        and item.remote_id not in seen
        and not (own_handle and item.author_name == own_handle)
        and not (own_id and item.author_id == own_id)
    ]
    fresh.sort(key=lambda item: item.created_at)
    if skipped:
        logger.warning("graph inbox: %d entries Kanal could not read were skipped",
                       skipped)
    return InboxPage(items=tuple(fresh), skipped=skipped,
                     cursor=_write_cursor(items, fresh, after, seen, now=now))


def _read_cursor(cursor: str | None) -> tuple[datetime | None, set[str]]:
    if not cursor:
        return None, set()
    try:
        state = json.loads(cursor)
        ids = state.get("ids", [])
        return (parse_time(state.get("t")),
                {str(i) for i in ids} if isinstance(ids, list) else set())
    except (ValueError, AttributeError):
        return parse_time(cursor), set()


def _write_cursor(listed, fresh, after: datetime | None, seen: set[str], *,
                  now: datetime) -> str:
    """The newest time seen up to ``now``, with the ids seen at that time and
    after it (items stamped in the future, still in the listing)."""
    newest = max((i.created_at for i in fresh if i.created_at <= now), default=after)
    if newest is None and not fresh and not seen:
        return ""
    known = seen | {item.remote_id for item in fresh}
    ids = {item.remote_id for item in listed
           if item.remote_id in known
           and (newest is None or item.created_at >= newest)}
    if newest == after:
        ids |= seen
    return json.dumps({"t": newest.isoformat() if newest else "",
                       "ids": sorted(ids)})


# --------------------------------------------------------------------------
# Container publishing (Instagram and Threads)

CONTAINER_DONE = "FINISHED"
CONTAINER_PUBLISHED = "PUBLISHED"
CONTAINER_GONE = frozenset({"EXPIRED", "ERROR", "MISSING"})


def search_listing(
    read: Callable[[dict], Mapping],
    params: Mapping,
    search: reconcile.ReplySearch,
    candidate: Callable[[Mapping], tuple[reconcile.Candidate, bool | None] | None],
    *,
    pages: int,
) -> reconcile.Candidate | None:
    """Feed a Graph listing (newest first, ``after`` cursors, at most
    ``pages`` pages; ``read(query)`` returns one page) into ``search``.

    ``candidate(entry)`` turns an entry into ``(candidate, own)``, ``own``
    saying whether it is the account's (None: the network did not say), or
    None to pass it over. The found entry; None when certainly not there.
    """
    query = dict(params)
    read_all = False
    for _ in range(pages):
        body = read(query)
        for entry in body.get("data", []):
            offered = candidate(entry) if isinstance(entry, Mapping) else None
            if offered is not None and search.offer(offered[0], own=offered[1]):
                break
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if search.found is not None or not paging.get("next") or not after:
            read_all = True
            break
        query["after"] = after
    return search.result(read_all=read_all)


def parse_time(value) -> datetime | None:
    """A Graph timestamp (``2026-11-28T10:00:00+0000``) as an aware datetime."""
    return iso_to_datetime(value)


def metric_value(entry: Mapping) -> int | None:
    """The number in one ``insights`` entry (``total_value`` or ``values``)."""
    total = entry.get("total_value")
    if isinstance(total, Mapping) and "value" in total:
        return _int_or_none(total.get("value"))
    values = entry.get("values")
    if isinstance(values, list) and values:
        numbers = [_int_or_none(v.get("value")) for v in values if isinstance(v, dict)]
        numbers = [n for n in numbers if n is not None]
        if not numbers:
            return None
        return numbers[0] if len(numbers) == 1 else sum(numbers)
    return None


def insight_metrics(body: Mapping, names: Mapping[str, str],
                    version: str) -> list[Metric]:
    """The ``insights`` entries named in ``names`` (the network's metric name
    → Kanal's kind), each with its number, skipping those without one."""
    found = []
    for entry in body.get("data", []):
        name = entry.get("name")
        if name not in names:
            continue
        value = metric_value(entry)
        if value is not None:
            found.append(Metric(name, value, names[name], version))
    return found


#: Pages of one post's comments an inbox poll reads at most (``inbox_listing``).
INBOX_PAGES = 10


def inbox_listing(read: Callable[[dict], Mapping], params: Mapping,
                  since: str | None, *, pages: int = INBOX_PAGES):
    """The objects of a post's comments for an inbox poll, over the listing's
    pages (``after`` cursors; ``read(query)`` returns one page), at most
    ``pages`` of them.

    A listing that comes newest first stops at the page that reaches the
    time of the inbox cursor ``since`` (what is older was read before); one
    that comes oldest first (Instagram's comments) is read to its end: its
    first page holds the oldest comments, and a poll that read only that
    missed every new one on a post with more than a page."""
    after, _seen = _read_cursor(since)
    query = dict(params)
    for _ in range(pages):
        body = read(query)
        entries = listing(body)
        yield from entries
        times = [t for t in (parse_time(e.get("timestamp")) for e in entries) if t]
        if (after is not None and len(times) > 1 and times[0] > times[-1]
                and times[-1] < after):
            return  # newest first, and past the cursor
        cursor = next_cursor(body)
        if not cursor:
            return
        query["after"] = cursor


def next_cursor(body: Mapping) -> str:
    """The ``after`` cursor of a listing that has a next page, else ""."""
    paging = body.get("paging") or {}
    if not paging.get("next"):
        return ""
    return str((paging.get("cursors") or {}).get("after") or "")


def _checkpoint_time(state: Mapping[str, str]) -> datetime | None:
    """When the container was made, on Kanal's clock: its post is newer.

    ``find_by_text`` moves it onto the network's clock and allows a slack
    (``reconcile.network_floor``)."""
    return parse_time(state.get("created_at"))


_VERSION_IN_URL = re.compile(r"/(v\d+(?:\.\d+)?)/?$")

#: A Graph object id (``123``, ``{page}_{post}``, ``{post}_{comment}``); any
#: other id is refused before it goes into a path.
_OBJECT_ID = re.compile(r"[0-9]{1,40}(?:_[0-9]{1,40}){0,2}")


def check_object_id(remote_id: str, *, network: str) -> str:
    """``remote_id`` if it is a Graph object id, else ``Rejected``
    (``base.check_id``): called before any path is built from an id."""
    return check_id(remote_id, _OBJECT_ID, network=network,
                    message=NOT_FOUND_MESSAGE)


# --------------------------------------------------------------------------
# Direct messages (Messenger and Instagram): one Send API, one set of windows
#
# Both answer a citizen with ``POST /{id}/messages`` (``recipient``,
# ``message``, ``messaging_type``; the answer names ``message_id``) and list
# conversations on ``/{id}/conversations?platform=messenger|instagram`` with
# ``messages{id,message,from,created_time}``, newest first. Both allow a
# standard answer (``RESPONSE``) within 24 hours of the citizen's latest
# message and one tagged ``HUMAN_AGENT`` (a person writes it) up to 7 days;
# later the network refuses with code 10 (Messenger subcode 2018278,
# Instagram 2534022). developers.facebook.com/docs/messenger-platform/
# send-messages#messaging_types and .../instagram-platform/
# instagram-api-with-instagram-login/messaging-api (human agent tag).

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
#: Codes a token without the messaging permission gets (``pages_messaging``,
#: ``instagram_business_manage_messages``); never 190 (an expired token).
MESSAGING_PERMISSION_CODES = frozenset({10, *range(200, 300)})


def past_human_agent_window(message: OutgoingMessage, *, now: datetime) -> bool:
    """Whether the citizen's latest message is older than the 7 days in
    which a person may still answer (``HUMAN_AGENT``)."""
    last = message.last_received_at
    return last is not None and now - last > HUMAN_AGENT_WINDOW


def send_api_fields(message: OutgoingMessage, *, now: datetime) -> dict[str, str]:
    """The Send API's parameters for ``message``: ``RESPONSE`` inside 24
    hours of the citizen's latest message, ``MESSAGE_TAG`` ``HUMAN_AGENT``
    after that (a person at the desk writes every answer Kanal sends)."""
    fields = {
        "recipient": json.dumps({"id": message.recipient_id}),
        "message": json.dumps({"text": message.text}, ensure_ascii=False),
        "messaging_type": "RESPONSE",
    }
    last = message.last_received_at
    if last is not None and now - last > STANDARD_WINDOW:
        fields["messaging_type"] = "MESSAGE_TAG"
        fields["tag"] = "HUMAN_AGENT"
    return fields


def sent_message_id(body: Mapping, *, network: str) -> str:
    """The id the Send API gave the message (``message_id``); an answer
    without one is an unknown outcome (the message may have gone out)."""
    found = usable_id(body.get("message_id")) or usable_id(body.get("id"))
    if not found:
        raise OutcomeUnknown(network=network, network_message="answer without "
                             "a usable message_id")
    return found


def no_messaging_access(error: NetworkError) -> bool:
    """Whether ``error`` reading conversations says only that the token may
    not read messages (the comments still count; an admin reconnects)."""
    return isinstance(error, Rejected | AuthExpired) and (
        _int_or_none(str(error.network_code).partition("/")[0])
        in MESSAGING_PERMISSION_CODES)


def _author(entry: Mapping) -> Mapping:
    author = entry.get("from")
    return author if isinstance(author, Mapping) else {}


def _plain_id(value) -> str:
    """An id a network sent: a string or a number, else "" (untrusted)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)


def _listed(value) -> list:
    """The ``data`` list of a Graph listing, or nothing for any other shape."""
    data = value.get("data") if isinstance(value, Mapping) else None
    return data if isinstance(data, list) else []


def conversation_messages(
    conversations,
    *,
    after: datetime | None,
    own: Callable[[Mapping], bool],
) -> list[InboxItem]:
    """Citizens' messages in listed conversations (``messages{id,message,
    from,created_time}``), the account's own (``own(author)``) left out;
    a conversation not updated since ``after`` is passed over."""
    items = []
    for conversation in conversations:
        if not isinstance(conversation, Mapping):
            continue
        updated = parse_time(conversation.get("updated_time"))
        if after is not None and updated is not None and updated < after:
            continue
        link = conversation.get("link")
        # Newest first from Graph; oldest first keeps a same-second order.
        for entry in reversed(_listed(conversation.get("messages"))):
            if not isinstance(entry, Mapping) or not _plain_id(entry.get("id")):
                continue
            author = _author(entry)
            if not _plain_id(author.get("id")) or own(author):
                continue
            items.append(InboxItem(
                remote_id=_plain_id(entry["id"]), kind="message",
                author_id=_plain_id(author.get("id")),
                author_name=text_of(author.get("name"))
                or text_of(author.get("username")),
                text=text_of(entry.get("message")),
                created_at=parse_time(entry.get("created_time"))
                or datetime.now(UTC),
                parent_remote_id=_plain_id(conversation.get("id")),
                url=web_address(link),
            ))
    return items


def find_sent_message(
    conversations,
    text: str,
    *,
    network: str,
    floor: datetime | None,
    own: Callable[[Mapping], bool | None],
) -> PublishResult | None:
    """The account's own message with ``text`` since ``floor`` (the
    network's clock) in the listed conversations with one citizen, newest
    first; None when certainly not there (every message back to the floor
    was read)."""
    search = reconcile.ReplySearch(network, text)
    read_all = True
    for conversation in conversations:
        listing = conversation.get("messages") if isinstance(
            conversation, Mapping) else None
        if not isinstance(listing, Mapping):
            continue
        reached_floor = False
        for entry in _listed(listing):
            if not isinstance(entry, Mapping):
                continue
            created = parse_time(entry.get("created_time"))
            if floor is not None and created is not None and created < floor:
                reached_floor = True
                continue
            author = _author(entry)
            candidate = reconcile.Candidate(
                remote_id=_plain_id(entry.get("id")),
                text=text_of(entry.get("message")), created_at=created)
            if candidate.remote_id and search.offer(
                    candidate, own=own(author) if author else None):
                break
        # Newest first: past the floor, older pages cannot hold it.
        paging = listing.get("paging")
        if isinstance(paging, Mapping) and paging.get("next") and not reached_floor:
            read_all = False
    found = search.result(read_all=read_all)
    if found is None:
        return None
    return PublishResult(found.remote_id, "", found.created_at)


class GraphAdapter(NetworkAdapter):
    """What Instagram and Threads share: Graph calls and the container flow.

    Publishing is create container → wait until ``FINISHED`` → check the
    rolling quota → publish. The container id is reported through
    ``on_checkpoint`` before anything is published, and a retry resumes from
    it: a ``PUBLISHED`` container is looked up instead of published again; an
    expired one is made again.

    Polling follows ``Connection.settings`` ``container_poll_seconds`` and
    ``container_poll_attempts`` (Meta advises once a minute for at most five
    minutes); ``sleep`` is injectable so tests need not wait.
    """

    #: The container edge, its state field, detail field and fields to ask for.
    container_edge: ClassVar[str] = "media"
    status_key: ClassVar[str] = "status_code"
    status_detail_key: ClassVar[str] = "status"
    status_fields: ClassVar[str] = "status_code,status"
    publish_edge: ClassVar[str] = "media_publish"
    limit_edge: ClassVar[str] = "content_publishing_limit"
    media_edge: ClassVar[str] = "media"
    text_field: ClassVar[str] = "caption"
    default_quota_total: ClassVar[int] = 100
    poll_seconds_default: ClassVar[float] = 60.0
    poll_attempts_default: ClassVar[int] = 6

    def __init__(
        self,
        connection: Connection,
        *,
        client=None,
        sleep: Callable[[float], None] | None = None,
        **hooks,
    ) -> None:
        super().__init__(connection, client=client, **hooks)
        self.sleep = sleep or time.sleep
        found = _VERSION_IN_URL.search(connection.base_url.rstrip("/") + "/")
        if found:
            self.api_version = found.group(1)

    # -- calls ---------------------------------------------------------------

    @property
    def account_id(self) -> str:
        return self.connection.account_id

    def _translate(self, response: httpx.Response) -> NetworkError | None:
        return translate(response, network=self.network)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping | None = None,
        data: Mapping | None = None,
        write: str = "",
    ) -> dict:
        """One Graph call. ``write`` names a write that must not be sent twice
        (``publish``, ``reply``, ``repost``): it is fenced right before
        sending, and a 5xx or an unreadable answer, or one without ``id``, is
        ``OutcomeUnknown``."""
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        token = self.connection.secret("access_token")
        kwargs = {"params": query}
        if self.network == "threads":
            # Threads' reference documents only the query parameter.
            query["access_token"] = token
        else:
            # The Graph API takes the token as a Bearer header; in the query
            # it would land in proxy, server and error logs.
            kwargs["headers"] = bearer(token)
        if data is not None:
            kwargs["data"] = {k: v for k, v in data.items() if v not in (None, "")}
        if write:
            self.fence(write)
        response = self.client.request(
            method, path, translate=self._translate, write=bool(write), **kwargs
        )
        body = read_json(response, network=self.network, write=bool(write))
        # The Send API names what it created ``message_id``.
        if write and not (isinstance(body, dict) and (
                usable_id(body.get("id")) or usable_id(body.get("message_id")))):
            raise missing_in_answer(response, network=self.network, what="id")
        return body if isinstance(body, dict) else {"data": body}

    def get(self, path: str, **params) -> dict:
        return self.call("GET", path, params=params)

    def post(
        self, path: str, data: Mapping | None = None, *, write: str = "",
        **params,
    ) -> dict:
        return self.call("POST", path, params=params, data=data or {},
                         write=write)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def _mention_item(self, entry: Mapping, *, text) -> InboxItem:
        """A post of a citizen's that names the account (Instagram's tags,
        Threads' mentions), read as untrusted: no usable id, no item."""
        username = text_of(entry.get("username"))
        return InboxItem(
            remote_id=usable_id(entry.get("id")),
            kind="mention",
            author_id=username,
            author_name=username,
            text=text_of(text),
            created_at=parse_time(entry.get("timestamp")) or self.now(),
            url=web_address(entry.get("permalink")),
        )

    def _setting(self, name: str, default: float) -> float:
        try:
            return float(self.connection.settings.get(name, default))
        except (TypeError, ValueError):
            return default

    # -- containers ---------------------------------------------------------

    def create_container(self, fields: Mapping, *, fence: str = "") -> str:
        """A container; ``fence`` (for the one that will be published) asks
        the caller first. A container publishes nothing by itself, so a lost
        answer is only an orphan: errors stay as they are (not unknown)."""
        if fence:
            self.fence(fence)
        body = self.post(f"/{self.account_id}/{self.container_edge}", data=fields)
        container = usable_id(body.get("id"))
        if not container:
            raise TransientError(
                gettext_noop(
                    "Netværket oprettede ikke opslaget til udgivelse. Kanal prøver "
                    "igen."
                ),
                network=self.network, network_message="container without id",
            )
        return container

    def container_status(self, container_id: str) -> tuple[str, str]:
        """``(state, detail)``; ``MISSING`` when the network no longer knows
        it: code 24 (the media builder is not found) or "does not exist"
        (``object_gone``: 100/33, a 404). Code 100 with another subcode is
        an invalid parameter, not a missing container (T7b-4)."""
        try:
            body = self.get(f"/{container_id}", fields=self.status_fields)
        except Rejected as e:
            code = str(e.network_code).partition("/")[0]
            if code == "24" or object_gone(e):
                return "MISSING", e.network_message
            raise
        state = str(body.get(self.status_key) or "")
        detail = str(body.get(self.status_detail_key) or "")
        return state.upper(), detail

    def wait_until_finished(self, container_id: str) -> str:
        """Poll until ``FINISHED``; returns the final state (or raises)."""
        interval = self._setting("container_poll_seconds", self.poll_seconds_default)
        attempts = max(
            1, int(self._setting("container_poll_attempts",
                                 self.poll_attempts_default))
        )
        state, detail = "", ""
        for attempt in range(attempts):
            state, detail = self.container_status(container_id)
            if state != "IN_PROGRESS":
                break
            if attempt + 1 < attempts:
                self.sleep(interval)
        if state in (CONTAINER_DONE, CONTAINER_PUBLISHED) or state in CONTAINER_GONE:
            return state
        if state == "IN_PROGRESS":
            raise TransientError(
                gettext_noop(
                    "Netværket er ikke færdigt med at behandle mediet endnu. "
                    "Kanal prøver igen om lidt og fortsætter, hvor det slap."
                ),
                retry_after=max(interval, 30.0),
                network=self.network,
                network_message=f"container {state}",
            )
        raise Rejected(network=self.network, network_message=f"{state} {detail}")

    def container_error(self, detail: str) -> Rejected:
        return Rejected(
            gettext_noop(
                "Netværket kunne ikke behandle mediet. Tjek at billedet eller "
                "videoen har et understøttet format og en gyldig adresse, og prøv "
                "igen."
            ),
            network=self.network,
            network_code="ERROR",
            network_message=detail,
        )

    # -- quota ----------------------------------------------------------------

    def publishing_limit(self) -> tuple[int, int, int]:
        """``(used, total, duration_seconds)`` from the live limit edge."""
        body = self.get(
            f"/{self.account_id}/{self.limit_edge}", fields="quota_usage,config"
        )
        entries = body.get("data") or [{}]
        entry = entries[0] if isinstance(entries[0], dict) else {}
        config = entry.get("config") or {}
        used = _int_or_none(entry.get("quota_usage")) or 0
        total = _int_or_none(config.get("quota_total")) or self.default_quota_total
        duration = _int_or_none(config.get("quota_duration")) or 86400
        return used, total, duration

    def quota_reset_at(self, total: int, duration: int) -> datetime | None:
        """When a slot frees: the oldest of the last ``total`` posts + duration."""
        try:
            body = self.get(
                f"/{self.account_id}/{self.media_edge}",
                fields="id,timestamp", limit=total,
            )
        except NetworkError:
            return None
        stamps = sorted(
            (t for t in (parse_time(m.get("timestamp"))
                         for m in body.get("data", [])) if t),
            reverse=True,
        )
        if len(stamps) < total:
            return None
        return stamps[total - 1] + timedelta(seconds=duration)

    def quota_exhausted(
        self, total: int, duration: int, *, what: str = "opslag", **kw
    ) -> QuotaExhausted:
        reset_at = self.quota_reset_at(total, duration) if what == "opslag" \
            else None
        now = self.now()
        if reset_at is None or reset_at <= now:
            reset_at = now + timedelta(hours=1)
        retry_after = max(60.0, (reset_at - now).total_seconds())
        clock = reset_at.strftime("%d.%m. kl. %H:%M UTC")
        # Fixed sentences (read in the reader's language); the quota's size
        # and the earliest time go to the support detail, and the
        # publication shows its next attempt itself.
        detail = f"{total} {what} per 24 h; earliest {clock}"
        given = kw.pop("network_message", "")
        kw["network_message"] = f"{given} ({detail})" if given else detail
        return QuotaExhausted(
            gettext_noop(
                "Kontoen har brugt sin daglige kvote på opslag i netværkets API. "
                "Opslaget venter og sendes automatisk, når der er plads igen."
            ) if what == "opslag" else gettext_noop(
                "Kontoen har brugt sin daglige kvote på svar i netværkets API. "
                "Svaret venter og sendes automatisk, når der er plads igen."
            ),
            retry_after=retry_after,
            reset_at=reset_at,
            network=self.network,
            **kw,
        )

    def ensure_quota(self, post: OutgoingPost | None = None) -> None:
        """Raise ``QuotaExhausted`` when the rolling quota is used up."""
        used, total, duration = self.publishing_limit()
        if used >= total:
            raise self.quota_exhausted(
                total, duration, network_message=f"quota_usage {used}/{total}"
            )

    # -- the flow -------------------------------------------------------------

    def build_container(self, post: OutgoingPost) -> str:
        """Create the container(s) for ``post`` and return the one to publish."""
        raise NotImplementedError

    def text_for(self, post: OutgoingPost) -> str:
        return post.text

    def result_for(self, media_id: str) -> PublishResult:
        """The published media's link and time."""
        body = self.get(f"/{media_id}", fields="id,permalink,timestamp")
        return PublishResult(
            remote_id=media_id,
            url=self.permalink(body.get("permalink")),
            published_at=parse_time(body.get("timestamp")),
        )

    def delete(self, remote_id: str) -> None:
        check_object_id(remote_id, network=self.network)
        self.call("DELETE", f"/{remote_id}")

    def media_insights(self, post_ids, names: Mapping[str, str]) -> dict:
        """Each post's insights named in ``names``, by post id."""
        return {
            media_id: tuple(insight_metrics(
                self.get(f"/{media_id}/insights", metric=",".join(names)),
                names, self.api_version))
            for media_id in post_ids
        }

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        report = on_checkpoint or (lambda _state: None)
        state = dict(checkpoint or {})
        if state.get("media_id"):
            return self.result_for(state["media_id"])
        started = self.now()
        container = state.get("container_id", "")
        if container:
            status, _detail = self.container_status(container)
            if status == CONTAINER_PUBLISHED:
                found = self.find_by_text(
                    self.text_for(post), since=_checkpoint_time(state), post=post,
                    exclude=reconcile.excluded(state),
                    at_write=reconcile.offset_at_write(state),
                )
                if found is None:
                    raise OutcomeUnknown(
                        gettext_noop(
                            "Opslaget er udgivet, men Kanal kan ikke finde det på "
                            "kontoen endnu. Kanal tjekker igen senere."
                        ),
                        network=self.network,
                        network_message=f"container {container} PUBLISHED",
                    )
                report({**state, "media_id": found.remote_id})
                return found
            if status in CONTAINER_GONE:
                logger.info("%s container %s is %s; making a new one",
                            self.network, container, status)
                container = ""
        for attempt in range(2):
            if not container:
                container = self.build_container(post)
                # The container's answer tells the network's clock as the
                # post will be stamped: kept, so a lookup after a clock step
                # still bounds by it (reconcile.offset_at_write).
                state = {"container_id": container,
                         "created_at": self.now().isoformat(),
                         **reconcile.clock_entry(self.client.network_offset())}
                shape = self.media_type_of(post)
                if shape:
                    state["media_type"] = shape
                report(state)
            status = self.wait_until_finished(container)
            if status in CONTAINER_GONE:
                if attempt == 0 and status != "ERROR":
                    container = ""
                    continue
                raise self.container_error(self.container_status(container)[1])
            if status == CONTAINER_PUBLISHED:
                return self.publish(post, idempotency_key=idempotency_key,
                                    checkpoint=state, on_checkpoint=on_checkpoint)
            break
        self.ensure_quota(post)
        try:
            body = self.post(f"/{self.account_id}/{self.publish_edge}",
                             write="reply" if post.reply_to_remote_id
                             else "publish",
                             creation_id=container)
        except QuotaExhausted as e:
            raise self.quota_exhausted(
                *self.publishing_limit()[1:],
                network_code=e.network_code, network_message=e.network_message,
                http_status=e.http_status,
            ) from e
        except Rejected:
            # An earlier attempt whose answer was lost may have published the
            # container meanwhile; then the network refuses a second publish.
            if self.container_status(container)[0] != CONTAINER_PUBLISHED:
                raise
            found = self.find_by_text(self.text_for(post),
                                      since=_checkpoint_time(state), post=post,
                                      exclude=reconcile.excluded(state),
                                      at_write=reconcile.offset_at_write(state))
            if found is None:
                raise
            report({**state, "container_id": container,
                    "media_id": found.remote_id})
            return found
        media_id = str(body["id"])
        report({**state, "container_id": container, "media_id": media_id})
        result = self.result_for(media_id)
        if result.published_at is None:
            result = PublishResult(result.remote_id, result.url, started)
        return result

    def find_by_text(
        self,
        text: str,
        *,
        since: datetime | None,
        post: OutgoingPost | None = None,
        media_type: str = "",
        exclude: frozenset[str] = frozenset(),
        at_write: timedelta | None = None,
    ) -> PublishResult | None:
        """The newest own post with ``text`` (normalised) made after ``since``.

        ``since`` is on Kanal's clock (the container's creation, from the
        checkpoint) and is moved onto the network's clock with a slack
        (``reconcile.network_floor``; ``at_write`` is the offset the
        checkpoint kept from the container's answer). ``media_type`` (or
        the post's shape) must be the listed post's when the network says
        it. A post without text (an image-only post) matches only with a
        bound, so it is never taken for an older image-only post.
        """
        body = self.get(
            f"/{self.account_id}/{self.media_edge}",
            fields=f"id,{self.text_field},timestamp,permalink,media_type",
            limit=50,
        )
        if not media_type and post is not None:
            media_type = self.media_type_of(post)
        floor = reconcile.network_floor(since, self.client.network_offset(),
                                        at_write=at_write)
        best: PublishResult | None = None
        for media in body.get("data", []):
            if str(media.get("id")) in exclude:
                continue  # another publication's post
            stamp = parse_time(media.get("timestamp"))
            if floor is not None and stamp is not None and stamp < floor:
                continue
            listed_type = str(media.get("media_type") or "")
            if media_type and listed_type and listed_type != media_type:
                continue
            shown = str(media.get(self.text_field) or "")
            if reconcile.comparable(text):
                if not reconcile.same_text(shown, text):
                    continue
            elif reconcile.comparable(shown) or floor is None:
                continue
            if best is None or (stamp is not None and best.published_at is not None
                                and stamp > best.published_at):
                best = PublishResult(
                    media.get("id"), self.permalink(media.get("permalink")), stamp
                )
        return best

    #: Pages of a post's replies ``find_reply`` reads before it says it
    #: cannot tell.
    reply_pages: ClassVar[int] = 10

    def search_replies(
        self,
        path: str,
        fields: str,
        search: reconcile.ReplySearch,
        own: Callable[[Mapping], bool | None],
    ) -> PublishResult | None:
        """Feed the replies listed at ``path`` (newest first, following
        ``after`` cursors) into ``search``; ``own(entry)`` says whether one is
        the account's. The found reply, None when certainly not there."""
        def candidate(entry: Mapping):
            if not entry.get("id"):
                return None
            return reconcile.Candidate(
                remote_id=str(entry["id"]),
                text=str(entry.get("text") or ""),
                created_at=parse_time(entry.get("timestamp")),
                url=self.permalink(entry.get("permalink")),
            ), own(entry)

        found = search_listing(
            lambda query: self.get(path, **query),
            {"fields": fields, "limit": 100},
            search,
            candidate,
            pages=self.reply_pages,
        )
        if found is None:
            return None
        return PublishResult(found.remote_id, found.url, found.created_at)

    def owned_by_me(self, entry: Mapping) -> bool | None:
        """Whether a listed comment/reply is the account's own: by the id in
        ``from``, else by its username; None when the network said neither."""
        author = entry.get("from") if isinstance(entry.get("from"), Mapping) \
            else {}
        if author.get("id"):
            return str(author["id"]) == self.account_id
        username = str(entry.get("username") or author.get("username") or "")
        handle = self.connection.handle.lstrip("@")
        if username and handle:
            return username.casefold() == handle.casefold()
        return None

    def media_type_of(self, post: OutgoingPost) -> str:
        """The ``media_type`` the network lists for ``post`` once published."""
        if len(post.media) > 1:
            return "CAROUSEL_ALBUM"
        if post.media:
            return "VIDEO" if post.media[0].kind == "video" else "IMAGE"
        return ""

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        state = dict(checkpoint or {})
        if state.get("media_id"):
            return self.result_for(state["media_id"])
        if state.get("container_id"):
            status, _detail = self.container_status(state["container_id"])
            if status != CONTAINER_PUBLISHED:
                return None
            found = self.find_by_text(
                text, since=_checkpoint_time(state),
                media_type=str(state.get("media_type") or ""),
                exclude=reconcile.excluded(state),
                at_write=reconcile.offset_at_write(state))
            if found is None:
                raise OutcomeUnknown(
                    network=self.network,
                    network_message="container PUBLISHED, media not listed",
                )
            return found
        if not reconcile.comparable(text):
            # Nothing to tell an image-only post from an older one without
            # the container; and without a container nothing was published.
            return None
        return self.find_by_text(text, since=since,
                                 exclude=reconcile.excluded(state))

    # -- tokens ---------------------------------------------------------------

    def read_post(self, remote_id: str) -> PostState:
        check_object_id(remote_id, network=self.network)
        try:
            body = self.get(f"/{remote_id}",
                            fields=f"id,{self.text_field},permalink")
        except Rejected as e:
            if object_gone(e):
                return PostState(remote_id, gone=True)
            raise
        # Neither Instagram nor Threads says when a caption was edited.
        return PostState(remote_id, text=text_of(body.get(self.text_field)),
                         url=self.permalink(body.get("permalink")),
                         current_id=remote_id)

    def refresh_token(self) -> TokenSet:
        token = self.connection.secret("access_token")
        issued = token_issued_at(self.connection.credentials,
                                 self.connection.token_expires_at)
        if not refresh_allowed(issued, now=self.now()):
            return TokenSet(
                access_token=token,
                expires_at=self.connection.token_expires_at,
                extra={"issued_at": issued.isoformat()},
            )
        return refresh_long_lived(self.client, network=self.network, token=token,
                                  now=self.now(), root=self.token_root)

    #: Real hosts whose OAuth pages live elsewhere: {API host: (authorize URL,
    #: code exchange URL)}. Any other base URL (the sandbox) serves both itself.
    oauth_hosts: ClassVar[dict[str, tuple[str, str]]] = {}

    @property
    def token_root(self) -> str:
        """The base URL without its version: token endpoints are unversioned."""
        return _VERSION_IN_URL.sub("", self.connection.base_url.rstrip("/") + "/")

    def _oauth_url(self, which: int) -> str:
        setting = ("authorize_url", "oauth_token_url")[which]
        if self.connection.settings.get(setting):
            return self.connection.settings[setting]
        host = httpx.URL(self.connection.base_url).host
        if host in self.oauth_hosts:
            return self.oauth_hosts[host][which]
        return f"{self.token_root}/oauth/{('authorize', 'access_token')[which]}"

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str = ""
    ) -> TokenSet:
        short = token_request(
            self.client,
            self._oauth_url(1),
            {
                "client_id": self.connection.secret("client_id"),
                "client_secret": self.connection.secret("client_secret"),
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
            network=self.network,
            now=self.now(),
            method="POST",
        )
        tokens = exchange_long_lived(
            self.client, network=self.network,
            client_secret=self.connection.secret("client_secret"),
            short_token=short.access_token, now=self.now(), root=self.token_root,
        )
        if short.extra.get("user_id") and not tokens.extra.get("user_id"):
            tokens = TokenSet(tokens.access_token, tokens.refresh_token,
                              tokens.expires_at,
                              {**tokens.extra, "user_id": short.extra["user_id"]})
        return tokens

    scopes: ClassVar[tuple[str, ...]] = ()

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_verifier: str = ""
    ) -> str:
        base = self._oauth_url(0)
        query = httpx.QueryParams({
            "client_id": self.connection.secret("client_id"),
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(self.scopes),
            "state": state,
        })
        return f"{base}?{query}"

    def account_info(self, body: Mapping, profile_url: str) -> AccountInfo:
        return AccountInfo(
            remote_id=str(body.get("id") or self.account_id),
            handle=str(body.get("username") or ""),
            display_name=str(body.get("name") or body.get("username") or ""),
            followers=_int_or_none(body.get("followers_count")),
            profile_url=profile_url,
        )
