"""X (Twitter) API v2 under ``/x``: ``/2/...``, OAuth 2 and ``/i/oauth2/authorize``.

Follows PLATFORMS.md §3 and the official OpenAPI spec (2.167; ``sandbox/
x_openapi.py`` checks requests and answers against it, and JSON bodies that
break the spec's schema get X's 400 here too):

- ``POST /2/tweets`` answers 201 ``{"data":{"id","text",...}}``; the same text
  from the same account within 24 hours is refused with X's observed 403
  "duplicate content" problem. Too long text (280 weighted) is a 403 too.
- Every answer carries ``x-rate-limit-limit/remaining/reset`` with the real
  per-user 15-minute windows per endpoint (posting 100, mentions 300,
  ``/2/users/me`` 75 …); a spent window gives 429 until it resets (the sandbox
  clock moves it). Posting also sends the ``x-user-limit-24hour-*`` and
  ``x-app-limit-24hour-*`` headers.
- OAuth 2 with PKCE: ``/i/oauth2/authorize`` consents at once for the demo
  account (or ``?login=<handle>``) and redirects with a code valid 30 s;
  ``/2/oauth2/token`` checks the S256 verifier, gives 2-hour access tokens and
  a refresh token with ``offline.access`` that rotates on use.
- Media upload v2: ``initialize`` → ``append`` (segments ≤ 5 MB) →
  ``finalize`` → ``GET /2/media/upload?command=STATUS`` (videos go pending →
  in_progress → succeeded, one step per status call), alt text through
  ``POST /2/media/metadata``. Media ids live 24 hours. The older
  ``POST /2/media/upload?command=INIT|APPEND|FINALIZE`` form and the one-shot
  upload work too.
- ``GET /2/dm_events`` lists citizens' direct messages to the account
  (``message`` items) as ``MessageCreate`` events, newest first; the
  conversation id is ``<lower id>-<higher id>`` as for X's one-to-one chats.
  ``POST /2/dm_conversations/with/{participant_id}/messages`` answers a
  citizen who wrote to the account (201 with ``dm_event_id``; an item
  ``kind="dm_sent"``, logged as ``message``; anyone else is a 403), and
  ``GET /2/dm_conversations/with/{participant_id}/dm_events`` lists both
  sides of that conversation.
- Recent search covers 7 days; a ``since_id`` older than that is a 400, as
  on X.
- Answers show text as X does: ``&<>`` escaped, links as t.co links, a t.co
  link appended for attached media.

Store layout: tweets are items with the numeric tweet id; the account's own
top-level tweets are ``kind="post"`` (own replies ``reply``), citizens' replies
``comment`` (to a post) or ``reply`` (deeper), mentions ``mention``, citizens'
public tweets ``post`` under ``citizen-…`` accounts, retweets ``repost``.
``text`` is the text as written; ``data`` holds ``conversation_id``,
``in_reply_to_user_id``, ``referenced_tweets`` and ``media`` (with alt text).
The account's likes are the liked tweet's ``data["liked_by"]``
(``sandbox/likes.py``). Uploads are items ``kind="media"``. Metrics use the
sandbox's generic names (``views``, ``likes``, ``shares``, ``saves``), shown
as X's public_metrics.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import regex
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox import likes, partners
from sandbox.x_openapi import XOpenAPI

logger = logging.getLogger("sandbox.x")

NETWORK = "x"
SANDBOX_CLIENT_ID = "kanal-sandbox-x-client"
ACCESS_TTL = timedelta(hours=2)
REFRESH_TTL = timedelta(days=180)
CODE_TTL = timedelta(seconds=30)
DUPLICATE_WINDOW = timedelta(hours=24)
MEDIA_TTL = timedelta(hours=24)
SEARCH_WINDOW = timedelta(days=7)
WINDOW = timedelta(minutes=15)
DAY = timedelta(hours=24)
MAX_WEIGHTED = 280
MAX_QUERY = 512
MAX_SEGMENT = 5 * 1024 * 1024
MAX_BYTES = {
    "tweet_image": 5 * 1024 * 1024,
    "tweet_gif": 15 * 1024 * 1024,
    "tweet_video": 512 * 1024 * 1024,
    "amplify_video": 512 * 1024 * 1024,
}
ALT_TEXT_MAX = 1000
PROBLEMS = "https://api.x.com/2/problems/"

# Per-user limits per 15-minute window (docs.x.com rate-limit table).
LIMITS = {
    "tweets_create": 100,
    "tweets_delete": 50,
    "tweets_lookup": 900,
    "retweets": 50,
    "likes": 50,
    "hide": 50,
    "mentions": 300,
    "search": 300,
    "users_me": 75,
    "users_lookup": 900,
    "user_tweets": 900,
    "media_upload": 500,
    "media_chunked": 1875,
    "media_metadata": 500,
    "dm_events": 300,
    "dm_create": 200,
}
MAX_DM_LENGTH = 10000
DM_NOT_ALLOWED = "You cannot send messages to this user."
USER_DAY_LIMIT = 2400
APP_DAY_LIMIT = 10000

def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The spec's dm_event.fields enum plus the names X's docs add (sender_id …).
DM_EVENT_FIELDS = words(
    """attachments created_at dm_conversation_id entities event_type id
    participant_ids referenced_tweets sender_id text"""
)
DM_EXPANSIONS = words("attachments.media_keys participant_ids referenced_posts "
                      "referenced_tweets.id sender_id")
DM_EVENT_TYPES = words("MessageCreate ParticipantsJoin ParticipantsLeave")


# The spec's post.fields enum plus the names X's docs use (tweet.fields).
TWEET_FIELDS = words(
    """article article_title attachments author_id card_uri community_id
    context_annotations conversation_id created_at display_text_range
    edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id
    lang matched_media_notes media_metadata non_public_metrics note_post
    note_request_suggestions note_tweet organic_metrics paid_partnership
    possibly_sensitive promoted_metrics public_metrics referenced_tweets
    reply_settings scopes source suggested_source_links
    suggested_source_links_with_counts text withheld"""
)
USER_FIELDS = words(
    """affiliation confirmed_email connection_status created_at description
    entities id is_identity_verified location most_recent_tweet_id name parody
    pinned_tweet_id profile_banner_url profile_image_url protected public_metrics
    receives_your_dm subscription subscription_type url username verified
    verified_followers_count verified_type withheld"""
)
MEDIA_TYPES = words(
    """video/mp4 video/webm video/mp2t video/quicktime text/srt text/vtt image/jpeg
    image/gif image/bmp image/png image/webp image/pjpeg image/tiff
    model/gltf-binary model/vnd.usdz+zip"""
)
CREATE_FIELDS = words(
    """card_uri community_id direct_message_deep_link edit_options
    for_super_followers_only geo made_with_ai media nullcast paid_partnership
    poll quote_tweet_id reply reply_settings share_with_followers text"""
)
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
AUTOMATED_DETAIL = (
    "This request looks like it might be automated. To protect our users from "
    "spam and other malicious activity, we can't complete this action right now. "
    "Please try again later."
)

#: The ``*.fields`` parameters a read checks, with the values each allows.
READ_FIELDS = (("tweet.fields", TWEET_FIELDS), ("post.fields", TWEET_FIELDS),
               ("user.fields", USER_FIELDS))
DM_READ_FIELDS = (*READ_FIELDS, ("dm_event.fields", DM_EVENT_FIELDS),
                  ("expansions", DM_EXPANSIONS), ("event_types", DM_EVENT_TYPES))


# -- text as X counts and shows it ------------------------------------------------

_URL = re.compile(
    r"(?<![\w@#$])(?:https?://[^\s<>\"]+|(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*"
    r"\.(?:com|net|org|dk|eu|io|de|se|no|uk|info|gov|edu)(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(
    r"[\u00a9\u00ae]|\p{Emoji_Presentation}|\p{Regional_Indicator}"
    r"|[0-9#*]\ufe0f?\u20e3|\p{Emoji}\ufe0f",
    regex.V1,
)
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_HASHTAG = re.compile(r"(?<![\w&])[#＃](\w*[^\W\d]\w*)")


def _urls(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?'\")")
        spans.append((match.start(), match.start() + len(url)))
    return spans


def weighted_length(text: str) -> int:
    """twitter-text v3's count, close enough for the sandbox."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for start, end in [*_urls(text), (len(text), len(text))]:
        for cluster in _GRAPHEME.findall(text[position:start]):
            if _EMOJI.match(cluster):
                total += 2
            else:
                total += sum(
                    1 if any(lo <= ord(c) <= hi for lo, hi in _LIGHT) else 2
                    for c in cluster
                )
        if end > start:
            total += 23
        position = end
    return total


def tco(url: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}:{url}".encode()).digest()
    return "https://t.co/" + base64.b32encode(digest).decode().lower()[:10]


def shown_text(item) -> str:
    """The text as X's API answers it: escaped, links wrapped, media linked."""
    text = item.text
    parts, position = [], 0
    for start, end in _urls(text):
        parts.append(html.escape(text[position:start], quote=False))
        parts.append(tco(text[start:end], item.item_id))
        position = end
    parts.append(html.escape(text[position:], quote=False))
    shown = "".join(parts)
    if item.data.get("media"):
        shown = f"{shown} {tco('media', item.item_id)}".strip()
    return shown


def hashtags(text: str) -> set[str]:
    return {tag.casefold() for tag in _HASHTAG.findall(text)}


