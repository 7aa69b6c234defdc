"""Bluesky: a PDS with its AppView at ``/bluesky/xrpc/<nsid>``.

Follows PLATFORMS.md §5 and the atproto lexicons: sessions with JWT-shaped
access tokens that expire (``accessJwt``, 120 minutes by default, on the
sandbox clock; ``PUT /bluesky/_sandbox/config {"access_ttl_seconds": …}``
shortens it) and rotating refresh tokens (90 days); ``400 ExpiredToken`` for
an expired access token; errors as ``{"error": Name, "message": …}``;
``RateLimit-Limit/Remaining/Reset/Policy`` on every authenticated answer
(3000 calls per 5 minutes per account).

``createRecord`` validates ``app.bsky.feed.post`` records the way the PDS's
lexicon check does (text ≤ 300 graphemes and ≤ 3000 bytes, a valid
``createdAt``, ≤ 4 images each with ``alt``, blobs that were uploaded and are
≤ 1,000,000 bytes, ≤ 3 langs) and, stricter than the real PDS, that facet
byte ranges lie inside the text on UTF-8 character boundaries. A client-chosen
``rkey`` must be free: a second create on it answers ``400 InvalidRequest
"Record already exists"`` (the real PDS's error here is not documented).

Store layout: records are items whose ``item_id`` is the ``at://`` URI
(``kind`` ``post``/``reply`` for the account's posts, ``repost``,
``threadgate``; citizens' ``comment``/``reply``/``mention``/``post``), with
``data`` holding ``record``, ``cid``, ``rkey``, ``collection`` and the
author's ``handle`` (plus ``media`` and ``link`` for the citizen pages).
Blobs are items ``kind="blob"`` keyed by owner and CID. A threadgate's
``hiddenReplies`` sets ``hidden`` on those replies. Citizens get DIDs and
``*.bsky.social`` handles that ``resolveHandle`` knows. Likes and reposts by
citizens are the generic metrics ``likes`` and ``shares``. An account's like
is a record (``kind="like"``, ``parent_id`` the post's URI), as on the real
PDS every ``createRecord`` makes one more, and ``getPosts`` shows the
caller's own in ``viewer.like``.

Chat (``chat.bsky.convo.*``), served only with the header ``atproto-proxy:
did:web:api.bsky.chat#bsky_chat`` as the PDS proxies it to the chat
service (else 501 ``MethodNotImplemented``): a citizen's message
(``kind="message"``, ``data.convo_id``) is in one conversation per citizen
(``listConvos``, ``getConvoForMembers``, ``getMessages`` newest first with a
cursor); ``sendMessage`` answers a citizen who wrote, text up to 1,000
graphemes and 10,000 bytes, as an item ``kind="account_message"`` logged as
``message``; its faults narrow to the operation ``message``.

Faults: ``rate_limit`` 429 ``RateLimitExceeded`` (policy ``5000;w=3600``);
``quota_exhausted`` the daily write budget (``35000;w=86400``);
``server_error`` 500 ``InternalServerError`` (or ``params.status`` 502 →
``UpstreamFailure``); ``expired_token`` 400 ``ExpiredToken`` (on
``createSession``: 401 ``AuthenticationRequired``, the app password refused);
``policy_block`` 400 ``InvalidRequest`` "Unacceptable slur in record" (the
PDS's one content rule); ``duplicate`` 400 ``InvalidRequest`` "Record already
exists"; ``invalid_media`` 400 ``InvalidMimeType``; ``timeout_after_create``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import regex
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from sandbox import partners
from sandbox.params import BadParam, whole_number

logger = logging.getLogger("sandbox.bluesky")

NETWORK = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
LIKE = "app.bsky.feed.like"
THREADGATE = "app.bsky.feed.threadgate"
PROFILE = "app.bsky.actor.profile"
ACCESS_TTL = timedelta(minutes=120)
REFRESH_TTL = timedelta(days=90)
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGES = 4
# The lexicon allows 2,000,000 bytes since 2026-04-08, but PDSes still in use
# refuse more than 1,000,000 when the post is created; the sandbox is such a
# server unless the account's ``extra`` says ``{"max_image_bytes": 2000000}``.
MAX_IMAGE_BYTES = 1_000_000
MAX_BLOB_BYTES = 5_000_000
RATE_LIMIT = 3000
RATE_WINDOW_SECONDS = 300
S32 = "234567abcdefghijklmnopqrstuvwxyz"
RKEY_RE = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
TAG_RE = regex.compile(r"(?<![\p{L}\p{N}_])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)")
# What a notification can be about (chat messages are not notifications).
CITIZEN_KINDS = ("comment", "reply", "mention", "post")
POST_KINDS = ("post", "reply", "comment", "mention")


# -- helpers ----------------------------------------------------------------------


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def bad_param(exc: BadParam) -> JSONResponse:
    """The lexicon check's answer to a parameter of the wrong type."""
    return xrpc_error(400, "InvalidRequest", f"Error: Params {exc}")


def xrpc_error(
    status: int, name: str, message: str, headers: dict | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": name, "message": message}, status_code=status, headers=headers
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(ctx, did: str, scope: str, expires_at: datetime) -> str:
    header = b64url(json.dumps({"typ": "at+jwt", "alg": "ES256K"}).encode())
    claims = {
        "scope": scope,
        "sub": did,
        "aud": "did:web:sandbox.bsky",
        "iat": int(ctx.now().timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": ctx.token("", 12),
    }
    payload = b64url(json.dumps(claims).encode())
    signature = b64url(hashlib.sha256(f"{header}.{payload}".encode()).digest())
    return f"{header}.{payload}.{signature}"


def cid_for(data) -> str:
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    ).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")


def tid(ctx) -> str:
    micros = int(ctx.now().timestamp() * 1_000_000)
    number = (micros << 10) | ctx.rng.randrange(1024)
    return "".join(S32[(number >> (5 * i)) & 31] for i in reversed(range(13)))


def at_uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


def split_uri(uri: str) -> tuple[str, str, str]:
    parts = uri.removeprefix("at://").split("/")
    parts += ["", "", ""]
    return parts[0], parts[1], parts[2]


def is_strong_ref(value) -> bool:
    """A ``com.atproto.repo.strongRef``: ``{uri: at://…, cid}``."""
    return (
        isinstance(value, dict)
        and str(value.get("uri") or "").startswith("at://")
        and isinstance(value.get("cid"), str)
        and bool(value["cid"])
    )


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def tag_facets(text: str) -> list[dict]:
    facets = []
    for match in TAG_RE.finditer(text):
        start = len(text[: match.start()].encode())
        end = start + len(match.group(0).encode())
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": start, "byteEnd": end},
                "features": [
                    {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}
                ],
            }
        )
    return facets


def record_tags(record: dict) -> set[str]:
    tags = {t.lower() for t in record.get("tags") or [] if isinstance(t, str)}
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == "app.bsky.richtext.facet#tag":
                tags.add(str(feature.get("tag", "")).lower())
    return tags


class Invalid(Exception):
    """A lexicon validation failure (400 InvalidRequest)."""

    def __init__(self, message: str, name: str = "InvalidRequest") -> None:
        super().__init__(message)
        self.name = name


# -- the state ----------------------------------------------------------------------


