"""Mastodon: ``/mastodon/api/v1/...``, ``/api/v2/...`` and ``/oauth/...``.

Follows PLATFORMS.md §4 and docs.joinmastodon.org: statuses with an
``Idempotency-Key`` kept for an hour (the same key returns the same status),
``POST /api/v2/media`` answering 200 for images and 202 for video, with
``GET /api/v1/media/:id`` giving 206 until processing is done (on the sandbox
clock), errors as ``{"error": "…"}`` (422 ``Validation failed: …``, 401
``The access token is invalid``, 404 ``Record not found``, 429 ``Too many
requests``), and ``X-RateLimit-Limit/Remaining/Reset`` (ISO 8601) on every
authenticated answer: 300 calls per 5 minutes per account.

The instance configuration (``/api/v2/instance``) is per sandbox and can be
changed with ``PUT /mastodon/_sandbox/instance`` (``max_characters``,
``max_media_attachments``, ``media_processing_seconds``, …).

Store layout: statuses are items (``kind`` ``post`` for the account's own
statuses and citizens' public posts, ``reply`` for the account's answers,
``comment``/``reply``/``mention``/``message`` for citizens) with numeric
``item_id``s, ``text`` the status source and ``data`` holding ``visibility``,
``language``, ``acct`` (the author's), ``in_reply_to_account_id`` and
``media`` (the attachments with their descriptions). Media are items
``kind="media"``; boosts are items ``kind="reblog"``. Citizens' statuses to
the account raise a ``mention`` notification (as Mastodon's apps add the
mention to a reply); notification ids are the items' ``seq``. Favourites and
boosts by citizens are the generic metrics ``likes`` and ``shares``; the
account's own favourites are the status's ``data["liked_by"]``
(``sandbox/likes.py``).

Faults (operation in brackets when it is not obvious): ``rate_limit`` 429 with
the reset headers; ``server_error`` 500 (or ``params.status``);
``expired_token`` 401; ``policy_block`` 403 ``This action is not allowed``;
``duplicate`` 422 ``Validation failed: Text duplicates a recent status``
(Mastodon has no duplicate check; a spam filter answers like this);
``quota_exhausted`` 429 with the 30-per-30-minutes media/status limit;
``invalid_media`` 422 ``File content type is invalid``;
``timeout_after_create`` creates, then answers late.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import regex
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox import likes, partners
from sandbox.params import BadParam, whole_number

logger = logging.getLogger("sandbox.mastodon")

NETWORK = "mastodon"
IDEMPOTENCY_WINDOW = timedelta(hours=1)
RATE_LIMIT = 300
RATE_WINDOW = timedelta(minutes=5)
MAX_PINNED = 5
ID_START = 110_000_000_000_000_000
DEMO_ACCOUNT = "109000000000000001"
DEFAULT_INSTANCE = {
    "max_characters": 500,
    "max_media_attachments": 4,
    "characters_reserved_per_url": 23,
    "image_size_limit": 16_777_216,
    "video_size_limit": 103_809_024,
    "description_limit": 1500,
    "media_processing_seconds": 3,
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif")
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime")
INBOX_KINDS = ("comment", "reply", "mention", "message")
STATUS_KINDS = ("post", "comment", "reply", "mention", "message")
URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,:;!?)\]]", re.IGNORECASE)
TAG_RE = regex.compile(r"(?<![\p{L}\p{N}_/#])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)")
MENTION_RE = re.compile(
    r"(?<![\w/])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)(@[\w.-]*\w)?", re.IGNORECASE
)
NOT_PROCESSED = (
    "Cannot attach files that have not finished processing. Try again in a moment!"
)


# -- helpers ----------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def bad_param(exc: BadParam) -> JSONResponse:
    return error(400, f"{exc.name} is invalid")


def count_text(text: str, reserved: int) -> int:
    replaced = URL_RE.sub("x" * reserved, text)
    shortened = MENTION_RE.sub(lambda m: "@" + m.group(1), replaced)
    return len(regex.findall(r"\X", shortened))


def render_content(ctx, text: str) -> str:
    """Status HTML the way Mastodon renders it (links, tags, mentions, <p>/<br>)."""

    def inline(part: str) -> str:
        pieces: list[str] = []
        position = 0
        tokens = sorted(
            [(m.start(), m.end(), "url", m) for m in URL_RE.finditer(part)]
            + [(m.start(), m.end(), "tag", m) for m in TAG_RE.finditer(part)]
            + [(m.start(), m.end(), "mention", m) for m in MENTION_RE.finditer(part)],
            key=lambda t: t[0],
        )
        for start, end, kind, match in tokens:
            if start < position:
                continue
            pieces.append(html.escape(part[position:start]))
            if kind == "url":
                url = match.group(0)
                scheme, _, rest = url.partition("://")
                pieces.append(
                    f'<a href="{html.escape(url)}" target="_blank" '
                    'rel="nofollow noopener noreferrer" translate="no">'
                    f'<span class="invisible">{scheme}://</span>'
                    f'<span class="">{html.escape(rest)}</span></a>'
                )
            elif kind == "tag":
                tag = match.group(1)
                href = ctx.public_url(f"/mastodon/tags/{tag.lower()}")
                pieces.append(
                    f'<a href="{html.escape(href)}" class="mention hashtag" '
                    f'rel="tag">#<span>{html.escape(tag)}</span></a>'
                )
            else:
                user = match.group(1)
                href = ctx.public_url(f"/mastodon/@{user}")
                pieces.append(
                    f'<span class="h-card" translate="no"><a href="{html.escape(href)}"'
                    f' class="u-url mention">@<span>{html.escape(user)}</span></a>'
                    "</span>"
                )
            position = end
        pieces.append(html.escape(part[position:]))
        return "".join(pieces)

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    return "".join(
        "<p>" + "<br />".join(inline(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def tags_of(text: str) -> list[str]:
    return [m.group(1) for m in TAG_RE.finditer(text)]


class Mastodon:
    """The emulator's state access and entity rendering."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.store = ctx.store

    # -- instance configuration ---------------------------------------------

    def instance(self) -> dict:
        return {**DEFAULT_INSTANCE, **(self.store.kv_get(NETWORK, "instance") or {})}

    # -- ids and accounts ---------------------------------------------------

    def new_id(self) -> str:
        return str(self.store.next_seq("mastodon:id", start=ID_START))

    def account_json(self, account_id: str, *, fallback: dict | None = None) -> dict:
        account = self.store.get_account(NETWORK, account_id)
        if account is not None:
            acct = account.extra.get("acct") or account.handle
            statuses = len(
                self.store.list_items(NETWORK, author_id=account_id, kind=STATUS_KINDS)
            )
            return {
                "id": account.account_id,
                "username": acct.split("@")[0],
                "acct": acct,
                "display_name": account.display_name,
                "locked": False,
                "bot": False,
                "created_at": iso(account.created_at or self.ctx.now()),
                "note": "",
                "url": self.ctx.public_url(f"/mastodon/@{acct}"),
                "avatar": self.ctx.public_url("/_sandbox/media/square.jpg"),
                "followers_count": account.followers,
                "following_count": 12,
                "statuses_count": statuses,
                "fields": [],
                "emojis": [],
            }
        fallback = fallback or {}
        acct = fallback.get("acct") or f"borger{account_id[-6:]}@andet.social"
        return {
            "id": account_id,
            "username": acct.split("@")[0],
            "acct": acct,
            "display_name": fallback.get("display_name", ""),
            "locked": False,
            "bot": False,
            "created_at": iso(self.ctx.now()),
            "note": "",
            "url": f"https://{acct.split('@')[-1]}/@{acct.split('@')[0]}",
            "avatar": self.ctx.public_url("/_sandbox/media/square.jpg"),
            "followers_count": 37,
            "following_count": 80,
            "statuses_count": 5,
            "fields": [],
            "emojis": [],
        }

    def author_acct(self, item) -> str:
        account = self.store.get_account(NETWORK, item.author_id)
        if account is not None:
            return account.extra.get("acct") or account.handle
        return item.data.get("acct") or f"borger{item.author_id[-6:]}@andet.social"

    # -- statuses -----------------------------------------------------------

    def status_json(self, item, *, with_source: bool = False) -> dict:
        data = item.data
        acct = self.author_acct(item)
        metrics = self.store.metrics(NETWORK, item.item_id)
        replies = len(
            self.store.list_items(NETWORK, parent_id=item.item_id, kind=STATUS_KINDS)
        )
        reblogs = len(
            self.store.list_items(NETWORK, parent_id=item.item_id, kind="reblog")
        )
        status = {
            "id": item.item_id,
            "created_at": iso(item.created_at),
            "in_reply_to_id": item.parent_id or None,
            "in_reply_to_account_id": data.get("in_reply_to_account_id") or None,
            "sensitive": bool(data.get("sensitive")),
            "spoiler_text": data.get("spoiler_text", ""),
            "visibility": data.get("visibility", "public"),
            "language": data.get("language"),
            "uri": self.ctx.public_url(
                f"/mastodon/users/{acct.split('@')[0]}/statuses/{item.item_id}"
            ),
            "url": self.ctx.public_url(f"/mastodon/@{acct}/{item.item_id}"),
            "replies_count": replies,
            "reblogs_count": reblogs + metrics.get("shares", 0),
            "favourites_count": metrics.get("likes", 0) + len(likes.liked_by(item)),
            "edited_at": iso(datetime.fromisoformat(data["edited_at"]))
            if data.get("edited_at") else None,
            "favourited": False,
            "reblogged": False,
            "pinned": bool(data.get("pinned")),
            "content": render_content(self.ctx, item.text),
            "reblog": None,
            "application": {"name": data["application"]}
            if data.get("application")
            else None,
            "account": self.account_json(
                item.author_id,
                fallback={"acct": data.get("acct"), "display_name": item.author_name},
            ),
            "media_attachments": data.get("media", []),
            "mentions": [],
            "tags": [
                {
                    "name": t.lower(),
                    "url": self.ctx.public_url(f"/mastodon/tags/{t.lower()}"),
                }
                for t in tags_of(item.text)
            ],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if with_source:
            status["text"] = item.text
        return status

    def reblog_json(self, item) -> dict:
        original = self.store.get_item(NETWORK, item.parent_id)
        return {
            **self.status_json(item),
            "content": "",
            "url": None,
            "in_reply_to_id": None,
            "media_attachments": [],
            "tags": [],
            "reblog": self.status_json(original) if original else None,
        }

    def visible_status(self, status_id: str):
        item = self.store.get_item(NETWORK, status_id, include_deleted=False)
        if item is None or item.kind not in (*STATUS_KINDS, "reblog"):
            return None
        return item

    def render(self, item) -> dict:
        return (
            self.reblog_json(item) if item.kind == "reblog" else self.status_json(item)
        )

    # -- rate limit ---------------------------------------------------------

    def count_call(self, account_id: str) -> tuple[int, dict]:
        """Count one call in the account's 5-minute window: (used, headers)."""
        now = self.ctx.now()
        window_seconds = int(RATE_WINDOW.total_seconds())
        window = int(now.timestamp()) // window_seconds
        key = f"rate:{account_id}:{window}"
        used = int(self.store.kv_get(NETWORK, key) or 0) + 1
        self.store.kv_set(NETWORK, key, used)
        reset = datetime.fromtimestamp((window + 1) * window_seconds, tz=now.tzinfo)
        return used, {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - used)),
            "X-RateLimit-Reset": iso(reset),
        }


