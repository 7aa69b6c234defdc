"""Threads through its Graph API (``graph.threads.net``, container flow)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import regex

from . import graph, reconcile
from .base import (
    AccountInfo,
    Capabilities,
    HashtagPage,
    HashtagPost,
    InboxItem,
    InboxPage,
    MediaItem,
    MetricsSnapshot,
    OutgoingPost,
    PublishResult,
    text_of,
    usable_id,
    web_address,
)
from .errors import Rejected, gettext_noop

logger = logging.getLogger("kanal.networks.threads")

MAX_TEXT = 500
MAX_LINKS = 5
MAX_CAROUSEL = 20
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
MAX_VIDEO_SECONDS = 5 * 60
IMAGE_FORMATS = frozenset({"image/jpeg", "image/png"})
VIDEO_FORMATS = frozenset({"video/mp4", "video/quicktime"})

MEDIA_METRICS = {
    "views": "views",
    "likes": "likes",
    "replies": "comments",
    "reposts": "shares",
    "quotes": "shares",
    "shares": "shares",
}
ACCOUNT_METRICS = {
    "followers_count": "followers",
    "views": "views",
    "likes": "likes",
    "replies": "comments",
    "reposts": "shares",
    "quotes": "shares",
}
REPLY_FIELDS = (
    "id,text,timestamp,username,permalink,hide_status,replied_to,root_post,"
    "is_reply_owned_by_me"
)

# A grapheme cluster is an emoji when it has an emoji-presentation code point,
# a character made emoji by VS16, a keycap, a flag's regional indicators or a
# skin tone. "©" or "♥" without VS16 are text.
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(
    r"\p{Emoji_Presentation}|\p{Emoji}\ufe0f|\u20e3|\p{Regional_Indicator}"
    r"|\p{Emoji_Modifier}|[\U000e0020-\U000e007f]",
    regex.V1,
)


def threads_length(value: str) -> int:
    """Threads' length: one per character, an emoji as its UTF-8 bytes.

    A flag (🇩🇰) is 8, a family joined with ZWJ (👨‍👩‍👧) 18, ❤️ 6. Other
    characters count by code point and without normalising, so ``e`` plus a
    combining accent is 2 where a precomposed ``é`` is 1: of the two plausible
    readings of Meta's rule this one never lets through a text that Threads
    refuses.
    """
    total = 0
    for cluster in _GRAPHEME.findall(value):
        if _EMOJI.search(cluster):
            total += len(cluster.encode("utf-8"))
        else:
            total += len(cluster)
    return total


class ThreadsAdapter(graph.GraphAdapter):
    network = "threads"
    display_name = "Threads"
    web_hosts = frozenset({"threads.net", "threads.com"})
    api_version = "v1.0"

    status_key = "status"
    status_detail_key = "error_message"
    status_fields = "status,error_message"
    container_edge = "threads"
    publish_edge = "threads_publish"
    limit_edge = "threads_publishing_limit"
    media_edge = "threads"
    text_field = "text"
    default_quota_total = 250
    poll_seconds_default = 30.0
    poll_attempts_default = 10
    oauth_hosts = {
        host: ("https://threads.net/oauth/authorize",
               f"https://{host}/oauth/access_token")
        for host in ("graph.threads.net", "graph.threads.com")
    }
    scopes = (
        "threads_basic", "threads_content_publish", "threads_manage_replies",
        "threads_read_replies", "threads_manage_insights",
        "threads_manage_mentions", "threads_delete", "threads_keyword_search",
    )

    def capabilities(self) -> Capabilities:
        return Capabilities(
            max_text_length=MAX_TEXT,
            text_counting="tegn (emoji tæller som deres antal bytes)",
            max_images=MAX_CAROUSEL,
            max_videos=MAX_CAROUSEL,
            image_formats=IMAGE_FORMATS,
            video_formats=VIDEO_FORMATS,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            max_links=MAX_LINKS,
            max_media=MAX_CAROUSEL,
            max_video_seconds=MAX_VIDEO_SECONDS,
            media_by_url=True,
            supports=frozenset({
                "publish", "delete", "reply", "hide", "repost", "fetch_inbox",
                "fetch_metrics", "search_hashtag", "refresh_token", "verify",
                "link_posts", "video",
                "read_post",
            }),
        )

    def count_text(self, value: str) -> int:
        return threads_length(value)

    # -- publishing -----------------------------------------------------------

    def text_for(self, post: OutgoingPost) -> str:
        # A link attachment is only allowed on text posts; elsewhere it goes
        # into the text.
        if post.media and post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}".strip()
        return post.text

    def _item_fields(self, item: MediaItem) -> dict:
        if item.kind == "video":
            return {"media_type": "VIDEO", "video_url": item.public_url,
                    "alt_text": item.alt_text}
        return {"media_type": "IMAGE", "image_url": item.public_url,
                "alt_text": item.alt_text}

    def build_container(self, post: OutgoingPost) -> str:
        fields: dict = {"text": self.text_for(post),
                        "reply_to_id": post.reply_to_remote_id}
        if not post.media:
            fields["media_type"] = "TEXT"
            if post.link and post.link not in post.text:
                fields["link_attachment"] = post.link
            return self.create_container(fields, fence="container")
        if len(post.media) == 1:
            return self.create_container({**fields,
                                          **self._item_fields(post.media[0])},
                                         fence="container")
        children = [
            self.create_container({**self._item_fields(item),
                                   "is_carousel_item": "true"})
            for item in post.media
        ]
        for child in children:
            if self.wait_until_finished(child) != graph.CONTAINER_DONE:
                raise self.container_error(self.container_status(child)[1])
        return self.create_container(
            {**fields, "media_type": "CAROUSEL", "children": ",".join(children)},
            fence="container",
        )

    def ensure_quota(self, post: OutgoingPost | None = None) -> None:
        if post is None or not post.reply_to_remote_id:
            super().ensure_quota(post)
            return
        self._ensure_reply_quota()

    def _ensure_reply_quota(self) -> None:
        # Replies have their own quota (1,000 a day) next to the 250 posts.
        body = self.get(f"/{self.account_id}/{self.limit_edge}",
                        fields="reply_quota_usage,reply_config")
        entry = (body.get("data") or [{}])[0]
        used = int(entry.get("reply_quota_usage") or 0)
        config = entry.get("reply_config") or {}
        total = int(config.get("quota_total") or 1000)
        if used >= total:
            duration = int(config.get("quota_duration") or 86400)
            raise self.quota_exhausted(
                total, duration, what="svar",
                network_message=f"reply_quota_usage {used}/{total}",
            )

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        graph.check_object_id(to_remote_id, network=self.network)
        self._ensure_reply_quota()
        container = self.create_container(
            {"media_type": "TEXT", "text": text, "reply_to_id": to_remote_id},
            fence="container",
        )
        state = self.wait_until_finished(container)
        if state != graph.CONTAINER_DONE:
            raise self.container_error(self.container_status(container)[1])
        body = self.post(f"/{self.account_id}/{self.publish_edge}",
                         write="reply", creation_id=container)
        return self.result_for(str(body["id"]))

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The account's own reply to ``to_remote_id`` with ``text``, which a
        reply whose answer was lost may have made (its ``replies`` edge)."""
        graph.check_object_id(to_remote_id, network=self.network)

        def own(entry) -> bool | None:
            mine = entry.get("is_reply_owned_by_me")
            if isinstance(mine, bool):
                return mine
            return self.owned_by_me(entry)

        return self.search_replies(
            f"/{to_remote_id}/replies", REPLY_FIELDS,
            reconcile.ReplySearch(self.network, text), own)

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        # Idempotent (it sets a flag): no fence.
        graph.check_object_id(remote_id, network=self.network)
        self.post(f"/{remote_id}/manage_reply",
                  {"hide": "true" if hidden else "false"})

    def repost(self, remote_id: str) -> PublishResult | None:
        graph.check_object_id(remote_id, network=self.network)
        body = self.post(f"/{remote_id}/repost", write="repost")
        return PublishResult(remote_id=str(body["id"]), url="",
                             published_at=self.now())

    # -- reading --------------------------------------------------------------

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        reader = graph.InboxReader()
        limit = int(self._setting("inbox_media_limit", 10))
        posts = self.get(f"/{self.account_id}/threads",
                         fields="id,timestamp,permalink", limit=limit)
        for post in graph.listing(posts):
            post_id = usable_id(post.get("id"))
            if not post_id:
                reader.skip()
                continue
            replies = graph.inbox_listing(
                lambda query, post_id=post_id: self.get(
                    f"/{post_id}/conversation", **query),
                {"fields": REPLY_FIELDS}, since)
            for reply in replies:
                if reply.get("is_reply_owned_by_me") is True:
                    continue
                reader.add(_reply_item, reply, post_id, now=self.now())
        mentions = self.get(f"/{self.account_id}/mentions",
                            fields="id,text,timestamp,username,permalink")
        for mention in graph.listing(mentions):
            reader.add(self._mention_item, mention, text=mention.get("text"))
        return graph.inbox_page(reader.items, since,
                                own_handle=self.connection.handle,
                                own_id=self.account_id, skipped=reader.skipped)

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        version = self.api_version
        body = self.get(f"/{self.account_id}/threads_insights",
                        metric=",".join(ACCOUNT_METRICS))
        account = tuple(graph.insight_metrics(body, ACCOUNT_METRICS, version))
        posts = self.media_insights(post_ids, MEDIA_METRICS)
        return MetricsSnapshot(account=account, posts=posts, taken_at=self.now())

    def search_hashtag(self, tag: str, *, cursor: str = "") -> HashtagPage:
        name = tag.lstrip("#＃").strip()
        if not name:
            raise Rejected(gettext_noop(
                "Skriv et emne at søge efter."
            ), network=self.network)
        body = self.get(
            "/keyword_search", q=name, search_type="RECENT", search_mode="TAG",
            fields="id,text,timestamp,username,permalink", after=cursor,
        )
        posts = tuple(
            HashtagPost(
                remote_id=str(found["id"]),
                author_name=str(found.get("username") or ""),
                text=str(found.get("text") or ""),
                created_at=graph.parse_time(found.get("timestamp")),
                url=str(found.get("permalink") or ""),
            )
            for found in body.get("data", [])
        )
        return HashtagPage(tag=name, posts=posts, cursor=graph.next_cursor(body))

    # -- connection -----------------------------------------------------------

    def verify(self) -> AccountInfo:
        body = dict(self.get(f"/{self.account_id}", fields="id,username,name"))
        # The profile has no follower count; it is an account insight.
        try:
            insights = self.get(f"/{self.account_id}/threads_insights",
                                metric="followers_count")
        except Rejected:
            insights = {}
        for entry in insights.get("data", []):
            if entry.get("name") == "followers_count":
                body["followers_count"] = graph.metric_value(entry)
        handle = str(body.get("username") or "")
        return self.account_info(
            body, f"https://www.threads.net/@{handle}" if handle else ""
        )


def _reply_item(reply: Mapping, post_id: str, *, now: datetime) -> InboxItem:
    """A citizen's reply in a thread's conversation, read as untrusted."""
    replied_to = reply.get("replied_to")
    parent = usable_id(replied_to.get("id")) if isinstance(
        replied_to, Mapping) else ""
    parent = parent or post_id
    username = text_of(reply.get("username"))
    return InboxItem(
        remote_id=usable_id(reply.get("id")),
        kind="comment" if parent == post_id else "reply",
        author_id=username,
        author_name=username,
        text=text_of(reply.get("text")),
        created_at=graph.parse_time(reply.get("timestamp")) or now,
        post_remote_id=post_id,
        parent_remote_id=parent,
        url=web_address(reply.get("permalink")),
        is_hidden=text_of(reply.get("hide_status")).upper() == "HIDDEN",
    )