class Bluesky:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def config(self) -> dict:
        return {
            "access_ttl_seconds": int(ACCESS_TTL.total_seconds()),
            **(self.store.kv_get(NETWORK, "config") or {}),
        }

    # -- accounts and sessions ----------------------------------------------

    def account_by_actor(self, actor: str):
        if actor.startswith("did:"):
            return self.store.get_account(NETWORK, actor)
        return self.store.find_account(NETWORK, actor.lower())

    def citizen(self, did: str) -> dict | None:
        return self.store.kv_get(NETWORK, f"citizen:{did}")

    def resolve(self, handle: str) -> str | None:
        account = self.store.find_account(NETWORK, handle.lower())
        if account is not None:
            return account.account_id
        return self.store.kv_get(NETWORK, f"handle:{handle.lower()}")

    def actor_view(self, did: str) -> dict:
        account = self.store.get_account(NETWORK, did)
        if account is not None:
            return {
                "did": did,
                "handle": account.handle,
                "displayName": account.display_name,
                "avatar": self.ctx.public_url("/_sandbox/media/square.jpg"),
                "labels": [],
                "createdAt": iso(account.created_at or self.ctx.now()),
            }
        citizen = self.citizen(did) or {}
        return {
            "did": did,
            "handle": citizen.get("handle", "handle.invalid"),
            "displayName": citizen.get("displayName", ""),
            "labels": [],
        }

    def new_session(self, account) -> dict:
        now = self.ctx.now()
        access_expiry = now + timedelta(seconds=self.config()["access_ttl_seconds"])
        refresh_expiry = now + REFRESH_TTL
        access = make_jwt(
            self.ctx, account.account_id, "com.atproto.access", access_expiry
        )
        refresh = make_jwt(
            self.ctx, account.account_id, "com.atproto.refresh", refresh_expiry
        )
        self.store.put_token(
            NETWORK, access, account.account_id, kind="access", expires_at=access_expiry
        )
        self.store.put_token(
            NETWORK,
            refresh,
            account.account_id,
            kind="refresh",
            expires_at=refresh_expiry,
        )
        return {
            "did": account.account_id,
            "handle": account.handle,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": account.account_id,
                "alsoKnownAs": [f"at://{account.handle}"],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": self.ctx.public_url("/bluesky"),
                    }
                ],
            },
        }

    # -- views --------------------------------------------------------------

    def embed_view(self, embed: dict | None) -> dict | None:
        if not embed:
            return None
        if embed.get("$type") == "app.bsky.embed.images":
            return {
                "$type": "app.bsky.embed.images#view",
                "images": [
                    {
                        "thumb": self.ctx.public_url("/_sandbox/media/square.jpg"),
                        "fullsize": self.ctx.public_url("/_sandbox/media/square.jpg"),
                        "alt": image.get("alt", ""),
                        **(
                            {"aspectRatio": image["aspectRatio"]}
                            if image.get("aspectRatio")
                            else {}
                        ),
                    }
                    for image in embed.get("images", [])
                ],
            }
        if embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external", {})
            return {
                "$type": "app.bsky.embed.external#view",
                "external": {
                    k: external.get(k, "") for k in ("uri", "title", "description")
                },
            }
        return None

    def post_view(self, item, viewer: str = "") -> dict:
        """An ``app.bsky.feed.defs#postView``; with ``viewer`` (a DID) its
        ``viewer.like`` is that account's like record, if any."""
        data = item.data
        metrics = self.store.metrics(NETWORK, item.item_id)
        replies = [
            i
            for i in self.store.list_items(
                NETWORK, parent_id=item.item_id, kind=POST_KINDS
            )
        ]
        reposts = self.store.list_items(NETWORK, parent_id=item.item_id, kind="repost")
        like_records = self.store.list_items(NETWORK, parent_id=item.item_id,
                                             kind="like")
        view = {
            "uri": item.item_id,
            "cid": data.get("cid", ""),
            "author": self.actor_view(item.author_id),
            "record": data.get("record", {}),
            "replyCount": len(replies),
            "repostCount": len(reposts) + metrics.get("shares", 0),
            "likeCount": metrics.get("likes", 0) + len(like_records),
            "quoteCount": metrics.get("quotes", 0),
            "bookmarkCount": 0,
            "indexedAt": data.get("indexed_at") or iso(item.created_at),
            "labels": [],
        }
        embed = self.embed_view(data.get("record", {}).get("embed"))
        if embed:
            view["embed"] = embed
        if viewer:
            own = [r.item_id for r in like_records if r.author_id == viewer]
            view["viewer"] = {"like": own[0]} if own else {}
        return view

    def live(self, uri: str):
        item = self.store.get_item(NETWORK, uri, include_deleted=False)
        return item

    # -- rate limit ----------------------------------------------------------

    def count_call(self, did: str) -> tuple[int, dict]:
        now = int(self.ctx.now().timestamp())
        window = now // RATE_WINDOW_SECONDS
        key = f"rate:{did}:{window}"
        used = int(self.store.kv_get(NETWORK, key) or 0) + 1
        self.store.kv_set(NETWORK, key, used)
        return used, {
            "RateLimit-Limit": str(RATE_LIMIT),
            "RateLimit-Remaining": str(max(0, RATE_LIMIT - used)),
            "RateLimit-Reset": str((window + 1) * RATE_WINDOW_SECONDS),
            "RateLimit-Policy": f"{RATE_LIMIT};w={RATE_WINDOW_SECONDS}",
        }

    # -- record validation -----------------------------------------------------

    def validate_post(self, record: dict, did: str) -> None:
        text = record.get("text", "")
        if not isinstance(text, str):
            raise Invalid(
                "Invalid app.bsky.feed.post record: Record/text must be a string"
            )
        if graphemes(text) > MAX_GRAPHEMES:
            raise Invalid(
                "Invalid app.bsky.feed.post record: Record/text must not be "
                f"longer than {MAX_GRAPHEMES} graphemes"
            )
        raw = text.encode()
        if len(raw) > MAX_BYTES:
            raise Invalid(
                "Invalid app.bsky.feed.post record: Record/text must not be "
                f"longer than {MAX_BYTES} characters"
            )
        if parse_time(record.get("createdAt")) is None:
            raise Invalid(
                "Invalid app.bsky.feed.post record: createdAt must be an "
                "valid atproto datetime (both RFC-3339 and ISO-8601)"
            )
        langs = record.get("langs") or []
        if len(langs) > 3:
            raise Invalid(
                "Invalid app.bsky.feed.post record: Record/langs must not "
                "have more than 3 elements"
            )
        for number, facet in enumerate(record.get("facets") or []):
            index = facet.get("index") or {}
            start, end = index.get("byteStart"), index.get("byteEnd")
            where = f"Record/facets/{number}/index"
            if not isinstance(start, int) or not isinstance(end, int):
                raise Invalid(
                    f"Invalid app.bsky.feed.post record: {where} must have "
                    "integer byteStart and byteEnd"
                )
            if not 0 <= start < end <= len(raw):
                raise Invalid(
                    f"Invalid app.bsky.feed.post record: {where} is outside the text"
                )
            try:
                raw[start:end].decode()
            except UnicodeDecodeError:
                raise Invalid(
                    f"Invalid app.bsky.feed.post record: {where} splits a "
                    "UTF-8 character"
                ) from None
            for feature in facet.get("features") or []:
                kind = feature.get("$type", "")
                if kind.endswith("#mention") and not str(
                    feature.get("did", "")
                ).startswith("did:"):
                    raise Invalid(
                        "Invalid app.bsky.feed.post record: mention did "
                        "must be a valid did"
                    )
                if kind.endswith("#link") and "://" not in str(feature.get("uri", "")):
                    raise Invalid(
                        "Invalid app.bsky.feed.post record: link uri must be "
                        "a valid uri"
                    )
                if kind.endswith("#tag"):
                    tag = str(feature.get("tag", ""))
                    if graphemes(tag) > 64 or len(tag.encode()) > 640:
                        raise Invalid(
                            "Invalid app.bsky.feed.post record: tag must not "
                            "be longer than 64 graphemes"
                        )
        self.validate_embed(record.get("embed"), did)
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) or {}
                if not str(ref.get("uri", "")).startswith("at://") or not ref.get(
                    "cid"
                ):
                    raise Invalid(
                        "Invalid app.bsky.feed.post record: Record/reply/"
                        f"{part} must be a strong ref (uri and cid)"
                    )

    def image_limit(self, did: str) -> int:
        account = self.store.get_account(NETWORK, did)
        try:
            return int((account.extra or {}).get("max_image_bytes")
                       or MAX_IMAGE_BYTES) if account else MAX_IMAGE_BYTES
        except (TypeError, ValueError):
            return MAX_IMAGE_BYTES

    def validate_embed(self, embed, did: str) -> None:
        if not embed:
            return
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = embed.get("images") or []
            if len(images) > MAX_IMAGES:
                raise Invalid(
                    "Invalid app.bsky.feed.post record: Record/embed/images "
                    f"must not have more than {MAX_IMAGES} elements"
                )
            for number, image in enumerate(images):
                if "alt" not in image or not isinstance(image["alt"], str):
                    raise Invalid(
                        "Invalid app.bsky.feed.post record: Record/embed/"
                        f'images/{number} must have the property "alt"'
                    )
                blob = image.get("image") or {}
                cid = (blob.get("ref") or {}).get("$link", "")
                stored = self.store.get_item(NETWORK, f"blob:{did}:{cid}")
                if stored is None or stored.account_id != did:
                    raise Invalid(f"Could not find blob: {cid}", "BlobNotFound")
                limit = self.image_limit(did)
                if stored.data["size"] > limit:
                    raise Invalid(
                        f"This file is too large. It is {stored.data['size']} bytes "
                        f"but the maximum size is {limit} bytes.",
                        "BlobTooLarge",
                    )
                if not stored.data["mimeType"].startswith("image/"):
                    raise Invalid(
                        f"Wrong type of file. It is "
                        f"{stored.data['mimeType']} but it must match "
                        "image/*.",
                        "InvalidMimeType",
                    )
        elif kind == "app.bsky.embed.external":
            external = embed.get("external") or {}
            for field in ("uri", "title", "description"):
                if not isinstance(external.get(field), str):
                    raise Invalid(
                        "Invalid app.bsky.feed.post record: Record/embed/"
                        f'external must have the property "{field}"'
                    )


