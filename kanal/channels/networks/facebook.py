"""Facebook Pages through the Graph API (``https://graph.facebook.com/vNN.0``).

Credentials: ``access_token`` is the Page token (it does not expire);
``user_token`` (long-lived, ~60 days), ``client_id`` and ``client_secret``
let ``refresh_token`` fetch a new Page token. Photos are uploaded unpublished
and attached to one feed post, so a post with images is one post. A video is
its own post (``/{page-id}/videos``, fetched by Meta from ``file_url``); its
remote id is the video id. Direct messages come from the Messenger Platform's
``/{page-id}/conversations`` (permission ``pages_messaging``) and are answered
through the Send API (``POST /{page-id}/messages``): ``RESPONSE`` within 24
hours of the citizen's latest message, then tagged ``HUMAN_AGENT`` (a person
answers) up to 7 days; later Kanal refuses before any call.

Fenced writes (``NetworkAdapter.fence``): the feed post, a published video,
a comment (reply), a message and pin/unpin. Unpublished photo uploads cannot appear on
the page by themselves and are not fenced; hiding a comment and deleting are
idempotent and not fenced either. Facebook has no idempotency key: after a
lost answer ``find_published`` looks for the post carrying the checkpointed
photo ids, or the same text, on the page's clock (see ``reconcile``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from . import graph, reconcile
from .base import (
    AccountInfo,
    Capabilities,
    Checkpoint,
    Connection,
    InboxItem,
    InboxPage,
    Metric,
    MetricsSnapshot,
    NetworkAdapter,
    OutgoingMessage,
    OutgoingPost,
    PostState,
    PublishResult,
    TokenSet,
    present_metrics,
    text_of,
    usable_id,
    web_address,
)
from .errors import (
    LIKE_UNCONFIRMED,
    UNREADABLE_ANSWER,
    AuthExpired,
    NetworkError,
    Rejected,
    TransientError,
    gettext_noop,
)
from .http import missing_in_answer, read_json

logger = logging.getLogger("kanal.networks.facebook")

DEFAULT_VERSION = "v25.0"
MAX_TEXT = 63206
MAX_IMAGES = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_FORMATS = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MAX_VIDEOS = 1
VIDEO_FORMATS = frozenset({"video/mp4", "video/quicktime"})
# Graph's non-resumable upload (one request with file_url) takes up to 1 GB.
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
INBOX_POSTS = 25
INBOX_CONVERSATIONS = 25
# The Send API takes a text message of up to 2,000 characters
# (developers.facebook.com/docs/messenger-platform/reference/send-api).
MAX_MESSAGE_TEXT = 2000
FIND_PAGES = 5
SCOPES = (
    "pages_show_list", "pages_manage_posts", "pages_read_engagement",
    "pages_manage_engagement", "pages_read_user_engagement", "read_insights",
    "pages_messaging",
)
_VERSION = re.compile(r"/(v\d+\.\d+)/?$")

PAGE_INSIGHTS = {
    "page_media_view": "views",
    "page_total_media_view_unique": "reach",
    "page_post_engagements": "engagement",
}
POST_INSIGHTS = {
    "post_media_view": "views",
    "post_total_media_view_unique": "reach",
    "post_clicks": "clicks",
    "post_reactions_like_total": "likes",
}


class FacebookAdapter(NetworkAdapter):
    network = "facebook"
    display_name = "Facebook"
    web_hosts = frozenset({"facebook.com"})
    api_version = DEFAULT_VERSION

    def __init__(self, connection: Connection, *, client=None, **hooks) -> None:
        super().__init__(connection, client=client, **hooks)
        found = _VERSION.search(connection.base_url)
        if found:
            self.api_version = found.group(1)

    # -- limits ---------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(
            max_text_length=MAX_TEXT,
            text_counting="tegn",
            max_images=MAX_IMAGES,
            image_formats=IMAGE_FORMATS,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_videos=MAX_VIDEOS,
            video_formats=VIDEO_FORMATS,
            max_video_bytes=MAX_VIDEO_BYTES,
            video_alone=True,
            alt_text_required_for=frozenset({"image"}),
            supports=frozenset({
                "publish", "delete", "reply", "hide", "pin", "fetch_inbox",
                "fetch_metrics", "refresh_token", "verify", "link_posts",
                "video", "direct_messages", "send_message", "like",
                "read_post",
            }),
            max_message_length=MAX_MESSAGE_TEXT,
        )

    def count_text(self, text: str) -> int:
        return len(text)

    # -- calls ------------------------------------------------------------------

    @property
    def page_id(self) -> str:
        return self.connection.account_id

    def _translate(self, response: httpx.Response) -> NetworkError | None:
        return graph.translate(response, network=self.network)

    def call(self, method: str, path: str, *, params: Mapping | None = None,
             data: Mapping | None = None, files=None, token: str = "",
             write: str = "") -> dict:
        """One Graph call. ``write`` names a write that must not be sent twice:
        it is fenced right before sending, and a 5xx or unreadable answer is
        ``OutcomeUnknown``."""
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        # The token travels in the Authorization header, never in the URL
        # (URLs end up in proxy, server and error logs).
        kwargs: dict = {"params": query, "headers": graph.bearer(
            token or self.connection.secret("access_token"))}
        if data is not None:
            kwargs["data"] = {k: v for k, v in data.items() if v not in (None, "")}
        if files:
            kwargs["files"] = files
        if write:
            self.fence(write)
        response = self.client.request(method, path, translate=self._translate,
                                       write=bool(write), **kwargs)
        body = read_json(response, network=self.network, write=bool(write))
        # The Send API names what it created ``message_id``.
        if write and not (isinstance(body, dict) and (
                usable_id(body.get("id")) or usable_id(body.get("message_id")))):
            if isinstance(body, dict) and body.get("success") is not None:
                return body
            raise missing_in_answer(response, network=self.network, what="id")
        return body if isinstance(body, dict) else {"data": body}

    def _pages(self, path: str, params: Mapping, *, limit: int = FIND_PAGES):
        """The ``data`` entries of an edge, following ``after`` cursors."""
        query = dict(params)
        for _ in range(limit):
            body = self.call("GET", path, params=query)
            yield from body.get("data", [])
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            query["after"] = after

    # -- publishing ---------------------------------------------------------------

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        state = dict(checkpoint or {})
        videos = [m for m in post.media if m.kind == "video"]
        if videos:
            return self._publish_video(post.text, videos[0], state, on_checkpoint)
        photo_ids = [p for p in state.get("photo_ids", "").split(",") if p]
        images = [m for m in post.media if m.kind == "image"]
        for image in images[len(photo_ids):]:
            photo_ids.append(self._upload_photo(image))
            state["photo_ids"] = ",".join(photo_ids)
            if on_checkpoint is not None:
                on_checkpoint(dict(state))
        data = {"message": post.text, "link": post.link}
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        started = datetime.now(UTC)
        body = self.call("POST", f"/{self.page_id}/feed", data=data,
                         write="create")
        post_id = str(body["id"])
        return PublishResult(post_id, self._permalink(post_id), started)

    def _publish_video(self, text: str, video, state: dict,
                       on_checkpoint: Callable[[Checkpoint], None] | None,
                       ) -> PublishResult:
        started = datetime.now(UTC)
        video_id = state.get("video_id", "")
        if not video_id:
            data = {"description": text, "published": "true"}
            if video.public_url or not video.data:
                body = self.call("POST", f"/{self.page_id}/videos",
                                 data={**data, "file_url": video.public_url},
                                 write="create")
            else:
                files = {"source": (video.filename or "video.mp4", video.data,
                                    video.mime_type)}
                body = self.call("POST", f"/{self.page_id}/videos", data=data,
                                 files=files, write="create")
            video_id = str(body["id"])
            state["video_id"] = video_id
            if on_checkpoint is not None:
                on_checkpoint(dict(state))
        return PublishResult(video_id, self._permalink(video_id), started)

    def _upload_photo(self, image) -> str:
        # Unpublished: nothing appears on the page, so no fence; a lost answer
        # leaves an orphan photo that Facebook deletes by itself.
        data = {"published": "false", "alt_text_custom": image.alt_text}
        if image.data:
            files = {"source": (image.filename or "billede.jpg", image.data,
                                image.mime_type)}
            body = self.call("POST", f"/{self.page_id}/photos", data=data,
                             files=files)
        else:
            body = self.call("POST", f"/{self.page_id}/photos",
                             data={**data, "url": image.public_url})
        photo_id = usable_id(body.get("id"))
        if not photo_id:
            raise TransientError(UNREADABLE_ANSWER, network=self.network,
                                 network_message="photo without a usable id")
        return photo_id

    def _permalink(self, object_id: str) -> str:
        # The post exists already: a failed lookup must not fail the publish.
        try:
            body = self.call("GET", f"/{object_id}", params={"fields":
                                                              "permalink_url"})
        except NetworkError:
            body = {}
        return (self.permalink(body.get("permalink_url"))
                or f"https://www.facebook.com/{object_id}")

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        state = dict(checkpoint or {})
        if state.get("video_id"):
            video_id = state["video_id"]
            return PublishResult(video_id, self._permalink(video_id), None)
        photo_ids = reconcile.ids_from(state.get("photo_ids"))
        # Ask generously (clocks may be far apart); the exact bound is applied
        # on the page's clock, as Graph's Date header tells it.
        asked = since - reconcile.UNKNOWN_OFFSET_SLACK - timedelta(hours=1)
        candidates = []
        for entry in self._pages(f"/{self.page_id}/published_posts", {
            "fields": "id,message,created_time,permalink_url,attachments",
            "since": int(asked.timestamp()), "limit": 100,
        }):
            attached = set()
            for attachment in (entry.get("attachments") or {}).get("data") or []:
                subs = (attachment.get("subattachments") or {}).get("data") or [
                    attachment]
                for sub in subs:
                    target = (sub.get("target") or {}).get("id")
                    if target and sub.get("type", "photo") == "photo":
                        attached.add(str(target))
            candidates.append(reconcile.Candidate(
                remote_id=str(entry["id"]),
                text=str(entry.get("message") or ""),
                created_at=graph.parse_time(entry.get("created_time")),
                url=str(entry.get("permalink_url")
                        or f"https://www.facebook.com/{entry['id']}"),
                media_ids=frozenset(attached),
                has_media=bool(attached),
            ))
        floor = reconcile.network_floor(
            since, self.client.network_offset(),
            at_write=reconcile.offset_at_write(state))
        best = reconcile.newest_match(candidates, text=text, floor=floor,
                                      media_ids=photo_ids,
                                      exclude=reconcile.excluded(state))
        if best is None:
            return None
        return PublishResult(best.remote_id, best.url, best.created_at)

    def delete(self, remote_id: str) -> None:
        graph.check_object_id(remote_id, network=self.network)
        self.call("DELETE", f"/{remote_id}")

    def read_post(self, remote_id: str) -> PostState:
        graph.check_object_id(remote_id, network=self.network)
        try:
            body = self.call("GET", f"/{remote_id}", params={
                "fields": "id,message,permalink_url,updated_time"})
        except Rejected as e:
            if graph.object_gone(e):
                return PostState(remote_id, gone=True)
            raise
        # updated_time also moves when the post gets a comment: a hint, not
        # the proof of an edit (the text is).
        return PostState(
            remote_id, text=text_of(body.get("message")),
            url=self.permalink(body.get("permalink_url")),
            edited_at=graph.parse_time(body.get("updated_time")),
            current_id=remote_id,
        )

    def reply(self, to_remote_id: str, text: str, *,
              idempotency_key: str = "") -> PublishResult:
        graph.check_object_id(to_remote_id, network=self.network)
        started = datetime.now(UTC)
        body = self.call("POST", f"/{to_remote_id}/comments", data={"message": text},
                         write="reply")
        comment_id = str(body["id"])
        return PublishResult(comment_id, self._permalink(comment_id), started)

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The page's own comment on ``to_remote_id`` with ``text``, which a
        reply whose answer was lost may have made (``reconcile.ReplySearch``).
        Reads the object's comments edge, newest first."""
        graph.check_object_id(to_remote_id, network=self.network)
        def candidate(entry):
            if not entry.get("id"):
                return None
            author = str((entry.get("from") or {}).get("id") or "")
            return reconcile.Candidate(
                remote_id=str(entry["id"]),
                text=str(entry.get("message") or ""),
                created_at=graph.parse_time(entry.get("created_time")),
                url=str(entry.get("permalink_url") or ""),
            ), (author == self.page_id) if author else None

        found = graph.search_listing(
            lambda query: self.call("GET", f"/{to_remote_id}/comments",
                                    params=query),
            {"fields": "id,message,from,created_time,permalink_url",
             "order": "reverse_chronological", "limit": 100},
            reconcile.ReplySearch(self.network, text),
            candidate,
            pages=FIND_PAGES,
        )
        if found is None:
            return None
        return PublishResult(found.remote_id,
                             found.url or self._permalink(found.remote_id),
                             found.created_at)

    def message_refusal(self, message: OutgoingMessage, *,
                        now: datetime) -> str | None:
        if graph.past_human_agent_window(message, now=now):
            return gettext_noop(
                "Messenger tillader kun svar op til 7 dage efter borgerens seneste "
                "besked, og den er ældre. Svar borgeren på en anden måde (fx "
                "telefon eller e-mail), eller vent, til borgeren skriver igen."
            )
        return None

    def send_message(self, message: OutgoingMessage, *,
                     idempotency_key: str = "") -> PublishResult:
        """Answer through the Send API (``graph.send_api_fields``: RESPONSE,
        then HUMAN_AGENT); refused past 7 days before any call."""
        now = datetime.now(UTC)
        refusal = self.message_refusal(message, now=now)
        if refusal:
            raise Rejected(refusal, network=self.network,
                           network_message="outside the messaging window")
        body = self.call("POST", f"/{self.page_id}/messages",
                         data=graph.send_api_fields(message, now=now),
                         write="message")
        return PublishResult(graph.sent_message_id(body, network=self.network),
                             "", now)

    def find_message(self, message: OutgoingMessage, *, idempotency_key: str = "",
                     since: datetime) -> PublishResult | None:
        """The page's own message with the same text to this citizen since
        ``since``, read from their conversation (``user_id`` narrows
        ``/{page-id}/conversations`` to it), newest first."""
        conversations = self.call("GET", f"/{self.page_id}/conversations", params={
            "platform": "messenger", "user_id": message.recipient_id,
            "fields": "id,messages.limit(100){id,message,from,created_time}",
        }).get("data")
        return graph.find_sent_message(
            conversations if isinstance(conversations, list) else [],
            message.text, network=self.network,
            floor=reconcile.network_floor(since, self.client.network_offset()),
            own=lambda author: str(author.get("id") or "") == self.page_id)

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        # Idempotent (it sets a flag): no fence.
        graph.check_object_id(remote_id, network=self.network)
        self.call("POST", f"/{remote_id}",
                  data={"is_hidden": "true" if hidden else "false"})

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """``POST /{object-id}/likes`` as the page (``DELETE`` to unlike);
        one like per page, so a repeat changes nothing. The answer must say
        ``success``."""
        graph.check_object_id(remote_id, network=self.network)
        self.fence("like" if liked else "unlike")
        body = self.call("POST" if liked else "DELETE", f"/{remote_id}/likes")
        if body.get("success") is not True:
            raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                 network_message=str(body)[:200])

    def pin(self, remote_id: str, *, pinned: bool = True) -> None:
        graph.check_object_id(remote_id, network=self.network)
        self.call("POST", f"/{remote_id}",
                  data={"is_pinned": "true" if pinned else "false"},
                  write="pin" if pinned else "unpin")

    # -- reading --------------------------------------------------------------------

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        after = _cursor_time(since)
        query_since = int((after - timedelta(seconds=1)).timestamp()) if after else None
        posts = graph.listing(self.call("GET", f"/{self.page_id}/published_posts",
                                        params={"fields": "id,created_time",
                                                "limit": INBOX_POSTS}))
        reader = graph.InboxReader()
        for post in posts:
            post_id = usable_id(post.get("id"))
            if not post_id:
                reader.skip()
                continue
            for entry in self._pages(f"/{post_id}/comments", {
                "filter": "stream", "order": "reverse_chronological",
                "fields": "id,message,from,created_time,parent,is_hidden,"
                          "permalink_url",
                "since": query_since, "limit": 100,
            }):
                if not isinstance(entry, Mapping):
                    reader.skip()
                    continue
                if _author_id(entry) == self.page_id:
                    continue
                reader.add(_comment_item, entry, post_id)
        for entry in self._pages(f"/{self.page_id}/tagged", {
            "fields": "id,message,from,created_time,permalink_url",
            "since": query_since, "limit": 100,
        }):
            if not isinstance(entry, Mapping):
                reader.skip()
                continue
            reader.add(_comment_item, entry, "", kind="mention")
        items = reader.items
        messages, denied = self._messages(after)
        items.extend(messages)
        return replace(graph.inbox_page(items, since, skipped=reader.skipped),
                       messages_denied=denied)

    def _messages(self, after: datetime | None) -> tuple[list[InboxItem], str]:
        """Messenger messages from citizens (the cursor's time filters them),
        and the permission the Page token lacks to read them ("" if none)."""
        conversations = self._pages(f"/{self.page_id}/conversations", {
            "platform": "messenger",
            "fields": "id,updated_time,link,messages{id,message,from,created_time}",
            "limit": INBOX_CONVERSATIONS,
        })
        try:
            return graph.conversation_messages(
                conversations, after=after,
                own=lambda author: str(author.get("id") or "") == self.page_id), ""
        except NetworkError as e:
            # A Page token from before pages_messaging was asked for: the
            # comments still count; the admin reconnects to get messages.
            if not graph.no_messaging_access(e):
                raise
            logger.warning("facebook: no access to messages on page %s (%s)",
                           self.page_id, e.network_code)
            return [], "pages_messaging"

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        version = self.api_version
        page = self.call("GET", f"/{self.page_id}",
                         params={"fields": "followers_count,fan_count"})
        account = present_metrics(
            page, (("followers_count", "followers"), ("fan_count", "likes")), version)
        account.extend(self._insights(self.page_id, PAGE_INSIGHTS, "day"))
        posts = {}
        for post_id in post_ids:
            metrics = self._insights(post_id, POST_INSIGHTS, "lifetime")
            node = self.call("GET", f"/{post_id}", params={
                "fields": "shares,comments.summary(true).limit(0)"})
            comments = (node.get("comments") or {}).get("summary") or {}
            counts = {"comments.summary.total_count": comments.get("total_count"),
                      "shares.count": (node.get("shares") or {}).get("count")}
            metrics.extend(present_metrics(
                counts, (("comments.summary.total_count", "comments"),
                         ("shares.count", "shares")), version))
            posts[post_id] = tuple(metrics)
        return MetricsSnapshot(tuple(account), posts, datetime.now(UTC))

    def _insights(self, object_id: str, names: Mapping[str, str],
                  period: str) -> list[Metric]:
        body = self.call("GET", f"/{object_id}/insights",
                         params={"metric": ",".join(names), "period": period})
        metrics = []
        for entry in body.get("data", []):
            value = graph.metric_value(entry)
            name = str(entry.get("name", ""))
            if value is not None and name in names:
                metrics.append(Metric(name, value, names[name], self.api_version))
        return metrics

    # -- connection ---------------------------------------------------------------

    def verify(self) -> AccountInfo:
        body = self.call("GET", f"/{self.page_id}", params={
            "fields": "id,name,username,followers_count,link"})
        return AccountInfo(
            remote_id=str(body.get("id", self.page_id)),
            handle=str(body.get("username", "")),
            display_name=str(body.get("name", "")),
            followers=body.get("followers_count"),
            profile_url=str(body.get("link", "")),
        )

    def refresh_token(self) -> TokenSet:
        user_token = self.connection.secret("user_token")
        if not user_token:
            # A Page token does not expire; check that it still works.
            self.verify()
            return TokenSet(self.connection.secret("access_token"))
        long_lived = graph.exchange_facebook_token(
            self.client, client_id=self.connection.secret("client_id"),
            client_secret=self.connection.secret("client_secret"),
            short_token=user_token,
        )
        return self._page_tokens(long_lived)

    def _page_tokens(self, user: TokenSet) -> TokenSet:
        def as_auth(response: httpx.Response) -> NetworkError | None:
            error = self._translate(response)
            if error is not None and not isinstance(error, TransientError):
                return AuthExpired(network=self.network,
                                   network_code=error.network_code,
                                   network_message=error.network_message,
                                   http_status=error.http_status)
            return error

        response = self.client.request(
            "GET", "/me/accounts", translate=as_auth,
            headers=graph.bearer(user.access_token),
            params={"fields": "id,name,access_token,tasks"})
        pages = read_json(response, network=self.network).get("data", [])
        wanted = self.page_id
        page = next((p for p in pages if not wanted or str(p.get("id")) == wanted),
                    None)
        if page is None or not page.get("access_token"):
            raise AuthExpired(
                gettext_noop(
                    "Kanal fik ikke adgang til Facebook-siden. Forbind kanalen igen, "
                    "og vælg siden, når Facebook spørger."
                ),
                network=self.network, network_message="page not in /me/accounts")
        extra = {"user_token": user.access_token, "page_id": str(page["id"]),
                 "page_name": str(page.get("name", ""))}
        if user.expires_at is not None:
            extra["user_token_expires_at"] = user.expires_at.isoformat()
        return TokenSet(access_token=str(page["access_token"]), extra=extra)

    def authorization_url(self, *, redirect_uri: str, state: str,
                          code_verifier: str = "") -> str:
        base = self.connection.settings.get("authorize_url") or (
            self.connection.base_url.rstrip("/").replace(
                "://graph.facebook.com", "://www.facebook.com") + "/dialog/oauth")
        query = httpx.QueryParams({
            "client_id": self.connection.secret("client_id"),
            "redirect_uri": redirect_uri, "state": state,
            "response_type": "code", "scope": ",".join(SCOPES),
        })
        return f"{base}?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str,
                      code_verifier: str = "") -> TokenSet:
        client_id = self.connection.secret("client_id")
        client_secret = self.connection.secret("client_secret")
        short = graph.token_request(
            self.client, "/oauth/access_token",
            {"client_id": client_id, "client_secret": client_secret,
             "redirect_uri": redirect_uri, "code": code},
            network=self.network,
        )
        long_lived = graph.exchange_facebook_token(
            self.client, client_id=client_id, client_secret=client_secret,
            short_token=short.access_token,
        )
        return self._page_tokens(long_lived)


