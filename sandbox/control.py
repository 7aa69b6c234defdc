"""The ``/_sandbox/`` control API (JSON): faults, latency, reset, accounts,
the publish log, items, simulated citizens, the clock and webhooks.

It has no authentication: the sandbox binds to loopback only (``python -m
sandbox`` refuses any other host), so only processes on this machine reach it.
Trainees open the sandbox in a browser, though, and any page they visit could
try to drive it; ``LoopbackGuard`` therefore refuses a ``Host`` that is not
loopback (DNS rebinding) and any state-changing request a browser sends from
another origin. Every malformed body gets a 400 that says what is wrong.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import json
import logging
import math
from datetime import timedelta
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .faults import FaultError
from .seed import seed_demo
from .store import Account, to_text

logger = logging.getLogger("sandbox")


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BadBody(ValueError):
    """A request body the control API cannot use; answered with 400."""


MAX_BODY_BYTES = 1024 * 1024


async def body_of(request: Request) -> dict:
    """The JSON object sent, ``{}`` for an empty body; ``BadBody`` otherwise."""
    raw = await request.body()
    if not raw.strip():
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise BadBody("body is larger than 1 MB")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type and content_type != "application/json":
        raise BadBody("send the body as JSON (Content-Type: application/json)")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadBody(f"body is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise BadBody("body must be a JSON object")
    return value


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number",
               bool: "true or false", dict: "an object", list: "a list"}


def want(body: dict, name: str, kind, *, required: bool = False, default=None,
         nullable: bool = False):
    """``body[name]`` checked to be of ``kind`` (a type or a tuple of types);
    ``BadBody`` names the field and the expected type."""
    if name not in body or (body[name] is None and not nullable):
        if required:
            raise BadBody(f"{name} is required")
        return default
    value = body[name]
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if ok and isinstance(value, float) and not math.isfinite(value):
        ok = False
    if not ok:
        expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise BadBody(f"{name} must be {expected}")
    if required and isinstance(value, str) and not value.strip():
        raise BadBody(f"{name} is required")
    return value


def in_range(name: str, value, low, high):
    if value is not None and not low <= value <= high:
        raise BadBody(f"{name} must be between {low} and {high}")
    return value


def checked(handler):
    """Turn a malformed body into a clear 400 instead of a 500."""

    @functools.wraps(handler)
    async def run(request: Request):
        try:
            return await handler(request)
        except BadBody as e:
            return error(str(e))
        except FaultError as e:
            return error(str(e))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
            logger.info("sandbox: malformed control request %s: %r", request.url, e)
            return error(f"malformed request: {type(e).__name__}")

    return run


# ---------------------------------------------------------------------------
# Who may call the control API


def is_loopback_host(host: str) -> bool:
    """Whether a Host header value (``name[:port]``) names this machine."""
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        name = host.partition(":")[0]
    else:
        name = host
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The citizens' view of each account and its sample images: read-only pages.
PUBLIC_PAGES = ("/_sandbox/page/", "/_sandbox/media/")


class LoopbackGuard:
    """ASGI middleware for ``/_sandbox/``: loopback ``Host`` only, and no
    state-changing request from a page of another origin (a browser sends
    ``Origin``/``Sec-Fetch-Site``; scripts and curl send neither)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        refusal = ""
        public_page = scope["path"].startswith(PUBLIC_PAGES)
        if not public_page and not is_loopback_host(host):
            refusal = "the sandbox answers only on a loopback address"
        elif scope["method"] not in SAFE_METHODS:
            refusal = cross_origin_refusal(headers, host, scope.get("scheme", "http"))
        if refusal:
            response = JSONResponse({"error": refusal}, status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def cross_origin_refusal(headers: dict, host: str, scheme: str) -> str:
    site = headers.get("sec-fetch-site", "")
    if site in ("cross-site", "same-site"):
        return "requests from other sites' pages are refused"
    origin = headers.get("origin")
    if origin is None:
        return ""
    try:
        parts = urlsplit(origin)
        same = (
            parts.scheme == scheme
            and parts.netloc.lower() == host.strip().lower()
            and not parts.path.strip("/")
        )
    except ValueError:
        same = False
    if not same:
        return "requests from other origins are refused"
    return ""


def optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


def provision_account(ctx, body: dict) -> dict:
    """Create (or replace) an account and its tokens; the control API's core.

    The module's ``provision(ctx, account, body) -> dict`` hook chooses the
    tokens where the network has a particular shape (Facebook page tokens,
    Bluesky app passwords); otherwise an access and a refresh token are made,
    the access token expiring after ``expires_in`` seconds (default 60 days;
    ``null`` = never).
    """
    network = body["network"]
    store = ctx.store
    account_id = str(body.get("account_id") or ctx.new_id(network, "account"))
    handle = body.get("handle") or f"konto{account_id[-6:]}"
    account = store.put_account(
        network, account_id, handle=handle,
        display_name=body.get("display_name") or "Sandkassekonto",
        followers=int(body.get("followers", 1000)), extra=body.get("extra") or {},
    )
    hook = getattr(ctx.networks.get(network), "provision", None)
    if hook is not None:
        tokens = hook(ctx, account, body)
    else:
        tokens = generic_tokens(ctx, account, body)
    account = store.get_account(network, account_id)
    return {"account": account.as_json(), "tokens": tokens}


def generic_tokens(ctx, account: Account, body: dict) -> dict:
    network = account.network
    expires_in = body.get("expires_in", 60 * 24 * 3600)
    expires_at = (
        ctx.now() + timedelta(seconds=int(expires_in))
        if expires_in is not None else None
    )
    access = body.get("access_token") or ctx.token(f"{network}-access-")
    refresh = body.get("refresh_token") or ctx.token(f"{network}-refresh-")
    ctx.store.put_token(network, access, account.account_id, kind="access",
                        expires_at=expires_at)
    ctx.store.put_token(network, refresh, account.account_id, kind="refresh",
                        expires_at=ctx.now() + timedelta(days=365))
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_at": to_text(expires_at),
    }


