"""LinkedIn organisation pages: ``/linkedin/rest/...`` and ``/linkedin/oauth/v2``.

Follows PLATFORMS.md §6: ``Linkedin-Version`` is required and must be one of
the last 12 months (426 ``NONEXISTENT_VERSION`` otherwise), ``POST
/rest/posts`` answers 201 with the URN in ``x-restli-id``, duplicates give 422
``DUPLICATE_POST`` naming the existing URN, 429 has no rate-limit headers,
errors use ``{"status","message","serviceErrorCode","code"}``.

``commentary`` is parsed as "little text" like LinkedIn does: an unescaped
reserved character that starts no element silently cuts the text there, so a
client that forgets to escape sees its post truncated on the citizen page.

Store layout: posts are items ``kind="post"`` with ``item_id`` the share URN,
``text`` the plain text a citizen sees and ``data`` the post as the API shows
it (``data.media`` lists the images for the citizen pages). Comments are
``urn:li:comment:(<post urn>,<id>)`` with ``parent_id`` the post or the parent
comment and ``root_id`` the post. Images are items ``kind="image"``. Metrics
use the sandbox's generic names (``views``, ``reach``, ``likes``, ``shares``,
``clicks``; see the README's "Citizens" section); comments are counted. The
organisation's own reactions (``/rest/reactions``) are the entity's
``data["liked_by"]`` (``sandbox/likes.py``).
"""

from __future__ import annotations

import base64
import html
import logging
import re
from datetime import datetime, timedelta
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.likes import set_like
from sandbox.params import BadParam, whole_number

logger = logging.getLogger("sandbox.linkedin")

NETWORK = "linkedin"
MAX_COMMENTARY = 3000
REACTION_TYPES = frozenset({"LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION",
                            "ENTERTAINMENT"})
#: ``(actor:<encoded urn>,entity:<encoded urn>)``, a reaction's key in a path.
REACTION_KEY = re.compile(r"\(actor:([^,()]+),entity:([^,()]+)\)")
MAX_IMAGE_BYTES_KEPT = 8 * 1024 * 1024
ACCESS_TTL = timedelta(days=60)
REFRESH_TTL = timedelta(days=365)
DUPLICATE_WINDOW = timedelta(days=1)
RESERVED = set("()[]{}<>@|~_*\\#")
HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\#\|((?:\\.|[^\\}])*)\}")
MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:[a-zA-Z]+:[^)]+)\)")
HASHTAG_ELEMENT = re.compile(r"#(\w+)")
COMMENT_URN = re.compile(r"^urn:li:comment:\(([^,]+),([^)]+)\)$")


# -- helpers --------------------------------------------------------------------