# -- helpers ---------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def problem(
    status: int,
    detail: str,
    *,
    title: str = "",
    kind: str = "about:blank",
    headers: dict | None = None,
    **extra,
) -> JSONResponse:
    titles = {400: "Invalid Request", 401: "Unauthorized", 403: "Forbidden",
              404: "Not Found Error", 429: "Too Many Requests",
              500: "Internal Server Error", 503: "Service Unavailable"}
    body = {
        "title": title or titles.get(status, "Error"),
        "detail": detail,
        "type": kind if kind == "about:blank" else PROBLEMS + kind,
        "status": status,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, headers=headers,
        media_type="application/problem+json",
    )


def invalid(detail: str, *, parameter: str = "", value: str = "", headers=None):
    errors = [{"parameters": {parameter: [value]} if parameter else {},
               "message": detail}]
    return problem(400, "One or more parameters to your request was invalid.",
                   kind="invalid-request", headers=headers, errors=errors)


def not_authorized(resource_id: str, parameter: str = "id") -> dict:
    """The partial error for a post X will not show (its author is protected
    or suspended): the post exists, the answer just leaves it out."""
    return {
        "value": resource_id,
        "detail": f"Sorry, you are not authorized to see the Post with {parameter}:"
                  f" [{resource_id}].",
        "title": "Authorization Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": resource_id,
        "type": PROBLEMS + "not-authorized-for-resource",
    }


def not_found(resource_type: str, resource_id: str, parameter: str = "id") -> dict:
    return {
        "value": resource_id,
        "detail": f"Could not find {resource_type} with {parameter}: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": PROBLEMS + "resource-not-found",
    }


def conversation_id(me: str, other: str) -> str:
    """X's id of a one-to-one conversation: both user ids, lower first."""
    low, high = sorted((me, other), key=lambda v: (len(v), v))
    return f"{low}-{high}"


def numeric_author(author_id: str) -> str:
    if author_id.isdigit():
        return author_id
    digest = int(hashlib.sha256(author_id.encode()).hexdigest()[:15], 16)
    return str(1_700_000_000_000_000_000 + digest % 10**17)


def username_for(name: str, author_id: str) -> str:
    slug = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_]", "", slug.replace(" ", "_"))[:10] or "borger"
    return f"{slug}{author_id[-4:]}".lower()


def fields_of(request: Request, *names: str) -> set[str]:
    wanted: set[str] = set()
    for name in names:
        value = request.query_params.get(name)
        if value:
            wanted.update(v.strip() for v in value.split(",") if v.strip())
    return wanted


def unknown_field(request: Request, headers: dict, fields) -> Response | None:
    """X's 400 for the first query value not in its parameter's allowed set."""
    for name, allowed in fields:
        for value in fields_of(request, name):
            if value not in allowed:
                return invalid(
                    f"The `{name}` query parameter value [{value}] is not one "
                    f"of [{','.join(sorted(allowed))}]",
                    parameter=name, value=value, headers=headers,
                )
    return None


def token_page(item_id: str) -> str:
    return base64.urlsafe_b64encode(f"before:{item_id}".encode()).decode().rstrip("=")


