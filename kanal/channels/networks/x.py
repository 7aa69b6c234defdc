"""X (Twitter) through API v2 with plain httpx.

``Connection.base_url`` is ``https://api.x.com`` (the sandbox's is
``http://127.0.0.1:8765/x``); ``account_id`` is the numeric user id and
``handle`` the username. ``credentials``: ``access_token`` (OAuth 2 user
token, 2 hours), ``refresh_token`` (with ``offline.access``; X rotates it on
use), ``client_id`` and, for a confidential client, ``client_secret``.

Settings read from ``Connection.settings``: ``authorize_url`` (default
``https://x.com/i/oauth2/authorize`` for the real API, ``<base_url>/i/oauth2/
authorize`` elsewhere), ``web_url`` (where posts are seen; default
``https://x.com``, or ``base_url`` for a sandbox), ``scopes`` (space
separated), ``media_poll_seconds`` (cap on the wait between media status
checks, default 5) and ``media_poll_attempts`` (default 60).

Direct messages (``GET /2/dm_events``, scope ``dm.read``) join the inbox.
The inbox cursor is ``{"tweets": "<id>", "dms": "<id>"}``, with ``"seen"``:
the post ids read in the last ``READ_BACK`` before it (X lists a post a
little after it is made, so each poll reads back that far); an older
cursor, a bare post id, still parses and also serves as the floor for
messages (both are snowflakes, ordered by time).

X has no idempotency key: after ``OutcomeUnknown`` the engine calls
``find_published``, which looks among the account's own recent posts for the
one carrying exactly the media ids uploaded (and checkpointed) for it, or, for
a text-only post, the same text as X shows it (entities unescaped, t.co links
reduced; see ``reconcile``), with a time bound on X's clock. The only
server-side guard is X's 403 for duplicate content, raised as ``Duplicate``.

Fenced writes (``NetworkAdapter.fence``): creating a post or reply, and a
repost. Media uploads (initialize, append, finalize, metadata) publish nothing
and are not fenced; reads are never fenced.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

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
    MediaItem,
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
    id_of,
    present_metrics,
    text_of,
    text_with_link,
    usable_id,
)
from .errors import (
    LIKE_UNCONFIRMED,
    AuthExpired,
    Duplicate,
    NetworkError,
    QuotaExhausted,
    RateLimited,
    RecipientGone,
    Rejected,
    TransientError,
    gettext_noop,
)
from .http import (
    epoch_to_datetime,
    error_json,
    iso_to_datetime,
    missing_in_answer,
    read_json,
    retry_after_seconds,
)

logger = logging.getLogger("kanal.networks.x")

REAL_API_HOSTS = frozenset({"api.x.com", "api.twitter.com"})
REAL_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
REAL_WEB_URL = "https://x.com"
DEFAULT_SCOPES = (
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.read",
    "media.write",
    "dm.read",
    "like.write",
    "offline.access",
)
ACCESS_TOKEN_LIFETIME = timedelta(hours=2)

MAX_IMAGES = 4
MAX_VIDEOS = 1
IMAGE_FORMATS = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
VIDEO_FORMATS = frozenset({"video/mp4", "video/quicktime"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
MAX_VIDEO_BYTES = 512 * 1024 * 1024
MIN_VIDEO_SECONDS = 0.5
MAX_VIDEO_SECONDS = 140
ALT_TEXT_MAX = 1000
# A direct message's text: up to 10,000 characters, not weighted like a post
# (docs.x.com/x-api/direct-messages/manage/introduction).
MAX_DM_TEXT = 10_000
CHUNK_BYTES = 4 * 1024 * 1024  # X accepts segments up to 5 MB
# Media ids live 24 hours; a resumed publish re-uploads after this.
MEDIA_REUSE_WINDOW = timedelta(hours=23)
PAGE_SIZE = 100
# Ids a post lookup takes (``GET /2/tweets?ids=``: 1 to 100, OpenAPI 2.167).
READ_BATCH = 100
MAX_PAGES = 5
TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets"
)
USER_FIELDS = "name,username"
# sender_id is in X's docs' dm_event.fields but not the spec's enum; the
# sender_id expansion returns it either way.
DM_EVENT_FIELDS = "id,event_type,text,created_at,dm_conversation_id"

DUPLICATE_MESSAGE = gettext_noop(
    "X afviste opslaget, fordi præcis den samme tekst allerede er udgivet på "
    "kontoen. Tjek først, om opslaget allerede ligger på X; ret kun teksten, "
    "hvis det ikke gør."
)
NOT_FOUND_MESSAGE = gettext_noop(
    "X kunne ikke finde opslaget. Det er måske slettet; tjek det på X."
)
#: A post's id: digits only (a snowflake), as it goes into a path.
_POST_ID = re.compile(r"[0-9]{1,40}")
MEDIA_MESSAGE = gettext_noop(
    "X kunne ikke bruge det vedhæftede billede eller den vedhæftede video. Tjek "
    "format og størrelse, og prøv igen med en anden fil."
)


# --------------------------------------------------------------------------
# Errors


def _problem(response: httpx.Response) -> dict:
    """The problem object (or the legacy ``errors[0]``) of an error response."""
    body = error_json(response)
    if body is None:
        return {"detail": response.text[:300]}
    if not isinstance(body, dict):
        return {}
    if body.get("title") or body.get("detail") or body.get("type"):
        # invalid-request problems say what was wrong only in errors[].message.
        messages = [
            str(e.get("message"))
            for e in body.get("errors") or []
            if isinstance(e, dict) and e.get("message")
        ]
        if messages:
            detail = str(body.get("detail") or "")
            return {**body, "detail": " ".join([detail, *messages]).strip()}
        return body
    # OAuth token endpoint: {"error": ..., "error_description": ...}
    if isinstance(body.get("error"), str):
        return {"title": body["error"], "detail": body.get("error_description", "")}
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return {
            "legacy_code": first.get("code"),
            "title": str(first.get("title") or ""),
            "detail": str(first.get("message") or first.get("detail") or ""),
        }
    return body


def _problem_kind(problem: Mapping) -> str:
    """``invalid-request`` from ``https://api.x.com/2/problems/invalid-request``."""
    kind = str(problem.get("type") or "")
    if kind and kind != "about:blank":
        return kind.rstrip("/").rsplit("/", 1)[-1]
    return ""


def _rate_limit_reset(response: httpx.Response, *names: str) -> datetime | None:
    for name in names:
        reset = epoch_to_datetime(response.headers.get(name))
        if reset is not None:
            return reset
    return None