def error(status: int, message: str, *, code: str = "", service: int | None = None,
          input_code: str = "", headers: dict | None = None) -> JSONResponse:
    body: dict = {"status": status, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    if code:
        body["code"] = code
    if input_code:
        body["errorDetailType"] = "com.linkedin.common.error.BadRequest"
        body["errorDetails"] = {
            "inputErrors": [
                {"description": message, "input": {}, "code": input_code}
            ]
        }
    return JSONResponse(body, status_code=status, headers=headers)


def bad_param(exc: BadParam) -> JSONResponse:
    return error(400, f"Invalid value for param {exc.name}", service=100)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def org_urn(account_id: str) -> str:
    return f"urn:li:organization:{account_id}"


def parse_little_text(commentary: str) -> str:
    """The text LinkedIn shows for ``commentary`` (truncated like LinkedIn)."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        c = commentary[i]
        if c == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        if c == "{":
            match = HASHTAG_TEMPLATE.match(commentary, i)
            if match:
                out.append("#" + re.sub(r"\\(.)", r"\1", match.group(1)))
                i = match.end()
                continue
        if c == "@":
            match = MENTION.match(commentary, i)
            if match:
                out.append(re.sub(r"\\(.)", r"\1", match.group(1)))
                i = match.end()
                continue
        if c == "#":
            match = HASHTAG_ELEMENT.match(commentary, i)
            if match:
                out.append(match.group(0))
                i = match.end()
                continue
        if c in RESERVED:
            break  # LinkedIn drops everything from an unparseable element on.
        out.append(c)
        i += 1
    return "".join(out)


def escape(text: str) -> str:
    return "".join("\\" + c if c in RESERVED else c for c in text)



def owner_edit(ctx, item, text: str):
    """An edit in LinkedIn's own page admin: new commentary, a new
    ``lastModifiedAt`` and LinkedIn's "edited by author" mark."""
    return ctx.store.update_item(NETWORK, item.item_id, text=text, data={
        "commentary": escape(text),
        "lastModifiedAt": ms(ctx.now()),
        "lifecycleStateInfo": {"isEditedByAuthor": True},
    })

def active_versions(now: datetime) -> set[str]:
    versions = set()
    year, month = now.year, now.month
    for _ in range(13):
        versions.add(f"{year:04d}{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return versions


def decode_urn(value: str) -> str:
    return unquote(value)


def parse_list(value: str | None) -> list[str]:
    """Rest.li 2.0 ``List(a,b)`` with URL-encoded elements."""
    if not value:
        return []
    value = value.strip()
    if value.startswith("List(") and value.endswith(")"):
        value = value[5:-1]
    return [unquote(v) for v in value.split(",") if v]


# -- the emulator ----------------------------------------------------------------


class LinkedIn:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.store = ctx.store

    # -- request checks -------------------------------------------------------

    def check_version(self, request: Request) -> Response | None:
        version = request.headers.get("linkedin-version", "").strip()
        if not version:
            return error(
                400,
                "A version must be present. Please specify a version by adding "
                "the LinkedIn-Version header.",
                code="VERSION_MISSING",
            )
        if version.split(".")[0] not in active_versions(self.ctx.now()):
            return error(426, f"Requested version {version} is not active",
                         code="NONEXISTENT_VERSION")
        return None

    def authenticate(self, request: Request):
        """``(account, None)`` or ``(None, error response)``."""
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        found, reason = self.store.check_token(NETWORK, token, kinds=("access",))
        if reason == "expired":
            return None, error(401, "The token used in the request has expired",
                               code="EXPIRED_ACCESS_TOKEN", service=65601)
        if reason:
            return None, error(401, "Invalid access token",
                               code="INVALID_ACCESS_TOKEN", service=65600)
        account = self.store.get_account(NETWORK, found.account_id)
        if account is None:
            return None, error(401, "Invalid access token",
                               code="INVALID_ACCESS_TOKEN", service=65600)
        return account, None

    async def begin(self, request: Request, operation: str, *, versioned=True):
        """Version, token and fault checks: ``(account, fault, None)`` or an error."""
        if versioned:
            problem = self.check_version(request)
            if problem is not None:
                return None, None, problem
        account, problem = self.authenticate(request)
        if problem is not None:
            return None, None, problem
        fault = await self.ctx.fault(NETWORK, operation, account.account_id)
        if fault is not None and fault.kind != "timeout_after_create":
            return None, None, self.render_fault(fault, operation, account)
        return account, fault, None

    def render_fault(self, fault, operation: str, account) -> Response:
        kind = fault.kind
        params = fault.params or {}
        if kind == "rate_limit":
            return error(429, "Too Many Requests", code="TOO_MANY_REQUESTS",
                         service=101)
        if kind == "quota_exhausted":
            return error(
                429,
                "Resource level throttle APPLICATION DAY limit for calls to this "
                "resource is reached.",
                code="TOO_MANY_REQUESTS", service=101,
            )
        if kind == "server_error":
            status = int(params.get("status", 500))
            return error(status, "Internal Server Error", service=0)
        if kind == "expired_token":
            return error(401, "The token used in the request has expired",
                         code="EXPIRED_ACCESS_TOKEN", service=65601)
        if kind == "policy_block":
            return error(
                422,
                "ERROR :: /commentary :: Content violates the Professional "
                "Community Policies",
                code="CONTENT_POLICY_VIOLATION", service=100,
                input_code="CONTENT_POLICY_VIOLATION",
            )
        if kind == "duplicate":
            latest = self.store.list_items(NETWORK, account_id=account.account_id,
                                           kind="post", limit=1)
            urn = latest[0].item_id if latest else "urn:li:share:7141000000000000000"
            return error(
                422, f"ERROR :: /commentary :: Content is a duplicate of {urn}",
                input_code="DUPLICATE_POST",
            )
        if kind == "invalid_media":
            return error(
                400,
                "Invalid image: the uploaded file could not be processed",
                code="INVALID_MEDIA", service=100,
            )
        return error(500, f"Unknown sandbox fault {kind}")

    async def late(self, fault) -> None:
        if fault is not None and fault.kind == "timeout_after_create":
            await self.ctx.sleep(fault.delay_ms)

    # -- posts ----------------------------------------------------------------

    def post_json(self, item) -> dict:
        data = dict(item.data)
        data.pop("media", None)
        data["id"] = item.item_id
        return data

    def live_post(self, urn: str):
        item = self.store.get_item(NETWORK, urn, include_deleted=False)
        if item is None or item.kind not in ("post", "mention"):
            return None
        return item

    async def create_post(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Request body is not valid JSON", service=100)
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", service=100)
        reshare = (body.get("reshareContext") or {}).get("parent")
        operation = "repost" if reshare and not body.get("commentary") else "publish"
        account, fault, problem = await self.begin(request, operation)
        if problem is not None:
            return problem
        author = body.get("author")
        if author != org_urn(account.account_id):
            return error(
                403,
                "Not enough permissions to access: partnerApiPostsExternal.CREATE",
                code="ACCESS_DENIED", service=100,
            )
        for field in ("visibility", "distribution", "lifecycleState"):
            if field not in body:
                return error(
                    422, f"ERROR :: /{field} :: field is required but not found",
                    input_code="MISSING_FIELD",
                )
        commentary = str(body.get("commentary") or "")
        text = parse_little_text(commentary)
        if len(text) > MAX_COMMENTARY:
            return error(
                422,
                f"ERROR :: /commentary :: length {len(text)} exceeded the maximum "
                f"allowed length {MAX_COMMENTARY}",
                input_code="FIELD_LENGTH_TOO_LONG",
            )
        if reshare and self.store.get_item(NETWORK, reshare) is None:
            return error(422, f"ERROR :: /reshareContext/parent :: {reshare} not "
                              "found", input_code="INVALID_URN")
        content = body.get("content") or {}
        media, problem = self.content_media(content, account)
        if problem is not None:
            return problem
        if text and not reshare:
            duplicate = self.duplicate_of(account.account_id, text)
            if duplicate:
                return error(
                    422,
                    f"ERROR :: /commentary :: Content is a duplicate of {duplicate}",
                    input_code="DUPLICATE_POST",
                )
        now = self.ctx.now()
        urn = f"urn:li:share:{self.store.next_seq('linkedin:share', 7_200_000_000)}"
        data = {
            key: body[key]
            for key in ("author", "commentary", "visibility", "distribution",
                        "lifecycleState", "isReshareDisabledByAuthor", "content",
                        "reshareContext")
            if key in body
        }
        data.update({
            "createdAt": ms(now), "publishedAt": ms(now), "lastModifiedAt": ms(now),
            "lifecycleStateInfo": {"isEditedByAuthor": False},
            "media": media,
        })
        self.store.add_item(
            NETWORK, account.account_id, urn, "post", text=text,
            author_id=account.account_id, author_name=account.display_name,
            data=data, root_id="", created_at=now,
        )
        self.store.log_publish(NETWORK, account.account_id, urn,
                               kind="repost" if operation == "repost" else "post",
                               text=text)
        for name, value in (("views", 0), ("reach", 0), ("likes", 0),
                            ("shares", 0), ("clicks", 0)):
            self.store.set_metric(NETWORK, urn, name, value)
        if reshare:
            self.store.add_metric(NETWORK, reshare, "shares", 1)
        await self.late(fault)
        return Response(status_code=201, headers={"x-restli-id": urn,
                                                  "x-linkedin-id": urn})

    def content_media(self, content: dict, account):
        """Check referenced images; return the citizen-page media list."""
        refs = []
        if "media" in content:
            refs = [content["media"]]
        elif "multiImage" in content:
            refs = list((content["multiImage"] or {}).get("images") or [])
            if not 2 <= len(refs) <= 20:
                return None, error(
                    422, "ERROR :: /content/multiImage/images :: must have 2 to 20 "
                         "images", input_code="INVALID_VALUE_FOR_FIELD",
                )
        media = []
        for ref in refs:
            urn = str((ref or {}).get("id") or "")
            image = self.store.get_item(NETWORK, urn)
            if image is None or image.kind != "image":
                return None, error(422, f"ERROR :: /content :: {urn} not found",
                                   input_code="INVALID_URN")
            if image.data.get("owner") != org_urn(account.account_id):
                return None, error(403, f"Not enough permissions to use {urn}",
                                   code="ACCESS_DENIED", service=100)
            if image.data.get("status") != "AVAILABLE":
                return None, error(
                    422, f"ERROR :: /content :: {urn} is not AVAILABLE "
                         f"({image.data.get('status')})",
                    input_code="INVALID_MEDIA",
                )
            media.append({"url": f"/{NETWORK}/media/{urn}",
                          "alt": str(ref.get("altText") or ""),
                          "mime": image.data.get("mime", "")})
        return media, None

    def duplicate_of(self, account_id: str, text: str) -> str:
        since = self.ctx.now() - DUPLICATE_WINDOW
        for item in self.store.list_items(NETWORK, account_id=account_id, kind="post",
                                          since=since, limit=50):
            if item.text.strip() == text.strip():
                return item.item_id
        return ""

    async def post_detail(self, request: Request) -> Response:
        urn = decode_urn(request.path_params["urn"])
        method = request.method
        operation = {"DELETE": "delete", "GET": "verify"}.get(method, "publish")
        account, fault, problem = await self.begin(request, operation)
        if problem is not None:
            return problem
        item = self.live_post(urn)
        if item is None:
            return error(404, f"Post {urn} does not exist", service=100)
        if method == "GET":
            return JSONResponse(self.post_json(item))
        if item.account_id != account.account_id:
            return error(403, "Not enough permissions to change this post",
                         code="ACCESS_DENIED", service=100)
        if method == "DELETE":
            self.store.delete_item(NETWORK, urn)
            await self.late(fault)
            return Response(status_code=204)
        if request.headers.get("x-restli-method", "").upper() != "PARTIAL_UPDATE":
            return error(400, "Unsupported method", service=100)
        body = await request.json()
        changes = ((body or {}).get("patch") or {}).get("$set") or {}
        data = {k: v for k, v in changes.items()
                if k in ("commentary", "contentCallToActionLabel",
                         "lifecycleState")}
        data["lastModifiedAt"] = ms(self.ctx.now())
        data["lifecycleStateInfo"] = {"isEditedByAuthor": True}
        update = {"data": data}
        if "commentary" in changes:
            update["text"] = parse_little_text(str(changes["commentary"]))
        self.store.update_item(NETWORK, urn, **update)
        await self.late(fault)
        return Response(status_code=204)

    async def find_posts(self, request: Request) -> Response:
        account, _fault, problem = await self.begin(request, "inbox")
        if problem is not None:
            return problem
        q = request.query_params
        if q.get("q") != "author":
            return error(400, "Only q=author is supported", service=100)
        author = q.get("author", "")
        if author != org_urn(account.account_id):
            return error(403, "Not enough permissions to read posts of "
                              f"{author}", code="ACCESS_DENIED", service=100)
        start = whole_number(q, "start", 0, low=0)
        count = whole_number(q, "count", 10, low=1, high=100)
        posts = self.store.list_items(NETWORK, account_id=account.account_id,
                                      kind="post")
        page = posts[start:start + count]
        return JSONResponse({
            "elements": [self.post_json(p) for p in page],
            "paging": {"start": start, "count": count, "total": len(posts),
                       "links": []},
        })

    # -- images ---------------------------------------------------------------

    async def images(self, request: Request) -> Response:
        if request.query_params.get("action") != "initializeUpload":
            return error(400, "Unsupported action", service=100)
        account, fault, problem = await self.begin(request, "media")
        if problem is not None:
            return problem
        body = await request.json()
        owner = ((body or {}).get("initializeUploadRequest") or {}).get("owner")
        if owner != org_urn(account.account_id):
            return error(403, f"Not enough permissions to upload for {owner}",
                         code="ACCESS_DENIED", service=100)
        token = self.ctx.token("", 12)
        urn = f"urn:li:image:D4E{token[:20]}"
        expires = self.ctx.now() + timedelta(hours=24)
        self.store.add_item(
            NETWORK, account.account_id, urn, "image", author_id=account.account_id,
            data={"owner": owner, "status": "WAITING_UPLOAD", "upload": token,
                  "uploadUrlExpiresAt": ms(expires)},
        )
        self.store.kv_set(NETWORK, f"upload:{token}", urn)
        await self.late(fault)
        return JSONResponse({"value": {
            "uploadUrlExpiresAt": ms(expires),
            "uploadUrl": self.ctx.public_url(f"/{NETWORK}/dms-uploads/{token}"),
            "image": urn,
        }})

    async def upload(self, request: Request) -> Response:
        token = request.path_params["token"]
        urn = self.store.kv_get(NETWORK, f"upload:{token}")
        image = self.store.get_item(NETWORK, urn) if urn else None
        if image is None:
            return error(404, "Upload URL not found", service=100)
        _account, fault, problem = await self.begin(request, "media",
                                                   versioned=False)
        if problem is not None:
            return problem
        if ms(self.ctx.now()) > int(image.data.get("uploadUrlExpiresAt", 0)):
            return error(400, "Upload URL expired", service=100)
        data = await request.body()
        mime = request.headers.get("content-type", "application/octet-stream")
        if not data:
            return error(400, "Empty upload", service=100)
        update = {"status": "AVAILABLE", "mime": mime, "size": len(data)}
        if len(data) <= MAX_IMAGE_BYTES_KEPT:
            update["bytes"] = base64.b64encode(data).decode()
        self.store.update_item(NETWORK, urn, data=update)
        await self.late(fault)
        return Response(status_code=201)

    async def image_detail(self, request: Request) -> Response:
        urn = decode_urn(request.path_params["urn"])
        _account, _fault, problem = await self.begin(request, "verify")
        if problem is not None:
            return problem
        image = self.store.get_item(NETWORK, urn)
        if image is None or image.kind != "image":
            return error(404, f"Image {urn} does not exist", service=100)
        return JSONResponse({
            "id": urn, "owner": image.data.get("owner"),
            "status": image.data.get("status"),
            "downloadUrl": self.ctx.public_url(f"/{NETWORK}/media/{urn}"),
        })

    async def media_bytes(self, request: Request) -> Response:
        urn = decode_urn(request.path_params["urn"])
        image = self.store.get_item(NETWORK, urn)
        if image is None or not image.data.get("bytes"):
            return Response(status_code=404)
        return Response(base64.b64decode(image.data["bytes"]),
                        media_type=image.data.get("mime") or "image/jpeg",
                        headers={"Cache-Control": "max-age=3600"})

    # -- comments -------------------------------------------------------------

    def comment_json(self, item) -> dict:
        match = COMMENT_URN.match(item.item_id)
        obj, comment_id = match.groups() if match else (item.root_id, item.item_id)
        actor = (org_urn(item.author_id)
                 if item.data.get("by_organization") else item.author_id)
        replies = self.store.list_items(NETWORK, parent_id=item.item_id,
                                        kind=("comment", "reply"))
        element = {
            "actor": actor,
            "agent": actor,
            "commentUrn": item.item_id,
            "$URN": item.item_id,
            "id": comment_id,
            "object": obj,
            "message": {"text": item.text, "attributes": []},
            "created": {"actor": actor, "time": ms(item.created_at)},
            "lastModified": {"actor": actor, "time": ms(item.created_at)},
            "commentsSummary": {
                "totalFirstLevelComments": len(replies),
                "aggregatedTotalComments": len(replies),
            },
        }
        if item.kind == "reply" and item.parent_id != item.root_id:
            element["parentComment"] = item.parent_id
        return element

    def resolve_target(self, urn: str):
        """``(post, parent_comment or None)`` for a post or comment URN."""
        target = self.store.get_item(NETWORK, urn, include_deleted=False)
        if target is None:
            return None, None
        if target.kind in ("comment", "reply"):
            post = self.store.get_item(NETWORK, target.root_id,
                                       include_deleted=False)
            return post, target
        if target.kind in ("post", "mention"):
            return target, None
        return None, None

    async def comments(self, request: Request) -> Response:
        urn = decode_urn(request.path_params["urn"])
        if request.method == "GET":
            account, fault, problem = await self.begin(request, "inbox")
            if problem is not None:
                return problem
            post, parent = self.resolve_target(urn)
            if post is None:
                return error(404, f"{urn} does not exist", service=100)
            found = [
                c for c in self.store.list_items(
                    NETWORK, parent_id=urn, kind=("comment", "reply"),
                    newest_first=False)
                if not c.hidden
            ]
            start = whole_number(request.query_params, "start", 0, low=0)
            count = whole_number(request.query_params, "count", 10, low=1, high=100)
            return JSONResponse({
                "elements": [self.comment_json(c) for c in found[start:start + count]],
                "paging": {"start": start, "count": count, "total": len(found),
                           "links": []},
            })
        account, fault, problem = await self.begin(request, "reply")
        if problem is not None:
            return problem
        body = await request.json()
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", service=100)
        if body.get("actor") != org_urn(account.account_id):
            return error(403, "Not enough permissions to comment as "
                              f"{body.get('actor')}", code="ACCESS_DENIED",
                         service=100)
        text = str((body.get("message") or {}).get("text") or "")
        if not text:
            return error(422, "ERROR :: /message/text :: field is required",
                         input_code="MISSING_FIELD")
        if len(text) > 1250:
            return error(422, "ERROR :: /message/text :: length exceeded the "
                              "maximum allowed length 1250",
                         input_code="FIELD_LENGTH_TOO_LONG")
        post, parent = self.resolve_target(urn)
        if post is None:
            return error(404, f"{urn} does not exist", service=100)
        if parent is not None and parent.parent_id != post.item_id:
            return error(422, "ERROR :: /parentComment :: only one level of "
                              "nested comments is allowed",
                         input_code="INVALID_VALUE_FOR_FIELD")
        comment = self.add_comment(
            post, parent, text=text, author_id=account.account_id,
            author_name=account.display_name, by_organization=True,
        )
        self.store.log_publish(NETWORK, account.account_id, comment.item_id,
                               kind="reply", text=text)
        await self.late(fault)
        element = self.comment_json(comment)
        return JSONResponse(element, status_code=201,
                            headers={"x-restli-id": element["id"]})

    def add_comment(self, post, parent, *, text: str, author_id: str,
                    author_name: str, by_organization: bool = False):
        comment_id = str(self.store.next_seq("linkedin:comment", 7_300_000_000))
        urn = f"urn:li:comment:({post.item_id},{comment_id})"
        return self.store.add_item(
            NETWORK, post.account_id, urn, "reply" if parent else "comment",
            text=text, parent_id=parent.item_id if parent else post.item_id,
            root_id=post.item_id, author_id=author_id, author_name=author_name,
            data={"by_organization": by_organization},
        )

    async def comment_detail(self, request: Request) -> Response:
        target = decode_urn(request.path_params["urn"])
        comment_id = decode_urn(request.path_params["comment_id"])
        account, fault, problem = await self.begin(
            request, "delete" if request.method == "DELETE" else "inbox")
        if problem is not None:
            return problem
        urn = (comment_id if comment_id.startswith("urn:li:comment:")
               else f"urn:li:comment:({target},{comment_id})")
        comment = self.store.get_item(NETWORK, urn, include_deleted=False)
        if comment is None:
            return error(404, f"Comment {urn} does not exist", service=100)
        if request.method == "GET":
            return JSONResponse(self.comment_json(comment))
        actor = request.query_params.get("actor", "")
        if actor != org_urn(account.account_id) or comment.account_id != (
            account.account_id
        ):
            return error(403, "Not enough permissions to delete this comment",
                         code="ACCESS_DENIED", service=100)
        self.store.delete_item(NETWORK, urn)
        await self.late(fault)
        return Response(status_code=204)

    # -- reactions -------------------------------------------------------------

    async def reactions(self, request: Request) -> Response:
        """``POST /rest/reactions?actor=<organization urn>`` with ``{root,
        reactionType}``: the organisation reacts to a post or comment. One
        reaction per actor and entity; reacting again keeps one."""
        account, fault, problem = await self.begin(request, "like")
        if problem is not None:
            return problem
        actor = request.query_params.get("actor", "")
        if actor != org_urn(account.account_id):
            return error(403, f"Not enough permissions to react as {actor}",
                         code="ACCESS_DENIED", service=100)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return error(400, "Request body must be an object", service=100)
        root = str(body.get("root") or "")
        reaction = body.get("reactionType")
        if reaction not in REACTION_TYPES:
            return error(422, "ERROR :: /reactionType :: invalid value",
                         input_code="INVALID_VALUE_FOR_FIELD")
        target = self.store.get_item(NETWORK, root, include_deleted=False)
        if target is None or target.kind not in ("post", "comment", "reply"):
            return error(404, f"{root} does not exist", service=100)
        set_like(self.store, NETWORK, target, account.account_id, True)
        await self.late(fault)
        at = {"actor": actor, "time": ms(self.ctx.now())}
        urn = f"urn:li:reaction:({actor},{root})"
        return JSONResponse(
            {"id": urn, "root": root, "reactionType": reaction, "created": at,
             "lastModified": at},
            status_code=201, headers={"x-restli-id": urn})

    async def reaction_detail(self, request: Request) -> Response:
        """``DELETE /rest/reactions/(actor:<urn>,entity:<urn>)`` with both URNs
        URL-encoded (read from the raw path, as the decoded one loses the
        commas inside a comment URN). Deleting a reaction that is not there
        changes nothing; an entity that is not there is 404."""
        account, fault, problem = await self.begin(request, "like")
        if problem is not None:
            return problem
        raw = request.scope.get("raw_path", b"").decode("latin-1")
        key = raw.partition("/rest/reactions/")[2].partition("?")[0]
        found = REACTION_KEY.fullmatch(key)
        if found is None:
            return error(400, f"Invalid reaction key {key}", service=100)
        actor, entity = unquote(found.group(1)), unquote(found.group(2))
        if actor != org_urn(account.account_id):
            return error(403, f"Not enough permissions to react as {actor}",
                         code="ACCESS_DENIED", service=100)
        target = self.store.get_item(NETWORK, entity, include_deleted=False)
        if target is None:
            return error(404, f"{entity} does not exist", service=100)
        set_like(self.store, NETWORK, target, account.account_id, False)
        await self.late(fault)
        return Response(status_code=204)

    # -- organisation and statistics ------------------------------------------

    async def organization(self, request: Request) -> Response:
        _account, _fault, problem = await self.begin(request, "verify")
        if problem is not None:
            return problem
        wanted = request.path_params["id"]
        found = self.store.get_account(NETWORK, wanted)
        if found is None:
            return error(404, f"Organization {wanted} does not exist", service=100)
        return JSONResponse({
            "id": int(wanted) if wanted.isdigit() else wanted,
            "$URN": org_urn(wanted),
            "localizedName": found.display_name,
            "name": {"localized": {"da_DK": found.display_name},
                     "preferredLocale": {"country": "DK", "language": "da"}},
            "vanityName": found.handle,
            "localizedWebsite": found.extra.get("website", "https://www.kk.dk"),
            "organizationType": "GOVERNMENT_AGENCY",
        })

    async def network_sizes(self, request: Request) -> Response:
        _account, _fault, problem = await self.begin(request, "metrics")
        if problem is not None:
            return problem
        urn = decode_urn(request.path_params["urn"])
        if request.query_params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            return error(400, "edgeType must be COMPANY_FOLLOWED_BY_MEMBER",
                         service=100)
        found = self.store.get_account(NETWORK, urn.rsplit(":", 1)[-1])
        if found is None:
            return error(404, f"{urn} does not exist", service=100)
        return JSONResponse({"firstDegreeSize": found.followers})

    def post_statistics(self, urn: str) -> dict:
        numbers = self.store.metrics(NETWORK, urn)
        comments = len(self.store.list_items(NETWORK, root_id=urn,
                                             kind=("comment", "reply")))
        views = numbers.get("views", 0)
        likes = numbers.get("likes", 0)
        shares = numbers.get("shares", 0)
        clicks = numbers.get("clicks", 0)
        engagement = (likes + comments + shares + clicks) / views if views else 0.0
        return {
            "impressionCount": views,
            "uniqueImpressionsCount": numbers.get("reach", int(views * 0.8)),
            "likeCount": likes,
            "commentCount": comments,
            "shareCount": shares,
            "clickCount": clicks,
            "engagement": round(engagement, 6),
        }

    async def share_statistics(self, request: Request) -> Response:
        account, _fault, problem = await self.begin(request, "metrics")
        if problem is not None:
            return problem
        q = request.query_params
        entity = q.get("organizationalEntity", "")
        if q.get("q") != "organizationalEntity" or entity != org_urn(
            account.account_id
        ):
            return error(403, f"Not enough permissions to read statistics of "
                              f"{entity}", code="ACCESS_DENIED", service=100)
        wanted = [("share", u) for u in parse_list(q.get("shares"))]
        wanted += [("ugcPost", u) for u in parse_list(q.get("ugcPosts"))]
        if wanted:
            elements = []
            for key, urn in wanted:
                item = self.store.get_item(NETWORK, urn)
                if item is None or item.account_id != account.account_id:
                    continue
                elements.append({
                    "organizationalEntity": entity, key: urn,
                    "totalShareStatistics": self.post_statistics(urn),
                })
            return JSONResponse({"elements": elements,
                                 "paging": {"start": 0, "count": len(elements),
                                            "links": []}})
        total: dict = {}
        for item in self.store.list_items(NETWORK, account_id=account.account_id,
                                          kind="post"):
            for name, value in self.post_statistics(item.item_id).items():
                if name != "engagement":
                    total[name] = total.get(name, 0) + value
        views = total.get("impressionCount", 0)
        engaged = sum(total.get(k, 0) for k in ("likeCount", "commentCount",
                                                 "shareCount", "clickCount"))
        total["engagement"] = round(engaged / views, 6) if views else 0.0
        return JSONResponse({"elements": [{
            "organizationalEntity": entity, "totalShareStatistics": total,
        }], "paging": {"start": 0, "count": 1, "links": []}})

    # -- OAuth ----------------------------------------------------------------

    async def authorization(self, request: Request) -> Response:
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if q.get("response_type") != "code" or not redirect_uri:
            return HTMLResponse("<p>Ugyldig forespørgsel: response_type=code og "
                                "redirect_uri skal være med.</p>", status_code=400)
        accounts = self.store.list_accounts(NETWORK)
        chosen = q.get("organization") or (accounts[0].account_id if accounts else "")
        if q.get("approve") == "1":
            code = self.ctx.token("li-code-", 12)
            self.store.put_token(NETWORK, code, chosen, kind="code",
                                 expires_at=self.ctx.now() + timedelta(minutes=30),
                                 extra={"redirect_uri": redirect_uri,
                                        "scope": q.get("scope", "")})
            params = urlencode({"code": code, "state": q.get("state", "")})
            joiner = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{joiner}{params}", status_code=302)
        options = []
        for a in accounts:
            query = urlencode({**dict(q), "organization": a.account_id,
                               "approve": "1"})
            options.append(
                f'<li><a href="?{html.escape(query)}">Giv adgang som '
                f"{html.escape(a.display_name)}</a></li>"
            )
        options = "".join(options)
        return HTMLResponse(
            "<!doctype html><html lang=da><meta charset=utf-8><title>LinkedIn "
            "(øvebane): giv adgang</title><body style='font-family:sans-serif;"
            "background:#f3f2ef;color:#191919'><h1>Giv Kanal adgang til en side"
            "</h1><p>Kanal beder om at måtte poste og læse kommentarer og "
            f"statistik ({html.escape(q.get('scope', ''))}).</p><ul>{options}"
            "</ul></body></html>"
        )

    async def access_token(self, request: Request) -> Response:
        form = await request.form()
        grant = form.get("grant_type")
        refresh = str(form.get("refresh_token") or "")
        known = self.store.get_token(NETWORK, refresh) if refresh else None
        fault = await self.ctx.fault(NETWORK, "token",
                                     known.account_id if known else None)
        if fault is not None and fault.kind != "timeout_after_create":
            if fault.kind in ("rate_limit", "quota_exhausted"):
                return error(429, "Too Many Requests", code="TOO_MANY_REQUESTS")
            if fault.kind == "server_error":
                return JSONResponse({"error": "server_error",
                                     "error_description": "Internal error"},
                                    status_code=500)
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "The provided authorization "
                                 "grant or refresh token is invalid, expired or "
                                 "revoked."}, status_code=400)
        now = self.ctx.now()
        if grant == "authorization_code":
            code = str(form.get("code") or "")
            found, reason = self.store.check_token(NETWORK, code, kinds=("code",))
            if reason:
                return JSONResponse({"error": "invalid_request",
                                     "error_description": "Unable to retrieve "
                                     "access token: authorization code not found"},
                                    status_code=400)
            if found.extra.get("redirect_uri") != form.get("redirect_uri"):
                return JSONResponse({"error": "invalid_redirect_uri",
                                     "error_description": "Unable to retrieve "
                                     "access token: appid/redirect uri/code "
                                     "verifier does not match authorization code"},
                                    status_code=400)
            self.store.revoke_token(NETWORK, code)
            account = self.store.get_account(NETWORK, found.account_id)
            body = self.issue(account, now, scope=found.extra.get("scope", ""))
        elif grant == "refresh_token":
            found, reason = self.store.check_token(NETWORK, refresh,
                                                   kinds=("refresh",))
            if reason:
                return JSONResponse({"error": "invalid_grant",
                                     "error_description": "The provided refresh "
                                     "token is invalid, expired or revoked"},
                                    status_code=400)
            account = self.store.get_account(NETWORK, found.account_id)
            body = self.issue(account, now, refresh=found)
        else:
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": f"{grant} is not supported"},
                                status_code=400)
        await self.late(fault)
        return JSONResponse(body)

    def issue(self, account, now: datetime, *, scope: str = "", refresh=None) -> dict:
        access = self.ctx.token("li-access-")
        self.store.put_token(NETWORK, access, account.account_id, kind="access",
                             expires_at=now + ACCESS_TTL)
        body = {"access_token": access,
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "scope": scope or "r_organization_social,w_organization_social,"
                                  "rw_organization_admin"}
        if refresh is not None:
            # The refresh token's lifetime does not restart on refresh.
            left = int((refresh.expires_at - now).total_seconds())
            body.update(refresh_token=refresh.token, refresh_token_expires_in=left)
        elif account.extra.get("refresh_tokens", True):
            token = self.ctx.token("li-refresh-")
            self.store.put_token(NETWORK, token, account.account_id, kind="refresh",
                                 expires_at=now + REFRESH_TTL)
            body.update(refresh_token=token,
                        refresh_token_expires_in=int(REFRESH_TTL.total_seconds()))
        return body

    # -- citizen-facing links -------------------------------------------------

    async def feed_update(self, request: Request) -> Response:
        urn = decode_urn(request.path_params["urn"]).rstrip("/")
        item = self.store.get_item(NETWORK, urn)
        if item is None:
            return HTMLResponse("Opslaget findes ikke", status_code=404)
        return RedirectResponse(
            f"/_sandbox/page/{NETWORK}/{item.account_id}#{item.item_id}",
            status_code=302,
        )

    async def company(self, request: Request) -> Response:
        account = self.store.find_account(NETWORK, request.path_params["vanity"])
        if account is None:
            return HTMLResponse("Siden findes ikke", status_code=404)
        return RedirectResponse(f"/_sandbox/page/{NETWORK}/{account.account_id}",
                                status_code=302)