def owner_edit(ctx, item, text: str):
    """The account's owner edits ``item`` in the network's own app (not
    through the API): the module hook ``owner_edit(ctx, item, text)`` where a
    network keeps edits its own way (X: a new post id), else the text changes
    and ``data.edited_at`` is stamped on the sandbox clock."""
    hook = getattr(ctx.networks.get(item.network), "owner_edit", None)
    if hook is not None:
        return hook(ctx, item, text)
    return ctx.store.update_item(item.network, item.item_id, text=text,
                                 data={"edited_at": to_text(ctx.now())})


def owner_delete(ctx, item):
    """The owner deletes ``item`` in the network's own app (module hook
    ``owner_delete(ctx, item)``, else a soft delete); returns it."""
    hook = getattr(ctx.networks.get(item.network), "owner_delete", None)
    if hook is not None:
        hook(ctx, item)
    else:
        ctx.store.delete_item(item.network, item.item_id)
    return ctx.store.get_item(item.network, item.item_id)


def reset_all(ctx) -> None:
    ctx.store.wipe()
    ctx.faults.reset()
    ctx.clock.reset()
    seed_demo(ctx)


def check_account_body(body: dict) -> None:
    want(body, "network", str, required=True)
    want(body, "account_id", (str, int))
    want(body, "handle", str)
    want(body, "display_name", str)
    in_range("followers", want(body, "followers", int), 0, 10**12)
    want(body, "extra", dict)
    in_range("expires_in", want(body, "expires_in", int, nullable=True),
             -10**9, 10**10)
    want(body, "access_token", str)
    want(body, "refresh_token", str)


