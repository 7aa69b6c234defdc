"""Bluesky (AT Protocol), through XRPC with plain httpx.

``Connection.base_url`` is the account's PDS (``https://bsky.social``; the
sandbox's is ``http://127.0.0.1:8765/bluesky``). Credentials:
``identifier`` (defaults to ``Connection.handle``), ``app_password``, and the
session's ``access_token``/``refresh_token`` (the access and refresh JWTs) and
``did`` when Kanal has them. The adapter uses the stored access JWT, renews it
through ``refreshSession`` when it is about to expire or the PDS answers
``ExpiredToken``, and falls back to ``createSession`` with the app password.
New tokens are handed to ``on_tokens`` (a constructor argument) so the caller
can store them; ``createSession`` is limited to 300 a day, so they matter.

Idempotency: every post is created with a client-chosen record key, so a
retry can never make a second post, and ``find_published`` is one
``getRecord``. The key is a real TID (``tid_at``): its timestamp is the time
of the first attempt and its clock id comes from Kanal's idempotency key. It
is reported through ``on_checkpoint`` before the first ``createRecord``, and
every retry reuses the checkpointed key, so anything that orders by key shows
Kanal's posts when they were made. (Without ``on_checkpoint`` the key is
derived from the idempotency key alone, ``rkey_for``: stable, but its date
means nothing.) A reply's key is dated just after the post it answers, so it
needs no checkpoint.

Sessions: ``refresh_token`` renews the session only when the access JWT has
less than ``SESSION_REFRESH_AHEAD`` left (it lives two hours); otherwise it
returns the session Kanal has, unchanged, without a call.

Images: servers still in use refuse a blob above 1,000,000 bytes at publish
time, although the lexicon now allows 2,000,000; the limit here is the
strictest (``MAX_IMAGE_BYTES``), so Kanal's renditions (``mediafit``) fit
every PDS.

Fenced writes (``NetworkAdapter.fence``): creating a post, reply or repost
record, and writing the profile to pin or unpin. Blob uploads publish nothing
(unreferenced blobs are garbage-collected) and the threadgate that hides a
reply is idempotent: neither is fenced.

Direct messages (Bluesky's chat, ``chat.bsky.convo.*``): the PDS proxies
them to the chat service when asked with ``atproto-proxy:
did:web:api.bsky.chat#bsky_chat``; the app password must be one created
with access to direct messages (else the PDS answers ``InvalidToken`` "Bad
token scope", and the poll keeps the notifications). Intake is polling only
(Bluesky sends no webhooks): ``listConvos``, then ``getMessages`` of each
conversation with news, newest first; answers are ``sendMessage``
(``convoId``, ``message.text`` up to 1,000 graphemes and 10,000 bytes), with
no answer window and no idempotency key: after a lost answer
``find_message`` reads the conversation. A citizen whose chat settings do
not allow the account refuses with ``InvalidRequest``.

Settings read from ``Connection.settings``: ``web_url`` (default
``https://bsky.app``; post URLs are ``<web_url>/profile/<handle>/post/<rkey>``)
and ``language`` (default ``da``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from . import reconcile, rules
from . import text as kanal_text
from .base import (
    AccountInfo,
    AccountPost,
    AccountPostsPage,
    Capabilities,
    Checkpoint,
    HashtagPage,
    HashtagPost,
    InboxItem,
    InboxPage,
    Metric,
    MetricsSnapshot,
    NetworkAdapter,
    OutgoingMessage,
    OutgoingPost,
    PostState,
    PublishResult,
    TokenSet,
    ValidationProblem,
    check_id,
    count_value,
    present_metrics,
    stable_key,
    text_of,
    text_with_link,
    usable_id,
)
from .errors import (
    LIKE_UNCONFIRMED,
    AuthExpired,
    NetworkError,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
    gettext_noop,
)
from .http import (
    error_json,
    iso_to_datetime,
    read_json,
    retry_after_seconds,
    unknown_after_write,
)

logger = logging.getLogger("kanal.networks.bluesky")

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGES = 4
# The lexicon allows 2,000,000 bytes since 2026-04, but PDSes still in use
# refuse more than 1,000,000 when the post is created.
MAX_IMAGE_BYTES = 1_000_000
MAX_TAG_GRAPHEMES = 64
IMAGE_FORMATS = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
LIKE = "app.bsky.feed.like"
THREADGATE = "app.bsky.feed.threadgate"
PROFILE = "app.bsky.actor.profile"
INBOX_REASONS = ("mention", "reply", "quote")
AUTH_ERRORS = frozenset(
    {
        "ExpiredToken",
        "InvalidToken",
        "AuthenticationRequired",
        "AccountTakedown",
        "AccountDeactivated",
        "AuthFactorTokenRequired",
    }
)
RENEW_MARGIN = timedelta(seconds=60)
#: ``refresh_token`` renews only when the access JWT expires sooner than this.
SESSION_REFRESH_AHEAD = timedelta(minutes=20)
MAX_INBOX_PAGES = 5
#: Bluesky's chat: reached through the PDS, which proxies to this service.
CHAT_PROXY = {"atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}
#: What an app password needs for the chat: "Allow access to your direct
#: messages" when it is made (its token's scope is then the privileged one).
CHAT_PERMISSION = "com.atproto.appPassPrivileged"
MAX_MESSAGE_GRAPHEMES = 1000  # chat.bsky.convo.defs#messageInput
INBOX_CONVOS = 50
MAX_CHAT_PAGES = 5
_S32 = "234567abcdefghijklmnopqrstuvwxyz"


# --------------------------------------------------------------------------
# Helpers


def rkey_for(idempotency_key: str) -> str:
    """A TID-shaped record key derived from Kanal's idempotency key alone.

    Stable, but its date means nothing: used only where no checkpoint keeps
    a dated key (``tid_at``), and to find posts made by older versions."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    number = int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)
    return _tid_string(number)


