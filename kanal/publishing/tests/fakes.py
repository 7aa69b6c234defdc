"""A scripted adapter for the engine's tests (no network)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

from kanal.channels.networks.base import (
    Capabilities,
    NetworkAdapter,
    PublishResult,
    TokenSet,
)
from kanal.channels.networks.errors import NotSupported, OutcomeUnknown, TransientError


class FakeNetwork:
    """Shared state: what was 'really' published, and scripted failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: dict[str, PublishResult] = {}  # idempotency key -> result
        self.log: list[tuple[str, str]] = []  # (key, text), one per created post
        self.script: list = []  # errors (or callables) for the next publish calls
        self.find_script: list = []
        self.replies: list[tuple[str, str]] = []
        self.reply_script: list = []
        self.reply_lookup = False  # the network can list the post's comments
        self.pins: list[str] = []
        self.pin_script: list = []
        self.refresh_script: list = []
        self.find_supported = True
        # Look posts up by their text (as most networks must), not the key.
        self.find_by_text = False
        self.ids = itertools.count(1)
        self.calls = 0
        self.find_calls = 0

    def reset(self) -> None:
        self.__init__()


NETWORK = FakeNetwork()


class FakeAdapter(NetworkAdapter):
    network = "fake"
    display_name = "Fake"
    api_version = "1"

    def __init__(self, connection, *, client=None, before_write=None) -> None:
        self.connection = connection
        self.client = None
        self._before_write = before_write

    @property
    def idempotent_publish(self) -> bool:
        return self.connection.network in ("mastodon", "bluesky")

    @property
    def idempotent_replies(self) -> bool:
        # As the real adapters: Mastodon's key, Bluesky's record key.
        return self.connection.network in ("mastodon", "bluesky")

    def capabilities(self) -> Capabilities:
        return Capabilities(max_text_length=40, text_counting="tegn", max_images=4,
                            requires_media=self.connection.network == "instagram",
                            supports=frozenset({"publish", "reply", "pin"}))

    def count_text(self, text: str) -> int:
        return len(text)

    def validate(self, post):
        return []

    def _create(self, key, text) -> PublishResult:
        n = next(NETWORK.ids)
        result = PublishResult(
            remote_id=f"r{n}", url=f"https://fake.example/p/{n}",
            published_at=datetime.now(UTC),
        )
        NETWORK.posts[key] = result
        NETWORK.log.append((key, text))
        return result

    def publish(self, post, *, idempotency_key, checkpoint=None, on_checkpoint=None):
        with NETWORK.lock:
            NETWORK.calls += 1
            step = NETWORK.script.pop(0) if NETWORK.script else None
        if callable(step) and not isinstance(step, BaseException):
            # Something happens while the job runs (a crisis, a lost lease).
            step()
            step = None
        if on_checkpoint is not None:
            on_checkpoint({"prepared": "1"})
        if isinstance(step, BaseException) and not isinstance(step, OutcomeUnknown):
            raise step  # refused before anything was written
        self.fence("create")
        if isinstance(step, tuple) and step[0] == "after_fence":
            raise step[1]  # sent; this came back (nothing created)
        if step == "create_then_timeout":
            with NETWORK.lock:
                self._create(idempotency_key, post.text)
            raise OutcomeUnknown(network="fake")
        if step == "create_then_read_timeout":
            # Made; then a read after the write (a permalink) timed out.
            with NETWORK.lock:
                self._create(idempotency_key, post.text)
            raise TransientError("Netværket svarede ikke i tide.", network="fake")
        if isinstance(step, BaseException):
            raise step
        with NETWORK.lock:
            if self.idempotent_publish and idempotency_key in NETWORK.posts:
                return NETWORK.posts[idempotency_key]  # the key dedupes
            return self._create(idempotency_key, post.text)

    def find_published(self, *, idempotency_key, text, since, checkpoint=None):
        NETWORK.find_calls += 1
        if not NETWORK.find_supported:
            raise NotSupported(network="fake")
        step = NETWORK.find_script.pop(0) if NETWORK.find_script else None
        if isinstance(step, BaseException):
            raise step
        if step == "miss":  # the network's listing does not show it (yet)
            return None
        if NETWORK.find_by_text:
            # Like a listing: the newest post with this text, whoever made it.
            for key, posted_text in reversed(NETWORK.log):
                if posted_text == text:
                    return NETWORK.posts[key]
            return None
        return NETWORK.posts.get(idempotency_key)

    def reply(self, to_remote_id, text, *, idempotency_key=""):
        step = NETWORK.reply_script.pop(0) if NETWORK.reply_script else None
        if isinstance(step, BaseException) and not isinstance(step, OutcomeUnknown):
            raise step
        self.fence("reply")
        if isinstance(step, tuple) and step[0] == "after_fence":
            raise step[1]  # sent; this came back (nothing made)
        NETWORK.replies.append((to_remote_id, text))
        if isinstance(step, BaseException):
            raise step
        return PublishResult(remote_id=f"c{len(NETWORK.replies)}", url="")

    @property
    def find_reply(self):
        """The adapter's own reply, looked up by text (only where the network
        lists a post's comments: ``reply_lookup``)."""
        if not NETWORK.reply_lookup:
            return None

        def find(to_remote_id, *, text, idempotency_key=""):
            for n, (parent, said) in enumerate(NETWORK.replies, start=1):
                if parent == to_remote_id and said == text:
                    return PublishResult(remote_id=f"c{n}", url="")
            return None

        return find

    def pin(self, remote_id, *, pinned=True):
        step = NETWORK.pin_script.pop(0) if NETWORK.pin_script else None
        if isinstance(step, BaseException):
            raise step
        self.fence("pin")
        NETWORK.pins.append(remote_id)

    def refresh_token(self) -> TokenSet:
        step = NETWORK.refresh_script.pop(0) if NETWORK.refresh_script else None
        if isinstance(step, BaseException):
            raise step
        return TokenSet(access_token="fresh-token", refresh_token="fresh-refresh",
                        expires_at=datetime(2030, 1, 1, tzinfo=UTC))
