"""Facebook Pages: the Graph API as far as Kanal uses it (PLATFORMS.md §1).

Mounted at ``/facebook``; the version is part of the path
(``/facebook/v25.0/{page-id}/feed``) and any ``vNN.0`` is accepted. Errors use
the Graph envelope; throttling comes back as HTTP 400/403 with the usage
headers, as Meta does.

Ids: a page post is ``{page-id}_{n}``, a photo ``{n}``, a comment
``{post-n}_{n}``. The sandbox item id is the Graph id. A video published with
``/{page-id}/videos`` is a post whose id is the video id ``{n}``. A citizen's
direct message is stored with id ``{n}`` and shown as ``m_{n}`` in a Messenger
conversation ``t_{…}`` (one per citizen) on ``/{page-id}/conversations``.
The page answers through the Send API (``POST /{page-id}/messages``); an
answer is an item ``kind="page_message"`` (``data.recipient_id``) in the
citizen's conversation, logged as ``message``. Messenger's windows apply:
``RESPONSE`` within 24 hours of the citizen's latest message, ``MESSAGE_TAG``
with ``HUMAN_AGENT`` within 7 days; otherwise code 10, subcode 2018278.

The page's own likes (``/{object-id}/likes``) are the liked object's
``data["liked_by"]`` (``sandbox/likes.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from sandbox.likes import set_like

from .instagram import fetch_loopback

NETWORK = "facebook"
APP_ID = "kanal-sandbox-app"
MAX_MESSAGE = 63206
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
MESSAGES_PER_CONVERSATION = 25
MAX_MESSAGE_TEXT = 2000  # Send API: text messages up to 2,000 characters
LONG_LIVED_SECONDS = 5183944
SHORT_LIVED_SECONDS = 3600
DUPLICATE_WINDOW = timedelta(minutes=10)
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
OUTSIDE_WINDOW = ("(#10) This message is sent outside of allowed window. Learn "
                  "more about the new policy here: https://developers.facebook.com"
                  "/docs/messenger-platform/policy-overview")
ID_START = 122_100_000_000_000_001

PAGE_METRICS = {
    "page_media_view", "page_total_media_view_unique", "page_follows",
    "page_daily_follows_unique", "page_daily_unfollows_unique",
    "page_post_engagements", "page_views_total", "page_video_views",
}
POST_METRICS = {
    "post_media_view", "post_total_media_view_unique", "post_clicks",
    "post_reactions_like_total", "post_reactions_by_type_total",
    "post_video_views",
}
# Replaced by views/follows (2024-03, 2025-06 and 2025-11-15): now invalid.
DEPRECATED_METRICS = {
    "page_impressions", "page_impressions_unique", "page_impressions_paid",
    "page_fans", "page_fans_city", "page_engaged_users", "page_consumptions",
    "post_impressions", "post_impressions_unique", "post_engaged_users",
    "post_impressions_paid", "post_consumptions",
}
PERIODS = {"day", "week", "days_28", "lifetime", "total_over_range"}

_usage_lock = threading.Lock()
_usage: dict[str, int] = defaultdict(int)


# --------------------------------------------------------------------------
# The Graph envelope


class GraphError(Exception):
    def __init__(self, code: int, message: str, *, subcode: int | None = None,
                 status: int = 400, kind: str = "OAuthException",
                 transient: bool = False, user_title: str = "",
                 user_msg: str = "", headers: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode = code, message, subcode
        self.status, self.kind, self.transient = status, kind, transient
        self.user_title, self.user_msg = user_title, user_msg
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        error = {
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "is_transient": self.transient,
            "fbtrace_id": "A" + secrets.token_urlsafe(14),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title:
            error["error_user_title"] = self.user_title
            error["error_user_msg"] = self.user_msg
        return JSONResponse({"error": error}, status_code=self.status,
                            headers=self.headers)


def invalid_param(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, message, subcode=subcode)


def not_found(object_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this "
        "operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        subcode=33, kind="GraphMethodException",
    )


def usage_headers(account_id: str, *, percent: int | None = None,
                  regain_minutes: int = 0) -> dict[str, str]:
    with _usage_lock:
        _usage[account_id] += 1
        calls = _usage[account_id]
    used = percent if percent is not None else min(95, calls // 20)
    buc = {account_id or "0": [{
        "type": "pages", "call_count": used, "total_cputime": max(1, used // 2),
        "total_time": max(1, used // 2),
        "estimated_time_to_regain_access": regain_minutes,
    }]}
    app = {"call_count": used, "total_cputime": max(1, used // 3),
           "total_time": max(1, used // 3)}
    return {"X-Business-Use-Case-Usage": json.dumps(buc, separators=(",", ":")),
            "X-App-Usage": json.dumps(app, separators=(",", ":")),
            "facebook-api-version": "v25.0"}


def fault_error(fault, account_id: str) -> GraphError:
    """The Graph answer for an injected fault (``params`` may set ``code``)."""
    kind, params = fault.kind, fault.params
    if kind == "rate_limit":
        code = int(params.get("code", 32))
        minutes = int(params.get("regain_minutes", 5))
        messages = {
            4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached",
            32: "(#32) Page request limit reached",
            613: "(#613) Calls to this api have exceeded the rate limit.",
        }
        return GraphError(
            code, messages.get(code, messages[32]),
            status=403 if code == 4 else 400, transient=True,
            headers=usage_headers(account_id, percent=100 + code % 7,
                                  regain_minutes=minutes),
        )
    if kind == "quota_exhausted":
        return GraphError(
            80001, "(#80001) There have been too many calls to this Page "
            "account. Wait a bit and try again.", transient=True,
            headers=usage_headers(account_id, percent=100, regain_minutes=60),
        )
    if kind == "server_error":
        if params.get("code") == 2:
            return GraphError(2, "An unexpected error has occurred. Please retry "
                              "your request later.", status=503, transient=True)
        return GraphError(1, "An unknown error occurred", status=500,
                          transient=True)
    if kind == "expired_token":
        return expired_token_error()
    if kind == "policy_block":
        return GraphError(
            368, "The action attempted has been deemed abusive or is otherwise "
            "disallowed", user_title="Du er midlertidigt blokeret",
            user_msg="It looks like you were misusing this feature by going too "
            "fast. You've been temporarily blocked from using it.",
        )
    if kind == "missing_permission":
        return GraphError(230, "(#230) Requires pages_messaging permission to "
                          "manage the object", status=403)
    if kind == "duplicate":
        return GraphError(506, "(#506) Duplicate status message")
    if kind == "invalid_media":
        return GraphError(324, "(#324) Missing or invalid image file")
    raise ValueError(kind)


def expired_token_error(expired_at: datetime | None = None) -> GraphError:
    when = (expired_at or datetime.now(UTC)).strftime("%A, %d-%b-%y %H:%M:%S UTC")
    return GraphError(
        190, f"Error validating access token: Session has expired on {when}. "
        "The current time is later.", subcode=463, status=400,
    )


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("+0000", "+00:00"))
    except ValueError as e:
        raise invalid_param(f"(#100) Invalid time value '{value}'") from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def split_fields(value: str | None) -> list[str]:
    """Top-level names of a ``fields`` value (``a,b{c,d},e.summary(true)``)."""
    if not value:
        return []
    names, depth, current = [], 0, ""
    for char in value:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [re.split(r"[.{(]", n.strip(), maxsplit=1)[0] for n in names if n.strip()]


# --------------------------------------------------------------------------
# The module's hooks


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    number = ctx.store.next_seq("facebook:object", start=ID_START)
    if kind == "account":
        return str(100_000_000_000_000 + number % 10**14)
    if kind == "post":
        return f"{account_id}_{number}"
    if kind in ("comment", "reply"):
        parent = ctx.store.get_item(NETWORK, parent_id) if parent_id else None
        root = (parent.root_id or parent.item_id) if parent else parent_id
        return f"{root.rpartition('_')[2] or root}_{number}"
    if kind == "mention":
        return f"{100_000_000_000 + number % 10**11}_{number}"
    return str(number)


def provision(ctx, account, body: dict) -> dict:
    store = ctx.store
    user_id = account.extra.get("user_id") or str(
        100_090_000_000_000 + store.next_seq("facebook:user"))
    store.update_account(NETWORK, account.account_id, extra={"user_id": user_id})
    page_token = body.get("access_token") or ctx.token("EAAKsbxPage")
    user_token = ctx.token("EAAKsbxUser")
    store.put_token(NETWORK, page_token, account.account_id, kind="page")
    expires_in = body.get("expires_in", LONG_LIVED_SECONDS)
    user_expiry = (ctx.now() + timedelta(seconds=int(expires_in))
                   if expires_in is not None else None)
    store.put_token(NETWORK, user_token, account.account_id, kind="user",
                    expires_at=user_expiry)
    return {
        "access_token": page_token,
        "page_token": page_token,
        "user_token": user_token,
        "user_token_expires_at": user_expiry.isoformat() if user_expiry else "",
        "client_id": APP_ID,
        "client_secret": ctx.config.app_secret,
        "user_id": user_id,
    }


def citizen_item(ctx, *, kind, account_id, text, parent_id, root_id, author_id,
                 author_name, data):
    store = ctx.store
    if parent_id:
        parent = store.get_item(NETWORK, parent_id)
        if parent is not None:
            root_id = parent.root_id or parent.item_id
            account_id = account_id or parent.account_id
            kind = "comment" if parent.kind == "post" else "reply"
    item_id = new_id(ctx, kind, account_id=account_id, parent_id=parent_id)
    return store.add_item(
        NETWORK, account_id, item_id, kind, text=text, parent_id=parent_id,
        root_id=root_id, author_id=author_id, author_name=author_name,
        data={**data, "from_citizen": True},
    )


def on_citizen_item(ctx, item) -> None:
    """Pages webhooks: ``feed`` for comments, ``mention`` for tags."""
    epoch = int(item.created_at.timestamp())
    if item.kind in ("comment", "reply"):
        change = {"field": "feed", "value": {
            "from": {"id": item.author_id, "name": item.author_name},
            "post": {"id": item.root_id, "status_type": "mobile_status_update",
                     "is_published": True},
            "message": item.text, "post_id": item.root_id,
            "comment_id": item.item_id, "created_time": epoch,
            "item": "comment", "parent_id": item.parent_id, "verb": "add",
        }}
    elif item.kind == "message":
        millis = int(item.created_at.timestamp() * 1000)
        ctx.webhooks.send(NETWORK, {"object": "page", "entry": [{
            "id": item.account_id, "time": millis, "messaging": [{
                "sender": {"id": item.author_id},
                "recipient": {"id": item.account_id}, "timestamp": millis,
                "message": {"mid": f"m_{item.item_id}", "text": item.text},
            }],
        }]})
        return
    elif item.kind == "mention":
        change = {"field": "mention", "value": {
            "post_id": item.item_id, "sender_id": item.author_id,
            "sender_name": item.author_name, "item": "post", "verb": "add",
            "message": item.text, "created_time": epoch,
        }}
    else:
        return
    ctx.webhooks.send(NETWORK, {"object": "page", "entry": [
        {"id": item.account_id, "time": epoch, "changes": [change]}
    ]})


GENERIC_TO_GRAPH = {
    "views": ("post_media_view", "page_media_view"),
    "reach": ("post_total_media_view_unique", "page_total_media_view_unique"),
    "likes": ("post_reactions_like_total", "page_post_engagements"),
    "clicks": ("post_clicks", "page_post_engagements"),
    "shares": ("shares", "page_post_engagements"),
}


def citizen_metrics(ctx, post, deltas: dict) -> None:
    """Citizens' growth, under Graph's own metric names (post and page)."""
    for generic, (post_name, page_name) in GENERIC_TO_GRAPH.items():
        delta = int(deltas.get(generic) or 0)
        if delta:
            ctx.store.add_metric(NETWORK, post.item_id, post_name, delta)
            ctx.store.add_metric(NETWORK, post.account_id, page_name, delta)


def page_post(ctx, item) -> dict:
    """What the citizen page shows: the text, the attached photos, the link."""
    video = item.data.get("video")
    if video:
        return {"text": item.text, "link": "", "media": [
            {"url": video.get("file_url", ""), "alt": "Video"}]}
    media = []
    for photo_id in item.data.get("attached_media") or []:
        photo = ctx.store.get_item(NETWORK, photo_id)
        if photo is not None:
            media.append({"url": photo_url(ctx, photo),
                          "alt": photo.data.get("alt_text_custom", "")})
    return {"text": item.text, "media": media, "link": item.data.get("link", "")}


def is_video(content: bytes) -> bool:
    """MP4 and QuickTime files start with a box whose type is ``ftyp``."""
    return content[4:8] == b"ftyp"


def json_param(value) -> dict:
    """A Graph parameter sent as JSON text in a form (or as a JSON object)."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value or "{}"))
    except ValueError as e:
        raise invalid_param("(#100) Param must be a JSON object") from e
    if not isinstance(parsed, dict):
        raise invalid_param("(#100) Param must be a JSON object")
    return parsed