def routes(ctx) -> list[Route]:
    li = LinkedIn(ctx)
    return [
        Route("/rest/posts", li.find_posts, methods=["GET"]),
        Route("/rest/posts", li.create_post, methods=["POST"]),
        Route("/rest/posts/{urn:path}", li.post_detail,
              methods=["GET", "POST", "DELETE"]),
        Route("/rest/images", li.images, methods=["POST"]),
        Route("/rest/images/{urn:path}", li.image_detail, methods=["GET"]),
        Route("/dms-uploads/{token}", li.upload, methods=["PUT", "POST"]),
        Route("/media/{urn:path}", li.media_bytes, methods=["GET"]),
        Route("/rest/socialActions/{urn}/comments/{comment_id}", li.comment_detail,
              methods=["GET", "DELETE"]),
        Route("/rest/socialActions/{urn}/comments", li.comments,
              methods=["GET", "POST"]),
        Route("/rest/reactions", li.reactions, methods=["POST"]),
        Route("/rest/reactions/{key:path}", li.reaction_detail, methods=["DELETE"]),
        Route("/rest/organizations/{id}", li.organization, methods=["GET"]),
        Route("/rest/networkSizes/{urn}", li.network_sizes, methods=["GET"]),
        Route("/rest/organizationalEntityShareStatistics", li.share_statistics,
              methods=["GET"]),
        Route("/oauth/v2/authorization", li.authorization, methods=["GET"]),
        Route("/oauth/v2/accessToken", li.access_token, methods=["POST"]),
        Route("/feed/update/{urn:path}", li.feed_update, methods=["GET"]),
        Route("/company/{vanity}/", li.company, methods=["GET"]),
        Route("/company/{vanity}", li.company, methods=["GET"]),
    ]


