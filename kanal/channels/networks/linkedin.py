"""LinkedIn organisation pages (Community Management API, ``/rest``).

Platform facts this module depends on (PLATFORMS.md §6):

- Every call carries ``Linkedin-Version: YYYYMM`` and
  ``X-Restli-Protocol-Version: 2.0.0``. The version comes from
  ``Connection.settings["linkedin_version"]`` (default ``DEFAULT_VERSION``); a
  missing or sunset version is answered with 426/400 ``NONEXISTENT_VERSION``,
  which becomes ``Rejected`` telling the admin to update the setting.
- ``commentary`` is "little text": the reserved characters
  ``( ) [ ] { } < > @ | ~ _ * \\ #`` must be escaped, or LinkedIn silently cuts
  the text at the first one. Hashtags are sent as the documented
  HashtagTemplate ``{hashtag|\\#|voreskbh}``, so they stay clickable hashtags
  instead of becoming a literal ``\\#``. Comment text (``socialActions``) is
  plain text and is sent unescaped.
- The text limit (~3,000 characters) is not documented; exceeding it gives
  ``FIELD_LENGTH_TOO_LONG``.
- There is no idempotency header. A repeated post is refused with 422
  ``DUPLICATE_POST`` whose message names the existing URN: ``publish`` raises
  ``Duplicate`` with that URN as ``existing_id`` (``duplicate_of`` reads it
  back), and ``find_published`` looks the named post up, else scans the
  organisation's recent posts for the checkpointed image URNs or the same
  text, on LinkedIn's clock (``reconcile``).
- Fenced writes (``NetworkAdapter.fence``): creating a post, a comment
  (reply) and a reshare. Image uploads publish nothing and are not fenced.
- 429 comes without rate-limit headers; quotas are daily and reset at 00:00 UTC.
  Kanal waits ``RATE_LIMIT_WAIT`` (one hour, or until midnight UTC if sooner):
  retrying within minutes only burns what is left of a daily quota.
- Access tokens live 60 days. Refresh tokens exist only for approved partners;
  without one, a person must reconnect the page every 60 days.
- The API cannot hide comments or search hashtags.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit

import httpx

from . import reconcile
from .base import (
    AccountInfo,
    Capabilities,
    Checkpoint,
    InboxItem,
    InboxPage,
    MediaItem,
    Metric,
    MetricsSnapshot,
    NetworkAdapter,
    OutgoingPost,
    PostState,
    PublishResult,
    TokenSet,
    check_id,
    count_value,
    id_of,
    present_metrics,
    text_of,
    usable_id,
)
from .errors import (
    LIKE_UNCONFIRMED,
    AuthExpired,
    Duplicate,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
    gettext_noop,
)
from .http import error_json, read_json, retry_after_seconds

logger = logging.getLogger(__name__)

DEFAULT_VERSION = "202607"
MAX_TEXT_LENGTH = 3000
MAX_IMAGES = 20
# Posts API: "altText … Maximum length is 4086 characters".
ALT_TEXT_MAX_LENGTH = 4086
# Documented as a pixel ceiling only (no file size): < 36,152,320 pixels.
MAX_IMAGE_PIXELS = 36_152_320
IMAGE_FORMATS = frozenset({"image/jpeg", "image/png", "image/gif"})
RATE_LIMIT_WAIT = 3600.0
SCOPES = ("r_organization_social", "w_organization_social", "rw_organization_admin")
# How far back the inbox looks for comments, and how much the post scan reads.
#: The newest posts read on every poll (their newest comments first).
INBOX_POSTS = 20
PAGE_SIZE = 50
MAX_PAGES = 10
#: Posts the sweep reads per poll: the posts older than the ``INBOX_POSTS``
#: newest, and the young ones with more than a page of comments, in turn, one
#: lap after another (see ``fetch_inbox``).
SWEEP_POSTS = 5
#: A comment made this long before the previous lap began is still reported
#: by the sweep (a network clock a little behind Kanal's loses nothing).
SWEEP_MARGIN_MS = 5 * 60 * 1000
STATS_BATCH = 50

RESERVED = frozenset("()[]{}<>@|~_*\\#")
HASHTAG = re.compile(r"(?<![\w#\\])#(\w*[^\W\d_]\w*)")
HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\#\|((?:\\.|[^\\}])*)\}")
DUPLICATE_URN = re.compile(r"urn:li:(?:share|ugcPost):[0-9A-Za-z_-]+")
DAY_LIMIT = re.compile(r"\bDAY limit\b|daily limit", re.IGNORECASE)
COMMENT_URN = re.compile(r"^urn:li:comment:\((urn:li:[A-Za-z]+:[^,]+),([^)]+)\)$")
#: What the Reactions API reacts to: a comment or a post (share, ugcPost,
#: activity). Any other id is refused before it goes into a path.
REACTABLE_URN = re.compile(
    r"^urn:li:(?:share|ugcPost|activity):[0-9]{1,40}$"
    r"|^urn:li:comment:\(urn:li:(?:share|ugcPost|activity):[0-9]{1,40},[0-9]{1,40}\)$"
)

NOT_FOUND_MESSAGE = gettext_noop(
    "LinkedIn kender ikke opslaget eller kommentaren. Det kan være slettet på "
    "LinkedIn."
)
RECONNECT_MESSAGE = gettext_noop(
    "LinkedIn-adgangen er udløbet. LinkedIn giver kun adgang i 60 dage ad "
    "gangen, så siden skal forbindes igen hver 60. dag. En administrator skal "
    "forbinde LinkedIn-siden igen under Kanaler."
)
VERSION_MESSAGE = (
    "LinkedIn kender ikke længere den API-version, Kanal er sat op til "
    "({version}). En administrator skal opdatere LinkedIn-versionen "
    "(formatet ÅÅÅÅMM, fx {default}) i kanalens indstillinger."
)
TOO_LONG_MESSAGE = gettext_noop(
    "Teksten er for lang til LinkedIn. LinkedIn oplyser ikke grænsen "
    "officielt, men den ligger omkring 3.000 tegn. Forkort teksten og prøv igen."
)


def escape_little_text(text: str) -> str:
    """``text`` as LinkedIn "little text": reserved characters escaped,
    hashtags turned into HashtagTemplates."""
    out: list[str] = []
    position = 0
    for match in HASHTAG.finditer(text):
        out.append(_escape_plain(text[position : match.start()]))
        out.append("{hashtag|\\#|" + _escape_plain(match.group(1)) + "}")
        position = match.end()
    out.append(_escape_plain(text[position:]))
    return "".join(out)


def unescape_little_text(commentary: str) -> str:
    """The plain text a citizen sees for ``commentary``."""
    text = HASHTAG_TEMPLATE.sub(lambda m: "#" + m.group(1), commentary)
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _escape_plain(text: str) -> str:
    return "".join("\\" + c if c in RESERVED else c for c in text)


def duplicate_of(error: NetworkError) -> str:
    """The URN of the existing post named by a DUPLICATE_POST refusal, or ""."""
    if error.network_code != "DUPLICATE_POST":
        return ""
    match = DUPLICATE_URN.search(error.network_message or "")
    return match.group(0) if match else ""


def _next_utc_midnight(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _check_urn(urn: str) -> str:
    """``urn`` if it names a post or a comment (``REACTABLE_URN``), else
    ``Rejected``: checked before it goes into a request."""
    return check_id(urn, REACTABLE_URN, network="linkedin", message=NOT_FOUND_MESSAGE)


def _enc(urn: str) -> str:
    return quote(urn, safe="")


def _from_ms(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class LinkedInAdapter(NetworkAdapter):
    network = "linkedin"
    display_name = "LinkedIn"
    api_version = DEFAULT_VERSION

    def __init__(self, connection, *, client=None, **hooks) -> None:
        super().__init__(connection, client=client, **hooks)
        # The configured Linkedin-Version is the API version of every number.
        self.api_version = self.linkedin_version

    @property
    def linkedin_version(self) -> str:
        settings = self.connection.settings
        return str(settings.get("linkedin_version") or DEFAULT_VERSION)

    @property
    def organization_urn(self) -> str:
        account = self.connection.account_id
        if account.startswith("urn:li:organization:"):
            return account
        return f"urn:li:organization:{account}"

    @property
    def organization_id(self) -> str:
        return self.organization_urn.rsplit(":", 1)[1]

    # -- limits and validation ------------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(
            max_text_length=MAX_TEXT_LENGTH,
            text_counting="tegn (LinkedIns grænse er ikke officiel)",
            max_images=MAX_IMAGES,
            max_videos=0,
            image_formats=IMAGE_FORMATS,
            video_formats=frozenset(),
            max_image_pixels=MAX_IMAGE_PIXELS - 1,
            alt_text_required_for=frozenset({"image"}),
            alt_text_max_length=ALT_TEXT_MAX_LENGTH,
            supports=frozenset(
                {
                    "publish",
                    "delete",
                    "reply",
                    "repost",
                    "like",
                    "fetch_inbox",
                    "fetch_metrics",
                    "refresh_token",
                    "verify",
                    "link_posts",
                    "read_post",
                }
            ),
        )

    def count_text(self, text: str) -> int:
        return len(text)

    # -- HTTP plumbing ----------------------------------------------------------

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.connection.secret('access_token')}",
            "Linkedin-Version": self.linkedin_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        headers.update(extra or {})
        return headers

    def _path(self, path: str) -> str:
        # Base URL may be given as the real one ("…/rest") or the host alone.
        if urlsplit(self.client.base_url).path.endswith("/rest"):
            return path
        return "/rest" + path

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str = "",
        headers: dict[str, str] | None = None,
        write: str = "",
        **kwargs,
    ) -> httpx.Response:
        """One call. ``write`` names a write that must not be sent twice: it
        is fenced right before sending, and a 5xx answer is ``OutcomeUnknown``."""
        if write:
            self.fence(write)
        return self.client.request(
            method,
            self._path(path),
            headers=self._headers(headers),
            translate=self._translator(method, operation),
            write=bool(write),
            **kwargs,
        )

    def _translator(
        self, method: str, operation: str
    ) -> Callable[[httpx.Response], NetworkError | None]:
        def translate(response: httpx.Response) -> NetworkError | None:
            if response.status_code < 400:
                return None
            if operation == "delete" and response.status_code == 404:
                return None
            return self._error_for(response, method=method)

        return translate

    def _error_for(self, response: httpx.Response, *, method: str) -> NetworkError:
        status = response.status_code
        body = error_json(response)
        if not isinstance(body, dict):
            body = {}
        message = str(body.get("message") or response.text[:500])
        code = str(body.get("code") or "")
        details = body.get("errorDetails") or {}
        input_codes = [
            str(e.get("code"))
            for e in (details.get("inputErrors") or [])
            if isinstance(e, dict) and e.get("code")
        ]
        code = code or (input_codes[0] if input_codes else "")
        if not code and body.get("serviceErrorCode") is not None:
            code = str(body["serviceErrorCode"])
        kw = {
            "network": self.network,
            "network_code": code or None,
            "network_message": message,
            "http_status": status,
        }
        if code in {"NONEXISTENT_VERSION", "VERSION_MISSING"} or status == 426:
            return Rejected(
                VERSION_MESSAGE.format(
                    version=self.linkedin_version, default=DEFAULT_VERSION
                ),
                **kw,
            )
        if status == 401:
            return AuthExpired(
                gettext_noop(
                    "LinkedIn afviste Kanals adgang til siden (udløbet eller "
                    "tilbagekaldt). En administrator skal forbinde LinkedIn-siden "
                    "igen under Kanaler."
                ),
                **kw,
            )
        if status == 403:
            return AuthExpired(
                gettext_noop(
                    "Kanal har ikke LinkedIn-rettighed til at gøre dette på siden. "
                    "En administrator af LinkedIn-siden skal forbinde den igen og "
                    "give Kanal adgang til at poste og læse som siden."
                ),
                **kw,
            )
        if status == 429:
            now = datetime.now(UTC)
            midnight = _next_utc_midnight(now)
            until_reset = (midnight - now).total_seconds() + 60
            if DAY_LIMIT.search(message):
                return QuotaExhausted(
                    gettext_noop(
                        "LinkedIns daglige kvote af kald for Kanal er brugt op. "
                        "Opslaget venter til efter midnat (UTC), hvor kvoten "
                        "nulstilles."
                    ),
                    retry_after=until_reset,
                    reset_at=midnight,
                    **kw,
                )
            wait = retry_after_seconds(response)
            if wait is None:
                wait = min(RATE_LIMIT_WAIT, until_reset)
            return RateLimited(
                gettext_noop(
                    "LinkedIn beder Kanal om at vente (dagens kvote af kald er brugt "
                    "op eller næsten brugt op). Kanal prøver igen om lidt; kvoten "
                    "nulstilles ved midnat UTC."
                ),
                retry_after=wait,
                reset_at=midnight,
                **kw,
            )
        if "DUPLICATE_POST" in input_codes or code == "DUPLICATE_POST":
            kw["network_code"] = "DUPLICATE_POST"
            urn = DUPLICATE_URN.search(message)
            # The existing post's URN goes with the error (existing_id) and
            # the support detail; the sentence stays fixed, so it translates.
            return Duplicate(
                gettext_noop(
                    "LinkedIn afviste opslaget, fordi det er magen til et opslag, "
                    "siden allerede har udgivet. Tjek først siden; ret kun "
                    "teksten, hvis opslaget ikke er der."
                ),
                existing_id=urn.group(0) if urn else "",
                **kw,
            )
        if "FIELD_LENGTH_TOO_LONG" in input_codes or code == "FIELD_LENGTH_TOO_LONG":
            kw["network_code"] = "FIELD_LENGTH_TOO_LONG"
            return Rejected(TOO_LONG_MESSAGE, **kw)
        if status >= 500:
            # On a write that must not be sent twice the client turns this
            # into OutcomeUnknown (``write=True``).
            return TransientError(
                gettext_noop(
                    "LinkedIn havde en midlertidig fejl. Kanal prøver igen automatisk."
                ),
                retry_after=retry_after_seconds(response),
                **kw,
            )
        if status == 404:
            return Rejected(NOT_FOUND_MESSAGE, **kw)
        media_codes = {"INVALID_MEDIA", "MEDIA_ASSET_PROCESSING_FAILED"}
        if code in media_codes or media_codes & set(input_codes):
            return Rejected(
                gettext_noop(
                    "LinkedIn kunne ikke bruge et af billederne. Gem billedet igen som "
                    "JPG eller PNG, og prøv igen."
                ),
                **kw,
            )
        return Rejected(
            gettext_noop(
                "LinkedIn afviste forespørgslen. Se detaljerne for LinkedIns "
                "begrundelse, ret indholdet og prøv igen."
            ),
            **kw,
        )

    # -- publishing -------------------------------------------------------------

    def publish(
        self,
        post: OutgoingPost,
        *,
        idempotency_key: str,
        checkpoint: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> PublishResult:
        progress = dict(checkpoint or {})
        images = [m for m in post.media if m.kind == "image"]
        image_urns = [u for u in progress.get("image_urns", "").split() if u]
        for image in images[len(image_urns) :]:
            image_urns.append(self._upload_image(image))
            progress["image_urns"] = " ".join(image_urns)
            if on_checkpoint is not None:
                on_checkpoint(dict(progress))
        body = self._post_body(post, image_urns)
        response = self._call("POST", "/posts", operation="publish", json=body,
                              write="reply" if post.reply_to_remote_id
                              else "create")
        return self._result_from(response)

    def _post_body(self, post: OutgoingPost, image_urns: list[str]) -> dict:
        text = post.text
        images = [m for m in post.media if m.kind == "image"]
        content: dict | None = None
        if image_urns:
            if post.link and post.link not in text:
                text = f"{text}\n\n{post.link}".strip()
            if len(image_urns) == 1:
                content = {
                    "media": {"id": image_urns[0], "altText": images[0].alt_text}
                }
            else:
                content = {
                    "multiImage": {
                        "images": [
                            {"id": urn, "altText": image.alt_text}
                            for urn, image in zip(image_urns, images, strict=False)
                        ]
                    }
                }
        elif post.link:
            content = {
                "article": {
                    "source": post.link,
                    "title": self._article_title(post),
                }
            }
        body: dict = {
            "author": self.organization_urn,
            "commentary": escape_little_text(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content is not None:
            body["content"] = content
        if post.reply_to_remote_id:
            body["reshareContext"] = {"parent": post.reply_to_remote_id}
        return body

    @staticmethod
    def _article_title(post: OutgoingPost) -> str:
        # The Posts API does not scrape links; an article needs its own title.
        for line in post.text.splitlines():
            line = line.strip()
            if line and line != post.link:
                return line[:200]
        return urlsplit(post.link).netloc or post.link

    def _upload_image(self, image: MediaItem) -> str:
        # An uploaded image appears nowhere until a post uses it: no fence.
        response = self._call(
            "POST",
            "/images?action=initializeUpload",
            operation="media",
            json={"initializeUploadRequest": {"owner": self.organization_urn}},
        )
        value = (read_json(response, network=self.network) or {}).get(
            "value") or {}
        upload_url = value.get("uploadUrl")
        urn = usable_id(value.get("image"))
        if not upload_url or not urn:
            raise TransientError(
                gettext_noop(
                    "LinkedIn gav ikke en adresse til billedet. Kanal prøver igen."
                ),
                network=self.network,
                network_message="initializeUpload without uploadUrl/image",
            )
        self.client.request(
            "PUT",
            upload_url,
            content=image.data,
            headers={
                "Authorization": f"Bearer {self.connection.secret('access_token')}",
                "Content-Type": image.mime_type or "application/octet-stream",
            },
            translate=self._translator("PUT", "media"),
        )
        return urn

    def _result_from(self, response: httpx.Response) -> PublishResult:
        urn = usable_id(response.headers.get("x-restli-id") or response.headers.get(
            "x-linkedin-id", ""
        ))
        if not urn:
            raise OutcomeUnknown(
                gettext_noop(
                    "LinkedIn bekræftede opslaget uden at oplyse dets id. Kanal "
                    "tjekker siden, før der sendes igen."
                ),
                network=self.network,
                http_status=response.status_code,
                network_message="201 without x-restli-id",
            )
        return PublishResult(remote_id=urn, url=self.post_url(urn))

    def post_url(self, urn: str) -> str:
        """Where a citizen sees the post."""
        return f"{self._web_base()}/feed/update/{urn}/"

    def _web_base(self) -> str:
        configured = self.connection.settings.get("web_base_url")
        if configured:
            return str(configured).rstrip("/")
        parts = urlsplit(self.client.base_url)
        if parts.hostname and parts.hostname.endswith("linkedin.com"):
            return "https://www.linkedin.com"
        return self.client.base_url.removesuffix("/rest")

    def duplicate_of(self, error: NetworkError) -> str:
        """The existing post a DUPLICATE_POST refusal names (for reconciling).

        Kept for callers of the old interface; ``Duplicate.existing_id`` says
        the same."""
        return duplicate_of(error)

    def find_published(
        self,
        *,
        idempotency_key: str,
        text: str,
        since: datetime,
        checkpoint: Checkpoint | None = None,
    ) -> PublishResult | None:
        # A DUPLICATE_POST refusal (or an earlier answer) names the post.
        exclude = reconcile.excluded(checkpoint)
        for key in ("remote_id", "duplicate_of"):
            known = (checkpoint or {}).get(key)
            if known and known not in exclude:
                found = self._existing_post(known)
                if found is not None:
                    return found
        image_urns = reconcile.ids_from((checkpoint or {}).get("image_urns"))
        candidates: list[reconcile.Candidate] = []
        # Read generously (clocks may be far apart); the exact bound is set on
        # LinkedIn's clock, as its Date header tells it.
        horizon = since - reconcile.UNKNOWN_OFFSET_SLACK - timedelta(hours=1)
        for post in self._recent_posts(until=horizon):
            created = _from_ms(post.get("publishedAt") or post.get("createdAt"))
            urn = str(post.get("id") or "")
            if not urn:
                continue
            content = post.get("content") or {}
            images = [(content.get("media") or {}).get("id")] + [
                i.get("id") for i in (content.get("multiImage") or {}).get(
                    "images") or [] if isinstance(i, dict)]
            ids = frozenset(str(i) for i in images if i)
            candidates.append(reconcile.Candidate(
                remote_id=urn,
                text=unescape_little_text(str(post.get("commentary") or "")),
                created_at=created, url=self.post_url(urn),
                media_ids=ids, has_media=bool(ids),
            ))
        floor = reconcile.network_floor(
            since, self.client.network_offset(),
            at_write=reconcile.offset_at_write(checkpoint))
        best = reconcile.newest_match(candidates, text=text, floor=floor,
                                      media_ids=image_urns, exclude=exclude)
        if best is None:
            return None
        return PublishResult(remote_id=best.remote_id, url=best.url,
                             published_at=best.created_at)

    def _post_data(self, urn: str) -> dict | None:
        """``GET /rest/posts/{urn}``; None when LinkedIn says it is not there
        (404/410)."""
        try:
            response = self._call("GET", f"/posts/{_enc(urn)}", operation="verify")
        except Rejected as e:
            if e.http_status in (404, 410):
                return None
            raise
        data = read_json(response, network=self.network)
        return data if isinstance(data, dict) else {}

    def _read_comment(self, urn: str, parent: str, comment_id: str) -> PostState:
        try:
            response = self._call(
                "GET", f"/socialActions/{_enc(parent)}/comments/{_enc(comment_id)}",
                operation="inbox")
        except Rejected as e:
            if e.http_status in (404, 410):
                return PostState(urn, gone=True)
            raise
        data = read_json(response, network=self.network)
        data = data if isinstance(data, dict) else {}
        message = data.get("message")
        created, modified = data.get("created"), data.get("lastModified")
        created = _from_ms(created.get("time")) if isinstance(created, dict) else None
        edited = _from_ms(modified.get("time")) if isinstance(modified, dict) else None
        return PostState(
            urn, text=text_of(message.get("text")) if isinstance(message, dict) else "",
            url=self.post_url(parent),
            edited_at=edited if edited and created and edited > created else None,
            current_id=urn,
        )

    def _existing_post(self, urn: str) -> PublishResult | None:
        data = self._post_data(urn)
        if data is None or data.get("lifecycleState") not in (None, "PUBLISHED"):
            return None
        created = _from_ms(data.get("publishedAt") or data.get("createdAt"))
        return PublishResult(
            remote_id=urn, url=self.post_url(urn), published_at=created
        )

    def _recent_posts(self, *, until: datetime | None = None, limit: int = 0):
        """The organisation's posts, newest first, until older than ``until``."""
        start = 0
        seen = 0
        for _ in range(MAX_PAGES):
            count = min(PAGE_SIZE, limit - seen) if limit else PAGE_SIZE
            query = urlencode(
                {
                    "q": "author",
                    "author": self.organization_urn,
                    "count": count,
                    "start": start,
                    "sortBy": "LAST_MODIFIED",
                }
            )
            response = self._call("GET", f"/posts?{query}", operation="verify")
            elements = (read_json(response, network=self.network) or {}).get(
                "elements") or []
            for element in elements:
                yield element
                seen += 1
                if limit and seen >= limit:
                    return
            if len(elements) < count:
                return
            if until is not None and elements:
                last = _from_ms(
                    elements[-1].get("publishedAt") or elements[-1].get("createdAt")
                )
                if last is not None and last < until:
                    return
            start += len(elements)
        if limit == 0:
            raise TransientError(
                gettext_noop(
                    "Kanal kunne ikke nå at gennemse alle nye opslag på "
                    "LinkedIn-siden. "
                    "Kanal prøver igen."
                ),
                network=self.network,
            )

    def read_post(self, remote_id: str) -> PostState:
        """A post (``/rest/posts``) or a citizen's comment (by its
        ``urn:li:comment:(…)``, ``/socialActions/…/comments/{id}``); ``gone``
        only on LinkedIn's own 404/410."""
        _check_urn(remote_id)
        comment = COMMENT_URN.match(remote_id)
        if comment:
            return self._read_comment(remote_id, *comment.groups())
        data = self._post_data(remote_id)
        if data is None or data.get("lifecycleState") == "DELETED":
            return PostState(remote_id, gone=True)
        edited = _from_ms(data.get("lastModifiedAt"))
        created = _from_ms(data.get("publishedAt") or data.get("createdAt"))
        return PostState(
            remote_id,
            text=unescape_little_text(text_of(data.get("commentary"))),
            url=self.post_url(remote_id),
            # lastModifiedAt equals the creation when it was never edited.
            edited_at=edited if edited and created and edited > created else None,
            current_id=remote_id,
        )

    def delete(self, remote_id: str) -> None:
        _check_urn(remote_id)
        comment = COMMENT_URN.match(remote_id)
        if comment:
            parent, comment_id = comment.groups()
            query = urlencode({"actor": self.organization_urn})
            self._call(
                "DELETE",
                f"/socialActions/{_enc(parent)}/comments/{_enc(comment_id)}?{query}",
                operation="delete",
            )
            return
        self._call("DELETE", f"/posts/{_enc(remote_id)}", operation="delete")

    def reply(
        self, to_remote_id: str, text: str, *, idempotency_key: str = ""
    ) -> PublishResult:
        _check_urn(to_remote_id)
        comment = COMMENT_URN.match(to_remote_id)
        # Comments are plain text with attributes, not little text: no escaping.
        body: dict = {
            "actor": self.organization_urn,
            "object": comment.group(1) if comment else to_remote_id,
            "message": {"text": text},
        }
        if comment:
            body["parentComment"] = to_remote_id
        response = self._call(
            "POST",
            f"/socialActions/{_enc(to_remote_id)}/comments",
            operation="reply",
            json=body,
            write="reply",
        )
        data = read_json(response, network=self.network, write=True) \
            if response.content else {}
        if not isinstance(data, dict):
            data = {}
        urn = usable_id(data.get("commentUrn") or data.get("$URN"))
        if not urn:
            comment_id = usable_id(
                data.get("id") or response.headers.get("x-restli-id", ""))
            if comment_id.startswith("urn:li:comment:"):
                urn = comment_id
            elif comment_id:
                urn = f"urn:li:comment:({body['object']},{comment_id})"
        if not urn:
            raise OutcomeUnknown(
                gettext_noop("LinkedIn bekræftede svaret uden at oplyse dets id."),
                network=self.network,
                http_status=response.status_code,
            )
        created = _from_ms((data.get("created") or {}).get("time"))
        return PublishResult(
            remote_id=urn, url=self.post_url(body["object"]), published_at=created
        )

    def find_reply(self, to_remote_id: str, *, text: str,
                   idempotency_key: str = "") -> PublishResult | None:
        """The organisation's own comment on ``to_remote_id`` (a post, or a
        comment for a nested reply) with ``text``, which a reply whose answer
        was lost may have made."""
        _check_urn(to_remote_id)
        comment = COMMENT_URN.match(to_remote_id)
        post_urn = comment.group(1) if comment else to_remote_id
        search = reconcile.ReplySearch(self.network, text)
        start, read_all = 0, False
        for _ in range(MAX_PAGES):
            query = urlencode({"start": start, "count": PAGE_SIZE})
            response = self._call(
                "GET", f"/socialActions/{_enc(to_remote_id)}/comments?{query}",
                operation="inbox",
            )
            body = read_json(response, network=self.network)
            elements = (body.get("elements") if isinstance(body, dict)
                        else None) or []
            for element in elements:
                if not isinstance(element, dict):
                    continue
                urn = str(element.get("commentUrn") or element.get("$URN") or "")
                if not urn and element.get("id"):
                    urn = f"urn:li:comment:({post_urn},{element['id']})"
                actor = str(element.get("actor") or "")
                candidate = reconcile.Candidate(
                    remote_id=urn,
                    text=str((element.get("message") or {}).get("text") or ""),
                    created_at=_from_ms((element.get("created") or {}).get("time")),
                )
                if urn and search.offer(
                        candidate,
                        own=(actor == self.organization_urn) if actor else None):
                    break
            if search.found is not None or len(elements) < PAGE_SIZE:
                read_all = True
                break
            start += len(elements)
        found = search.result(read_all=read_all)
        if found is None:
            return None
        return PublishResult(remote_id=found.remote_id,
                             url=self.post_url(post_urn),
                             published_at=found.created_at)

    def hide(self, remote_id: str, *, hidden: bool = True) -> None:
        raise NotSupported(
            gettext_noop(
                "LinkedIn kan ikke skjule kommentarer gennem API'et. Slet kommentaren "
                "på LinkedIn-siden, hvis den bryder husreglerne."
            ),
            network=self.network,
        )

    def like(self, remote_id: str, *, liked: bool = True) -> None:
        """The Reactions API as the organisation: ``POST /rest/reactions?actor=``
        with ``{root, reactionType: LIKE}``; ``DELETE /rest/reactions/(actor:…,
        entity:…)`` to take it back. One reaction per actor and entity, so a
        repeat leaves one like; the answer must name the entity liked."""
        _check_urn(remote_id)
        actor = self.organization_urn
        if not liked:
            self.fence("unlike")
            self._call("DELETE",
                       f"/reactions/(actor:{_enc(actor)},entity:{_enc(remote_id)})",
                       operation="like")
            return
        self.fence("like")
        response = self._call(
            "POST", "/reactions?" + urlencode({"actor": actor}), operation="like",
            json={"root": remote_id, "reactionType": "LIKE"},
        )
        data = read_json(response, network=self.network) if response.content else {}
        if not (isinstance(data, dict) and data.get("root") == remote_id
                and data.get("reactionType") == "LIKE"):
            raise TransientError(LIKE_UNCONFIRMED, network=self.network,
                                 network_message=str(data)[:200])

    def repost(self, remote_id: str) -> PublishResult | None:
        _check_urn(remote_id)
        body = {
            "author": self.organization_urn,
            "commentary": "",
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
            "reshareContext": {"parent": remote_id},
        }
        response = self._call("POST", "/posts", operation="repost", json=body,
                              write="repost")
        return self._result_from(response)

    # -- reading ----------------------------------------------------------------

    def fetch_inbox(self, since: str | None = None) -> InboxPage:
        """Comments and replies on the organisation's posts after ``since``.

        LinkedIn has no webhooks here and lists a post's comments oldest
        first, so two readings share the poll:

        * the ``INBOX_POSTS`` newest posts, each read newest comments first
          (from the end of the list, by its ``paging.total``) back to the
          cursor's time, with the replies under the comments read;
        * a sweep, ``SWEEP_POSTS`` posts a poll, that reads whole the older
          posts and the young ones with more than a page of comments, one lap
          after another. It reports what was made since the previous lap
          began, so a comment on an old post, or a new reply under an old
          comment, is found within a lap (the README's "old ones rarely").

        The cursor (JSON) holds the newest comment time seen, never past
        Kanal's clock (a comment stamped in the future cannot hide the later
        ones), and the sweep's place.
        """
        state = self._parse_cursor(since)
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        after = (min(state["t"], now_ms), state["id"])
        found: dict[str, tuple[tuple[int, str], InboxItem]] = {}
        young = [str(post.get("id") or "") for post in
                 self._recent_posts(limit=INBOX_POSTS) if isinstance(post, dict)]
        whole = set()
        for urn in filter(None, young):
            pairs, read_whole = self._newest_comments(urn, after)
            found.update((item.remote_id, (key, item)) for key, item in pairs)
            if read_whole:
                whole.add(urn)
        sweep = self._sweep(state, young, whole, now_ms)
        found.update((item.remote_id, (key, item)) for key, item in sweep.pop("found"))
        items = sorted(found.values(), key=lambda pair: pair[0])
        newest = max((key for key, _item in items if key[0] <= now_ms),
                     default=after)
        cursor = json.dumps({"t": newest[0], "id": newest[1], "sweep": sweep})
        return InboxPage(items=tuple(item for _, item in items), cursor=cursor)

    @staticmethod
    def _parse_cursor(since: str | None) -> dict:
        """``{"t": ms, "id": comment id, "sweep": {...}}`` from a cursor, or
        from the older ``ms:id`` form."""
        state: dict = {"t": 0, "id": "", "sweep": {}}
        if not since:
            return state
        try:
            stored = json.loads(since)
        except ValueError:
            stored = None
        if isinstance(stored, dict):
            t, cid, sweep = stored.get("t"), stored.get("id"), stored.get("sweep")
            if isinstance(t, int) and not isinstance(t, bool):
                state["t"] = t
            state["id"] = cid if isinstance(cid, str) else ""
            state["sweep"] = sweep if isinstance(sweep, dict) else {}
            return state
        time_part, _, id_part = since.partition(":")
        if time_part.isdigit():
            state["t"], state["id"] = int(time_part), id_part
        return state

    def _sweep(self, state: dict, young: list[str], whole: set[str],
               now_ms: int) -> dict:
        """Read ``SWEEP_POSTS`` posts from the sweep's place (their newest
        comments back to the previous lap's start, and the comments from the
        oldest on, up to ``MAX_PAGES`` pages, with the replies under them);
        its next state, with ``found``: what they hold made since the
        previous lap began."""
        sweep = state["sweep"]
        def number(key, default):
            value = sweep.get(key)
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            return value if ok else default
        at = number("at", 0)
        lap = min(number("lap", now_ms), now_ms)
        since_ms = min(number("prev", lap), lap) - SWEEP_MARGIN_MS
        found: list = []
        visited = 0
        while visited < SWEEP_POSTS:
            if at < len(young):
                urn = young[at]
                at += 1
                if not urn or urn in whole:
                    continue  # read whole on this poll already
            else:
                posts = self._posts_at(at)
                if not posts:
                    # The lap is done: the next one reports what is made
                    # from this lap's start on.
                    return {"at": 0, "lap": now_ms, "prev": lap, "found": found}
                urn = posts[0]
                at += 1
            visited += 1
            newest, read_whole = self._newest_comments(urn, (since_ms, ""))
            found.extend(newest)
            if not read_whole:
                # More than a page: the replies under the older comments too,
                # oldest first as far as a poll's pages allow.
                found.extend(self._comments_after(urn, (since_ms, "")))
        return {"at": at, "lap": lap, "prev": number("prev", lap), "found": found}

    def _posts_at(self, start: int) -> list[str]:
        """The URN of the organisation's post at ``start`` (newest first),
        or [] past the last one."""
        query = urlencode({"q": "author", "author": self.organization_urn,
                           "count": 1, "start": start, "sortBy": "LAST_MODIFIED"})
        response = self._call("GET", f"/posts?{query}", operation="inbox")
        elements = self._elements(response)
        return [str(e.get("id") or "") for e in elements[:1]]

    def _elements(self, response) -> list[dict]:
        body = read_json(response, network=self.network)
        elements = body.get("elements") if isinstance(body, dict) else None
        return [e for e in elements if isinstance(e, dict)] if isinstance(
            elements, list) else []

    def _total(self, response) -> int | None:
        body = read_json(response, network=self.network)
        paging = body.get("paging") if isinstance(body, dict) else None
        total = paging.get("total") if isinstance(paging, dict) else None
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            return None
        return total

    def _comments_page(self, target: str, start: int):
        query = urlencode({"start": start, "count": PAGE_SIZE})
        return self._call("GET", f"/socialActions/{_enc(target)}/comments?{query}",
                          operation="inbox")

    def _newest_comments(self, post_urn: str, after: tuple[int, str]):
        """The comments (and replies under them) on ``post_urn`` after
        ``after``, newest pages first; and whether every comment was read."""
        first = self._comments_page(post_urn, 0)
        pages = [self._elements(first)]
        total = self._total(first)
        if total is None:
            # No count to start from the end: oldest first, as far as allowed.
            return self._comments_after(post_urn, after), False
        end = total
        for _ in range(MAX_PAGES):
            start = max(PAGE_SIZE, end - PAGE_SIZE)
            if end <= PAGE_SIZE:
                break
            page = self._elements(self._comments_page(post_urn, start))
            pages.append(page)
            if not page or any(self._key(e) <= after for e in page):
                break
            end = start
        read_whole = end <= PAGE_SIZE or total <= PAGE_SIZE
        found = []
        for element in [e for page in pages for e in page]:
            pair = self._inbox_item(post_urn, element)
            if pair is not None and pair[0] > after:
                found.append(pair)
            found.extend(self._replies(post_urn, element, after))
        return found, read_whole

    def _key(self, element: dict) -> tuple[int, str]:
        created = element.get("created")
        time_ms = created.get("time") if isinstance(created, dict) else None
        if isinstance(time_ms, bool) or not isinstance(time_ms, int):
            time_ms = 0
        return (time_ms, id_of(element.get("id")))

    def _replies(self, post_urn: str, element: dict, after: tuple[int, str]):
        summary = element.get("commentsSummary")
        if not isinstance(summary, dict) or not summary.get("totalFirstLevelComments"):
            return []
        urn = str(element.get("commentUrn") or element.get("$URN") or "")
        if not urn:
            return []
        return self._comments_after(post_urn, after, target=urn, nested=True)

    def _comments_after(
        self,
        post_urn: str,
        after: tuple[int, str],
        *,
        target: str = "",
        nested: bool = False,
    ) -> list[tuple[tuple[int, str], InboxItem]]:
        # LinkedIn nests one level: replies are read from the comment's own URN.
        found = []
        start = 0
        for _ in range(MAX_PAGES):
            elements = self._elements(
                self._comments_page(target or post_urn, start))
            for element in elements:
                pair = self._inbox_item(post_urn, element)
                if pair is not None and pair[0] > after:
                    found.append(pair)
                if not nested:
                    found.extend(self._replies(post_urn, element, after))
            if len(elements) < PAGE_SIZE:
                break
            start += len(elements)
        return found

    def _inbox_item(
        self, post_urn: str, element: dict
    ) -> tuple[tuple[int, str], InboxItem] | None:
        actor = text_of(element.get("actor"))
        if actor == self.organization_urn:
            return None
        created_ms, comment_id = self._key(element)
        urn = text_of(element.get("commentUrn")) or text_of(element.get("$URN"))
        if not urn and comment_id:
            urn = f"urn:li:comment:({element.get('object') or post_urn},{comment_id})"
        parent = text_of(element.get("parentComment"))
        message = element.get("message")
        item = InboxItem(
            remote_id=urn,
            kind="reply" if parent else "comment",
            author_id=actor,
            author_name=self._actor_name(element),
            text=text_of(message.get("text")) if isinstance(message, dict) else "",
            created_at=_from_ms(created_ms) or datetime.now(UTC),
            post_remote_id=post_urn,
            parent_remote_id=parent or post_urn,
            url=self.post_url(post_urn),
        )
        return (created_ms, comment_id or urn), item

    @staticmethod
    def _actor_name(element: dict) -> str:
        # Comments name their author only by URN; the member API is closed to
        # organisation apps. A projection-decorated "actor~" is used when given.
        decorated = element.get("actor~")
        decorated = decorated if isinstance(decorated, dict) else {}
        name = " ".join(
            str(decorated.get(k) or "")
            for k in ("localizedFirstName", "localizedLastName")
        ).strip()
        return name or str(decorated.get("localizedName") or "") or "LinkedIn-medlem"

    def fetch_metrics(self, post_ids: tuple[str, ...] = ()) -> MetricsSnapshot:
        version = self.linkedin_version
        account = present_metrics(
            self._network_size(), (("firstDegreeSize", "followers"),), version
        )
        lifetime = self._share_statistics({})
        if lifetime:
            account.extend(self._metrics_from(lifetime[0], version))
        posts: dict[str, tuple[Metric, ...]] = {}
        shares = [p for p in post_ids if p.startswith("urn:li:share:")]
        ugc = [p for p in post_ids if p.startswith("urn:li:ugcPost:")]
        for key, urns in (("shares", shares), ("ugcPosts", ugc)):
            for offset in range(0, len(urns), STATS_BATCH):
                batch = urns[offset : offset + STATS_BATCH]
                for element in self._share_statistics({key: batch}):
                    urn = str(element.get("share") or element.get("ugcPost") or "")
                    if urn:
                        posts[urn] = tuple(self._metrics_from(element, version))
        return MetricsSnapshot(
            account=tuple(account), posts=posts, taken_at=datetime.now(UTC)
        )

    def _network_size(self) -> dict:
        query = urlencode({"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"})
        response = self._call(
            "GET",
            f"/networkSizes/{_enc(self.organization_urn)}?{query}",
            operation="metrics",
        )
        return dict(read_json(response, network=self.network) or {})

    def _share_statistics(self, lists: dict[str, list[str]]) -> list[dict]:
        query = urlencode(
            {"q": "organizationalEntity", "organizationalEntity": self.organization_urn}
        )
        for key, urns in lists.items():
            # Rest.li 2.0 list syntax: List(a,b) with each element URL-encoded.
            query += f"&{key}=List({','.join(_enc(u) for u in urns)})"
        response = self._call(
            "GET", f"/organizationalEntityShareStatistics?{query}", operation="metrics"
        )
        return list((read_json(response, network=self.network) or {}).get(
            "elements") or [])

    @staticmethod
    def _metrics_from(element: dict, version: str) -> list[Metric]:
        stats = element.get("totalShareStatistics") or {}
        kinds = (
            ("impressionCount", "views"),
            ("uniqueImpressionsCount", "reach"),
            ("likeCount", "likes"),
            ("commentCount", "comments"),
            ("shareCount", "shares"),
            ("clickCount", "clicks"),
        )
        return present_metrics(stats, kinds, version)

    def search_hashtag(self, tag: str, *, cursor: str = ""):
        raise NotSupported(
            gettext_noop(
                "LinkedIn har ingen hashtag-søgning i API'et. Kanal kan ikke tælle "
                "#-opslag fra andre på LinkedIn."
            ),
            network=self.network,
        )

    # -- connection -------------------------------------------------------------

    def _oauth_base(self) -> str:
        configured = self.connection.settings.get("oauth_base_url")
        if configured:
            return str(configured).rstrip("/")
        return self._web_base()

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_verifier: str = ""
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.connection.secret("client_id"),
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": " ".join(SCOPES),
            }
        )
        return f"{self._oauth_base()}/oauth/v2/authorization?{query}"

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str = ""
    ) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )

    def refresh_token(self) -> TokenSet:
        refresh = self.connection.secret("refresh_token")
        if not refresh:
            raise AuthExpired(RECONNECT_MESSAGE, network=self.network)
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh}
        )

    def _token_request(self, form: dict[str, str]) -> TokenSet:
        form = {
            **form,
            "client_id": self.connection.secret("client_id"),
            "client_secret": self.connection.secret("client_secret"),
        }
        response = self.client.request(
            "POST",
            f"{self._oauth_base()}/oauth/v2/accessToken",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            translate=self._oauth_error,
        )
        data = read_json(response, network=self.network) or {}
        now = datetime.now(UTC)
        expires_in = data.get("expires_in")
        extra = {"scope": str(data.get("scope") or "")}
        if data.get("refresh_token_expires_in") is not None:
            refresh_until = now + timedelta(
                seconds=int(data["refresh_token_expires_in"])
            )
            extra["refresh_token_expires_at"] = refresh_until.isoformat()
        return TokenSet(
            access_token=str(data.get("access_token") or ""),
            refresh_token=str(data.get("refresh_token") or ""),
            expires_at=(
                now + timedelta(seconds=int(expires_in))
                if expires_in is not None
                else None
            ),
            extra=extra,
        )

    def _oauth_error(self, response: httpx.Response) -> NetworkError | None:
        status = response.status_code
        if status < 400:
            return None
        body = error_json(response)
        if not isinstance(body, dict):
            body = {}
        if "error" not in body:
            return self._error_for(response, method="POST")
        code = str(body.get("error") or "")
        kw = {
            "network": self.network,
            "network_code": code,
            "network_message": str(body.get("error_description") or ""),
            "http_status": status,
        }
        if status == 429:
            return self._error_for(response, method="POST")
        if status >= 500 or code == "temporarily_unavailable":
            return TransientError(
                gettext_noop(
                    "LinkedIns login-tjeneste havde en midlertidig fejl. Prøv igen om "
                    "lidt."
                ),
                **kw,
            )
        if code in {"invalid_client", "unauthorized_client", "invalid_redirect_uri"}:
            return Rejected(
                gettext_noop(
                    "LinkedIn afviste Kanals app-oplysninger (klient-id, hemmelighed "
                    "eller tilbage-adresse). En administrator skal tjekke "
                    "LinkedIn-appens opsætning i Kanal."
                ),
                **kw,
            )
        if code == "invalid_request":
            return Rejected(
                gettext_noop(
                    "LinkedIn kunne ikke bruge godkendelsen; den er måske udløbet. "
                    "Prøv at forbinde LinkedIn-siden igen."
                ),
                **kw,
            )
        return AuthExpired(RECONNECT_MESSAGE, **kw)

    def verify(self) -> AccountInfo:
        response = self._call(
            "GET", f"/organizations/{self.organization_id}", operation="verify"
        )
        data = read_json(response, network=self.network) or {}
        vanity = str(data.get("vanityName") or "")
        return AccountInfo(
            remote_id=self.organization_id,
            handle=vanity or self.connection.handle,
            display_name=str(data.get("localizedName") or vanity),
            followers=count_value(self._network_size().get("firstDegreeSize")),
            profile_url=f"{self._web_base()}/company/{vanity or self.organization_id}/",
        )