def fault_response(ctx, fault, account_id: str) -> Response | None:
    """The fault in Mastodon's own shape (None for ``timeout_after_create``)."""
    now = ctx.now()
    if fault.kind == "rate_limit":
        reset = now + timedelta(seconds=int(fault.params.get("retry_after", 120)))
        return error(
            429,
            "Too many requests",
            headers={
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso(reset),
            },
        )
    if fault.kind == "quota_exhausted":
        reset = now + timedelta(minutes=30)
        return error(
            429,
            "Too many requests",
            headers={
                "X-RateLimit-Limit": "30",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso(reset),
            },
        )
    if fault.kind == "server_error":
        status = int(fault.params.get("status", 500))
        message = (
            "Remote data could not be fetched"
            if status == 503
            else "We're sorry, but something went wrong on our end."
        )
        return error(status, message)
    if fault.kind == "expired_token":
        return error(401, "The access token is invalid")
    if fault.kind == "policy_block":
        return error(403, "This action is not allowed")
    if fault.kind == "duplicate":
        return error(422, "Validation failed: Text duplicates a recent status")
    if fault.kind == "invalid_media":
        return error(422, "Validation failed: File content type is invalid")
    return None


# -- module hooks --------------------------------------------------------------------


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    if kind == "account":
        return str(
            ctx.store.next_seq("mastodon:account", start=109_000_000_000_000_100)
        )
    return Mastodon(ctx).new_id()