# -- hooks used by the sandbox core -------------------------------------------


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    if kind == "account":
        return str(ctx.store.next_seq("linkedin:organization", 2_000_001))
    if kind in ("post", "mention"):
        return f"urn:li:share:{ctx.store.next_seq('linkedin:share', 7_200_000_000)}"
    return f"urn:li:linkedInArticle:{ctx.store.next_seq('linkedin:other', 1)}"


def citizen_item(ctx, *, kind: str, account_id: str, text: str, parent_id: str,
                 root_id: str, author_id: str, author_name: str, data: dict):
    """Comments and replies get LinkedIn comment URNs; people are person URNs."""
    store = ctx.store
    if not author_id.startswith("urn:li:"):
        author_id = f"urn:li:person:{re.sub(r'[^A-Za-z0-9_-]', '', author_id)}"
    li = LinkedIn(ctx)
    if parent_id:
        post, parent = li.resolve_target(parent_id)
        if post is None:
            raise KeyError(parent_id)
        if parent is not None and parent.parent_id != post.item_id:
            parent = store.get_item(NETWORK, parent.parent_id)  # one level only
        return li.add_comment(post, parent, text=text, author_id=author_id,
                              author_name=author_name)
    now = ctx.now()
    urn = new_id(ctx, "post")
    item_kind = "post" if kind == "post" else kind
    return store.add_item(
        NETWORK, account_id, urn, item_kind, text=text, author_id=author_id,
        author_name=author_name,
        data={**(data or {}), "author": author_id, "commentary": escape(text),
              "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
              "createdAt": ms(now), "publishedAt": ms(now)},
        created_at=now,
    )


