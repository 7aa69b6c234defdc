"""Instagram business accounts: ``/instagram/v25.0/...`` (PLATFORMS.md §2).

The container flow as Meta runs it: ``POST /{ig-user-id}/media`` makes a
container (``IN_PROGRESS`` until ``container_delay_seconds`` on the sandbox
clock have passed, then ``FINISHED``; ``EXPIRED`` 24 h after creation;
``PUBLISHED`` once published); ``POST /{ig-user-id}/media_publish`` publishes a
``FINISHED`` one (an unfinished one is ``9007/2207027``, an expired one
``-2/2207020``, a published one an error) inside the rolling 24 h quota
(``quota_total`` in the account's ``extra``, default 100; over it ``9/2207042``).
An ``invalid_media`` fault with ``params: {"phase": "processing"}`` lets the
container be made and then end in ``ERROR``. ``image_url`` is fetched only
when it points to loopback (JPEG only, 8 MB,
aspect 4:5–1.91:1); any other URL is accepted unseen, since the sandbox never
reaches the internet.

Direct messages: a citizen's message (``kind="message"``) is sent as a
``messaging`` webhook and listed on ``/{ig-user-id}/conversations
?platform=instagram`` (one conversation per citizen, newest first, details
of its 20 newest messages; ``user_id`` narrows it) under one ``mid``. The
Send API ``POST /{ig-user-id}/messages`` answers a citizen who wrote:
``RESPONSE`` within 24 hours of their latest message, ``MESSAGE_TAG`` with
``HUMAN_AGENT`` within 7 days, else (#10) subcode 2534022; text up to 1,000
bytes of UTF-8 and fewer than 1,000 characters. An answer is an item
``kind="account_message"`` (``data.recipient_id``), logged as ``message`` and
echoed by a webhook with ``is_echo``; its faults narrow to the operation
``message``.

Also: comments and replies (hide with ``?hide=true``), ``/tags``, insights
with today's metric names (the deprecated ones are errors), hashtag search
within 30 unique tags per 7 days, tokens (``ig_exchange_token``,
``ig_refresh_token`` only for tokens at least 24 h old, a demo OAuth page),
Meta-style webhooks for comments and mentions, and every standard fault in the
Graph error envelope.

The Graph plumbing (``GraphApi``: tokens, faults, fields, paging, errors) is
shared with the Threads emulator.

Store layout: containers are items ``kind="container"`` (``data`` holds the
request, ``ready_at``, ``published_id``); published media are ``kind="post"``
(``text`` the caption, ``data.children`` the carousel items with alt text);
comments ``kind="comment"`` (parent and root = the media) and replies
``kind="reply"`` (parent = the comment); tags of the account by others are
``kind="mention"`` (a caption's; one in a comment on someone else's media has
``data.in == "comment"`` and that media as parent and root: Meta's
``mentions`` webhook names its ids, and ``GET /{ig-user-id}?fields=
mentioned_comment.comment_id(…){…}`` or ``mentioned_media.media_id(…){…}``
reads it back); citizens' public posts (for hashtag search) are
``kind="post"`` on their own account ids. The account's likes
(``/{ig-user-id}/likes``) are the liked item's ``data["liked_by"]``
(``sandbox/likes.py``).
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from sandbox.likes import set_like

logger = logging.getLogger("sandbox.instagram")

NETWORK = "instagram"
VERSION = "v25.0"
TOKEN_TTL = timedelta(days=60)
SHORT_TOKEN_TTL = timedelta(hours=1)
MIN_REFRESH_AGE = timedelta(hours=24)
CONTAINER_TTL = timedelta(hours=24)
QUOTA_WINDOW = timedelta(hours=24)
DEFAULT_QUOTA = 100
MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CHILDREN = 10
MAX_IMAGE_BYTES = 8 * 1024 * 1024
HASHTAG_BUDGET = 30
HASHTAG_WINDOW = timedelta(days=7)
RECENT_MEDIA_WINDOW = timedelta(hours=24)
DEFAULT_VIDEO_DELAY = 5.0
CALLS_PER_HOUR = 4800
# Direct messages (Instagram's messaging API): the answer windows after the
# citizen's latest message, the text limit, and how many of a conversation's
# newest messages the conversations listing gives details of.
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# Meta's page says both "1000 bytes or less" (UTF-8) and "less than 1000
# characters"; the emulator refuses what breaks either, as Kanal does.
MAX_MESSAGE_BYTES = 1000
MAX_MESSAGE_CHARACTERS = 999
MESSAGES_WITH_DETAILS = 20
OUTSIDE_WINDOW = "(#10) This message is sent outside of allowed window."

MEDIA_METRICS = ("views", "reach", "likes", "comments", "saved", "shares",
                 "total_interactions", "profile_visits", "follows",
                 "profile_activity", "replies", "navigation")
ACCOUNT_METRICS = ("reach", "views", "follower_count", "accounts_engaged",
                   "total_interactions", "likes", "comments", "shares", "saves",
                   "replies", "profile_links_taps", "website_clicks",
                   "profile_views", "online_followers")
TOTAL_VALUE_ONLY = frozenset({"views", "accounts_engaged", "total_interactions",
                              "likes", "comments", "shares", "saves", "replies",
                              "profile_links_taps", "website_clicks",
                              "profile_views"})
DEPRECATED_METRICS = frozenset({"impressions", "plays", "clips_replays_count",
                                "ig_reels_aggregated_all_plays_count",
                                "video_views", "email_contacts",
                                "phone_call_clicks", "text_message_clicks",
                                "get_directions_clicks"})

HASHTAG_IN_TEXT = re.compile(r"[#＃](\w+)", re.UNICODE)
MENTION_IN_TEXT = re.compile(r"(?<![\w@])@([\w.]+)", re.UNICODE)
#: Instagram's own words on the errors of ``media_publish``.
PUBLISH_WORDING = {
    "missing": {"user_title": "Media builder not found"},
    "IN_PROGRESS": {"user_title": "Media not ready for publishing",
                    "user_msg": "The media is not ready for publishing, please "
                    "wait for a moment"},
    "EXPIRED": {"user_title": "Media expired",
                "user_msg": "The media you are trying to publish has expired. "
                "Please try again with a new container."},
    "PUBLISHED": {"user_title": "Media already published"},
}


# ==========================================================================
# Graph plumbing shared with the Threads emulator


class Fail(Exception):
    """A Graph error answer, raised anywhere inside a handler."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def fbtrace() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(8)).decode().rstrip("=")


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    is_transient: bool = False,
    user_title: str = "",
    user_msg: str = "",
    headers: dict | None = None,
) -> JSONResponse:
    body: dict = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    body["is_transient"] = is_transient
    if user_title:
        body["error_user_title"] = user_title
    if user_msg:
        body["error_user_msg"] = user_msg
    body["fbtrace_id"] = fbtrace()
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def fail(status: int, code: int, message: str, **kw) -> Fail:
    return Fail(graph_error(status, code, message, **kw))


def unsupported(method: str, node_id: str) -> Fail:
    return fail(
        400, 100,
        f"Unsupported {method.lower()} request. Object with ID '{node_id}' does "
        "not exist, cannot be loaded due to missing permissions, or does not "
        "support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        subcode=33, kind="GraphMethodException",
    )


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_fields(spec: str) -> dict[str, dict | None]:
    """``id,replies{id,text}`` → ``{"id": None, "replies": {"id": None, …}}``.

    Modifiers such as ``.limit(5)`` are dropped.
    """
    fields: dict[str, dict | None] = {}
    depth, start = 0, 0
    parts = []
    for i, char in enumerate(spec):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(spec[start:i])
            start = i + 1
    parts.append(spec[start:])
    for part in parts:
        part = part.strip()
        if not part:
            continue
        name, brace, rest = part.partition("{")
        name = re.sub(r"\..*$", "", name.strip())
        fields[name] = parse_fields(rest[:-1]) if brace else None
    return fields


def select(node: dict, fields: dict[str, dict | None], default: tuple) -> dict:
    """Only the asked-for fields of ``node`` (``id`` always)."""
    wanted = fields or dict.fromkeys(default)
    out = {}
    for name in wanted:
        if name in node and node[name] is not None:
            out[name] = node[name]
    out.setdefault("id", node.get("id"))
    return out