def fault_response(ctx, fault) -> JSONResponse | None:
    now = int(ctx.now().timestamp())
    if fault.kind == "rate_limit":
        reset = now + int(fault.params.get("retry_after", 120))
        return xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            headers={
                "RateLimit-Limit": "5000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "5000;w=3600",
            },
        )
    if fault.kind == "quota_exhausted":
        reset = (now // 86_400 + 1) * 86_400
        return xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            headers={
                "RateLimit-Limit": "35000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "35000;w=86400",
            },
        )
    if fault.kind == "server_error":
        status = int(fault.params.get("status", 500))
        if status == 502:
            return xrpc_error(502, "UpstreamFailure", "Upstream Failure")
        return xrpc_error(status, "InternalServerError", "Internal Server Error")
    if fault.kind == "expired_token":
        return xrpc_error(400, "ExpiredToken", "Token has expired")
    if fault.kind == "policy_block":
        return xrpc_error(400, "InvalidRequest", "Unacceptable slur in record")
    if fault.kind == "missing_permission":
        return xrpc_error(400, "InvalidToken", "Bad token scope")
    if fault.kind == "duplicate":
        return xrpc_error(400, "InvalidRequest", "Record already exists")
    if fault.kind == "invalid_media":
        return xrpc_error(
            400, "InvalidMimeType", "Wrong type of file. The image could not be read."
        )
    return None


# -- module hooks --------------------------------------------------------------------


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    if kind == "account":
        return "did:plc:" + "".join(ctx.rng.choice(S32) for _ in range(24))
    return tid(ctx)


def provision(ctx, account, body: dict) -> dict:
    """An app password and a first session, like an admin logging in once."""
    handle = (
        account.handle if "." in account.handle else f"{account.handle}.bsky.social"
    )
    if handle != account.handle:
        account = ctx.store.update_account(NETWORK, account.account_id, handle=handle)
    app_password = body.get("app_password") or "-".join(
        ctx.token("", 2) for _ in range(4)
    )
    ctx.store.put_token(
        NETWORK, app_password, account.account_id, kind="app_password", expires_at=None
    )
    session = Bluesky(ctx).new_session(account)
    return {
        "identifier": handle,
        "app_password": app_password,
        "access_token": session["accessJwt"],
        "refresh_token": session["refreshJwt"],
        "did": account.account_id,
    }


# -- chat (chat.bsky.convo.*, proxied by the PDS to the chat service) ----------

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
MAX_MESSAGE_GRAPHEMES = 1000
MAX_MESSAGE_BYTES = 10_000


def convo_id(account_did: str, citizen_did: str) -> str:
    """The conversation between the account and one citizen."""
    return hashlib.sha256(f"{account_did}|{citizen_did}".encode()).hexdigest()[:13]


def citizen_item(
    ctx, *, kind, account_id, text, parent_id, root_id, author_id, author_name, data
):
    """A citizen's post as a record in their own repo, replies with strong refs."""
    store = ctx.store
    did = (
        author_id
        if author_id.startswith("did:")
        else ("did:plc:" + hashlib.sha256(author_id.encode()).hexdigest()[:24])
    )
    slug = re.sub(r"[^a-z0-9]+", "-", author_name.lower()).strip("-") or "borger"
    handle = f"{slug}-{did[-4:]}.bsky.social"
    store.kv_set(
        NETWORK, f"citizen:{did}", {"handle": handle, "displayName": author_name}
    )
    store.kv_set(NETWORK, f"handle:{handle}", did)
    record: dict = {
        "$type": POST,
        "text": text,
        "createdAt": iso(ctx.now()),
        "langs": ["da"],
    }
    facets = tag_facets(text)
    if facets:
        record["facets"] = facets
    parent = store.get_item(NETWORK, parent_id) if parent_id else None
    if parent is not None:
        parent_ref = {"uri": parent.item_id, "cid": parent.data.get("cid", "")}
        root_ref = (parent.data.get("record", {}).get("reply") or {}).get("root")
        record["reply"] = {"root": root_ref or parent_ref, "parent": parent_ref}
        root_id = root_id or (root_ref or parent_ref)["uri"]
    rkey = tid(ctx)
    uri = at_uri(did, POST, rkey)
    fields = {
        "record": record,
        "cid": cid_for(record),
        "rkey": rkey,
        "collection": POST,
        "handle": handle,
        "indexed_at": iso(ctx.now()),
        **(data or {}),
    }
    if kind == "message":
        # A chat message (chat.bsky.convo), not a record: one conversation per
        # citizen and account, the message id a TID as the chat service's.
        return store.add_item(
            NETWORK, account_id, tid(ctx), "message", text=text,
            author_id=did, author_name=author_name,
            data={"convo_id": convo_id(account_id, did), "handle": handle,
                  "sent_at": iso(ctx.now()), **(data or {})},
        )
    return store.add_item(
        NETWORK,
        account_id,
        uri,
        kind,
        text=text,
        parent_id=parent_id,
        root_id=root_id,
        author_id=did,
        author_name=author_name,
        data=fields,
    )


