"""The adapter contract: how Kanal talks to one social network.

One module per network (``facebook.py``, ``instagram.py``, ``x.py``,
``mastodon.py``, ``bluesky.py``, ``linkedin.py``, ``threads.py``) subclasses
``NetworkAdapter``. Adapters:

- take and return the frozen dataclasses below, never Django models, and never
  import anything from ``kanal`` outside this package;
- raise only the errors in ``errors.py`` (``raise ... from e``);
- do all HTTP through ``http.NetworkClient`` so that timeouts, logging and the
  translation of transport failures are the same everywhere;
- know a network only through ``Connection.base_url``: the sandbox and the
  real network differ by configuration, never by code;
- treat every answer as untrusted: bodies are parsed by ``http.read_json``,
  ids read with ``usable_id``, addresses with ``permalink``/``web_address``,
  and the values returned (``PublishResult``, ``PostState``) check
  themselves when they are made (``kanal.untrusted`` holds the rules).

An adapter instance serves one connected account (``Connection``). It is
cheap to build; the caller builds one per unit of work.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

from kanal.untrusted import clean_text, plausible_time, safe_url
from kanal.untrusted import usable_id as usable_id  # adapters read ids with it

from .errors import (
    UNREADABLE_AFTER_WRITE,
    UNREADABLE_ANSWER,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    TransientError,
)

# --------------------------------------------------------------------------
# Values passed in


@dataclass(frozen=True)
class Connection:
    """One connected account and the secrets to act as it.

    ``credentials`` holds whatever the network needs (access_token,
    refresh_token, app_secret, client_id, client_secret, page_token,
    app_password, did …). It comes decrypted from the vault and must never be
    logged; ``__repr__`` hides it.
    """

    network: str
    base_url: str
    account_id: str = ""
    handle: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict)
    token_expires_at: datetime | None = None
    settings: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Connection(network={self.network!r}, base_url={self.base_url!r}, "
            f"account_id={self.account_id!r}, handle={self.handle!r}, "
            "credentials=<hidden>)"
        )

    def secret(self, name: str) -> str:
        return str(self.credentials.get(name, ""))


@dataclass(frozen=True)
class MediaItem:
    """An image or video to attach.

    Networks that upload bytes (X, Mastodon, Bluesky, LinkedIn, Facebook
    multipart) use ``data``; networks that fetch the file themselves
    (Instagram, Threads, Facebook ``url=``) use ``public_url``. Kanal fills
    both when it can.
    """

    kind: str  # "image" | "video"
    mime_type: str
    alt_text: str = ""
    data: bytes = b""
    public_url: str = ""
    filename: str = ""
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    #: The file's size in bytes when ``data`` is not loaded (the editor
    #: validates from the stored file's size).
    size_bytes: int = 0

    @property
    def size(self) -> int:
        return len(self.data) or self.size_bytes

    def __repr__(self) -> str:
        return (
            f"MediaItem(kind={self.kind!r}, mime_type={self.mime_type!r}, "
            f"size={self.size}, public_url={self.public_url!r})"
        )


@dataclass(frozen=True)
class OutgoingPost:
    """Exactly the approved text and media of one variant for one channel."""

    text: str
    link: str = ""
    media: tuple[MediaItem, ...] = ()
    # Remote id of a post to quote or answer, where the variant asks for it.
    reply_to_remote_id: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    """The desk's answer to a citizen's direct message.

    ``recipient_id`` is the citizen as the network names them (Messenger's
    page-scoped id, Instagram's Instagram-scoped id, Bluesky's DID, X's user
    id, Mastodon's account id); ``reply_to_remote_id`` the citizen's message
    being answered; ``conversation_id`` the network's conversation
    (Messenger ``t_…``, Bluesky's ``convoId``, X ``dm_conversation_id``)
    where Kanal knows it; ``last_received_at`` the time of the citizen's
    latest message, which decides whether Messenger and Instagram still let
    the account answer.
    """

    text: str
    recipient_id: str
    reply_to_remote_id: str = ""
    conversation_id: str = ""
    last_received_at: datetime | None = None


@dataclass(frozen=True)
class ValidationProblem:
    """One reason a post does not fit a network.

    People read it through ``code``, ``limit``, ``actual`` and ``params``
    (``number`` of the file, its ``format``, the ``allowed`` formats ...),
    which Kanal words in the reader's language (``kanal.channels.wording``);
    ``message`` is the adapter's Danish wording, for logs.
    """

    code: str  # e.g. "text_too_long", "too_many_images", "alt_text_missing"
    message: str
    field: str = "text"  # "text" | "media" | "link"
    limit: int | None = None
    actual: int | None = None
    # "field" above names the problem's form field in this class body.
    params: Mapping[str, object] = dataclass_field(default_factory=dict, hash=False)


# --------------------------------------------------------------------------
# Values returned


def _shown(value) -> str:
    """A hostile value as support staff may read it: short and printable."""
    return repr(value)[:80]


def check_id(remote_id, shape: re.Pattern, *, network: str, message: str) -> str:
    """``remote_id`` when it is an id of the network's ``shape``; else
    ``Rejected`` with ``message`` (the network's "not found").

    Every adapter method that puts an item's id into a request's path calls
    this before building it: the id came from outside (a webhook, a poll, a
    stored row), and ``{page}/feed?x=`` as a comment's id would turn a reply
    to it into a post on the page.
    """
    value = remote_id if isinstance(remote_id, str) else ""
    if not usable_id(value) or not shape.fullmatch(value):
        raise Rejected(message, network=network, network_message=_shown(remote_id))
    return value


@dataclass(frozen=True)
class PublishResult:
    """What a write made (a post, a reply, a message) or a lookup found, as
    the network named it. The network's word is checked here, once for every
    adapter: an id Kanal cannot store or send back (``usable_id``: too long,
    a NUL, a lone surrogate, empty, an object printed as text) raises
    ``OutcomeUnknown``, so a write whose answer names no usable post is
    handled exactly like a lost answer (looked up before anything is sent
    again); an address that is not http(s) becomes "" and a time that cannot
    be one (year 1, next year) None."""

    remote_id: str
    url: str
    published_at: datetime | None = None

    def __post_init__(self) -> None:
        remote_id = usable_id(self.remote_id)
        if not remote_id:
            raise OutcomeUnknown(
                UNREADABLE_AFTER_WRITE,
                network_message=f"unusable id {_shown(self.remote_id)}",
            )
        object.__setattr__(self, "remote_id", remote_id)
        object.__setattr__(self, "url", safe_url(self.url))
        object.__setattr__(self, "published_at", plausible_time(self.published_at))


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at!r}, <secrets hidden>)"


@dataclass(frozen=True)
class AccountInfo:
    remote_id: str
    handle: str
    display_name: str
    followers: int | None = None
    profile_url: str = ""


@dataclass(frozen=True)
class InboxItem:
    """A comment, reply, mention or direct message from a citizen."""

    remote_id: str
    kind: str  # "comment" | "reply" | "mention" | "message"
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    # The post of ours it belongs to (comments/replies), and its parent.
    post_remote_id: str = ""
    parent_remote_id: str = ""
    url: str = ""
    is_hidden: bool = False
    #: The handle the network mentions the author by (Mastodon's ``acct``),
    #: where an answer names them (``NetworkAdapter.answer_text``).
    author_handle: str = ""


@dataclass(frozen=True)
class InboxPage:
    items: tuple[InboxItem, ...]
    cursor: str  # pass back as ``since`` next time; opaque to Kanal
    #: Entries of the network's answer that could not be read (not an
    #: object, no usable id, a field of the wrong type): left out, counted,
    #: and passed by the cursor so one of them never stops a channel's inbox.
    skipped: int = 0
    #: The permission the account lacks to read direct messages, named as
    #: the network names it (``pages_messaging``, ``dm.read`` …), when the
    #: network refused them for that reason: the rest of the inbox was read.
    #: Empty when messages were read, or the network has none.
    messages_denied: str = ""


@dataclass(frozen=True)
class Metric:
    """One number, named as the network names it, with the API version."""

    name: str  # the network's own metric name, e.g. "post_total_media_view_unique"
    value: int
    kind: str  # Kanal's family: "followers" | "views" | "reach" | "engagement"
    #   | "likes" | "comments" | "shares" | "clicks" | "saves"
    api_version: str = ""


#: The largest count Kanal takes from a network: no account or post has a
#: quadrillion of anything, and sums of many such counts (a day's rollup) still
#: fit the 64-bit integers databases store. A larger one is no real count.
MAX_COUNT = 10**15


def count_value(value) -> int | None:
    """A count from a network's answer, or None when it is absent: missing,
    null, a boolean, not a number, not finite (JSON's ``Infinity``, ``NaN``) or
    beyond ``MAX_COUNT`` either way. Never 0 in its place, so a reader can tell
    "the network gave no number" from "the number was zero"."""
    if value is None or isinstance(value, bool):
        return None
    try:
        # Some APIs send counts as text ("12").
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -MAX_COUNT <= number <= MAX_COUNT else None


def present_metrics(
    values: Mapping, fields: tuple[tuple[str, str], ...], api_version: str
) -> list[Metric]:
    """A ``Metric`` for each ``(name, kind)`` in ``fields`` that ``values``
    holds as a number; the absent ones are left out (unavailable)."""
    found = []
    for name, kind in fields:
        value = count_value(values.get(name))
        if value is not None:
            found.append(Metric(name, value, kind, api_version))
    return found


@dataclass(frozen=True)
class MetricsSnapshot:
    account: tuple[Metric, ...]
    posts: Mapping[str, tuple[Metric, ...]]  # remote post id -> metrics
    taken_at: datetime | None = None


@dataclass(frozen=True)
class HashtagPost:
    remote_id: str
    author_name: str
    text: str
    created_at: datetime | None
    url: str = ""


@dataclass(frozen=True)
class HashtagPage:
    tag: str
    posts: tuple[HashtagPost, ...]
    cursor: str = ""


@dataclass(frozen=True)
class AccountPost:
    """One public post of another account (a partner), as the network gave
    it: every field is untrusted input."""

    remote_id: str
    text: str
    url: str
    created_at: datetime | None
    author_name: str = ""
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountPostsPage:
    account: str
    posts: tuple[AccountPost, ...]  # newest first
    cursor: str = ""  # pass back as ``since`` next time; opaque to Kanal


@dataclass(frozen=True)
class PostState:
    """One of the account's own published posts as the network holds it now
    (``read_post``). Every field is the network's word: untrusted input.

    ``gone`` is True only when the network said the post does not exist
    (deleted: a 404/410 or the network's own "not found"); a failure to ask
    (auth, rate limit, 5xx, an unreadable answer) raises instead, so a caller
    can never take an error for a deletion.
    """

    remote_id: str
    gone: bool = False
    text: str = ""
    url: str = ""
    #: When the network says the post was last edited (None: never, or the
    #: network does not say).
    edited_at: datetime | None = None
    #: The id of the newest version where an edit makes a new id (X); else
    #: ``remote_id``.
    current_id: str = ""

    def __post_init__(self) -> None:
        # The network's word, checked once for every adapter (see
        # ``PublishResult``); a read that cannot be used is asked again.
        remote_id = usable_id(self.remote_id)
        if not remote_id:
            raise TransientError(
                UNREADABLE_ANSWER,
                network_message=f"unusable id {_shown(self.remote_id)}",
            )
        current_id = usable_id(self.current_id) if self.current_id else ""
        if self.current_id and not current_id:
            raise TransientError(
                UNREADABLE_ANSWER,
                network_message=f"unusable id {_shown(self.current_id)}",
            )
        object.__setattr__(self, "remote_id", remote_id)
        object.__setattr__(self, "current_id", current_id)
        object.__setattr__(self, "text", clean_text(self.text, max_length=None))
        object.__setattr__(self, "url", safe_url(self.url))
        object.__setattr__(self, "edited_at", plausible_time(self.edited_at))


def id_of(value) -> str:
    """An id from a network's answer: a non-empty string or a whole number
    as text, or "" for anything else (missing, null, a boolean, an object)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value).strip()


def text_with_link(text: str, link: str) -> str:
    """``text`` trimmed, with ``link`` on its own paragraph at the end when the
    text does not already carry it (networks that take the link in the text)."""
    text = text.strip()
    if link and link not in text:
        return f"{text}\n\n{link}" if text else link
    return text


def text_of(value) -> str:
    """A text field from a network's answer: the string, or "" for anything
    else (null, a number, an object)."""
    return value if isinstance(value, str) else ""


def web_address(value) -> str:
    """An address from a network's answer if it is an http(s) URL of sane
    length, else "" (it is shown to people and stored as a permalink)."""
    return safe_url(text_of(value).strip())


@dataclass(frozen=True)
class Capabilities:
    """What a network supports and its limits, as Kanal validates against."""

    max_text_length: int
    text_counting: str  # Danish words for the editor: "vægtede tegn", "grafemer" …
    max_images: int
    max_videos: int = 0
    image_formats: frozenset[str] = frozenset({"image/jpeg", "image/png"})
    video_formats: frozenset[str] = frozenset({"video/mp4"})
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    max_image_pixels: int | None = None  # width × height must stay below
    min_aspect_ratio: float | None = None  # width / height
    max_aspect_ratio: float | None = None
    max_hashtags: int | None = None
    max_mentions: int | None = None
    max_links: int | None = None
    max_text_bytes: int | None = None
    requires_media: bool = False  # Instagram: no text-only posts
    alt_text_max_length: int | None = None
    max_media: int | None = None  # images and videos together (a carousel)
    max_gif_bytes: int | None = None  # when a GIF may be larger than an image
    min_video_seconds: float | None = None
    max_video_seconds: float | None = None
    video_alone: bool = False  # a video cannot share a post with other media
    alt_text_required_for: frozenset[str] = frozenset()  # media kinds
    media_by_url: bool = False  # the network fetches files from public_url
    supports: frozenset[str] = frozenset()  # operation names, see OPERATIONS
    #: The longest answer to a direct message (``send_message``), counted by
    #: ``NetworkAdapter.count_message`` in ``message_counting`` ("tegn" or
    #: "bytes"); None: the same as a post (``max_text_length``).
    max_message_length: int | None = None
    message_counting: str = "tegn"
    #: A second cap on a direct message, in characters (code points), where
    #: the network also counts those (Instagram: fewer than 1,000 besides its
    #: 1,000 bytes); None: none.
    max_message_characters: int | None = None


OPERATIONS = frozenset(
    {
        "publish",
        "delete",
        "reply",
        "hide",
        "repost",
        "fetch_inbox",
        "direct_messages",
        "send_message",
        "fetch_metrics",
        "search_hashtag",
        "account_posts",
        "refresh_token",
        "verify",
        "link_posts",
        "video",
        "pin",
        "like",
        "read_post",
    }
)

Checkpoint = Mapping[str, str]


class NetworkAdapter:
    """Base class for one network's adapter; subclasses set ``network``.

    Every method that a network cannot do raises ``NotSupported`` here; an
    adapter overrides only what its network offers, and lists it in
    ``capabilities().supports``.
    """

    network: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    api_version: ClassVar[str] = ""
    #: Whether ``reply(..., idempotency_key=k)`` sent twice with the same key
    #: makes one reply (Mastodon's Idempotency-Key, Bluesky's record key), so
    #: a reply whose outcome is unknown may simply be sent again.
    idempotent_replies: ClassVar[bool] = False
    #: How many posts ``read_posts`` reads in one request; 1 where the
    #: network reads one post a request (callers then use ``read_post``).
    read_batch: ClassVar[int] = 1
    #: The hosts (with their subdomains) where the network shows its posts,
    #: besides the connection's own host (a Mastodon instance, the sandbox).
    web_hosts: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        connection: Connection,
        *,
        client=None,
        before_write: Callable[[str], None] | None = None,
    ) -> None:
        """``client`` is an ``http.NetworkClient``; tests may inject one.

        ``before_write`` is the caller's fence: the adapter calls it (through
        ``fence``) immediately before every request that creates or changes
        something on the network and cannot safely be sent twice. It raises
        ``errors.Fenced`` when the caller may no longer write (its lease is
        gone, approval was withdrawn, crisis mode began); the adapter lets that
        propagate untouched, so nothing is sent.
        """
        from .http import NetworkClient  # local: keeps base importable alone

        self.connection = connection
        self.client = client or NetworkClient(
            network=self.network, base_url=connection.base_url
        )
        self._before_write = before_write

    def fence(self, operation: str) -> None:
        """Ask the caller whether the write ``operation`` may still be sent.

        Call it as the last thing before each non-idempotent write; it raises
        ``errors.Fenced`` when the answer is no. The operation names adapters
        use: ``create`` (a post), ``publish`` (Instagram/Threads publishing a
        container), ``reply``, ``repost``, ``pin``, ``unpin``, ``like``,
        ``unlike``, and
        ``container`` for the container that will be published (preparatory:
        it publishes nothing by itself).
        """
        if self._before_write is not None:
            self._before_write(operation)

    def permalink(self, value) -> str:
        """An address the network gave for a post or a comment, if it is an
        http(s) address on the network's own web (``web_hosts`` or the
        connection's host); else "" (it is stored and shown to editors, so
        ``javascript:`` or another host's page never is)."""
        address = web_address(value)
        try:
            host = (urlsplit(address).hostname or "").lower()
            own = (urlsplit(self.connection.base_url).hostname or "").lower()
        except ValueError:
            return ""
        for allowed in (own, *self.web_hosts):
            if allowed and (host == allowed or host.endswith("." + allowed)):
                return address
        return ""

    # -- limits and validation (pure: no network calls) ---------------------

    def capabilities(self) -> Capabilities:
        """This network's limits. May read cached instance configuration."""
        raise NotImplementedError

    def count_text(self, text: str) -> int:
        """Length of ``text`` counted the network's way."""
        raise NotImplementedError

    def count_message(self, text: str) -> int:
        """Length of a direct message's ``text`` as the network counts it
        against ``Capabilities.max_message_length`` (as a post by default)."""
        return self.count_text(text)

    def stored_limits(self) -> dict:
        """Limits this adapter loaded from the network for this account (a
        Mastodon instance's own), as plain data for the caller to keep; {}
        when there are none beyond the documented ones."""
        return {}

    def restore_limits(self, limits: dict) -> None:
        """Count and validate by ``limits`` kept from ``stored_limits`` (a
        fresher answer from the network wins)."""

    def text_for(self, post: OutgoingPost) -> str:
        """The text exactly as the network gets it (with the link, where the
        network carries the link in the text)."""
        return post.text

    def answer_text(self, text: str, *, to_handle: str = "") -> str:
        """The text exactly as the network gets an answer (``reply`` or
        ``send_message``) to the citizen whose handle is ``to_handle``: what
        the adapter adds to what the person wrote included (Mastodon names
        the citizen in front). Pure; ``text`` itself by default."""
        return text

    def validate(self, post: OutgoingPost) -> list[ValidationProblem]:
        """Every reason ``post`` would be refused, with Danish messages.

        Pure: no network calls, no database. An empty list means it fits.
        The rules ``capabilities`` states are checked by ``rules.check``;
        an adapter adds only its own in ``own_problems``.
        """
        from . import rules  # local: rules builds on the values above

        problems = rules.check(
            post,
            self.capabilities(),
            text=self.text_for(post),
            count=self.count_text,
            network=self.display_name or self.network,
        )
        problems.extend(self.own_problems(post))
        return problems

    def own_problems(self, post: OutgoingPost) -> list[ValidationProblem]:
        """Reasons this network refuses ``post`` that no ``Capabilities``
        field states (X's invisible characters, Bluesky's hashtag length)."""
        return []

    # -- publishing ---------------------------------------------------------

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        """Publish ``post`` and return its remote id and public URL.

        ``idempotency_key`` is chosen by Kanal and stored before the first
        attempt; the same key is passed on every retry. Adapters use what
        their network offers (Mastodon ``Idempotency-Key``, Bluesky ``rkey``).
        Multi-step flows (Instagram/Threads containers, media uploads) report
        durable progress through ``on_checkpoint`` (e.g. ``{"container_id":
        "…"}``) so the engine can store it; a retry passes it back as
        ``checkpoint`` and the adapter resumes instead of starting over.
        """
        raise NotSupported(network=self.network)

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        """Look on the account for a post this key already created.

        Used to reconcile after ``OutcomeUnknown`` or a crashed worker, before
        anything is sent again. Returns None when the post certainly does not
        exist; raises a ``NetworkError`` when it cannot tell.
        """
        raise NotSupported(network=self.network)

    def delete(self, remote_id: str) -> None:
        """Delete one of the account's own posts or replies."""
        raise NotSupported(network=self.network)

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        """Answer a comment or post (also used for a post's first comment).

        Every adapter that replies also defines ``find_reply(to_remote_id,
        *, text, idempotency_key="") -> PublishResult | None``: the account's
        own answer to ``to_remote_id`` with ``text`` that a reply whose answer
        was lost may have made (None = certainly not there; a
        ``NetworkError`` when the network cannot tell). It is not defined
        here, so its absence tells a caller the network cannot be asked.
        """
        raise NotSupported(network=self.network)

    def send_message(
        self, message: OutgoingMessage, *, idempotency_key: str = ""
    ) -> PublishResult:
        """Answer a citizen's direct message privately (operation
        ``send_message``); fenced as ``message`` right before the write.

        Every adapter that sends messages also defines ``find_message(message,
        *, idempotency_key="", since) -> PublishResult | None``: the account's
        own message with ``message.text`` to that citizen, created on or after
        ``since`` (Kanal's clock, moved onto the network's), which an attempt
        whose answer was lost may have made (None = certainly not there; a
        ``NetworkError`` when the network cannot tell).
        """
        raise NotSupported(network=self.network)

    def message_refusal(
        self, message: OutgoingMessage, *, now: datetime
    ) -> str | None:
        """Why ``message`` may not be sent at ``now`` by the network's own
        rules (Messenger's and Instagram's answer windows), in Danish for
        the person who wrote it; None when nothing forbids it. Pure: no
        network calls."""
        return None

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        """Hide (or unhide) a citizen's comment on the account's post."""
        raise NotSupported(network=self.network)

    def repost(self, remote_id: str) -> PublishResult | None:
        """Retweet, boost or repost another account's post."""
        raise NotSupported(network=self.network)

    def pin(self, remote_id: str, *, pinned: bool = True) -> None:
        """Pin (or unpin) one of the account's own posts on its profile/page."""
        raise NotSupported(network=self.network)

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """Like (or unlike) a citizen's comment or reply as the account.

        Idempotent: liking what the account already likes leaves one like,
        and unliking what it does not like changes nothing, so a like whose
        answer was lost may simply be sent again. The write is fenced as
        ``like`` (or ``unlike``); listed in ``supports`` as ``like``.
        """
        raise NotSupported(network=self.network)

    # -- reading ------------------------------------------------------------

    def read_post(self, remote_id: str) -> PostState:
        """One of the account's published posts as the network holds it now:
        its text, address and edit time, or ``gone`` when the network says
        it no longer exists. Errors (auth, rate limit, 5xx) raise; they are
        never a deletion. Listed in ``supports`` as ``read_post``."""
        raise NotSupported(network=self.network)

    def read_posts(self, remote_ids) -> dict[str, PostState]:
        """Several posts as ``read_post`` reads one, ``read_batch`` ids a
        request. The answer maps each id the network answered for to its
        state; an id the network left out with an error of its own (no
        access, a partial error) is missing, and nothing may be concluded
        about it. An error of a whole request raises, as ``read_post``'s do.
        Only networks whose ``read_batch`` is above 1 offer it."""
        raise NotSupported(network=self.network)

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        """Comments, replies, mentions (and messages) newer than ``since``."""
        raise NotSupported(network=self.network)

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        """Account metrics (followers, views/reach, engagement) and per post."""
        raise NotSupported(network=self.network)

    def search_hashtag(self, tag: str, *, cursor: str = "") -> HashtagPage:
        """Recent public posts using ``tag`` (without the ``#``)."""
        raise NotSupported(network=self.network)

    def fetch_account_posts(
        self, account: str, *, since: str = ""
    ) -> AccountPostsPage:
        """Another account's recent public posts (a partner's), newer than
        ``since`` (the cursor of the last page), without its replies and
        reposts. ``account`` is the network's handle or id; the operation is
        listed in ``supports`` as ``account_posts``."""
        raise NotSupported(network=self.network)

    # -- connection ---------------------------------------------------------

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_verifier: str = ""
    ) -> str:
        """Where to send an admin to grant Kanal access (OAuth 2)."""
        raise NotSupported(network=self.network)

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str = ""
    ) -> TokenSet:
        """Turn an OAuth callback's code into tokens (long-lived where possible)."""
        raise NotSupported(network=self.network)

    def refresh_token(self) -> TokenSet:
        """A fresh token set; raises ``AuthExpired`` when it cannot."""
        raise NotSupported(network=self.network)

    def verify(self) -> AccountInfo:
        """Check the connection works and return who Kanal is acting as."""
        raise NotSupported(network=self.network)


def stable_key(*parts: str) -> str:
    """A short deterministic key from parts (for derived idempotency keys)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:32]