def cursor_of(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def seq_of(cursor: str) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Call:
    """One authenticated request: its parameters, token and pending fault."""

    request: Request
    params: dict
    token: object
    fault: object | None

    @property
    def account_id(self) -> str:
        return getattr(self.token, "account_id", "")

    def get(self, name: str, default: str = "") -> str:
        return str(self.params.get(name, default) or default)


class GraphApi:
    """Authentication, faults and answers in the Graph style for one network."""

    def __init__(self, ctx, network: str, *, rate_limit_code: int = 80002,
                 buc_type: str = "instagram", server_error_code: int = 2) -> None:
        self.ctx = ctx
        self.network = network
        self.rate_limit_code = rate_limit_code
        self.buc_type = buc_type
        self.server_error_code = server_error_code

    @property
    def store(self):
        return self.ctx.store

    async def params(self, request: Request) -> dict:
        params = dict(request.query_params)
        if request.method in ("POST", "DELETE"):
            content_type = request.headers.get("content-type", "")
            if "json" in content_type:
                try:
                    body = json.loads(await request.body() or b"{}")
                except ValueError:
                    body = {}
                if isinstance(body, dict):
                    params.update({k: v for k, v in body.items()})
            elif content_type:
                form = await request.form()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    def authenticate(self, request: Request, params: dict):
        token = str(params.pop("access_token", "") or "")
        header = request.headers.get("authorization", "")
        if not token and header.lower().startswith(("bearer ", "oauth ")):
            token = header.split(" ", 1)[1].strip()
        found, reason = self.store.check_token(self.network, token)
        if reason == "missing":
            raise fail(400, 2500, "An active access token must be used to query "
                       "information about the current user.")
        if reason == "unknown" or reason == "wrong_kind":
            raise fail(400, 190, "Invalid OAuth access token - Cannot parse "
                       "access token")
        if reason == "revoked":
            raise fail(400, 190, "Error validating access token: The session has "
                       "been invalidated because the user changed their password "
                       "or Facebook has changed the session for security reasons.",
                       subcode=460)
        if reason == "expired":
            raise self.expired(found.expires_at)
        return found

    def expired(self, when: datetime | None = None) -> Fail:
        when = when or self.ctx.now()
        return fail(
            400, 190,
            "Error validating access token: Session has expired on "
            f"{when.strftime('%A, %d-%b-%y %H:%M:%S')} UTC. The current time is "
            f"{self.ctx.now().strftime('%A, %d-%b-%y %H:%M:%S')} UTC.",
            subcode=463,
        )

    async def begin(self, request: Request, operation: str, *,
                    account_id: str = "", authenticate: bool = True) -> Call:
        params = await self.params(request)
        token = self.authenticate(request, params) if authenticate else None
        account = account_id or getattr(token, "account_id", "")
        if token is not None:
            self.count_call(request, token.account_id)
        fault = await self.ctx.fault(self.network, operation, account)
        if fault is not None and fault.kind != "timeout_after_create" \
                and not processing_fault(fault):
            raise Fail(self.render_fault(fault, account))
        return Call(request, params, token, fault)

    def count_call(self, request: Request, account_id: str) -> None:
        """Count the call against the account's hourly budget (``calls_per_hour``
        in ``extra``, default 4800), report the usage header on the answer, and
        throttle at 100 % like Meta does."""
        now = self.ctx.now()
        hour = now.strftime("%Y%m%d%H")
        calls = self.store.next_seq(f"{self.network}:calls:{account_id}:{hour}")
        account = self.store.get_account(self.network, account_id)
        limit = max(1, account_setting(account, "calls_per_hour", CALLS_PER_HOUR))
        percent = min(100, calls * 100 // limit)
        usage = {"call_count": percent, "total_cputime": percent // 3,
                 "total_time": percent // 2}
        minutes = 60 - now.minute if percent >= 100 else 0
        if self.buc_type:
            header = {"X-Business-Use-Case-Usage": json.dumps({account_id: [{
                "type": self.buc_type, **usage,
                "estimated_time_to_regain_access": minutes}]})}
        else:
            header = {"X-App-Usage": json.dumps(usage)}
        request.state.usage_headers = header
        if calls > limit:
            raise Fail(self.render_kind("rate_limit",
                                        {"retry_after": minutes * 60}, account_id))

    async def finish_write(self, call: Call) -> None:
        """Hold the answer back after a write when the fault says so."""
        if call.fault is not None and call.fault.kind == "timeout_after_create":
            await self.ctx.sleep(call.fault.delay_ms)

    def owns(self, call: Call, account_id: str) -> None:
        if call.account_id != account_id:
            raise unsupported(call.request.method, account_id)

    async def begin_own(self, request: Request, operation: str) -> Call:
        """``begin`` for an ``/{account_id}/…`` edge, which only a token of
        that account may use (any other is told the node does not exist)."""
        account_id = request.path_params["account_id"]
        call = await self.begin(request, operation, account_id=account_id)
        self.owns(call, account_id)
        return call

    def account_or_404(self, account_id: str):
        account = self.store.get_account(self.network, account_id)
        if account is None:
            raise unsupported("GET", account_id)
        return account

    # -- containers -----------------------------------------------------------

    async def save_container(self, call: Call, account, *, text: str, data: dict,
                             delay: float) -> JSONResponse:
        """Store a container that is ready ``delay`` seconds from now (or ends
        in ``ERROR`` under a processing fault) and answer its id."""
        data["ready_at"] = (self.ctx.now() + timedelta(seconds=delay)).isoformat()
        if call.fault is not None and processing_fault(call.fault):
            data["error"] = PROCESSING_ERROR
        item = self.store.add_item(
            self.network, account.account_id, self.new_id("container"),
            "container", text=text, author_id=account.account_id,
            author_name=account.handle, data=data)
        await self.finish_write(call)
        return JSONResponse({"id": item.item_id})

    async def answer_published(self, call: Call, container, made, *,
                        kind: str) -> JSONResponse:
        """Mark ``container`` published as ``made``, log the write and answer
        the new id."""
        self.store.update_item(self.network, container.item_id,
                               data={"published_id": made.item_id})
        self.store.log_publish(self.network, call.account_id, made.item_id,
                               kind=kind, text=made.text)
        await self.finish_write(call)
        return JSONResponse({"id": made.item_id})

    def render_fault(self, fault, account_id: str) -> JSONResponse:
        return self.render_kind(fault.kind, fault.params or {}, account_id)

    def quota_reached(self) -> Fail:
        return Fail(self.render_kind("quota_exhausted", {}, ""))

    def render_kind(self, kind: str, params: dict, account_id: str) -> JSONResponse:
        if kind == "rate_limit":
            code = int(params.get("code", self.rate_limit_code))
            minutes = max(1, math.ceil(float(params.get("retry_after", 120)) / 60))
            usage = {"call_count": 100, "total_cputime": 38, "total_time": 47}
            if self.buc_type:
                headers = {"X-Business-Use-Case-Usage": json.dumps({
                    account_id or "0": [{
                        "type": self.buc_type, **usage,
                        "estimated_time_to_regain_access": minutes,
                    }]
                })}
                message = ("There have been too many calls to this "
                           f"{self.buc_type.capitalize()} account. Wait a bit and "
                           "try again.")
            else:
                headers = {"X-App-Usage": json.dumps(usage)}
                message = "Application request limit reached"
            return graph_error(400 if self.buc_type else 403, code, message,
                               is_transient=True, headers=headers)
        if kind == "server_error":
            return graph_error(
                500, int(params.get("code", self.server_error_code)),
                "An unexpected error has occurred. Please retry your request "
                "later.", is_transient=True,
            )
        if kind == "expired_token":
            return self.expired().response
        if kind == "policy_block":
            return graph_error(
                400, 368, "The action attempted has been deemed abusive or is "
                "otherwise disallowed", user_title="Action Blocked",
                user_msg="This action was blocked. Please try again later.",
            )
        if kind == "missing_permission":
            return graph_error(403, 10, "(#10) Application does not have "
                               "permission for this action")
        if kind == "duplicate":
            return graph_error(400, 506, "Duplicate status message",
                               user_title="Duplicate Post")
        if kind == "quota_exhausted":
            return graph_error(
                400, 9, "Application request limit reached", subcode=2207042,
                user_title="Publishing limit reached",
                user_msg="The maximum number of posts that were published via "
                "API in 24 hours has been reached.",
            )
        if kind == "invalid_media":
            return graph_error(
                400, 9004, "The media could not be fetched from this uri",
                subcode=2207052, kind="OAuthException",
                user_title="Media download has failed.",
                user_msg="The media URI doesn't meet our requirements.",
            )
        return graph_error(500, 1, "An unknown error has occurred.",
                           is_transient=True)

    # -- answers ----------------------------------------------------------------

    def page(self, request: Request, nodes: list[dict], *, has_more: bool,
             first_seq: int | None, last_seq: int | None) -> dict:
        body: dict = {"data": nodes}
        if nodes and first_seq is not None and last_seq is not None:
            cursors = {"before": cursor_of(first_seq), "after": cursor_of(last_seq)}
            body["paging"] = {"cursors": cursors}
            if has_more:
                query = dict(request.query_params)
                query["after"] = cursors["after"]
                body["paging"]["next"] = str(request.url.replace(
                    query=urlencode(query)))
        return body

    def list_page(self, call: Call, items: list, render: Callable[[object], dict],
                  *, default_limit: int = 25) -> dict:
        """Items (newest first, already filtered) after the ``after`` cursor."""
        after = seq_of(call.get("after"))
        if after is not None:
            items = [i for i in items if i.seq < after]
        try:
            limit = max(1, min(100, int(call.get("limit") or default_limit)))
        except ValueError:
            limit = default_limit
        chunk = items[:limit]
        return self.page(
            call.request, [render(i) for i in chunk], has_more=len(items) > limit,
            first_seq=chunk[0].seq if chunk else None,
            last_seq=chunk[-1].seq if chunk else None,
        )

    def new_id(self, kind: str, account_id: str = "") -> str:
        return self.ctx.new_id(self.network, kind, account_id=account_id)

    # -- tokens -------------------------------------------------------------------

    def issue_token(self, account_id: str, *, ttl: timedelta = TOKEN_TTL,
                    kind: str = "access", issued_at: datetime | None = None,
                    prefix: str = "IGAA") -> tuple[str, datetime]:
        token = self.ctx.token(prefix, 24)
        expires_at = self.ctx.now() + ttl
        issued = issued_at or self.ctx.now()
        self.store.put_token(self.network, token, account_id, kind=kind,
                             expires_at=expires_at,
                             extra={"issued_at": issued.isoformat()})
        return token, expires_at

    def token_age(self, token) -> timedelta:
        issued = token.extra.get("issued_at") if token.extra else None
        moment = datetime.fromisoformat(issued) if issued else token.created_at
        return self.ctx.now() - moment


def processing_fault(fault) -> bool:
    """``invalid_media`` with ``params.phase == "processing"``: the container is
    accepted, then ends in ``ERROR`` (as when Meta cannot process the file)."""
    return fault.kind == "invalid_media" and \
        (fault.params or {}).get("phase") == "processing"


PROCESSING_ERROR = ("The media could not be processed: media download has failed "
                    "(2207052)")


def handler(fn: Callable[[Request], Awaitable]) -> Callable[[Request], Awaitable]:
    async def wrapped(request: Request):
        try:
            response = await fn(request)
        except Fail as e:
            response = e.response
        for name, value in getattr(request.state, "usage_headers", {}).items():
            response.headers.setdefault(name, value)
        return response
    return wrapped


async def fetch_loopback(url: str) -> tuple[int, bytes, str] | None:
    """``(status, bytes, content type)`` for a loopback URL; None for others."""
    if not is_loopback(url):
        return None
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return 0, b"", ""
    return response.status_code, response.content, \
        response.headers.get("content-type", "")


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


def token_routes(api: GraphApi, prefix: str, *, exchange_grant: str,
                 refresh_grant: str, token_prefix: str) -> list[Route]:
    """``/access_token``, ``/refresh_access_token``, ``/oauth/access_token`` and
    a demo ``/oauth/authorize`` that grants at once for the demo account."""
    ctx, network = api.ctx, api.network

    def token_body(token: str, expires_at: datetime | None) -> dict:
        body = {"access_token": token, "token_type": "bearer"}
        if expires_at is not None:
            body["expires_in"] = int((expires_at - ctx.now()).total_seconds())
        return body

    @handler
    async def exchange(request: Request):
        params = await api.params(request)
        fault = await ctx.fault(network, "token", "")
        if params.get("grant_type") != exchange_grant:
            raise fail(400, 100, "Unsupported grant_type")
        if params.get("client_secret") != ctx.config.app_secret:
            raise fail(400, 101, "Error validating client secret.")
        short, reason = api.store.check_token(network, params.get("access_token", ""),
                                              kinds=("short",))
        if reason:
            raise fail(400, 190, "Invalid OAuth access token - Cannot parse "
                       "access token")
        if fault is not None:
            raise Fail(api.render_fault(fault, short.account_id))
        token, expires_at = api.issue_token(short.account_id, prefix=token_prefix)
        return JSONResponse(token_body(token, expires_at))

    @handler
    async def refresh(request: Request):
        params = await api.params(request)
        if params.get("grant_type") != refresh_grant:
            raise fail(400, 100, "Unsupported grant_type")
        current, reason = api.store.check_token(network,
                                                params.get("access_token", ""))
        if reason == "expired":
            raise api.expired(current.expires_at)
        if reason:
            raise fail(400, 190, "Invalid OAuth access token - Cannot parse "
                       "access token")
        fault = await ctx.fault(network, "token", current.account_id)
        if fault is not None:
            raise Fail(api.render_fault(fault, current.account_id))
        if api.token_age(current) < MIN_REFRESH_AGE:
            raise fail(400, 190, "The access token is too young to be refreshed. "
                       "Tokens can be refreshed once they are at least 24 hours "
                       "old.", subcode=467)
        token, expires_at = api.issue_token(current.account_id, prefix=token_prefix)
        return JSONResponse(token_body(token, expires_at))

    @handler
    async def code_exchange(request: Request):
        params = await api.params(request)
        fault = await ctx.fault(network, "token", "")
        if fault is not None:
            raise Fail(api.render_fault(fault, ""))
        if params.get("client_secret") != ctx.config.app_secret:
            raise fail(400, 101, "Error validating client secret.")
        code, reason = api.store.check_token(network, params.get("code", ""),
                                             kinds=("code",))
        if reason:
            raise fail(400, 100, "Invalid authorization code", subcode=36007)
        api.store.revoke_token(network, code.token)
        token, _expires = api.issue_token(code.account_id, ttl=SHORT_TOKEN_TTL,
                                          kind="short", prefix=token_prefix)
        return JSONResponse({"access_token": token, "user_id": code.account_id})

    async def authorize(request: Request):
        q = request.query_params
        redirect = q.get("redirect_uri", "")
        if not redirect:
            return PlainTextResponse("redirect_uri mangler", status_code=400)
        from ..seed import demo_account

        account_id = q.get("account") or demo_account(network)["account_id"]
        code = ctx.token("code-", 12)
        api.store.put_token(network, code, account_id, kind="code",
                            expires_at=ctx.now() + timedelta(minutes=10))
        sep = "&" if "?" in redirect else "?"
        return RedirectResponse(
            f"{redirect}{sep}{urlencode({'code': code, 'state': q.get('state', '')})}",
            status_code=302,
        )

    return [
        Route(f"{prefix}/access_token", exchange, methods=["GET"]),
        Route(f"{prefix}/refresh_access_token", refresh, methods=["GET"]),
        Route(f"{prefix}/oauth/access_token", code_exchange, methods=["GET", "POST"]),
        Route("/access_token", exchange, methods=["GET"]),
        Route("/refresh_access_token", refresh, methods=["GET"]),
        Route("/oauth/access_token", code_exchange, methods=["GET", "POST"]),
        Route("/oauth/authorize", authorize, methods=["GET"]),
    ]


def container_state(ctx, item) -> str:
    data = item.data
    if data.get("published_id"):
        return "PUBLISHED"
    if data.get("error"):
        return "ERROR"
    if ctx.now() >= item.created_at + CONTAINER_TTL:
        return "EXPIRED"
    ready_at = datetime.fromisoformat(data["ready_at"])
    return "FINISHED" if ctx.now() >= ready_at else "IN_PROGRESS"


def carousel_children(ctx, network: str, ids: list[str], **not_ready) -> list[dict]:
    """A carousel's children from the finished carousel-item containers
    ``ids``; ``not_ready`` words the error for one still in progress."""
    children = []
    for child_id in ids:
        child = ctx.store.get_item(network, child_id)
        if child is None or child.kind != "container" or \
                not child.data.get("is_carousel_item"):
            raise fail(400, 24, "The media builder with creation id = "
                       f"{child_id} does not exist.", subcode=2207008)
        if container_state(ctx, child) != "FINISHED":
            raise fail(400, 9007, "Media ID is not available", subcode=2207027,
                       **not_ready)
        children.append({"id": child_id, **{
            k: child.data.get(k) for k in
            ("media_type", "image_url", "video_url", "alt_text")}})
    return children


def publishable_container(ctx, network: str, account_id: str, creation_id: str,
                          *, exception_kind: str, wording: dict[str, dict]):
    """The account's own ``FINISHED`` container ``creation_id``, or the Graph
    error that publishing any other gets; ``wording`` adds the network's own
    ``user_title``/``user_msg`` per case (``"missing"`` or a state)."""
    container = ctx.store.get_item(network, creation_id) if creation_id else None
    if container is None or container.kind != "container" or \
            container.account_id != account_id or \
            container.data.get("is_carousel_item"):
        raise fail(400, 24, "The media builder with creation id = "
                   f"{creation_id} does not exist.", subcode=2207008,
                   **wording.get("missing", {}))
    state = container_state(ctx, container)
    extra = wording.get(state, {})
    if state == "IN_PROGRESS":
        raise fail(400, 9007, "Media ID is not available", subcode=2207027,
                   **extra)
    if state == "EXPIRED":
        raise fail(400, -2, "The media container has expired.", subcode=2207020,
                   kind=exception_kind, **extra)
    if state == "PUBLISHED":
        raise fail(400, 100, "The media container has already been published.",
                   subcode=2207006, kind=exception_kind, **extra)
    if state == "ERROR":
        raise fail(400, -1, "Create media failed", subcode=2207032)
    return container


def quota_used(ctx, network: str, account_id: str, kind: str = "post") -> list:
    since = ctx.now() - QUOTA_WINDOW
    return [r for r in ctx.store.published(network, account_id)
            if r.kind == kind and r.at >= since]


def metric_names(call: Call, allowed: tuple[str, ...], *,
                 deprecated: frozenset[str] = frozenset()) -> list[str]:
    """The asked-for ``metric`` names: one not ``allowed`` is a #100 error,
    which for one in ``deprecated`` also says it is no longer supported."""
    names = [m.strip() for m in call.get("metric").split(",") if m.strip()]
    if not names:
        raise fail(400, 100, "The parameter metric is required")
    for index, name in enumerate(names):
        if name in deprecated or name not in allowed:
            explained = {"user_title": "Deprecated metric",
                         "user_msg": f"{name} is no longer supported; use views."
                         } if name in deprecated else {}
            raise fail(400, 100, f"(#100) metric[{index}] must be one of the "
                       f"following values: {', '.join(allowed)}", **explained)
    return names


async def fetch_media(url: str, **wording) -> bytes | None:
    """The bytes at a loopback ``url``, or None for any other (accepted
    unseen: the sandbox never reaches the internet); a failed fetch is Meta's
    9004/2207052, with the network's own ``wording``."""
    fetched = await fetch_loopback(url)
    if fetched is None:
        return None
    status, data, _content_type = fetched
    if status != 200 or not data:
        raise fail(400, 9004, "The media could not be fetched from this uri",
                   subcode=2207052, user_title="Media download has failed.",
                   **wording)
    return data


def account_setting(account, name: str, default):
    value = (account.extra or {}).get(name) if account else None
    return default if value is None else type(default)(value)


# ==========================================================================
# Instagram


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    if kind == "account":
        return str(ctx.store.next_seq("instagram:account", start=17841400000100001))
    return str(ctx.store.next_seq("instagram:id", start=17900000000000001))


def provision(ctx, account, body: dict) -> dict:
    """An Instagram-login token issued two days ago (so it may be refreshed)."""
    return provision_long_lived_token(ctx, account, body, network=NETWORK,
                                      prefix="IGAA")


def provision_long_lived_token(ctx, account, body: dict, *, network: str,
                               prefix: str) -> dict:
    """A 60-day token issued two days ago (Instagram and Threads alike), so
    the adapter's "refresh only when ≥ 24 h old" rule lets it be refreshed."""
    expires_in = body.get("expires_in", int(TOKEN_TTL.total_seconds()))
    issued = ctx.now() - timedelta(days=2)
    token = body.get("access_token") or ctx.token(prefix, 24)
    expires_at = ctx.now() + timedelta(seconds=int(expires_in)) \
        if expires_in is not None else None
    ctx.store.put_token(network, token, account.account_id, kind="access",
                        expires_at=expires_at,
                        extra={"issued_at": issued.isoformat()})
    return {
        "access_token": token,
        "issued_at": issued.isoformat(),
        "expires_at": expires_at.isoformat() if expires_at else "",
        "client_id": "kanal-sandbox-app",
        "client_secret": ctx.config.app_secret,
    }


def username_of(name: str) -> str:
    cleaned = re.sub(r"[^\w.]", "", name.lower().replace(" ", "."), flags=re.UNICODE)
    return cleaned or "borger"


def citizen_item(ctx, *, kind, account_id, text, parent_id, root_id, author_id,
                 author_name, data):
    store = ctx.store
    root = ""
    parent = store.get_item(NETWORK, parent_id) if parent_id else None
    if kind == "mention" and parent is not None:
        # A comment of a citizen's, under someone else's media, that names
        # the account: a mention ``data.in == "comment"``, rooted on the media.
        return store.add_item(
            NETWORK, account_id, new_id(ctx, "comment"), "mention", text=text,
            parent_id=parent.item_id, root_id=parent.item_id,
            author_id=author_id, author_name=author_name,
            data={"username": username_of(author_name), **(data or {}),
                  "in": "comment"},
        )
    if parent is not None:
        account_id = account_id or parent.account_id
        if parent.kind == "post":
            kind = "comment"
            root = parent.item_id
        else:
            kind = "reply"
            # Instagram has one level of replies: a reply to a reply hangs on
            # the top-level comment.
            if parent.kind == "reply":
                parent = store.get_item(NETWORK, parent.parent_id) or parent
            root = parent.root_id or parent.parent_id
    item_data = {"username": username_of(author_name), **(data or {})}
    return store.add_item(
        NETWORK, account_id, new_id(ctx, kind), kind, text=text,
        parent_id=parent.item_id if parent else "", root_id=root,
        author_id=author_id, author_name=author_name, data=item_data,
    )


def on_citizen_item(ctx, item) -> None:
    if item.kind in ("comment", "reply"):
        value = {
            "from": {"id": item.author_id, "username": item.data.get("username")},
            "media": {"id": item.root_id, "media_product_type": "FEED"},
            "id": item.item_id,
            "text": item.text,
        }
        if item.kind == "reply":
            value["parent_id"] = item.parent_id
        field = "comments"
    elif item.kind == "mention":
        # Only ids, as Meta sends them: Kanal reads the text back.
        value = ({"comment_id": item.item_id, "media_id": item.root_id}
                 if in_comment(item) else {"media_id": item.item_id})
        field = "mentions"
    elif item.kind == "message":
        when = int(item.created_at.timestamp() * 1000)
        ctx.webhooks.send(NETWORK, {"object": "instagram", "entry": [{
            "id": item.account_id, "time": when,
            "messaging": [{
                "sender": {"id": item.author_id},
                "recipient": {"id": item.account_id},
                "timestamp": when,
                "message": {"mid": message_mid(item.item_id), "text": item.text},
            }],
        }]})
        return
    else:
        return
    ctx.webhooks.send(NETWORK, {
        "object": "instagram",
        "entry": [{
            "id": item.account_id,
            "time": int(ctx.now().timestamp()),
            "changes": [{"field": field, "value": value}],
        }],
    })


def in_comment(item) -> bool:
    """Whether a mention is in a comment (else in a caption)."""
    return (item.data or {}).get("in") == "comment"


#: ``mentioned_comment.comment_id(17890…)`` in a ``fields`` parameter.
MENTIONED = re.compile(r"\b(mentioned_comment|mentioned_media)\."
                       r"(comment_id|media_id)\(([^()]*)\)")


def message_mid(item_id: str) -> str:
    """A direct message's id as Instagram shows it (webhook ``mid`` and the
    conversations listing alike): base64-looking, never the store's id."""
    return f"aWdfZAG1faXRlbToxOk{item_id}"


def thread_id(account_id: str, citizen_id: str) -> str:
    """The conversation between the account and one citizen."""
    raw = f"ig_thread:{account_id}:{citizen_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def routes(ctx) -> list[Route]:
    api = GraphApi(ctx, NETWORK, rate_limit_code=80002, buc_type="instagram",
                   server_error_code=2)
    store = ctx.store
    v = f"/{VERSION}"

    def permalink(item) -> str:
        return ctx.public_url(f"/_sandbox/page/{NETWORK}/{item.account_id}"
                              f"?p={item.item_id}")

    def media_node(item) -> dict:
        children = item.data.get("children") or []
        media_type = item.data.get("media_type", "IMAGE")
        comments = store.list_items(NETWORK, root_id=item.item_id,
                                    kind=["comment", "reply"])
        node = {
            "id": item.item_id,
            "caption": item.text,
            "media_type": media_type,
            "media_product_type": item.data.get("media_product_type", "FEED"),
            "media_url": item.data.get("media_url", ""),
            "permalink": permalink(item),
            "timestamp": graph_time(item.created_at),
            "like_count": store.metrics(NETWORK, item.item_id).get("likes", 0),
            "comments_count": len(comments),
            "is_comment_enabled": True,
        }
        account = store.get_account(NETWORK, item.account_id)
        if account is not None:
            node["username"] = account.handle
            node["owner"] = {"id": account.account_id}
        if children:
            node["children"] = {"data": [{"id": c["id"]} for c in children]}
        return node

    def comment_node(item, fields: dict) -> dict:
        node = {
            "id": item.item_id,
            "text": item.text,
            "timestamp": graph_time(item.created_at),
            "username": item.data.get("username") or item.author_name,
            "from": {"id": item.author_id,
                     "username": item.data.get("username") or item.author_name},
            "hidden": item.hidden,
            "like_count": store.metrics(NETWORK, item.item_id).get("likes", 0),
            "media": {"id": item.root_id},
        }
        if item.kind == "reply":
            node["parent_id"] = item.parent_id
        sub = fields.get("replies") if fields else None
        if fields and "replies" in fields and item.kind == "comment":
            replies = store.list_items(NETWORK, parent_id=item.item_id,
                                       kind="reply", newest_first=False)
            node["replies"] = {"data": [select(comment_node(r, sub or {}),
                                               sub or {}, ("id", "text",
                                                           "timestamp"))
                                        for r in replies]}
        return node

    def account_node(account) -> dict:
        posts = store.list_items(NETWORK, account_id=account.account_id,
                                 kind="post")
        return {
            "id": account.account_id,
            "ig_id": int(account.account_id[-10:]) if account.account_id[-10:]
            .isdigit() else 0,
            "username": account.handle,
            "name": account.display_name,
            "followers_count": account.followers,
            "follows_count": int(account.extra.get("follows_count", 120)),
            "media_count": len(posts),
            "biography": account.extra.get("biography", ""),
            "website": account.extra.get("website", "https://www.kk.dk"),
            "profile_picture_url": ctx.public_url("/_sandbox/media/square.jpg"),
        }

    # -- containers and publishing ----------------------------------------------

    async def check_media_url(url: str, *, video: bool) -> None:
        data = await fetch_media(
            url, user_msg="The media URI doesn't meet our requirements.")
        if data is None or video:
            return
        if not data.startswith(b"\xff\xd8"):
            raise fail(400, 9004, "Only photo or video can be accepted as media "
                       "type.", subcode=2207026,
                       user_title="Unsupported format",
                       user_msg="The image format is not supported. Use JPEG.")
        if len(data) > MAX_IMAGE_BYTES:
            raise fail(400, 36000, "Image size too large", subcode=2207004,
                       user_title="The image is too large to download.",
                       user_msg="It should be less than 8 MiB.")
        size = image_size(data)
        if size:
            ratio = size[0] / size[1]
            if ratio < 0.8 - 1e-3 or ratio > 1.91 + 1e-3:
                raise fail(400, 36003, "Invalid image aspect ratio",
                           subcode=2207009,
                           user_title="The aspect ratio is not supported.",
                           user_msg="The submitted image with aspect ratio "
                           f"('{size[0]}/{size[1]}') cannot be published. Please "
                           "submit an image with a valid aspect ratio.")

    def check_caption(caption: str) -> None:
        if len(caption) > MAX_CAPTION:
            raise fail(400, 100, "The caption is too long.", subcode=2207010,
                       user_title="Caption too long",
                       user_msg=f"Captions can have at most {MAX_CAPTION} "
                       "characters.")
        if len(set(HASHTAG_IN_TEXT.findall(caption))) > MAX_HASHTAGS:
            raise fail(400, 100, "Too many hashtags", subcode=2207010,
                       user_msg=f"At most {MAX_HASHTAGS} hashtags.")
        if len(set(MENTION_IN_TEXT.findall(caption))) > MAX_MENTIONS:
            raise fail(400, 100, "Too many mentions", subcode=2207010,
                       user_msg=f"At most {MAX_MENTIONS} @ tags.")

    @handler
    async def create_container(request: Request):
        call = await api.begin_own(request, "media")
        account_id = call.account_id
        account = api.account_or_404(account_id)
        media_type = call.get("media_type").upper()
        carousel_item = call.get("is_carousel_item").lower() == "true"
        caption = call.get("caption")
        data: dict = {"caption": caption, "is_carousel_item": carousel_item}
        delay = account_setting(account, "container_delay_seconds", 0.0)
        if media_type == "CAROUSEL":
            ids = [c.strip() for c in call.get("children").split(",") if c.strip()]
            if not 2 <= len(ids) <= MAX_CHILDREN:
                raise fail(400, 100, "Invalid parameter", subcode=2207010,
                           user_msg=f"A carousel needs 2 to {MAX_CHILDREN} "
                           "children.")
            children = carousel_children(ctx, NETWORK, ids,
                                         user_title="Media not ready")
            data.update(media_type="CAROUSEL", children=children)
            check_caption(caption)
        elif media_type in ("REELS", "VIDEO", "STORIES"):
            url = call.get("video_url")
            if not url:
                raise fail(400, 100, "The parameter video_url is required")
            await check_media_url(url, video=True)
            data.update(media_type="VIDEO", video_url=url,
                        product="STORY" if media_type == "STORIES" else "REELS")
            delay = account_setting(account, "video_delay_seconds",
                                    DEFAULT_VIDEO_DELAY)
            check_caption(caption)
        elif media_type in ("", "IMAGE"):
            url = call.get("image_url")
            if not url:
                raise fail(400, 100, "The parameter image_url is required")
            await check_media_url(url, video=False)
            data.update(media_type="IMAGE", image_url=url,
                        alt_text=call.get("alt_text"))
            check_caption(caption)
        else:
            raise fail(400, 100, f"Invalid media_type {media_type}")
        return await api.save_container(call, account, text=caption, data=data,
                                        delay=delay)

    @handler
    async def media_publish(request: Request):
        call = await api.begin_own(request, "publish")
        account_id = call.account_id
        account = api.account_or_404(account_id)
        container = publishable_container(
            ctx, NETWORK, account_id, call.get("creation_id"),
            exception_kind="IGApiException", wording=PUBLISH_WORDING)
        quota = account_setting(account, "quota_total", DEFAULT_QUOTA)
        if len(quota_used(ctx, NETWORK, account_id)) >= quota:
            raise api.quota_reached()
        data = container.data
        media_data = {
            "container_id": container.item_id,
            "media_type": "CAROUSEL_ALBUM" if data["media_type"] == "CAROUSEL"
            else data["media_type"],
            "media_product_type": data.get("product", "FEED"),
            "media_url": data.get("image_url") or data.get("video_url", ""),
            "alt_text": data.get("alt_text", ""),
            "children": [
                {**child, "id": new_id(ctx, "media")}
                for child in data.get("children", [])
            ],
        }
        media = store.add_item(NETWORK, account_id, new_id(ctx, "post"), "post",
                               text=container.text, author_id=account_id,
                               author_name=account.handle, data=media_data)
        return await api.answer_published(call, container, media, kind="post")

    @handler
    async def publishing_limit(request: Request):
        call = await api.begin_own(request, "metrics")
        account_id = call.account_id
        account = api.account_or_404(account_id)
        fields = parse_fields(call.get("fields") or "quota_usage")
        quota = account_setting(account, "quota_total", DEFAULT_QUOTA)
        entry: dict = {"quota_usage": len(quota_used(ctx, NETWORK, account_id))}
        if "config" in fields:
            entry["config"] = {"quota_total": quota,
                               "quota_duration": int(QUOTA_WINDOW.total_seconds())}
        return JSONResponse({"data": [entry]})

    @handler
    async def own_media(request: Request):
        call = await api.begin_own(request, "inbox")
        account_id = call.account_id
        fields = parse_fields(call.get("fields"))
        items = store.list_items(NETWORK, account_id=account_id, kind="post",
                                 author_id=account_id)
        return JSONResponse(api.list_page(
            call, items, lambda i: select(media_node(i), fields, ("id",))))

    @handler
    async def tags(request: Request):
        call = await api.begin_own(request, "inbox")
        account_id = call.account_id
        fields = parse_fields(call.get("fields"))
        items = [i for i in store.list_items(NETWORK, account_id=account_id,
                                             kind="mention") if not in_comment(i)]

        def render(item) -> dict:
            return select({
                "id": item.item_id, "caption": item.text,
                "timestamp": graph_time(item.created_at),
                "username": item.data.get("username") or item.author_name,
                "permalink": permalink(item), "media_type": "IMAGE",
            }, fields, ("id",))

        return JSONResponse(api.list_page(call, items, render))

    # -- nodes ------------------------------------------------------------------

    @handler
    async def node(request: Request):
        node_id = request.path_params["node_id"]
        method = request.method
        account = store.get_account(NETWORK, node_id)
        item = store.get_item(NETWORK, node_id, include_deleted=False)
        if method == "GET":
            # A mention's read-back on the account's node reads the inbox.
            reads_mention = bool(MENTIONED.search(request.query_params.get(
                "fields", "")))
            operation = "verify" if account and not reads_mention else (
                "media" if item and item.kind == "container" else "inbox")
        elif method == "DELETE":
            operation = "delete"
        else:
            operation = "hide"
        owner = account.account_id if account else (item.account_id if item else "")
        call = await api.begin(request, operation, account_id=owner)
        fields = parse_fields(call.get("fields"))
        if account is not None:
            if method != "GET":
                raise unsupported(method, node_id)
            asked = MENTIONED.search(call.get("fields"))
            if asked:
                return JSONResponse(mentioned(account, *asked.groups(), fields))
            return JSONResponse(select(account_node(account), fields,
                                       ("id", "username")))
        hashtag = hashtag_by_id(node_id)
        if hashtag and method == "GET":
            return JSONResponse(select({"id": node_id, "name": hashtag}, fields,
                                       ("id", "name")))
        if item is None:
            raise unsupported(method, node_id)
        if item.account_id != call.account_id:
            raise unsupported(method, node_id)
        if item.kind == "container":
            if method != "GET":
                raise unsupported(method, node_id)
            state = container_state(ctx, item)
            status = {"FINISHED": "Finished", "IN_PROGRESS": "In Progress",
                      "PUBLISHED": "Published", "EXPIRED": "Expired",
                      "ERROR": f"Error: {item.data.get('error', '')}"}[state]
            return JSONResponse(select(
                {"id": item.item_id, "status_code": state, "status": status},
                fields, ("id",)))
        if method == "DELETE":
            store.delete_item(NETWORK, item.item_id)
            await api.finish_write(call)
            return JSONResponse({"success": True})
        if item.kind in ("comment", "reply"):
            if method == "POST":
                hide = call.get("hide").lower()
                if hide not in ("true", "false"):
                    raise fail(400, 100, "The parameter hide is required")
                store.update_item(NETWORK, item.item_id, hidden=hide == "true")
                return JSONResponse({"success": True})
            unknown = [f for f in fields if f not in (
                "id", "text", "timestamp", "username", "from", "hidden",
                "like_count", "media", "parent_id", "replies", "user")]
            if unknown:
                raise fail(400, 100, f"Tried accessing nonexisting field "
                           f"({unknown[0]}) on node type (IGComment)")
            return JSONResponse(select(comment_node(item, fields), fields,
                                       ("id", "text", "timestamp")))
        if method == "POST":
            raise unsupported(method, node_id)
        return JSONResponse(select(media_node(item), fields, ("id",)))

    def mentioned(account, edge: str, key: str, wanted: str, fields) -> dict:
        """Meta's Mentions read-back on the account's node: the comment
        (``mentioned_comment.comment_id(…)``) or caption
        (``mentioned_media.media_id(…)``) of someone else's that names the
        account. One that is deleted, names another account, or is not of
        that kind is Graph's "does not exist" (400, #100/33)."""
        item = store.get_item(NETWORK, wanted, include_deleted=False)
        comment = edge == "mentioned_comment"
        if (item is None or item.kind != "mention"
                or item.account_id != account.account_id
                or in_comment(item) != comment
                or key != ("comment_id" if comment else "media_id")):
            raise unsupported("GET", wanted)
        username = item.data.get("username") or item.author_name
        node = {"id": item.item_id, "timestamp": graph_time(item.created_at),
                "username": username}
        if comment:
            media = store.get_item(NETWORK, item.root_id)
            node.update(text=item.text, like_count=0, hidden=item.hidden,
                        media={"id": item.root_id,
                               "permalink": permalink(media) if media else ""})
        else:
            node.update(caption=item.text, media_type="IMAGE",
                        permalink=permalink(item), comments_count=0,
                        like_count=store.metrics(NETWORK, item.item_id).get(
                            "likes", 0))
        sub = fields.get(edge) or {}
        if "media" in sub and comment:
            node["media"] = select(node["media"], sub["media"] or {}, ("id",))
        return {edge: select(node, sub, ("id",)), "id": account.account_id}

    # -- comments ------------------------------------------------------------------

    def answers_edge(parent_kind: str, kind: str):
        """``/{node}/comments`` of media (``kind="comment"``) or
        ``/{node}/replies`` of a comment (``kind="reply"``): GET lists them,
        POST writes the account's own."""

        @handler
        async def edge(request: Request):
            node_id = request.path_params["node_id"]
            item = store.get_item(NETWORK, node_id)
            owner = item.account_id if item else ""
            call = await api.begin(request, "inbox" if request.method == "GET"
                                   else "reply", account_id=owner)
            parent = store.get_item(NETWORK, node_id, include_deleted=False)
            if parent is None or parent.kind != parent_kind or \
                    parent.account_id != call.account_id:
                raise unsupported(call.request.method, node_id)
            if request.method == "POST":
                message = call.get("message").strip()
                if not message:
                    raise fail(400, 100, "The parameter message is required")
                account = api.account_or_404(call.account_id)
                root = parent.item_id if parent_kind == "post" else (
                    parent.root_id or parent.parent_id)
                made = store.add_item(
                    NETWORK, parent.account_id, new_id(ctx, kind), kind,
                    text=message, parent_id=parent.item_id, root_id=root,
                    author_id=call.account_id, author_name=account.handle,
                    data={"username": account.handle},
                )
                store.log_publish(NETWORK, call.account_id, made.item_id,
                                  kind="reply", text=made.text)
                await api.finish_write(call)
                return JSONResponse({"id": made.item_id})
            fields = parse_fields(call.get("fields"))
            items = store.list_items(NETWORK, parent_id=parent.item_id, kind=kind)
            return JSONResponse(api.list_page(
                call, items, lambda i: select(comment_node(i, fields), fields,
                                              ("id", "text", "timestamp"))))

        return edge

    comments = answers_edge("post", "comment")
    replies = answers_edge("comment", "reply")


    # -- direct messages ---------------------------------------------------------

    def message_node(item, account) -> dict:
        own = item.kind == "account_message"
        citizen = item.data.get("recipient_id") if own else item.author_id
        citizen_name = item.data.get("username") or username_of(item.author_name)
        you = {"id": account.account_id, "username": account.handle}
        them = {"id": citizen, "username": citizen_name}
        return {
            "id": message_mid(item.item_id),
            "created_time": graph_time(item.created_at),
            "from": you if own else them,
            "to": {"data": [them if own else you]},
            "message": item.text,
        }

    @handler
    async def conversations(request: Request):
        call = await api.begin_own(request, "inbox")
        account = api.account_or_404(call.account_id)
        if call.get("platform") != "instagram":
            raise fail(400, 100, "(#100) The parameter platform is required and "
                       "must be instagram")
        fields = parse_fields(call.get("fields"))
        threads: dict[str, list] = {}
        for item in store.list_items(NETWORK, account_id=account.account_id,
                                     kind=("message", "account_message")):
            citizen = item.data.get("recipient_id") \
                if item.kind == "account_message" else item.author_id
            threads.setdefault(citizen, []).append(item)
        wanted = call.get("user_id")
        if wanted:
            threads = {wanted: threads[wanted]} if wanted in threads else {}
        listed = sorted(threads.items(), key=lambda t: t[1][0].seq, reverse=True)
        nodes = []
        for citizen, items in listed:
            node: dict = {"id": thread_id(account.account_id, citizen),
                          "updated_time": graph_time(items[0].created_at)}
            if "messages" in fields:
                sub = fields.get("messages") or {}
                # Instagram gives details of the 20 newest messages only.
                node["messages"] = {"data": [
                    select(message_node(m, account), sub, ("id", "created_time"))
                    for m in items[:MESSAGES_WITH_DETAILS]]}
            nodes.append(select(node, fields, ("id", "updated_time")))
        return JSONResponse({"data": nodes})

    @handler
    async def send_message(request: Request):
        """The Send API: a text answer to a citizen who wrote to the account,
        within Instagram's windows; logged as ``message``."""
        call = await api.begin_own(request, "message")
        account = api.account_or_404(call.account_id)
        try:
            recipient = json.loads(call.get("recipient") or "{}")
            content = json.loads(call.get("message") or "{}")
        except ValueError:
            raise fail(400, 100, "(#100) Param recipient and message must be "
                       "JSON objects") from None
        if not isinstance(recipient, dict) or not isinstance(content, dict):
            raise fail(400, 100, "(#100) Param recipient and message must be "
                       "JSON objects")
        igsid = str(recipient.get("id") or "")
        text = content.get("text")
        kind = call.get("messaging_type") or "RESPONSE"
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            raise fail(400, 100, "(#100) Param messaging_type must be one of "
                       "{RESPONSE, UPDATE, MESSAGE_TAG}")
        if not isinstance(text, str) or not text.strip():
            raise fail(400, 100, "(#100) Param message[text] must be non-empty")
        if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise fail(400, 100, "(#100) Length of param message[text] must be "
                       f"less than or equal to {MAX_MESSAGE_BYTES}")
        if len(text) > MAX_MESSAGE_CHARACTERS:
            raise fail(400, 100, "(#100) Param message[text] must be less than "
                       f"{MAX_MESSAGE_CHARACTERS + 1} characters")
        theirs = store.list_items(NETWORK, account_id=account.account_id,
                                  kind="message", author_id=igsid, limit=1) \
            if igsid else []
        if not theirs:
            raise fail(400, 100, "(#100) No matching user found", subcode=2534014)
        tagged = kind == "MESSAGE_TAG" and call.get("tag") == "HUMAN_AGENT"
        if kind == "MESSAGE_TAG" and not tagged:
            raise fail(400, 100, "(#100) Param tag must be HUMAN_AGENT")
        age = ctx.now() - theirs[0].created_at
        if age > (HUMAN_AGENT_WINDOW if tagged else STANDARD_WINDOW):
            raise fail(400, 10, OUTSIDE_WINDOW, subcode=2534022)
        made = store.add_item(
            NETWORK, account.account_id, new_id(ctx, "message"), "account_message",
            text=text, author_id=account.account_id, author_name=account.handle,
            data={"recipient_id": igsid, "messaging_type": kind,
                  "tag": call.get("tag"),
                  "username": theirs[0].data.get("username", "")},
        )
        mid = message_mid(made.item_id)
        store.log_publish(NETWORK, account.account_id, mid, kind="message",
                          text=text)
        # Instagram tells the app of its own messages too, marked is_echo.
        when = int(made.created_at.timestamp() * 1000)
        ctx.webhooks.send(NETWORK, {"object": "instagram", "entry": [{
            "id": account.account_id, "time": when, "messaging": [{
                "sender": {"id": account.account_id},
                "recipient": {"id": igsid}, "timestamp": when,
                "message": {"mid": mid, "text": text, "is_echo": True},
            }],
        }]})
        await api.finish_write(call)
        return JSONResponse({"recipient_id": igsid, "message_id": mid})

    # -- insights -------------------------------------------------------------------

    def media_metric(item, name: str) -> int:
        stored = store.metrics(NETWORK, item.item_id)
        comments = len(store.list_items(NETWORK, root_id=item.item_id,
                                        kind=["comment", "reply"]))
        values = {
            "views": stored.get("views", 0),
            "reach": stored.get("reach", 0),
            "likes": stored.get("likes", 0),
            "comments": comments,
            "saved": stored.get("saves", stored.get("saved", 0)),
            "shares": stored.get("shares", 0),
        }
        values["total_interactions"] = (values["likes"] + values["comments"]
                                        + values["saved"] + values["shares"])
        return values.get(name, stored.get(name, 0))

    @handler
    async def insights(request: Request):
        node_id = request.path_params["node_id"]
        account = store.get_account(NETWORK, node_id)
        item = None if account else store.get_item(NETWORK, node_id,
                                                   include_deleted=False)
        owner = account.account_id if account else (item.account_id if item else "")
        call = await api.begin(request, "metrics", account_id=owner)
        if account is not None:
            api.owns(call, account.account_id)
            names = metric_names(call, ACCOUNT_METRICS, deprecated=DEPRECATED_METRICS)
            total = call.get("metric_type") == "total_value"
            needs_total = [n for n in names if n in TOTAL_VALUE_ONLY]
            if needs_total and not total:
                raise fail(400, 100, "The following metrics "
                           f"({', '.join(needs_total)}) should be specified with "
                           "parameter metric_type=total_value")
            posts = store.list_items(NETWORK, account_id=account.account_id,
                                     kind="post", author_id=account.account_id)
            stored = store.metrics(NETWORK, account.account_id)
            data = []
            for name in names:
                if name in stored:
                    value = stored[name]
                elif name == "follower_count":
                    value = 0
                else:
                    source = {"saves": "saved"}.get(name, name)
                    value = sum(media_metric(p, source) for p in posts)
                entry = {"name": name, "period": call.get("period") or "day",
                         "title": name.replace("_", " ").capitalize(),
                         "description": "", "id":
                         f"{account.account_id}/insights/{name}/day"}
                if total:
                    entry["total_value"] = {"value": value}
                else:
                    entry["values"] = [{"value": value,
                                        "end_time": graph_time(ctx.now())}]
                data.append(entry)
            return JSONResponse({"data": data})
        if item is None or item.kind != "post" or item.account_id != call.account_id:
            raise unsupported("GET", node_id)
        names = metric_names(call, MEDIA_METRICS, deprecated=DEPRECATED_METRICS)
        return JSONResponse({"data": [
            {"name": name, "period": "lifetime",
             "values": [{"value": media_metric(item, name)}],
             "title": name.replace("_", " ").capitalize(), "description": "",
             "id": f"{item.item_id}/insights/{name}/lifetime"}
            for name in names
        ]})

    # -- hashtags ----------------------------------------------------------------------

    def hashtag_by_id(hashtag_id: str) -> str:
        return (store.kv_get(NETWORK, "hashtag_names", {}) or {}).get(hashtag_id, "")

    def hashtag_id_for(name: str) -> str:
        ids = store.kv_get(NETWORK, "hashtag_ids", {}) or {}
        if name not in ids:
            ids[name] = new_id(ctx, "hashtag")
            store.kv_set(NETWORK, "hashtag_ids", ids)
            names = store.kv_get(NETWORK, "hashtag_names", {}) or {}
            names[ids[name]] = name
            store.kv_set(NETWORK, "hashtag_names", names)
        return ids[name]

    def searches(account_id: str) -> dict[str, str]:
        window_start = ctx.now() - HASHTAG_WINDOW
        found = store.kv_get(NETWORK, f"hashtag_searches:{account_id}", {}) or {}
        return {name: at for name, at in found.items()
                if datetime.fromisoformat(at) >= window_start}

    @handler
    async def hashtag_search(request: Request):
        call = await api.begin(request, "hashtag")
        user_id = call.get("user_id")
        api.owns(call, user_id)
        name = call.get("q").lstrip("#").strip().lower()
        if not name or not re.fullmatch(r"\w+", name):
            raise fail(400, 100, "Invalid parameter", subcode=2207030,
                       user_msg="Hashtags may only contain letters, numbers and "
                       "underscores.")
        done = searches(user_id)
        if name not in done:
            budget = account_setting(store.get_account(NETWORK, user_id),
                                     "hashtag_budget", HASHTAG_BUDGET)
            if len(done) >= budget:
                raise fail(400, 100, "The user has reached the limit of "
                           f"{budget} unique hashtags searched in the past 7 "
                           "days.", subcode=2207034,
                           user_title="Hashtag search limit reached")
            done[name] = ctx.now().isoformat()
            store.kv_set(NETWORK, f"hashtag_searches:{user_id}", done)
        return JSONResponse({"data": [{"id": hashtag_id_for(name)}]})

    @handler
    async def recently_searched(request: Request):
        call = await api.begin_own(request, "hashtag")
        account_id = call.account_id
        done = searches(account_id)
        fields = parse_fields(call.get("fields") or "id")
        return JSONResponse({"data": [
            select({"id": hashtag_id_for(name), "name": name}, fields, ("id",))
            for name in sorted(done, key=done.get, reverse=True)
        ]})

    @handler
    async def hashtag_media(request: Request):
        hashtag_id = request.path_params["hashtag_id"]
        edge = request.path_params["edge"]
        name = hashtag_by_id(hashtag_id)
        call = await api.begin(request, "hashtag")
        api.owns(call, call.get("user_id"))
        if not name or edge not in ("recent_media", "top_media"):
            raise unsupported("GET", hashtag_id)
        fields = parse_fields(call.get("fields"))
        pattern = re.compile(rf"[#＃]{re.escape(name)}(?!\w)", re.IGNORECASE)
        items = [
            i for i in store.list_items(NETWORK, kind="post")
            if pattern.search(i.text)
        ]
        if edge == "recent_media":
            since = ctx.now() - RECENT_MEDIA_WINDOW
            items = [i for i in items if i.created_at >= since]
        else:
            items.sort(key=lambda i: -media_metric(i, "total_interactions"))

        def render(item) -> dict:
            node = media_node(item)
            node.pop("username", None)
            node.pop("owner", None)
            return select(node, fields, ("id",))

        return JSONResponse(api.list_page(call, items, render, default_limit=25))

    # -- likes by the account ---------------------------------------------------------

    @handler
    async def likes(request: Request):
        """``POST``/``DELETE /{ig-user-id}/likes`` with ``comment_id`` or
        ``media_id`` (not both): the account likes (or unlikes) a comment,
        reply or media; liking what is liked has no effect."""
        account_id = request.path_params["account_id"]
        call = await api.begin(request, "like", account_id=account_id)
        if call.account_id != account_id:
            raise unsupported(request.method, account_id)
        comment_id, media_id = call.get("comment_id"), call.get("media_id")
        if bool(comment_id) == bool(media_id):
            raise fail(400, 100, "Provide either media_id or comment_id, but not "
                       "both")
        kinds = ("comment", "reply") if comment_id else ("post", "mention")
        target = store.get_item(NETWORK, comment_id or media_id,
                                include_deleted=False)
        if target is None or target.kind not in kinds:
            raise unsupported(request.method, comment_id or media_id)
        set_like(store, NETWORK, target, account_id, request.method == "POST")
        await api.finish_write(call)
        return JSONResponse({"success": True})

    # -- catch-all ---------------------------------------------------------------------

    @handler
    async def unknown(request: Request):
        raise unsupported(request.method, request.path_params.get("rest", ""))

    edge_routes = [
        Route(v + "/ig_hashtag_search", hashtag_search, methods=["GET"]),
        Route(v + "/{account_id}/media", own_media, methods=["GET"]),
        Route(v + "/{account_id}/media", create_container, methods=["POST"]),
        Route(v + "/{account_id}/media_publish", media_publish, methods=["POST"]),
        Route(v + "/{account_id}/content_publishing_limit", publishing_limit,
              methods=["GET"]),
        Route(v + "/{account_id}/tags", tags, methods=["GET"]),
        Route(v + "/{account_id}/conversations", conversations, methods=["GET"]),
        Route(v + "/{account_id}/messages", send_message, methods=["POST"]),
        Route(v + "/{account_id}/likes", likes, methods=["POST", "DELETE"]),
        Route(v + "/{account_id}/recently_searched_hashtags", recently_searched,
              methods=["GET"]),
        Route(v + "/{node_id}/comments", comments, methods=["GET", "POST"]),
        Route(v + "/{node_id}/replies", replies, methods=["GET", "POST"]),
        Route(v + "/{node_id}/insights", insights, methods=["GET"]),
        Route(v + "/{hashtag_id}/{edge}", hashtag_media, methods=["GET"]),
    ]
    return [
        *token_routes(api, v, exchange_grant="ig_exchange_token",
                      refresh_grant="ig_refresh_token", token_prefix="IGAA"),
        *edge_routes,
        Route(v + "/{node_id}", node, methods=["GET", "POST", "DELETE"]),
        Route("/{rest:path}", unknown, methods=["GET", "POST", "DELETE"]),
    ]


# -- demo data ------------------------------------------------------------------

DEMO_POSTS = [
    {
        "caption": "Havnebadet på Islands Brygge er åbent igen 🌊 Tjek "
                   "vandkvaliteten, før du hopper i: kk.dk/badevand "
                   "#voreskbh #sommerikbh",
        "days_ago": 2, "image": "square.jpg",
        "alt": "Badegæster på trapperne ved Islands Brygge Havnebad i solskin",
        "metrics": {"views": 4210, "reach": 3180, "likes": 312, "saves": 41,
                    "shares": 23},
        "comments": [
            ("Mette Holm", "Hvornår lukker badet om aftenen?",
             "Badet er åbent til kl. 19 på hverdage og kl. 20 i weekenden."),
            ("Jonas Berg", "Verdens bedste by om sommeren 😍", ""),
        ],
    },
    {
        "caption": "Kulturnatten 2026: over 250 arrangementer i hele byen, fra "
                   "biblioteker til badeanstalter. Programmet finder du via "
                   "linket i profilen #kulturnat #voreskbh",
        "days_ago": 5, "image": "landscape.jpg",
        "alt": "Rådhuspladsen om aftenen med lys og mange mennesker",
        "metrics": {"views": 6830, "reach": 5120, "likes": 488, "saves": 97,
                    "shares": 61},
        "comments": [
            ("Sofie Lund", "Er der noget for børn på Hovedbiblioteket?",
             "Ja! Der er højtlæsning og værksted fra kl. 17."),
        ],
    },
    {
        "caption": "Tak for jeres input til høringen om nye cykelstier på "
                   "Nørrebro 🚲 Anlægsarbejdet begynder i foråret. #voreskbh",
        "days_ago": 9, "image": "portrait.jpg",
        "alt": "Cyklister på Nørrebrogade en morgen",
        "metrics": {"views": 2950, "reach": 2400, "likes": 190, "saves": 12,
                    "shares": 9},
        "comments": [("Ali Karimi", "Endelig! Kommer der også cykelparkering?",
                      "")],
    },
]
DEMO_PUBLIC_POSTS = [
    ("Ida Sørensen", "Morgensvømning i havnen før arbejde #voreskbh", 3),
    ("Peter Vang", "Fantastisk aften til kulturnatten #kulturnat #voreskbh", 20),
]


def seed(ctx) -> None:
    """Posts, comments and public hashtag posts for the demo account."""
    from ..seed import demo_account

    store = ctx.store
    demo = demo_account(NETWORK)
    account_id, handle = demo["account_id"], demo["handle"]
    now = ctx.now()
    for post in DEMO_POSTS:
        at = now - timedelta(days=post["days_ago"])
        url = ctx.public_url(f"/_sandbox/media/{post['image']}")
        media = store.add_item(
            NETWORK, account_id, new_id(ctx, "post"), "post",
            text=post["caption"], author_id=account_id, author_name=handle,
            created_at=at,
            data={"media_type": "IMAGE", "media_product_type": "FEED",
                  "media_url": url, "alt_text": post["alt"], "children": []},
        )
        for name, value in post["metrics"].items():
            store.set_metric(NETWORK, media.item_id, name, value)
        for minutes, (author, text, answer) in enumerate(post["comments"], 1):
            comment = store.add_item(
                NETWORK, account_id, new_id(ctx, "comment"), "comment",
                text=text, parent_id=media.item_id, root_id=media.item_id,
                author_id=f"citizen-{username_of(author)}", author_name=author,
                created_at=at + timedelta(minutes=17 * minutes),
                data={"username": username_of(author)},
            )
            if answer:
                store.add_item(
                    NETWORK, account_id, new_id(ctx, "reply"), "reply",
                    text=answer, parent_id=comment.item_id,
                    root_id=media.item_id, author_id=account_id,
                    author_name=handle,
                    created_at=at + timedelta(minutes=17 * minutes + 40),
                    data={"username": handle},
                )
    for author, text, hours_ago in DEMO_PUBLIC_POSTS:
        user = username_of(author)
        store.add_item(NETWORK, f"citizen-{user}", new_id(ctx, "post"), "post",
                       text=text, author_id=f"citizen-{user}", author_name=author,
                       created_at=now - timedelta(hours=hours_ago),
                       data={"username": user, "media_type": "IMAGE"})
    store.add_item(NETWORK, account_id, new_id(ctx, "mention"), "mention",
                   text="Tak til @kobenhavnskommune for de nye bænke i "
                   "Fælledparken 🌳", author_id="citizen-lars.moeller",
                   author_name="Lars Møller",
                   created_at=now - timedelta(days=1),
                   data={"username": "lars.moeller"})


def page_post(ctx, item) -> dict:
    """Images and alt texts of a post for the citizen page."""
    data = item.data or {}
    children = data.get("children") or []
    if children:
        media = [{"url": c.get("image_url") or c.get("video_url") or "",
                  "alt": c.get("alt_text") or ""} for c in children]
    elif data.get("media_url"):
        media = [{"url": data["media_url"], "alt": data.get("alt_text") or ""}]
    else:
        media = []
    return {"media": media}


def owner_message(ctx, account_id: str, recipient_id: str, text: str):
    """Someone at the account answers ``recipient_id`` in the Instagram app,
    not through the API: Instagram sends the app its echo (``is_echo``, the
    account as sender, the citizen as recipient), as for an answer sent by
    the API. Not in the publish log: no API call wrote it."""
    made = ctx.store.add_item(
        NETWORK, account_id, new_id(ctx, "message"), "account_message",
        text=text, author_id=account_id,
        data={"recipient_id": recipient_id, "written_in_app": True},
    )
    millis = int(made.created_at.timestamp() * 1000)
    ctx.webhooks.send(NETWORK, {"object": "instagram", "entry": [{
        "id": account_id, "time": millis, "messaging": [{
            "sender": {"id": account_id}, "recipient": {"id": recipient_id},
            "timestamp": millis,
            "message": {"mid": message_mid(made.item_id), "text": text,
                        "is_echo": True},
        }],
    }]})
    return made
