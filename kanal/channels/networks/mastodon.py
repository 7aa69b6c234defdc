"""Mastodon (any instance), through its REST API with plain httpx.

One ``Connection`` is one account on one instance: ``base_url`` is the
instance (``https://mastodon.social``; the sandbox's is
``http://127.0.0.1:8765/mastodon``) and ``credentials["access_token"]`` the
instance's own token. Tokens do not expire, so ``refresh_token`` raises
``NotSupported`` (and is not in ``supports``); ``verify`` is the health check.

Limits differ per instance. ``load_instance_configuration()`` reads
``/api/v2/instance`` and caches it per base URL for an hour; ``validate`` and
``capabilities`` are pure and use that cache, falling back to Mastodon's
documented defaults (500 characters, 4 attachments, URLs count 23) when it was
never loaded. ``capabilities().text_counting`` says which of the two applies.

Settings read from ``Connection.settings``: ``visibility`` (default
``public``), ``language`` (default ``da``), ``media_poll_seconds`` (default 1),
``media_poll_attempts`` (default 30).

Fenced writes (``NetworkAdapter.fence``): creating a status (post or reply),
a boost and pin/unpin. Media uploads publish nothing and are not fenced. A
status is created with ``Idempotency-Key`` (the instance keeps keys for an
hour); after that hour ``find_published`` looks for the status carrying the
checkpointed media ids, or the same text as Mastodon renders it (HTML, link
kept, remote mentions shortened), on the instance's clock (``reconcile``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import httpx

from . import reconcile
from . import text as kanal_text
from .base import (
    AccountInfo,
    AccountPost,
    AccountPostsPage,
    Capabilities,
    Checkpoint,
    HashtagPage,
    HashtagPost,
    InboxItem,
    InboxPage,
    MediaItem,
    Metric,
    MetricsSnapshot,
    NetworkAdapter,
    OutgoingMessage,
    OutgoingPost,
    PostState,
    PublishResult,
    TokenSet,
    check_id,
    count_value,
    id_of,
    present_metrics,
    text_of,
    text_with_link,
    usable_id,
    web_address,
)
from .errors import (
    LIKE_UNCONFIRMED,
    UNREADABLE_ANSWER,
    AuthExpired,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TransientError,
    gettext_noop,
)
from .http import error_json, iso_to_datetime, read_json, retry_after_seconds

#: A status id as Mastodon (numbers) and GoToSocial (ULIDs) make them; any
#: other id is refused before it goes into a path.
_STATUS_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
NOT_FOUND_MESSAGE = gettext_noop(
    "Opslaget findes ikke (længere) på Mastodon-instansen.")

#: Mentions ``reply`` puts before the text (``@a@server @b ``).
ANSWER_TOO_LONG = gettext_noop(
    "Svaret blev for langt til Mastodon, da borgerens @navn blev sat foran "
    "(Mastodon nævner den, der svares). Forkort svaret, og send det igen."
)
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[\w.@-]+)+\s+")

logger = logging.getLogger("kanal.networks.mastodon")

CONFIG_TTL = timedelta(hours=1)
# docs.joinmastodon.org/entities/Instance/#configuration: the stock defaults.
DEFAULT_CONFIGURATION: Mapping[str, Mapping[str, int | list[str]]] = {
    "statuses": {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    },
    "media_attachments": {
        "image_size_limit": 16_777_216,
        "video_size_limit": 103_809_024,
        "image_matrix_limit": 33_177_600,
        "description_limit": 1500,
        "supported_mime_types": [
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "image/heic",
            "image/heif",
            "image/avif",
            "video/mp4",
            "video/webm",
            "video/quicktime",
        ],
    },
}
MAX_FIND_PAGES = 5
PAGE_SIZE = 40
VISIBILITY_RANK = {"public": 0, "unlisted": 1, "private": 2, "direct": 3}


@dataclass(frozen=True)
class InstanceConfiguration:
    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int
    image_size_limit: int
    video_size_limit: int
    description_limit: int
    supported_mime_types: frozenset[str]
    image_matrix_limit: int | None = None
    loaded: bool = False
    fetched_at: datetime | None = None
    title: str = ""
    version: str = ""

    @classmethod
    def from_api(
        cls, payload: Mapping | None, *, loaded: bool, fetched_at=None
    ) -> InstanceConfiguration:
        payload = payload or {}
        config = payload.get("configuration") or {}
        statuses = {**DEFAULT_CONFIGURATION["statuses"], **config.get("statuses", {})}
        media = {
            **DEFAULT_CONFIGURATION["media_attachments"],
            **config.get("media_attachments", {}),
        }
        return cls(
            max_characters=int(statuses["max_characters"]),
            max_media_attachments=int(statuses["max_media_attachments"]),
            characters_reserved_per_url=int(statuses["characters_reserved_per_url"]),
            image_size_limit=int(media["image_size_limit"]),
            video_size_limit=int(media["video_size_limit"]),
            description_limit=int(media.get("description_limit") or 1500),
            supported_mime_types=frozenset(media["supported_mime_types"]),
            image_matrix_limit=_int_or_none(media.get("image_matrix_limit")),
            loaded=loaded,
            fetched_at=fetched_at,
            title=str(payload.get("title") or ""),
            version=str(payload.get("version") or ""),
        )


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


DEFAULTS = InstanceConfiguration.from_api(None, loaded=False)


@dataclass
class _ConfigCache:
    entries: dict[str, InstanceConfiguration] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, base_url: str, now: datetime) -> InstanceConfiguration | None:
        with self.lock:
            entry = self.entries.get(base_url)
        if entry and entry.fetched_at and now - entry.fetched_at < CONFIG_TTL:
            return entry
        return None

    def put(self, base_url: str, config: InstanceConfiguration) -> None:
        with self.lock:
            self.entries[base_url] = config

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


INSTANCE_CONFIGURATIONS = _ConfigCache()


# --------------------------------------------------------------------------
# Errors


def parse_rate_limit_reset(value: str | None) -> datetime | None:
    """``X-RateLimit-Reset``: ISO 8601 on Mastodon, epoch seconds on GoToSocial."""
    if not value:
        return None
    value = value.strip()
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError):
        pass
    return iso_to_datetime(value)


def _error_text(response: httpx.Response) -> str:
    body = error_json(response)
    if body is None:
        return response.text[:300]
    if isinstance(body, dict):
        parts = [str(body.get("error") or ""), str(body.get("error_description") or "")]
        return " – ".join(p for p in parts if p)
    return ""


def _rejected_message(text: str) -> str:
    lowered = text.lower()
    if "maximum number" in lowered and "pinned" in lowered:
        return gettext_noop(
            "Mastodon-kontoen har allerede fastgjort så mange opslag, som "
            "instansen tillader. Frigør et fastgjort opslag og prøv igen."
        )
    if "cannot be pinned" in lowered:
        return gettext_noop(
            "Mastodon kan kun fastgøre kontoens egne, offentlige opslag. "
            "Opslaget blev ikke fastgjort."
        )
    if "character limit" in lowered:
        return gettext_noop(
            "Mastodon-instansen afviste opslaget, fordi teksten er for lang. "
            "Forkort teksten og prøv igen."
        )
    if "can't be blank" in lowered or "blank" in lowered:
        return gettext_noop(
            "Mastodon afviste et tomt opslag. Skriv en tekst eller vedhæft medier."
        )
    if "content type" in lowered or "file" in lowered or "media" in lowered:
        return gettext_noop(
            "Mastodon afviste den vedhæftede fil. Tjek filtype og størrelse, "
            "og prøv med en anden fil."
        )
    if "scheduled" in lowered:
        return gettext_noop(
            "Mastodon afviste tidspunktet for opslaget. Vælg et andet tidspunkt."
        )
    return gettext_noop("Mastodon afviste opslaget. Ret indholdet og prøv igen.")


def translate(response: httpx.Response) -> NetworkError | None:
    """Map a Mastodon error response to one of Kanal's errors (None if 2xx)."""
    status = response.status_code
    if status < 400:
        return None
    text = _error_text(response)
    detail = {"network_message": text, "http_status": status, "network": "mastodon"}
    if status == 429:
        reset_at = parse_rate_limit_reset(response.headers.get("x-ratelimit-reset"))
        retry_after = retry_after_seconds(response)
        if retry_after is None and reset_at is not None:
            retry_after = max(0.0, (reset_at - datetime.now(UTC)).total_seconds())
        return RateLimited(
            gettext_noop(
                "Mastodon-instansen beder Kanal om at vente (for mange kald). "
                "Kanal prøver igen, når grænsen er nulstillet."
            ),
            retry_after=retry_after,
            reset_at=reset_at,
            network_code=status,
            **detail,
        )
    if status == 401:
        return AuthExpired(
            gettext_noop(
                "Mastodon afviste Kanals adgangsnøgle. En administrator skal forbinde "
                "Mastodon-kontoen igen."
            ),
            network_code=status,
            **detail,
        )
    if status == 403:
        lowered = text.lower()
        if any(w in lowered for w in ("scope", "login", "approved", "confirm")):
            return AuthExpired(
                gettext_noop(
                    "Mastodon-kontoen mangler rettigheder eller er deaktiveret. En "
                    "administrator skal tjekke kontoen og forbinde den igen."
                ),
                network_code=status,
                **detail,
            )
        return Rejected(
            gettext_noop(
                "Mastodon-instansen tillader ikke denne handling for kontoen."
            ),
            network_code=status,
            **detail,
        )
    if status == 404:
        return Rejected(
            gettext_noop("Opslaget findes ikke (længere) på Mastodon-instansen."),
            network_code=status,
            **detail,
        )
    if status == 422:
        if "not finished processing" in text.lower():
            return TransientError(
                gettext_noop(
                    "Mastodon behandler stadig et vedhæftet medie. Kanal prøver igen "
                    "om lidt."
                ),
                retry_after=5.0,
                network_code=status,
                **detail,
            )
        return Rejected(_rejected_message(text), network_code=status, **detail)
    if 400 <= status < 500:
        return Rejected(network_code=status, **detail)
    return TransientError(
        gettext_noop(
            "Mastodon-instansen havde en midlertidig fejl. Kanal prøver igen "
            "automatisk."
        ),
        retry_after=retry_after_seconds(response),
        network_code=status,
        **detail,
    )


