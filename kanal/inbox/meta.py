"""Reading Meta webhooks (Facebook Pages, Instagram, Threads): pure code.

``loads`` turns a raw body into JSON or raises ``Malformed`` (bad JSON, too
deep, not an object); ``events`` turns that JSON into ``Event`` values, one
per comment, reply, mention or message it announces, and the reasons for the
changes it skips. Neither touches the database; both accept anything a
client can send without raising anything but ``Malformed``.

Shapes: https://developers.facebook.com/docs/graph-api/webhooks/reference/page/
(``feed``, ``mention``, ``messaging``),
https://developers.facebook.com/docs/instagram-platform/webhooks (``comments``,
``mentions``, ``messaging``) and Threads' ``replies``/``mentions`` topics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from kanal.channels.networks.base import InboxItem
from kanal.untrusted import plausible_time, usable_id

MAX_DEPTH = 32
OBJECTS = {"facebook": {"page"}, "instagram": {"instagram"}, "threads": {"threads"}}


class Malformed(ValueError):
    """The body is not a webhook Kanal can read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Event:
    """One change on a page: ``action`` is add, edited, remove, hide, unhide
    or ``read_back`` (only ids are known: ``item`` holds them)."""

    page_id: str
    action: str
    item: InboxItem
    # When the network says the change happened (orders edits).
    at: datetime
    #: A ``read_back``'s ids as the webhook named them: (comment, media).
    mention_ids: tuple[str, str] = ("", "")


def loads(body: bytes) -> dict:
    """The JSON object in ``body``; ``Malformed`` when it is not one."""
    try:
        # A UTF-8 byte order mark in front (a relay's) is ignored, as RFC
        # 8259 lets a parser do; the signature was checked over it.
        data = json.loads(body.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise Malformed("invalid_json") from e
    if not isinstance(data, dict):
        raise Malformed("not_an_object")
    # JSON can be no deeper than it has openers (in strings or not): a body
    # with few is not walked (one event has about six).
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
        raise Malformed("too_deep")
    return data


def _depth(value) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def _text(value, limit: int = 20_000) -> str:
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


#: No comment is older than this year.


def _time(value, default: datetime) -> datetime:
    """Unix seconds or milliseconds, or an ISO 8601 string; else ``default``.

    Either way the time must be one a comment can have
    (``kanal.untrusted.plausible_time`` against ``default``: not before
    social media, not beyond ``default`` plus a clock's error; an edit
    stamped 2100 would stay the newest version for ever; one stamped 1970
    would sort before the comment it edits).
    """
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 10**11 else value
            parsed = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str) and value:
            if value.isdigit():
                return _time(int(value), default)
            parsed = datetime.fromisoformat(value.replace("+0000", "+00:00"))
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            # Year 1 in another zone is before what a datetime can hold in
            # UTC; a time no comment can have is no time at all.
            parsed = parsed.astimezone(UTC)
        else:
            return default
        if plausible_time(parsed, now=default) is not None:
            return parsed
    except (ValueError, OverflowError, OSError):
        pass
    return default


def events(network: str, data: dict, *, now: datetime) -> tuple[list[Event], list[str]]:
    """The events in one webhook body, and why any change was skipped."""
    skipped: list[str] = []
    found: list[Event] = []
    if network == "threads" and "values" in data:
        entries = [{"id": data.get("target_id"), "time": data.get("time"),
                    "changes": _list(data["values"]) or [data["values"]]}]
    else:
        obj = _text(data.get("object"))
        if obj not in OBJECTS.get(network, set()):
            return [], ["unknown_object"]
        entries = _list(data.get("entry"))
    for entry in entries:
        entry = _dict(entry)
        page_id = usable_id(entry.get("id"))
        if not page_id:
            # An entry whose page id is no id (a lone UTF-16 half, a NUL)
            # is skipped alone: the database cannot even look it up.
            skipped.append("bad_id" if _text(entry.get("id")) else "no_page_id")
            continue
        at = _time(entry.get("time"), now)
        for change in _list(entry.get("changes")):
            event = _change(network, page_id, _dict(change), at, skipped)
            if event is not None:
                found.append(event)
        for message in _list(entry.get("messaging")):
            event = _message(network, page_id, _dict(message), at, skipped)
            if event is not None:
                found.append(event)
    return found, skipped


def _change(network, page_id, change, at, skipped) -> Event | None:
    field = change.get("field")
    value = _dict(change.get("value"))
    if network == "facebook":
        return _facebook(page_id, field, value, at, skipped)
    if network == "instagram":
        return _instagram(page_id, field, value, at, skipped)
    return _threads(page_id, field, value, at, skipped)


#: ``feed`` items that are a post on the page (by a visitor, or the page's).
VISITOR_POSTS = frozenset({"status", "post", "photo", "video", "share", "link"})