def translate_error(
    response: httpx.Response, *, context: str = ""
) -> NetworkError | None:
    """Map an X error response to Kanal's errors (None for a success).

    ``context`` is ``"media"`` for upload calls, ``"token"`` for the OAuth
    token endpoint.
    """
    status = response.status_code
    if status < 400:
        return None
    problem = _problem(response)
    kind = _problem_kind(problem)
    detail = str(problem.get("detail") or problem.get("title") or "")
    legacy = problem.get("legacy_code")
    code = kind or legacy or problem.get("title") or status
    details = {"network_code": code, "network_message": detail, "http_status": status}
    lowered = detail.lower()

    if status == 429 or legacy == 88:
        user_day_left = response.headers.get("x-user-limit-24hour-remaining")
        app_day_left = response.headers.get("x-app-limit-24hour-remaining")
        if kind == "usage-capped":
            return QuotaExhausted(
                gettext_noop(
                    "X-appens forbrugsloft for måneden er nået, så X tager ikke imod "
                    "flere kald. En administrator skal købe flere kreditter eller "
                    "vente "
                    "til næste måned."
                ),
                reset_at=_rate_limit_reset(response, "x-rate-limit-reset"),
                retry_after=retry_after_seconds(response),
                **details,
            )
        if "0" in (user_day_left, app_day_left):
            reset_at = _rate_limit_reset(
                response, "x-user-limit-24hour-reset", "x-app-limit-24hour-reset"
            )
            return QuotaExhausted(
                gettext_noop(
                    "Kontoens døgnkvote for opslag på X er brugt op. Opslaget venter, "
                    "til X nulstiller kvoten."
                ),
                reset_at=reset_at,
                retry_after=_seconds_until(reset_at),
                **details,
            )
        reset_at = _rate_limit_reset(response, "x-rate-limit-reset")
        retry_after = retry_after_seconds(response)
        if retry_after is None:
            retry_after = _seconds_until(reset_at)
        return RateLimited(reset_at=reset_at, retry_after=retry_after, **details)
    if context == "token" and status in (400, 401):
        return AuthExpired(
            gettext_noop(
                "X afviste Kanals adgang til kontoen (koden eller fornyelsesnøglen er "
                "udløbet eller trukket tilbage). En administrator skal forbinde "
                "X-kontoen "
                "igen."
            ),
            **details,
        )
    if status == 401 or legacy in (32, 89, 215):
        return AuthExpired(
            gettext_noop(
                "Adgangen til X-kontoen er udløbet eller trukket tilbage. Kan Kanal "
                "ikke "
                "selv forny den, skal en administrator forbinde kontoen igen."
            ),
            **details,
        )
    if status >= 500:
        return TransientError(retry_after=retry_after_seconds(response), **details)
    if "duplicate" in lowered or legacy == 187:
        details["network_code"] = "duplicate-content"
        return Duplicate(DUPLICATE_MESSAGE, **details)
    if context == "media" and status in (400, 413, 415, 422):
        return Rejected(MEDIA_MESSAGE, **details)
    if "too long" in lowered or legacy == 186:
        return Rejected(
            gettext_noop(
                "Teksten er for lang til X (højst 280 vægtede tegn). Forkort den og "
                "prøv igen."
            ),
            **details,
        )
    if "media" in lowered and status == 400:
        return Rejected(MEDIA_MESSAGE, **details)
    if status == 404:
        return Rejected(NOT_FOUND_MESSAGE, **details)
    if context == "message" and status == 400 and (
            "participant_id" in detail and "not a valid user" in lowered):
        # The citizen's account is gone (deleted or suspended for good).
        return RecipientGone(**details)
    if context == "message" and status == 403:
        return Rejected(
            gettext_noop(
                "X afviste beskeden. Borgeren tager måske ikke imod beskeder fra "
                "kontoen (eller har blokeret den). Svar borgeren på en anden måde."
            ),
            **details,
        )
    if status == 403:
        return Rejected(
            gettext_noop(
                "X afviste handlingen. Kontoen har måske ikke lov til den, eller X "
                "mener, indholdet strider mod reglerne. Ret indholdet, eller tjek "
                "kontoen på X."
            ),
            **details,
        )
    return Rejected(
        gettext_noop(
            "X afviste forespørgslen. Ret indholdet og prøv igen; X's egen "
            "forklaring står i fejlens detaljer."
        ),
        **details,
    )