def clock_id_for(key: str) -> int:
    """The TID's 10-bit clock id, taken from Kanal's idempotency key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") & 1023


def tid_at(moment: datetime, clock_id: int) -> str:
    """A TID for ``moment`` (microseconds since the epoch) and ``clock_id``."""
    micros = int(moment.timestamp() * 1_000_000)
    return _tid_string(((micros & ((1 << 53) - 1)) << 10) | (clock_id & 1023))


def tid_time(tid: str) -> datetime | None:
    """The moment a TID encodes, or None when ``tid`` is not one."""
    if len(tid) != 13 or any(c not in _S32 for c in tid):
        return None
    number = 0
    for char in tid:
        number = (number << 5) | _S32.index(char)
    try:
        return datetime.fromtimestamp((number >> 10) / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def dated_after(moment: datetime | None, key: str) -> str:
    """A record key dated just after ``moment`` (1–2 s later, the exact
    microsecond taken from ``key``), stable for the same inputs."""
    if moment is None:
        return rkey_for(key)
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[2:6], "big")
    later = moment + timedelta(seconds=1, microseconds=digest % 1_000_000)
    return tid_at(later, clock_id_for(key))


def new_tid(now: datetime) -> str:
    return tid_at(now, secrets.randbelow(1024))


def _tid_string(number: int) -> str:
    return "".join(_S32[(number >> (5 * i)) & 31] for i in reversed(range(13)))


def _view_time(view: Mapping) -> datetime | None:
    """When a post (a ``postView``) was made: its record's ``createdAt``, else
    when the AppView indexed it."""
    record = view.get("record") or {}
    return iso_to_datetime(str(record.get("createdAt") or "")) or iso_to_datetime(
        str(view.get("indexedAt") or "")
    )


#: A record's address: ``at://`` a DID (or handle), then its collection and
#: record key; nothing that could be another parameter or step.
AT_URI = re.compile(
    r"at://[A-Za-z0-9._:%-]+(?:/[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~:-]+)?)?")
AT_URI_MESSAGE = gettext_noop("Kanal forstod ikke Bluesky-opslagets adresse.")


def check_at_uri(uri: str) -> str:
    """``uri`` if it is an ``at://`` address (``AT_URI``), else ``Rejected``:
    checked before it goes into a request."""
    return check_id(uri, AT_URI, network="bluesky", message=AT_URI_MESSAGE)


def parse_at_uri(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` → (did, collection, rkey)."""
    check_at_uri(uri)
    parts = uri[len("at://") :].split("/")
    return (
        parts[0],
        parts[1] if len(parts) > 1 else "",
        parts[2] if len(parts) > 2 else "",
    )


def _record_not_found(error: Rejected) -> bool:
    """Whether ``getRecord`` said the record does not exist. The PDS and the
    AppView answer 400 with the error name ``RecordNotFound`` (the lexicon's
    one declared error; ``InvalidRequestError(..., 'RecordNotFound')`` in
    bluesky-social/atproto, ``packages/pds/src/api/com/atproto/repo/
    getRecord.ts``). Only that name counts: a bare 404 (a proxy's page) or a
    400 without it ("Could not find repo", a lexicon error) proves nothing."""
    return error.network_code == "RecordNotFound"


def _jwt_expiry(token: str) -> datetime | None:
    try:
        payload = token.split(".")[1]
        padded = payload + "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(padded))["exp"]
        return datetime.fromtimestamp(int(exp), tz=UTC)
    except (IndexError, KeyError, ValueError, TypeError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _read_inbox_cursor(cursor: str | None) -> tuple[str, dict | None]:
    """``(notifications' time, chat cursor)`` from an inbox cursor; a plain
    time (a cursor from before chat was read) is the notifications'."""
    if not cursor:
        return "", None
    try:
        state = json.loads(cursor)
    except ValueError:
        return cursor, None
    if not isinstance(state, dict):
        return "", None
    chat = state.get("m")
    return text_of(state.get("n")), chat if isinstance(chat, dict) else None


def _chat_views(page: Mapping) -> list[Mapping]:
    """The messages of a ``getMessages`` page (deleted ones left out)."""
    messages = page.get("messages")
    return [m for m in messages if isinstance(m, Mapping)
            and not str(m.get("$type") or "").endswith("deletedMessageView")] \
        if isinstance(messages, list) else []


def _sender(view: Mapping) -> str:
    sender = view.get("sender")
    return text_of(sender.get("did")) if isinstance(sender, Mapping) else ""


def _error_body(response: httpx.Response) -> tuple[str, str]:
    body = error_json(response)
    if body is None:
        return "", response.text[:300]
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def _rate_limit(response: httpx.Response, name: str, message: str) -> RateLimited:
    reset_value = response.headers.get("ratelimit-reset")
    reset_at = None
    if reset_value:
        try:
            reset_at = datetime.fromtimestamp(float(reset_value), tz=UTC)
        except (ValueError, OverflowError):
            reset_at = None
    retry_after = retry_after_seconds(response)
    if retry_after is None and reset_at is not None:
        retry_after = max(0.0, (reset_at - datetime.now(UTC)).total_seconds())
    policy = response.headers.get("ratelimit-policy", "")
    window = 0
    if ";w=" in policy:
        try:
            window = int(policy.split(";w=", 1)[1].split(";", 1)[0])
        except ValueError:
            window = 0
    detail = {
        "retry_after": retry_after,
        "reset_at": reset_at,
        "network": "bluesky",
        "network_code": name or response.status_code,
        "network_message": message,
        "http_status": response.status_code,
    }
    # The PDS's daily write budget (repo-write-day) works like a publishing quota.
    if window >= 86_400:
        return QuotaExhausted(
            gettext_noop(
                "Bluesky-kontoens daglige skrivekvote er brugt op. Opslaget venter, "
                "til kvoten er nulstillet."
            ),
            **detail,
        )
    return RateLimited(
        gettext_noop(
            "Bluesky beder Kanal om at vente (for mange kald). Kanal prøver igen, "
            "når grænsen er nulstillet."
        ),
        **detail,
    )


def translate(response: httpx.Response) -> NetworkError | None:
    """Map an XRPC error (``{"error": Name, "message": …}``) to Kanal's errors."""
    status = response.status_code
    if status < 400:
        return None
    name, message = _error_body(response)
    detail = {
        "network": "bluesky",
        "network_code": name or status,
        "network_message": message,
        "http_status": status,
    }
    if status == 429 or name == "RateLimitExceeded":
        return _rate_limit(response, name, message)
    if name == "AccountTakedown":
        return AuthExpired(
            gettext_noop(
                "Bluesky har suspenderet kontoen. En administrator skal kontakte "
                "Bluesky, før Kanal kan bruge den igen."
            ),
            **detail,
        )
    if status == 401 or name in AUTH_ERRORS:
        return AuthExpired(
            gettext_noop(
                "Bluesky afviste Kanals adgang. En administrator skal forbinde "
                "Bluesky-kontoen igen (med et nyt app-kodeord)."
            ),
            **detail,
        )
    if status == 413 or name in {"PayloadTooLarge", "BlobTooLarge"}:
        return Rejected(
            gettext_noop(
                "Bluesky afviste billedet, fordi det er for stort. Brug et billede "
                "på højst 1.000.000 bytes (1 MB)."
            ),
            **detail,
        )
    if name == "RecordNotFound" or status == 404:
        return Rejected(gettext_noop(
            "Opslaget findes ikke (længere) på Bluesky."
        ), **detail)
    if status >= 500:
        return TransientError(
            gettext_noop(
                "Bluesky havde en midlertidig fejl. Kanal prøver igen automatisk."
            ),
            retry_after=retry_after_seconds(response),
            **detail,
        )
    lowered = message.lower()
    if "grapheme" in lowered or "too long" in lowered:
        text = "Bluesky afviste opslaget, fordi teksten er for lang. Forkort den."
    elif "image" in lowered or "blob" in lowered or "mime" in lowered:
        text = "Bluesky afviste et billede. Tjek filtype, størrelse og alt-tekst."
    else:
        text = "Bluesky afviste opslaget. Ret indholdet og prøv igen."
    return Rejected(text, **detail)


# --------------------------------------------------------------------------
# Rich text


def compose_text(post: OutgoingPost) -> str:
    """The post text; the link goes into the text only when a card cannot
    carry it (images and a link card cannot share one post)."""
    return text_with_link(post.text, post.link if post.media else "")


def facets_for(text: str, resolve_handle: Callable[[str], str | None]) -> list[dict]:
    """Link, mention and tag facets with UTF-8 byte offsets (end exclusive).

    Mentions whose handle does not resolve to a DID stay plain text.
    """
    facets = []
    for entity in kanal_text.find_entities(text):
        start, end = kanal_text.byte_span(text, entity.start, entity.end)
        if entity.kind == "url":
            uri = entity.value
            if not uri.lower().startswith(("http://", "https://")):
                uri = "https://" + uri
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": uri}
        elif entity.kind == "hashtag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": entity.value}
        else:
            handle = entity.value
            if "@" in handle or "." not in handle:
                continue  # not a Bluesky handle (a Mastodon or X name)
            did = resolve_handle(handle)
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": start, "byteEnd": end},
                "features": [feature],
            }
        )
    return facets


