"""Finding a post whose answer was lost, without trusting clocks or verbatim text.

After ``OutcomeUnknown`` (or a crashed worker) an adapter's
``find_published`` looks on the account for the post an earlier attempt may
have created. Where the network has idempotency (Mastodon's
``Idempotency-Key``, Bluesky's record key, the Instagram/Threads container)
that comes first. Otherwise a candidate post is matched on what does not
drift:

- the **exact ids checkpointed before the answer was lost** (uploaded media,
  the container), so an image-only post never matches an older image-only
  post;
- its **text, normalised** the way networks change it: HTML (Mastodon),
  entities (X), links rewritten or shortened (t.co) or added at the end,
  whitespace collapsed, remote mentions shortened;
- a **time bound that is generous and on the network's own clock**: Kanal's
  ``since`` is moved by the offset measured from the network's ``Date``
  header (``NetworkClient.network_offset``), less a slack. A clock can step
  between the write and the lookup (an NTP correction on the network's
  side), so the offset that counts is the one measured *at the write*: an
  adapter that had an answer just before its write keeps that offset in the
  checkpoint (``CLOCK_KEY``); without it the slack is wide enough for a
  step of many minutes. A post matched by checkpointed ids needs no time
  bound at all (those ids were made by this attempt).

Of several matches the newest is the one: Kanal's attempt is the latest post
with that content. A post another publication already recorded is never the
one: the caller lists those in the checkpoint as ``exclude_remote_ids``
(comma separated), so a publication with the same text as a sibling on the
same channel (a weekly reminder) never adopts the sibling's post.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import text as kanal_text
from .errors import TransientError, gettext_noop

#: Slack below the bound when the network's clock offset is known (its Date
#: header is whole seconds, and its database may lag its front end a little).
KNOWN_OFFSET_SLACK = timedelta(minutes=5)
#: Slack when it is not, or when it was not measured at the write (the
#: network's clock may have stepped since): clocks may be minutes apart.
UNKNOWN_OFFSET_SLACK = timedelta(minutes=30)

#: Checkpoint key: seconds the network's clock was ahead of Kanal's (negative:
#: behind) when the write was about to be sent, from the answer just before.
CLOCK_KEY = "network_offset"

_URL_MARK = "\x00"
_SPACE = re.compile(r"\s+")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_REMOTE_MENTION = re.compile(
    r"(?<![\w/])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)@[\w.-]*\w", re.IGNORECASE
)


def html_to_text(content: str) -> str:
    """HTML post content (Mastodon's ``content``) as plain text, breaks kept."""
    with_breaks = _BREAK.sub("\n", content or "")
    return html.unescape(_TAG.sub("", with_breaks)).strip()


def comparable(value: str) -> str:
    """``value`` reduced to what every network keeps of a post's text.

    Entities are unescaped, Unicode is NFC, every link becomes one mark (X
    wraps links in t.co; others shorten or display them differently), links
    at the end are dropped (a network may add the post's link, or a media
    link, at the end), remote mentions are shortened (``@a@server`` →
    ``@a``), whitespace is collapsed and case is folded.
    """
    value = unicodedata.normalize("NFC", html.unescape(value or ""))
    value = _REMOTE_MENTION.sub(lambda m: "@" + m.group(1), value)
    parts: list[str] = []
    position = 0
    for url in kanal_text.find_urls(value):
        parts.append(value[position : url.start])
        parts.append(f" {_URL_MARK} ")
        position = url.end
    parts.append(value[position:])
    words = _SPACE.split("".join(parts).strip())
    while words and words[-1] == _URL_MARK:
        words.pop()
    return " ".join(w for w in words if w).casefold()


def same_text(shown: str, wanted: str) -> bool:
    """Whether the network's ``shown`` text is Kanal's ``wanted`` text."""
    return comparable(shown) == comparable(wanted)


def network_floor(
    since: datetime | None,
    offset: timedelta | None,
    *,
    at_write: timedelta | None = None,
) -> datetime | None:
    """The earliest time, on the network's clock, a lost attempt can carry.

    ``since`` is on Kanal's clock (the engine passes the first attempt less a
    margin); ``offset`` is how far the network's clock is ahead of Kanal's
    now (the latest answer), ``at_write`` how far it was when the write was
    sent (``offset_at_write``). The post was stamped on the clock of the
    write: if that offset is unknown, the clock may have stepped since, and
    the slack is the wide one. Of two offsets the lower counts (a clock that
    stepped back since the write cannot push the bound past the post).
    """
    if since is None:
        return None
    known = [o for o in (offset, at_write) if o is not None]
    if not known:
        return since - UNKNOWN_OFFSET_SLACK
    slack = KNOWN_OFFSET_SLACK if at_write is not None else UNKNOWN_OFFSET_SLACK
    return since + min(known) - slack


def offset_at_write(checkpoint) -> timedelta | None:
    """The network's clock offset the checkpoint kept from before the write."""
    value = (checkpoint or {}).get(CLOCK_KEY)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds != seconds or abs(seconds) > 366 * 86400:  # NaN, nonsense
        return None
    return timedelta(seconds=seconds)


def clock_entry(offset: timedelta | None) -> dict[str, str]:
    """``{CLOCK_KEY: seconds}`` for a checkpoint, or nothing when unknown."""
    if offset is None:
        return {}
    return {CLOCK_KEY: f"{offset.total_seconds():.1f}"}


def ids_from(value: str | Iterable[str] | None) -> frozenset[str]:
    """Checkpointed ids (comma or space separated) as a set."""
    if not value:
        return frozenset()
    if isinstance(value, str):
        value = re.split(r"[,\s]+", value)
    return frozenset(str(v).strip() for v in value if str(v).strip())


@dataclass(frozen=True)
class Candidate:
    """One of the account's posts, as the network lists it."""

    remote_id: str
    text: str
    created_at: datetime | None = None
    url: str = ""
    #: The ids of its media as the network names them (X media keys reduced
    #: to ids, Facebook photo ids, LinkedIn image URNs, Mastodon media ids).
    media_ids: frozenset[str] = frozenset()
    has_media: bool = False


def matches(
    candidate: Candidate,
    *,
    text: str,
    floor: datetime | None,
    media_ids: frozenset[str] = frozenset(),
) -> bool:
    """Whether ``candidate`` is the post Kanal's lost attempt created.

    With checkpointed ``media_ids`` the candidate must carry exactly those
    (the text must match too, unless Kanal's text is empty); those ids were
    made by this attempt, so no time bound applies. Without them, the text
    must match after ``floor``, and an empty text never matches (an
    image-only post cannot be told from an older one by its text).
    """
    if media_ids:
        if candidate.media_ids != media_ids:
            return False
        return not comparable(text) or same_text(candidate.text, text)
    if (
        floor is not None
        and candidate.created_at is not None
        and candidate.created_at < floor
    ):
        return False
    if not comparable(text):
        return False
    return same_text(candidate.text, text)


def excluded(checkpoint) -> frozenset[str]:
    """Remote ids other publications already recorded (never adopt them)."""
    return ids_from((checkpoint or {}).get("exclude_remote_ids"))


def newest_match(
    candidates: Iterable[Candidate],
    *,
    text: str,
    floor: datetime | None,
    media_ids: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
) -> Candidate | None:
    """The newest candidate that ``matches`` and is not in ``exclude``."""
    best: Candidate | None = None
    for candidate in candidates:
        if candidate.remote_id in exclude:
            continue
        if not matches(candidate, text=text, floor=floor, media_ids=media_ids):
            continue
        if best is None or (
            candidate.created_at is not None
            and (best.created_at is None or candidate.created_at > best.created_at)
        ):
            best = candidate
    return best


# ---------------------------------------------------------------------------
# Replies (a post's first comment) whose answer was lost

REPLIES_UNREAD = gettext_noop(
    "Kanal kunne ikke læse alle svar på opslaget, så Kanal ved ikke, om "
    "kommentaren allerede er der. Kanal spørger igen, før den sendes."
)


def replies_unread(network: str, why: str) -> TransientError:
    """``find_reply`` could not read enough to say "not there"."""
    return TransientError(REPLIES_UNREAD, network=network, network_message=why)


class ReplySearch:
    """Looks for the account's own reply with ``text`` among a post's replies.

    An adapter feeds it the replies it reads (``offer``) and then asks
    ``result``. Only the account's own replies count (a citizen may write the
    same words); a reply with the same text whose author the network did not
    say makes the answer "cannot tell" rather than "not there". There is no
    time bound: a first comment is answered to one post, and the network
    stamps it on whatever clock it has.
    """

    def __init__(self, network: str, text: str) -> None:
        self.network = network
        self.text = text
        self.found: Candidate | None = None
        self.unsure = False

    def offer(self, candidate: Candidate, *, own: bool | None) -> bool:
        """Consider one reply; ``own`` None = the network did not say whose
        it is. Returns True once the reply is found (stop reading)."""
        if self.found is not None:
            return True
        if not comparable(self.text) or not same_text(candidate.text, self.text):
            return False
        if own is None:
            self.unsure = True
            return False
        if own:
            self.found = candidate
            return True
        return False

    def result(self, *, read_all: bool = True) -> Candidate | None:
        """The reply, None when it is certainly not there; raises when the
        network could not say (not every reply read, or authors unknown)."""
        if self.found is not None:
            return self.found
        if not read_all:
            raise replies_unread(self.network, "more replies than Kanal reads")
        if self.unsure:
            raise replies_unread(self.network, "reply without author")
        return None
