"""A world for insights' tests: channels, published posts and a scripted
adapter that answers ``fetch_metrics`` as told."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from kanal.channels.networks.base import (
    Capabilities,
    Metric,
    MetricsSnapshot,
    NetworkAdapter,
)
from kanal.planning.models import Post, PostStatus
from kanal.publishing.models import Publication, PublicationStatus

_ids = itertools.count(1)


class ScriptedMetrics:
    """What the fake network answers next: account metrics, per remote id
    post metrics, or an exception to raise."""

    def __init__(self) -> None:
        self.account: list[Metric] = []
        self.posts: dict[str, list[Metric]] = {}
        self.error: Exception | None = None
        self.calls: list[tuple[str, ...]] = []


SCRIPT = ScriptedMetrics()


class MetricsAdapter(NetworkAdapter):
    network = "facebook"
    display_name = "Fake"
    api_version = "v25.0"

    def __init__(self, connection, **_options) -> None:
        self.connection = connection

    def capabilities(self) -> Capabilities:
        return Capabilities(max_text_length=100, text_counting="tegn", max_images=1,
                            supports=frozenset({"fetch_metrics"}))

    def fetch_metrics(self, post_ids=()):
        SCRIPT.calls.append(tuple(post_ids))
        if SCRIPT.error is not None:
            raise SCRIPT.error
        return MetricsSnapshot(
            account=tuple(SCRIPT.account),
            posts={pid: tuple(SCRIPT.posts[pid]) for pid in post_ids
                   if pid in SCRIPT.posts},
            taken_at=datetime.now(UTC),
        )


def metric(name, value, kind, version="v25.0") -> Metric:
    return Metric(name=name, value=value, kind=kind, api_version=version)


def published_post(channel, *, published_at, category="", purposes=(),
                   administration=None, campaign=None, remote_id=None):
    """A planning post published on ``channel`` at ``published_at``."""
    post = Post.objects.create(
        organisation_id=channel.organisation_id,
        owner_administration=administration or channel.owner_administration,
        title="Opslag", category=category, purposes=list(purposes),
        campaign=campaign, status=PostStatus.PUBLISHED,
    )
    return Publication.objects.create(
        organisation_id=channel.organisation_id, channel=channel,
        planned_at=published_at, due_at=published_at, late_after=published_at,
        post_id=post.pk, text="Opslag", status=PublicationStatus.PUBLISHED,
        published_at=published_at, remote_id=remote_id or f"p{next(_ids)}",
        url="https://example.org/p",
    )


class TagNetwork:
    """Public posts per (network, tag) the fake searches find, and the
    searches made."""

    def __init__(self) -> None:
        self.posts: dict[tuple[str, str], list] = {}
        self.searches: list[tuple[str, str]] = []


TAGS = TagNetwork()


class HashtagAdapter(NetworkAdapter):
    display_name = "Fake"
    api_version = "1"

    def __init__(self, connection, **_options) -> None:
        self.connection = connection
        self.network = connection.network

    def capabilities(self) -> Capabilities:
        return Capabilities(max_text_length=100, text_counting="tegn", max_images=1,
                            supports=frozenset({"search_hashtag"}))

    def search_hashtag(self, tag, *, cursor=""):
        from kanal.channels.networks.base import HashtagPage

        TAGS.searches.append((self.network, tag))
        return HashtagPage(tag=tag, posts=tuple(TAGS.posts.get((self.network, tag),
                                                               ())))
