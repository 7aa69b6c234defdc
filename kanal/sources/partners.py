"""Partners' posts as a source: another account's public posts (a library's,
the police's), read through the adapter factory and the channel's own
connection, filtered by the source's keywords, as items Kanal suggests
sharing.

Everything the network returns is untrusted: ids and text are cleaned, HTML
is reduced to text, and only http(s) addresses are kept.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from kanal.channels.adapters import adapter_for
from kanal.untrusted import happened_by, usable_id

from . import reasons
from .parsers import ParsedItem, clean, safe_url
from .text import one_line, plain_text

logger = logging.getLogger("kanal.sources")

#: The operation a network must offer for a channel to read partners' posts.
OPERATION = "account_posts"


class PartnerError(Exception):
    """The partner's posts cannot be read; ``args[0]`` is a ``Reason``."""


def reads_partners(channel) -> bool:
    """Whether ``channel``'s network can read another account's posts."""
    try:
        adapter = adapter_for(channel, credentials=False)
        return OPERATION in adapter.capabilities().supports
    except (ImportError, AttributeError, KeyError, NotImplementedError):
        return False


def as_item(network: str, post) -> ParsedItem | None:
    """One partner post as an item, or None when it has no usable id
    (``kanal.untrusted.usable_id``: none, longer than Kanal keeps, or with a
    character no id has: never cut or mended into another post's id)."""
    remote_id = usable_id(post.remote_id)
    if not remote_id:
        return None
    text = plain_text(str(post.text or ""), max_length=4000)
    author = one_line(str(post.author_name or ""), max_length=200)
    images = [url for url in (safe_url(u) for u in post.media_urls) if url]
    created = happened_by(post.created_at, now=datetime.now(UTC))
    return ParsedItem(
        guid=f"{network}:{remote_id}"[:500],
        title=one_line(text, max_length=300) or author or remote_id,
        summary=text,
        link=safe_url(post.url),
        image_url=images[0] if images else "",
        published_at=created,
        remote_id=remote_id,
        author_name=author,
    )


def matches(item: ParsedItem, keywords) -> bool:
    """Whether the post holds one of ``keywords`` (every post without any)."""
    words = [str(k).casefold() for k in keywords if str(k).strip()]
    if not words:
        return True
    text = item.summary.casefold()
    return any(word in text for word in words)


def read_posts(source) -> tuple[list[ParsedItem], str]:
    """The partner's posts since the source's cursor that match its keywords,
    and the cursor to keep. Raises ``PartnerError`` with a Danish reason."""
    from kanal.channels.networks.errors import NetworkError

    channel = source.partner_channel
    if channel is None or not source.partner_account:
        raise PartnerError(
            reasons._(
                "Kilden mangler kanalen, den læses gennem, eller partnerens konto. "
                "Ret kilden."
            )
        )
    if not reads_partners(channel):
        raise PartnerError(
            reasons._(
                "%(network)s kan ikke læse andre kontoers opslag. Vælg en kanal på "
                "et netværk, der kan."
            )
            % {"network": channel.get_network_display()}
        )
    try:
        page = adapter_for(channel).fetch_account_posts(
            source.partner_account, since=source.cursor
        )
    except NetworkError as e:
        logger.warning(
            "partner posts failed source=%s network=%s detail=%s",
            source.pk,
            channel.network,
            e.support_detail,
        )
        # The adapter's Danish sentence is a catalogue entry (gettext_noop).
        raise PartnerError(reasons.Reason(e.message)) from e
    items = []
    for post in page.posts:
        item = as_item(channel.network, post)
        if item is not None and matches(item, source.keywords):
            items.append(item)
    return items, clean(page.cursor)[:200]
