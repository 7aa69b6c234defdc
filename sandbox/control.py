"""The ``/_sandbox/`` control API (JSON): faults, latency, reset, accounts,
the publish log, items, simulated citizens, the clock and webhooks.

It has no authentication: the sandbox binds to loopback only (``python -m
sandbox`` refuses any other host), so only processes on this machine reach it.
"""

from __future__ import annotations

import importlib
import json
import logging
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .faults import FaultError
from .seed import seed_demo
from .store import Account, to_text

logger = logging.getLogger("sandbox")


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def body_of(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


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


def reset_all(ctx) -> None:
    ctx.store.wipe()
    ctx.faults.reset()
    ctx.clock.reset()
    seed_demo(ctx)


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
            network = request.query_params.get("network") or body.get("network")
            return JSONResponse({"cleared": ctx.faults.clear(network)})
        body = await body_of(request)
        if not body.get("network") or not body.get("kind"):
            return error("network and kind are required")
        try:
            fault = ctx.faults.add(
                body["network"], body["kind"],
                account=body.get("account"), operation=body.get("operation"),
                count=body.get("count", 1), probability=body.get("probability"),
                delay_ms=body.get("delay_ms"), params=body.get("params"),
                method=body.get("method"), path=body.get("path"),
            )
        except FaultError as e:
            return error(str(e))
        return JSONResponse(fault.as_json(), status_code=201)

    async def latency(request: Request) -> JSONResponse:
        body = await body_of(request)
        network = body.get("network") or "*"
        ctx.faults.set_latency(network, int(body.get("ms", 0)))
        return JSONResponse({"latency_ms": ctx.faults.latencies()})

    async def reset(request: Request) -> JSONResponse:
        reset_all(ctx)
        return JSONResponse({"reset": True})

    async def accounts(request: Request) -> JSONResponse:
        if request.method == "GET":
            network = request.query_params.get("network")
            return JSONResponse([a.as_json() for a in store.list_accounts(network)])
        body = await body_of(request)
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
        found = store.list_items(
            q["network"], account_id=q.get("account"), kind=q.get("kind"),
            parent_id=q.get("parent"), root_id=q.get("root"),
            include_deleted=q.get("include_deleted") in ("1", "true"),
            limit=int(q.get("limit", 200)),
        )
        return JSONResponse([i.as_json() for i in found])

    async def item(request: Request) -> JSONResponse:
        found = store.get_item(
            request.path_params["network"], request.path_params["item_id"]
        )
        if found is None:
            return error("no such item", 404)
        return JSONResponse(found.as_json())

    async def citizen_item(request: Request) -> JSONResponse:
        body = await body_of(request)
        network = body.get("network")
        if network not in ctx.networks:
            return error(f"unknown or unmounted network {network!r}")
        if not body.get("text"):
            return error("text is required")
        parent_id = str(body.get("parent_id") or "")
        account_id = str(body.get("account") or "")
        kind = body.get("kind") or ""
        if parent_id:
            parent = store.get_item(network, parent_id)
            if parent is None:
                return error("no such parent item", 404)
            account_id = account_id or parent.account_id
            kind = kind or ("comment" if parent.kind == "post" else "reply")
        kind = kind or "mention"
        created = ctx.add_citizen_item(
            network, kind=kind, account_id=account_id, text=body["text"],
            parent_id=parent_id, author_id=body.get("author_id", ""),
            author_name=body.get("author_name", ""), data=body.get("data"),
        )
        return JSONResponse(created.as_json(), status_code=201)

    async def citizens_tick(request: Request) -> JSONResponse:
        citizens = optional_module("sandbox.citizens")
        if citizens is None or not hasattr(citizens, "tick"):
            return JSONResponse({"created": 0, "note": "sandbox.citizens missing"})
        body = await body_of(request)
        result = citizens.tick(ctx, **body)
        return JSONResponse(result if isinstance(result, dict) else {"result": result})

    async def clock(request: Request) -> JSONResponse:
        body = await body_of(request)
        if body.get("reset"):
            ctx.clock.reset()
        elif body.get("network") and "offset_seconds" in body:
            # One network's clock, minutes off everyone else's.
            if body["network"] not in ctx.networks:
                return error(f"unknown or unmounted network {body['network']!r}")
            try:
                seconds = float(body["offset_seconds"])
            except (TypeError, ValueError):
                return error("offset_seconds must be a number")
            ctx.clock.set_network_offset(body["network"], seconds)
        elif body.get("advance_seconds"):
            ctx.clock.advance(float(body["advance_seconds"]))
        return JSONResponse({
            "now": to_text(ctx.now()),
            "clock_offset_seconds": ctx.clock.offset_seconds,
            "network_offsets_seconds": ctx.clock.network_offsets(),
        })

    async def metric(request: Request) -> JSONResponse:
        body = await body_of(request)
        network, subject = body.get("network"), str(body.get("subject_id", ""))
        if not network or not subject or not body.get("name"):
            return error("network, subject_id and name are required")
        if "value" in body:
            store.set_metric(network, subject, body["name"], int(body["value"]))
        else:
            store.add_metric(network, subject, body["name"], int(body.get("delta", 1)))
        return JSONResponse(store.metrics(network, subject))

    async def token_expire(request: Request) -> JSONResponse:
        body = await body_of(request)
        if body.get("revoke"):
            store.revoke_token(body.get("network", ""), body.get("token", ""))
        else:
            store.expire_token(body.get("network", ""), body.get("token", ""))
        return JSONResponse({"ok": True})

    async def webhooks(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse([d.as_json() for d in ctx.webhooks.recent])
        body = await body_of(request)
        network, url = body.get("network"), body.get("url")
        if not network or not url:
            return error("network and url are required")
        verify_token = body.get("verify_token", "")
        verified = ctx.webhooks.verify_subscriber(url, verify_token)
        if verified:
            store.add_subscription(
                network, url, object=body.get("object", ""),
                fields=body.get("fields", ""), verify_token=verify_token,
                verified=True,
            )
        return JSONResponse(
            {"verified": verified}, status_code=201 if verified else 400
        )

    return [
        Route("/_sandbox/", status),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/latency", latency, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/accounts", accounts, methods=["GET", "POST"]),
        Route("/_sandbox/published", published),
        Route("/_sandbox/items", items),
        Route("/_sandbox/items/{network}/{item_id:path}", item),
        Route("/_sandbox/citizens/item", citizen_item, methods=["POST"]),
        Route("/_sandbox/citizens/tick", citizens_tick, methods=["POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/metrics", metric, methods=["POST"]),
        Route("/_sandbox/tokens/expire", token_expire, methods=["POST"]),
        Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
    ]