def _seconds_until(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


# --------------------------------------------------------------------------
# Helpers


def compose_text(post: OutgoingPost) -> str:
    """The post's text with its link added when the text lacks it."""
    return text_with_link(post.text, post.link)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest_id(ids: Iterable[str], current: str = "") -> str:
    numeric = [int(i) for i in ids if str(i).isdigit()]
    if current.isdigit():
        numeric.append(int(current))
    return str(max(numeric)) if numeric else current


def _tweet_id(entry) -> str:
    """The numeric id of a post or event from X's answer, or "" when the
    entry is no object or has no such id (it cannot be read)."""
    if not isinstance(entry, Mapping):
        return ""
    value = id_of(entry.get("id"))
    return value if value.isdigit() and len(value) <= 30 else ""


def _entries(value) -> list[dict]:
    """The objects of a list from X's answer (anything else left out)."""
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _users(body: Mapping) -> dict[str, dict]:
    """The users an answer includes (``includes.users``), by id."""
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    return {id_of(u.get("id")): u for u in _entries(users) if id_of(u.get("id"))}


def _is_newer(event_id, since: str) -> bool:
    event_id = str(event_id or "")
    if not (event_id.isdigit() and since.isdigit()):
        return True
    return int(event_id) > int(since)


def _read_cursor(cursor: str | None) -> tuple[str, str]:
    """``(post id, message id)`` from an inbox cursor, old or new."""
    cursor = (cursor or "").strip()
    if not cursor.startswith("{"):
        return cursor, cursor
    try:
        state = json.loads(cursor)
    except ValueError:
        return "", ""
    if not isinstance(state, dict):
        return "", ""
    return str(state.get("tweets") or ""), str(state.get("dms") or "")


def _write_cursor(tweets: str, dms: str, seen: Iterable[str] = ()) -> str:
    seen = sorted(seen, key=int)
    if not dms and not seen:
        return tweets
    state = {"tweets": tweets, "dms": dms}
    if seen:
        state["seen"] = seen
    return json.dumps(state, separators=(",", ":"))


#: X lists a post in its timelines and search a little after it is made,
#: so a post may first be listed after a newer one was read, with an id
#: below the cursor. Each poll reads back this far before the cursor (an
#: id holds its time: a snowflake) and the cursor keeps the ids read there.
READ_BACK = timedelta(minutes=5)
_READ_BACK_IDS = int(READ_BACK.total_seconds() * 1000) << 22
#: X's epoch for the time in a snowflake id (ms since 1970).
SNOWFLAKE_EPOCH_MS = 1288834974657
#: Only a cursor this young is read back from (a late post is minutes
#: late); an id whose time is not that of a post made lately (an older
#: cursor, a test server's counter) is used as it is.
READ_BACK_CURSOR_AGE = timedelta(days=1)


def _read_back(since: str, now: datetime) -> str:
    """The id ``READ_BACK`` before post id ``since`` when ``since`` is the
    snowflake of a post made lately; ``since`` itself otherwise."""
    if not since.isdigit() or int(since) <= _READ_BACK_IDS:
        return since
    made = (int(since) >> 22) + SNOWFLAKE_EPOCH_MS
    if not (now - READ_BACK_CURSOR_AGE).timestamp() * 1000 <= made <= (
            now + READ_BACK).timestamp() * 1000:
        return since
    return str(int(since) - _READ_BACK_IDS)


def _read_seen(cursor: str | None) -> set[str]:
    """The post ids read in the read-back span of an inbox cursor."""
    try:
        state = json.loads(cursor or "")
    except ValueError:
        return set()
    seen = state.get("seen") if isinstance(state, dict) else None
    return {str(i) for i in seen if str(i).isdigit()} if isinstance(
        seen, list) else set()


def comparable_text(value: str) -> str:
    """Text as X stores it, reduced for comparison.

    X escapes ``&<>`` as entities, wraps every link in t.co and appends a
    t.co link for attached media, so URLs become one placeholder and trailing
    ones are dropped.
    """
    value = unicodedata.normalize("NFC", html.unescape(value))
    parts = []
    position = 0
    for url in kanal_text.find_urls(value):
        parts.append(value[position : url.start])
        parts.append("\x00")
        position = url.end
    parts.append(value[position:])
    words = "".join(parts).split()
    while words and words[-1] == "\x00":
        words.pop()
    return " ".join(words)


def new_code_verifier() -> str:
    """A PKCE code verifier (43–128 characters of the unreserved set)."""
    return secrets.token_urlsafe(64)[:96]


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _media_category(item: MediaItem) -> str:
    if item.kind == "video":
        return "tweet_video"
    if item.mime_type == "image/gif":
        return "tweet_gif"
    return "tweet_image"


# --------------------------------------------------------------------------
# The adapter


class _Pages:
    """The pages of one listing, read as the caller iterates (it may stop
    early); ``complete`` says whether the last page was reached within
    ``max_pages``."""

    def __init__(self, adapter: XAdapter, path: str, params: Mapping,
                 max_pages: int) -> None:
        self.adapter, self.path, self.max_pages = adapter, path, max_pages
        self.params = dict(params)
        self.complete = False

    def __iter__(self):
        for _ in range(self.max_pages):
            body = self.adapter._json(
                self.adapter._call("GET", self.path, params=self.params))
            yield body
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                self.complete = True
                return
            self.params["pagination_token"] = next_token


def _own_message(event: Mapping, me: str, conversation: str) -> InboxItem | None:
    """The account's own direct message ``event`` as an item by the account
    whose ``parent_remote_id`` is the citizen it went to: the other user of
    the one-to-one conversation (``dm_conversation_id`` is both user ids
    joined by a hyphen); None when the id names no one else (a group)."""
    others = [p for p in conversation.split("-") if p and p != me]
    if len(others) != 1 or conversation.count("-") != 1 or not others[0].isdigit():
        return None
    return InboxItem(
        remote_id=_tweet_id(event), kind="message", author_id=me,
        author_name="", text=html.unescape(text_of(event.get("text"))),
        created_at=iso_to_datetime(event.get("created_at")) or datetime.now(UTC),
        parent_remote_id=others[0],
    )


class XAdapter(NetworkAdapter):
    network = "x"
    display_name = "X"
    api_version = "2"
    read_batch = READ_BATCH

    def __init__(
        self, connection, *, client=None, sleep: Callable = time.sleep, **hooks
    ):
        super().__init__(connection, client=client, **hooks)
        self._sleep = sleep

    # -- plumbing ---------------------------------------------------------

    def _is_real_api(self) -> bool:
        return urlsplit(self.connection.base_url).hostname in REAL_API_HOSTS

    def _auth(self) -> dict[str, str]:
        token = self.connection.secret("access_token")
        if not token:
            raise AuthExpired(
                gettext_noop(
                    "Kanal har ingen adgangsnøgle til X-kontoen. En administrator skal "
                    "forbinde kontoen."
                ),
                network=self.network,
            )
        return {"Authorization": f"Bearer {token}"}

    def _call(
        self, method: str, path: str, *, context: str = "", write: str = "",
        **kwargs,
    ) -> httpx.Response:
        """One call. ``write`` names a write that must not be sent twice: it
        is fenced right before sending, and a 5xx answer is ``OutcomeUnknown``."""
        headers = {**self._auth(), **kwargs.pop("headers", {})}
        if write:
            self.fence(write)
        return self.client.request(
            method,
            path,
            headers=headers,
            translate=lambda r: translate_error(r, context=context),
            write=bool(write),
            **kwargs,
        )

    def _json(self, response: httpx.Response, *, write: bool = False) -> dict:
        body = read_json(
            response, network=self.network, write=write,
            message="X svarede med noget, Kanal ikke kunne læse. Kanal prøver igen.",
        )
        return body if isinstance(body, dict) else {}

    def _pages(self, path: str, params: Mapping, *,
               max_pages: int = MAX_PAGES) -> _Pages:
        """The bodies of a paged ``GET path``, following X's ``next_token``."""
        return _Pages(self, path, params, max_pages)

    def _user_id(self) -> str:
        if self.connection.account_id:
            return self.connection.account_id
        return self.verify().remote_id

    def _web_url(self) -> str:
        configured = self.connection.settings.get("web_url")
        if configured:
            return configured.rstrip("/")
        return REAL_WEB_URL if self._is_real_api() else self.connection.base_url

    def post_url(self, remote_id: str, handle: str = "") -> str:
        handle = handle or self.connection.handle or "i/web"
        return f"{self._web_url()}/{handle}/status/{remote_id}"

    # -- limits and validation --------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(
            max_text_length=kanal_text.X_MAX_WEIGHTED_LENGTH,
            text_counting=(
                "vægtede tegn: de fleste bogstaver tæller 1, emoji og kinesisk, "
                "japansk og koreansk tæller 2, et link tæller 23"
            ),
            max_images=MAX_IMAGES,
            max_videos=MAX_VIDEOS,
            image_formats=IMAGE_FORMATS,
            video_formats=VIDEO_FORMATS,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            max_gif_bytes=MAX_GIF_BYTES,
            min_video_seconds=MIN_VIDEO_SECONDS,
            max_video_seconds=MAX_VIDEO_SECONDS,
            video_alone=True,
            alt_text_required_for=frozenset({"image", "video"}),
            alt_text_max_length=ALT_TEXT_MAX,
            max_message_length=MAX_DM_TEXT,
            supports=frozenset(
                {
                    "publish",
                    "delete",
                    "reply",
                    "hide",
                    "repost",
                    "fetch_inbox",
                    "direct_messages",
                    "send_message",
                    "fetch_metrics",
                    "search_hashtag",
                    "account_posts",
                    "refresh_token",
                    "verify",
                    "link_posts",
                    "video",
                    "like",
                    "read_post",
                }
            ),
        )

    def count_text(self, text: str) -> int:
        return kanal_text.x_weighted_length(text)

    def count_message(self, text: str) -> int:
        return len(text)

    def text_for(self, post: OutgoingPost) -> str:
        return compose_text(post)

    def own_problems(self, post: OutgoingPost) -> list[ValidationProblem]:
        problems = []
        if kanal_text.parse_x_text(self.text_for(post)).has_invalid_characters:
            problems.append(rules.problem("text_invalid_characters", network="X"))
        images = [m for m in post.media if m.kind != "video"]
        if len(images) > 1 and any(m.mime_type == "image/gif" for m in images):
            problems.append(
                rules.problem("gif_with_other_media", network="X", field="media")
            )
        return problems

    # -- publishing -------------------------------------------------------

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        media_ids = self._reusable_media_ids(post, checkpoint)
        reused = media_ids is not None
        if not reused and post.media:
            media_ids = self._upload_all(post, on_checkpoint)
        try:
            return self._create_tweet(
                compose_text(post),
                media_ids=media_ids or [],
                in_reply_to=post.reply_to_remote_id,
            )
        except Rejected as e:
            # Media ids from an earlier attempt may have expired; X refused the
            # post without creating it, so uploading again is safe.
            if not reused or "media" not in e.network_message.lower():
                raise
            logger.info("x: media ids from the checkpoint were refused; re-uploading")
            return self._create_tweet(
                compose_text(post),
                media_ids=self._upload_all(post, on_checkpoint),
                in_reply_to=post.reply_to_remote_id,
            )

    def _upload_all(
        self,
        post: OutgoingPost,
        on_checkpoint: Callable[[Checkpoint], None] | None,
    ) -> list[str]:
        media_ids = [self.upload_media(item) for item in post.media]
        if on_checkpoint is not None:
            on_checkpoint(
                {
                    "media_ids": ",".join(media_ids),
                    "media_uploaded_at": datetime.now(UTC).isoformat(),
                }
            )
        return media_ids

    def _reusable_media_ids(
        self, post: OutgoingPost, checkpoint: Checkpoint | None
    ) -> list[str] | None:
        if not checkpoint or not checkpoint.get("media_ids") or not post.media:
            return None
        ids = checkpoint["media_ids"].split(",")
        uploaded = iso_to_datetime(checkpoint.get("media_uploaded_at"))
        if len(ids) != len(post.media) or uploaded is None:
            return None
        if datetime.now(UTC) - uploaded > MEDIA_REUSE_WINDOW:
            return None
        return ids

    def _create_tweet(
        self, text: str, *, media_ids: list[str], in_reply_to: str = ""
    ) -> PublishResult:
        body: dict = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if in_reply_to:
            body["reply"] = {"in_reply_to_tweet_id": in_reply_to}
        response = self._call(
            "POST", "/2/tweets", json=body,
            write="reply" if in_reply_to else "create",
        )
        data = self._json(response, write=True).get("data") or {}
        remote_id = usable_id(data.get("id")) if isinstance(data, dict) else ""
        if not remote_id:
            raise missing_in_answer(response, network=self.network, what="data.id")
        return PublishResult(
            remote_id=remote_id,
            url=self.post_url(remote_id),
            published_at=datetime.now(UTC),
        )

    def upload_media(self, item: MediaItem) -> str:
        """Upload one file in chunks, wait for processing, set its alt text."""
        if not item.data:
            raise Rejected(
                gettext_noop(
                    "Filen kunne ikke sendes til X, fordi Kanal ikke har dens indhold. "
                    "Upload filen igen."
                ),
                network=self.network,
            )
        response = self._call(
            "POST",
            "/2/media/upload/initialize",
            context="media",
            json={
                "media_type": item.mime_type,
                "total_bytes": item.size,
                "media_category": _media_category(item),
            },
        )
        media_id = usable_id((self._json(response).get("data") or {}).get("id"))
        if not media_id:
            raise TransientError(
                gettext_noop(
                    "X gav ikke filen et id. Kanal prøver igen."
                ), network=self.network
            )
        for index, start in enumerate(range(0, item.size, CHUNK_BYTES)):
            self._call(
                "POST",
                f"/2/media/upload/{media_id}/append",
                context="media",
                data={"segment_index": str(index)},
                files={
                    "media": (
                        item.filename or "media",
                        item.data[start : start + CHUNK_BYTES],
                        "application/octet-stream",
                    )
                },
            )
        response = self._call(
            "POST", f"/2/media/upload/{media_id}/finalize", context="media"
        )
        processing = (self._json(response).get("data") or {}).get("processing_info")
        self._wait_for_processing(media_id, processing)
        if item.alt_text.strip():
            self._call(
                "POST",
                "/2/media/metadata",
                context="media",
                json={
                    "id": media_id,
                    "metadata": {"alt_text": {"text": item.alt_text[:ALT_TEXT_MAX]}},
                },
            )
        return media_id

    def _wait_for_processing(self, media_id: str, processing: Mapping | None) -> None:
        settings = self.connection.settings
        cap = float(settings.get("media_poll_seconds", 5))
        attempts = int(settings.get("media_poll_attempts", 60))
        for _ in range(attempts):
            state = (processing or {}).get("state", "succeeded")
            if state == "succeeded":
                return
            if state == "failed":
                error = (processing or {}).get("error") or {}
                raise Rejected(
                    MEDIA_MESSAGE,
                    network=self.network,
                    network_code=error.get("name") or "processing-failed",
                    network_message=str(error.get("message") or ""),
                )
            self._sleep(min(cap, float(processing.get("check_after_secs") or 1)))
            response = self._call(
                "GET",
                "/2/media/upload",
                context="media",
                params={"command": "STATUS", "media_id": media_id},
            )
            processing = (self._json(response).get("data") or {}).get("processing_info")
        raise TransientError(
            gettext_noop(
                "X blev ikke færdig med at behandle videoen i tide. Kanal prøver igen."
            ),
            network=self.network,
            network_code="processing-timeout",
        )

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        """The post a lost attempt created: the one carrying the checkpointed
        media ids, else the same text (as X shows it), on X's clock."""
        media_ids = reconcile.ids_from((checkpoint or {}).get("media_ids"))
        # Ask generously (clocks may be far apart); the exact bound is applied
        # below, on X's clock as its Date header tells it.
        params = {
            "start_time": _rfc3339(since - reconcile.UNKNOWN_OFFSET_SLACK
                                   - timedelta(hours=1)),
            "max_results": PAGE_SIZE,
            "tweet.fields": "created_at,attachments",
        }
        found: list[reconcile.Candidate] = []
        pages = self._pages(f"/2/users/{self._user_id()}/tweets", params)
        for body in pages:
            for tweet in body.get("data") or []:
                keys = (tweet.get("attachments") or {}).get("media_keys") or []
                found.append(reconcile.Candidate(
                    remote_id=str(tweet["id"]),
                    text=str(tweet.get("text") or ""),
                    created_at=iso_to_datetime(tweet.get("created_at")),
                    media_ids=frozenset(str(k).rsplit("_", 1)[-1] for k in keys),
                    has_media=bool(keys),
                ))
        if not pages.complete:
            raise TransientError(
                gettext_noop(
                    "Kanal kunne ikke gennemse alle kontoens nye opslag på X. Kanal "
                    "prøver igen."
                ),
                network=self.network,
            )
        floor = reconcile.network_floor(
            since, self.client.network_offset(),
            at_write=reconcile.offset_at_write(checkpoint))
        best = reconcile.newest_match(found, text=text, floor=floor,
                                      media_ids=media_ids,
                                      exclude=reconcile.excluded(checkpoint))
        if best is None:
            return None
        return PublishResult(
            remote_id=best.remote_id,
            url=self.post_url(best.remote_id),
            published_at=best.created_at,
        )

    def _post_id(self, remote_id: str) -> str:
        """``remote_id`` if it is an X post id (digits), else ``Rejected``."""
        return check_id(remote_id, _POST_ID, network=self.network,
                        message=NOT_FOUND_MESSAGE)

    def delete(self, remote_id: str) -> None:
        self._post_id(remote_id)
        try:
            self._call("DELETE", f"/2/tweets/{remote_id}")
        except Rejected as e:
            if e.http_status == 404:
                logger.info("x: post %s was already gone", remote_id)
                return
            raise

    def read_post(self, remote_id: str) -> PostState:
        """One post, read as ``read_posts`` reads many (one request to
        ``GET /2/tweets?ids=``, two for an edited post)."""
        self._post_id(remote_id)
        state = self.read_posts((remote_id,)).get(remote_id)
        if state is None:
            raise TransientError(
                gettext_noop("X svarede uden opslaget og uden at sige, at det er "
                             "slettet. Kanal spørger igen senere."),
                network=self.network, network_message=remote_id,
            )
        return state

    def read_posts(self, remote_ids) -> dict[str, PostState]:
        """``GET /2/tweets?ids=`` with up to ``READ_BATCH`` ids a request.

        X answers 200 with the posts it found in ``data`` and one problem per
        id it did not give in ``errors``: an id missing from ``data`` whose
        problem is ``resource-not-found`` ("Not Found Error") is gone; one
        missing for any other reason (``not-authorized-for-resource`` for a
        protected or suspended author, no problem at all) is left out of the
        answer, so nothing is concluded about it. An edit on X is a new post
        id: the original id still answers with its first text and lists every
        version in ``edit_history_tweet_ids`` (oldest first), so the newest
        versions are read in a second request, by their own ids.

        X bills each post a read returns (Posts: Read, $0.005; the same post
        again within the same UTC day is not billed again), so batching saves
        requests (this endpoint allows 5,000 a user in 15 minutes against
        ``/2/tweets/:id``'s 900), not money; see ``polling.recheck``.
        """
        # X refuses the whole request for one id that is not a number.
        ids = list(dict.fromkeys(str(i) for i in remote_ids if str(i).isdigit()))
        tweets, gone = self._lookup(ids)
        newest: dict[str, str] = {}
        for remote_id in ids:
            tweet = tweets.get(remote_id)
            if tweet is None:
                continue
            history = [
                str(i) for i in (tweet.get("edit_history_tweet_ids")
                                 or tweet.get("edit_history_post_ids") or [])
                if isinstance(i, (str, int)) and str(i).isdigit()
            ]
            newest[remote_id] = max(history, key=lambda i: (len(i), i),
                                    default=remote_id)
        later_ids = sorted({n for i, n in newest.items() if n != i} - set(tweets))
        later, later_gone = self._lookup(later_ids)
        tweets, gone = {**tweets, **later}, gone | later_gone
        states: dict[str, PostState] = {}
        for remote_id in ids:
            if remote_id in gone:
                states[remote_id] = PostState(remote_id, gone=True)
                continue
            current = newest.get(remote_id)
            if current is None:
                continue  # not answered for: no conclusion
            if current in gone:  # deleting an edited post deletes every version
                states[remote_id] = PostState(remote_id, gone=True)
                continue
            tweet = tweets.get(current)
            if tweet is None:
                continue
            edited_at = (iso_to_datetime(text_of(tweet.get("created_at")))
                         if current != remote_id else None)
            states[remote_id] = PostState(
                # X escapes &, < and > in a post's text.
                remote_id, text=html.unescape(text_of(tweet.get("text"))),
                url=self.post_url(current), edited_at=edited_at,
                current_id=current,
            )
        return states

    def _lookup(self, ids: list[str]) -> tuple[dict[str, Mapping], set[str]]:
        """Posts by id, ``READ_BATCH`` a request: those X gave, and the ids X
        said it could not find ("Not Found Error" naming that id)."""
        found: dict[str, Mapping] = {}
        gone: set[str] = set()
        for start in range(0, len(ids), READ_BATCH):
            batch = ids[start:start + READ_BATCH]
            response = self._call("GET", "/2/tweets", params={
                "ids": ",".join(batch),
                "tweet.fields": "created_at,edit_history_tweet_ids"})
            body = self._json(response)
            for tweet in body.get("data") or []:
                if isinstance(tweet, dict) and str(tweet.get("id")) in batch:
                    found[str(tweet["id"])] = tweet
            for problem in body.get("errors") or []:
                if not isinstance(problem, dict) or (
                        _problem_kind(problem) != "resource-not-found"):
                    continue
                if problem.get("parameter") not in (None, "ids", "id"):
                    continue  # an expansion's post, not one asked for
                named = str(problem.get("resource_id") or problem.get("value") or "")
                if named in batch and named not in found:
                    gone.add(named)
        return found, gone

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        self._post_id(to_remote_id)
        return self._create_tweet(text.strip(), media_ids=[], in_reply_to=to_remote_id)

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The account's own post answering ``to_remote_id`` with ``text``,
        which a reply whose answer was lost may have made. Reads the
        account's own posts newer than the one answered (ids are in time
        order, so no clock is involved)."""
        self._post_id(to_remote_id)
        search = reconcile.ReplySearch(self.network, text)
        params: dict = {"max_results": PAGE_SIZE,
                        "tweet.fields": "created_at,referenced_tweets"}
        if to_remote_id.isdigit():
            params["since_id"] = to_remote_id
        pages = self._pages(f"/2/users/{self._user_id()}/tweets", params)
        for body in pages:
            for tweet in body.get("data") or []:
                answered = {str(r.get("id")) for r in
                            tweet.get("referenced_tweets") or []
                            if r.get("type") == "replied_to"}
                if to_remote_id not in answered:
                    continue
                candidate = reconcile.Candidate(
                    remote_id=str(tweet["id"]),
                    text=str(tweet.get("text") or ""),
                    created_at=iso_to_datetime(tweet.get("created_at")),
                )
                # The account's own timeline: every post on it is its own.
                if search.offer(candidate, own=True):
                    break
            if search.found is not None:
                break
        found = search.result(read_all=pages.complete or search.found is not None)
        if found is None:
            return None
        return PublishResult(found.remote_id, self.post_url(found.remote_id),
                             found.created_at)

    def send_message(self, message: OutgoingMessage, *,
                     idempotency_key: str = "") -> PublishResult:
        """A one-to-one message to the citizen (X has no idempotency key:
        ``find_message`` reads the conversation after a lost answer)."""
        if not message.recipient_id.isdigit():
            raise Rejected(
                gettext_noop("X kender ikke modtageren af beskeden. Svar borgeren "
                             "direkte på X."),
                network=self.network, network_message="recipient is not a user id",
            )
        response = self._call(
            "POST", f"/2/dm_conversations/with/{message.recipient_id}/messages",
            json={"text": message.text.strip()}, context="message", write="message")
        data = self._json(response, write=True).get("data") or {}
        event_id = usable_id(data.get("dm_event_id"))
        if not event_id:
            raise missing_in_answer(response, network=self.network,
                                    what="dm_event_id")
        conversation = usable_id(data.get("dm_conversation_id"))
        url = (f"{REAL_WEB_URL}/messages/{conversation}"
               if conversation and self._is_real_api() else "")
        return PublishResult(event_id, url, datetime.now(UTC))

    def find_message(self, message: OutgoingMessage, *, idempotency_key: str = "",
                     since: datetime) -> PublishResult | None:
        """The account's own message with the same text in the conversation
        with the citizen, newer than the message answered (event ids are in
        time order) and than ``since`` on X's clock."""
        me = self._user_id()
        floor = reconcile.network_floor(since, self.client.network_offset())
        after = message.reply_to_remote_id
        search = reconcile.ReplySearch(self.network, message.text)
        # The spec's dm_event.fields has no sender_id: the expansion adds it.
        params: dict = {"max_results": PAGE_SIZE, "event_types": "MessageCreate",
                        "dm_event.fields": DM_EVENT_FIELDS,
                        "expansions": "sender_id"}
        pages = self._pages(
            f"/2/dm_conversations/with/{message.recipient_id}/dm_events", params)
        older = False
        for body in pages:
            events = body.get("data")
            for event in events if isinstance(events, list) else []:
                if not isinstance(event, Mapping):
                    continue
                event_id = str(event.get("id") or "")
                created = iso_to_datetime(event.get("created_at"))
                if (after and not _is_newer(event_id, after)) or (
                        floor is not None and created is not None
                        and created < floor):
                    older = True
                    continue
                sender = str(event.get("sender_id") or "")
                candidate = reconcile.Candidate(
                    remote_id=event_id, text=html.unescape(str(event.get("text")
                                                               or "")),
                    created_at=created)
                if event_id and search.offer(
                        candidate, own=(sender == me) if sender else None):
                    break
            # Newest first: once older events show, none further can match.
            if search.found is not None or older:
                break
        found = search.result(
            read_all=pages.complete or search.found is not None or older)
        if found is None:
            return None
        return PublishResult(found.remote_id, "", found.created_at)

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        self._post_id(remote_id)
        self._call("PUT", f"/2/tweets/{remote_id}/hidden", json={"hidden": hidden})

    def repost(self, remote_id: str) -> PublishResult | None:
        self._post_id(remote_id)
        user_id = self._user_id()
        response = self._call(
            "POST",
            f"/2/users/{user_id}/retweets",
            json={"tweet_id": remote_id},
            write="repost",
        )
        data = self._json(response, write=True).get("data") or {}
        repost_id = usable_id(data.get("rest_id"))
        if not repost_id:
            return None
        return PublishResult(
            remote_id=repost_id,
            url=self.post_url(repost_id),
            published_at=datetime.now(UTC),
        )

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """``POST /2/users/{id}/likes`` (``DELETE …/likes/{tweet_id}`` to
        unlike); X keeps one like per account and post. The answer must say
        ``liked`` is what was asked, or it is not trusted."""
        self._post_id(remote_id)
        user_id = self._user_id()
        if liked:
            self.fence("like")
            response = self._call("POST", f"/2/users/{user_id}/likes",
                                  json={"tweet_id": remote_id})
        else:
            self.fence("unlike")
            response = self._call("DELETE", f"/2/users/{user_id}/likes/{remote_id}")
        data = self._json(response).get("data")
        if not isinstance(data, dict) or data.get("liked") is not liked:
            raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                 network_message=str(data)[:200])

    # -- reading ----------------------------------------------------------

    def _timeline(
        self, path: str, params: dict, *, max_pages: int = MAX_PAGES
    ) -> tuple[list[dict], dict[str, dict], str]:
        """Tweets of every page, the users included, and the newest id."""
        tweets: list[dict] = []
        users: dict[str, dict] = {}
        newest = ""
        pages = self._pages(path, params, max_pages=max_pages)
        for body in pages:
            data = body.get("data")
            # Entries that are not objects are kept as they are, for the
            # reader to count as unreadable.
            tweets.extend(data if isinstance(data, list) else [])
            users.update(_users(body))
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            newest = _newest_id([id_of(meta.get("newest_id"))], newest)
        if not pages.complete:
            logger.warning(
                "x: %s had more than %d pages; older posts were skipped",
                path,
                max_pages,
            )
        return tweets, users, newest

    def _search(self, params: dict) -> tuple[list[dict], dict[str, dict], str]:
        """Recent search; a cursor older than search's 7 days is dropped."""
        try:
            return self._timeline("/2/tweets/search/recent", params)
        except Rejected as e:
            since = params.get("since_id", "")
            if e.http_status != 400 or "since_id" not in e.network_message:
                raise
        logger.info("x: since_id %s is older than recent search; searching all", since)
        params = {k: v for k, v in params.items() if k != "since_id"}
        tweets, users, newest = self._timeline("/2/tweets/search/recent", params)
        newer = [t for t in tweets if _is_newer(_tweet_id(t), since)]
        return newer, users, newest

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        me = self._user_id()
        seen = _read_seen(since)
        since, dm_since = _read_cursor(since)
        now = datetime.now(UTC)
        asked = _read_back(since, now)
        common = {
            "max_results": PAGE_SIZE,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if asked:
            common["since_id"] = asked
        mentions, users, newest = self._timeline(f"/2/users/{me}/mentions", common)
        # Replies that do not @-mention the account (a citizen may remove the
        # handle) only show up in search.
        replies: list[dict] = []
        if self.connection.handle:
            search = {**common, "query": f"to:{self.connection.handle} is:reply"}
            replies, more_users, newest_reply = self._search(search)
            users.update(more_users)
            newest = _newest_id([newest_reply], newest)
        items: dict[str, InboxItem] = {}
        read: set[str] = set()
        skipped = 0
        for tweet in [*mentions, *replies]:
            # The network's word: a post Kanal cannot read (no object, no
            # numeric id) is skipped and counted; the cursor (meta.newest_id
            # and the ids read) still moves past it.
            remote_id = _tweet_id(tweet)
            if not remote_id:
                skipped += 1
                continue
            read.add(remote_id)
            if (id_of(tweet.get("author_id")) == me or remote_id in items
                    or remote_id in seen):
                continue
            item = self._inbox_item(tweet, users, me)
            items[item.remote_id] = item
        cursor = _newest_id([*items, since], newest or since or "")
        floor = _read_back(cursor, now)
        seen = {i for i in seen | read if floor != cursor and int(i) > int(floor)}
        messages, dm_cursor, dm_skipped, denied = self._direct_messages(
            me, dm_since)
        skipped += dm_skipped
        if skipped:
            logger.warning("x: %d inbox entries could not be read and were "
                           "skipped", skipped)
        ordered = sorted([*items.values(), *messages],
                         key=lambda i: (i.created_at, i.remote_id))
        return InboxPage(items=tuple(ordered),
                         cursor=_write_cursor(cursor, dm_cursor, seen),
                         skipped=skipped,
                         messages_denied=denied)

    def _direct_messages(
        self, me: str, since: str
    ) -> tuple[list[InboxItem], str, int, str]:
        """Messages sent to the account after event id ``since``, the newest
        id, how many events could not be read (skipped), and the scope the
        token lacks to read them ("" if none)."""
        params = {
            "max_results": PAGE_SIZE,
            "event_types": "MessageCreate",
            "dm_event.fields": DM_EVENT_FIELDS,
            "expansions": "sender_id",
            "user.fields": USER_FIELDS,
        }
        events: list[dict] = []
        users: dict[str, dict] = {}
        try:
            for body in self._pages("/2/dm_events", params):
                page = _entries(body.get("data"))
                users.update(_users(body))
                fresh = [e for e in page if not since or _is_newer(e.get("id"), since)]
                events.extend(fresh)
                if len(fresh) < len(page):
                    break
        except Rejected as e:
            # A token from before dm.read was asked for: mentions still count;
            # reconnecting the account grants messages.
            if e.http_status != 403:
                raise
            logger.warning("x: no access to direct messages (%s)", e.network_message)
            return [], since, 0, "dm.read"
        newest = _newest_id((id_of(e.get("id")) for e in events), since)
        items = []
        skipped = 0
        for event in events:
            event_id = _tweet_id(event)
            if not event_id:
                skipped += 1
                continue
            sender = id_of(event.get("sender_id"))
            if event.get("event_type", "MessageCreate") != "MessageCreate":
                continue
            conversation = id_of(event.get("dm_conversation_id"))
            if sender == me:
                # The account's own message (sent by Kanal, or written in
                # X's app): an answer to the citizen the one-to-one
                # conversation is with (``intake.answered_on_network``).
                own = _own_message(event, me, conversation)
                if own is not None:
                    items.append(own)
                continue
            author = users.get(sender) or {}
            items.append(InboxItem(
                remote_id=event_id,
                kind="message",
                author_id=sender,
                author_name=text_of(author.get("name"))
                or text_of(author.get("username")) or sender,
                text=html.unescape(text_of(event.get("text"))),
                created_at=(iso_to_datetime(event.get("created_at"))
                            or datetime.now(UTC)),
                parent_remote_id=conversation,
                url=f"{REAL_WEB_URL}/messages/{conversation}"
                if conversation and self._is_real_api() else "",
            ))
        return items, newest, skipped, ""

    def _inbox_item(self, tweet: dict, users: Mapping[str, dict], me: str) -> InboxItem:
        """``tweet`` (an object with a numeric id: ``_tweet_id``) as an item."""
        author_id = id_of(tweet.get("author_id"))
        author = users.get(author_id) or {}
        references = tweet.get("referenced_tweets") or tweet.get("referenced_posts")
        parent = next(
            (
                id_of(r.get("id"))
                for r in _entries(references)
                if r.get("type") == "replied_to"
            ),
            "",
        )
        conversation = id_of(tweet.get("conversation_id"))
        if not parent:
            kind = "mention"
        elif parent == conversation:
            kind = "comment"
        else:
            kind = "reply"
        remote_id = _tweet_id(tweet)
        return InboxItem(
            remote_id=remote_id,
            kind=kind,
            author_id=author_id,
            author_name=text_of(author.get("name")) or text_of(author.get("username"))
            or author_id,
            text=html.unescape(text_of(tweet.get("text"))),
            created_at=iso_to_datetime(tweet.get("created_at")) or datetime.now(UTC),
            post_remote_id=conversation if parent else "",
            parent_remote_id=parent,
            url=self.post_url(remote_id, author.get("username") or ""),
        )

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        response = self._call(
            "GET",
            f"/2/users/{self._user_id()}",
            params={"user.fields": "public_metrics"},
        )
        user = self._json(response).get("data") or {}
        public = user.get("public_metrics") or {}
        account = present_metrics(
            public, (("followers_count", "followers"),), self.api_version
        )
        posts: dict[str, tuple[Metric, ...]] = {}
        for start in range(0, len(post_ids), 100):
            batch = post_ids[start : start + 100]
            response = self._call(
                "GET",
                "/2/tweets",
                params={"ids": ",".join(batch), "tweet.fields": "public_metrics"},
            )
            for tweet in self._json(response).get("data") or []:
                posts[str(tweet["id"])] = self._post_metrics(
                    tweet.get("public_metrics") or {}
                )
        return MetricsSnapshot(
            account=tuple(account), posts=posts, taken_at=datetime.now(UTC)
        )

    # X's docs name reposts retweet_count; the 2.167 OpenAPI spec repost_count.
    _POST_METRICS = (
        ("impression_count", "views"),
        ("like_count", "likes"),
        (("retweet_count", "repost_count"), "shares"),
        ("quote_count", "shares"),
        ("reply_count", "comments"),
        ("bookmark_count", "saves"),
    )

    def _post_metrics(self, public: Mapping) -> tuple[Metric, ...]:
        metrics = []
        for names, kind in self._POST_METRICS:
            for name in (names,) if isinstance(names, str) else names:
                found = present_metrics(public, ((name, kind),), self.api_version)
                if found:
                    metrics.extend(found)
                    break
        return tuple(metrics)

    def search_hashtag(self, tag: str, *, cursor: str = "") -> HashtagPage:
        tag = tag.lstrip("#＃")
        # A retweet repeats the original's text: counting it would count one
        # post many times.
        params = {
            "query": f"#{tag} -is:retweet",
            "max_results": PAGE_SIZE,
            "tweet.fields": "created_at,author_id",
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if cursor:
            params["since_id"] = cursor
        tweets, users, newest = self._search(params)
        posts = []
        for tweet in tweets:
            author = users.get(str(tweet.get("author_id"))) or {}
            remote_id = str(tweet["id"])
            posts.append(
                HashtagPost(
                    remote_id=remote_id,
                    author_name=author.get("name") or author.get("username") or "",
                    text=html.unescape(str(tweet.get("text") or "")),
                    created_at=iso_to_datetime(tweet.get("created_at")),
                    url=self.post_url(remote_id, author.get("username") or ""),
                )
            )
        next_cursor = _newest_id((p.remote_id for p in posts), newest or cursor)
        return HashtagPage(tag=tag, posts=tuple(posts), cursor=next_cursor)

    def fetch_account_posts(
        self, account: str, *, since: str = ""
    ) -> AccountPostsPage:
        """A partner's own public posts (no replies, no retweets), newer than
        ``since`` (the newest post id seen). The handle (``@kkbibliotek``) is
        looked up with ``/2/users/by/username`` first; an unknown one is a
        Danish refusal. Every field X returns is untrusted: ids must be
        numeric, and links are built by Kanal, never taken from the answer."""
        unknown = gettext_noop(
            "X kender ikke kontoen. Tjek kontoens navn (fx kkbibliotek)."
        )
        handle = account.strip().lstrip("@")
        if not handle or len(handle) > 15 or not all(
            c.isascii() and (c.isalnum() or c == "_") for c in handle
        ):
            raise Rejected(unknown, network=self.network, http_status=400,
                           network_message="not an X handle")
        found = self._json(self._call(
            "GET", f"/2/users/by/username/{handle}",
            params={"user.fields": USER_FIELDS},
        ))
        user = found.get("data") if isinstance(found.get("data"), dict) else {}
        user_id = str(user.get("id") or "")
        if not user_id.isdigit():
            raise Rejected(unknown, network=self.network, http_status=404,
                           network_message="lookup without id")
        name = str(user.get("name") or user.get("username") or handle)
        username = str(user.get("username") or handle)
        params = {
            "max_results": PAGE_SIZE,
            "exclude": "replies,retweets",
            "tweet.fields": "created_at",
        }
        if since.isdigit():
            params["since_id"] = since
        tweets, _users, newest = self._timeline(f"/2/users/{user_id}/tweets", params)
        posts = []
        for tweet in tweets:
            remote_id = str(tweet.get("id") or "")
            if not remote_id.isdigit():
                continue
            posts.append(
                AccountPost(
                    remote_id=remote_id,
                    text=html.unescape(str(tweet.get("text") or "")),
                    url=self.post_url(remote_id, username),
                    created_at=iso_to_datetime(tweet.get("created_at")),
                    author_name=name,
                )
            )
        posts.sort(key=lambda p: int(p.remote_id), reverse=True)
        cursor = _newest_id((p.remote_id for p in posts), newest or since)
        return AccountPostsPage(account=handle, posts=tuple(posts), cursor=cursor)

    # -- connection -------------------------------------------------------

    def _scopes(self) -> str:
        return self.connection.settings.get("scopes") or " ".join(DEFAULT_SCOPES)

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_verifier: str = ""
    ) -> str:
        if not code_verifier:
            raise ValueError("X needs PKCE: pass a code_verifier")
        base = self.connection.settings.get("authorize_url") or (
            REAL_AUTHORIZE_URL
            if self._is_real_api()
            else f"{self.connection.base_url.rstrip('/')}/i/oauth2/authorize"
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id(),
                "redirect_uri": redirect_uri,
                "scope": self._scopes(),
                "state": state,
                "code_challenge": code_challenge(code_verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{base}?{query}"

    def _client_id(self) -> str:
        return self.connection.secret("client_id") or self.connection.settings.get(
            "client_id", ""
        )

    def _token_request(self, form: dict[str, str]) -> TokenSet:
        client_id = self._client_id()
        secret = self.connection.secret("client_secret")
        headers = {}
        if secret:
            pair = f"{client_id}:{secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form = {**form, "client_id": client_id}
        response = self.client.request(
            "POST",
            "/2/oauth2/token",
            data=form,
            headers=headers,
            translate=lambda r: translate_error(r, context="token"),
        )
        body = self._json(response)
        access = str(body.get("access_token") or "")
        if not access:
            raise AuthExpired(
                gettext_noop(
                    "X gav ingen adgangsnøgle. En administrator skal forbinde "
                    "X-kontoen "
                    "igen."
                ),
                network=self.network,
                http_status=response.status_code,
            )
        lifetime = body.get("expires_in")
        expires_at = datetime.now(UTC) + (
            timedelta(seconds=int(lifetime)) if lifetime else ACCESS_TOKEN_LIFETIME
        )
        return TokenSet(
            access_token=access,
            refresh_token=str(body.get("refresh_token") or ""),
            expires_at=expires_at,
            extra={"scope": str(body.get("scope") or "")},
        )

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str = ""
    ) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh_token(self) -> TokenSet:
        refresh = self.connection.secret("refresh_token")
        if not refresh:
            raise AuthExpired(
                gettext_noop(
                    "X-kontoen har ingen fornyelsesnøgle (offline.access). En "
                    "administrator skal forbinde kontoen igen."
                ),
                network=self.network,
            )
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh}
        )

    def verify(self) -> AccountInfo:
        response = self._call(
            "GET",
            "/2/users/me",
            params={"user.fields": "public_metrics,name,username"},
        )
        user = self._json(response).get("data") or {}
        username = str(user.get("username") or "")
        followers = (user.get("public_metrics") or {}).get("followers_count")
        return AccountInfo(
            remote_id=str(user.get("id") or ""),
            handle=username,
            display_name=str(user.get("name") or username),
            followers=int(followers) if followers is not None else None,
            profile_url=f"{self._web_url()}/{username}" if username else "",
        )