DEMO_POSTS = [
    {
        "days_ago": 3,
        "text": "Havnebadet ved Islands Brygge åbner lørdag kl. 10 🏊 Tjek "
        "badevandet, før du hopper i. #voreskbh",
        "link": "https://www.kk.dk/badevand",
        "metrics": {"likes": 57, "shares": 12},
        "comments": [
            (
                "Mette Hansen",
                "Er der livredder hele weekenden?",
                "Ja, fra kl. 10 til 19 både lørdag og søndag.",
            ),
            ("Omar Yilmaz", "Hvad med Sluseholmen?", ""),
        ],
    },
    {
        "days_ago": 2,
        "text": "Kulturnatten er fredag: Rådhuset er åbent til midnat med "
        "rundvisninger i tårnet. #kulturnat",
        "metrics": {"likes": 80, "shares": 30},
        "comments": [
            (
                "Ida Madsen",
                "Skal man bestille billet til tårnet?",
                "Nej, det er gratis, men der kan være kø.",
            ),
        ],
    },
    {
        "days_ago": 1,
        "text": "Nye åbningstider på Islands Brygge Bibliotek: hverdage 8-22 med "
        "selvbetjening efter kl. 19. #kbhbibliotek",
        "image": "landscape.jpg",
        "alt": "Læsesalen på Islands Brygge Bibliotek med store vinduer ud mod havnen",
        "metrics": {"likes": 23, "shares": 4},
        "comments": [("Lars Sørensen", "Også i sommerferien?", "")],
    },
]
DEMO_PUBLIC_POSTS = [
    ("Emil Holm", "Morgendukkert i Sandkaj-badet ❄️ #voreskbh", 3),
    (
        "Signe Thomsen",
        "Cykelslangen er stadig byens bedste stykke cykelsti #voreskbh",
        26,
    ),
]


def _tid_at(ctx, moment: datetime) -> str:
    number = (int(moment.timestamp() * 1_000_000) << 10) | ctx.rng.randrange(1024)
    return "".join(S32[(number >> (5 * i)) & 31] for i in reversed(range(13)))


def _seed_record(
    ctx,
    *,
    did,
    handle,
    name,
    account_id,
    text,
    at,
    kind,
    parent=None,
    root=None,
    embed=None,
    extra=None,
):
    record: dict = {"$type": POST, "text": text, "createdAt": iso(at), "langs": ["da"]}
    facets = tag_facets(text)
    if facets:
        record["facets"] = facets
    if embed:
        record["embed"] = embed
    if parent is not None:
        parent_ref = {"uri": parent.item_id, "cid": parent.data["cid"]}
        root_ref = (
            {"uri": root.item_id, "cid": root.data["cid"]} if root else parent_ref
        )
        record["reply"] = {"root": root_ref, "parent": parent_ref}
    rkey = _tid_at(ctx, at)
    return ctx.store.add_item(
        NETWORK,
        account_id,
        at_uri(did, POST, rkey),
        kind,
        text=text,
        parent_id=parent.item_id if parent else "",
        root_id=(root or parent).item_id if parent else "",
        author_id=did,
        author_name=name,
        created_at=at,
        data={
            "record": record,
            "cid": cid_for(record),
            "rkey": rkey,
            "collection": POST,
            "handle": handle,
            "indexed_at": iso(at),
            **(extra or {}),
        },
    )


def _seed_citizen(ctx, author: str) -> tuple[str, str]:
    slug = re.sub(r"[^a-z0-9]+", "-", author.lower()).strip("-")
    did = "did:plc:" + hashlib.sha256(slug.encode()).hexdigest()[:24]
    handle = f"{slug}.bsky.social"
    ctx.store.kv_set(
        NETWORK, f"citizen:{did}", {"handle": handle, "displayName": author}
    )
    ctx.store.kv_set(NETWORK, f"handle:{handle}", did)
    return did, handle


#: Partner accounts (other city bodies) whose posts Kanal can follow as a
#: source: (did, handle, name, [(text, hours ago)]).
PARTNER_ACCOUNTS = (
    (
        "did:plc:kkbibliotek0000000000000",
        "bibliotek.kk.dk",
        "Københavns Biblioteker",
        (
            ("Lørdag er der sprogcafé på Hovedbiblioteket kl. 11-13. Alle er "
             "velkomne.", 30),
            ("Vi holder lukket 2. juledag. God jul fra bibliotekerne!", 6),
        ),
    ),
)
def ensure_partners(ctx) -> None:
    """Write the partner accounts and their posts once (also after a reset)."""

    def write_post(did, handle, name, post, at):
        record = {"$type": POST, "text": post[0], "createdAt": iso(at),
                  "langs": ["da"]}
        rkey = tid(ctx)
        ctx.store.add_item(
            NETWORK, did, at_uri(did, POST, rkey), "post", text=post[0],
            author_id=did, author_name=name, created_at=at,
            data={"record": record, "cid": cid_for(record), "rkey": rkey,
                  "collection": POST, "handle": handle, "indexed_at": iso(at)},
        )

    partners.seed_once(ctx, NETWORK, PARTNER_ACCOUNTS, followers=3100,
                       write_post=write_post)


def owner_edit(ctx, item, text: str):
    """The record rewritten by its owner (``putRecord``; Bluesky's own app
    cannot edit a post, other clients can): new text, so a new CID."""
    record = {**(item.data.get("record") or {}), "text": text}
    record.pop("facets", None)  # their byte offsets were for the old text
    return ctx.store.update_item(
        NETWORK, item.item_id, text=text,
        data={"record": record, "cid": cid_for(record)},
    )


def seed(ctx) -> None:
    """Three posts of the demo account with citizens' replies, and public
    #voreskbh posts."""
    from ..seed import demo_account

    demo = demo_account(NETWORK)
    did, handle, name = demo["account_id"], demo["handle"], demo["display_name"]
    now = ctx.now()
    for post in DEMO_POSTS:
        at = now - timedelta(days=post["days_ago"])
        embed = extra = None
        if post.get("image"):
            url = ctx.public_url(f"/_sandbox/media/{post['image']}")
            embed = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": post["alt"],
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": cid_for(post["alt"])},
                            "mimeType": "image/jpeg",
                            "size": 48_000,
                        },
                        "aspectRatio": {"width": 1600, "height": 900},
                    }
                ],
            }
            extra = {"media": [{"alt": post["alt"], "url": url}]}
        elif post.get("link"):
            embed = {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": post["link"],
                    "title": "Badevand i København",
                    "description": "Se badevandskvaliteten i havnebadene.",
                },
            }
            extra = {"link": post["link"]}
        item = _seed_record(
            ctx,
            did=did,
            handle=handle,
            name=name,
            account_id=did,
            text=post["text"],
            at=at,
            kind="post",
            embed=embed,
            extra=extra,
        )
        for metric, value in post["metrics"].items():
            ctx.store.set_metric(NETWORK, item.item_id, metric, value)
        for number, (author, text, answer) in enumerate(post["comments"], 1):
            citizen, citizen_handle = _seed_citizen(ctx, author)
            asked = at + timedelta(minutes=19 * number)
            comment = _seed_record(
                ctx,
                did=citizen,
                handle=citizen_handle,
                name=author,
                account_id=did,
                text=text,
                at=asked,
                kind="comment",
                parent=item,
            )
            if answer:
                _seed_record(
                    ctx,
                    did=did,
                    handle=handle,
                    name=name,
                    account_id=did,
                    text=answer,
                    at=asked + timedelta(minutes=31),
                    kind="reply",
                    parent=comment,
                    root=item,
                )
    for author, text, hours_ago in DEMO_PUBLIC_POSTS:
        citizen, citizen_handle = _seed_citizen(ctx, author)
        _seed_record(
            ctx,
            did=citizen,
            handle=citizen_handle,
            name=author,
            account_id=citizen,
            text=text,
            at=now - timedelta(hours=hours_ago),
            kind="post",
        )