def _facebook(page_id, field, value, at, skipped) -> Event | None:
    verb = _text(value.get("verb", "add"))
    actions = {"add": "add", "edited": "edited", "edit": "edited",
               "remove": "remove", "hide": "hide", "unhide": "unhide"}
    if verb not in actions:
        skipped.append("unknown_verb")
        return None
    sender = _dict(value.get("from"))
    author_id = _text(sender.get("id")) or _text(value.get("sender_id"))
    author_name = _text(sender.get("name")) or _text(value.get("sender_name"))
    created = _time(value.get("created_time"), at)
    post_id = _text(value.get("post_id"))
    if field == "feed" and value.get("item") == "comment":
        remote_id = _text(value.get("comment_id"))
        parent = _text(value.get("parent_id")) or post_id
        kind = "comment" if parent in ("", post_id) else "reply"
    elif field == "mention":
        remote_id = _text(value.get("comment_id")) or post_id
        parent, kind = "", "mention"
    elif field == "feed" and value.get("item") in VISITOR_POSTS and author_id:
        # A citizen's own post on the page (a visitor post): written to the
        # page like a mention, answered by a comment under it. The page's
        # own posts come the same way, from the page (skipped below).
        remote_id, parent, kind = post_id, "", "mention"
    else:
        skipped.append("not_a_comment")
        return None
    if not remote_id:
        skipped.append("no_item_id")
        return None
    if author_id == page_id and (kind == "mention" or actions[verb] != "add"):
        # The page's own reply (an add) goes on: stored it is not, but it
        # answers a question on the network (``intake.answered_on_network``).
        skipped.append("own_item")
        return None
    item = InboxItem(
        remote_id=remote_id, kind=kind, author_id=author_id,
        author_name=author_name, text=_text(value.get("message")),
        created_at=created, post_remote_id=post_id if kind != "mention" else "",
        parent_remote_id=parent,
    )
    when = at if actions[verb] != "add" else created
    return Event(page_id, actions[verb], item, when)


def _instagram(page_id, field, value, at, skipped) -> Event | None:
    if field == "mentions":
        return _instagram_mention(page_id, value, at, skipped)
    if field != "comments":
        skipped.append("not_a_comment")
        return None
    remote_id = _text(value.get("id"))
    if not remote_id:
        skipped.append("no_item_id")
        return None
    sender = _dict(value.get("from"))
    media = _text(_dict(value.get("media")).get("id"))
    parent = _text(value.get("parent_id"))
    item = InboxItem(
        remote_id=remote_id, kind="reply" if parent else "comment",
        author_id=_text(sender.get("id")),
        author_name=_text(sender.get("username")),
        text=_text(value.get("text")), created_at=at, post_remote_id=media,
        parent_remote_id=parent or media,
    )
    return Event(page_id, "add", item, at)


def _instagram_mention(page_id, value, at, skipped) -> Event | None:
    """The account named in someone's comment (``comment_id`` and
    ``media_id``) or caption (``media_id`` only): the webhook carries no
    text, so the event is a ``read_back`` of those ids (``inbox.mentions``).
    An id that is no id (``kanal.untrusted.usable_id``) is refused: it goes
    into the read-back's request."""
    raw = {name: _text(value.get(name)) for name in ("comment_id", "media_id")}
    ids = {name: usable_id(given) for name, given in raw.items()}
    if any(given and not ids[name] for name, given in raw.items()):
        skipped.append("bad_id")
        return None
    if not ids["comment_id"] and not ids["media_id"]:
        skipped.append("no_item_id")
        return None
    item = InboxItem(
        remote_id=ids["comment_id"] or ids["media_id"], kind="mention",
        author_id="", author_name="", text="", created_at=at,
        post_remote_id=ids["media_id"] if ids["comment_id"] else "",
        parent_remote_id=ids["media_id"] if ids["comment_id"] else "",
    )
    return Event(page_id, READ_BACK, item, at,
                 mention_ids=(ids["comment_id"], ids["media_id"]))


#: An event whose item must be read from the network first (its ids only).
READ_BACK = "read_back"


def _threads(page_id, field, value, at, skipped) -> Event | None:
    if field not in ("replies", "mentions"):
        skipped.append("not_a_comment")
        return None
    remote_id = _text(value.get("id"))
    if not remote_id:
        skipped.append("no_item_id")
        return None
    created = _time(value.get("timestamp"), at)
    if field == "mentions":
        kind, post, parent = "mention", "", ""
    else:
        post = _text(_dict(value.get("root_post")).get("id"))
        parent = _text(_dict(value.get("replied_to")).get("id")) or post
        kind = "comment" if parent == post else "reply"
    username = _text(value.get("username"))
    item = InboxItem(
        remote_id=remote_id, kind=kind, author_id=username, author_name=username,
        text=_text(value.get("text")), created_at=created, post_remote_id=post,
        parent_remote_id=parent, url=_text(value.get("permalink")),
    )
    return Event(page_id, "add", item, created)


def _message(network, page_id, message, at, skipped) -> Event | None:
    """A citizen's message (``message``), its edit (``message_edit``: the
    new ``text``) or its withdrawal (Instagram's ``message.is_deleted``).
    The account's own message (``is_echo``, or sent by the page: written in
    Meta's own app, or Kanal's answer echoed) is an add by the account whose
    ``parent_remote_id`` is the citizen it went to (``recipient``), for
    ``intake.answered_on_network``; its edits and withdrawals, receipts,
    reactions and the like are skipped."""
    edit = _dict(message.get("message_edit"))
    body = edit or _dict(message.get("message"))
    sender = _text(_dict(message.get("sender")).get("id"))
    mid = _text(body.get("mid"))
    if not mid or not sender:
        skipped.append("not_a_message")
        return None
    created = _time(message.get("timestamp"), at)
    if sender == page_id or body.get("is_echo"):
        recipient = usable_id(_text(_dict(message.get("recipient")).get("id")))
        if edit or body.get("is_deleted") is True or not recipient or (
                recipient == page_id):
            skipped.append("own_item")
            return None
        # The echo's sender is the account (``own_item`` in ``intake``).
        item = InboxItem(
            remote_id=mid, kind="message", author_id=page_id, author_name="",
            text=_text(body.get("text")), created_at=created,
            parent_remote_id=recipient,
        )
        return Event(page_id, "add", item, created)
    item = InboxItem(
        remote_id=mid, kind="message", author_id=sender, author_name="",
        text=_text(body.get("text")), created_at=created,
    )
    if body.get("is_deleted") is True:
        return Event(page_id, "remove", item, created)
    return Event(page_id, "edited" if edit else "add", item, created)