def thread_id(author_id: str) -> str:
    digest = hashlib.sha256(author_id.encode()).hexdigest()
    return f"t_{int(digest[:13], 16)}"


def media_dir(ctx) -> Path | None:
    if ctx.config.db_path == ":memory:":
        return None
    return Path(ctx.config.db_path).parent / "sandbox-media" / NETWORK


def photo_url(ctx, photo) -> str:
    if photo.data.get("stored"):
        return ctx.public_url(f"/facebook/media/{photo.item_id}")
    return photo.data.get("url") or ctx.public_url("/_sandbox/media/landscape.jpg")


# --------------------------------------------------------------------------
# Routes


def routes(ctx) -> list[Route]:
    store = ctx.store
    version = "{version:str}"

    async def params_of(request: Request) -> dict:
        params: dict = dict(request.query_params)
        if request.method in ("POST", "DELETE"):
            content_type = request.headers.get("content-type", "")
            if content_type.startswith("application/json"):
                try:
                    body = await request.json()
                except ValueError as e:
                    raise invalid_param("(#100) The request body is not valid "
                                        "JSON") from e
                if isinstance(body, dict):
                    params.update(body)
            elif content_type.startswith(("multipart/form-data",
                                          "application/x-www-form-urlencoded")):
                form = await request.form(max_part_size=MAX_PHOTO_BYTES * 2)
                for key, value in form.multi_items():
                    params[key] = value
        header = request.headers.get("authorization", "")
        if not params.get("access_token") and " " in header:
            params["access_token"] = header.split(" ", 1)[1].strip()
        return params

    def authenticate(params: dict, kinds=("page", "user")):
        token, reason = store.check_token(NETWORK, str(params.get("access_token",
                                                                  "")), kinds)
        if reason == "missing":
            raise GraphError(104, "An access token is required to request this "
                             "resource.")
        if reason == "unknown":
            raise GraphError(190, "Invalid OAuth access token - Cannot parse "
                             "access token")
        if reason == "wrong_kind":
            raise GraphError(190, "Invalid OAuth access token for this call.",
                             subcode=467)
        if reason == "revoked":
            raise GraphError(190, "Error validating access token: The session "
                             "has been invalidated because the user changed "
                             "their password.", subcode=460)
        if reason == "expired":
            raise expired_token_error(token.expires_at)
        return token

    def require_page(token, page_id: str) -> None:
        if token.kind != "page" or token.account_id != page_id:
            raise GraphError(
                200, "(#200) If posting to a page, requires both "
                "pages_read_engagement and pages_manage_posts as an admin with "
                "sufficient administrative permission", kind="OAuthException",
                status=403,
            )

    async def guard(params: dict, operation: str, account_id: str) -> object:
        fault = await ctx.fault(NETWORK, operation, account_id)
        if fault is not None and fault.kind != "timeout_after_create":
            raise fault_error(fault, account_id)
        return fault

    def answer(body, account_id: str, status: int = 200) -> JSONResponse:
        return JSONResponse(body, status_code=status,
                            headers=usage_headers(account_id))

    def handler(fn):
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request, await params_of(request))
            except GraphError as e:
                return e.response()
        return endpoint

    def post_json(item, fields: list[str]) -> dict:
        account = store.get_account(NETWORK, item.account_id)
        full = {
            "id": item.item_id,
            "message": item.text,
            "created_time": graph_time(item.created_at),
            # An edit in Facebook's own app (the control API) moves it.
            "updated_time": graph_time(
                datetime.fromisoformat(item.data["edited_at"])
                if item.data.get("edited_at") else item.created_at),
            "permalink_url": ctx.public_url(
                f"/_sandbox/page/facebook/{item.account_id}#{item.item_id}"),
            "is_published": item.data.get("is_published", True),
            "is_pinned": bool(item.data.get("pinned")),
            "status_type": "added_video" if item.data.get("video")
            else "added_photos" if item.data.get("attached_media")
            else ("shared_story" if item.data.get("link") else
                  "mobile_status_update"),
            "from": {"id": item.author_id or item.account_id,
                     "name": item.author_name or (account.display_name
                                                  if account else "")},
            "shares": {"count": store.metrics(NETWORK, item.item_id).get(
                "shares", 0)},
        }
        if item.data.get("link"):
            full["link"] = item.data["link"]
        if item.data.get("scheduled_publish_time"):
            full["scheduled_publish_time"] = item.data["scheduled_publish_time"]
        if "comments" in fields:
            count = len(store.list_items(NETWORK, root_id=item.item_id))
            full["comments"] = {"data": [], "summary": {
                "order": "ranked", "total_count": count, "can_comment": True}}
        if "reactions" in fields or "likes" in fields:
            likes = store.metrics(NETWORK, item.item_id).get(
                "post_reactions_like_total", 0)
            full["reactions"] = {"data": [], "summary": {"total_count": likes}}
        if "attachments" in fields and item.data.get("attached_media"):
            full["attachments"] = {"data": [{
                "type": "album" if len(item.data["attached_media"]) > 1 else "photo",
                "subattachments": {"data": [
                    {"target": {"id": m}, "type": "photo"}
                    for m in item.data["attached_media"]
                ]},
            }]}
        return pick(full, fields)

    def comment_json(item, fields: list[str]) -> dict:
        full = {
            "id": item.item_id,
            "message": item.text,
            "created_time": graph_time(item.created_at),
            "from": {"id": item.author_id, "name": item.author_name},
            "is_hidden": item.hidden,
            "can_hide": item.author_id != item.account_id,
            "permalink_url": ctx.public_url(
                f"/_sandbox/page/facebook/{item.account_id}#{item.item_id}"),
            "like_count": 0,
            "comment_count": len(store.list_items(NETWORK,
                                                  parent_id=item.item_id)),
        }
        if item.parent_id and item.parent_id != item.root_id:
            full["parent"] = {"id": item.parent_id}
        return pick(full, fields)

    def pick(full: dict, fields: list[str]) -> dict:
        if not fields:
            return {k: full[k] for k in ("id", "message", "created_time")
                    if k in full}
        return {k: full[k] for k in ["id", *fields] if k in full}

    def paged(items, request: Request, render, *, limit: int) -> dict:
        after = request.query_params.get("after")
        if after:
            try:
                boundary = int(base64.urlsafe_b64decode(after.encode()).decode())
            except ValueError as e:
                raise invalid_param("(#100) Invalid cursor") from e
            items = [i for i in items if i.seq < boundary]
        page = items[:limit]
        body = {"data": [render(i) for i in page]}
        if page:
            cursors = {
                "before": base64.urlsafe_b64encode(str(page[0].seq).encode()).decode(),
                "after": base64.urlsafe_b64encode(str(page[-1].seq).encode()).decode(),
            }
            body["paging"] = {"cursors": cursors}
            if len(items) > limit:
                query = dict(request.query_params)
                query["after"] = cursors["after"]
                body["paging"]["next"] = (
                    f"{ctx.config.base_url}{request.url.path}?{urlencode(query)}"
                )
        return body

    def limit_of(params: dict, default: int = 25) -> int:
        try:
            return max(1, min(100, int(params.get("limit", default))))
        except ValueError as e:
            raise invalid_param("(#100) Param limit must be a number") from e

    # -- pages: feed, photos ------------------------------------------------

    async def create_post(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        token = authenticate(params)
        require_page(token, page_id)
        fault = await guard(params, "publish", page_id)
        message = str(params.get("message", ""))
        link = str(params.get("link", ""))
        media = []
        for key in sorted(k for k in params if k.startswith("attached_media")):
            try:
                entry = json.loads(params[key])
                media.append(str(entry["media_fbid"]))
            except (ValueError, KeyError, TypeError) as e:
                raise invalid_param(f"(#100) param {key} must be a JSON object "
                                    "with media_fbid") from e
        if not (message or link or media):
            raise invalid_param("(#100) Missing message or attachment")
        if len(message) > MAX_MESSAGE:
            raise invalid_param("(#100) The message is too long", subcode=1349174)
        for photo_id in media:
            photo = store.get_item(NETWORK, photo_id, include_deleted=False)
            if photo is None or photo.account_id != page_id or photo.kind != "media":
                raise invalid_param(f"(#100) Invalid media_fbid {photo_id}")
        published = str(params.get("published", "true")).lower() != "false"
        scheduled = params.get("scheduled_publish_time")
        data = {"link": link, "attached_media": media, "is_published": published}
        if scheduled:
            when = parse_since(str(scheduled))
            if published or not (timedelta(minutes=10) <= when - ctx.now()
                                 <= timedelta(days=30)):
                raise invalid_param(
                    "(#100) The specified scheduled publish time is invalid.")
            data["scheduled_publish_time"] = int(when.timestamp())
        recent = store.list_items(NETWORK, account_id=page_id, kind="post",
                                  since=ctx.now() - DUPLICATE_WINDOW)
        if message and any(p.text == message and p.data.get("link", "") == link
                           for p in recent):
            raise GraphError(506, "(#506) Duplicate status message")
        account = store.get_account(NETWORK, page_id)
        item = store.add_item(
            NETWORK, page_id, new_id(ctx, "post", account_id=page_id), "post",
            text=message, root_id="", author_id=page_id,
            author_name=account.display_name if account else "", data=data,
        )
        for photo_id in media:
            store.update_item(NETWORK, photo_id, parent_id=item.item_id,
                              data={"published": True, "post_id": item.item_id})
        if published:
            store.log_publish(NETWORK, page_id, item.item_id, kind="post",
                              text=message)
        if fault is not None:
            await ctx.sleep(fault.delay_ms)
        return answer({"id": item.item_id}, page_id)

    async def upload_photo(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        token = authenticate(params)
        require_page(token, page_id)
        published = str(params.get("published", "true")).lower() != "false"
        fault = await guard(params, "publish" if published else "media", page_id)
        source = params.get("source")
        if isinstance(source, UploadFile):
            content = await source.read()
            mime = source.content_type or ""
        elif params.get("url"):
            content, mime = b"", "image/jpeg"
        else:
            raise GraphError(324, "(#324) Requires upload file")
        if source is not None and not is_image(content):
            raise GraphError(324, "(#324) Missing or invalid image file")
        if len(content) > MAX_PHOTO_BYTES:
            raise GraphError(100, "(#100) Photo file is too large", subcode=2069019)
        caption = str(params.get("caption") or params.get("message") or "")
        photo = store.add_item(
            NETWORK, page_id, new_id(ctx, "media", account_id=page_id), "media",
            text=caption, author_id=page_id,
            data={"published": published, "bytes": len(content), "mime": mime,
                  "url": str(params.get("url", "")),
                  "alt_text_custom": str(params.get("alt_text_custom", ""))},
        )
        folder = media_dir(ctx)
        if content and folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / photo.item_id).write_bytes(content)
            photo = store.update_item(NETWORK, photo.item_id, data={"stored": True})
        body = {"id": photo.item_id}
        if published:
            account = store.get_account(NETWORK, page_id)
            post = store.add_item(
                NETWORK, page_id, new_id(ctx, "post", account_id=page_id), "post",
                text=caption, author_id=page_id,
                author_name=account.display_name if account else "",
                data={"attached_media": [photo.item_id], "is_published": True},
            )
            store.update_item(NETWORK, photo.item_id, parent_id=post.item_id,
                              data={"post_id": post.item_id})
            store.log_publish(NETWORK, page_id, post.item_id, kind="post",
                              text=caption)
            body["post_id"] = post.item_id
        if fault is not None:
            await ctx.sleep(fault.delay_ms)
        return answer(body, page_id)

    async def upload_video(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        token = authenticate(params)
        require_page(token, page_id)
        fault = await guard(params, "publish", page_id)
        file_url = str(params.get("file_url", ""))
        source = params.get("source")
        if isinstance(source, UploadFile):
            content = await source.read()
        elif file_url:
            # Meta fetches file_url itself; the sandbox only fetches loopback.
            fetched = await fetch_loopback(file_url)
            content = b"\0\0\0\x18ftypmp42"
            if fetched is not None:
                status, content, _ = fetched
                if status != 200 or not content:
                    raise GraphError(389, "(#389) Unable to fetch video file "
                                     "from URL.")
        else:
            raise invalid_param("(#100) Requires one of the params: source, "
                                "file_url")
        if not is_video(content):
            raise GraphError(352, "(#352) Sorry, the video file you selected is "
                             "in a format that we don't support.")
        if len(content) > MAX_VIDEO_BYTES:
            raise GraphError(382, "(#382) The video file you tried to upload is "
                             "too large.")
        description = str(params.get("description", ""))
        if len(description) > MAX_MESSAGE:
            raise invalid_param("(#100) The description is too long")
        published = str(params.get("published", "true")).lower() != "false"
        account = store.get_account(NETWORK, page_id)
        item = store.add_item(
            NETWORK, page_id, new_id(ctx, "video", account_id=page_id), "post",
            text=description, author_id=page_id,
            author_name=account.display_name if account else "",
            data={"video": {"file_url": file_url, "bytes": len(content)},
                  "is_published": published},
        )
        if published:
            store.log_publish(NETWORK, page_id, item.item_id, kind="post",
                              text=description)
        if fault is not None:
            await ctx.sleep(fault.delay_ms)
        return answer({"id": item.item_id}, page_id)

    async def conversations(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        token = authenticate(params)
        require_page(token, page_id)
        await guard(params, "inbox", page_id)
        if params.get("platform", "messenger") != "messenger":
            return answer({"data": []}, page_id)
        by_author: dict[str, list] = defaultdict(list)
        for message in store.list_items(NETWORK, account_id=page_id,
                                        kind=("message", "page_message")):
            # The page's answers belong to the citizen they went to.
            citizen = message.data.get("recipient_id") or message.author_id
            by_author[citizen].append(message)
        wanted = str(params.get("user_id") or "")
        if wanted:
            by_author = {wanted: by_author[wanted]} if by_author.get(wanted) else {}
        threads = []
        for author_id, messages in by_author.items():
            messages.sort(key=lambda m: m.seq, reverse=True)
            threads.append(SimpleNamespace(seq=messages[0].seq, author_id=author_id,
                                           messages=messages))
        threads.sort(key=lambda t: t.seq, reverse=True)
        fields = split_fields(params.get("fields")) or ["link", "updated_time"]

        def render(thread):
            shown = thread.messages[:MESSAGES_PER_CONVERSATION]
            full = {
                "id": thread_id(thread.author_id),
                "link": f"/{page_id}/inbox/{thread_id(thread.author_id)}",
                "updated_time": graph_time(thread.messages[0].created_at),
                "message_count": len(thread.messages),
                "unread_count": len(thread.messages),
                "messages": {"data": [{
                    "id": f"m_{m.item_id}", "message": m.text,
                    "from": {"name": m.author_name,
                             "email": f"{m.author_id}@facebook.com",
                             "id": m.author_id},
                    "created_time": graph_time(m.created_at),
                } for m in shown]},
            }
            return {k: full[k] for k in ["id", *fields] if k in full}

        return answer(paged(threads, request, render, limit=limit_of(params)),
                      page_id)

    async def send_message(request: Request, params: dict) -> Response:
        """The Send API: a text answer to a citizen who wrote to the page."""
        page_id = request.path_params["object_id"]
        token = authenticate(params)
        require_page(token, page_id)
        fault = await guard(params, "message", page_id)
        recipient = json_param(params.get("recipient"))
        content = json_param(params.get("message"))
        psid = str(recipient.get("id") or "")
        text = str(content.get("text") or "")
        kind = str(params.get("messaging_type") or "")
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            raise invalid_param("(#100) Param messaging_type must be one of "
                                "{RESPONSE, UPDATE, MESSAGE_TAG}")
        if not text:
            raise invalid_param("(#100) Param message must be non-empty")
        if len(text) > MAX_MESSAGE_TEXT:
            raise invalid_param("(#100) Length of param message[text] must be "
                                f"less than or equal to {MAX_MESSAGE_TEXT}")
        theirs = store.list_items(NETWORK, account_id=page_id, kind="message",
                                  author_id=psid, limit=1) if psid else []
        if not theirs:
            raise invalid_param("(#100) No matching user found", subcode=2018001)
        age = ctx.now() - theirs[0].created_at
        tagged = kind == "MESSAGE_TAG" and params.get("tag") == "HUMAN_AGENT"
        if kind == "MESSAGE_TAG" and not tagged:
            raise invalid_param("(#100) Param tag must be HUMAN_AGENT here")
        if age > (HUMAN_AGENT_WINDOW if tagged else STANDARD_WINDOW):
            raise GraphError(10, OUTSIDE_WINDOW, subcode=2018278, status=400)
        account = store.get_account(NETWORK, page_id)
        item = store.add_item(
            NETWORK, page_id, new_id(ctx, "page_message"), "page_message",
            text=text, author_id=page_id,
            author_name=account.display_name if account else "",
            data={"recipient_id": psid, "messaging_type": kind,
                  "tag": str(params.get("tag") or "")},
        )
        store.log_publish(NETWORK, page_id, f"m_{item.item_id}", kind="message",
                          text=text)
        if fault is not None:
            await ctx.sleep(fault.delay_ms)
        return answer({"recipient_id": psid, "message_id": f"m_{item.item_id}"},
                      page_id)

    async def list_posts(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        edge = request.path_params["edge"]
        authenticate(params)
        await guard(params, "inbox", page_id)
        since = parse_since(params.get("since"))
        until = parse_since(params.get("until"))
        posts = store.list_items(NETWORK, account_id=page_id, kind="post",
                                 since=since)
        if until is not None:
            posts = [p for p in posts if p.created_at <= until]
        if edge == "scheduled_posts":
            posts = [p for p in posts if p.data.get("scheduled_publish_time")]
        elif edge == "published_posts":
            posts = [p for p in posts if p.data.get("is_published", True)]
        fields = split_fields(params.get("fields"))
        return answer(paged(posts, request, lambda p: post_json(p, fields),
                            limit=limit_of(params)), page_id)

    async def tagged(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        authenticate(params)
        await guard(params, "inbox", page_id)
        items = store.list_items(NETWORK, account_id=page_id, kind="mention",
                                 since=parse_since(params.get("since")))
        fields = split_fields(params.get("fields"))

        def render(item):
            full = {
                "id": item.item_id, "message": item.text,
                "created_time": graph_time(item.created_at),
                "tagged_time": graph_time(item.created_at),
                "from": {"id": item.author_id, "name": item.author_name},
                "permalink_url": ctx.public_url(
                    f"/_sandbox/page/facebook/{page_id}#{item.item_id}"),
            }
            return pick(full, fields)

        return answer(paged(items, request, render, limit=limit_of(params)),
                      page_id)

    # -- comments -------------------------------------------------------------

    async def comments(request: Request, params: dict) -> Response:
        object_id = request.path_params["object_id"]
        target = store.get_item(NETWORK, object_id, include_deleted=False)
        if request.method == "POST":
            token = authenticate(params)
            if target is None:
                raise not_found(object_id)
            require_page(token, target.account_id)
            fault = await guard(params, "reply", target.account_id)
            message = str(params.get("message", ""))
            if not message and not params.get("attachment_url"):
                raise invalid_param("(#100) Missing message or attachment")
            kind = "comment" if target.kind == "post" else "reply"
            account = store.get_account(NETWORK, target.account_id)
            comment = store.add_item(
                NETWORK, target.account_id,
                new_id(ctx, kind, account_id=target.account_id,
                       parent_id=object_id),
                kind, text=message, parent_id=object_id,
                root_id=target.root_id or target.item_id,
                author_id=target.account_id,
                author_name=account.display_name if account else "",
            )
            store.log_publish(NETWORK, target.account_id, comment.item_id,
                              kind="reply", text=message)
            if fault is not None:
                await ctx.sleep(fault.delay_ms)
            return answer({"id": comment.item_id}, target.account_id)
        token = authenticate(params)
        if target is None:
            raise not_found(object_id)
        await guard(params, "inbox", target.account_id)
        stream = params.get("filter") == "stream"
        if stream and target.kind == "post":
            found = store.list_items(NETWORK, root_id=object_id,
                                     kind=("comment", "reply"),
                                     since=parse_since(params.get("since")))
        else:
            found = store.list_items(NETWORK, parent_id=object_id,
                                     kind=("comment", "reply"),
                                     since=parse_since(params.get("since")))
        if token.kind != "page" or token.account_id != target.account_id:
            found = [c for c in found if not c.hidden]
        if params.get("order") == "chronological":
            found = list(reversed(found))
        fields = split_fields(params.get("fields"))
        body = paged(found, request, lambda c: comment_json(c, fields),
                     limit=limit_of(params))
        if "summary" in params:
            body["summary"] = {"order": params.get("order", "ranked"),
                               "total_count": len(found), "can_comment": True}
        return answer(body, target.account_id)

    # -- insights -----------------------------------------------------------

    async def insights(request: Request, params: dict) -> Response:
        object_id = request.path_params["object_id"]
        authenticate(params)
        account = store.get_account(NETWORK, object_id)
        post = None if account else store.get_item(NETWORK, object_id,
                                                   include_deleted=False)
        if account is None and post is None:
            raise not_found(object_id)
        owner = account.account_id if account else post.account_id
        await guard(params, "metrics", owner)
        period = params.get("period", "day" if account else "lifetime")
        if period not in PERIODS:
            raise invalid_param(f"(#100) period must be one of the following "
                                f"values: {', '.join(sorted(PERIODS))}")
        wanted = [m.strip() for m in str(params.get("metric", "")).split(",")
                  if m.strip()]
        if not wanted:
            raise invalid_param("(#100) The parameter metric is required")
        valid = PAGE_METRICS if account else POST_METRICS
        for name in wanted:
            if name in DEPRECATED_METRICS or name not in valid:
                raise invalid_param("(#100) The value must be a valid insights "
                                    "metric")
        values = grow_page(ctx, account) if account else grow_post(ctx, post)
        end = graph_time(ctx.now().replace(hour=8, minute=0, second=0,
                                           microsecond=0))
        data = []
        for name in wanted:
            value = values.get(name, 0)
            if name == "post_reactions_by_type_total":
                value = {"like": values.get("post_reactions_like_total", 0),
                         "love": values.get("post_reactions_love_total", 0)}
            data.append({
                "name": name, "period": period,
                "values": [{"value": value, "end_time": end}],
                "title": name.replace("_", " ").capitalize(),
                "description": f"Sandbox: {name}",
                "id": f"{object_id}/insights/{name}/{period}",
            })
        return answer({"data": data, "paging": {}}, owner)

    # -- nodes: read, update (hide, edit), delete ----------------------------

    async def node(request: Request, params: dict) -> Response:
        object_id = request.path_params["object_id"]
        token = authenticate(params)
        fields = split_fields(params.get("fields"))
        if object_id == "me":
            account = store.get_account(NETWORK, token.account_id)
            if token.kind == "user":
                await guard(params, "verify", token.account_id)
                user_id = account.extra.get("user_id", "") if account else ""
                full = {"id": user_id, "name": "Sandkasse Administrator"}
                return answer(pick(full, fields or ["name"]), token.account_id)
            object_id = token.account_id
        account = store.get_account(NETWORK, object_id)
        if account is not None:
            if request.method == "DELETE":
                raise invalid_param("(#100) Unsupported delete request")
            await guard(params, "verify", object_id)
            full = {
                "id": account.account_id, "name": account.display_name,
                "username": account.handle, "followers_count": account.followers,
                "fan_count": int(account.extra.get("fan_count",
                                                   account.followers * 96 // 100)),
                "link": ctx.public_url(f"/_sandbox/page/facebook/{object_id}"),
                "category": account.extra.get("category", "Government Organization"),
                "verification_status": "blue_verified",
            }
            return answer(pick(full, fields or ["name"]), object_id)
        item = store.get_item(NETWORK, object_id, include_deleted=False)
        if item is None:
            if request.method == "DELETE":
                raise GraphError(
                    100, f"Unsupported delete request. Object with ID "
                    f"'{object_id}' does not exist, cannot be loaded due to "
                    "missing permissions, or does not support this operation.",
                    subcode=33, kind="GraphMethodException")
            raise not_found(object_id)
        owner = item.account_id
        if request.method == "GET":
            await guard(params, "read", owner)
        if request.method == "DELETE":
            require_page(token, owner)
            fault = await guard(params, "delete", owner)
            store.delete_item(NETWORK, object_id)
            if fault is not None:
                await ctx.sleep(fault.delay_ms)
            return answer({"success": True}, owner)
        if request.method == "POST":
            require_page(token, owner)
            if "is_hidden" in params:
                if item.kind not in ("comment", "reply"):
                    raise invalid_param("(#100) Only comments can be hidden")
                if item.author_id == owner:
                    raise invalid_param("(#100) A page cannot hide its own "
                                        "comment")
                fault = await guard(params, "hide", owner)
                store.update_item(NETWORK, object_id,
                                  hidden=truthy(params["is_hidden"]))
                if fault is not None:
                    await ctx.sleep(fault.delay_ms)
                return answer({"success": True}, owner)
            if "is_pinned" in params:
                if item.kind != "post" or item.author_id not in (owner, ""):
                    raise invalid_param("(#100) Only the page's own posts can be "
                                        "pinned")
                await guard(params, "pin", owner)
                pinned = truthy(params["is_pinned"])
                if pinned:
                    # A page has one pinned post; pinning another replaces it.
                    for other in store.list_items(NETWORK, account_id=owner,
                                                  kind="post"):
                        if other.data.get("pinned") and other.item_id != object_id:
                            store.update_item(NETWORK, other.item_id,
                                              data={"pinned": False})
                store.update_item(NETWORK, object_id, data={"pinned": pinned})
                return answer({"success": True}, owner)
            if "message" in params:
                await guard(params, "publish", owner)
                store.update_item(NETWORK, object_id, text=str(params["message"]))
                return answer({"success": True}, owner)
            raise invalid_param("(#100) No fields to update")
        if item.kind == "post":
            return answer(post_json(item, fields), owner)
        if item.kind in ("comment", "reply", "mention"):
            return answer(comment_json(item, fields), owner)
        full = {"id": item.item_id, "name": item.text,
                "alt_text_custom": item.data.get("alt_text_custom", ""),
                "picture": photo_url(ctx, item),
                "images": [{"source": photo_url(ctx, item)}],
                "created_time": graph_time(item.created_at),
                "published": item.data.get("published", False)}
        return answer(pick(full, fields), owner)

    # -- tokens and OAuth -------------------------------------------------------

    async def access_token(request: Request, params: dict) -> Response:
        grant = params.get("grant_type", "")
        presented = str(params.get("fb_exchange_token") or params.get("code") or "")
        known = store.get_token(NETWORK, presented)
        fault = await ctx.fault(NETWORK, "token", known.account_id if known else None)
        if params.get("client_id") != APP_ID or params.get(
                "client_secret") != ctx.config.app_secret:
            raise GraphError(101, "Error validating application. Invalid "
                             "application ID.")
        if grant == "fb_exchange_token":
            old, reason = store.check_token(
                NETWORK, str(params.get("fb_exchange_token", "")), ("user",))
            if fault is not None and fault.kind != "timeout_after_create":
                if fault.kind == "expired_token" and old is not None:
                    raise expired_token_error()
                raise fault_error(fault, old.account_id if old else "")
            if reason:
                raise expired_token_error() if reason == "expired" else GraphError(
                    190, "Invalid OAuth access token - Cannot parse access token")
            fresh = ctx.token("EAAKsbxUser")
            store.put_token(NETWORK, fresh, old.account_id, kind="user",
                            expires_at=ctx.now() + timedelta(
                                seconds=LONG_LIVED_SECONDS))
            return answer({"access_token": fresh, "token_type": "bearer",
                           "expires_in": LONG_LIVED_SECONDS}, old.account_id)
        if grant == "client_credentials":
            return answer({"access_token": f"{APP_ID}|{ctx.config.app_secret}",
                           "token_type": "bearer"}, "")
        code, reason = store.check_token(NETWORK, str(params.get("code", "")),
                                         ("code",))
        if fault is not None and fault.kind != "timeout_after_create":
            raise fault_error(fault, code.account_id if code else "")
        if reason or code.extra.get("redirect_uri") != params.get("redirect_uri"):
            raise GraphError(100, "Invalid verification code format.",
                             subcode=36007, kind="OAuthException")
        store.revoke_token(NETWORK, code.token)
        short = ctx.token("EAAKsbxShort")
        store.put_token(NETWORK, short, code.account_id, kind="user",
                        expires_at=ctx.now() + timedelta(seconds=SHORT_LIVED_SECONDS))
        return answer({"access_token": short, "token_type": "bearer",
                       "expires_in": SHORT_LIVED_SECONDS}, code.account_id)

    async def me_accounts(request: Request, params: dict) -> Response:
        token = authenticate(params, kinds=("user",))
        await guard(params, "token", token.account_id)
        account = store.get_account(NETWORK, token.account_id)
        pages = []
        if account is not None:
            page_token = next(
                (t.token for t in store.tokens_for(NETWORK, account.account_id)
                 if t.kind == "page" and not t.revoked), None)
            if page_token is None:
                page_token = ctx.token("EAAKsbxPage")
                store.put_token(NETWORK, page_token, account.account_id,
                                kind="page")
            pages.append({
                "id": account.account_id, "name": account.display_name,
                "access_token": page_token,
                "category": account.extra.get("category", "Government Organization"),
                "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT",
                          "MANAGE"],
            })
        return answer({"data": pages, "paging": {"cursors": {
            "before": "QVFIUk", "after": "QVFIUk"}}}, token.account_id)

    async def dialog(request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != APP_ID or not query.get("redirect_uri"):
            return JSONResponse({"error": {"message": "Invalid App ID",
                                           "type": "OAuthException", "code": 101}},
                                status_code=400)
        page_id = query.get("page_id") or "104738291045678"
        code = ctx.token("AQsbx", 24)
        store.put_token(NETWORK, code, page_id, kind="code",
                        expires_at=ctx.now() + timedelta(minutes=10),
                        extra={"redirect_uri": query["redirect_uri"]})
        target = query["redirect_uri"]
        joiner = "&" if "?" in target else "?"
        answer_query = urlencode({"code": code, "state": query.get("state", "")})
        return RedirectResponse(f"{target}{joiner}{answer_query}", status_code=302)

    async def app_subscriptions(request: Request, params: dict) -> Response:
        if params.get("access_token") != f"{APP_ID}|{ctx.config.app_secret}":
            raise GraphError(190, "Invalid OAuth access token - an app token is "
                             "required")
        url = str(params.get("callback_url", ""))
        verify_token = str(params.get("verify_token", ""))
        if not ctx.webhooks.verify_subscriber(url, verify_token):
            raise GraphError(2200, "(#2200) callback verification failed: the "
                             "challenge was not echoed")
        store.add_subscription(NETWORK, url, object=str(params.get("object", "page")),
                               fields=str(params.get("fields", "feed")),
                               verify_token=verify_token, verified=True)
        return answer({"success": True}, "")

    async def subscribed_apps(request: Request, params: dict) -> Response:
        page_id = request.path_params["object_id"]
        token = authenticate(params)
        require_page(token, page_id)
        return answer({"success": True}, page_id)

    async def like_object(request: Request, params: dict) -> Response:
        """``POST``/``DELETE /{object-id}/likes``: the page likes (or no longer
        likes) a post or comment on its page, or a post that mentions it; one
        like per page, so a second like changes nothing."""
        object_id = request.path_params["object_id"]
        token = authenticate(params)
        item = store.get_item(NETWORK, object_id, include_deleted=False)
        if item is None or item.kind not in ("post", "comment", "reply", "mention"):
            raise not_found(object_id)
        owner = item.account_id
        require_page(token, owner)
        fault = await guard(params, "like", owner)
        set_like(store, NETWORK, item, owner, request.method == "POST")
        if fault is not None:
            await ctx.sleep(fault.delay_ms)
        return answer({"success": True}, owner)

    async def edge(request: Request, params: dict) -> Response:
        name = request.path_params["edge"]
        if request.method == "POST" and name == "feed":
            return await create_post(request, params)
        if request.method == "POST" and name == "photos":
            return await upload_photo(request, params)
        if request.method == "POST" and name == "videos":
            return await upload_video(request, params)
        if request.method == "GET" and name == "conversations":
            return await conversations(request, params)
        if request.method == "POST" and name == "messages":
            return await send_message(request, params)
        if request.method == "GET" and name in ("feed", "posts", "published_posts",
                                                "scheduled_posts"):
            return await list_posts(request, params)
        if name == "comments":
            return await comments(request, params)
        if request.method in ("POST", "DELETE") and name == "likes":
            return await like_object(request, params)
        if request.method == "GET" and name == "tagged":
            return await tagged(request, params)
        if request.method == "GET" and name == "insights":
            return await insights(request, params)
        if name == "subscriptions":
            return await app_subscriptions(request, params)
        if name == "subscribed_apps":
            return await subscribed_apps(request, params)
        if request.method == "GET" and name == "accounts":
            return await me_accounts(request, params)
        raise GraphError(2500, f"Unknown path components: /{name}",
                         kind="OAuthException")

    async def photo_file(request: Request) -> Response:
        photo_id = str(request.path_params["photo_id"])
        photo = store.get_item(NETWORK, photo_id, include_deleted=False)
        folder = media_dir(ctx)
        if photo is None or folder is None or not photo.data.get("stored"):
            return Response(status_code=404)
        return FileResponse(folder / photo.item_id,
                            media_type=photo.data.get("mime") or "image/jpeg")

    return [
        Route("/media/{photo_id:int}", photo_file),
        Route(f"/{version}/dialog/oauth", dialog),
        Route("/dialog/oauth", dialog),
        Route(f"/{version}/oauth/access_token", handler(access_token),
              methods=["GET", "POST"]),
        Route(f"/{version}/{{object_id}}/{{edge}}", handler(edge),
              methods=["GET", "POST", "DELETE"]),
        Route(f"/{version}/{{object_id}}", handler(node),
              methods=["GET", "POST", "DELETE"]),
    ]


def is_image(content: bytes) -> bool:
    return content.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8")) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP")


def grow_page(ctx, account) -> dict[str, int]:
    """Page insights that grow a little on every read."""
    store, subject = ctx.store, account.account_id
    values = store.metrics(NETWORK, subject)
    if "page_media_view" not in values:
        base = max(100, account.followers)
        for name, factor in (("page_media_view", 0.9),
                             ("page_total_media_view_unique", 0.55),
                             ("page_post_engagements", 0.04),
                             ("page_views_total", 0.02),
                             ("page_daily_follows_unique", 0.001),
                             ("page_daily_unfollows_unique", 0.0003),
                             ("page_video_views", 0.05)):
            store.set_metric(NETWORK, subject, name, int(base * factor))
    else:
        for name, top in (("page_media_view", 120),
                          ("page_total_media_view_unique", 60),
                          ("page_post_engagements", 8), ("page_views_total", 4)):
            store.add_metric(NETWORK, subject, name, ctx.rng.randint(1, top))
    values = store.metrics(NETWORK, subject)
    values["page_follows"] = account.followers
    return values


def grow_post(ctx, post) -> dict[str, int]:
    store, subject = ctx.store, post.item_id
    values = store.metrics(NETWORK, subject)
    if "post_media_view" not in values:
        account = store.get_account(NETWORK, post.account_id)
        base = max(50, account.followers // 20 if account else 50)
        seed = {"post_media_view": base, "post_total_media_view_unique": base * 3 // 5,
                "post_clicks": base // 40, "post_reactions_like_total": base // 30,
                "post_reactions_love_total": base // 200,
                "post_video_views": 0, "shares": base // 150}
        for name, value in seed.items():
            store.set_metric(NETWORK, subject, name, value)
    else:
        for name, top in (("post_media_view", 40),
                          ("post_total_media_view_unique", 25),
                          ("post_clicks", 3), ("post_reactions_like_total", 3)):
            store.add_metric(NETWORK, subject, name, ctx.rng.randint(0, top))
    return store.metrics(NETWORK, subject)


def owner_message(ctx, account_id: str, recipient_id: str, text: str):
    """Someone at the page answers ``recipient_id`` in Meta's own app
    (Business Suite, the Pages app), not through the API: the message is
    the page's, and Messenger sends the app its echo (``message_echoes``:
    ``is_echo``, the page as sender, the citizen as recipient). Not in the
    publish log: no API call wrote it. Returns the stored message."""
    made = ctx.store.add_item(
        NETWORK, account_id, new_id(ctx, "page_message"), "page_message",
        text=text, author_id=account_id,
        data={"recipient_id": recipient_id, "written_in_app": True},
    )
    millis = int(made.created_at.timestamp() * 1000)
    ctx.webhooks.send(NETWORK, {"object": "page", "entry": [{
        "id": account_id, "time": millis, "messaging": [{
            "sender": {"id": account_id}, "recipient": {"id": recipient_id},
            "timestamp": millis,
            "message": {"mid": f"m_{made.item_id}", "text": text,
                        "is_echo": True, "app_id": 263902037430900},
        }],
    }]})
    return made