# --------------------------------------------------------------------------
# Text


_MENTION_RE = re.compile(
    r"(?<![\w/])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)(@[\w.-]*\w)?", re.IGNORECASE
)


def count_mastodon_text(text: str, *, characters_reserved_per_url: int = 23) -> int:
    """Mastodon's count: graphemes, each URL as a fixed reserve, remote mentions
    as their local part (``@name@server`` counts as ``@name``).

    Unlike ``text.mastodon_length`` only URLs with a scheme get the reserve:
    Mastodon's validator extracts URLs without ``extract_url_without_protocol``,
    so a bare ``kk.dk`` counts as its 5 characters.
    """
    pieces = []
    position = 0
    for url in kanal_text.find_urls(text):
        if not url.value.lower().startswith(("http://", "https://")):
            continue
        pieces.append(_shorten_mentions(text[position : url.start]))
        pieces.append("x" * characters_reserved_per_url)
        position = url.end
    pieces.append(_shorten_mentions(text[position:]))
    return kanal_text.grapheme_count("".join(pieces))


def _shorten_mentions(text: str) -> str:
    return _MENTION_RE.sub(lambda m: "@" + m.group(1), text)


_BREAK_RE = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")


def html_to_text(content: str) -> str:
    """Status ``content`` (HTML) as plain text with line breaks kept."""
    with_breaks = _BREAK_RE.sub("\n", content or "")
    return html.unescape(_TAG_RE.sub("", with_breaks)).strip()