def _card_title(link: str) -> str:
    parts = urlsplit(link if "://" in link else "https://" + link)
    return (parts.netloc + parts.path).rstrip("/") or link


# --------------------------------------------------------------------------
# The adapter


class BlueskyAdapter(NetworkAdapter):
    network = "bluesky"
    display_name = "Bluesky"
    api_version = "atproto-lexicons-2026-08"
    idempotent_replies = True

    def __init__(
        self,
        connection,
        *,
        client=None,
        on_tokens: Callable[[TokenSet], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        **hooks,
    ) -> None:
        """``on_tokens`` receives every new session (store it, or the next
        unit of work must log in again)."""
        super().__init__(connection, client=client, **hooks)
        self._on_tokens = on_tokens
        self._clock = clock or (lambda: datetime.now(UTC))
        self._access = connection.secret("access_token")
        self._refresh = connection.secret("refresh_token")
        self._did = connection.secret("did") or (
            connection.account_id if connection.account_id.startswith("did:") else ""
        )
        self._handle = connection.handle
        self.last_rate_limit: dict[str, str] = {}

    # -- session ------------------------------------------------------------

    def _create_session(self) -> TokenSet:
        password = self.connection.secret("app_password")
        identifier = self.connection.secret("identifier") or self.connection.handle
        if not password or not identifier:
            raise AuthExpired(
                gettext_noop(
                    "Bluesky-sessionen er udløbet, og Kanal har intet app-kodeord til "
                    "at logge ind igen. En administrator skal forbinde kontoen igen."
                ),
                network=self.network,
            )
        response = self.client.request(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            json={"identifier": identifier, "password": password},
            translate=translate,
        )
        return self._store_session(read_json(response, network=self.network))

    def _refresh_session(self) -> TokenSet:
        response = self.client.request(
            "POST",
            "/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {self._refresh}"},
            translate=translate,
        )
        return self._store_session(read_json(response, network=self.network))

    def _store_session(self, session: Mapping) -> TokenSet:
        self._access = str(session["accessJwt"])
        self._refresh = str(session["refreshJwt"])
        self._did = str(session.get("did") or self._did)
        self._handle = str(session.get("handle") or self._handle)
        tokens = TokenSet(
            access_token=self._access,
            refresh_token=self._refresh,
            expires_at=_jwt_expiry(self._access),
            extra={"did": self._did, "handle": self._handle},
        )
        if self._on_tokens is not None:
            self._on_tokens(tokens)
        return tokens

    def _renew(self) -> TokenSet:
        """``refreshSession``; if the refresh JWT is spent, log in again."""
        if self._refresh:
            try:
                return self._refresh_session()
            except AuthExpired:
                logger.info("bluesky refresh token refused; creating a new session")
        return self._create_session()

    def _ensure_session(self) -> None:
        if not self._access:
            self._renew()
            return
        expiry = _jwt_expiry(self._access)
        if expiry is not None and expiry - self._clock() < RENEW_MARGIN:
            self._renew()

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        headers: Mapping[str, str] | None = None,
        write: str = "",
        **kwargs,
    ) -> httpx.Response:
        """One authenticated call; an ``ExpiredToken`` answer renews the
        session once and repeats the call (nothing was applied).

        ``write`` names a write that must not be sent twice: it is fenced
        right before each send, and a 5xx answer is ``OutcomeUnknown``."""
        self._ensure_session()
        for attempt in (1, 2):
            if write:
                self.fence(write)
            response = self.client.request(
                method,
                f"/xrpc/{nsid}",
                headers={"Authorization": f"Bearer {self._access}", **(headers or {})},
                write=bool(write),
                **kwargs,
            )
            self._note_rate_limit(response)
            expired = (
                attempt == 1
                and response.status_code in (400, 401)
                and _error_body(response)[0] == "ExpiredToken"
            )
            if expired:
                self._renew()
                continue
            error = translate(response)
            if error is not None:
                raise unknown_after_write(error) if write else error
            return response
        raise AssertionError("unreachable")

    def _note_rate_limit(self, response: httpx.Response) -> None:
        remaining = response.headers.get("ratelimit-remaining")
        if remaining is not None:
            self.last_rate_limit = {
                "limit": response.headers.get("ratelimit-limit", ""),
                "remaining": remaining,
                "reset": response.headers.get("ratelimit-reset", ""),
                "policy": response.headers.get("ratelimit-policy", ""),
            }

    def _get(self, nsid: str, **params) -> Mapping:
        return read_json(self._xrpc("GET", nsid, params=params),
                         network=self.network)

    def _post(self, nsid: str, body: Mapping, *, write: str = "") -> Mapping:
        response = self._xrpc("POST", nsid, json=body, write=write)
        if not response.content:
            return {}
        return read_json(response, network=self.network, write=bool(write))

    def _repo(self) -> str:
        """The account's DID; asked of the PDS when only tokens are stored."""
        self._ensure_session()
        if not self._did:
            session = self._get("com.atproto.server.getSession")
            self._did = str(session["did"])
            self._handle = str(session.get("handle") or self._handle)
        return self._did

    # -- limits and validation ----------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(
            max_text_length=MAX_GRAPHEMES,
            text_counting="grafemer (og højst 3.000 bytes)",
            max_images=MAX_IMAGES,
            max_videos=0,
            image_formats=IMAGE_FORMATS,
            video_formats=frozenset(),
            max_image_bytes=MAX_IMAGE_BYTES,
            max_text_bytes=MAX_BYTES,
            alt_text_required_for=frozenset({"image"}),
            supports=frozenset(
                {
                    "publish",
                    "delete",
                    "reply",
                    "hide",
                    "repost",
                    "pin",
                    "fetch_inbox",
                    "fetch_metrics",
                    "search_hashtag",
                    "account_posts",
                    "refresh_token",
                    "verify",
                    "link_posts",
                    "like",
                    "read_post",
                    "direct_messages",
                    "send_message",
                }
            ),
            max_message_length=MAX_MESSAGE_GRAPHEMES,
        )

    def count_text(self, text: str) -> int:
        return kanal_text.grapheme_count(text)

    def text_for(self, post: OutgoingPost) -> str:
        return compose_text(post)

    def own_problems(self, post: OutgoingPost) -> list[ValidationProblem]:
        return [
            rules.problem("hashtag_too_long", network="Bluesky",
                          limit=MAX_TAG_GRAPHEMES)
            for tag in kanal_text.find_hashtags(self.text_for(post))
            if kanal_text.grapheme_count(tag.value) > MAX_TAG_GRAPHEMES
        ]

    # -- publishing ---------------------------------------------------------

    def _web_url(self, handle: str, rkey: str) -> str:
        web = str(self.connection.settings.get("web_url") or "https://bsky.app")
        return f"{web.rstrip('/')}/profile/{handle or self._did}/post/{rkey}"

    def _post_url(self, uri: str, handle: str = "") -> str:
        did, _, rkey = parse_at_uri(uri)
        if not handle and did == self._did:
            handle = self._handle
        return self._web_url(handle or did, rkey)

    def resolve_handle(self, handle: str) -> str | None:
        """A handle's DID, or None when it does not resolve."""
        try:
            return str(
                self._get("com.atproto.identity.resolveHandle", handle=handle)["did"]
            )
        except Rejected:
            return None

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        """Images, then ``createRecord`` with the record key of the first
        attempt (checkpointed before it, dated then; see the module notes).

        Blobs are simply uploaded again on a retry: the same bytes give the
        same CID, and unreferenced blobs are garbage-collected by the PDS.
        """
        repo = self._repo()
        state = dict(checkpoint or {})
        rkey = str(state.get("rkey") or "")
        if rkey:
            existing = self._existing(repo, POST, rkey)
            if existing is not None:
                return existing
        elif on_checkpoint is None:
            rkey = rkey_for(idempotency_key)
        else:
            rkey = tid_at(self._clock(), clock_id_for(idempotency_key))
        text = compose_text(post)
        record: dict = {
            "$type": POST,
            "text": text,
            "createdAt": _iso(self._clock()),
            "langs": [str(self.connection.settings.get("language") or "da")],
        }
        facets = facets_for(text, self.resolve_handle)
        if facets:
            record["facets"] = facets
        embed = self._embed(post)
        if embed:
            record["embed"] = embed
        if post.reply_to_remote_id:
            record["reply"] = self._reply_refs(post.reply_to_remote_id)
        if on_checkpoint is not None and state.get("rkey") != rkey:
            on_checkpoint({**state, "rkey": rkey})
        return self._create(
            repo, POST, rkey, record,
            write="reply" if post.reply_to_remote_id else "create",
        )

    def _create(
        self, repo: str, collection: str, rkey: str, record: Mapping,
        *, write: str = "create",
    ) -> PublishResult:
        try:
            created = self._post(
                "com.atproto.repo.createRecord",
                {
                    "repo": repo,
                    "collection": collection,
                    "rkey": rkey,
                    "record": record,
                },
                write=write,
            )
        except (RateLimited, AuthExpired):
            raise
        except (Rejected, TransientError) as e:
            # A retry of a create that already succeeded fails on the taken
            # rkey (the error differs between PDS versions): look before
            # failing. (A 5xx or a lost answer is OutcomeUnknown: the engine
            # reconciles with find_published, one getRecord on this rkey.)
            existing = self._existing(repo, collection, rkey)
            if existing is not None:
                return existing
            raise e from None
        uri = usable_id(created.get("uri")) if isinstance(created, Mapping) else ""
        if not uri:
            existing = self._existing(repo, collection, rkey)
            if existing is not None:
                return existing
            raise OutcomeUnknown(
                gettext_noop(
                    "Bluesky bekræftede opslaget uden at oplyse dets adresse. Kanal "
                    "tjekker kontoen, før der sendes igen."
                ),
                network=self.network, network_message="createRecord without uri",
            )
        return PublishResult(
            remote_id=uri,
            url=self._post_url(uri),
            published_at=iso_to_datetime(str(record.get("createdAt"))),
        )

    def _record(self, repo: str, collection: str, rkey: str) -> Mapping | None:
        """``getRecord`` from the account's own repository (the PDS holds the
        truth, the AppView may lag); None when it says ``RecordNotFound``."""
        try:
            found = self._get(
                "com.atproto.repo.getRecord",
                repo=repo,
                collection=collection,
                rkey=rkey,
            )
        except Rejected as e:
            if _record_not_found(e):
                return None
            raise
        return found if isinstance(found, Mapping) else {}

    def _existing(self, repo: str, collection: str, rkey: str) -> PublishResult | None:
        found = self._record(repo, collection, rkey)
        if found is None:
            return None
        value = found.get("value") or {}
        uri = usable_id(found.get("uri"))
        return PublishResult(
            remote_id=uri,
            url=self._post_url(uri) if uri else "",
            published_at=iso_to_datetime(value.get("createdAt")),
        )

    def _embed(self, post: OutgoingPost) -> dict | None:
        images = [m for m in post.media if m.kind == "image"]
        if images:
            entries = []
            for item in images:
                response = self._xrpc(
                    "POST",
                    "com.atproto.repo.uploadBlob",
                    content=item.data,
                    headers={"Content-Type": item.mime_type},
                )
                entry: dict = {"alt": item.alt_text, "image": read_json(
                    response, network=self.network).get("blob")}
                if item.width and item.height:
                    entry["aspectRatio"] = {"width": item.width, "height": item.height}
                entries.append(entry)
            return {"$type": "app.bsky.embed.images", "images": entries}
        if post.link:
            link = post.link if "://" in post.link else "https://" + post.link
            return {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": link,
                    "title": _card_title(link),
                    "description": "",
                },
            }
        return None

    def _post_view(self, uri: str) -> Mapping:
        check_at_uri(uri)
        posts = self._get("app.bsky.feed.getPosts", uris=[uri]).get("posts") or []
        if not posts:
            raise Rejected(
                gettext_noop("Bluesky-opslaget findes ikke (længere)."),
                network=self.network,
                network_code="NotFound",
                network_message=uri,
            )
        return posts[0]

    def _not_later(self, moment: datetime | None) -> datetime | None:
        """``moment`` (a time another client wrote), never later than now."""
        if moment is None:
            return None
        return min(moment, self._clock())

    def _reply_refs(self, parent_uri: str) -> dict:
        return self._refs_from(self._post_view(parent_uri))

    @staticmethod
    def _refs_from(parent: Mapping) -> dict:
        parent_ref = {"uri": str(parent["uri"]), "cid": str(parent["cid"])}
        root = ((parent.get("record") or {}).get("reply") or {}).get("root")
        return {"root": dict(root) if root else parent_ref, "parent": parent_ref}

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        """One ``getRecord`` on the checkpointed record key (or, for a post
        published without a checkpoint, the key derived from Kanal's key)."""
        rkey = str((checkpoint or {}).get("rkey") or "") or rkey_for(idempotency_key)
        return self._existing(self._repo(), POST, rkey)

    def read_post(self, remote_id: str) -> PostState:
        """The post record by its ``at://`` URI: ``com.atproto.repo.getRecord``
        with the URI's repo, collection and rkey (the account's PDS answers
        for its own repositories and passes a citizen's on to the AppView).
        Only the error ``RecordNotFound`` is a deletion. Bluesky's app cannot
        edit a post, but the protocol can rewrite a record (``putRecord``);
        the record carries no edit time."""
        did, collection, rkey = parse_at_uri(remote_id)
        if not rkey:
            # ``getRecord`` needs all three of repo, collection and rkey.
            raise Rejected(
                gettext_noop("Kanal forstod ikke Bluesky-opslagets adresse."),
                network=self.network, network_message=remote_id,
            )
        found = self._record(did or self._repo(), collection or POST, rkey)
        if found is None:
            return PostState(remote_id, gone=True)
        value = found.get("value")
        text = text_of(value.get("text")) if isinstance(value, Mapping) else ""
        return PostState(remote_id, text=text, url=self._post_url(remote_id),
                         current_id=remote_id)

    def delete(self, remote_id: str) -> None:
        did, collection, rkey = parse_at_uri(remote_id)
        self._post(
            "com.atproto.repo.deleteRecord",
            {
                "repo": did or self._repo(),
                "collection": collection or POST,
                "rkey": rkey,
            },
        )

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        repo = self._repo()
        parent = self._post_view(to_remote_id)
        record: dict = {
            "$type": POST,
            "text": text,
            "createdAt": _iso(self._clock()),
            "langs": [str(self.connection.settings.get("language") or "da")],
            "reply": self._refs_from(parent),
        }
        facets = facets_for(text, self.resolve_handle)
        if facets:
            record["facets"] = facets
        # Dated just after the post answered, so retries need no checkpoint.
        rkey = (dated_after(self._not_later(_view_time(parent)), idempotency_key)
                if idempotency_key else new_tid(self._clock()))
        return self._create(repo, POST, rkey, record, write="reply")

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The reply a lost ``reply`` may have made: with Kanal's key, one
        ``getRecord`` on the record key ``reply`` derives from it (no text,
        no clock); without, the account's own direct answer with ``text`` in
        the post's thread."""
        repo = self._repo()
        if idempotency_key:
            parent = self._post_view(to_remote_id)
            rkey = dated_after(self._not_later(_view_time(parent)),
                               idempotency_key)
            return self._existing(repo, POST, rkey)
        check_at_uri(to_remote_id)
        thread = self._get("app.bsky.feed.getPostThread", uri=to_remote_id,
                           depth=1).get("thread") or {}
        search = reconcile.ReplySearch(self.network, text)
        for child in thread.get("replies") or []:
            post = (child or {}).get("post") or {}
            if not post.get("uri"):
                continue
            author = str((post.get("author") or {}).get("did") or "")
            candidate = reconcile.Candidate(
                remote_id=str(post["uri"]),
                text=str((post.get("record") or {}).get("text") or ""),
                created_at=_view_time(post),
            )
            if search.offer(candidate, own=(author == repo) if author else None):
                break
        found = search.result()
        if found is None:
            return None
        return PublishResult(found.remote_id, self._post_url(found.remote_id),
                             found.created_at)

    def repost(self, remote_id: str) -> PublishResult | None:
        """A repost record; its rkey comes from the subject, so reposting the
        same post twice leaves one repost."""
        repo = self._repo()
        subject = self._post_view(remote_id)
        record = {
            "$type": REPOST,
            "subject": {"uri": str(subject["uri"]), "cid": str(subject["cid"])},
            "createdAt": _iso(self._clock()),
        }
        # Dated just after the post reposted: one repost per post, however
        # often it is retried, and never a key dated in the future.
        result = self._create(
            repo, REPOST,
            dated_after(self._not_later(_view_time(subject)),
                        stable_key("repost", remote_id)),
            record, write="repost",
        )
        author = (subject.get("author") or {}).get("handle", "")
        return PublishResult(
            remote_id=result.remote_id,
            url=self._post_url(remote_id, author),
            published_at=result.published_at,
        )

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """A like is a record of its own (``app.bsky.feed.like``), and Bluesky
        keeps every one created: a second ``createRecord`` is a second like.
        So the account's own like of the post (``getPosts``' ``viewer.like``)
        is looked up first: liking what is liked changes nothing, and
        unliking deletes the like found (none: nothing to do)."""
        repo = self._repo()
        subject = self._post_view(remote_id)
        if str(subject.get("uri") or "") != remote_id or not subject.get("cid"):
            raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                 network_message=f"getPosts for {remote_id}")
        existing = str((subject.get("viewer") or {}).get("like") or "")
        if existing:
            did, collection, rkey = parse_at_uri(existing)
            if did != repo or collection != LIKE or not rkey:
                # Someone else's record, or not a like: not trusted.
                raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                     network_message=existing[:200])
        if liked and not existing:
            self.fence("like")
            created = self._post("com.atproto.repo.createRecord", {
                "repo": repo,
                "collection": LIKE,
                "record": {
                    "$type": LIKE,
                    "subject": {"uri": remote_id, "cid": str(subject["cid"])},
                    "createdAt": _iso(self._clock()),
                },
            })
            if not str(created.get("uri") or "").startswith(f"at://{repo}/{LIKE}/"):
                raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                     network_message=str(created)[:200])
        elif not liked and existing:
            self.fence("unlike")
            self._post("com.atproto.repo.deleteRecord",
                       {"repo": repo, "collection": LIKE, "rkey": rkey})

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        """Hide a reply in one of the account's threads with the root post's
        threadgate (``hiddenReplies``), keeping any reply rules it has."""
        repo = self._repo()
        reply = self._post_view(remote_id)
        root = ((reply.get("record") or {}).get("reply") or {}).get("root") or {}
        root_uri = str(root.get("uri") or "")
        if not root_uri or parse_at_uri(root_uri)[0] != repo:
            raise Rejected(
                gettext_noop("Bluesky kan kun skjule svar i kontoens egne tråde."),
                network=self.network,
                network_message=remote_id,
            )
        root_rkey = parse_at_uri(root_uri)[2]
        try:
            gate = dict(
                self._get(
                    "com.atproto.repo.getRecord",
                    repo=repo,
                    collection=THREADGATE,
                    rkey=root_rkey,
                )["value"]
            )
        except Rejected as e:
            if not _record_not_found(e):
                raise
            gate = {
                "$type": THREADGATE,
                "post": root_uri,
                "createdAt": _iso(self._clock()),
            }
        hidden_replies = [u for u in gate.get("hiddenReplies", []) if u != remote_id]
        if hidden:
            hidden_replies.append(remote_id)
        gate["hiddenReplies"] = hidden_replies
        self._post(
            "com.atproto.repo.putRecord",
            {
                "repo": repo,
                "collection": THREADGATE,
                "rkey": root_rkey,
                "record": gate,
            },
        )

    def pin(self, remote_id: str, *, pinned: bool = True) -> None:
        """Set or clear ``pinnedPost`` on the profile record, keeping every other
        field. ``swapRecord`` makes a profile edited meanwhile (in the app) fail
        instead of being overwritten; the read and write are then done again."""
        repo = self._repo()
        ref = None
        if pinned:
            post = self._post_view(remote_id)
            if parse_at_uri(str(post["uri"]))[0] != repo:
                raise Rejected(
                    gettext_noop("Bluesky kan kun fastgøre kontoens egne opslag."),
                    network=self.network,
                    network_message=remote_id,
                )
            ref = {"uri": str(post["uri"]), "cid": str(post["cid"])}
        for attempt in (1, 2):
            try:
                found = self._get(
                    "com.atproto.repo.getRecord",
                    repo=repo,
                    collection=PROFILE,
                    rkey="self",
                )
                profile, swap = dict(found["value"]), found.get("cid")
            except Rejected as e:
                if e.network_code != "RecordNotFound" and e.http_status != 404:
                    raise
                profile, swap = {"$type": PROFILE}, None
            current = (profile.get("pinnedPost") or {}).get("uri")
            if ref is not None:
                profile["pinnedPost"] = ref
            elif current == remote_id:
                del profile["pinnedPost"]
            else:
                # Another post (or none) is pinned: leave that choice alone.
                return
            body: dict = {
                "repo": repo,
                "collection": PROFILE,
                "rkey": "self",
                "record": profile,
            }
            if swap:
                body["swapRecord"] = swap
            try:
                self._post("com.atproto.repo.putRecord", body,
                           write="pin" if pinned else "unpin")
                return
            except Rejected as e:
                if e.network_code != "InvalidSwap" or attempt == 2:
                    raise

    # -- reading ------------------------------------------------------------

    def _inbox_item(
        self, post: Mapping, kind: str, *, indexed_at: str = ""
    ) -> InboxItem:
        record = post.get("record") or {}
        author = post.get("author") or {}
        reply = record.get("reply") or {}
        created = (iso_to_datetime(record.get("createdAt"))
                   or iso_to_datetime(indexed_at))
        return InboxItem(
            remote_id=str(post["uri"]),
            kind=kind,
            author_id=str(author.get("did") or ""),
            author_name=str(author.get("displayName") or author.get("handle") or ""),
            text=str(record.get("text") or ""),
            created_at=created or self._clock(),
            post_remote_id=str((reply.get("root") or {}).get("uri") or ""),
            parent_remote_id=str((reply.get("parent") or {}).get("uri") or ""),
            url=self._post_url(str(post["uri"]), str(author.get("handle") or "")),
        )

    # -- direct messages (chat) ------------------------------------------------

    def _chat(self, method: str, nsid: str, *, write: str = "", **kwargs) -> Mapping:
        response = self._xrpc(method, nsid, headers=CHAT_PROXY, write=write,
                              **kwargs)
        body = read_json(response, network=self.network, write=bool(write))
        return body if isinstance(body, Mapping) else {}

    def _convo_with(self, message: OutgoingMessage) -> str:
        """The conversation with the citizen: the one the message came in, or
        the chat service's for the two members."""
        if message.conversation_id:
            return message.conversation_id
        body = self._chat("GET", "chat.bsky.convo.getConvoForMembers",
                          params={"members": [message.recipient_id]})
        convo = text_of((body.get("convo") or {}).get("id")) if isinstance(
            body.get("convo"), Mapping) else ""
        if not convo:
            raise Rejected(gettext_noop(
                "Bluesky kender ikke samtalen med borgeren. Svar borgeren direkte "
                "på Bluesky."), network=self.network,
                network_message="no convo for the members")
        return convo

    def _convo_messages(self, convo: str, *, pages: int = MAX_CHAT_PAGES):
        """The conversation's messages, newest first, page by page as the
        caller reads on (deleted ones left out); a final ``None`` says that
        ``pages`` pages were read and older messages remain."""
        cursor = ""
        for _ in range(pages):
            params = {"convoId": convo, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = self._chat("GET", "chat.bsky.convo.getMessages", params=params)
            yield from _chat_views(page)
            cursor = text_of(page.get("cursor"))
            if not cursor:
                return
        yield None

    def send_message(self, message: OutgoingMessage, *,
                     idempotency_key: str = "") -> PublishResult:
        """``chat.bsky.convo.sendMessage`` in the conversation with the
        citizen (no idempotency key: ``find_message`` reads it after a lost
        answer)."""
        convo = self._convo_with(message)
        body = self._chat("POST", "chat.bsky.convo.sendMessage", write="message",
                          json={"convoId": convo, "message": {"text": message.text}})
        message_id = text_of(body.get("id"))
        if not message_id:
            raise OutcomeUnknown(network=self.network,
                                 network_message="sendMessage answer without id")
        sent = iso_to_datetime(text_of(body.get("sentAt")))
        return PublishResult(message_id, "", sent or self._clock())

    def find_message(self, message: OutgoingMessage, *, idempotency_key: str = "",
                     since: datetime) -> PublishResult | None:
        """The account's own message with ``message.text`` in the
        conversation with the citizen since ``since`` (on Bluesky's clock),
        read newest first."""
        me = self._repo()
        convo = self._convo_with(message)
        floor = reconcile.network_floor(since, self.client.network_offset())
        search = reconcile.ReplySearch(self.network, message.text)
        read_all = True
        for view in self._convo_messages(convo):
            if view is None:
                read_all = False
                break
            sent = iso_to_datetime(text_of(view.get("sentAt")))
            if floor is not None and sent is not None and sent < floor:
                break  # newest first: nothing after it is newer
            sender = _sender(view)
            candidate = reconcile.Candidate(
                remote_id=text_of(view.get("id")),
                text=text_of(view.get("text")), created_at=sent)
            if candidate.remote_id and search.offer(
                    candidate, own=(sender == me) if sender else None):
                break
        found = search.result(read_all=read_all)
        if found is None:
            return None
        return PublishResult(found.remote_id, "", found.created_at)

    def _chat_messages(self, since: Mapping | None
                       ) -> tuple[list[InboxItem], dict, str]:
        """Citizens' chat messages newer than ``since`` (``{"t", "ids"}``),
        the new chat cursor, and the access the app password lacks ("" if
        none). An app password without access to direct messages leaves them
        out (logged) and the cursor as it was."""
        horizon = iso_to_datetime(text_of((since or {}).get("t")))
        seen = {i for i in (since or {}).get("ids") or [] if isinstance(i, str)}
        now = self._clock()
        if horizon is not None and horizon > now:
            horizon, seen = None, set()  # never a cursor (see ``_notifications``)
        try:
            items = self._read_chats(horizon, seen)
        except AuthExpired as e:
            if "scope" not in e.network_message.lower():
                raise
            logger.warning("bluesky: the app password of %s has no access to "
                           "direct messages", self._did or self.connection.handle)
            return [], dict(since or {}), CHAT_PERMISSION
        # A message stamped in the future is read again until its time has
        # come; it never moves the cursor past Kanal's clock.
        past = [item for item in items if item.created_at <= now]
        if not past:
            return items, dict(since or {}), ""
        newest = max(item.created_at for item in past)
        ids = {item.remote_id for item in past if item.created_at == newest}
        if horizon is not None and newest == horizon:
            ids |= seen
        return items, {"t": newest.isoformat(), "ids": sorted(ids)}, ""

    def _read_chats(self, horizon: datetime | None, seen: set[str]
                    ) -> list[InboxItem]:
        me = self._repo()
        items: list[InboxItem] = []
        listed = self._chat("GET", "chat.bsky.convo.listConvos",
                            params={"limit": INBOX_CONVOS})
        convos = listed.get("convos")
        for convo in convos if isinstance(convos, list) else []:
            if not isinstance(convo, Mapping) or not text_of(convo.get("id")):
                continue
            last = convo.get("lastMessage")
            last_at = iso_to_datetime(text_of(last.get("sentAt"))) if isinstance(
                last, Mapping) else None
            if horizon is not None and last_at is not None and last_at < horizon:
                continue
            names = {}
            members = convo.get("members")
            for member in members if isinstance(members, list) else []:
                if isinstance(member, Mapping) and text_of(member.get("did")):
                    names[text_of(member.get("did"))] = text_of(
                        member.get("displayName")) or text_of(member.get("handle"))
            items.extend(self._convo_items(text_of(convo["id"]), me, names,
                                           horizon, seen))
        return items

    def _convo_items(self, convo: str, me: str, names: Mapping[str, str],
                     horizon: datetime | None, seen: set[str]) -> list[InboxItem]:
        items = []
        # The first poll reads one page; later ones read back to the cursor.
        for view in self._convo_messages(convo,
                                         pages=1 if horizon is None else
                                         MAX_CHAT_PAGES):
            if view is None:
                break
            message_id = text_of(view.get("id"))
            sent = iso_to_datetime(text_of(view.get("sentAt")))
            if horizon is not None and sent is not None and sent < horizon:
                break  # newest first: nothing after it is newer
            if horizon is not None and sent == horizon and message_id in seen:
                continue
            sender = _sender(view)
            if not message_id or not sender or sender == me:
                continue
            items.append(InboxItem(
                remote_id=message_id, kind="message", author_id=sender,
                author_name=names.get(sender, ""), text=text_of(view.get("text")),
                created_at=sent or self._clock(), parent_remote_id=convo,
            ))
        return items

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        """Mentions, replies, quotes and chat messages newer than ``since``.

        The cursor is ``{"n": newest indexedAt of a notification, "m": {"t":
        newest sentAt of a message, "ids": its messages at that time}}``; a
        plain time (the cursor before chat was read) is the notifications'.
        ``listNotifications`` pages backwards in time, so it reads pages
        until it reaches the cursor. Neither time ever passes Kanal's clock
        (``_notifications``, ``_chat_messages``)."""
        notes_since, chat_since = _read_inbox_cursor(since)
        page = self._notifications(notes_since)
        messages, chat_cursor, denied = self._chat_messages(chat_since)
        items = sorted((*page.items, *messages), key=lambda item: item.created_at)
        return InboxPage(items=tuple(items), cursor=json.dumps(
            {"n": page.cursor, "m": chat_cursor}, sort_keys=True),
            skipped=page.skipped,
            messages_denied=denied)

    def _notifications(self, since: str) -> InboxPage:
        """Mentions, replies and quotes indexed after ``since``.

        The cursor never passes Kanal's own clock: a notification stamped in
        the future (a skewed server, a clock put right) is read again until
        its time has come (harmless: intake stores an item once), instead of
        pinning the cursor there and silencing every notification before
        that time. A notification Kanal cannot read is skipped and counted.
        """
        horizon = iso_to_datetime(since) if since else None
        now = self._clock()
        if horizon is not None and horizon > now:
            # A cursor stored before it was bounded: where reading really
            # stopped is unknown, so the newest page is read again.
            horizon = None
        newest = horizon
        items: list[InboxItem] = []
        skipped = 0
        cursor = ""
        for _ in range(MAX_INBOX_PAGES):
            params: dict = {"limit": 50, "reasons": list(INBOX_REASONS)}
            if cursor:
                params["cursor"] = cursor
            page = self._get("app.bsky.notification.listNotifications", **params)
            reached = False
            notes = page.get("notifications") if isinstance(page, Mapping) else None
            for note in notes if isinstance(notes, list) else []:
                if not isinstance(note, Mapping):
                    skipped += 1
                    continue
                indexed = iso_to_datetime(text_of(note.get("indexedAt")))
                if horizon is not None and indexed is not None and indexed <= horizon:
                    reached = True
                    continue
                if indexed is not None:
                    bounded = min(indexed, now)
                    newest = bounded if newest is None else max(newest, bounded)
                if note.get("reason") not in INBOX_REASONS:
                    continue
                kind = "reply" if note["reason"] == "reply" else "mention"
                item = self._readable_item(
                    note, kind, indexed_at=text_of(note.get("indexedAt")))
                if item is None:
                    skipped += 1
                    continue
                items.append(item)
            cursor = text_of(page.get("cursor")) if isinstance(page, Mapping) else ""
            if reached or not cursor or horizon is None:
                break
        if skipped:
            logger.warning("bluesky: %d notification(s) could not be read and "
                           "were skipped", skipped)
        items.sort(key=lambda item: item.created_at)
        return InboxPage(items=tuple(items),
                         cursor=_iso(newest) if newest else (since or ""),
                         skipped=skipped)

    def _readable_item(self, post: Mapping, kind: str, *,
                       indexed_at: str = "") -> InboxItem | None:
        """``_inbox_item``, or None when the post has no ``at://`` URI or a
        part of it is not what the lexicon says (unreadable)."""
        uri = text_of(post.get("uri"))
        if not uri.startswith("at://"):
            return None
        try:
            return self._inbox_item(post, kind, indexed_at=indexed_at)
        except (AttributeError, TypeError, ValueError):
            return None

    def fetch_thread(self, remote_id: str) -> InboxPage:
        """Every reply below one post (``app.bsky.feed.getPostThread``)."""
        thread = (
            self._get("app.bsky.feed.getPostThread", uri=remote_id, depth=20).get(
                "thread"
            )
            or {}
        )
        items: list[InboxItem] = []

        def walk(node: Mapping) -> None:
            for child in node.get("replies") or []:
                post = child.get("post")
                if not post:
                    continue  # notFoundPost / blockedPost
                if (post.get("author") or {}).get("did") != self._did:
                    items.append(self._inbox_item(post, "reply"))
                walk(child)

        walk(thread)
        return InboxPage(items=tuple(items), cursor="")

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        repo = self._repo()
        profile = self._get("app.bsky.actor.getProfile", actor=repo)
        account = tuple(
            present_metrics(
                profile, (("followersCount", "followers"),), self.api_version
            )
        )
        posts: dict[str, tuple[Metric, ...]] = {}
        for start in range(0, len(post_ids), 25):
            chunk = list(post_ids[start : start + 25])
            for view in self._get("app.bsky.feed.getPosts", uris=chunk).get(
                "posts", []
            ):
                posts[str(view["uri"])] = tuple(
                    present_metrics(
                        view,
                        (
                            ("likeCount", "likes"),
                            ("repostCount", "shares"),
                            ("replyCount", "comments"),
                            ("quoteCount", "shares"),
                        ),
                        self.api_version,
                    )
                )
        return MetricsSnapshot(account=account, posts=posts, taken_at=self._clock())

    def search_hashtag(self, tag: str, *, cursor: str = "") -> HashtagPage:
        """Posts tagged ``tag`` after ``cursor`` (the newest time seen),
        newest first, through ``searchPosts`` with ``tag`` and ``since``."""
        tag = tag.lstrip("#")
        params: dict = {"q": f"#{tag}", "tag": [tag], "sort": "latest", "limit": 50}
        if cursor:
            params["since"] = cursor
        result = self._get("app.bsky.feed.searchPosts", **params)
        horizon = iso_to_datetime(cursor) if cursor else None
        newest = horizon
        posts = []
        for view in result.get("posts", []):
            record = view.get("record") or {}
            created = iso_to_datetime(record.get("createdAt"))
            indexed = iso_to_datetime(view.get("indexedAt"))
            sort_at = min(t for t in (created, indexed, self._clock()) if t)
            if horizon is not None and sort_at <= horizon:
                continue
            newest = sort_at if newest is None or sort_at > newest else newest
            author = view.get("author") or {}
            posts.append(
                HashtagPost(
                    remote_id=str(view["uri"]),
                    author_name=str(
                        author.get("displayName") or author.get("handle") or ""
                    ),
                    text=str(record.get("text") or ""),
                    created_at=created,
                    url=self._post_url(
                        str(view["uri"]), str(author.get("handle") or "")
                    ),
                )
            )
        return HashtagPage(
            tag=tag, posts=tuple(posts), cursor=_iso(newest) if newest else cursor
        )

    def fetch_account_posts(
        self, account: str, *, since: str = ""
    ) -> AccountPostsPage:
        """The account's own posts (``getAuthorFeed`` with
        ``posts_no_replies``; its reposts left out) after ``since`` (the
        newest time seen, as for hashtags: the feed's own cursor pages
        backwards)."""
        actor = account.strip().lstrip("@")
        try:
            feed = self._get(
                "app.bsky.feed.getAuthorFeed",
                actor=actor, filter="posts_no_replies", limit=50,
            )
        except Rejected as e:
            if e.http_status != 400:
                raise
            raise Rejected(
                gettext_noop(
                    "Bluesky kender ikke kontoen. Tjek kontoens navn (fx "
                    "bibliotek.kk.dk)."
                ),
                network=self.network, http_status=400,
                network_message=e.network_message,
            ) from e
        horizon = iso_to_datetime(since) if since else None
        newest = horizon
        posts = []
        for entry in feed.get("feed") or ():
            view = entry.get("post") if isinstance(entry, dict) else None
            if not isinstance(view, dict) or entry.get("reason"):
                continue
            record = view.get("record") or {}
            uri = str(view.get("uri") or "")
            if record.get("reply") or not uri.startswith("at://"):
                continue
            created = iso_to_datetime(record.get("createdAt"))
            indexed = iso_to_datetime(view.get("indexedAt"))
            sort_at = min(t for t in (created, indexed, self._clock()) if t)
            if horizon is not None and sort_at <= horizon:
                continue
            newest = sort_at if newest is None or sort_at > newest else newest
            author = view.get("author") or {}
            embed = view.get("embed") or {}
            posts.append(
                AccountPost(
                    remote_id=uri,
                    text=str(record.get("text") or ""),
                    url=self._post_url(uri, str(author.get("handle") or "")),
                    created_at=created,
                    author_name=str(
                        author.get("displayName") or author.get("handle") or ""
                    ),
                    media_urls=tuple(
                        str(image.get("fullsize") or "")
                        for image in embed.get("images") or ()
                        if isinstance(image, dict)
                    ),
                )
            )
        return AccountPostsPage(
            account=actor,
            posts=tuple(posts),
            cursor=_iso(newest) if newest else since,
        )

    # -- connection ---------------------------------------------------------

    def refresh_token(self) -> TokenSet:
        """The session, renewed only when the access JWT is about to expire.

        With more than ``SESSION_REFRESH_AHEAD`` left it returns the session
        Kanal already has, unchanged and without a call (the caller need not
        store it again); else ``refreshSession``, or ``createSession`` when
        the refresh JWT is spent."""
        expiry = _jwt_expiry(self._access) if self._access else None
        if expiry is not None and expiry - self._clock() > SESSION_REFRESH_AHEAD:
            return TokenSet(
                access_token=self._access,
                refresh_token=self._refresh,
                expires_at=expiry,
                extra={"did": self._did, "handle": self._handle},
            )
        return self._renew()

    def verify(self) -> AccountInfo:
        repo = self._repo()
        profile = self._get("app.bsky.actor.getProfile", actor=repo)
        handle = str(profile.get("handle") or self._handle)
        web = str(self.connection.settings.get("web_url") or "https://bsky.app")
        return AccountInfo(
            remote_id=str(profile.get("did") or repo),
            handle=handle,
            display_name=str(profile.get("displayName") or ""),
            followers=count_value(profile.get("followersCount")),
            profile_url=f"{web.rstrip('/')}/profile/{handle}",
        )