def provision(ctx, account, body: dict) -> dict:
    """Mastodon tokens do not expire: one access token, plus an app's client."""
    token = body.get("access_token") or ctx.token("mastodon-")
    ctx.store.put_token(
        NETWORK, token, account.account_id, kind="access", expires_at=None
    )
    client_id = ctx.token("mastodon-client-", 12)
    client_secret = ctx.token("mastodon-secret-", 16)
    ctx.store.put_token(
        NETWORK,
        client_id,
        account.account_id,
        kind="app",
        extra={"client_secret": client_secret, "redirect_uris": ""},
    )
    if not account.extra.get("acct"):
        ctx.store.update_account(
            NETWORK, account.account_id, extra={"acct": account.handle}
        )
    return {
        "access_token": token,
        "client_id": client_id,
        "client_secret": client_secret,
    }


def citizen_item(
    ctx, *, kind, account_id, text, parent_id, root_id, author_id, author_name, data
):
    store = ctx.store
    parent = store.get_item(NETWORK, parent_id) if parent_id else None
    if parent is not None and not root_id:
        root_id = parent.root_id or parent.item_id
    slug = re.sub(r"[^a-z0-9]+", "_", author_name.lower()).strip("_") or "borger"
    fields = {
        "acct": f"{slug}@andet.social",
        "visibility": "direct" if kind == "message" else "public",
        "language": "da",
        "in_reply_to_account_id": parent.author_id if parent else "",
        **(data or {}),
    }
    return store.add_item(
        NETWORK,
        account_id,
        Mastodon(ctx).new_id(),
        kind,
        text=text,
        parent_id=parent_id,
        root_id=root_id,
        author_id=author_id,
        author_name=author_name,
        data=fields,
    )


def page_post(ctx, item) -> dict:
    """Media and link for the citizen pages (attachments carry ``description``)."""
    media = [
        {"url": m.get("url") or "", "alt": m.get("description") or ""}
        for m in item.data.get("media") or []
    ]
    links = URL_RE.findall(item.text or "")
    return {"media": media, "link": links[-1] if links else ""}


DEMO_POSTS = [
    {
        "days_ago": 3,
        "text": "Havnebadet ved Islands Brygge åbner for sæsonen på lørdag kl. 10. "
        "Tjek badevandet på https://www.kk.dk/badevand, før du hopper i. #voreskbh",
        "metrics": {"likes": 42, "shares": 9},
        "comments": [
            (
                "Mette Hansen",
                "Glæder mig! Er der livredder hele weekenden?",
                "Ja, der er livredder fra kl. 10 til 19 både lørdag og søndag.",
            ),
            ("Ahmad Khan", "Åbner Sluseholmen samme dag?", ""),
        ],
    },
    {
        "days_ago": 2,
        "text": "Kulturnatten er fredag. Rådhuset holder åbent til midnat med "
        "rundvisninger i tårnet. Hele programmet: https://www.kk.dk/kulturnatten "
        "#kulturnat",
        "metrics": {"likes": 65, "shares": 21},
        "comments": [
            (
                "Sofie Larsen",
                "Skal man bestille billet til tårnet?",
                "Nej, det er gratis, men der kan være kø.",
            ),
        ],
    },
    {
        "days_ago": 1,
        "text": "Biblioteket på Islands Brygge har nye åbningstider: hverdage 8-22 "
        "med selvbetjening efter kl. 19. #kbhbibliotek",
        "image": "landscape.jpg",
        "alt": "Læsesalen på Islands Brygge Bibliotek med store vinduer ud mod havnen",
        "metrics": {"likes": 18, "shares": 3},
        "comments": [
            ("Lars Sørensen", "Super! Gælder det også i sommerferien?", ""),
        ],
    },
]
DEMO_PUBLIC_POSTS = [
    ("Jonas Nielsen", "Solnedgang over Kalvebod Brygge i aften 🌅 #voreskbh", 5),
    (
        "Freja Poulsen",
        "Tak til skraldemændene på Nørrebro for at komme trods sneen! #voreskbh",
        20,
    ),
]


#: Partner accounts on the instance (other city bodies) whose public posts
#: Kanal can follow as a source: (id, acct, name, [(text, hours ago, image)]).
PARTNER_ACCOUNTS = (
    (
        "109000000000000201",
        "bibliotek@kk.social",
        "Københavns Biblioteker",
        (
            (
                "Lørdag er der sprogcafé på Hovedbiblioteket kl. 11-13. Alle er "
                "velkomne, og det er gratis. https://bibliotek.kk.dk/sprogcafe",
                30,
                "landscape.jpg",
            ),
            ("Vi holder lukket 2. juledag. God jul fra bibliotekerne!", 6, ""),
        ),
    ),
    (
        "109000000000000202",
        "politi@kk.social",
        "Københavns Politi",
        (
            (
                "Pas på lommetyve i julehandlen på Strøget. Hold tasken lukket og "
                "telefonen i en inderlomme.",
                3,
                "",
            ),
        ),
    ),
)
def ensure_partners(ctx) -> None:
    """Write the partner accounts and their posts once (also after a reset)."""
    mastodon = Mastodon(ctx)

    def write_post(account_id, acct, name, post, at):
        text, _hours, image = post
        media = []
        if image:
            url = ctx.public_url(f"/_sandbox/media/{image}")
            media = [{
                "id": mastodon.new_id(), "type": "image", "url": url,
                "preview_url": url, "remote_url": None, "meta": {},
                "description": "", "blurhash": None,
            }]
        ctx.store.add_item(
            NETWORK, account_id, mastodon.new_id(), "post", text=text,
            author_id=account_id, author_name=name, created_at=at,
            data={"visibility": "public", "language": "da", "media": media},
        )

    partners.seed_once(ctx, NETWORK, PARTNER_ACCOUNTS, followers=4200,
                       write_post=write_post, extra=lambda acct: {"acct": acct})