def _comparable(text: str) -> str:
    shortened = _MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return _SPACE_RE.sub(" ", shortened).strip().casefold()


def compose_text(post: OutgoingPost) -> str:
    """The status text: the variant's text with its link added when missing."""
    return text_with_link(post.text, post.link)


def _status_id(entry) -> str:
    """The id of a status or notification from the instance's answer, or ""
    when the entry is no object or its id is not one Mastodon gives."""
    if not isinstance(entry, Mapping):
        return ""
    value = id_of(entry.get("id"))
    return value if _STATUS_ID.match(value) else ""


def _id_key(value: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings of varying length; compare as numbers.
    return (len(value), value)


# --------------------------------------------------------------------------
# The adapter


class MastodonAdapter(NetworkAdapter):
    network = "mastodon"
    display_name = "Mastodon"
    api_version = "v1"
    idempotent_replies = True

    def __init__(
        self,
        connection,
        *,
        client=None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        **hooks,
    ) -> None:
        """``sleep`` and ``clock`` are injectable for the media-processing poll."""
        super().__init__(connection, client=client, **hooks)
        self._sleep = sleep or time.sleep
        self._clock = clock or (lambda: datetime.now(UTC))
        self.last_rate_limit: dict[str, str] = {}
        # Limits kept on the channel (``restore_limits``): used when this
        # process has not asked the instance itself.
        self._stored: InstanceConfiguration | None = None

    # -- plumbing -----------------------------------------------------------

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.connection.secret('access_token')}"}
        headers.update(extra or {})
        return headers

    def _call(
        self, method: str, path: str, *, headers=None, write: str = "", **kwargs
    ) -> httpx.Response:
        """One call. ``write`` names a write that must not be sent twice: it
        is fenced right before sending, and a 5xx answer is ``OutcomeUnknown``."""
        if write:
            self.fence(write)
        response = self.client.request(
            method, path, headers=self._headers(headers), translate=translate,
            write=bool(write), **kwargs
        )
        limit = response.headers.get("x-ratelimit-remaining")
        if limit is not None:
            self.last_rate_limit = {
                "limit": response.headers.get("x-ratelimit-limit", ""),
                "remaining": limit,
                "reset": response.headers.get("x-ratelimit-reset", ""),
            }
        return response

    def _json(self, method: str, path: str, **kwargs):
        write = bool(kwargs.get("write"))
        response = self._call(method, path, **kwargs)
        body = self._parse(response, write=write)
        if write and not (isinstance(body, dict) and body.get("id")):
            raise OutcomeUnknown(
                gettext_noop(
                    "Mastodon-instansen bekræftede uden at oplyse opslagets id. Kanal "
                    "tjekker kontoen, før der sendes igen."
                ),
                network=self.network, http_status=response.status_code,
                network_message="answer without id",
            )
        return body

    def _parse(self, response: httpx.Response, *, write: bool = False):
        return read_json(
            response, network=self.network, write=write,
            message="Mastodon-instansen sendte et svar, Kanal ikke kunne læse. "
            "Kanal prøver igen automatisk.",
        )

    def _setting(self, name: str, default: str) -> str:
        return str(self.connection.settings.get(name) or default)

    # -- instance configuration ---------------------------------------------

    def load_instance_configuration(
        self, *, force: bool = False
    ) -> InstanceConfiguration:
        """Fetch ``/api/v2/instance`` (cached per base URL for an hour)."""
        now = self._clock()
        if not force:
            cached = INSTANCE_CONFIGURATIONS.get(self.connection.base_url, now)
            if cached is not None:
                return cached
        payload = self._json("GET", "/api/v2/instance")
        config = InstanceConfiguration.from_api(payload, loaded=True, fetched_at=now)
        INSTANCE_CONFIGURATIONS.put(self.connection.base_url, config)
        return config

    def instance_configuration(self) -> InstanceConfiguration:
        """The cached configuration, else the stored one, else the documented
        defaults (pure)."""
        cached = INSTANCE_CONFIGURATIONS.get(self.connection.base_url, self._clock())
        return cached or self._stored or DEFAULTS

    def stored_limits(self) -> dict:
        config = INSTANCE_CONFIGURATIONS.get(self.connection.base_url, self._clock())
        if config is None or not config.loaded:
            return {}
        return {
            "title": config.title,
            "version": config.version,
            "fetched_at": config.fetched_at.isoformat() if config.fetched_at else "",
            "configuration": {
                "statuses": {
                    "max_characters": config.max_characters,
                    "max_media_attachments": config.max_media_attachments,
                    "characters_reserved_per_url": config.characters_reserved_per_url,
                },
                "media_attachments": {
                    "image_size_limit": config.image_size_limit,
                    "video_size_limit": config.video_size_limit,
                    "description_limit": config.description_limit,
                    "supported_mime_types": sorted(config.supported_mime_types),
                    "image_matrix_limit": config.image_matrix_limit,
                },
            },
        }

    def restore_limits(self, limits: dict) -> None:
        try:
            fetched = datetime.fromisoformat(limits.get("fetched_at") or "")
        except (TypeError, ValueError):
            fetched = None
        try:
            self._stored = InstanceConfiguration.from_api(
                limits, loaded=True, fetched_at=fetched
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            self._stored = None  # unreadable: the documented defaults apply

    # -- limits and validation ----------------------------------------------

    def capabilities(self) -> Capabilities:
        config = self.instance_configuration()
        counting = f"tegn; links tæller {config.characters_reserved_per_url}" + (
            ""
            if config.loaded
            else " (Mastodons standardgrænser; instansens egne er ikke hentet)"
        )
        return Capabilities(
            max_text_length=config.max_characters,
            text_counting=counting,
            max_images=config.max_media_attachments,
            max_videos=1,
            image_formats=frozenset(
                m for m in config.supported_mime_types if m.startswith("image/")
            ),
            video_formats=frozenset(
                m for m in config.supported_mime_types if m.startswith("video/")
            ),
            max_image_bytes=config.image_size_limit,
            max_video_bytes=config.video_size_limit,
            max_image_pixels=config.image_matrix_limit,
            max_media=config.max_media_attachments,
            video_alone=True,
            alt_text_required_for=frozenset({"image", "video"}),
            alt_text_max_length=config.description_limit,
            supports=frozenset(
                {
                    "publish",
                    "delete",
                    "reply",
                    "repost",
                    "pin",
                    "fetch_inbox",
                    "direct_messages",
                    "send_message",
                    "fetch_metrics",
                    "search_hashtag",
                    "account_posts",
                    "verify",
                    "link_posts",
                    "video",
                    "like",
                    "read_post",
                }
            ),
        )

    def count_text(self, text: str) -> int:
        config = self.instance_configuration()
        return count_mastodon_text(
            text, characters_reserved_per_url=config.characters_reserved_per_url
        )

    def text_for(self, post: OutgoingPost) -> str:
        return compose_text(post)

    # -- publishing ---------------------------------------------------------

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        """Media first (each id reported as a checkpoint), then the status with
        ``Idempotency-Key``, which the instance honours for an hour."""
        media_ids = self._upload_media(post.media, checkpoint or {}, on_checkpoint)
        body: dict = {
            "status": compose_text(post),
            "visibility": self._setting("visibility", "public"),
            "language": self._setting("language", "da"),
        }
        if media_ids:
            body["media_ids"] = media_ids
        if post.reply_to_remote_id:
            body["in_reply_to_id"] = post.reply_to_remote_id
        status = self._json(
            "POST",
            "/api/v1/statuses",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
            write="reply" if post.reply_to_remote_id else "create",
        )
        return self._result(status)

    def _upload_media(
        self,
        media: tuple[MediaItem, ...],
        checkpoint: Checkpoint,
        on_checkpoint: Callable[[Checkpoint], None] | None,
    ) -> list[str]:
        done = [i for i in str(checkpoint.get("media_ids", "")).split(",") if i]
        ids: list[str] = []
        for index, item in enumerate(media):
            media_id = done[index] if index < len(done) else ""
            if media_id and self._wait_for_media(media_id, missing_ok=True):
                ids.append(media_id)
                continue
            ids.append(self._upload_one(item))
            if on_checkpoint is not None:
                on_checkpoint({**checkpoint, "media_ids": ",".join(ids)})
        return ids

    def _upload_one(self, item: MediaItem) -> str:
        # An upload publishes nothing by itself: no fence.
        filename = item.filename or ("video.mp4" if item.kind == "video" else "image")
        response = self._call(
            "POST",
            "/api/v2/media",
            files={"file": (filename, item.data, item.mime_type)},
            data={"description": item.alt_text},
        )
        attachment = self._parse(response)
        media_id = usable_id(attachment.get("id"))
        if not media_id:
            raise TransientError(UNREADABLE_ANSWER, network=self.network,
                                 network_message="media without a usable id")
        if response.status_code == 202 or not attachment.get("url"):
            self._wait_for_media(media_id)
        return media_id

    def _wait_for_media(self, media_id: str, *, missing_ok: bool = False) -> bool:
        """Poll until processed (206 → 200). False if gone and ``missing_ok``."""
        interval = float(self._setting("media_poll_seconds", "1"))
        attempts = int(self._setting("media_poll_attempts", "30"))
        for attempt in range(attempts):
            try:
                response = self._call("GET", f"/api/v1/media/{media_id}")
            except Rejected as e:
                if missing_ok and e.http_status == 404:
                    return False
                raise
            if response.status_code == 200 and self._parse(response).get("url"):
                return True
            if attempt + 1 < attempts:
                self._sleep(interval)
        raise TransientError(
            gettext_noop(
                "Mastodon er ikke færdig med at behandle den vedhæftede fil. Kanal "
                "prøver igen om lidt."
            ),
            retry_after=30.0,
            network=self.network,
            http_status=206,
        )

    def _result(self, status: Mapping) -> PublishResult:
        return PublishResult(
            remote_id=status.get("id"),
            url=self.permalink(status.get("url") or status.get("uri")),
            published_at=iso_to_datetime(status.get("created_at")),
        )

    def _account_id(self) -> str:
        if self.connection.account_id:
            return self.connection.account_id
        return str(self._json("GET", "/api/v1/accounts/verify_credentials")["id"])

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        """The status a lost attempt created, read from the account's own.

        Mastodon cannot be asked about an ``Idempotency-Key`` (a retry within
        the hour is safe anyway: the same key returns the same status), so
        this reads ``/api/v1/accounts/:id/statuses``: the status carrying the
        checkpointed media ids, or the same text as Mastodon renders it
        (``content`` is HTML with the link kept; remote mentions shortened),
        after ``since`` moved onto the instance's clock (``reconcile``).
        """
        account_id = self._account_id()
        media_ids = reconcile.ids_from((checkpoint or {}).get("media_ids"))
        exclude = reconcile.excluded(checkpoint)
        params: dict[str, str | int] = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
        for _ in range(MAX_FIND_PAGES):
            statuses = self._json(
                "GET", f"/api/v1/accounts/{account_id}/statuses", params=params
            )
            floor = reconcile.network_floor(
                since, self.client.network_offset(),
                at_write=reconcile.offset_at_write(checkpoint))
            older = False
            # Newest first: the first match is the newest.
            for status in statuses or []:
                created = iso_to_datetime(status.get("created_at"))
                attachments = status.get("media_attachments") or []
                candidate = reconcile.Candidate(
                    remote_id=str(status["id"]),
                    text=html_to_text(status.get("content", "")),
                    created_at=created,
                    url=self.permalink(status.get("url") or status.get("uri")),
                    media_ids=frozenset(str(m.get("id")) for m in attachments
                                        if isinstance(m, Mapping)),
                    has_media=bool(attachments),
                )
                if candidate.remote_id not in exclude and reconcile.matches(
                        candidate, text=text, floor=floor, media_ids=media_ids):
                    return PublishResult(remote_id=candidate.remote_id,
                                         url=candidate.url,
                                         published_at=candidate.created_at)
                older = older or (created is not None and floor is not None
                                  and created < floor)
            if older or not statuses:
                return None
            params["max_id"] = str(statuses[-1]["id"])
        raise TransientError(
            gettext_noop(
                "Kanal kunne ikke gennemse alle kontoens opslag siden udgivelsen. "
                "Kanal prøver igen senere."
            ),
            network=self.network,
        )

    def _status_id(self, remote_id: str) -> str:
        """``remote_id`` if it is a status id (``_STATUS_ID``), else
        ``Rejected``: checked before it goes into a path."""
        return check_id(remote_id, _STATUS_ID, network=self.network,
                        message=NOT_FOUND_MESSAGE)

    def delete(self, remote_id: str) -> None:
        self._status_id(remote_id)
        try:
            self._call("DELETE", f"/api/v1/statuses/{remote_id}")
        except Rejected as e:
            # Already gone is what a delete wants.
            if e.http_status != 404:
                raise

    def read_post(self, remote_id: str) -> PostState:
        self._status_id(remote_id)
        try:
            status = self._json("GET", f"/api/v1/statuses/{remote_id}")
        except Rejected as e:
            if e.http_status in (404, 410):
                return PostState(remote_id, gone=True)
            raise
        if not isinstance(status, dict):
            status = {}
        return PostState(
            remote_id, text=html_to_text(text_of(status.get("content"))),
            url=self.permalink(status.get("url") or status.get("uri")),
            edited_at=iso_to_datetime(text_of(status.get("edited_at"))),
            current_id=remote_id,
        )

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        """Answer a status; mentions its author (as Mastodon's own apps do) so
        they are notified, and never widens the parent's visibility."""
        return self._answer(to_remote_id, text, idempotency_key=idempotency_key,
                            visibility=self._setting("visibility", "public"),
                            write="reply")

    def answer_text(self, text: str, *, to_handle: str = "") -> str:
        """Names the citizen (``@acct``) in front, as Mastodon's own apps
        do, so they are notified, unless the text already mentions them."""
        acct = to_handle.strip().lstrip("@")
        if acct and f"@{acct}".casefold() not in text.casefold():
            return f"@{acct} {text}"
        return text

    def _answer(self, to_remote_id: str, text: str, *, idempotency_key: str,
                visibility: str, write: str) -> PublishResult:
        self._status_id(to_remote_id)
        parent = self._json("GET", f"/api/v1/statuses/{to_remote_id}")
        account = parent.get("account") or {}
        acct = str(account.get("acct") or "")
        own = str(account.get("id") or "") == self.connection.account_id
        if not own:
            text = self.answer_text(text, to_handle=acct)
        limit = self.capabilities().max_text_length
        length = self.count_text(text)
        if limit and length > limit:
            # Refused here rather than by the instance (or cut short by it):
            # the mention in front may make an answer that fit too long.
            raise Rejected(ANSWER_TOO_LONG, network=self.network,
                           network_message=f"answer of {length} characters "
                           f"with the mention, limit {limit}")
        parent_visibility = str(parent.get("visibility") or "public")
        if VISIBILITY_RANK.get(parent_visibility, 0) > VISIBILITY_RANK.get(
            visibility, 0
        ):
            visibility = parent_visibility
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        status = self._json(
            "POST",
            "/api/v1/statuses",
            json={
                "status": text,
                "in_reply_to_id": to_remote_id,
                "visibility": visibility,
                "language": self._setting("language", "da"),
            },
            headers=headers,
            write=write,
        )
        return self._result(status)

    def send_message(self, message: OutgoingMessage, *,
                     idempotency_key: str = "") -> PublishResult:
        """A direct status (``visibility=direct``) answering the citizen's
        message and addressed to their @acct, so only they and the account
        see it; the ``Idempotency-Key`` makes a resend within the hour the
        same status."""
        if not message.reply_to_remote_id:
            raise Rejected(
                gettext_noop("Kanal ved ikke, hvilken besked svaret hører til. "
                             "Svar borgeren direkte på Mastodon."),
                network=self.network, network_message="no status to answer",
            )
        return self._answer(message.reply_to_remote_id, message.text,
                            idempotency_key=idempotency_key, visibility="direct",
                            write="message")

    def find_message(self, message: OutgoingMessage, *, idempotency_key: str = "",
                     since: datetime) -> PublishResult | None:
        """The account's own direct answer to the citizen's message (the
        status's context shows it to the account), for after the
        Idempotency-Key's hour; ``since`` is not needed: the answer hangs
        below the one message it answers."""
        return self.find_reply(message.reply_to_remote_id, text=message.text,
                               idempotency_key=idempotency_key)

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The account's own status answering ``to_remote_id`` with ``text``
        (the mention ``reply`` puts in front of it aside), which a reply
        whose answer was lost may have made. Inside the Idempotency-Key's
        hour sending again with the key is as good; this is for after."""
        self._status_id(to_remote_id)
        me = self._account_id()
        context = self._json("GET", f"/api/v1/statuses/{to_remote_id}/context")
        search = reconcile.ReplySearch(self.network, text)
        for status in (context or {}).get("descendants") or []:
            if not isinstance(status, Mapping) or \
                    str(status.get("in_reply_to_id") or "") != to_remote_id:
                continue
            shown = html_to_text(str(status.get("content") or ""))
            unmentioned = _LEADING_MENTIONS.sub("", shown)
            if reconcile.same_text(unmentioned, text):
                shown = unmentioned
            author = str((status.get("account") or {}).get("id") or "")
            candidate = reconcile.Candidate(
                remote_id=str(status.get("id") or ""),
                text=shown,
                created_at=iso_to_datetime(status.get("created_at")),
                url=self.permalink(status.get("url") or status.get("uri")),
            )
            if candidate.remote_id and search.offer(
                    candidate, own=(author == me) if author else None):
                break
        found = search.result()
        if found is None:
            return None
        return PublishResult(found.remote_id, found.url, found.created_at)

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        raise NotSupported(
            gettext_noop(
                "Mastodon kan ikke skjule andres svar. Du kan blokere eller anmelde "
                "afsenderen på instansen, eller slette Kanals eget opslag."
            ),
            network=self.network,
        )

    def repost(self, remote_id: str) -> PublishResult | None:
        """Boost; boosting twice returns the existing boost."""
        self._status_id(remote_id)
        reblog = self._json("POST", f"/api/v1/statuses/{remote_id}/reblog",
                            write="repost")
        original = reblog.get("reblog") or {}
        return PublishResult(
            remote_id=reblog.get("id"),
            # The boosted post lives on its own instance, often another host.
            url=web_address(original.get("url")) or self.permalink(
                reblog.get("url") or reblog.get("uri")),
            published_at=iso_to_datetime(reblog.get("created_at")),
        )

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """Favourite (``/favourite``) or unfavourite a status; Mastodon keeps
        one favourite per account. The status it answers must be the one
        asked for, with ``favourited`` as asked."""
        self._status_id(remote_id)
        action = "favourite" if liked else "unfavourite"
        self.fence("like" if liked else "unlike")
        status = self._parse(
            self._call("POST", f"/api/v1/statuses/{remote_id}/{action}"))
        if not (
            isinstance(status, dict)
            and str(status.get("id")) == remote_id
            and status.get("favourited") is liked
        ):
            raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                 network_message=str(status)[:200])

    def pin(self, remote_id: str, *, pinned: bool = True) -> None:
        """Pin to the profile (instances allow 5); unpinning is always allowed."""
        self._status_id(remote_id)
        action = "pin" if pinned else "unpin"
        self._call("POST", f"/api/v1/statuses/{remote_id}/{action}", write=action)

    # -- reading ------------------------------------------------------------

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        """Mentions (replies and direct messages included) newer than ``since``.

        ``since`` is the newest notification id seen. It is sent as
        ``min_id``, not ``since_id``: ``since_id`` returns the *newest* page
        and would skip notifications when more than a page arrived.
        """
        params: list[tuple[str, str | int]] = [
            ("types[]", "mention"),
            ("limit", PAGE_SIZE),
        ]
        if since:
            params.append(("min_id", since))
        notifications = self._json("GET", "/api/v1/notifications", params=params)
        own_id = self.connection.account_id
        items = []
        cursor = since or ""
        skipped = 0
        for notification in notifications if isinstance(notifications, list) else []:
            # Everything here is the network's word: an entry Kanal cannot
            # read is skipped and counted, and the cursor still passes it
            # (when it has an id), so it never stops the channel's inbox.
            notification_id = _status_id(notification)
            if not notification_id:
                skipped += 1
                continue
            if not cursor or _id_key(notification_id) > _id_key(cursor):
                cursor = notification_id
            status = notification.get("status")
            if not status:
                continue
            item = self._inbox_item(status, own_id)
            if item is None:
                skipped += 1
                continue
            items.append(item)
        if skipped:
            logger.warning("mastodon: %d notification(s) could not be read and "
                           "were skipped", skipped)
        items.sort(key=lambda item: item.created_at)
        return InboxPage(items=tuple(items), cursor=cursor, skipped=skipped)

    def _inbox_item(self, status, own_id: str) -> InboxItem | None:
        """``status`` as an inbox item, or None when it cannot be read (not
        an object, or without a usable id)."""
        remote_id = _status_id(status)
        if not remote_id:
            return None
        account = status.get("account")
        account = account if isinstance(account, Mapping) else {}
        parent = id_of(status.get("in_reply_to_id"))
        if status.get("visibility") == "direct":
            kind = "message"
        elif parent and (
            not own_id or id_of(status.get("in_reply_to_account_id")) == own_id
        ):
            kind = "reply"
        else:
            kind = "mention"
        return InboxItem(
            remote_id=remote_id,
            kind=kind,
            author_id=id_of(account.get("id")),
            author_name=text_of(account.get("display_name"))
            or text_of(account.get("acct")),
            text=html_to_text(text_of(status.get("content"))),
            created_at=iso_to_datetime(status.get("created_at")) or self._clock(),
            post_remote_id=parent,
            parent_remote_id=parent,
            url=web_address(status.get("url") or status.get("uri")),
            author_handle=text_of(account.get("acct")),
        )

    def fetch_thread(self, remote_id: str) -> InboxPage:
        """Every reply below one status (``/api/v1/statuses/:id/context``)."""
        self._status_id(remote_id)
        context = self._json("GET", f"/api/v1/statuses/{remote_id}/context")
        own_id = self.connection.account_id
        items = []
        descendants = context.get("descendants") if isinstance(context, dict) else None
        for status in descendants if isinstance(descendants, list) else []:
            item = self._inbox_item(status, own_id)
            if item is None or (own_id and item.author_id == own_id):
                continue
            items.append(
                InboxItem(
                    **{
                        **item.__dict__,
                        "kind": "reply",
                        "post_remote_id": remote_id,
                    }
                )
            )
        return InboxPage(items=tuple(items), cursor="")

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        account = self._json("GET", "/api/v1/accounts/verify_credentials")
        account_metrics = tuple(
            present_metrics(
                account, (("followers_count", "followers"),), self.api_version
            )
        )
        posts: dict[str, tuple[Metric, ...]] = {}
        for status in self._statuses(post_ids):
            # quotes_count exists from Mastodon 4.5 on; older servers omit it.
            posts[str(status["id"])] = tuple(
                present_metrics(
                    status,
                    (
                        ("favourites_count", "likes"),
                        ("reblogs_count", "shares"),
                        ("replies_count", "comments"),
                        ("quotes_count", "shares"),
                    ),
                    self.api_version,
                )
            )
        return MetricsSnapshot(
            account=account_metrics, posts=posts, taken_at=self._clock()
        )

    def _statuses(self, ids: tuple[str, ...]) -> list[Mapping]:
        """Statuses by id: ``GET /api/v1/statuses?id[]=`` (4.3+), one by one on
        older instances. Deleted statuses are left out."""
        found: list[Mapping] = []
        for start in range(0, len(ids), 20):
            chunk = ids[start : start + 20]
            try:
                found.extend(
                    self._json(
                        "GET", "/api/v1/statuses", params=[("id[]", i) for i in chunk]
                    )
                )
                continue
            except Rejected as e:
                if e.http_status != 404:
                    raise
            for status_id in chunk:
                try:
                    found.append(self._json("GET", f"/api/v1/statuses/{status_id}"))
                except Rejected as e:
                    if e.http_status != 404:
                        raise
        return found

    def search_hashtag(self, tag: str, *, cursor: str = "") -> HashtagPage:
        """Public posts with ``#tag``, newer than ``cursor`` (the newest status
        id seen; sent as ``min_id`` for the same reason as the inbox)."""
        tag = tag.lstrip("#")
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        if cursor:
            params["min_id"] = cursor
        statuses = self._json(
            "GET", f"/api/v1/timelines/tag/{quote(tag, safe='')}", params=params
        )
        newest = cursor
        posts = []
        for status in statuses:
            status_id = str(status["id"])
            if not newest or _id_key(status_id) > _id_key(newest):
                newest = status_id
            account = status.get("account") or {}
            posts.append(
                HashtagPost(
                    remote_id=status_id,
                    author_name=str(
                        account.get("display_name") or account.get("acct") or ""
                    ),
                    text=html_to_text(status.get("content", "")),
                    created_at=iso_to_datetime(status.get("created_at")),
                    url=str(status.get("url") or status.get("uri") or ""),
                )
            )
        return HashtagPage(tag=tag, posts=tuple(posts), cursor=newest)

    def fetch_account_posts(
        self, account: str, *, since: str = ""
    ) -> AccountPostsPage:
        """The account's own public statuses (no replies, no boosts), newer
        than ``since`` (the newest status id seen, sent as ``min_id``). A
        handle (``bibliotek@kk.social``) is resolved with
        ``/api/v1/accounts/lookup`` first."""
        account = account.strip().lstrip("@")
        account_id = account
        if not account.isdigit():
            unknown = gettext_noop(
                "Mastodon-instansen kender ikke kontoen. Tjek kontoens navn "
                "(fx bibliotek@kk.social)."
            )
            try:
                found = self._json(
                    "GET", "/api/v1/accounts/lookup", params={"acct": account}
                )
            except Rejected as e:
                if e.http_status != 404:
                    raise
                raise Rejected(
                    unknown, network=self.network, http_status=404,
                    network_message=e.network_message,
                ) from e
            account_id = str(found.get("id") or "")
            if not account_id.isdigit():
                raise Rejected(
                    unknown, network=self.network, http_status=404,
                    network_message="lookup without id",
                )
        params: dict[str, str | int] = {
            "limit": PAGE_SIZE,
            "exclude_replies": "true",
            "exclude_reblogs": "true",
        }
        if since:
            params["min_id"] = since
        statuses = self._json(
            "GET", f"/api/v1/accounts/{account_id}/statuses", params=params
        )
        newest = since
        posts = []
        for status in statuses:
            status_id = str(status.get("id") or "")
            if not status_id.isdigit() or status.get("visibility") not in (
                "public", "unlisted", None
            ):
                continue
            if not newest or _id_key(status_id) > _id_key(newest):
                newest = status_id
            author = status.get("account") or {}
            posts.append(
                AccountPost(
                    remote_id=status_id,
                    text=html_to_text(str(status.get("content") or "")),
                    url=str(status.get("url") or status.get("uri") or ""),
                    created_at=iso_to_datetime(status.get("created_at")),
                    author_name=str(
                        author.get("display_name") or author.get("acct") or ""
                    ),
                    media_urls=tuple(
                        str(m.get("url") or "")
                        for m in status.get("media_attachments") or ()
                        if isinstance(m, dict) and m.get("type") == "image"
                    ),
                )
            )
        posts.sort(key=lambda p: _id_key(p.remote_id), reverse=True)
        return AccountPostsPage(account=account, posts=tuple(posts), cursor=newest)

    # -- connection ---------------------------------------------------------

    def register_app(
        self,
        *,
        redirect_uri: str,
        client_name: str = "Kanal",
        website: str = "",
    ) -> dict[str, str]:
        """Register Kanal on this instance (``POST /api/v1/apps``); returns
        ``client_id`` and ``client_secret`` for the OAuth flow. Each instance
        needs its own registration."""
        body = {
            "client_name": client_name,
            "redirect_uris": redirect_uri,
            "scopes": self._setting("scopes", "read write"),
        }
        if website:
            body["website"] = website
        app = self._parse(
            self.client.request("POST", "/api/v1/apps", json=body, translate=translate)
        )
        return {
            "client_id": str(app["client_id"]),
            "client_secret": str(app["client_secret"]),
        }

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_verifier: str = ""
    ) -> str:
        """The instance's ``/oauth/authorize`` (PKCE S256 when a verifier is
        given); needs ``client_id`` from the app registered on this instance."""
        params = {
            "response_type": "code",
            "client_id": self.connection.secret("client_id"),
            "redirect_uri": redirect_uri,
            "scope": self._setting("scopes", "read write"),
            "state": state,
        }
        if code_verifier:
            params["code_challenge"] = _pkce_challenge(code_verifier)
            params["code_challenge_method"] = "S256"
        base = self.connection.base_url.rstrip("/")
        return f"{base}/oauth/authorize?{urlencode(params)}"

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str = ""
    ) -> TokenSet:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.connection.secret("client_id"),
            "client_secret": self.connection.secret("client_secret"),
            "redirect_uri": redirect_uri,
            "scope": self._setting("scopes", "read write"),
        }
        if code_verifier:
            data["code_verifier"] = code_verifier
        response = self.client.request(
            "POST", "/oauth/token", data=data, translate=_translate_oauth
        )
        token = read_json(response, network=self.network)
        return TokenSet(access_token=str(token["access_token"]))

    def refresh_token(self) -> TokenSet:
        """Mastodon tokens never expire, so there is nothing to renew; a
        revoked token shows up as ``AuthExpired`` from ``verify``."""
        raise NotSupported(
            gettext_noop(
                "Mastodon-adgangsnøgler udløber ikke, så der er intet at forny. "
                "Virker forbindelsen ikke, skal kontoen forbindes igen."
            ),
            network=self.network,
        )

    def verify(self) -> AccountInfo:
        account = self._json("GET", "/api/v1/accounts/verify_credentials")
        return AccountInfo(
            remote_id=str(account["id"]),
            handle=str(account.get("acct") or account.get("username") or ""),
            display_name=str(account.get("display_name") or ""),
            followers=count_value(account.get("followers_count")),
            profile_url=str(account.get("url") or ""),
        )


def _pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _translate_oauth(response: httpx.Response) -> NetworkError | None:
    if response.status_code in (400, 401):
        return AuthExpired(
            gettext_noop(
                "Mastodon-instansen godkendte ikke forbindelsen. Prøv at forbinde "
                "kontoen igen."
            ),
            network="mastodon",
            network_message=_error_text(response),
            http_status=response.status_code,
        )
    return translate(response)