def seed(ctx) -> None:
    """Two earlier posts with a few comments on the demo page."""
    store = ctx.store
    account = store.get_account(NETWORK, "1000001")
    if account is None:
        return
    now = ctx.now()
    earlier = [
        (now - timedelta(days=3, hours=2),
         "Vi søger sagsbehandlere til Borgerservice på Islands Brygge. Søg senest "
         "15. december #voreskbh",
         [("Anne Holm", "Er stillingen på fuld tid?"),
          ("Jonas Berg", "Delt med min søster, hun leder netop efter job!")],
         (5200, 4100, 96, 14, 61)),
        (now - timedelta(days=1, hours=5),
         "Københavns nye klimaplan er vedtaget. Læs hvad den betyder for din bydel "
         "#voreskbh #klimakbh",
         [("Mikkel Dahl", "Endelig! Hvornår kommer der flere cykelstier på Amager?")],
         (3100, 2500, 58, 9, 44)),
    ]
    li = LinkedIn(ctx)
    for when, text, comments, (views, reach, likes, shares, clicks) in earlier:
        urn = new_id(ctx, "post")
        post = store.add_item(
            NETWORK, account.account_id, urn, "post", text=text,
            author_id=account.account_id, author_name=account.display_name,
            created_at=when,
            data={"author": org_urn(account.account_id), "commentary": text,
                  "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
                  "createdAt": ms(when), "publishedAt": ms(when),
                  "lastModifiedAt": ms(when), "media": []},
        )
        for name, value in (("views", views), ("reach", reach), ("likes", likes),
                            ("shares", shares), ("clicks", clicks)):
            store.set_metric(NETWORK, urn, name, value)
        for number, (name, comment) in enumerate(comments):
            li.add_comment(post, None, text=comment,
                           author_id=f"urn:li:person:seed{number}{urn[-4:]}",
                           author_name=name)