# -- routes -------------------------------------------------------------------------


def routes(ctx) -> list[Route]:
    bsky = Bluesky(ctx)
    store = ctx.store

    def bearer(request: Request) -> str:
        header = request.headers.get("authorization", "")
        return header[7:].strip() if header.lower().startswith("bearer ") else ""

    def authenticate(request: Request):
        token, reason = store.check_token(NETWORK, bearer(request), kinds=["access"])
        if reason == "missing":
            return None, xrpc_error(
                401, "AuthenticationRequired", "Authentication Required"
            )
        if reason == "expired":
            return None, xrpc_error(400, "ExpiredToken", "Token has expired")
        if reason == "wrong_kind":
            return None, xrpc_error(400, "InvalidToken", "Bad token scope")
        if reason:
            return None, xrpc_error(401, "InvalidToken", "Token could not be verified")
        return token.account_id, None

    async def begin(request: Request, operation: str, *, also: str = ""):
        did, failure = authenticate(request)
        if failure is not None:
            return None, None, failure
        used, headers = bsky.count_call(did)
        if used > RATE_LIMIT:
            return (
                None,
                None,
                xrpc_error(
                    429, "RateLimitExceeded", "Rate Limit Exceeded", headers=headers
                ),
            )
        fault = await ctx.fault(NETWORK, operation, did)
        if fault is None and also:
            fault = ctx.faults.take(NETWORK, also, did, latency=False)
        if fault is not None:
            rendered = fault_response(ctx, fault)
            if rendered is not None:
                return None, None, rendered
        request.state.rate_headers = headers
        return did, fault, None

    def answer(request: Request, body, status: int = 200) -> JSONResponse:
        return JSONResponse(
            body,
            status_code=status,
            headers=getattr(request.state, "rate_headers", None),
        )

    async def json_body(request: Request) -> dict:
        try:
            value = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    # -- sessions ------------------------------------------------------------------

    async def create_session(request: Request) -> JSONResponse:
        body = await json_body(request)
        identifier = str(body.get("identifier") or "").lower()
        password = str(body.get("password") or "")
        if not identifier or not password:
            return xrpc_error(
                400, "InvalidRequest", 'Input must have the property "identifier"'
            )
        account = bsky.account_by_actor(identifier)
        fault = await ctx.fault(
            NETWORK, "token", account.account_id if account else None
        )
        if fault is not None and fault.kind in ("expired_token", "policy_block"):
            return xrpc_error(
                401, "AuthenticationRequired", "Invalid identifier or password"
            )
        if fault is not None:
            rendered = fault_response(ctx, fault)
            if rendered is not None:
                return rendered
        token, reason = store.check_token(NETWORK, password, kinds=["app_password"])
        if account is None or reason or token.account_id != account.account_id:
            return xrpc_error(
                401, "AuthenticationRequired", "Invalid identifier or password"
            )
        window = int(ctx.now().timestamp()) // 300
        key = f"sessions:{account.account_id}:{window}"
        made = int(store.kv_get(NETWORK, key) or 0) + 1
        store.kv_set(NETWORK, key, made)
        if made > 30:
            reset = (window + 1) * 300
            return xrpc_error(
                429,
                "RateLimitExceeded",
                "Rate Limit Exceeded",
                headers={
                    "RateLimit-Limit": "30",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(reset),
                    "RateLimit-Policy": "30;w=300",
                },
            )
        return JSONResponse(bsky.new_session(account))

    async def refresh_session(request: Request) -> JSONResponse:
        token, reason = store.check_token(NETWORK, bearer(request), kinds=["refresh"])
        fault = await ctx.fault(NETWORK, "token", token.account_id if token else None)
        if fault is not None:
            rendered = fault_response(ctx, fault)
            if rendered is not None:
                return rendered
        if reason == "missing":
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        if reason == "expired":
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if reason == "wrong_kind":
            return xrpc_error(400, "InvalidToken", "Invalid token type")
        if reason:
            return xrpc_error(400, "InvalidToken", "Token has been revoked")
        account = store.get_account(NETWORK, token.account_id)
        store.revoke_token(NETWORK, token.token)  # refresh tokens rotate
        session = bsky.new_session(account)
        session.pop("didDoc", None)
        return JSONResponse(session)

    async def get_session(request: Request) -> JSONResponse:
        did, _, failure = await begin(request, "verify")
        if failure is not None:
            return failure
        account = store.get_account(NETWORK, did)
        return answer(request, {"did": did, "handle": account.handle, "active": True})

    async def sandbox_config(request: Request) -> JSONResponse:
        changes = await json_body(request)
        if set(changes) - {"access_ttl_seconds"}:
            return xrpc_error(400, "InvalidRequest", "unknown settings")
        current = store.kv_get(NETWORK, "config") or {}
        current.update({k: int(v) for k, v in changes.items()})
        store.kv_set(NETWORK, "config", current)
        return JSONResponse(bsky.config())

    async def resolve_handle(request: Request) -> JSONResponse:
        handle = request.query_params.get("handle", "")
        did = bsky.resolve(handle)
        if not did:
            return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
        return JSONResponse({"did": did})

    # -- repo ------------------------------------------------------------------------

    def repo_did(repo: str) -> str:
        if repo.startswith("did:"):
            return repo
        account = store.find_account(NETWORK, repo.lower())
        return account.account_id if account else ""

    def write_operation(collection: str, record: dict) -> str:
        if collection == REPOST:
            return "repost"
        if collection == LIKE:
            return "like"
        if collection == THREADGATE:
            return "hide"
        if collection == PROFILE:
            return "pin"
        if collection == POST and record.get("reply"):
            return "reply"
        return "publish"

    def apply_threadgate(did: str, record: dict | None, root_uri: str) -> None:
        hidden = set((record or {}).get("hiddenReplies") or [])
        for reply in store.list_items(NETWORK, root_id=root_uri):
            should = reply.item_id in hidden
            if reply.hidden != should:
                store.update_item(NETWORK, reply.item_id, hidden=should)

    def apply_pinned_post(did: str, record: dict | None) -> None:
        """Mirror the profile's ``pinnedPost`` on the post items (``pinned``)."""
        uri = ((record or {}).get("pinnedPost") or {}).get("uri", "")
        for post in store.list_items(NETWORK, author_id=did, kind=("post", "reply")):
            should = post.item_id == uri
            if bool(post.data.get("pinned")) != should:
                store.update_item(NETWORK, post.item_id, data={"pinned": should})

    def store_record(did: str, collection: str, rkey: str, record: dict):
        uri = at_uri(did, collection, rkey)
        account = store.get_account(NETWORK, did)
        cid = cid_for(record)
        data = {
            "record": record,
            "cid": cid,
            "rkey": rkey,
            "collection": collection,
            "handle": account.handle if account else "",
            "indexed_at": iso(ctx.now()),
        }
        parent_id = root_id = ""
        owner = did
        kind = "post"
        if collection == POST:
            reply = record.get("reply")
            if reply:
                parent_id = reply["parent"]["uri"]
                root_id = reply["root"]["uri"]
                parent = store.get_item(NETWORK, parent_id)
                owner = parent.account_id if parent else did
                kind = "reply"
            embed = record.get("embed") or {}
            if embed.get("$type") == "app.bsky.embed.images":
                data["media"] = [
                    {
                        "alt": i.get("alt", ""),
                        "url": ctx.public_url("/_sandbox/media/square.jpg"),
                    }
                    for i in embed.get("images", [])
                ]
            if embed.get("$type") == "app.bsky.embed.external":
                data["link"] = embed["external"].get("uri", "")
        elif collection in (REPOST, LIKE):
            kind = "repost" if collection == REPOST else "like"
            parent_id = (record.get("subject") or {}).get("uri", "")
        elif collection == THREADGATE:
            kind = "threadgate"
            parent_id = record.get("post", "")
        else:
            kind = collection.rsplit(".", 1)[-1]
        item = store.add_item(
            NETWORK,
            owner,
            uri,
            kind,
            text=record.get("text", ""),
            parent_id=parent_id,
            root_id=root_id,
            author_id=did,
            author_name=account.display_name if account else "",
            data=data,
        )
        return item

    async def create_record(request: Request) -> JSONResponse:
        body = await json_body(request)
        collection = str(body.get("collection") or "")
        record = body.get("record") if isinstance(body.get("record"), dict) else {}
        did, fault, failure = await begin(request, write_operation(collection, record))
        if failure is not None:
            return failure
        if repo_did(str(body.get("repo") or "")) != did:
            return xrpc_error(400, "InvalidRequest", "Invalid repo")
        rkey = str(body.get("rkey") or "") or tid(ctx)
        if not RKEY_RE.match(rkey) or rkey in (".", ".."):
            return xrpc_error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        record.setdefault("$type", collection)
        try:
            if body.get("validate") is not False:
                if record["$type"] != collection:
                    raise Invalid(
                        f"Invalid $type: expected {collection}, got {record['$type']}"
                    )
                if collection == POST:
                    bsky.validate_post(record, did)
                elif collection in (REPOST, LIKE) and not is_strong_ref(
                    record.get("subject")
                ):
                    raise Invalid(
                        f"Invalid {collection} record: Record/subject must be "
                        "a com.atproto.repo.strongRef"
                    )
                elif parse_time(record.get("createdAt")) is None:
                    raise Invalid(
                        f"Invalid {collection} record: createdAt must be an "
                        "valid atproto datetime"
                    )
        except Invalid as e:
            return xrpc_error(400, e.name, str(e))
        uri = at_uri(did, collection, rkey)
        if store.get_item(NETWORK, uri) is not None:
            return xrpc_error(400, "InvalidRequest", "Record already exists")
        item = store_record(did, collection, rkey, record)
        if collection in (POST, REPOST):
            store.log_publish(
                NETWORK,
                did,
                uri,
                kind=item.kind,
                idempotency_key=rkey,
                text=record.get("text", ""),
            )
        if collection == THREADGATE:
            apply_threadgate(did, record, record.get("post", ""))
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(
            request,
            {
                "uri": uri,
                "cid": item.data["cid"],
                "commit": {"cid": cid_for({"commit": uri}), "rev": tid(ctx)},
                "validationStatus": "valid",
            },
        )

    async def put_record(request: Request) -> JSONResponse:
        body = await json_body(request)
        collection = str(body.get("collection") or "")
        record = body.get("record") if isinstance(body.get("record"), dict) else {}
        did, _, failure = await begin(request, write_operation(collection, record))
        if failure is not None:
            return failure
        if repo_did(str(body.get("repo") or "")) != did:
            return xrpc_error(400, "InvalidRequest", "Invalid repo")
        rkey = str(body.get("rkey") or "")
        if not RKEY_RE.match(rkey):
            return xrpc_error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        uri = at_uri(did, collection, rkey)
        existing = store.get_item(NETWORK, uri)
        if body.get("swapRecord") is not None and (
            existing is None or existing.data.get("cid") != body["swapRecord"]
        ):
            return xrpc_error(
                400, "InvalidSwap", f"Record was at {existing.data.get('cid')}"
                if existing else "Record was at null"
            )
        record.setdefault("$type", collection)
        try:
            if collection == POST:
                bsky.validate_post(record, did)
            if collection == PROFILE:
                if rkey != "self":
                    raise Invalid(
                        "Invalid app.bsky.actor.profile record: the rkey must "
                        "be self", "InvalidRecord"
                    )
                pinned = record.get("pinnedPost")
                if pinned is not None and not (
                    isinstance(pinned, dict)
                    and str(pinned.get("uri", "")).startswith("at://")
                    and pinned.get("cid")
                ):
                    raise Invalid(
                        "Invalid app.bsky.actor.profile record: "
                        "Record/pinnedPost must be a com.atproto.repo.strongRef",
                        "InvalidRecord",
                    )
            if collection == THREADGATE:
                if split_uri(str(record.get("post", "")))[2] != rkey:
                    raise Invalid(
                        "Invalid app.bsky.feed.threadgate record: the rkey "
                        "must match the post's rkey"
                    )
                if len(record.get("hiddenReplies") or []) > 300:
                    raise Invalid(
                        "Invalid app.bsky.feed.threadgate record: Record/"
                        "hiddenReplies must not have more than 300 elements"
                    )
        except Invalid as e:
            return xrpc_error(400, e.name, str(e))
        if existing is None:
            store_record(did, collection, rkey, record)
        else:
            store.update_item(
                NETWORK,
                uri,
                text=record.get("text", existing.text),
                data={"record": record, "cid": cid_for(record)},
            )
        if collection == THREADGATE:
            apply_threadgate(did, record, record.get("post", ""))
        if collection == PROFILE:
            apply_pinned_post(did, record)
        return answer(
            request, {"uri": uri, "cid": cid_for(record), "validationStatus": "valid"}
        )

    async def delete_record(request: Request) -> JSONResponse:
        body = await json_body(request)
        did, fault, failure = await begin(request, "delete")
        if failure is not None:
            return failure
        if repo_did(str(body.get("repo") or "")) != did:
            return xrpc_error(400, "InvalidRequest", "Invalid repo")
        collection = str(body.get("collection") or "")
        uri = at_uri(did, collection, str(body.get("rkey") or ""))
        item = store.get_item(NETWORK, uri, include_deleted=False)
        if item is not None and collection == THREADGATE:
            # Kept as an empty gate, so that a later putRecord can bring it back.
            apply_threadgate(did, None, (item.data.get("record") or {}).get("post", ""))
            store.update_item(NETWORK, uri, data={"record": None})
        elif item is not None:
            store.delete_item(NETWORK, uri)
            if collection == PROFILE:
                apply_pinned_post(did, None)
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(
            request, {"commit": {"cid": cid_for({"delete": uri}), "rev": tid(ctx)}}
        )

    async def get_record(request: Request) -> JSONResponse:
        q = request.query_params
        did = repo_did(q.get("repo", "")) or q.get("repo", "")
        fault = await ctx.fault(NETWORK, "read", did)
        if fault is not None:
            rendered = fault_response(ctx, fault)
            if rendered is not None:
                return rendered
        uri = at_uri(did, q.get("collection", ""), q.get("rkey", ""))
        item = store.get_item(NETWORK, uri, include_deleted=False)
        if item is None or item.data.get("record") is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return JSONResponse(
            {
                "uri": uri,
                "cid": item.data.get("cid", ""),
                "value": item.data.get("record", {}),
            }
        )

    async def upload_blob(request: Request) -> JSONResponse:
        did, _, failure = await begin(request, "media")
        if failure is not None:
            return failure
        content = await request.body()
        mime = request.headers.get("content-type", "").split(";")[0].strip()
        if len(content) > MAX_BLOB_BYTES:
            return xrpc_error(413, "PayloadTooLarge", "request entity too large")
        if not content:
            return xrpc_error(400, "InvalidRequest", "Request has no body")
        cid = "bafkrei" + base64.b32encode(
            hashlib.sha256(content).digest()
        ).decode().lower().rstrip("=")
        blob = {
            "$type": "blob",
            "ref": {"$link": cid},
            "mimeType": mime or "application/octet-stream",
            "size": len(content),
        }
        if store.get_item(NETWORK, f"blob:{did}:{cid}") is None:
            store.add_item(
                NETWORK,
                did,
                f"blob:{did}:{cid}",
                "blob",
                author_id=did,
                data={"mimeType": blob["mimeType"], "size": len(content)},
            )
        return answer(request, {"blob": blob})

    # -- app view ----------------------------------------------------------------------

    async def get_posts(request: Request) -> JSONResponse:
        did, _, failure = await begin(request, "metrics")
        if failure is not None:
            return failure
        uris = request.query_params.getlist("uris")
        if len(uris) > 25:
            return xrpc_error(400, "InvalidRequest", "Params must have at most 25 uris")
        found = [bsky.live(u) for u in uris]
        return answer(
            request,
            {
                "posts": [
                    bsky.post_view(i, viewer=did)
                    for i in found
                    if i is not None and i.kind in POST_KINDS
                ]
            },
        )

    async def get_profile(request: Request) -> JSONResponse:
        _did, _, failure = await begin(request, "verify", also="metrics")
        if failure is not None:
            return failure
        actor = request.query_params.get("actor", "")
        account = bsky.account_by_actor(actor)
        if account is None:
            return xrpc_error(400, "InvalidRequest", "Profile not found")
        posts = store.list_items(
            NETWORK, author_id=account.account_id, kind=("post", "reply")
        )
        profile = store.get_item(
            NETWORK, at_uri(account.account_id, PROFILE, "self"), include_deleted=False
        )
        record = (profile.data.get("record") or {}) if profile else {}
        view = {
            **bsky.actor_view(account.account_id),
            "description": record.get("description", ""),
            "followersCount": account.followers,
            "followsCount": 120,
            "postsCount": len(posts),
            "indexedAt": iso(account.created_at or ctx.now()),
        }
        if record.get("pinnedPost"):
            view["pinnedPost"] = record["pinnedPost"]
        return answer(request, view)

    async def list_notifications(request: Request) -> JSONResponse:
        did, _, failure = await begin(request, "inbox")
        if failure is not None:
            return failure
        q = request.query_params
        limit = whole_number(q, "limit", 50, low=1, high=100)
        reasons = set(q.getlist("reasons")) or {"mention", "reply", "quote"}
        items = [
            i
            for i in store.list_items(NETWORK, account_id=did, kind=CITIZEN_KINDS)
            if i.author_id != did
        ]
        if q.get("cursor"):
            items = [i for i in items if i.seq < whole_number(q, "cursor")]
        notes = []
        for item in items:
            reason = "reply" if item.parent_id else "mention"
            if item.data.get("quote"):
                reason = "quote"
            if reason not in reasons:
                continue
            view = bsky.post_view(item)
            note = {
                "uri": item.item_id,
                "cid": item.data.get("cid", ""),
                "author": view["author"],
                "reason": reason,
                "record": item.data.get("record", {}),
                "isRead": False,
                "indexedAt": view["indexedAt"],
                "labels": [],
            }
            if item.parent_id:
                note["reasonSubject"] = item.parent_id
            notes.append((item.seq, note))
            if len(notes) == limit:
                break
        body: dict = {"notifications": [n for _, n in notes], "seenAt": iso(ctx.now())}
        if len(notes) == limit:
            body["cursor"] = str(notes[-1][0])
        return answer(request, body)

    async def get_post_thread(request: Request) -> JSONResponse:
        _did, _, failure = await begin(request, "inbox")
        if failure is not None:
            return failure
        uri = request.query_params.get("uri", "")
        depth = whole_number(request.query_params, "depth", 6)
        root = bsky.live(uri)
        if root is None:
            return xrpc_error(400, "NotFound", f"Post not found: {uri}")

        def node(item, level: int) -> dict:
            view = {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": bsky.post_view(item),
            }
            if level < depth:
                children = store.list_items(
                    NETWORK,
                    parent_id=item.item_id,
                    kind=POST_KINDS,
                    newest_first=False,
                    include_hidden=False,
                )
                view["replies"] = [node(c, level + 1) for c in children]
            return view

        return answer(request, {"thread": node(root, 0)})

    async def author_feed(request: Request) -> JSONResponse:
        _did, _, failure = await begin(request, "verify")
        if failure is not None:
            return failure
        ensure_partners(ctx)
        q = request.query_params
        actor = q.get("actor", "").lstrip("@")
        did = actor if actor.startswith("did:") else bsky.resolve(actor)
        if not did:
            return xrpc_error(400, "InvalidRequest", "Profile not found")
        limit = whole_number(q, "limit", 50, low=1, high=100)
        items = [
            i for i in store.list_items(NETWORK, author_id=did, kind=POST_KINDS)
            if not i.hidden
        ]
        if q.get("filter") in ("posts_no_replies", "posts_with_media"):
            items = [i for i in items
                     if not i.data.get("record", {}).get("reply")]
        return answer(
            request, {"feed": [{"post": bsky.post_view(i)} for i in items[:limit]]}
        )

    async def search_posts(request: Request) -> JSONResponse:
        _did, _, failure = await begin(request, "hashtag")
        if failure is not None:
            return failure
        q = request.query_params
        query = q.get("q", "").strip()
        if not query:
            return xrpc_error(
                400, "InvalidRequest", 'Params must have the property "q"'
            )
        wanted_tags = {t.lstrip("#").lower() for t in q.getlist("tag")}
        terms = [t.lower() for t in query.split() if t]
        since = parse_time(q.get("since"))
        limit = whole_number(q, "limit", 25, low=1, high=100)
        found = []
        for item in store.list_items(NETWORK, kind=POST_KINDS):
            if item.hidden:
                continue
            record = item.data.get("record", {})
            text = record.get("text", "").lower()
            tags = record_tags(record) | {
                t.lower() for t in TAG_RE.findall(record.get("text", ""))
            }
            if wanted_tags and not wanted_tags <= tags:
                continue
            if not all(term in text for term in terms):
                continue
            created = parse_time(record.get("createdAt")) or item.created_at
            sort_at = min(created, item.created_at)
            if since is not None and sort_at < since:
                continue
            found.append(item)
            if len(found) == limit:
                break
        return answer(
            request,
            {"posts": [bsky.post_view(i) for i in found], "hitsTotal": len(found)},
        )

    # -- citizen view -----------------------------------------------------------------

    async def post_page(request: Request) -> HTMLResponse:
        handle = request.path_params["handle"]
        did = bsky.resolve(handle) or handle
        item = bsky.live(at_uri(did, POST, request.path_params["rkey"]))
        if item is None:
            return HTMLResponse("<p>Opslaget findes ikke.</p>", status_code=404)
        view = bsky.post_view(item)
        images = "".join(
            f'<img src="{html.escape(m["url"])}" alt="{html.escape(m["alt"])}" '
            "width=200>"
            for m in item.data.get("media", [])
        )
        return HTMLResponse(
            "<!doctype html><html lang=da><meta charset=utf-8>"
            f"<title>{html.escape(view['author'].get('displayName', ''))}</title>"
            f"<article><header>{html.escape(view['author'].get('displayName', ''))} "
            f"(@{html.escape(view['author']['handle'])})</header>"
            f"<p>{html.escape(item.text)}</p>{images}"
            f"<footer>{view['likeCount']} likes · {view['repostCount']} reposts · "
            f"{view['replyCount']} svar</footer></article>"
        )


    # -- chat -------------------------------------------------------------------------

    async def begin_chat(request: Request, operation: str):
        """``begin`` for chat.bsky.*, which the PDS serves only by proxying it
        to the chat service named in ``atproto-proxy`` (without it the method
        does not exist)."""
        if request.headers.get("atproto-proxy") != CHAT_PROXY:
            return None, None, xrpc_error(501, "MethodNotImplemented",
                                          "Method Not Implemented")
        return await begin(request, operation)

    def message_view(item) -> dict:
        return {
            "$type": "chat.bsky.convo.defs#messageView",
            "id": item.item_id, "rev": item.item_id, "text": item.text,
            "sender": {"did": item.author_id},
            "sentAt": item.data.get("sent_at") or iso(item.created_at),
        }

    def convo_messages(did: str, convo: str) -> list:
        return [m for m in store.list_items(NETWORK, account_id=did,
                                            kind=("message", "account_message"))
                if m.data.get("convo_id") == convo]

    def convo_view(did: str, convo: str, messages: list) -> dict:
        citizen = next((m.author_id for m in messages if m.kind == "message"), "")
        return {
            "id": convo, "rev": messages[0].item_id if messages else "",
            "members": [bsky.actor_view(did), bsky.actor_view(citizen)],
            "lastMessage": message_view(messages[0]) if messages else None,
            "muted": False, "status": "accepted", "unreadCount": 0,
        }

    async def list_convos(request: Request) -> JSONResponse:
        did, _fault, failure = await begin_chat(request, "inbox")
        if failure is not None:
            return failure
        by_convo: dict[str, list] = {}
        for item in store.list_items(NETWORK, account_id=did,
                                     kind=("message", "account_message")):
            by_convo.setdefault(item.data.get("convo_id", ""), []).append(item)
        newest_first = sorted(by_convo.items(), key=lambda c: c[1][0].seq,
                              reverse=True)
        return answer(request, {"convos": [convo_view(did, convo, items)
                                           for convo, items in newest_first]})

    async def get_messages(request: Request) -> JSONResponse:
        did, _fault, failure = await begin_chat(request, "inbox")
        if failure is not None:
            return failure
        convo = request.query_params.get("convoId", "")
        messages = convo_messages(did, convo)
        if not messages:
            return xrpc_error(400, "InvalidRequest", "Convo not found")
        try:
            limit = max(1, min(100, int(request.query_params.get("limit") or 50)))
        except ValueError:
            return xrpc_error(400, "InvalidRequest", "Invalid limit")
        cursor = request.query_params.get("cursor", "")
        if cursor:
            if not cursor.isdigit():
                return xrpc_error(400, "InvalidRequest", "Malformed cursor")
            messages = [m for m in messages if m.seq < int(cursor)]
        page = messages[:limit]
        body: dict = {"messages": [message_view(m) for m in page]}
        if len(messages) > limit:
            body["cursor"] = str(page[-1].seq)
        return answer(request, body)

    async def get_convo_for_members(request: Request) -> JSONResponse:
        did, _fault, failure = await begin_chat(request, "inbox")
        if failure is not None:
            return failure
        members = [m for m in request.query_params.getlist("members") if m != did]
        if len(members) != 1:
            return xrpc_error(400, "InvalidRequest", "Invalid members")
        convo = convo_id(did, members[0])
        return answer(request, {"convo": convo_view(did, convo,
                                                    convo_messages(did, convo))})

    async def send_message(request: Request) -> JSONResponse:
        did, fault, failure = await begin_chat(request, "message")
        if failure is not None:
            return failure
        body = await json_body(request)
        convo = str(body.get("convoId") or "")
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            return xrpc_error(400, "InvalidRequest",
                              "Input/message/text must be a non-empty string")
        if graphemes(text) > MAX_MESSAGE_GRAPHEMES or \
                len(text.encode()) > MAX_MESSAGE_BYTES:
            return xrpc_error(400, "InvalidRequest", "Input/message/text must not "
                              f"be longer than {MAX_MESSAGE_GRAPHEMES} graphemes")
        theirs = [m for m in convo_messages(did, convo) if m.kind == "message"]
        if not theirs:
            # The sandbox's citizens accept messages only once they wrote.
            return xrpc_error(400, "InvalidRequest", "Convo not found")
        account = store.get_account(NETWORK, did)
        made = store.add_item(
            NETWORK, did, tid(ctx), "account_message", text=text, author_id=did,
            author_name=account.display_name if account else "",
            data={"convo_id": convo, "recipient_id": theirs[0].author_id,
                  "sent_at": iso(ctx.now())},
        )
        store.log_publish(NETWORK, did, made.item_id, kind="message", text=text)
        if fault is not None and fault.kind == "timeout_after_create":
            await ctx.sleep(fault.delay_ms)
        return answer(request, message_view(made))

    xrpc = [
        ("com.atproto.server.createSession", create_session, "POST"),
        ("com.atproto.server.refreshSession", refresh_session, "POST"),
        ("com.atproto.server.getSession", get_session, "GET"),
        ("com.atproto.identity.resolveHandle", resolve_handle, "GET"),
        ("com.atproto.repo.createRecord", create_record, "POST"),
        ("com.atproto.repo.putRecord", put_record, "POST"),
        ("com.atproto.repo.deleteRecord", delete_record, "POST"),
        ("com.atproto.repo.getRecord", get_record, "GET"),
        ("com.atproto.repo.uploadBlob", upload_blob, "POST"),
        ("app.bsky.feed.getPosts", get_posts, "GET"),
        ("app.bsky.actor.getProfile", get_profile, "GET"),
        ("app.bsky.notification.listNotifications", list_notifications, "GET"),
        ("app.bsky.feed.getPostThread", get_post_thread, "GET"),
        ("app.bsky.feed.searchPosts", search_posts, "GET"),
        ("app.bsky.feed.getAuthorFeed", author_feed, "GET"),
        ("chat.bsky.convo.listConvos", list_convos, "GET"),
        ("chat.bsky.convo.getMessages", get_messages, "GET"),
        ("chat.bsky.convo.getConvoForMembers", get_convo_for_members, "GET"),
        ("chat.bsky.convo.sendMessage", send_message, "POST"),
    ]
    return [
        *(
            Route(f"/xrpc/{nsid}", handler, methods=[method])
            for nsid, handler, method in xrpc
        ),
        Route("/_sandbox/config", sandbox_config, methods=["PUT", "POST"]),
        Route("/profile/{handle}/post/{rkey}", post_page),
    ]