def _cursor_time(cursor: str | None) -> datetime | None:
    """The newest time in an inbox cursor (see ``graph.inbox_page``)."""
    if not cursor:
        return None
    try:
        state = json.loads(cursor)
    except ValueError:
        return graph.parse_time(cursor)
    at = graph.parse_time(state.get("t")) if isinstance(state, dict) else None
    # A time in the future is no cursor (see ``graph.inbox_page``).
    return at if at is None or at <= datetime.now(UTC) else None


def _author_id(entry: Mapping) -> str:
    author = entry.get("from")
    return usable_id(author.get("id")) if isinstance(author, Mapping) else ""


def _comment_item(entry: Mapping, post_id: str, *, kind: str = "") -> InboxItem:
    """A citizen's comment, reply or mention of the Page, read as untrusted."""
    author = entry.get("from")
    author = author if isinstance(author, Mapping) else {}
    parent = entry.get("parent")
    parent_id = usable_id(parent.get("id")) if isinstance(parent, Mapping) else ""
    return InboxItem(
        remote_id=usable_id(entry.get("id")),
        kind=kind or ("reply" if parent_id else "comment"),
        author_id=_author_id(entry),
        author_name=text_of(author.get("name")),
        text=text_of(entry.get("message")),
        created_at=graph.parse_time(entry.get("created_time")) or datetime.now(UTC),
        post_remote_id=post_id,
        parent_remote_id=(parent_id or post_id) if post_id else "",
        url=web_address(entry.get("permalink_url")),
        is_hidden=entry.get("is_hidden") is True,
    )
