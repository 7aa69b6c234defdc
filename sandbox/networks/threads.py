"""Threads: ``/threads/v1.0/...`` (PLATFORMS.md §7).

The same container flow as Instagram (``POST /{user-id}/threads`` →
``IN_PROGRESS`` → ``FINISHED`` after ``container_delay_seconds`` on the
sandbox clock → ``POST /{user-id}/threads_publish``; ``EXPIRED`` after 24 h;
publishing twice is an error), with Threads' own rules: ``media_type``
TEXT/IMAGE/VIDEO/CAROUSEL (2–20 children), 500 characters with emoji counted
as UTF-8 bytes, at most 5 links (``THREADS_API__LINK_LIMIT_EXCEEDED``), 250
posts and 1,000 replies per rolling 24 h (``quota_total`` in the account's
``extra`` overrides 250), replies through ``reply_to_id``, ``manage_reply``,
``repost``, ``DELETE``, ``/mentions``, ``/replies`` and ``/conversation``,
insights, ``/keyword_search`` and ``th_*`` tokens. Errors use the Graph
envelope; the plumbing comes from the Instagram emulator.

Store layout: containers ``kind="container"``; published posts
``kind="post"``; replies ``kind="comment"`` (to a post) or ``kind="reply"``
(deeper), with ``root_id`` the post; the account's own replies are
``kind="reply"`` with ``author_id`` the account; reposts ``kind="repost"``;
mentions of the account ``kind="mention"``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import regex
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .instagram import (
    Call,
    GraphApi,
    account_setting,
    carousel_children,
    container_state,
    fail,
    fetch_loopback,
    fetch_media,
    graph_time,
    handler,
    metric_names,
    parse_fields,
    provision_long_lived_token,
    publishable_container,
    quota_used,
    select,
    token_routes,
    unsupported,
    username_of,
)

logger = logging.getLogger("sandbox.threads")

NETWORK = "threads"
VERSION = "v1.0"
MAX_TEXT = 500
MAX_LINKS = 5
MIN_CHILDREN, MAX_CHILDREN = 2, 20
MAX_IMAGE_BYTES = 8 * 1024 * 1024
DEFAULT_QUOTA = 250
DEFAULT_REPLY_QUOTA = 1000
DEFAULT_VIDEO_DELAY = 5.0
INSIGHTS_EPOCH = datetime(2024, 4, 13, tzinfo=UTC)

MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
ACCOUNT_METRICS = ("views", "likes", "replies", "reposts", "quotes", "clicks",
                   "followers_count", "follower_demographics")
# Retired names (impressions, reach, engagement) are in neither list, so they
# are refused like any unknown name, without Instagram's explanation.

_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(
    r"\p{Emoji_Presentation}|\p{Emoji}\ufe0f|\u20e3|\p{Regional_Indicator}"
    r"|\p{Emoji_Modifier}|[\U000e0020-\U000e007f]",
    regex.V1,
)
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
#: Threads' own words on the errors of ``threads_publish``.
PUBLISH_WORDING = {
    "missing": {"user_title": "Media Not Found"},
    "IN_PROGRESS": {"user_title": "Media Not Ready For Publishing"},
}


def text_length(value: str) -> int:
    """Characters, with each emoji counted as its UTF-8 bytes."""
    return sum(
        len(cluster.encode("utf-8")) if _EMOJI.search(cluster) else len(cluster)
        for cluster in _GRAPHEME.findall(value)
    )


def new_id(ctx, kind: str, *, account_id: str = "", parent_id: str = "") -> str:
    if kind == "account":
        return str(ctx.store.next_seq("threads:account", start=26000000000100001))
    return str(ctx.store.next_seq("threads:id", start=18020000000000001))


def provision(ctx, account, body: dict) -> dict:
    """A long-lived Threads token issued two days ago (so it may be refreshed)."""
    return provision_long_lived_token(ctx, account, body, network=NETWORK,
                                      prefix="THAA")


def citizen_item(ctx, *, kind, account_id, text, parent_id, root_id, author_id,
                 author_name, data):
    store = ctx.store
    parent = store.get_item(NETWORK, parent_id) if parent_id else None
    root = ""
    if parent is not None:
        account_id = account_id or parent.account_id
        root = parent.root_id or parent.item_id
        kind = "comment" if parent.kind == "post" else "reply"
    return store.add_item(
        NETWORK, account_id, new_id(ctx, kind), kind, text=text,
        parent_id=parent.item_id if parent else "", root_id=root,
        author_id=author_id, author_name=author_name,
        data={"username": username_of(author_name), **(data or {})},
    )


def on_citizen_item(ctx, item) -> None:
    if item.kind not in ("comment", "reply", "mention"):
        return
    account = ctx.store.get_account(NETWORK, item.account_id)
    value = {
        "id": item.item_id,
        "username": item.data.get("username") or item.author_name,
        "text": item.text,
        "media_type": "TEXT_POST",
        "permalink": permalink(ctx, item),
        "timestamp": graph_time(item.created_at),
    }
    if item.kind != "mention":
        value["replied_to"] = {"id": item.parent_id}
        value["root_post"] = {"id": item.root_id, "owner_id": item.account_id,
                              "username": account.handle if account else ""}
    ctx.webhooks.send(NETWORK, {
        "app_id": "kanal-sandbox-app",
        "topic": "moderate" if item.kind != "mention" else "interaction",
        "target_id": item.account_id,
        "time": int(ctx.now().timestamp()),
        "has_uid_field": False,
        "values": {"value": value,
                   "field": "mentions" if item.kind == "mention" else "replies"},
    })


def permalink(ctx, item) -> str:
    return ctx.public_url(f"/_sandbox/page/{NETWORK}/{item.account_id}"
                          f"?p={item.item_id}")


def routes(ctx) -> list[Route]:
    api = GraphApi(ctx, NETWORK, rate_limit_code=4, buc_type="",
                   server_error_code=1)
    store = ctx.store
    v = f"/{VERSION}"

    def owner_of(node_id: str) -> str:
        if store.get_account(NETWORK, node_id):
            return node_id
        item = store.get_item(NETWORK, node_id)
        return item.author_id if item and item.kind == "container" else (
            item.account_id if item else "")

    def post_node(item, call: Call | None = None) -> dict:
        author = store.get_account(NETWORK, item.author_id)
        username = author.handle if author else (
            item.data.get("username") or item.author_name)
        kind_names = {"IMAGE": "IMAGE", "VIDEO": "VIDEO",
                      "CAROUSEL": "CAROUSEL_ALBUM", "TEXT": "TEXT_POST"}
        node = {
            "id": item.item_id,
            "media_product_type": "THREADS",
            "media_type": kind_names.get(item.data.get("media_type", "TEXT"),
                                         "TEXT_POST"),
            "media_url": item.data.get("image_url") or item.data.get("video_url"),
            "permalink": permalink(ctx, item),
            "owner": {"id": item.author_id},
            "username": username,
            "text": item.text,
            "timestamp": graph_time(item.created_at),
            "shortcode": item.item_id[-11:],
            "is_quote_post": bool(item.data.get("quote_post_id")),
            "link_attachment_url": item.data.get("link_attachment"),
            "alt_text": item.data.get("alt_text"),
            "topic_tag": item.data.get("topic_tag"),
            "has_replies": bool(store.list_items(NETWORK, parent_id=item.item_id,
                                                 limit=1)),
        }
        if item.kind in ("comment", "reply"):
            node["is_reply"] = True
            node["replied_to"] = {"id": item.parent_id}
            node["root_post"] = {"id": item.root_id}
            node["hide_status"] = "HIDDEN" if item.hidden else "NOT_HUSHED"
            if call is not None:
                node["is_reply_owned_by_me"] = item.author_id == call.account_id
        else:
            node["is_reply"] = False
        if item.kind == "repost":
            node["media_type"] = "REPOST_FACADE"
            node["reposted_post"] = {"id": item.data.get("reposted_id")}
        if item.data.get("children"):
            node["children"] = {"data": [{"id": c["id"]}
                                         for c in item.data["children"]]}
        return node

    # -- containers -----------------------------------------------------------------

    async def check_image(url: str) -> None:
        data = await fetch_media(url)
        if data is None:
            return
        if not (data.startswith(b"\xff\xd8") or data.startswith(b"\x89PNG")):
            raise fail(400, 9004, "Only JPEG and PNG images are supported.",
                       subcode=2207026, user_title="Unsupported format")
        if len(data) > MAX_IMAGE_BYTES:
            raise fail(400, 36000, "Image size too large", subcode=2207004,
                       user_title="The image is too large to download.")

    def check_text(text: str, link: str) -> None:
        length = text_length(text)
        if length > MAX_TEXT:
            raise fail(400, 100, "THREADS_API__TEXT_TOO_LONG: The text is "
                       f"{length} characters long; the limit is {MAX_TEXT}.",
                       user_title="Text too long",
                       user_msg=f"Posts can have at most {MAX_TEXT} characters.")
        links = {m.rstrip(".,;:!?)") for m in _LINK.findall(text)}
        if link:
            links.add(link)
        if len(links) > MAX_LINKS:
            raise fail(400, 100, "THREADS_API__LINK_LIMIT_EXCEEDED",
                       user_title="Too many links",
                       user_msg=f"Posts can have at most {MAX_LINKS} links.")

    @handler
    async def threads_edge(request: Request):
        account_id = request.path_params["account_id"]
        if request.method == "GET":
            call = await api.begin(request, "inbox", account_id=account_id)
            api.owns(call, account_id)
            fields = parse_fields(call.get("fields"))
            items = [i for i in store.list_items(
                NETWORK, author_id=account_id, kind=["post", "repost"])
                if i.account_id == account_id]
            return JSONResponse(api.list_page(
                call, items, lambda i: select(post_node(i, call), fields, ("id",))))
        # Every container (also one for a reply) is the preparatory step
        # "media"; the write that makes the post or reply is threads_publish
        # ("publish" or "reply").
        operation = "media"
        call = await api.begin(request, operation, account_id=account_id)
        api.owns(call, account_id)
        account = api.account_or_404(account_id)
        media_type = call.get("media_type", "TEXT").upper()
        text = call.get("text")
        link = call.get("link_attachment")
        carousel_item = call.get("is_carousel_item").lower() == "true"
        data: dict = {"media_type": media_type, "is_carousel_item": carousel_item}
        delay = account_setting(account, "container_delay_seconds", 0.0)
        reply_to = call.get("reply_to_id")
        if reply_to:
            target = store.get_item(NETWORK, reply_to, include_deleted=False)
            if target is None or target.kind not in ("post", "comment", "reply",
                                                     "mention"):
                raise fail(400, 100, "Invalid parameter: reply_to_id",
                           subcode=4279009, user_msg="The post you are replying "
                           "to does not exist.")
            data["reply_to_id"] = reply_to
        if call.get("quote_post_id"):
            data["quote_post_id"] = call.get("quote_post_id")
        if call.get("topic_tag"):
            data["topic_tag"] = call.get("topic_tag").lstrip("#")
        if media_type == "TEXT":
            if not text and not link:
                raise fail(400, 100, "The parameter text is required for "
                           "media_type TEXT")
            if link:
                data["link_attachment"] = link
        elif media_type == "IMAGE":
            url = call.get("image_url")
            if not url:
                raise fail(400, 100, "The parameter image_url is required")
            await check_image(url)
            data.update(image_url=url, alt_text=call.get("alt_text"))
        elif media_type == "VIDEO":
            url = call.get("video_url")
            if not url:
                raise fail(400, 100, "The parameter video_url is required")
            fetched = await fetch_loopback(url)
            if fetched is not None and fetched[0] != 200:
                raise fail(400, 9004, "The media could not be fetched from this "
                           "uri", subcode=2207052)
            data.update(video_url=url, alt_text=call.get("alt_text"))
            delay = account_setting(account, "video_delay_seconds",
                                    DEFAULT_VIDEO_DELAY)
        elif media_type == "CAROUSEL":
            ids = [c.strip() for c in call.get("children").split(",") if c.strip()]
            if not MIN_CHILDREN <= len(ids) <= MAX_CHILDREN:
                raise fail(400, 100, "Invalid parameter: children",
                           user_msg=f"A carousel needs {MIN_CHILDREN} to "
                           f"{MAX_CHILDREN} items.")
            data["children"] = carousel_children(ctx, NETWORK, ids)
        else:
            raise fail(400, 100, f"Invalid parameter: media_type {media_type}")
        if not carousel_item:
            check_text(text, link)
        return await api.save_container(call, account, text=text, data=data,
                                        delay=delay)

    @handler
    async def threads_publish(request: Request):
        account_id = request.path_params["account_id"]
        params = await api.params(request)
        creation_id = str(params.get("creation_id", ""))
        first_look = store.get_item(NETWORK, creation_id)
        is_reply = bool(first_look and first_look.data.get("reply_to_id"))
        call = await api.begin(request, "reply" if is_reply else "publish",
                               account_id=account_id)
        api.owns(call, account_id)
        # Read the container again after the simulated latency (begin), with no
        # await between this read and the write below: a second publish of the
        # same container that waited meanwhile sees it PUBLISHED, as on Threads.
        account = api.account_or_404(account_id)
        container = publishable_container(
            ctx, NETWORK, account_id, creation_id,
            exception_kind="THApiException", wording=PUBLISH_WORDING)
        kind = "reply" if is_reply else "post"
        limit = account_setting(account, "reply_quota_total", DEFAULT_REPLY_QUOTA) \
            if is_reply else account_setting(account, "quota_total", DEFAULT_QUOTA)
        if len(quota_used(ctx, NETWORK, account_id, kind)) >= limit:
            raise api.quota_reached()
        data = {k: v for k, v in container.data.items()
                if k not in ("ready_at", "is_carousel_item")}
        data["container_id"] = container.item_id
        data["children"] = [{**c, "id": new_id(ctx, "media")}
                            for c in data.get("children", [])]
        owner, parent, root = account_id, "", ""
        if is_reply:
            target = store.get_item(NETWORK, data["reply_to_id"])
            parent = target.item_id
            root = target.root_id or target.item_id
            owner = target.account_id if target.kind != "mention" else \
                target.author_id
        made = store.add_item(NETWORK, owner, new_id(ctx, kind), kind,
                              text=container.text, parent_id=parent, root_id=root,
                              author_id=account_id, author_name=account.handle,
                              data={**data, "username": account.handle})
        return await api.answer_published(call, container, made, kind=kind)

    @handler
    async def publishing_limit(request: Request):
        call = await api.begin_own(request, "metrics")
        account_id = call.account_id
        account = api.account_or_404(account_id)
        fields = parse_fields(call.get("fields") or "quota_usage")
        day = 24 * 3600
        entry: dict = {}
        if "quota_usage" in fields:
            entry["quota_usage"] = len(quota_used(ctx, NETWORK, account_id))
        if "config" in fields:
            entry["config"] = {"quota_total": account_setting(
                account, "quota_total", DEFAULT_QUOTA), "quota_duration": day}
        if "reply_quota_usage" in fields:
            entry["reply_quota_usage"] = len(
                quota_used(ctx, NETWORK, account_id, "reply"))
        if "reply_config" in fields:
            entry["reply_config"] = {"quota_total": account_setting(
                account, "reply_quota_total", DEFAULT_REPLY_QUOTA),
                "quota_duration": day}
        return JSONResponse({"data": [entry]})

    # -- reading ---------------------------------------------------------------------

    @handler
    async def mentions(request: Request):
        call = await api.begin_own(request, "inbox")
        account_id = call.account_id
        fields = parse_fields(call.get("fields"))
        items = store.list_items(NETWORK, account_id=account_id, kind="mention")
        return JSONResponse(api.list_page(
            call, items, lambda i: select(post_node(i, call), fields, ("id",))))

    @handler
    async def conversation(request: Request):
        media_id = request.path_params["media_id"]
        edge = request.path_params["edge"]
        item = store.get_item(NETWORK, media_id, include_deleted=False)
        call = await api.begin(request, "inbox",
                               account_id=item.account_id if item else "")
        if item is None or item.kind not in ("post", "comment", "reply") or \
                edge not in ("replies", "conversation"):
            raise unsupported("GET", media_id)
        fields = parse_fields(call.get("fields"))
        if edge == "replies":
            items = store.list_items(NETWORK, parent_id=media_id,
                                     kind=["comment", "reply"])
        else:
            root = item.root_id or item.item_id
            items = [i for i in store.list_items(NETWORK, root_id=root,
                                                 kind=["comment", "reply"])
                     if i.item_id != media_id]
        if call.get("reverse", "true").lower() == "false":
            items = list(reversed(items))
        return JSONResponse(api.list_page(
            call, items, lambda i: select(post_node(i, call), fields,
                                          ("id", "text", "timestamp"))))

    @handler
    async def manage_reply(request: Request):
        reply_id = request.path_params["media_id"]
        item = store.get_item(NETWORK, reply_id, include_deleted=False)
        call = await api.begin(request, "hide",
                               account_id=item.account_id if item else "")
        if item is None or item.kind not in ("comment", "reply") or \
                item.account_id != call.account_id:
            raise unsupported("POST", reply_id)
        hide = call.get("hide").lower()
        if hide not in ("true", "false"):
            raise fail(400, 100, "The parameter hide is required")
        store.update_item(NETWORK, reply_id, hidden=hide == "true")
        return JSONResponse({"success": True})

    @handler
    async def repost(request: Request):
        media_id = request.path_params["media_id"]
        call = await api.begin(request, "repost")
        target = store.get_item(NETWORK, media_id, include_deleted=False)
        if target is None or target.kind not in ("post", "comment", "reply",
                                                 "mention"):
            raise unsupported("POST", media_id)
        for existing in store.list_items(NETWORK, author_id=call.account_id,
                                         kind="repost"):
            if existing.data.get("reposted_id") == media_id:
                raise fail(400, 100, "You have already reposted this post.",
                           subcode=4279016, kind="THApiException")
        account = api.account_or_404(call.account_id)
        made = store.add_item(NETWORK, call.account_id, new_id(ctx, "repost"),
                              "repost", text=target.text,
                              author_id=call.account_id,
                              author_name=account.handle,
                              data={"reposted_id": media_id,
                                    "username": account.handle})
        store.add_metric(NETWORK, media_id, "reposts", 1)
        store.log_publish(NETWORK, call.account_id, made.item_id, kind="repost",
                          text=target.text)
        await api.finish_write(call)
        return JSONResponse({"id": made.item_id})

    @handler
    async def node(request: Request):
        node_id = request.path_params["node_id"]
        method = request.method
        if node_id == "me":
            params = dict(request.query_params)
            token = api.authenticate(request, params)
            node_id = token.account_id
        account = store.get_account(NETWORK, node_id)
        item = None if account else store.get_item(NETWORK, node_id,
                                                   include_deleted=False)
        if method == "DELETE":
            operation = "delete"
        elif account is not None:
            operation = "verify"
        elif item is not None and item.kind == "container":
            operation = "media"
        else:
            operation = "inbox"
        call = await api.begin(request, operation, account_id=owner_of(node_id))
        fields = parse_fields(call.get("fields"))
        if account is not None:
            if method != "GET":
                raise unsupported(method, node_id)
            return JSONResponse(select({
                "id": account.account_id,
                "username": account.handle,
                "name": account.display_name,
                "threads_profile_picture_url":
                    ctx.public_url("/_sandbox/media/square.jpg"),
                "threads_biography": account.extra.get("biography", ""),
                "is_verified": bool(account.extra.get("is_verified", False)),
            }, fields, ("id",)))
        if item is None:
            raise unsupported(method, node_id)
        if item.kind == "container":
            if method != "GET" or item.author_id != call.account_id:
                raise unsupported(method, node_id)
            state = container_state(ctx, item)
            body = {"id": item.item_id, "status": state}
            if state == "ERROR":
                body["error_message"] = item.data.get("error", "UNKNOWN")
            return JSONResponse(select(body, fields or {"status": None}, ("id",)))
        if method == "DELETE":
            if item.author_id != call.account_id:
                raise unsupported(method, node_id)
            store.delete_item(NETWORK, item.item_id)
            await api.finish_write(call)
            return JSONResponse({"success": True, "deleted_id": item.item_id})
        if method == "POST":
            raise unsupported(method, node_id)
        return JSONResponse(select(post_node(item, call), fields, ("id",)))

    # -- insights and search -----------------------------------------------------------

    def media_metric(item, name: str) -> int:
        stored = store.metrics(NETWORK, item.item_id)
        if name == "replies":
            return len(store.list_items(NETWORK, parent_id=item.item_id,
                                        kind=["comment", "reply"]))
        return stored.get(name, 0)

    @handler
    async def media_insights(request: Request):
        media_id = request.path_params["media_id"]
        item = store.get_item(NETWORK, media_id, include_deleted=False)
        call = await api.begin(request, "metrics",
                               account_id=item.author_id if item else "")
        if item is None or item.author_id != call.account_id or \
                item.kind == "container":
            raise unsupported("GET", media_id)
        names = metric_names(call, MEDIA_METRICS)
        return JSONResponse({"data": [
            {"name": name, "period": "lifetime",
             "values": [{"value": media_metric(item, name)}],
             "title": name.capitalize(), "description": "",
             "id": f"{media_id}/insights/{name}/lifetime"}
            for name in names
        ]})

    @handler
    async def account_insights(request: Request):
        call = await api.begin_own(request, "metrics")
        account_id = call.account_id
        account = api.account_or_404(account_id)
        names = metric_names(call, ACCOUNT_METRICS)
        since = call.get("since")
        if since and since.isdigit() and \
                int(since) < int(INSIGHTS_EPOCH.timestamp()):
            raise fail(400, 100, "since param must be on or after "
                       f"{int(INSIGHTS_EPOCH.timestamp())} (2024-04-13)")
        posts = [i for i in store.list_items(NETWORK, author_id=account_id,
                                             kind="post")]
        stored = store.metrics(NETWORK, account_id)
        data = []
        for name in names:
            entry = {"name": name, "period": "day", "title": name.capitalize(),
                     "description": "",
                     "id": f"{account_id}/insights/{name}/day"}
            if name == "followers_count":
                entry["total_value"] = {"value": account.followers}
            elif name == "follower_demographics":
                entry["total_value"] = {"breakdowns": []}
            elif name == "views":
                total = stored.get("views", sum(media_metric(p, "views")
                                                for p in posts))
                end = ctx.now().replace(hour=7, minute=0, second=0, microsecond=0)
                entry["values"] = [{"value": total, "end_time": graph_time(end)}]
            else:
                entry["total_value"] = {"value": stored.get(
                    name, sum(media_metric(p, name) for p in posts))}
            data.append(entry)
        return JSONResponse({"data": data})

    @handler
    async def keyword_search(request: Request):
        call = await api.begin(request, "hashtag")
        query = call.get("q").strip()
        if not query:
            raise fail(400, 100, "The parameter q is required")
        mode = call.get("search_mode", "KEYWORD").upper()
        fields = parse_fields(call.get("fields"))
        name = query.lstrip("#").lower()
        tag = re.compile(rf"[#＃]{re.escape(name)}(?!\w)", re.IGNORECASE)

        def matches(item) -> bool:
            if mode == "TAG":
                return bool(tag.search(item.text)) or \
                    str(item.data.get("topic_tag", "")).lower() == name
            return query.lower() in item.text.lower()

        items = [i for i in store.list_items(NETWORK, kind="post")
                 if matches(i)]
        if call.get("search_type", "TOP").upper() == "TOP":
            items.sort(key=lambda i: -media_metric(i, "likes"))
        return JSONResponse(api.list_page(
            call, items, lambda i: select(post_node(i), fields, ("id",))))

    @handler
    async def unknown(request: Request):
        raise unsupported(request.method, request.path_params.get("rest", ""))

    return [
        *token_routes(api, v, exchange_grant="th_exchange_token",
                      refresh_grant="th_refresh_token", token_prefix="THAA"),
        Route(v + "/keyword_search", keyword_search, methods=["GET"]),
        Route(v + "/{account_id}/threads", threads_edge, methods=["GET", "POST"]),
        Route(v + "/{account_id}/threads_publish", threads_publish,
              methods=["POST"]),
        Route(v + "/{account_id}/threads_publishing_limit", publishing_limit,
              methods=["GET"]),
        Route(v + "/{account_id}/mentions", mentions, methods=["GET"]),
        Route(v + "/{account_id}/threads_insights", account_insights,
              methods=["GET"]),
        Route(v + "/{media_id}/manage_reply", manage_reply, methods=["POST"]),
        Route(v + "/{media_id}/repost", repost, methods=["POST"]),
        Route(v + "/{media_id}/insights", media_insights, methods=["GET"]),
        Route(v + "/{media_id}/{edge:str}", conversation, methods=["GET"]),
        Route(v + "/{node_id}", node, methods=["GET", "POST", "DELETE"]),
        Route("/{rest:path}", unknown, methods=["GET", "POST", "DELETE"]),
    ]


# -- demo data ------------------------------------------------------------------

DEMO_POSTS = [
    ("Vandkvaliteten er god i alle havnebade i dag 🌊 Se status for dit bad på "
     "kk.dk/badevand", 1, {"views": 1830, "likes": 96, "reposts": 14,
                           "quotes": 2, "shares": 8},
     [("Mette Holm", "Også ved Sandkaj?", "Ja, også ved Sandkaj.")]),
    ("Kulturnatten er i aften. Hvad glæder du dig mest til? #kulturnat", 5,
     {"views": 2410, "likes": 133, "reposts": 21, "quotes": 6, "shares": 11},
     [("Jonas Berg", "Rundvisning på Rådhuset!", ""),
      ("Sofie Lund", "Værkstedet på Hovedbiblioteket 📚", "")]),
]


def seed(ctx) -> None:
    """Posts, replies, a mention and public posts for the demo account."""
    from ..seed import demo_account

    store = ctx.store
    demo = demo_account(NETWORK)
    account_id, handle = demo["account_id"], demo["handle"]
    now = ctx.now()
    for text, days_ago, metrics, replies in DEMO_POSTS:
        at = now - timedelta(days=days_ago)
        post = store.add_item(NETWORK, account_id, new_id(ctx, "post"), "post",
                              text=text, author_id=account_id, author_name=handle,
                              created_at=at, data={"media_type": "TEXT",
                                                   "username": handle})
        for name, value in metrics.items():
            store.set_metric(NETWORK, post.item_id, name, value)
        for minutes, (author, reply_text, answer) in enumerate(replies, 1):
            user = username_of(author)
            comment = store.add_item(
                NETWORK, account_id, new_id(ctx, "comment"), "comment",
                text=reply_text, parent_id=post.item_id, root_id=post.item_id,
                author_id=f"citizen-{user}", author_name=author,
                created_at=at + timedelta(minutes=11 * minutes),
                data={"username": user, "media_type": "TEXT"},
            )
            if answer:
                store.add_item(
                    NETWORK, account_id, new_id(ctx, "reply"), "reply",
                    text=answer, parent_id=comment.item_id, root_id=post.item_id,
                    author_id=account_id, author_name=handle,
                    created_at=at + timedelta(minutes=11 * minutes + 30),
                    data={"username": handle, "media_type": "TEXT"},
                )
    store.add_item(NETWORK, "citizen-ida.soerensen", new_id(ctx, "post"), "post",
                   text="Aftensol over Sydhavnen #voreskbh",
                   author_id="citizen-ida.soerensen", author_name="Ida Sørensen",
                   created_at=now - timedelta(hours=4),
                   data={"username": "ida.soerensen", "media_type": "TEXT"})
    store.add_item(NETWORK, account_id, new_id(ctx, "mention"), "mention",
                   text="@kobenhavnskommune hvornår åbner Kulturhuset igen?",
                   author_id="citizen-ali.karimi", author_name="Ali Karimi",
                   created_at=now - timedelta(hours=20),
                   data={"username": "ali.karimi"})


def page_post(ctx, item) -> dict:
    """Images, alt texts and the link card of a post for the citizen page."""
    data = item.data or {}
    children = data.get("children") or []
    sources = children or ([data] if data.get("image_url") or
                           data.get("video_url") else [])
    shown: dict = {"media": [
        {"url": s.get("image_url") or s.get("video_url") or "",
         "alt": s.get("alt_text") or ""} for s in sources]}
    if data.get("link_attachment"):
        shown["link"] = data["link_attachment"]
    return shown