def routes(ctx) -> list[Route]:
    store = ctx.store

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({
            "networks": sorted(ctx.networks),
            "now": to_text(ctx.now()),
            "clock_offset_seconds": ctx.clock.offset_seconds,
            "faults": [f.as_json() for f in ctx.faults.pending()],
            "latency_ms": ctx.faults.latencies(),
        })

    async def faults(request: Request) -> JSONResponse:
        if request.method == "GET":
            network = request.query_params.get("network")
            return JSONResponse([f.as_json() for f in ctx.faults.pending(network)])
        if request.method == "DELETE":
            body = await body_of(request)
            network = request.query_params.get("network") or want(
                body, "network", str
            )
            return JSONResponse({"cleared": ctx.faults.clear(network)})
        body = await body_of(request)
        network = want(body, "network", str, required=True)
        kind = want(body, "kind", str, required=True)
        count = in_range(
            "count", want(body, "count", int, default=1, nullable=True), 0, 10**6
        )
        probability = in_range(
            "probability", want(body, "probability", float), 0.0, 1.0
        )
        delay_ms = in_range("delay_ms", want(body, "delay_ms", int), 0, 600_000)
        try:
            fault = ctx.faults.add(
                network, kind,
                account=want(body, "account", str),
                operation=want(body, "operation", str),
                count=count, probability=probability, delay_ms=delay_ms,
                params=want(body, "params", dict),
                method=want(body, "method", str), path=want(body, "path", str),
            )
        except FaultError as e:
            return error(str(e))
        return JSONResponse(fault.as_json(), status_code=201)

    async def latency(request: Request) -> JSONResponse:
        body = await body_of(request)
        network = want(body, "network", str) or "*"
        ms = in_range("ms", want(body, "ms", int, default=0), 0, 600_000)
        ctx.faults.set_latency(network, ms)
        return JSONResponse({"latency_ms": ctx.faults.latencies()})

    async def reset(request: Request) -> JSONResponse:
        await body_of(request)  # nothing to read, but a broken body is a 400
        reset_all(ctx)
        return JSONResponse({"reset": True})

    async def accounts(request: Request) -> JSONResponse:
        if request.method == "GET":
            network = request.query_params.get("network")
            return JSONResponse([a.as_json() for a in store.list_accounts(network)])
        body = await body_of(request)
        check_account_body(body)
        if body.get("network") not in ctx.networks:
            return error(f"unknown or unmounted network {body.get('network')!r}")
        return JSONResponse(provision_account(ctx, body), status_code=201)

    async def published(request: Request) -> JSONResponse:
        q = request.query_params
        records = store.published(q.get("network"), q.get("account"), q.get("kind"))
        return JSONResponse([r.as_json() for r in records])

    async def items(request: Request) -> JSONResponse:
        q = request.query_params
        if not q.get("network"):
            return error("network is required")
        try:
            limit = int(q.get("limit", 200))
        except ValueError:
            return error("limit must be an integer")
        # Newest first; ``before`` (a seq from an earlier page) pages back, so
        # a reader can take every item without a page size that truncates.
        try:
            before = int(q["before"]) if q.get("before") else None
        except ValueError:
            return error("before must be an integer")
        found = store.list_items(
            q["network"], account_id=q.get("account"), kind=q.get("kind"),
            parent_id=q.get("parent"), root_id=q.get("root"),
            include_deleted=q.get("include_deleted") in ("1", "true"),
            before_seq=before,
            limit=in_range("limit", limit, 1, 10_000),
        )
        return JSONResponse([i.as_json() for i in found])

    async def item(request: Request) -> JSONResponse:
        network = request.path_params["network"]
        found = store.get_item(network, request.path_params["item_id"])
        if found is None:
            return error("no such item", 404)
        if request.method == "GET":
            return JSONResponse(found.as_json())
        if found.deleted:
            return error("the item is already deleted", 409)
        if request.method == "DELETE":
            changed = owner_delete(ctx, found)
        else:
            text = want(await body_of(request), "text", str, required=True)
            changed = owner_edit(ctx, found, text)
        return JSONResponse(changed.as_json())

    async def citizen_item(request: Request) -> JSONResponse:
        body = await body_of(request)
        network = want(body, "network", str, required=True)
        if network not in ctx.networks:
            return error(f"unknown or unmounted network {network!r}")
        text = want(body, "text", str, required=True)
        parent_id = str(want(body, "parent_id", (str, int)) or "")
        account_id = str(want(body, "account", (str, int)) or "")
        kind = want(body, "kind", str) or ""
        author_id = want(body, "author_id", (str, int), default="")
        author_name = want(body, "author_name", str, default="")
        data = want(body, "data", dict)
        if parent_id:
            parent = store.get_item(network, parent_id)
            if parent is None:
                return error("no such parent item", 404)
            account_id = account_id or parent.account_id
            kind = kind or ("comment" if parent.kind == "post" else "reply")
        kind = kind or "mention"
        created = ctx.add_citizen_item(
            network, kind=kind, account_id=account_id, text=text,
            parent_id=parent_id, author_id=str(author_id),
            author_name=author_name, data=data,
        )
        return JSONResponse(created.as_json(), status_code=201)

    async def owner_message(request: Request) -> JSONResponse:
        """The account's owner writes a direct message to a citizen in the
        network's own app (module hook ``owner_message``): Meta echoes it."""
        body = await body_of(request)
        network = want(body, "network", str, required=True)
        hook = getattr(ctx.networks.get(network), "owner_message", None)
        if hook is None:
            return error(f"network {network!r} has no owner messages here")
        account_id = str(want(body, "account", (str, int), required=True))
        recipient_id = str(want(body, "recipient_id", (str, int), required=True))
        text = want(body, "text", str, required=True)
        if store.get_account(network, account_id) is None:
            return error("no such account", 404)
        made = hook(ctx, account_id, recipient_id, text)
        return JSONResponse(made.as_json(), status_code=201)

    async def citizens_tick(request: Request) -> JSONResponse:
        citizens = optional_module("sandbox.citizens")
        if citizens is None or not hasattr(citizens, "tick"):
            return JSONResponse({"created": 0, "note": "sandbox.citizens missing"})
        body = await body_of(request)
        options = {
            "seed": want(body, "seed", int),
            "actions": in_range("actions", want(body, "actions", int), 0, 10_000),
            "networks": want(body, "networks", list),
            "grow": want(body, "grow", bool, default=True),
            "hashtag_posts": want(body, "hashtag_posts", bool, default=True),
            "hashtags": want(body, "hashtags", list),
            "hours": in_range("hours", want(body, "hours", float), 0, 24 * 366),
            "webhooks": want(body, "webhooks", bool, default=True),
        }
        for name in ("networks", "hashtags"):
            if options[name] is not None and not all(
                isinstance(v, str) for v in options[name]
            ):
                raise BadBody(f"{name} must be a list of strings")
        unknown = sorted(set(body) - set(options))
        if unknown:
            raise BadBody(f"unknown fields: {', '.join(unknown)}")
        result = citizens.tick(ctx, **options)
        return JSONResponse(result if isinstance(result, dict) else {"result": result})

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await body_of(request)
            span = 10 * 365 * 86400
            advance = in_range(
                "advance_seconds", want(body, "advance_seconds", float), -span, span
            )
            network = want(body, "network", str)
            offset = in_range(
                "offset_seconds", want(body, "offset_seconds", float), -span, span
            )
            if want(body, "reset", bool):
                ctx.clock.reset()
            elif network and offset is not None:
                # One network's clock, minutes off everyone else's.
                if network not in ctx.networks:
                    return error(f"unknown or unmounted network {network!r}")
                ctx.clock.set_network_offset(network, offset)
            elif advance:
                ctx.clock.advance(advance)
        return JSONResponse({
            "now": to_text(ctx.now()),
            "clock_offset_seconds": ctx.clock.offset_seconds,
            "network_offsets_seconds": ctx.clock.network_offsets(),
        })

    async def metric(request: Request) -> JSONResponse:
        body = await body_of(request)
        network = want(body, "network", str, required=True)
        subject = str(want(body, "subject_id", (str, int), required=True))
        name = want(body, "name", str, required=True)
        value = in_range("value", want(body, "value", int), 0, 2**53)
        delta = in_range("delta", want(body, "delta", int, default=1),
                         -(2**53), 2**53)
        if value is not None:
            store.set_metric(network, subject, name, value)
        else:
            store.add_metric(network, subject, name, delta)
        return JSONResponse(store.metrics(network, subject))

    async def token_expire(request: Request) -> JSONResponse:
        body = await body_of(request)
        network = want(body, "network", str, required=True)
        token = want(body, "token", str, required=True)
        if want(body, "revoke", bool):
            store.revoke_token(network, token)
        else:
            store.expire_token(network, token)
        return JSONResponse({"ok": True})

    async def webhooks(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse([d.as_json() for d in ctx.webhooks.recent])
        body = await body_of(request)
        network = want(body, "network", str, required=True)
        url = want(body, "url", str, required=True)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadBody("url must be an http(s) address")
        verify_token = want(body, "verify_token", str, default="")
        verified = ctx.webhooks.verify_subscriber(url, verify_token)
        if verified:
            store.add_subscription(
                network, url, object=want(body, "object", str, default=""),
                fields=want(body, "fields", str, default=""),
                verify_token=verify_token, verified=True,
            )
        return JSONResponse(
            {"verified": verified}, status_code=201 if verified else 400
        )

    return [
        Route("/_sandbox/", checked(status)),
        Route("/_sandbox/faults", checked(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/latency", checked(latency), methods=["POST"]),
        Route("/_sandbox/reset", checked(reset), methods=["POST"]),
        Route("/_sandbox/accounts", checked(accounts), methods=["GET", "POST"]),
        Route("/_sandbox/published", checked(published)),
        Route("/_sandbox/items", checked(items)),
        Route("/_sandbox/items/{network}/{item_id:path}", checked(item),
              methods=["GET", "PATCH", "DELETE"]),
        Route("/_sandbox/citizens/item", checked(citizen_item), methods=["POST"]),
        Route("/_sandbox/owner/message", checked(owner_message), methods=["POST"]),
        Route("/_sandbox/citizens/tick", checked(citizens_tick), methods=["POST"]),
        Route("/_sandbox/clock", checked(clock), methods=["GET", "POST"]),
        Route("/_sandbox/metrics", checked(metric), methods=["POST"]),
        Route("/_sandbox/tokens/expire", checked(token_expire), methods=["POST"]),
        Route("/_sandbox/webhooks", checked(webhooks), methods=["GET", "POST"]),
    ]