def page_before(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not raw.startswith("before:") or not raw[7:].isdigit():
        return None
    return int(raw[7:])


class X:
    """The handlers, sharing the sandbox context."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.store = ctx.store

    # -- rate limits ------------------------------------------------------------

    def _window(self, key: str, length: timedelta) -> dict:
        now = self.ctx.now()
        state = self.store.kv_get(NETWORK, key) or {}
        start = parse_time(state.get("start"))
        if start is None or now >= start + length:
            state = {"start": now.isoformat(), "used": 0}
        return state

    def consume(self, account_id: str, group: str) -> tuple[bool, dict]:
        """Count one call; ``(allowed, headers)``."""
        key = f"rate:{account_id}:{group}"
        state = self._window(key, WINDOW)
        limit = LIMITS[group]
        allowed = state["used"] < limit
        if allowed:
            state["used"] += 1
            self.store.kv_set(NETWORK, key, state)
        reset = parse_time(state["start"]) + WINDOW
        return allowed, {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - state["used"])),
            "x-rate-limit-reset": str(epoch(reset)),
        }

    def consume_day(self, account_id: str) -> tuple[bool, dict]:
        """Count one post against the user's and the app's 24-hour limits."""
        windows = [
            ("x-user-limit-24hour", f"day:{account_id}", USER_DAY_LIMIT),
            ("x-app-limit-24hour", "day:app", APP_DAY_LIMIT),
        ]
        states = [self._window(key, DAY) for _, key, _ in windows]
        allowed = all(
            state["used"] < limit for state, (_, _, limit) in zip(states, windows,
                                                                  strict=True)
        )
        headers = {}
        for state, (prefix, key, limit) in zip(states, windows, strict=True):
            if allowed:
                state["used"] += 1
                self.store.kv_set(NETWORK, key, state)
            headers[f"{prefix}-limit"] = str(limit)
            headers[f"{prefix}-remaining"] = str(max(0, limit - state["used"]))
            headers[f"{prefix}-reset"] = str(epoch(parse_time(state["start"]) + DAY))
        return allowed, headers

    # -- authentication, limits and faults -------------------------------------------

    def authenticate(self, request: Request):
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        found, reason = self.store.check_token(NETWORK, token, kinds=("access",))
        if reason or found is None:
            return None
        return self.store.get_account(NETWORK, found.account_id)

    async def begin(self, request: Request, operation: str, group: str):
        """``(account, fault, headers, None)`` or ``(…, error response)``."""
        account = self.authenticate(request)
        if account is None:
            return None, None, {}, problem(401, "Unauthorized")
        allowed, headers = self.consume(account.account_id, group)
        if not allowed:
            return None, None, headers, problem(
                429, "Too Many Requests", headers=headers
            )
        fault = await self.ctx.fault(NETWORK, operation, account.account_id)
        if fault is not None and fault.kind != "timeout_after_create":
            return None, None, headers, self.render_fault(fault, operation, headers)
        return account, fault, headers, None

    async def begin_read(self, request: Request, operation: str, group: str, *,
                         fields=READ_FIELDS):
        """``begin`` for a read, which X also refuses (400) when a ``*.fields``
        value is not one it knows: ``(account, headers, error response or None)``."""
        account, _fault, headers, failed = await self.begin(request, operation, group)
        if failed is None:
            failed = unknown_field(request, headers, fields)
        return account, headers, failed

    def render_fault(self, fault, operation: str, headers: dict) -> Response:
        kind, params = fault.kind, fault.params or {}
        now = self.ctx.now()
        if kind == "rate_limit":
            reset = now + timedelta(seconds=int(params.get("reset_in", 900)))
            limited = {**headers, "x-rate-limit-remaining": "0",
                       "x-rate-limit-reset": str(epoch(reset))}
            return problem(429, "Too Many Requests", headers=limited)
        if kind == "quota_exhausted":
            reset = now + timedelta(seconds=int(params.get("reset_in", 6 * 3600)))
            spent = {**headers,
                     "x-user-limit-24hour-limit": str(USER_DAY_LIMIT),
                     "x-user-limit-24hour-remaining": "0",
                     "x-user-limit-24hour-reset": str(epoch(reset))}
            return problem(429, "Too Many Requests", headers=spent)
        if kind == "server_error":
            status = int(params.get("status", 500))
            if status == 500:
                return problem(500, "Something went wrong. Try again later.",
                               kind="internal-error", headers=headers)
            return problem(status, "Service Unavailable", headers=headers)
        if kind == "expired_token":
            return problem(401, "Unauthorized")
        if kind == "policy_block":
            return problem(403, AUTOMATED_DETAIL, headers=headers)
        if kind == "missing_permission":
            return problem(403, "You are not permitted to perform this action.",
                           title="Forbidden",
                           kind="https://api.x.com/2/problems/client-forbidden",
                           headers=headers)
        if kind == "duplicate":
            return problem(403, DUPLICATE_DETAIL, headers=headers)
        if kind == "invalid_media":
            if operation == "media":
                return invalid("media type unrecognized.", parameter="media",
                               headers=headers)
            return invalid("Your media IDs are invalid.", parameter="media.media_ids",
                           headers=headers)
        return problem(500, f"Unknown sandbox fault {kind}", kind="internal-error")

    async def late(self, fault) -> None:
        if fault is not None and fault.kind == "timeout_after_create":
            await self.ctx.sleep(fault.delay_ms)

    @staticmethod
    async def json_body(request: Request):
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    @staticmethod
    async def off_spec(request: Request, headers: dict) -> Response | None:
        """A 400 when a JSON body breaks X's OpenAPI schema, as X refuses it."""
        if not request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            return None
        root = request.scope.get("root_path", "")
        path = request.url.path.removeprefix(root)
        problems = XOpenAPI.load().check_request(
            request.method, path, content_type="application/json",
            body=await request.body(),
        )
        problems = [p for p in problems if "request body" in p]
        if not problems:
            return None
        return invalid(problems[0].split(": ", 1)[-1], headers=headers)

    # -- rendering ------------------------------------------------------------------

    def user_json(self, user_id: str, fields: set[str]) -> dict | None:
        account = self.store.get_account(NETWORK, user_id)
        if account is not None:
            name, username = account.display_name, account.handle
            followers = account.followers
            created = account.created_at or self.ctx.now()
            posts = len(self.store.list_items(NETWORK, author_id=user_id,
                                              kind=("post", "reply")))
        else:
            sample = self.store.list_items(NETWORK, author_id=user_id, limit=1)
            if not sample:
                return None
            name = sample[0].author_name or "Borger"
            username = sample[0].data.get("author_username") or username_for(
                name, user_id)
            followers, created, posts = 120, sample[0].created_at, 1
        user = {"id": user_id, "name": name, "username": username}
        if "created_at" in fields:
            user["created_at"] = iso(created)
        if "protected" in fields:
            user["protected"] = False
        if "verified" in fields:
            user["verified"] = account is not None
        if "description" in fields:
            user["description"] = ""
        if "profile_image_url" in fields:
            user["profile_image_url"] = self.ctx.public_url(
                "/_sandbox/media/square.jpg")
        if "public_metrics" in fields:
            user["public_metrics"] = {
                "followers_count": followers,
                "following_count": 150 if account else 80,
                # X's docs: tweet_count; the 2.167 spec: post_count.
                "tweet_count": posts,
                "post_count": posts,
                "listed_count": 12 if account else 0,
                "like_count": 0,
                "media_count": 0,
            }
        return user

    def public_metrics(self, item) -> dict:
        stored = self.store.metrics(NETWORK, item.item_id)
        replies = len(self.store.list_items(NETWORK, parent_id=item.item_id,
                                            kind=("comment", "reply")))
        reposts = len(self.store.list_items(NETWORK, parent_id=item.item_id,
                                            kind="repost"))
        shares = stored.get("shares", 0) + reposts
        return {
            # X's docs: retweet_count; the 2.167 spec: repost_count.
            "retweet_count": shares,
            "repost_count": shares,
            "reply_count": max(stored.get("comments", 0), replies),
            "like_count": stored.get("likes", 0),
            "quote_count": stored.get("quotes", 0),
            "bookmark_count": stored.get("saves", 0),
            "impression_count": stored.get("views", 0),
        }

    def tweet_json(self, item, fields: set[str]) -> dict:
        tweet = {
            "id": item.item_id,
            "text": shown_text(item),
            # X's docs: edit_history_tweet_ids; the 2.167 spec: *_post_ids.
            # Every version lists them all, oldest first (``owner_edit``).
            "edit_history_tweet_ids": list(
                item.data.get("edit_history_tweet_ids") or [item.item_id]),
        }
        data = item.data
        if "created_at" in fields:
            tweet["created_at"] = iso(item.created_at)
        if "author_id" in fields:
            tweet["author_id"] = item.author_id
        if "conversation_id" in fields:
            tweet["conversation_id"] = data.get("conversation_id", item.item_id)
        if "in_reply_to_user_id" in fields and data.get("in_reply_to_user_id"):
            tweet["in_reply_to_user_id"] = data["in_reply_to_user_id"]
        if "referenced_tweets" in fields and data.get("referenced_tweets"):
            tweet["referenced_tweets"] = data["referenced_tweets"]
        if "public_metrics" in fields:
            tweet["public_metrics"] = self.public_metrics(item)
        if "attachments" in fields and data.get("media"):
            tweet["attachments"] = {
                "media_keys": [m["media_key"] for m in data["media"]]
            }
        if "lang" in fields:
            tweet["lang"] = data.get("lang", "da")
        if "possibly_sensitive" in fields:
            tweet["possibly_sensitive"] = False
        if "reply_settings" in fields:
            tweet["reply_settings"] = "everyone"
        if "entities" in fields:
            tags = [
                {"start": m.start(), "end": m.end(), "tag": m.group(1)}
                for m in _HASHTAG.finditer(item.text)
            ]
            if tags:
                tweet["entities"] = {"hashtags": tags}
        return tweet

    def listing(self, request: Request, items: list, *, meta: bool = True) -> dict:
        fields = fields_of(request, "tweet.fields", "post.fields")
        user_fields = fields_of(request, "user.fields")
        expansions = fields_of(request, "expansions")
        body: dict = {}
        if items:
            body["data"] = [self.tweet_json(i, fields) for i in items]
        includes: dict = {}
        if "author_id" in expansions and items:
            seen: dict[str, dict] = {}
            for item in items:
                if item.author_id not in seen:
                    user = self.user_json(item.author_id, user_fields)
                    if user:
                        seen[item.author_id] = user
            if seen:
                includes["users"] = list(seen.values())
        if "attachments.media_keys" in expansions:
            media = [
                {"media_key": m["media_key"], "type": m.get("type", "photo"),
                 **({"alt_text": m["alt_text"]} if m.get("alt_text") else {})}
                for item in items for m in item.data.get("media", [])
            ]
            if media:
                includes["media"] = media
        if includes:
            body["includes"] = includes
        if meta:
            body["meta"] = {"result_count": len(items)}
            if items:
                body["meta"]["newest_id"] = items[0].item_id
                body["meta"]["oldest_id"] = items[-1].item_id
        return body

    def post_listing(self, request: Request, items: list, headers: dict, *,
                     low: int) -> Response:
        """A page of posts in X's listing shape, honouring the time range,
        ``max_results`` and ``pagination_token``."""
        items = self.in_time_range(request, items)
        chosen, following, error = self.page(request, items, headers, low=low)
        if error is not None:
            return error
        body = self.listing(request, chosen)
        if following:
            body["meta"]["next_token"] = following
        return JSONResponse(body, headers=headers)

    def page(self, request: Request, items: list, headers: dict, *, low: int,
             high: int = 100, default: int = 10):
        """Apply since_id/until_id/max_results/pagination: ``(page, next, error)``."""
        raw = request.query_params.get("max_results", str(default))
        if not raw.isdigit() or not low <= int(raw) <= high:
            return None, None, invalid(
                f"The `max_results` query parameter value [{raw}] is not between "
                f"{low} and {high}", parameter="max_results", value=raw,
                headers=headers,
            )
        size = int(raw)
        since = request.query_params.get("since_id", "")
        until = request.query_params.get("until_id", "")
        token = (request.query_params.get("pagination_token")
                 or request.query_params.get("next_token") or "")
        before = page_before(token) if token else None
        if token and before is None:
            return None, None, invalid(
                "The `pagination_token` query parameter value is not valid",
                parameter="pagination_token", value=token, headers=headers,
            )
        kept = []
        for item in items:
            number = int(item.item_id)
            if since.isdigit() and number <= int(since):
                continue
            if until.isdigit() and number >= int(until):
                continue
            if before is not None and number >= before:
                continue
            kept.append(item)
        kept.sort(key=lambda i: int(i.item_id), reverse=True)
        chosen = kept[:size]
        following = token_page(chosen[-1].item_id) if len(kept) > size else None
        return chosen, following, None

    def tweet(self, tweet_id: str):
        item = self.store.get_item(NETWORK, tweet_id, include_deleted=False)
        if item is None or item.kind not in ("post", "reply", "comment", "mention",
                                             "repost"):
            return None
        return item

    # -- posting --------------------------------------------------------------------

    async def create_tweet(self, request: Request) -> Response:
        body = await self.json_body(request)
        reply_to = ""
        if body is not None and isinstance(body.get("reply"), dict):
            reply_to = str(body["reply"].get("in_reply_to_tweet_id") or "")
        parent = self.tweet(reply_to) if reply_to else None
        account = self.authenticate(request)
        # Any answer (also to the account's own post: a first comment) is a
        # reply; anything else publishes.
        operation = "reply" if reply_to else "publish"
        account, fault, headers, failed = await self.begin(
            request, operation, "tweets_create"
        )
        if failed is not None:
            return failed
        if body is not None and (refused := await self.off_spec(request, headers)):
            return refused
        if body is None:
            return invalid("The request body is not valid JSON.", headers=headers)
        unknown = sorted(set(body) - CREATE_FIELDS)
        if unknown:
            return invalid(f"The request body has unknown field(s): {unknown}",
                           parameter=unknown[0], headers=headers)
        for name in ("media", "reply", "poll", "edit_options", "geo"):
            if name in body and not isinstance(body[name], dict):
                return invalid(f"`{name}` must be an object.", parameter=name,
                               headers=headers)
        text = body.get("text", "")
        if not isinstance(text, str):
            return invalid("`text` must be a string.", parameter="text",
                           headers=headers)
        media_ids = (body.get("media") or {}).get("media_ids") or []
        exclusive = [k for k in ("media", "poll", "quote_tweet_id") if body.get(k)]
        if len(exclusive) > 1:
            return invalid(f"{' and '.join(exclusive)} are mutually exclusive.",
                           parameter=exclusive[0], headers=headers)
        if not text.strip() and not media_ids:
            return invalid("Requires at least one of: text, media, poll, "
                           "quote_tweet_id.", parameter="text", headers=headers)
        if weighted_length(text) > MAX_WEIGHTED:
            return problem(
                403, "Your Tweet text is too long. For more information on how X "
                "determines text length, see https://github.com/twitter/twitter-text.",
                headers=headers,
            )
        media, error = self.attachable_media(account, media_ids, headers)
        if error is not None:
            return error
        if reply_to and parent is None:
            return invalid(
                "The Tweet you are replying to does not exist or is not visible.",
                parameter="reply.in_reply_to_tweet_id", value=reply_to,
                headers=headers,
            )
        if self.is_duplicate(account.account_id, text):
            return problem(403, DUPLICATE_DETAIL, headers=headers)
        allowed, day_headers = self.consume_day(account.account_id)
        headers = {**headers, **day_headers}
        if not allowed:
            return problem(429, "Too Many Requests", headers=headers)
        item = self.add_tweet(account, text.strip(), parent=parent, media=media)
        # An answer (also one to the account's own post) is logged as a reply.
        self.store.log_publish(
            NETWORK, account.account_id, item.item_id,
            kind="reply" if parent is not None else item.kind,
            idempotency_key="", text=item.text,
        )
        await self.late(fault)
        shown = shown_text(item)
        return JSONResponse(
            {"data": {"id": item.item_id, "text": shown,
                      "edit_history_tweet_ids": [item.item_id]}},
            status_code=201, headers=headers,
        )

    def attachable_media(self, account, media_ids, headers):
        if not media_ids:
            return [], None
        if not isinstance(media_ids, list) or not 1 <= len(media_ids) <= 4:
            return None, invalid("media.media_ids must hold 1 to 4 ids.",
                                 parameter="media.media_ids", headers=headers)
        media = []
        now = self.ctx.now()
        for media_id in media_ids:
            found = self.store.get_item(NETWORK, str(media_id), include_deleted=False)
            if (
                found is None
                or found.kind != "media"
                or found.account_id != account.account_id
                or found.data.get("state") != "succeeded"
                or (parse_time(found.data.get("expires_at")) or now) < now
            ):
                return None, invalid("Your media IDs are invalid.",
                                     parameter="media.media_ids",
                                     value=str(media_id), headers=headers)
            media.append(found)
        videos = [m for m in media if m.data.get("type") != "photo"]
        if videos and len(media) > 1:
            return None, invalid("A video or GIF must be the only media.",
                                 parameter="media.media_ids", headers=headers)
        return media, None

    def is_duplicate(self, account_id: str, text: str) -> bool:
        wanted = text.strip()
        if not wanted:
            return False
        since = self.ctx.now() - DUPLICATE_WINDOW
        return any(
            item.text == wanted
            for item in self.store.list_items(
                NETWORK, author_id=account_id, kind=("post", "reply"), since=since
            )
        )

    def add_tweet(self, account, text: str, *, parent=None, media=()):
        now = self.ctx.now()
        tweet_id = new_id(self.ctx, "tweet")
        data: dict = {"lang": "da", "conversation_id": tweet_id}
        kind, parent_id, root_id = "post", "", ""
        if parent is not None:
            data["conversation_id"] = parent.data.get("conversation_id",
                                                       parent.item_id)
            data["in_reply_to_user_id"] = parent.author_id
            data["referenced_tweets"] = [{"type": "replied_to", "id": parent.item_id}]
            parent_id = parent.item_id
            root_id = parent.root_id or parent.item_id
            if parent.author_id != account.account_id:
                kind = "reply"
        if media:
            data["media"] = [
                {"media_id": m.item_id, "media_key": m.data["media_key"],
                 "type": m.data.get("type", "photo"),
                 "alt_text": m.data.get("alt_text", "")}
                for m in media
            ]
        return self.store.add_item(
            NETWORK, account.account_id, tweet_id, kind, text=text,
            parent_id=parent_id, root_id=root_id, author_id=account.account_id,
            author_name=account.display_name, data=data, created_at=now,
        )

    async def tweet_detail(self, request: Request) -> Response:
        tweet_id = request.path_params["id"]
        if request.method == "DELETE":
            return await self.delete_tweet(request, tweet_id)
        _account, headers, failed = await self.begin_read(
            request, "metrics", "tweets_lookup"
        )
        if failed is not None:
            return failed
        item = self.tweet(tweet_id)
        if item is None:
            return JSONResponse({"errors": [not_found("tweet", tweet_id)]},
                                headers=headers)
        if item.data.get("protected"):
            return JSONResponse({"errors": [not_authorized(tweet_id)]},
                                headers=headers)
        body = self.listing(request, [item], meta=False)
        body["data"] = body["data"][0]
        return JSONResponse(body, headers=headers)

    async def delete_tweet(self, request: Request, tweet_id: str) -> Response:
        account, fault, headers, failed = await self.begin(
            request, "delete", "tweets_delete"
        )
        if failed is not None:
            return failed
        item = self.tweet(tweet_id)
        if item is None:
            return problem(404, f"Could not find tweet with id: [{tweet_id}].",
                           kind="resource-not-found", headers=headers,
                           resource_type="tweet", resource_id=tweet_id,
                           parameter="id", value=tweet_id)
        if item.author_id != account.account_id:
            return problem(403, "You are not allowed to delete a Tweet you did not "
                           "author.", headers=headers)
        self.store.delete_item(NETWORK, tweet_id)
        await self.late(fault)
        return JSONResponse({"data": {"deleted": True}}, headers=headers)

    async def lookup(self, request: Request) -> Response:
        _account, headers, failed = await self.begin_read(
            request, "metrics", "tweets_lookup"
        )
        if failed is not None:
            return failed
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
            return invalid("`ids` must be 1 to 100 comma-separated numeric ids.",
                           parameter="ids", headers=headers)
        items, errors = [], []
        for tweet_id in ids:
            item = self.tweet(tweet_id)
            if item is None:
                errors.append(not_found("tweet", tweet_id, "ids"))
            elif item.data.get("protected"):
                errors.append(not_authorized(tweet_id, "ids"))
            else:
                items.append(item)
        body = self.listing(request, items, meta=False)
        if errors:
            body["errors"] = errors
        return JSONResponse(body, headers=headers)

    async def hide(self, request: Request) -> Response:
        account, fault, headers, failed = await self.begin(request, "hide", "hide")
        if failed is not None:
            return failed
        if refused := await self.off_spec(request, headers):
            return refused
        body = await self.json_body(request)
        if body is None or not isinstance(body.get("hidden"), bool):
            return invalid("`hidden` must be true or false.", parameter="hidden",
                           headers=headers)
        tweet_id = request.path_params["id"]
        item = self.tweet(tweet_id)
        if item is None:
            return problem(404, f"Could not find tweet with id: [{tweet_id}].",
                           kind="resource-not-found", headers=headers,
                           resource_type="tweet", resource_id=tweet_id)
        root = self.store.get_item(NETWORK, item.data.get("conversation_id", ""))
        if (
            not item.parent_id
            or root is None
            or root.author_id != account.account_id
            or item.author_id == account.account_id
        ):
            return problem(403, "You can only hide or unhide replies to "
                           "conversations you authored.", headers=headers)
        self.store.update_item(NETWORK, tweet_id, hidden=body["hidden"])
        await self.late(fault)
        return JSONResponse({"data": {"hidden": body["hidden"]}}, headers=headers)

    async def retweet(self, request: Request) -> Response:
        account, fault, headers, failed = await self.begin(
            request, "repost", "retweets"
        )
        if failed is not None:
            return failed
        if request.path_params["id"] != account.account_id:
            return problem(403, "You are not permitted to perform this action.",
                           headers=headers)
        if refused := await self.off_spec(request, headers):
            return refused
        body = await self.json_body(request)
        tweet_id = str((body or {}).get("tweet_id") or "")
        source = self.tweet(tweet_id) if tweet_id.isdigit() else None
        if source is None:
            return invalid("The `tweet_id` does not exist or is not visible.",
                           parameter="tweet_id", value=tweet_id, headers=headers)
        existing = self.store.list_items(NETWORK, author_id=account.account_id,
                                         kind="repost", parent_id=tweet_id, limit=1)
        if existing:
            repost = existing[0]
        else:
            repost = self.store.add_item(
                NETWORK, account.account_id, new_id(self.ctx, "tweet"), "repost",
                text=f"RT: {source.text}", parent_id=tweet_id,
                author_id=account.account_id, author_name=account.display_name,
                data={"referenced_tweets": [{"type": "retweeted", "id": tweet_id}],
                      "conversation_id": tweet_id},
            )
        await self.late(fault)
        return JSONResponse({"data": {"retweeted": True, "rest_id": repost.item_id}},
                            headers=headers)

    async def unretweet(self, request: Request) -> Response:
        account, _fault, headers, failed = await self.begin(
            request, "repost", "retweets"
        )
        if failed is not None:
            return failed
        source = request.path_params["source_tweet_id"]
        for repost in self.store.list_items(NETWORK, author_id=account.account_id,
                                            kind="repost", parent_id=source):
            self.store.delete_item(NETWORK, repost.item_id)
        return JSONResponse({"data": {"retweeted": False}}, headers=headers)

    async def like(self, request: Request) -> Response:
        """``POST /2/users/{id}/likes`` ``{"tweet_id"}``: one like per account
        and post, however often it is sent."""
        return await self.set_like(request, liked=True)

    async def unlike(self, request: Request) -> Response:
        """``DELETE /2/users/{id}/likes/{tweet_id}``: ``liked: false`` also
        when there was no like."""
        return await self.set_like(request, liked=False)

    async def set_like(self, request: Request, *, liked: bool) -> Response:
        account, fault, headers, failed = await self.begin(request, "like", "likes")
        if failed is not None:
            return failed
        if request.path_params["id"] != account.account_id:
            return problem(403, "You are not permitted to perform this action.",
                           headers=headers)
        if liked:
            if refused := await self.off_spec(request, headers):
                return refused
            tweet_id = str((await self.json_body(request) or {}).get("tweet_id") or "")
        else:
            tweet_id = request.path_params["tweet_id"]
        item = self.tweet(tweet_id)
        if item is None:
            return problem(404, f"Could not find tweet with id: [{tweet_id}].",
                           kind="resource-not-found", headers=headers,
                           resource_type="tweet", resource_id=tweet_id)
        likes.set_like(self.store, NETWORK, item, account.account_id, liked)
        await self.late(fault)
        return JSONResponse({"data": {"liked": liked}}, headers=headers)

    # -- reading --------------------------------------------------------------------

    async def users_me(self, request: Request) -> Response:
        account, headers, failed = await self.begin_read(request, "verify", "users_me")
        if failed is not None:
            return failed
        user = self.user_json(account.account_id, fields_of(request, "user.fields"))
        return JSONResponse({"data": user}, headers=headers)

    async def user_by_id(self, request: Request) -> Response:
        _account, headers, failed = await self.begin_read(
            request, "metrics", "users_lookup"
        )
        if failed is not None:
            return failed
        user_id = request.path_params["id"]
        user = self.user_json(user_id, fields_of(request, "user.fields"))
        if user is None:
            return JSONResponse({"errors": [not_found("user", user_id)]},
                                headers=headers)
        return JSONResponse({"data": user}, headers=headers)

    async def user_by_username(self, request: Request) -> Response:
        """``GET /2/users/by/username/{username}``: an account by its handle
        (the partner accounts Kanal follows as a source are seeded here)."""
        _account, headers, failed = await self.begin_read(
            request, "metrics", "users_lookup"
        )
        if failed is not None:
            return failed
        ensure_partners(self.ctx)
        username = request.path_params["username"]
        found = next((a for a in self.store.list_accounts(NETWORK)
                      if a.handle.lower() == username.lower()), None)
        if found is None:
            return JSONResponse(
                {"errors": [not_found("user", username, "username")]},
                headers=headers,
            )
        user = self.user_json(found.account_id, fields_of(request, "user.fields"))
        return JSONResponse({"data": user}, headers=headers)

    async def mentions(self, request: Request) -> Response:
        _account, headers, failed = await self.begin_read(request, "inbox", "mentions")
        if failed is not None:
            return failed
        user_id = request.path_params["id"]
        items = [
            i for i in self.store.list_items(
                NETWORK, account_id=user_id, kind=("comment", "reply", "mention"))
            if i.author_id != user_id
        ]
        return self.post_listing(request, items, headers, low=5)

    async def user_tweets(self, request: Request) -> Response:
        _account, headers, failed = await self.begin_read(
            request, "metrics", "user_tweets"
        )
        if failed is not None:
            return failed
        ensure_partners(self.ctx)
        exclude = fields_of(request, "exclude")
        kinds = {"post", "reply", "repost"}
        if "replies" in exclude:
            kinds.discard("reply")
        if "retweets" in exclude:
            kinds.discard("repost")
        items = self.store.list_items(NETWORK, author_id=request.path_params["id"],
                                      kind=sorted(kinds))
        return self.post_listing(request, items, headers, low=5)

    async def dm_events(self, request: Request) -> Response:
        """The account's one-to-one messages: both directions, as X lists
        them (citizens' ``message`` items and the account's own ``dm_sent``,
        through the API or written in X's app), newest first."""
        account, headers, failed = await self.begin_read(
            request, "inbox", "dm_events", fields=DM_READ_FIELDS
        )
        if failed is not None:
            return failed
        types = fields_of(request, "event_types") or {"MessageCreate"}
        me = account.account_id
        items = sorted([
            *(i for i in self.store.list_items(NETWORK, account_id=me,
                                               kind="message")
              if i.author_id != me),
            *self.store.list_items(NETWORK, account_id=me, kind="dm_sent"),
        ], key=lambda i: (i.created_at, i.seq), reverse=True) \
            if "MessageCreate" in types else []
        return self.dm_listing(request, items, me, headers)

    def dm_listing(self, request: Request, items: list, me: str,
                   headers: dict) -> Response:
        """A page of ``MessageCreate`` events (citizens' ``message`` items and
        the account's own ``dm_sent``), newest first."""
        chosen, following, error = self.page(request, items, headers, low=1,
                                             default=100)
        if error is not None:
            return error
        fields = fields_of(request, "dm_event.fields")
        expansions = fields_of(request, "expansions")
        events = []
        for item in chosen:
            # The other participant: the sender, or whom the account wrote to.
            other = item.data.get("recipient_id") or item.author_id
            event = {"id": item.item_id, "event_type": "MessageCreate",
                     "text": item.text}
            if "created_at" in fields:
                event["created_at"] = iso(item.created_at)
            if "dm_conversation_id" in fields:
                event["dm_conversation_id"] = conversation_id(me, other)
            if "sender_id" in fields or "sender_id" in expansions:
                event["sender_id"] = item.author_id
            if "participant_ids" in fields:
                event["participant_ids"] = [other, me]
            events.append(event)
        body: dict = {}
        if events:
            body["data"] = events
        if "sender_id" in expansions and chosen:
            user_fields = fields_of(request, "user.fields")
            users: dict[str, dict] = {}
            for item in chosen:
                if item.author_id not in users:
                    user = self.user_json(item.author_id, user_fields)
                    if user:
                        users[item.author_id] = user
            if users:
                body["includes"] = {"users": list(users.values())}
        body["meta"] = {"result_count": len(events)}
        if following:
            body["meta"]["next_token"] = following
        return JSONResponse(body, headers=headers)

    async def dm_send(self, request: Request) -> Response:
        """``POST /2/dm_conversations/with/{participant_id}/messages``: the
        account writes to a citizen who has written to it (X lets an account
        answer anyone who messaged it)."""
        account, fault, headers, failed = await self.begin(
            request, "message", "dm_create")
        if failed is not None:
            return failed
        if refused := await self.off_spec(request, headers):
            return refused
        body = await self.json_body(request)
        if body is None:
            return invalid("The request body is not valid JSON.", headers=headers)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return invalid("Requires at least one of: text, attachments.",
                           parameter="text", headers=headers)
        if len(text) > MAX_DM_LENGTH:
            return invalid(f"text must be at most {MAX_DM_LENGTH} characters.",
                           parameter="text", headers=headers)
        me = account.account_id
        participant = request.path_params["participant_id"]
        if participant == me or self.user_json(participant, set()) is None:
            return invalid("The `participant_id` is not a valid user.",
                           parameter="participant_id", value=participant,
                           headers=headers)
        if not self.store.list_items(NETWORK, account_id=me, kind="message",
                                     author_id=participant, limit=1):
            return problem(403, DM_NOT_ALLOWED, headers=headers)
        event_id = new_id(self.ctx, "dm_event")
        self.store.add_item(
            NETWORK, me, event_id, "dm_sent", text=text, author_id=me,
            author_name=account.display_name, data={"recipient_id": participant},
            created_at=self.ctx.now(),
        )
        self.store.log_publish(NETWORK, me, event_id, kind="message", text=text)
        await self.late(fault)
        return JSONResponse(
            {"data": {"dm_conversation_id": conversation_id(me, participant),
                      "dm_event_id": event_id}},
            status_code=201, headers=headers,
        )

    async def dm_conversation_events(self, request: Request) -> Response:
        """``GET /2/dm_conversations/with/{participant_id}/dm_events``: both
        sides of the one-to-one conversation with a citizen."""
        account, headers, failed = await self.begin_read(
            request, "inbox", "dm_events", fields=DM_READ_FIELDS
        )
        if failed is not None:
            return failed
        me = account.account_id
        participant = request.path_params["participant_id"]
        types = fields_of(request, "event_types") or {"MessageCreate"}
        items = [
            *self.store.list_items(NETWORK, account_id=me, kind="message",
                                   author_id=participant),
            *[i for i in self.store.list_items(NETWORK, account_id=me,
                                               kind="dm_sent")
              if i.data.get("recipient_id") == participant],
        ] if "MessageCreate" in types else []
        return self.dm_listing(request, items, me, headers)

    @staticmethod
    def in_time_range(request: Request, items: list) -> list:
        start = parse_time(request.query_params.get("start_time"))
        end = parse_time(request.query_params.get("end_time"))
        return [
            i for i in items
            if (start is None or i.created_at >= start)
            and (end is None or i.created_at < end)
        ]

    async def search_recent(self, request: Request) -> Response:
        query = request.query_params.get("query", "")
        operation = "hashtag" if "#" in query or "＃" in query else "inbox"
        _account, headers, failed = await self.begin_read(request, operation, "search")
        if failed is not None:
            return failed
        if not query.strip() or len(query) > MAX_QUERY:
            return invalid(f"`query` must be 1 to {MAX_QUERY} characters.",
                           parameter="query", value=query[:50], headers=headers)
        try:
            matches = self.compile_query(query)
        except ValueError as e:
            return invalid(str(e), parameter="query", value=query, headers=headers)
        since = self.ctx.now() - SEARCH_WINDOW
        since_id = request.query_params.get("since_id", "")
        cursor = self.store.get_item(NETWORK, since_id) if since_id else None
        if cursor is not None and cursor.created_at < since:
            return invalid(
                f"Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id "
                f"created after {iso(since)}.",
                parameter="since_id", value=since_id, headers=headers,
            )
        items = [
            i for i in self.store.list_items(
                NETWORK, kind=("post", "comment", "reply", "mention", "repost"),
                since=since)
            if matches(i)
        ]
        return self.post_listing(request, items, headers, low=10)

    def compile_query(self, query: str):
        """A small subset of X's search operators, all ANDed."""
        tests = []
        for term in re.findall(r'-?"[^"]*"|\S+', query):
            negate = term.startswith("-")
            term = term.lstrip("-")
            if term.upper() == "OR" or term.startswith("("):
                raise ValueError("The sandbox's search knows no OR or groups.")
            if term[:1] in "#＃":
                tag = term[1:].casefold()
                test = (lambda t: lambda i: t in hashtags(i.text))(tag)
            elif term == "is:retweet":
                test = lambda i: i.kind == "repost"  # noqa: E731
            elif term == "is:reply":
                test = lambda i: bool(i.parent_id)  # noqa: E731
            elif term.startswith(("to:", "from:")):
                handle = term.split(":", 1)[1].lstrip("@").casefold()
                found = self.store.find_account(NETWORK, handle)
                user_id = found.account_id if found else f"unknown:{handle}"
                if term.startswith("from:"):
                    test = (lambda u: lambda i: i.author_id == u)(user_id)
                else:
                    test = (lambda u: lambda i: i.data.get("in_reply_to_user_id") == u
                            or (i.kind == "mention" and i.account_id == u))(user_id)
            elif term.startswith("conversation_id:"):
                wanted = term.split(":", 1)[1]
                test = (lambda w: lambda i: i.data.get("conversation_id") == w)(wanted)
            elif ":" in term and not term.startswith('"'):
                raise ValueError(f"The sandbox does not know the operator {term}.")
            else:
                word = term.strip('"').casefold()
                test = (lambda w: lambda i: w in i.text.casefold())(word)
            tests.append((lambda t, n: lambda i: t(i) != n)(test, negate))
        return lambda item: all(t(item) for t in tests)

    # -- media ----------------------------------------------------------------------

    def own_media(self, account, media_id: str):
        item = self.store.get_item(NETWORK, media_id, include_deleted=False)
        if item is None or item.kind != "media":
            return None
        if item.account_id != account.account_id:
            return None
        expires = parse_time(item.data.get("expires_at"))
        if expires is not None and expires < self.ctx.now():
            return None
        return item

    def new_media(self, account, *, media_type: str, category: str, total: int):
        media_id = new_id(self.ctx, "media")
        kind = ("video" if category.endswith("video") else
                "animated_gif" if category.endswith("gif") else "photo")
        prefix = {"photo": "3", "video": "7", "animated_gif": "16"}[kind]
        return self.store.add_item(
            NETWORK, account.account_id, media_id, "media",
            author_id=account.account_id, author_name=account.display_name,
            data={"media_key": f"{prefix}_{media_id}", "type": kind,
                  "media_type": media_type, "media_category": category,
                  "total_bytes": total, "segments": {}, "state": "initialized",
                  "status_polls": 0,
                  "expires_at": (self.ctx.now() + MEDIA_TTL).isoformat()},
        )

    async def media_initialize(self, request: Request, *, legacy: bool = False
                               ) -> Response:
        account, fault, headers, failed = await self.begin(request, "media",
                                                           "media_chunked")
        if failed is not None:
            return failed
        if legacy:
            body = dict(request.query_params)
            if "total_bytes" in body and body["total_bytes"].isdigit():
                body["total_bytes"] = int(body["total_bytes"])
        else:
            if refused := await self.off_spec(request, headers):
                return refused
            body = await self.json_body(request)
        if body is None:
            return invalid("The request body is not valid JSON.", headers=headers)
        media_type = body.get("media_type", "")
        category = body.get("media_category") or (
            "tweet_video" if str(media_type).startswith("video/") else
            "tweet_gif" if media_type == "image/gif" else "tweet_image")
        total = body.get("total_bytes")
        if media_type not in MEDIA_TYPES:
            return invalid("media type unrecognized.", parameter="media_type",
                           value=str(media_type), headers=headers)
        if not isinstance(total, int) or total <= 0:
            return invalid("`total_bytes` must be a positive integer.",
                           parameter="total_bytes", headers=headers)
        limit = MAX_BYTES.get(category, MAX_BYTES["tweet_image"])
        if total > limit:
            return invalid(f"File size exceeds {limit} bytes.",
                           parameter="total_bytes", value=str(total), headers=headers)
        item = self.new_media(account, media_type=media_type, category=category,
                              total=total)
        await self.late(fault)
        return JSONResponse({"data": {
            "id": item.item_id, "media_key": item.data["media_key"],
            "expires_after_secs": int(MEDIA_TTL.total_seconds())}}, headers=headers)

    async def read_segment(self, request: Request):
        """``(segment_index, bytes)`` from multipart or JSON (base64)."""
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("media")
            index = form.get("segment_index")
            data = await upload.read() if hasattr(upload, "read") else (
                base64.b64decode(upload) if isinstance(upload, str) else None)
        else:
            body = await self.json_body(request) or {}
            index = body.get("segment_index")
            try:
                data = base64.b64decode(body.get("media") or "", validate=True)
            except ValueError:
                data = None
        try:
            index = int(index)
        except (TypeError, ValueError):
            index = None
        return index, data

    async def begin_chunk(self, request: Request, media_id: str):
        """``begin`` for a step of a chunked upload (``media_id``, or the one in
        the path) of the caller's own media: ``(item, fault, headers, None)`` or
        ``(…, error response)``."""
        account, fault, headers, failed = await self.begin(request, "media",
                                                           "media_chunked")
        if failed is not None:
            return None, None, headers, failed
        media_id = media_id or request.path_params.get("id", "")
        item = self.own_media(account, media_id)
        if item is None:
            return None, None, headers, invalid(
                "Invalid media id.", parameter="id", value=media_id, headers=headers
            )
        return item, fault, headers, None

    async def media_append(self, request: Request, *, media_id: str = ""
                           ) -> Response:
        item, fault, headers, failed = await self.begin_chunk(request, media_id)
        if failed is not None:
            return failed
        if item.data["state"] != "initialized":
            return invalid("The upload is already finalized.", parameter="id",
                           headers=headers)
        index, data = await self.read_segment(request)
        if index is None and request.query_params.get("segment_index", "").isdigit():
            index = int(request.query_params["segment_index"])
        if index is None or not 0 <= index <= 999 or not data:
            return invalid("`segment_index` (0–999) and `media` are required.",
                           parameter="segment_index", headers=headers)
        if len(data) > MAX_SEGMENT:
            return invalid("A segment may be at most 5 MB.", parameter="media",
                           headers=headers)
        segments = dict(item.data["segments"])
        segments[str(index)] = len(data)
        changes: dict = {"segments": segments}
        if index == 0:
            changes["head"] = base64.b64encode(data[:16]).decode()
        self.store.update_item(NETWORK, item.item_id, data=changes)
        expires = parse_time(item.data["expires_at"])
        await self.late(fault)
        return JSONResponse({"data": {"expires_at": epoch(expires)}}, headers=headers)

    @staticmethod
    def looks_like(media_type: str, head: bytes) -> bool:
        if media_type in ("image/jpeg", "image/pjpeg"):
            return head.startswith(b"\xff\xd8\xff")
        if media_type == "image/png":
            return head.startswith(b"\x89PNG")
        if media_type == "image/gif":
            return head.startswith(b"GIF8")
        if media_type == "image/webp":
            return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
        if media_type in ("video/mp4", "video/quicktime"):
            return head[4:8] == b"ftyp"
        return True

    def media_json(self, item) -> dict:
        data = item.data
        body = {"id": item.item_id, "media_key": data["media_key"],
                "size": data["total_bytes"],
                "expires_after_secs": max(0, int(
                    (parse_time(data["expires_at"]) - self.ctx.now()).total_seconds()))}
        if data["type"] == "photo":
            body["image"] = {"image_type": data["media_type"]}
        if data.get("processing_info"):
            body["processing_info"] = data["processing_info"]
        return body

    async def media_finalize(self, request: Request, *, media_id: str = ""
                             ) -> Response:
        item, fault, headers, failed = await self.begin_chunk(request, media_id)
        if failed is not None:
            return failed
        error = self.finish_upload(item, headers)
        if error is not None:
            return error
        item = self.store.get_item(NETWORK, item.item_id)
        await self.late(fault)
        return JSONResponse({"data": self.media_json(item)}, headers=headers)

    def finish_upload(self, item, headers) -> Response | None:
        data = item.data
        if data["state"] != "initialized":
            return invalid("The upload is already finalized.", parameter="id",
                           headers=headers)
        received = sum(data["segments"].values())
        if received != data["total_bytes"]:
            return invalid("Segments do not add up to provided total file size.",
                           parameter="total_bytes", headers=headers)
        head = base64.b64decode(data.get("head", ""))
        if not self.looks_like(data["media_type"], head):
            self.store.update_item(NETWORK, item.item_id, data={"state": "failed"})
            return invalid("media type unrecognized.", parameter="media",
                           headers=headers)
        if data["type"] == "video":
            changes = {"state": "pending", "processing_info": {
                "state": "pending", "check_after_secs": 1}}
        else:
            changes = {"state": "succeeded"}
        self.store.update_item(NETWORK, item.item_id, data=changes)
        return None

    async def media_status(self, request: Request) -> Response:
        account, _fault, headers, failed = await self.begin(request, "media",
                                                           "media_upload")
        if failed is not None:
            return failed
        media_id = request.query_params.get("media_id", "")
        command = request.query_params.get("command", "STATUS")
        if command != "STATUS":
            return invalid("`command` must be STATUS.", parameter="command",
                           value=command, headers=headers)
        item = self.own_media(account, media_id)
        if item is None:
            return invalid("Invalid media id.", parameter="media_id", value=media_id,
                           headers=headers)
        data = item.data
        if data["type"] == "video" and data["state"] in ("pending", "in_progress"):
            polls = data.get("status_polls", 0) + 1
            if polls >= 2:
                info = {"state": "succeeded", "progress_percent": 100}
                state = "succeeded"
            else:
                info = {"state": "in_progress", "check_after_secs": 1,
                        "progress_percent": 50}
                state = "in_progress"
            item = self.store.update_item(NETWORK, media_id, data={
                "status_polls": polls, "state": state, "processing_info": info})
        elif data["state"] == "succeeded" and not data.get("processing_info"):
            item = self.store.update_item(NETWORK, media_id, data={
                "processing_info": {"state": "succeeded", "progress_percent": 100}})
        return JSONResponse({"data": self.media_json(item)}, headers=headers)

    async def media_upload(self, request: Request) -> Response:
        """One-shot upload, or the older ``?command=INIT|APPEND|FINALIZE`` form."""
        command = request.query_params.get("command", "").upper()
        if not command:
            return await self.media_simple_upload(request)
        if command == "INIT":
            return await self.media_initialize(request, legacy=True)
        media_id = request.query_params.get("media_id", "")
        if command == "APPEND":
            return await self.media_append(request, media_id=media_id)
        if command == "FINALIZE":
            return await self.media_finalize(request, media_id=media_id)
        return invalid("`command` must be INIT, APPEND or FINALIZE.",
                       parameter="command", value=command)

    async def media_simple_upload(self, request: Request) -> Response:
        account, fault, headers, failed = await self.begin(request, "media",
                                                           "media_upload")
        if failed is not None:
            return failed
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("media")
            category = str(form.get("media_category") or "")
            media_type = str(form.get("media_type") or "") or getattr(
                upload, "content_type", "")
            payload = await upload.read() if hasattr(upload, "read") else b""
        else:
            body = await self.json_body(request) or {}
            category = str(body.get("media_category") or "")
            media_type = str(body.get("media_type") or "image/jpeg")
            try:
                payload = base64.b64decode(body.get("media") or "", validate=True)
            except ValueError:
                payload = b""
        if category not in MAX_BYTES or not payload:
            return invalid("`media` and a valid `media_category` are required.",
                           parameter="media_category", value=category,
                           headers=headers)
        if len(payload) > MAX_BYTES[category]:
            return invalid(f"File size exceeds {MAX_BYTES[category]} bytes.",
                           parameter="media", headers=headers)
        if media_type not in MEDIA_TYPES:
            media_type = "image/jpeg"
        item = self.new_media(account, media_type=media_type, category=category,
                              total=len(payload))
        self.store.update_item(NETWORK, item.item_id, data={
            "segments": {"0": len(payload)},
            "head": base64.b64encode(payload[:16]).decode()})
        error = self.finish_upload(self.store.get_item(NETWORK, item.item_id),
                                   headers)
        if error is not None:
            return error
        item = self.store.get_item(NETWORK, item.item_id)
        await self.late(fault)
        return JSONResponse({"data": self.media_json(item)}, headers=headers)

    async def media_metadata(self, request: Request) -> Response:
        account, fault, headers, failed = await self.begin(request, "media",
                                                           "media_metadata")
        if failed is not None:
            return failed
        if refused := await self.off_spec(request, headers):
            return refused
        body = await self.json_body(request)
        if body is None or not str(body.get("id", "")).isdigit():
            return invalid("`id` is required.", parameter="id", headers=headers)
        item = self.own_media(account, str(body["id"]))
        if item is None:
            return invalid("Invalid media id.", parameter="id", value=str(body["id"]),
                           headers=headers)
        metadata = body.get("metadata") or {}
        alt = (metadata.get("alt_text") or {}).get("text")
        if alt is not None:
            if not isinstance(alt, str) or len(alt) > ALT_TEXT_MAX:
                return invalid(f"Alt text must be at most {ALT_TEXT_MAX} characters.",
                               parameter="metadata.alt_text.text", headers=headers)
            self.store.update_item(NETWORK, item.item_id, data={"alt_text": alt})
            for tweet in self.store.list_items(NETWORK, account_id=account.account_id,
                                               kind=("post", "reply"), limit=50):
                media = tweet.data.get("media") or []
                if any(m.get("media_id") == item.item_id for m in media):
                    updated = [{**m, "alt_text": alt}
                               if m.get("media_id") == item.item_id else m
                               for m in media]
                    self.store.update_item(NETWORK, tweet.item_id,
                                           data={"media": updated})
        await self.late(fault)
        return JSONResponse(
            {"data": {"id": item.item_id, "associated_metadata": metadata}},
            headers=headers,
        )

    # -- OAuth 2 --------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        missing = [name for name in ("response_type", "client_id", "redirect_uri",
                                     "state", "code_challenge")
                   if not query.get(name)]
        if missing or query.get("response_type") != "code":
            return HTMLResponse(
                "<!doctype html><meta charset=utf-8><h1>Noget gik galt</h1>"
                f"<p>Mangler: {html.escape(', '.join(missing) or 'response_type')}</p>",
                status_code=400,
            )
        login = query.get("login", "")
        account = (self.store.find_account(NETWORK, login) if login else
                   self.store.get_account(NETWORK, "1500000000000000001"))
        if account is None:
            accounts = self.store.list_accounts(NETWORK)
            account = accounts[0] if accounts else None
        if account is None:
            return HTMLResponse("Ingen X-konto i øvebanen", status_code=404)
        code = self.ctx.token("x-code-")
        self.store.put_token(
            NETWORK, code, account.account_id, kind="code",
            expires_at=self.ctx.now() + CODE_TTL,
            extra={"client_id": query["client_id"],
                   "redirect_uri": query["redirect_uri"],
                   "code_challenge": query["code_challenge"],
                   "method": query.get("code_challenge_method", "plain"),
                   "scope": query.get("scope", "tweet.read users.read")},
        )
        separator = "&" if "?" in query["redirect_uri"] else "?"
        target = query["redirect_uri"] + separator + urlencode(
            {"state": query["state"], "code": code})
        return RedirectResponse(target, status_code=302)

    @staticmethod
    def oauth_error(description: str, error: str = "invalid_request",
                    status: int = 400) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description},
                            status_code=status)

    def client_id(self, request: Request, form) -> str:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                pair = base64.b64decode(auth[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                return ""
            return pair.split(":", 1)[0]
        return str(form.get("client_id") or "")

    def issue(self, account_id: str, scope: str) -> dict:
        now = self.ctx.now()
        access = self.ctx.token("x-access-")
        self.store.put_token(NETWORK, access, account_id, kind="access",
                             expires_at=now + ACCESS_TTL, extra={"scope": scope})
        body = {"token_type": "bearer",
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "access_token": access, "scope": scope}
        if "offline.access" in scope.split():
            refresh = self.ctx.token("x-refresh-")
            self.store.put_token(NETWORK, refresh, account_id, kind="refresh",
                                 expires_at=now + REFRESH_TTL, extra={"scope": scope})
            body["refresh_token"] = refresh
        return body

    async def token(self, request: Request) -> Response:
        form = await request.form()
        client = self.client_id(request, form)
        refresh_value = str(form.get("refresh_token") or "")
        found = self.store.get_token(NETWORK, refresh_value) if refresh_value else None
        fault = await self.ctx.fault(NETWORK, "token",
                                     found.account_id if found else None)
        if fault is not None and fault.kind != "timeout_after_create":
            if fault.kind == "rate_limit":
                return problem(429, "Too Many Requests")
            if fault.kind == "server_error":
                return problem(500, "Something went wrong. Try again later.",
                               kind="internal-error")
            return self.oauth_error("Value passed for the token was invalid.")
        if not client:
            return self.oauth_error("Missing required parameter [client_id].")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = str(form.get("code") or "")
            token, reason = self.store.check_token(NETWORK, code, kinds=("code",))
            if reason or token is None:
                return self.oauth_error(
                    "Value passed for the authorization code was invalid.")
            extra = token.extra
            verifier = str(form.get("code_verifier") or "")
            expected = verifier
            if extra.get("method") == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if (
                extra.get("client_id") != client
                or extra.get("redirect_uri") != form.get("redirect_uri")
                or not verifier
                or expected != extra.get("code_challenge")
            ):
                return self.oauth_error(
                    "Value passed for the authorization code was invalid.")
            self.store.revoke_token(NETWORK, code)
            body = self.issue(token.account_id, extra.get("scope", ""))
        elif grant == "refresh_token":
            token, reason = self.store.check_token(NETWORK, refresh_value,
                                                   kinds=("refresh",))
            if reason or token is None:
                return self.oauth_error("Value passed for the token was invalid.")
            # Refresh tokens are single use: X hands out a new one each time.
            self.store.revoke_token(NETWORK, refresh_value)
            scope = token.extra.get("scope") or " ".join(DEFAULT_SCOPES)
            body = self.issue(token.account_id, scope)
        else:
            return self.oauth_error("Unsupported grant type.",
                                    error="unsupported_grant_type")
        await self.late(fault)
        return JSONResponse(body)

    async def revoke(self, request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token") or "")
        if self.store.get_token(NETWORK, token) is not None:
            self.store.revoke_token(NETWORK, token)
        return JSONResponse({"revoked": True})

    # -- the citizen view ------------------------------------------------------------

    async def status_page(self, request: Request) -> Response:
        item = self.store.get_item(NETWORK, request.path_params["tweet_id"])
        if item is None:
            return HTMLResponse("Opslaget findes ikke", status_code=404)
        return RedirectResponse(f"/_sandbox/page/{NETWORK}/{item.account_id}",
                                status_code=302)


DEFAULT_SCOPES = ("tweet.read", "tweet.write", "tweet.moderate.write", "users.read",
                  "media.write", "dm.read", "like.write", "offline.access")


def routes(ctx) -> list[Route]:
    x = X(ctx)
    return [
        Route("/2/tweets", x.create_tweet, methods=["POST"]),
        Route("/2/tweets", x.lookup, methods=["GET"]),
        Route("/2/tweets/search/recent", x.search_recent, methods=["GET"]),
        Route("/2/tweets/{id}", x.tweet_detail, methods=["GET", "DELETE"]),
        Route("/2/tweets/{id}/hidden", x.hide, methods=["PUT"]),
        Route("/2/users/me", x.users_me, methods=["GET"]),
        Route("/2/users/by/username/{username}", x.user_by_username,
              methods=["GET"]),
        Route("/2/users/{id}", x.user_by_id, methods=["GET"]),
        Route("/2/users/{id}/mentions", x.mentions, methods=["GET"]),
        Route("/2/users/{id}/tweets", x.user_tweets, methods=["GET"]),
        Route("/2/users/{id}/retweets", x.retweet, methods=["POST"]),
        Route("/2/users/{id}/retweets/{source_tweet_id}", x.unretweet,
              methods=["DELETE"]),
        Route("/2/users/{id}/likes", x.like, methods=["POST"]),
        Route("/2/users/{id}/likes/{tweet_id}", x.unlike, methods=["DELETE"]),
        Route("/2/media/upload/initialize", x.media_initialize, methods=["POST"]),
        Route("/2/media/upload/{id}/append", x.media_append, methods=["POST"]),
        Route("/2/media/upload/{id}/finalize", x.media_finalize, methods=["POST"]),
        Route("/2/media/upload", x.media_status, methods=["GET"]),
        Route("/2/media/upload", x.media_upload, methods=["POST"]),
        Route("/2/media/metadata", x.media_metadata, methods=["POST"]),
        Route("/2/dm_events", x.dm_events, methods=["GET"]),
        Route("/2/dm_conversations/with/{participant_id}/messages", x.dm_send,
              methods=["POST"]),
        Route("/2/dm_conversations/with/{participant_id}/dm_events",
              x.dm_conversation_events, methods=["GET"]),
        Route("/2/oauth2/token", x.token, methods=["POST"]),
        Route("/2/oauth2/revoke", x.revoke, methods=["POST"]),
        Route("/i/oauth2/authorize", x.authorize, methods=["GET"]),
        Route("/{handle}/status/{tweet_id}", x.status_page, methods=["GET"]),
    ]


# -- hooks used by the sandbox core ------------------------------------------------


#: Partner accounts (other city bodies) whose public posts Kanal can follow
#: as a source: (id, handle, name, [(text, hours ago)]).
PARTNER_ACCOUNTS = (
    (
        "1500000000000090001",
        "kkbibliotek",
        "Københavns Biblioteker",
        (
            ("Lørdag er der sprogcafé på Hovedbiblioteket kl. 11-13. Alle er "
             "velkomne, og det er gratis. https://bibliotek.kk.dk/sprogcafe", 30),
            ("Vi holder lukket 2. juledag. God jul fra bibliotekerne!", 6),
        ),
    ),
    (
        "1500000000000090002",
        "kbhpoliti",
        "Københavns Politi",
        (
            ("Pas på lommetyve i julehandlen på Strøget. Hold tasken lukket og "
             "telefonen i en inderlomme.", 3),
        ),
    ),
)
def ensure_partners(ctx) -> None:
    """Write the partner accounts and their posts once (also after a reset)."""

    def write_post(account_id, handle, name, post, at):
        tweet_id = new_id(ctx, "tweet")
        ctx.store.add_item(
            NETWORK, account_id, tweet_id, "post", text=post[0],
            author_id=account_id, author_name=name, created_at=at,
            data={"lang": "da", "conversation_id": tweet_id},
        )

    partners.seed_once(ctx, NETWORK, PARTNER_ACCOUNTS, followers=4200,
                       write_post=write_post)


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    """Snowflake-like ids: numeric, growing, 19 digits."""
    if kind == "account":
        return str(ctx.store.next_seq("x:user", 1_500_000_000_000_100_000))
    return str(ctx.store.next_seq("x:id", 1_860_000_000_000_000_000))


def owner_edit(ctx, item, text: str):
    """An edit in X's own app: X makes a new post id with the new text, and
    every version lists the whole history in ``edit_history_tweet_ids``
    (oldest first); the original id still answers with its first text."""
    history = list(item.data.get("edit_history_tweet_ids") or [item.item_id])
    version_id = ctx.new_id(NETWORK, item.kind, account_id=item.account_id)
    history.append(version_id)
    ctx.store.add_item(
        NETWORK, item.account_id, version_id, item.kind, text=text,
        parent_id=item.parent_id, root_id=item.root_id,
        author_id=item.author_id, author_name=item.author_name,
        data={**item.data, "edit_history_tweet_ids": history},
    )
    for version in history[:-1]:
        if ctx.store.get_item(NETWORK, version) is not None:
            ctx.store.update_item(NETWORK, version,
                                  data={"edit_history_tweet_ids": history})
    return ctx.store.get_item(NETWORK, version_id)


def owner_delete(ctx, item) -> None:
    """Deleting a post in X's app deletes every version of it."""
    for version in item.data.get("edit_history_tweet_ids") or [item.item_id]:
        ctx.store.delete_item(NETWORK, str(version))


def provision(ctx, account, body: dict) -> dict:
    """A 2-hour access token and a rotating refresh token, as X gives them."""
    now = ctx.now()
    expires_in = body.get("expires_in", int(ACCESS_TTL.total_seconds()))
    expires_at = now + timedelta(seconds=int(expires_in)) if expires_in else None
    access = body.get("access_token") or ctx.token("x-access-")
    refresh = body.get("refresh_token") or ctx.token("x-refresh-")
    scope = " ".join(DEFAULT_SCOPES)
    ctx.store.put_token(NETWORK, access, account.account_id, kind="access",
                        expires_at=expires_at, extra={"scope": scope})
    ctx.store.put_token(NETWORK, refresh, account.account_id, kind="refresh",
                        expires_at=now + REFRESH_TTL, extra={"scope": scope})
    return {
        "access_token": access,
        "refresh_token": refresh,
        "client_id": SANDBOX_CLIENT_ID,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }


def citizen_item(ctx, *, kind: str, account_id: str, text: str, parent_id: str,
                 root_id: str, author_id: str, author_name: str, data: dict):
    """Citizens' tweets: replies in a conversation, mentions, public posts."""
    store = ctx.store
    author_id = numeric_author(author_id)
    data = {**(data or {}), "lang": "da",
            "author_username": username_for(author_name, author_id)}
    tweet_id = new_id(ctx, "tweet")
    if parent_id:
        parent = store.get_item(NETWORK, parent_id)
        if parent is None:
            raise KeyError(parent_id)
        data["conversation_id"] = parent.data.get("conversation_id", parent.item_id)
        data["in_reply_to_user_id"] = parent.author_id
        data["referenced_tweets"] = [{"type": "replied_to", "id": parent.item_id}]
        root_id = parent.root_id or parent.item_id
        if kind not in ("comment", "reply"):
            kind = "comment" if parent.kind == "post" else "reply"
        account_id = account_id or parent.account_id
    else:
        data["conversation_id"] = tweet_id
        if kind == "mention":
            account = store.get_account(NETWORK, account_id)
            if account is not None and f"@{account.handle}".lower() not in text.lower():
                text = f"@{account.handle} {text}"
    return store.add_item(
        NETWORK, account_id, tweet_id, kind, text=text, parent_id=parent_id,
        root_id=root_id if parent_id else "", author_id=author_id,
        author_name=author_name, data=data,
    )


def seed(ctx) -> None:
    """Two earlier posts on the demo account, with replies and numbers."""
    store = ctx.store
    account = store.get_account(NETWORK, "1500000000000000001")
    if account is None:
        return
    now = ctx.now()
    earlier = [
        (now - timedelta(days=2, hours=3),
         "Havnebadet på Islands Brygge er åbent igen efter rengøring. God "
         "badetur! #voreskbh",
         [("Sofie Larsen", "Dejligt! Er der livredder i weekenden?")],
         {"views": 4100, "likes": 87, "shares": 12, "saves": 6}),
        (now - timedelta(hours=20),
         "Kulturnatten nærmer sig: se programmet for Rådhuset på kk.dk/kulturnat "
         "#kulturnat",
         [("Omar Khan", "Kan man komme op i tårnet i år?"),
          ("Karen Holm", "Vi glæder os 🎉")],
         {"views": 2600, "likes": 45, "shares": 9, "saves": 3}),
    ]
    for when, text, replies, numbers in earlier:
        tweet_id = new_id(ctx, "tweet")
        store.add_item(
            NETWORK, account.account_id, tweet_id, "post", text=text,
            author_id=account.account_id, author_name=account.display_name,
            data={"lang": "da", "conversation_id": tweet_id}, created_at=when,
        )
        for name, value in numbers.items():
            store.set_metric(NETWORK, tweet_id, name, value)
        for name, reply in replies:
            citizen_item(ctx, kind="comment", account_id=account.account_id,
                         text=reply, parent_id=tweet_id, root_id=tweet_id,
                         author_id=f"seed-{name}", author_name=name, data={})
    for name, text in (
        ("Mette Jensen", "Solnedgang over Sortedams Sø i aften #voreskbh"),
        ("Jonas Berg", "Biblioteket på Islands Brygge har fået nye læsepladser "
         "#kbhbibliotek #voreskbh"),
    ):
        author = f"seed-{name}"
        citizen_item(ctx, kind="post", account_id=f"citizen-{author}", text=text,
                     parent_id="", root_id="", author_id=author, author_name=name,
                     data={})


def owner_message(ctx, account_id: str, recipient_id: str, text: str):
    """Someone at the account writes ``recipient_id`` a direct message in
    X's own app, not through the API: a ``dm_sent`` that ``/2/dm_events``
    lists; X has no webhook for it here. Not in the publish log."""
    account = ctx.store.get_account(NETWORK, account_id)
    return ctx.store.add_item(
        NETWORK, account_id, new_id(ctx, "dm_event"), "dm_sent", text=text,
        author_id=account_id,
        author_name=account.display_name if account else "",
        data={"recipient_id": recipient_id, "written_in_app": True},
        created_at=ctx.now(),
    )
