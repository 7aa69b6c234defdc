"""Instagram business accounts through the Graph API (container flow).

Direct messages (Instagram's messaging API, the same Send API and windows
as Messenger: ``graph``'s messaging section). With Instagram Login
(``graph.instagram.com``, permission ``instagram_business_manage_messages``)
the account's own id holds both edges; with Facebook Login
(``graph.facebook.com``, ``instagram_manage_messages``) they are the linked
Page's, named by the channel's API setting ``page_id``:

- intake: webhooks of object ``instagram`` with ``entry[].messaging[]``
  (``sender.id`` the citizen's Instagram-scoped id, ``recipient.id`` the
  account, ``timestamp`` in ms, ``message.mid`` and ``message.text``;
  ``message.is_echo`` marks the account's own messages, which are no
  citizen's items), and the catch-up poll ``GET /{id}/conversations
  ?platform=instagram&fields=messages{id,message,from,created_time}``
  (newest first; only a conversation's 20 newest messages have details, and
  request-folder conversations idle for 30 days are not listed).
- answer: ``POST /{id}/messages`` with ``recipient={"id": IGSID}``,
  ``message={"text": ...}``; ``RESPONSE`` within 24 hours of the citizen's
  latest message, ``MESSAGE_TAG`` ``HUMAN_AGENT`` up to 7 days, refused by
  Kanal after that; the answer names ``message_id``. Meta's Instagram
  "Send a Message" page (developers.facebook.com/docs/messenger-platform/
  instagram/features/send-message) says both "Message text must be UTF-8 and
  be a 1000 bytes or less" and, under Limitations, "Text message must be less
  than 1000 characters"; which one the API enforces is not confirmed, so
  Kanal keeps both: at most 1,000 bytes of UTF-8 (æ, ø, å take two bytes,
  most emoji four) and at most 999 characters (which, within 1,000 bytes,
  only refuses exactly 1,000 one-byte characters). Instagram has no
  idempotency key: after a lost answer ``find_message`` reads the
  conversation with the citizen (``user_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from . import graph, reconcile
from .base import (
    AccountInfo,
    Capabilities,
    HashtagPage,
    HashtagPost,
    InboxItem,
    InboxPage,
    MetricsSnapshot,
    OutgoingMessage,
    OutgoingPost,
    PublishResult,
    present_metrics,
    text_of,
    usable_id,
    web_address,
)
from .errors import (
    LIKE_UNCONFIRMED,
    NetworkError,
    NotSupported,
    QuotaExhausted,
    Rejected,
    TransientError,
    gettext_noop,
)

logger = logging.getLogger("kanal.networks.instagram")

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CAROUSEL = 10
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 300 * 1024 * 1024
MIN_ASPECT = 4 / 5
MAX_ASPECT = 1.91
MIN_VIDEO_SECONDS = 3
MAX_VIDEO_SECONDS = 15 * 60
IMAGE_FORMATS = frozenset({"image/jpeg"})
VIDEO_FORMATS = frozenset({"video/mp4", "video/quicktime"})
HASHTAG_BUDGET = 30  # unique hashtags per account in a rolling 7 days
MAX_MESSAGE_BYTES = 1000  # a direct message's text, UTF-8
MAX_MESSAGE_CHARACTERS = 999  # "less than 1000 characters" (see above)
INBOX_CONVERSATIONS = 25

MEDIA_METRICS = {
    "views": "views",
    "reach": "reach",
    "likes": "likes",
    "comments": "comments",
    "saved": "saves",
    "shares": "shares",
    "total_interactions": "engagement",
}
ACCOUNT_METRICS = {"reach": "reach", "views": "views"}
COMMENT_FIELDS = "id,text,timestamp,username,from,hidden"
MENTIONED_COMMENT_FIELDS = "id,text,timestamp,username,media{id,permalink}"
MENTIONED_MEDIA_FIELDS = "id,caption,timestamp,username,permalink,media_type"


class InstagramAdapter(graph.GraphAdapter):
    network = "instagram"
    display_name = "Instagram"
    web_hosts = frozenset({"instagram.com"})
    api_version = "v25.0"

    status_key = "status_code"
    status_fields = "status_code,status"
    container_edge = "media"
    publish_edge = "media_publish"
    limit_edge = "content_publishing_limit"
    media_edge = "media"
    text_field = "caption"
    default_quota_total = 100
    oauth_hosts = {
        "graph.instagram.com": ("https://www.instagram.com/oauth/authorize",
                                "https://api.instagram.com/oauth/access_token"),
    }
    scopes = (
        "instagram_business_basic", "instagram_business_content_publish",
        "instagram_business_manage_comments", "instagram_business_manage_insights",
        "instagram_business_manage_messages",
    )

    def capabilities(self) -> Capabilities:
        return Capabilities(
            max_text_length=MAX_CAPTION,
            text_counting="tegn",
            max_images=MAX_CAROUSEL,
            max_videos=MAX_CAROUSEL,
            image_formats=IMAGE_FORMATS,
            video_formats=VIDEO_FORMATS,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            min_aspect_ratio=MIN_ASPECT,
            max_aspect_ratio=MAX_ASPECT,
            max_hashtags=MAX_HASHTAGS,
            max_mentions=MAX_MENTIONS,
            requires_media=True,
            max_media=MAX_CAROUSEL,
            min_video_seconds=MIN_VIDEO_SECONDS,
            max_video_seconds=MAX_VIDEO_SECONDS,
            media_by_url=True,
            supports=frozenset({
                "publish", "reply", "hide", "delete", "fetch_inbox",
                "fetch_metrics", "search_hashtag", "refresh_token", "verify",
                "video", "like",
                "read_post", "direct_messages", "send_message",
            }),
            max_message_length=MAX_MESSAGE_BYTES,
            message_counting="bytes",
            max_message_characters=MAX_MESSAGE_CHARACTERS,
        )

    def count_text(self, value: str) -> int:
        return len(value)

    def text_for(self, post: OutgoingPost) -> str:
        # Links in captions are not clickable, but the address still belongs there.
        if post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}".strip()
        return post.text

    # -- publishing -----------------------------------------------------------

    def _item_fields(self, item, *, carousel: bool) -> dict:
        if item.kind == "video":
            fields = {"media_type": "VIDEO" if carousel else "REELS",
                      "video_url": item.public_url}
        else:
            fields = {"image_url": item.public_url, "alt_text": item.alt_text}
        if carousel:
            fields["is_carousel_item"] = "true"
        return fields

    def build_container(self, post: OutgoingPost) -> str:
        caption = self.text_for(post)
        if not post.media:
            raise Rejected(
                gettext_noop(
                    "Instagram kræver et billede eller en video. Tilføj mindst ét."
                ),
                network=self.network,
            )
        if len(post.media) == 1:
            return self.create_container(
                {**self._item_fields(post.media[0], carousel=False),
                 "caption": caption},
                fence="container",
            )
        children = [
            self.create_container(self._item_fields(item, carousel=True))
            for item in post.media
        ]
        for child in children:
            state = self.wait_until_finished(child)
            if state != graph.CONTAINER_DONE:
                raise self.container_error(self.container_status(child)[1])
        return self.create_container({
            "media_type": "CAROUSEL",
            "children": ",".join(children),
            "caption": caption,
        }, fence="container")

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        if self._is_media(to_remote_id):
            body = self.post(f"/{to_remote_id}/comments", {"message": text},
                             write="reply")
        else:
            body = self.post(f"/{to_remote_id}/replies", {"message": text},
                             write="reply")
        return PublishResult(remote_id=str(body["id"]), url="",
                             published_at=self.now())

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The account's own comment on a post (or reply to a comment) with
        ``text``, which a reply whose answer was lost may have made."""
        edge = "comments" if self._is_media(to_remote_id) else "replies"
        return self.search_replies(
            f"/{to_remote_id}/{edge}", COMMENT_FIELDS,
            reconcile.ReplySearch(self.network, text), self.owned_by_me)

    def _is_media(self, remote_id: str) -> bool:
        # Every write on an item asks this first: its id is checked here.
        graph.check_object_id(remote_id, network=self.network)
        # A comment node has no media_type; asking for it is error #100.
        try:
            body = self.get(f"/{remote_id}", fields="id,media_type")
        except Rejected as e:
            if e.network_code == 100:
                return False
            raise
        return bool(body.get("media_type"))

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """``POST /{ig-user-id}/likes`` with ``comment_id`` (or ``media_id``
        for a media that tags the account), ``DELETE`` to unlike (Meta's
        "User Likes", instagram_manage_engagement); liking what is liked has
        no effect. The answer must say ``success``."""
        target = "media_id" if self._is_media(remote_id) else "comment_id"
        self.fence("like" if liked else "unlike")
        body = self.call("POST" if liked else "DELETE", f"/{self.account_id}/likes",
                         params={target: remote_id})
        if body.get("success") is not True:
            raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                 network_message=str(body)[:200])

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        # Idempotent (it sets a flag): no fence.
        graph.check_object_id(remote_id, network=self.network)
        self.post(f"/{remote_id}", hide="true" if hidden else "false")

    def repost(self, remote_id: str) -> PublishResult | None:
        raise NotSupported(
            gettext_noop(
                "Instagram kan ikke dele andres opslag via API'et. Del det i "
                "Instagram-appen i stedet."
            ),
            network=self.network,
        )

    # -- direct messages ------------------------------------------------------

    @property
    def messaging_id(self) -> str:
        """Whose ``/messages`` and ``/conversations`` edges: the linked Page's
        with Facebook Login (API setting ``page_id``), else the account's."""
        return str(self.connection.settings.get("page_id") or self.account_id)

    def count_message(self, text: str) -> int:
        return len(text.encode("utf-8"))

    def message_refusal(self, message: OutgoingMessage, *,
                        now: datetime) -> str | None:
        if graph.past_human_agent_window(message, now=now):
            return gettext_noop(
                "Instagram tillader kun svar op til 7 dage efter borgerens "
                "seneste besked, og den er ældre. Svar borgeren på en anden måde "
                "(fx telefon eller e-mail), eller vent, til borgeren skriver igen."
            )
        return None

    def send_message(self, message: OutgoingMessage, *,
                     idempotency_key: str = "") -> PublishResult:
        """Answer through Instagram's Send API (RESPONSE, then HUMAN_AGENT);
        refused before any call past 7 days. The length (1,000 bytes, 999
        characters) is checked where the answer is written
        (``max_message_length``, ``max_message_characters``)."""
        now = self.now()
        refusal = self.message_refusal(message, now=now)
        if refusal:
            raise Rejected(refusal, network=self.network,
                           network_message="refused before sending")
        body = self.post(f"/{self.messaging_id}/messages",
                         graph.send_api_fields(message, now=now), write="message")
        return PublishResult(graph.sent_message_id(body, network=self.network),
                             "", now)

    def find_message(self, message: OutgoingMessage, *, idempotency_key: str = "",
                     since: datetime) -> PublishResult | None:
        """The account's own message with the same text to this citizen since
        ``since``, read from their conversation (``user_id``), newest first."""
        conversations = self.get(
            f"/{self.messaging_id}/conversations", platform="instagram",
            user_id=message.recipient_id,
            fields="id,messages{id,message,from,created_time}",
        ).get("data")
        return graph.find_sent_message(
            conversations if isinstance(conversations, list) else [],
            message.text, network=self.network,
            floor=reconcile.network_floor(since, self.client.network_offset()),
            own=self._own_author)

    def _own_author(self, author) -> bool:
        """Whether a message's ``from`` is the account (by id, else username)."""
        if author.get("id"):
            return str(author["id"]) in (self.account_id, self.messaging_id)
        handle = self.connection.handle.lstrip("@").casefold()
        return bool(handle) and str(author.get("username") or "").casefold() == handle

    def _messages(self) -> list[InboxItem]:
        """Citizens' direct messages from the conversations listing."""
        body = self.get(f"/{self.messaging_id}/conversations", platform="instagram",
                        fields="id,updated_time,messages{id,message,from,"
                               "created_time}",
                        limit=INBOX_CONVERSATIONS)
        return graph.conversation_messages(body.get("data") or [], after=None,
                                           own=self._own_author)

    # -- reading --------------------------------------------------------------

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        reader = graph.InboxReader()
        limit = int(self._setting("inbox_media_limit", 10))
        media = self.get(f"/{self.account_id}/media",
                         fields="id,timestamp,permalink", limit=limit)
        for post in graph.listing(media):
            post_id = usable_id(post.get("id"))
            if not post_id:
                reader.skip()
                continue
            comments = graph.inbox_listing(
                lambda query, post_id=post_id: self.get(
                    f"/{post_id}/comments", **query),
                {"fields": f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}"}, since)
            for comment in comments:
                reader.add(_comment_item, comment, post, parent="")
                comment_id = usable_id(comment.get("id"))
                replies = comment.get("replies")
                for answer in graph.listing(replies) if comment_id else ():
                    reader.add(_comment_item, answer, post, parent=comment_id)
        tags = self.get(f"/{self.account_id}/tags",
                        fields="id,caption,timestamp,username,permalink")
        for tagged in graph.listing(tags):
            reader.add(self._mention_item, tagged, text=tagged.get("caption"))
        items = reader.items
        denied = ""
        try:
            items.extend(self._messages())
        except NetworkError as e:
            # A token from before the messaging permission was asked for: the
            # comments still count; an admin reconnects to get messages.
            if not graph.no_messaging_access(e):
                raise
            logger.warning("instagram: no access to messages of %s (%s)",
                           self.messaging_id, e.network_code)
            denied = ("instagram_manage_messages"
                      if self.connection.settings.get("page_id")
                      else "instagram_business_manage_messages")
        return replace(
            graph.inbox_page(items, since, own_handle=self.connection.handle,
                             own_id=self.account_id, skipped=reader.skipped),
            messages_denied=denied)

    def read_mention(self, *, comment_id: str = "", media_id: str = "") -> InboxItem:
        """The mention a ``mentions`` webhook named, read back: a comment
        (``comment_id``, on media ``media_id``) or a caption (``media_id``
        alone) of someone else's that names the account. Meta's Mentions
        read-back on the account's node (``mentioned_comment.comment_id(…)``,
        ``mentioned_media.media_id(…)``). Both ids are checked before they
        go into the request. What comes back is untrusted: an answer that
        is not the asked-for object (another id, no object) raises
        ``TransientError`` (read again later); a mention that no longer
        exists, or may not be read, is the network's 400/404
        (``mention_gone``)."""
        for remote_id in (comment_id, media_id):
            if remote_id:
                graph.check_object_id(remote_id, network=self.network)
        if comment_id:
            edge, wanted = "mentioned_comment", comment_id
            fields = (f"mentioned_comment.comment_id({comment_id})"
                      f"{{{MENTIONED_COMMENT_FIELDS}}}")
        elif media_id:
            edge, wanted = "mentioned_media", media_id
            fields = (f"mentioned_media.media_id({media_id})"
                      f"{{{MENTIONED_MEDIA_FIELDS}}}")
        else:
            raise Rejected(graph.NOT_FOUND_MESSAGE, network=self.network)
        body = self.get(f"/{self.account_id}", fields=fields)
        node = body.get(edge)
        if not isinstance(node, Mapping) or usable_id(node.get("id")) != wanted:
            raise TransientError(network=self.network,
                                 network_message=f"{edge}: not the asked-for object")
        if comment_id:
            media = node.get("media")
            media = media if isinstance(media, Mapping) else {}
            on = usable_id(media.get("id")) or media_id
            item = self._mention_item(node, text=node.get("text"))
            return replace(item, post_remote_id=on, parent_remote_id=on,
                           url=web_address(media.get("permalink")))
        # A caption's mention, as the ``/tags`` poll reads it: no post of
        # the account's is under it.
        return self._mention_item(node, text=node.get("caption"))

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        version = self.api_version
        profile = self.get(f"/{self.account_id}", fields="followers_count")
        account = present_metrics(profile, (("followers_count", "followers"),),
                                  version)
        insights = self.get(
            f"/{self.account_id}/insights", metric=",".join(ACCOUNT_METRICS),
            period="day", metric_type="total_value",
        )
        account.extend(graph.insight_metrics(insights, ACCOUNT_METRICS, version))
        posts = self.media_insights(post_ids, MEDIA_METRICS)
        return MetricsSnapshot(account=tuple(account), posts=posts,
                               taken_at=self.now())

    def search_hashtag(self, tag: str, *, cursor: str = "") -> HashtagPage:
        name = tag.lstrip("#＃").strip().lower()
        if not name:
            raise Rejected(gettext_noop(
                "Skriv et hashtag at søge efter."
            ), network=self.network)
        if not cursor:
            self._check_hashtag_budget(name)
        try:
            found = self.get("/ig_hashtag_search", user_id=self.account_id, q=name)
        except Rejected as e:
            if "hashtag" in e.network_message.lower() and "limit" in \
                    e.network_message.lower():
                raise self._budget_used(e.network_message) from e
            raise
        ids = found.get("data") or []
        if not ids:
            return HashtagPage(tag=name, posts=())
        body = self.get(
            f"/{ids[0]['id']}/recent_media", user_id=self.account_id,
            fields="id,caption,timestamp,permalink,media_type", after=cursor,
        )
        posts = tuple(
            HashtagPost(
                remote_id=str(media["id"]),
                author_name="",
                text=str(media.get("caption") or ""),
                created_at=graph.parse_time(media.get("timestamp")),
                url=str(media.get("permalink") or ""),
            )
            for media in body.get("data", [])
        )
        return HashtagPage(tag=name, posts=posts, cursor=graph.next_cursor(body))

    def _check_hashtag_budget(self, name: str) -> None:
        body = self.get(f"/{self.account_id}/recently_searched_hashtags",
                        fields="id,name", limit=HASHTAG_BUDGET)
        names = {str(h.get("name") or "").lower() for h in body.get("data", [])}
        if name not in names and len(body.get("data", [])) >= HASHTAG_BUDGET:
            raise self._budget_used(f"{len(names)} hashtags searched in 7 days")

    def _budget_used(self, detail: str) -> QuotaExhausted:
        return QuotaExhausted(
            gettext_noop(
                "Instagram tillader kun søgning på 30 forskellige hashtags pr. "
                "konto på 7 dage, og de er brugt. Søg på et hashtag, der "
                "allerede er søgt på, eller vent nogle dage."
            ),
            retry_after=24 * 3600.0,
            network=self.network,
            network_message=detail,
        )

    # -- connection -----------------------------------------------------------

    def refresh_token(self):
        # With Facebook Login the account acts through a Page token, which
        # does not expire and has no ig_refresh_token grant.
        if httpx.URL(self.connection.base_url).host == "graph.facebook.com":
            raise NotSupported(
                gettext_noop(
                    "Kontoen bruger Facebook-login; dens adgang fornyes gennem "
                    "Facebook-siden og skal ikke fornyes her."
                ),
                network=self.network,
            )
        return super().refresh_token()

    def verify(self) -> AccountInfo:
        body = self.get(f"/{self.account_id}",
                        fields="id,username,name,followers_count")
        handle = str(body.get("username") or "")
        return self.account_info(
            body, f"https://www.instagram.com/{handle}/" if handle else ""
        )


def _comment_item(comment: Mapping, post: Mapping, *, parent: str) -> InboxItem:
    author = comment.get("from")
    author = author if isinstance(author, Mapping) else {}
    username = text_of(comment.get("username")) or text_of(author.get("username"))
    post_id = usable_id(post.get("id"))
    return InboxItem(
        remote_id=usable_id(comment.get("id")),
        kind="reply" if parent else "comment",
        author_id=usable_id(author.get("id")) or username,
        author_name=username,
        text=text_of(comment.get("text")),
        created_at=graph.parse_time(comment.get("timestamp"))
        or datetime.now(UTC),
        post_remote_id=post_id,
        parent_remote_id=parent or post_id,
        url=web_address(post.get("permalink")),
        is_hidden=comment.get("hidden") is True,
    )


def mention_gone(error: NetworkError) -> bool:
    """Whether ``error``, answering a mention's read-back, says the mention is
    gone: the object does not exist (Graph's 400 with code 100 and subcode
    33, ``graph.object_gone``; a 404 or 410), or its id is no Instagram id
    (refused before asking). Code 100 with another subcode, or none, is an
    invalid parameter, and a permission error (10, 200-299, 190) says
    nothing of the mention: neither is gone (T7b-4)."""
    if not isinstance(error, Rejected):
        return False
    if graph.object_gone(error):
        return True
    return error.http_status is None and error.message == graph.NOT_FOUND_MESSAGE
