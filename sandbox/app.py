"""The sandbox's Starlette app: control API, citizen pages and every emulator."""

from __future__ import annotations

import html
import io
import logging
import threading
from contextlib import asynccontextmanager
from functools import lru_cache

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from . import control, feeds
from .core import SandboxConfig, SandboxContext, SandboxMiddleware
from .networks import DISPLAY_NAMES, NETWORKS, load_network
from .params import BadParam
from .seed import seed_demo

logger = logging.getLogger("sandbox")


def create_app(config: SandboxConfig | None = None) -> Starlette:
    config = config or SandboxConfig()
    ctx = SandboxContext(config)
    slugs = config.networks if config.networks is not None else tuple(NETWORKS)
    for slug in slugs:
        module = load_network(slug)
        if module is not None:
            ctx.networks[slug] = module
    seed_demo(ctx)

    mounts = []
    for slug, module in ctx.networks.items():
        if hasattr(module, "mount"):
            mounts.append(module.mount(ctx))
        else:
            mounts.append(Mount(f"/{slug}", routes=module.routes(ctx)))

    async def index(request: Request) -> HTMLResponse:
        pages = control.optional_module("sandbox.pages")
        if pages is not None and hasattr(pages, "render_index"):
            return HTMLResponse(pages.render_index(ctx, request))
        rows = []
        for slug in NETWORKS:
            name = DISPLAY_NAMES.get(slug, slug)
            if slug not in ctx.networks:
                rows.append(f"<li>{html.escape(name)} <em>(ikke installeret)</em></li>")
                continue
            links = ", ".join(
                f'<a href="/_sandbox/page/{slug}/{html.escape(a.account_id)}">'
                f"{html.escape(a.display_name)} (@{html.escape(a.handle)}, "
                f"{a.followers} følgere)</a>"
                for a in ctx.store.list_accounts(slug)[:20]
            )
            rows.append(
                f"<li><strong>{html.escape(name)}</strong> "
                f"<code>/{slug}</code>: {links}</li>"
            )
        return HTMLResponse(
            "<!doctype html><html lang=da><meta charset=utf-8>"
            "<title>Kanal øvebane</title><h1>Kanal øvebane</h1>"
            "<p>Lokale udgaver af de sociale netværk. Intet her når ud på "
            "internettet.</p><ul>" + "".join(rows) + "</ul>"
        )

    async def control_page(request: Request) -> HTMLResponse:
        # The control API's JSON has no title or language for a browser;
        # this page describes it for people (linked from the index).
        endpoints = [
            (r.path, sorted(r.methods - {"HEAD"}))
            for r in control.routes(ctx)
            if isinstance(r, Route)
        ]
        status = {
            "networks": sorted(ctx.networks),
            "faults": [f.as_json() for f in ctx.faults.pending()],
        }
        pages = control.optional_module("sandbox.pages")
        if pages is None:
            return HTMLResponse(
                "<!doctype html><html lang=da><meta charset=utf-8>"
                "<title>Styring af øvebanen</title><h1>Styring af øvebanen</h1>"
                + "".join(f"<p><code>{html.escape(p)}</code></p>" for p, _ in endpoints)
            )
        return HTMLResponse(pages.render_control(status, endpoints))

    async def account_page(request: Request) -> Response:
        slug = request.path_params["slug"]
        account_id = request.path_params["account"]
        if slug not in ctx.networks:
            return HTMLResponse("Ukendt netværk", status_code=404)
        account = ctx.store.get_account(slug, account_id) or ctx.store.find_account(
            slug, account_id
        )
        if account is None:
            return HTMLResponse("Ukendt konto", status_code=404)
        pages = control.optional_module("sandbox.pages")
        if pages is not None and hasattr(pages, "render_account"):
            result = pages.render_account(ctx, slug, account, request)
            return result if isinstance(result, Response) else HTMLResponse(result)
        return HTMLResponse(plain_account_page(ctx, slug, account))

    async def sample_media(request: Request) -> Response:
        name = request.path_params["name"]
        made = sample_file(name)
        if made is None:
            return Response(status_code=404)
        data, mime = made
        return Response(data, media_type=mime)

    @asynccontextmanager
    async def lifespan(app):
        stop = threading.Event()
        if config.citizens_every > 0:
            threading.Thread(
                target=citizens_loop, args=(ctx, config.citizens_every, stop),
                name="sandbox-citizens", daemon=True,
            ).start()
        yield
        stop.set()

    async def bad_param(request: Request, exc: BadParam) -> Response:
        # The network's own 400 for it (the first path segment names it).
        module = ctx.networks.get(request.url.path.strip("/").split("/")[0])
        if module is not None and hasattr(module, "bad_param"):
            return module.bad_param(exc)
        return JSONResponse({"error": str(exc)}, status_code=400)

    app = Starlette(
        exception_handlers={BadParam: bad_param},
        routes=[
            Route("/", index),
            Route("/_sandbox/page/{slug}/{account:path}", account_page),
            Route("/_sandbox/media/{name}", sample_media),
            Route("/_sandbox/styring", control_page),
            *feeds.routes(),
            *control.routes(ctx),
            *mounts,
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(control.LoopbackGuard),
            Middleware(SandboxMiddleware, ctx=ctx),
        ],
    )
    app.state.ctx = ctx
    return app


def plain_account_page(ctx, slug: str, account) -> str:
    posts = ctx.store.list_items(slug, account_id=account.account_id, kind="post",
                                 limit=50)
    parts = [
        "<!doctype html><html lang=da><meta charset=utf-8>",
        f"<title>{html.escape(account.display_name)}</title>",
        f"<h1>{html.escape(account.display_name)}</h1>",
        f"<p>@{html.escape(account.handle)} · {account.followers} følgere</p>",
    ]
    for post in posts:
        parts.append(f"<article><p>{html.escape(post.text)}</p><ul>")
        for comment in ctx.store.list_items(slug, root_id=post.item_id,
                                            newest_first=False):
            if comment.hidden:
                continue
            parts.append(
                f"<li><b>{html.escape(comment.author_name)}</b>: "
                f"{html.escape(comment.text)}</li>"
            )
        parts.append("</ul></article>")
    return "".join(parts)


def citizens_loop(ctx, every: float, stop: threading.Event) -> None:
    citizens = control.optional_module("sandbox.citizens")
    if citizens is None or not hasattr(citizens, "tick"):
        logger.warning("sandbox: --citizens-every given, sandbox.citizens missing")
        return
    while not stop.wait(every):
        try:
            citizens.tick(ctx)
        except Exception:
            logger.exception("sandbox: citizens tick failed")


@lru_cache(maxsize=8)
def sample_file(name: str) -> tuple[bytes, str] | None:
    """Small generated images at /_sandbox/media/<name> (jpg/png, e.g.
    ``square.jpg``, ``landscape.jpg``, ``portrait.png``), so networks that fetch
    media by URL (Instagram, Threads) can do it on loopback."""
    from PIL import Image

    stem, _, ext = name.rpartition(".")
    sizes = {"square": (1080, 1080), "landscape": (1200, 630),
             "portrait": (1080, 1350), "tall": (600, 1800)}
    if stem not in sizes or ext not in ("jpg", "jpeg", "png"):
        return None
    image = Image.new("RGB", sizes[stem], (0, 91, 140))
    buffer = io.BytesIO()
    if ext == "png":
        image.save(buffer, "PNG")
        return buffer.getvalue(), "image/png"
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue(), "image/jpeg"