def _acct(author: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", author.lower()).strip("_") + "@andet.social"


def seed(ctx) -> None:
    """Three posts of the demo account with citizens' replies, and public
    #voreskbh posts."""
    from ..seed import demo_account

    store = ctx.store
    mastodon = Mastodon(ctx)
    demo = demo_account(NETWORK)
    account_id, name = demo["account_id"], demo["display_name"]
    now = ctx.now()
    for post in DEMO_POSTS:
        at = now - timedelta(days=post["days_ago"])
        media = []
        if post.get("image"):
            url = ctx.public_url(f"/_sandbox/media/{post['image']}")
            media = [
                {
                    "id": mastodon.new_id(),
                    "type": "image",
                    "url": url,
                    "preview_url": url,
                    "remote_url": None,
                    "meta": {},
                    "description": post["alt"],
                    "blurhash": None,
                }
            ]
        item = store.add_item(
            NETWORK,
            account_id,
            mastodon.new_id(),
            "post",
            text=post["text"],
            author_id=account_id,
            author_name=name,
            created_at=at,
            data={
                "visibility": "public",
                "language": "da",
                "media": media,
                "application": "Kanal",
            },
        )
        for metric, value in post["metrics"].items():
            store.set_metric(NETWORK, item.item_id, metric, value)
        for number, (author, text, answer) in enumerate(post["comments"], 1):
            asked = at + timedelta(minutes=23 * number)
            comment = store.add_item(
                NETWORK,
                account_id,
                mastodon.new_id(),
                "comment",
                text=text,
                parent_id=item.item_id,
                root_id=item.item_id,
                author_id=f"citizen-{_acct(author).split('@')[0]}",
                author_name=author,
                created_at=asked,
                data={
                    "acct": _acct(author),
                    "visibility": "public",
                    "language": "da",
                    "in_reply_to_account_id": account_id,
                },
            )
            if answer:
                store.add_item(
                    NETWORK,
                    account_id,
                    mastodon.new_id(),
                    "reply",
                    text=f"@{_acct(author)} {answer}",
                    parent_id=comment.item_id,
                    root_id=item.item_id,
                    author_id=account_id,
                    author_name=name,
                    created_at=asked + timedelta(minutes=35),
                    data={
                        "visibility": "public",
                        "language": "da",
                        "in_reply_to_account_id": comment.author_id,
                        "application": "Kanal",
                    },
                )
    for author, text, hours_ago in DEMO_PUBLIC_POSTS:
        citizen = f"citizen-{_acct(author).split('@')[0]}"
        store.add_item(
            NETWORK,
            citizen,
            mastodon.new_id(),
            "post",
            text=text,
            author_id=citizen,
            author_name=author,
            created_at=now - timedelta(hours=hours_ago),
            data={"acct": _acct(author), "visibility": "public", "language": "da"},
        )


# -- routes -------------------------------------------------------------------------


def routes(ctx) -> list[Route]:
    mastodon = Mastodon(ctx)
    store = ctx.store

    def authenticate(request: Request):
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        found, reason = store.check_token(NETWORK, token, kinds=["access"])
        if reason:
            return None, error(401, "The access token is invalid")
        return found.account_id, None

    async def begin(request: Request, operation: str):
        """Authenticate, count the call, apply faults: (account, fault, error)."""
        account_id, failure = authenticate(request)
        if failure is not None:
            return None, None, failure
        used, headers = mastodon.count_call(account_id)
        if used > RATE_LIMIT:
            return None, None, error(429, "Too many requests", headers=headers)
        fault = await ctx.fault(NETWORK, operation, account_id)
        if fault is not None:
            response = fault_response(ctx, fault, account_id)
            if response is not None:
                return None, None, response
        request.state.rate_headers = headers
        return account_id, fault, None

    def is_own(item, account_id: str) -> bool:
        return item.author_id == account_id

    def not_reblog(item, _account_id: str) -> bool:
        return item.kind != "reblog"

    async def begin_on_status(request: Request, operation: str, *,
                              accept=lambda _item, _account_id: True):
        """``begin``, then the status in the path; 404 ``Record not found``
        when it is not visible or not ``accept``-ed for the caller:
        ``(account, fault, status, error)``."""
        account_id, fault, failure = await begin(request, operation)
        if failure is not None:
            return None, None, None, failure
        item = mastodon.visible_status(request.path_params["id"])
        if item is None or not accept(item, account_id):
            return None, None, None, error(404, "Record not found")
        return account_id, fault, item, None

    def answer(request: Request, body, status: int = 200) -> JSONResponse:
        return JSONResponse(
            body,
            status_code=status,
            headers=getattr(request.state, "rate_headers", None),
        )

    async def read_body(request: Request) -> dict:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                value = json.loads(await request.body() or b"{}")
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
        form = await request.form()
        body: dict = {}
        for key, value in form.multi_items():
            if key.endswith("[]"):
                body.setdefault(key[:-2], []).append(value)
            else:
                body[key] = value
        return body

    # -- instance ---------------------------------------------------------------

    async def instance_v2(request: Request) -> JSONResponse:
        config = mastodon.instance()
        return JSONResponse(
            {
                "domain": "127.0.0.1",
                "title": "Kanal-sandkassen (Mastodon)",
                "version": "4.5.0",
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "Øvebane for Kanal.",
                "languages": ["da", "en"],
                "configuration": {
                    "urls": {"streaming": None},
                    "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                    "statuses": {
                        "max_characters": config["max_characters"],
                        "max_media_attachments": config["max_media_attachments"],
                        "characters_reserved_per_url": config[
                            "characters_reserved_per_url"
                        ],
                    },
                    "media_attachments": {
                        "supported_mime_types": [*IMAGE_TYPES, *VIDEO_TYPES],
                        "description_limit": config["description_limit"],
                        "image_size_limit": config["image_size_limit"],
                        "image_matrix_limit": 33_177_600,
                        "video_size_limit": config["video_size_limit"],
                        "video_frame_rate_limit": 120,
                        "video_matrix_limit": 8_294_400,
                    },
                    "polls": {
                        "max_options": 4,
                        "max_characters_per_option": 50,
                        "min_expiration": 300,
                        "max_expiration": 2_629_746,
                    },
                    "translation": {"enabled": False},
                },
                "registrations": {"enabled": False, "approval_required": False},
            }
        )

    async def sandbox_instance(request: Request) -> JSONResponse:
        try:
            changes = json.loads(await request.body() or b"{}")
        except ValueError:
            return error(400, "body must be JSON")
        unknown = set(changes) - set(DEFAULT_INSTANCE)
        if unknown:
            return error(400, f"unknown settings: {sorted(unknown)}")
        current = store.kv_get(NETWORK, "instance") or {}
        current.update({k: int(v) for k, v in changes.items()})
        store.kv_set(NETWORK, "instance", current)
        return JSONResponse(mastodon.instance())

    # -- accounts ---------------------------------------------------------------

    async def verify_credentials(request: Request) -> JSONResponse:
        account_id, _, failure = await begin(request, "verify")
        if failure is not None:
            return failure
        body = mastodon.account_json(account_id)
        body["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "da",
            "note": "",
            "fields": [],
        }
        return answer(request, body)

    async def account_show(request: Request) -> JSONResponse:
        _account_id, _, failure = await begin(request, "verify")
        if failure is not None:
            return failure
        wanted = request.path_params["id"]
        if store.get_account(NETWORK, wanted) is None:
            return error(404, "Record not found")
        return answer(request, mastodon.account_json(wanted))

    def page(items, request: Request, key=lambda i: int(i.item_id)) -> list:
        """Mastodon's id pagination over items sorted newest first."""
        q = request.query_params
        limit = whole_number(q, "limit", 20, low=1, high=40)
        max_id = whole_number(q, "max_id")
        since_id = whole_number(q, "since_id")
        min_id = whole_number(q, "min_id")
        if max_id is not None:
            items = [i for i in items if key(i) < max_id]
        if since_id is not None:
            items = [i for i in items if key(i) > since_id]
        if min_id is not None:
            newer = [i for i in items if key(i) > min_id]
            return newer[-limit:]
        return items[:limit]

    def link_header(request: Request, ids: list[int]) -> dict:
        if not ids:
            return {}
        base = str(request.url.replace(query=""))
        rest = [
            (k, v)
            for k, v in request.query_params.multi_items()
            if k not in ("max_id", "min_id", "since_id")
        ]
        older = f"{base}?{urlencode([*rest, ('max_id', min(ids))])}"
        newer = f"{base}?{urlencode([*rest, ('min_id', max(ids))])}"
        return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}

    async def account_lookup(request: Request) -> JSONResponse:
        _account_id, _, failure = await begin(request, "verify")
        if failure is not None:
            return failure
        ensure_partners(ctx)
        acct = request.query_params.get("acct", "").lstrip("@")
        found = store.find_account(NETWORK, acct)
        if found is None:
            return error(404, "Record not found")
        return answer(request, mastodon.account_json(found.account_id))

    async def account_statuses(request: Request) -> JSONResponse:
        account_id, _, failure = await begin(request, "verify")
        if failure is not None:
            return failure
        ensure_partners(ctx)
        author = request.path_params["id"]
        q = request.query_params
        kinds = list(STATUS_KINDS)
        if q.get("exclude_reblogs") not in ("true", "1"):
            kinds.append("reblog")
        items = store.list_items(NETWORK, author_id=author, kind=kinds)
        if q.get("exclude_replies") in ("true", "1"):
            items = [i for i in items if not i.parent_id]
        items = [
            i
            for i in items
            if i.data.get("visibility") != "direct" or author == account_id
        ]
        found = page(items, request)
        response = answer(request, [mastodon.render(i) for i in found])
        response.headers.update(link_header(request, [int(i.item_id) for i in found]))
        return response

    # -- media ------------------------------------------------------------------

    async def media_create(request: Request) -> JSONResponse:
        account_id, _fault, failure = await begin(request, "media")
        if failure is not None:
            return failure
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            return error(422, "Validation failed: File can't be blank")
        content = await upload.read()
        mime = (upload.content_type or "").split(";")[0]
        config = mastodon.instance()
        description = str(form.get("description") or "")
        if mime not in (*IMAGE_TYPES, *VIDEO_TYPES):
            return error(422, "Validation failed: File content type is invalid")
        if len(description) > config["description_limit"]:
            return error(
                422,
                "Validation failed: Description is too long (maximum is "
                f"{config['description_limit']} characters)",
            )
        video = mime in VIDEO_TYPES or mime == "image/gif"
        limit = config["video_size_limit"] if video else config["image_size_limit"]
        if len(content) > limit:
            return error(
                422,
                f"Validation failed: File file size must be less than "
                f"{limit // 1_048_576} MB",
            )
        media_id = mastodon.new_id()
        kind = (
            "video"
            if mime in VIDEO_TYPES
            else ("gifv" if mime == "image/gif" else "image")
        )
        ready_at = ctx.now() + timedelta(
            seconds=config["media_processing_seconds"] if video else 0
        )
        url = ctx.public_url(
            f"/_sandbox/media/{'landscape' if video else 'square'}.jpg"
        )
        attachment = {
            "id": media_id,
            "type": kind,
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "meta": {},
            "description": description or None,
            "blurhash": "UFBWY:8_0Jxv4mof4oWB00of~qM{-;WBj[of",
        }
        store.add_item(
            NETWORK,
            account_id,
            media_id,
            "media",
            text=description,
            author_id=account_id,
            data={
                "attachment": attachment,
                "ready_at": ready_at.isoformat(),
                "mime_type": mime,
                "size": len(content),
            },
        )
        if video:
            return answer(request, {**attachment, "url": None}, 202)
        return answer(request, attachment)

    def media_ready(item) -> bool:
        return datetime.fromisoformat(item.data["ready_at"]) <= ctx.now()

    async def begin_on_media(request: Request):
        """``begin``, then the caller's own media in the path (404 ``Record not
        found`` for anyone else's): ``(media, error)``."""
        account_id, _, failure = await begin(request, "media")
        if failure is not None:
            return None, failure
        item = store.get_item(NETWORK, request.path_params["id"])
        if item is None or item.kind != "media" or item.account_id != account_id:
            return None, error(404, "Record not found")
        return item, None

    async def media_show(request: Request) -> JSONResponse:
        item, failure = await begin_on_media(request)
        if failure is not None:
            return failure
        attachment = item.data["attachment"]
        if not media_ready(item):
            return answer(request, {**attachment, "url": None}, 206)
        return answer(request, attachment)

    async def media_update(request: Request) -> JSONResponse:
        item, failure = await begin_on_media(request)
        if failure is not None:
            return failure
        body = await read_body(request)
        attachment = {**item.data["attachment"]}
        if "description" in body:
            attachment["description"] = str(body["description"]) or None
        store.update_item(
            NETWORK,
            item.item_id,
            text=attachment["description"] or "",
            data={"attachment": attachment},
        )
        return answer(request, attachment)

    # -- statuses ---------------------------------------------------------------

    async def status_create(request: Request) -> JSONResponse:
        body = await read_body(request)
        parent_id = str(body.get("in_reply_to_id") or "")
        operation = "message" if body.get("visibility") == "direct" else (
            "reply" if parent_id else "publish")
        account_id, fault, failure = await begin(request, operation)
        if failure is not None:
            return failure
        key = request.headers.get("idempotency-key", "")
        memory_key = f"idempotency:{account_id}:{key}"
        if key:
            remembered = store.kv_get(NETWORK, memory_key)
            if remembered and (
                datetime.fromisoformat(remembered["at"]) + IDEMPOTENCY_WINDOW
                > ctx.now()
            ):
                existing = store.get_item(NETWORK, remembered["status_id"])
                if existing is not None:
                    return answer(request, mastodon.status_json(existing))
        config = mastodon.instance()
        text = str(body.get("status") or "")
        media_ids = [str(m) for m in body.get("media_ids") or []]
        visibility = str(body.get("visibility") or "public")
        if visibility not in ("public", "unlisted", "private", "direct"):
            return error(
                422, "Validation failed: Visibility is not included in the list"
            )
        if len(media_ids) > config["max_media_attachments"]:
            return error(
                422,
                "Validation failed: Media attachments Cannot attach "
                f"more than {config['max_media_attachments']} files",
            )
        attachments = []
        for media_id in media_ids:
            media = store.get_item(NETWORK, media_id)
            if media is None or media.kind != "media" or media.account_id != account_id:
                return error(422, "Validation failed: Media attachments are invalid")
            if not media_ready(media):
                return error(422, NOT_PROCESSED)
            attachments.append(media.data["attachment"])
        if len(attachments) > 1 and any(a["type"] != "image" for a in attachments):
            return error(
                422,
                "Validation failed: Media attachments Cannot attach a "
                "video to a post that already contains images",
            )
        if not text.strip() and not attachments:
            return error(422, "Validation failed: Text can't be blank")
        length = count_text(text, config["characters_reserved_per_url"])
        if length > config["max_characters"]:
            return error(
                422,
                "Validation failed: Text character limit of "
                f"{config['max_characters']} exceeded",
            )
        parent = None
        if parent_id:
            parent = mastodon.visible_status(parent_id)
            if parent is None:
                return error(404, "Record not found")
        account = store.get_account(NETWORK, account_id)
        status_id = mastodon.new_id()
        item = store.add_item(
            NETWORK,
            parent.account_id if parent else account_id,
            status_id,
            "reply" if parent else "post",
            text=text,
            parent_id=parent.item_id if parent else "",
            root_id=(parent.root_id or parent.item_id) if parent else "",
            author_id=account_id,
            author_name=account.display_name if account else "",
            idempotency_key=key,
            data={
                "visibility": visibility,
                "language": body.get("language") or "da",
                "sensitive": str(body.get("sensitive", "")).lower() == "true",
                "spoiler_text": str(body.get("spoiler_text") or ""),
                "in_reply_to_account_id": parent.author_id if parent else "",
                "media": attachments,
                "application": "Kanal",
            },
        )
        for media_id in media_ids:
            store.update_item(NETWORK, media_id, parent_id=status_id)
        # A direct status is a private message, whatever it answers.
        logged = "message" if visibility == "direct" else (
            "reply" if parent else "post")
        store.log_publish(
            NETWORK,
            account_id,
            status_id,
            kind=logged,
            idempotency_key=key,
            text=text,
        )
        if key:
            store.kv_set(
                NETWORK,
                memory_key,
                {"status_id": status_id, "at": ctx.now().isoformat()},
            )
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(request, mastodon.status_json(item))

    async def status_show(request: Request) -> JSONResponse:
        _account_id, _, item, failure = await begin_on_status(
            request, "metrics"
        )
        if failure is not None:
            return failure
        return answer(request, mastodon.render(item))

    async def statuses_many(request: Request) -> JSONResponse:
        _account_id, _, failure = await begin(request, "metrics")
        if failure is not None:
            return failure
        ids = request.query_params.getlist("id[]")[:20]
        found = [mastodon.visible_status(i) for i in ids]
        return answer(request, [mastodon.render(i) for i in found if i is not None])

    async def status_delete(request: Request) -> JSONResponse:
        _account_id, fault, item, failure = await begin_on_status(
            request, "delete", accept=is_own
        )
        if failure is not None:
            return failure
        store.delete_item(NETWORK, item.item_id)
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(request, mastodon.status_json(item, with_source=True))

    async def status_reblog(request: Request) -> JSONResponse:
        account_id, fault, original, failure = await begin_on_status(
            request, "repost", accept=not_reblog
        )
        if failure is not None:
            return failure
        if original.data.get("visibility") in ("private", "direct"):
            return error(403, "This action is not allowed")
        existing = store.list_items(
            NETWORK, author_id=account_id, kind="reblog", parent_id=original.item_id
        )
        if existing:
            return answer(request, mastodon.reblog_json(existing[0]))
        account = store.get_account(NETWORK, account_id)
        reblog_id = mastodon.new_id()
        item = store.add_item(
            NETWORK,
            account_id,
            reblog_id,
            "reblog",
            parent_id=original.item_id,
            author_id=account_id,
            author_name=account.display_name if account else "",
            data={"visibility": "public"},
        )
        store.log_publish(NETWORK, account_id, reblog_id, kind="reblog")
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(request, mastodon.reblog_json(item))

    async def status_favourite(request: Request) -> JSONResponse:
        """``/favourite`` and ``/unfavourite``: one favourite per account and
        status; the answer is the status with ``favourited`` set."""
        account_id, fault, item, failure = await begin_on_status(
            request, "like", accept=not_reblog
        )
        if failure is not None:
            return failure
        liking = request.url.path.endswith("/favourite")
        item = likes.set_like(store, NETWORK, item, account_id, liking)
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(request, {**mastodon.status_json(item), "favourited": liking})

    async def status_pin(request: Request) -> JSONResponse:
        account_id, _, item, failure = await begin_on_status(
            request, "pin"
        )
        if failure is not None:
            return failure
        pinning = request.url.path.endswith("/pin")
        if pinning and not item.data.get("pinned"):
            if item.author_id != account_id:
                return error(
                    422, "Validation failed: Someone else's post cannot be pinned"
                )
            if item.kind == "reblog":
                return error(422, "Validation failed: A boost cannot be pinned")
            if item.data.get("visibility") in ("private", "direct"):
                return error(
                    422,
                    "Validation failed: Posts that are only visible to mentioned "
                    "users cannot be pinned",
                )
            pinned = [
                i
                for i in store.list_items(
                    NETWORK, author_id=account_id, kind=STATUS_KINDS
                )
                if i.data.get("pinned")
            ]
            if len(pinned) >= MAX_PINNED:
                return error(
                    422,
                    "Validation failed: You have already pinned the maximum "
                    "number of posts",
                )
        if item.author_id == account_id:
            item = store.update_item(
                NETWORK,
                item.item_id,
                data={"pinned": pinning, "pinned_at": ctx.now().isoformat()},
            )
        return answer(request, mastodon.status_json(item))

    async def status_context(request: Request) -> JSONResponse:
        account_id, _, item, failure = await begin_on_status(
            request, "inbox"
        )
        if failure is not None:
            return failure
        ancestors = []
        cursor = item
        while cursor.parent_id:
            parent = mastodon.visible_status(cursor.parent_id)
            if parent is None:
                break
            ancestors.insert(0, parent)
            cursor = parent
        descendants: list = []

        def collect(parent_id: str) -> None:
            children = store.list_items(
                NETWORK, parent_id=parent_id, kind=STATUS_KINDS, newest_first=False
            )
            for child in children:
                if child.data.get("visibility") == "direct" and account_id not in (
                    child.author_id,
                    child.account_id,
                ):
                    continue
                descendants.append(child)
                collect(child.item_id)

        collect(item.item_id)
        return answer(
            request,
            {
                "ancestors": [mastodon.status_json(i) for i in ancestors],
                "descendants": [mastodon.status_json(i) for i in descendants],
            },
        )

    # -- notifications ------------------------------------------------------------

    async def notifications(request: Request) -> JSONResponse:
        account_id, _, failure = await begin(request, "inbox")
        if failure is not None:
            return failure
        q = request.query_params
        types = q.getlist("types[]")
        excluded = q.getlist("exclude_types[]")
        if (types and "mention" not in types) or "mention" in excluded:
            return answer(request, [])
        items = [
            i
            for i in store.list_items(NETWORK, account_id=account_id, kind=INBOX_KINDS)
            if i.author_id != account_id
        ]
        found = page(items, request, key=lambda i: i.seq)
        body = [
            {
                "id": str(i.seq),
                "type": "mention",
                "group_key": f"ungrouped-{i.seq}",
                "created_at": iso(i.created_at),
                "account": mastodon.status_json(i)["account"],
                "status": mastodon.status_json(i),
            }
            for i in found
        ]
        response = answer(request, body)
        response.headers.update(link_header(request, [i.seq for i in found]))
        return response

    # -- timelines ------------------------------------------------------------------

    async def tag_timeline(request: Request) -> JSONResponse:
        _account_id, _, failure = await begin(request, "hashtag")
        if failure is not None:
            return failure
        tag = request.path_params["hashtag"].lstrip("#").lower()
        candidates = store.list_items(
            NETWORK, kind=STATUS_KINDS, text_contains=f"#{tag}"
        )
        items = [
            i
            for i in candidates
            if i.data.get("visibility", "public") == "public"
            and tag in (t.lower() for t in tags_of(i.text))
        ]
        if request.query_params.get("local") in ("true", "1"):
            items = [i for i in items if store.get_account(NETWORK, i.author_id)]
        found = page(items, request)
        response = answer(request, [mastodon.status_json(i) for i in found])
        response.headers.update(link_header(request, [int(i.item_id) for i in found]))
        return response

    # -- OAuth ----------------------------------------------------------------------

    async def apps_create(request: Request) -> JSONResponse:
        body = await read_body(request)
        if not body.get("client_name") or not body.get("redirect_uris"):
            return error(422, "Validation failed: Application name can't be blank")
        client_id = ctx.token("mastodon-client-", 12)
        client_secret = ctx.token("mastodon-secret-", 16)
        uris = body["redirect_uris"]
        uris = uris if isinstance(uris, list) else str(uris).split()
        store.put_token(
            NETWORK,
            client_id,
            "",
            kind="app",
            extra={
                "client_secret": client_secret,
                "redirect_uris": " ".join(uris),
                "name": body["client_name"],
            },
        )
        return JSONResponse(
            {
                "id": str(store.next_seq("mastodon:app", start=1)),
                "name": body["client_name"],
                "website": body.get("website"),
                "scopes": str(body.get("scopes") or "read").split(),
                "redirect_uri": " ".join(uris),
                "redirect_uris": uris,
                "client_id": client_id,
                "client_secret": client_secret,
            }
        )

    async def authorize(request: Request) -> Response:
        """Approves at once, as the account in ``account`` (default the demo
        account): the sandbox has no login."""
        q = request.query_params
        client = store.get_token(NETWORK, q.get("client_id", ""))
        if client is None or client.kind != "app":
            return HTMLResponse("<p>Ukendt klient (client_id).</p>", status_code=400)
        if q.get("response_type") != "code" or not q.get("redirect_uri"):
            return HTMLResponse("<p>Ugyldig forespørgsel.</p>", status_code=400)
        account_id = q.get("account") or client.account_id or DEMO_ACCOUNT
        code = ctx.token("mastodon-code-", 12)
        store.put_token(
            NETWORK,
            code,
            account_id,
            kind="code",
            expires_at=ctx.now() + timedelta(minutes=10),
            extra={
                "client_id": client.token,
                "redirect_uri": q["redirect_uri"],
                "challenge": q.get("code_challenge", ""),
                "scope": q.get("scope", "read"),
            },
        )
        separator = "&" if "?" in q["redirect_uri"] else "?"
        target = (
            f"{q['redirect_uri']}{separator}"
            f"{urlencode({'code': code, 'state': q.get('state', '')})}"
        )
        return RedirectResponse(target, status_code=302)

    async def token(request: Request) -> JSONResponse:
        body = await read_body(request)
        client = store.get_token(NETWORK, str(body.get("client_id") or ""))
        if (
            client is None
            or client.kind != "app"
            or client.extra.get("client_secret") != body.get("client_secret")
        ):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown "
                    "client, no client authentication included, or unsupported "
                    "authentication method.",
                },
                status_code=401,
            )
        fault = await ctx.fault(NETWORK, "token", client.account_id or None)
        if fault is not None and fault.kind in ("expired_token", "policy_block"):
            return _invalid_grant()
        if fault is not None:
            rendered = fault_response(ctx, fault, client.account_id)
            if rendered is not None:
                return rendered
        if body.get("grant_type") != "authorization_code":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The authorization grant type "
                    "is not supported by the authorization server.",
                },
                status_code=400,
            )
        code, reason = store.check_token(
            NETWORK, str(body.get("code") or ""), kinds=["code"]
        )
        if (
            reason
            or code.extra.get("client_id") != client.token
            or code.extra.get("redirect_uri") != body.get("redirect_uri")
        ):
            return _invalid_grant()
        challenge = code.extra.get("challenge")
        if challenge:
            verifier = str(body.get("code_verifier") or "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if expected != challenge:
                return _invalid_grant()
        store.revoke_token(NETWORK, code.token)
        access = ctx.token("mastodon-")
        store.put_token(NETWORK, access, code.account_id, kind="access")
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "scope": code.extra.get("scope", "read"),
                "created_at": int(ctx.now().timestamp()),
            }
        )

    # -- citizen view -----------------------------------------------------------------

    async def status_page(request: Request) -> HTMLResponse:
        item = mastodon.visible_status(request.path_params["id"])
        if item is None:
            return HTMLResponse("<p>Opslaget findes ikke.</p>", status_code=404)
        status = mastodon.status_json(item)
        images = "".join(
            f'<img src="{html.escape(m["url"] or "")}" alt="{html.escape(m["description"] or "")}" width=200>'  # noqa: E501
            for m in status["media_attachments"]
        )
        return HTMLResponse(
            "<!doctype html><html lang=da><meta charset=utf-8>"
            f"<title>{html.escape(status['account']['display_name'])}</title>"
            f"<article><header>{html.escape(status['account']['display_name'])} "
            f"(@{html.escape(status['account']['acct'])})</header>"
            f"{status['content']}{images}"
            f"<footer>{status['favourites_count']} favoritter · "
            f"{status['reblogs_count']} boosts · {status['replies_count']} svar"
            "</footer></article>"
        )

    return [
        Route("/api/v2/instance", instance_v2),
        Route("/_sandbox/instance", sandbox_instance, methods=["PUT", "POST"]),
        Route("/api/v1/accounts/verify_credentials", verify_credentials),
        Route("/api/v1/accounts/lookup", account_lookup),
        Route("/api/v1/accounts/{id}/statuses", account_statuses),
        Route("/api/v1/accounts/{id}", account_show),
        Route("/api/v2/media", media_create, methods=["POST"]),
        Route("/api/v1/media/{id}", media_show, methods=["GET"]),
        Route("/api/v1/media/{id}", media_update, methods=["PUT"]),
        Route("/api/v1/statuses", status_create, methods=["POST"]),
        Route("/api/v1/statuses", statuses_many, methods=["GET"]),
        Route("/api/v1/statuses/{id}", status_show, methods=["GET"]),
        Route("/api/v1/statuses/{id}", status_delete, methods=["DELETE"]),
        Route("/api/v1/statuses/{id}/reblog", status_reblog, methods=["POST"]),
        Route("/api/v1/statuses/{id}/favourite", status_favourite,
              methods=["POST"]),
        Route("/api/v1/statuses/{id}/unfavourite", status_favourite,
              methods=["POST"]),
        Route("/api/v1/statuses/{id}/pin", status_pin, methods=["POST"]),
        Route("/api/v1/statuses/{id}/unpin", status_pin, methods=["POST"]),
        Route("/api/v1/statuses/{id}/context", status_context),
        Route("/api/v1/notifications", notifications),
        Route("/api/v1/timelines/tag/{hashtag}", tag_timeline),
        Route("/api/v1/apps", apps_create, methods=["POST"]),
        Route("/oauth/authorize", authorize),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/@{acct}/{id}", status_page),
    ]


def _invalid_grant() -> JSONResponse:
    return JSONResponse(
        {
            "error": "invalid_grant",
            "error_description": (
                "The provided authorization grant is invalid, expired, revoked, "
                "does not match the redirection URI used in the authorization "
                "request, or was issued to another client."
            ),
        },
        status_code=400,
    )
