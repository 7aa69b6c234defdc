"""The contract every network adapter must keep, run against its emulator.

Subclass ``NetworkContractTests`` in ``test_contract_<slug>.py``::

    class TestFacebookContract(NetworkContractTests):
        network = "facebook"
        base_path = "/v25.0"

and override a hook where the network differs (``make_connection``,
``make_comment``, ``make_hashtag_post``, ``stored_item_id``,
``connection_with_tokens``, ``sample_image``, ``provision_options``). A test
marked ``@needs(operation)`` exists only for a network whose
``capabilities().supports`` lists the operation; each operation that is not
listed gets a test that it raises ``NotSupported``. Each rule the network's
``Capabilities`` state (``networks.rules``) gets a test that a post breaking
only that rule is refused with that code. Each error class is forced through
the sandbox's fault injection.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx
import pytest

from kanal.channels.networks import adapter_class, reconcile
from kanal.channels.networks import text as network_text
from kanal.channels.networks.base import (
    OPERATIONS,
    Capabilities,
    Connection,
    MediaItem,
    NetworkAdapter,
    OutgoingMessage,
    OutgoingPost,
    PublishResult,
    TokenSet,
)
from kanal.channels.networks.errors import (
    AuthExpired,
    Duplicate,
    Fenced,
    NotSupported,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)

from .blank_numbers import MODES, blank_numbers

pytestmark = pytest.mark.sandbox

DANISH_WORDS = ("ikke", "netværk", "opslag", " og ", " er ", "prøv", "kan ",
                "konto", "vent", "igen", "for ", "til ", "med ", "højst", " på ")

UNSUPPORTED_CALLS = {
    "delete": lambda a: a.delete("1"),
    "reply": lambda a: a.reply("1", "Tak for din kommentar."),
    "hide": lambda a: a.hide("1"),
    "repost": lambda a: a.repost("1"),
    "pin": lambda a: a.pin("1"),
    "like": lambda a: a.like("1"),
    "fetch_inbox": lambda a: a.fetch_inbox(),
    "fetch_metrics": lambda a: a.fetch_metrics(()),
    "search_hashtag": lambda a: a.search_hashtag("voreskbh"),
    "account_posts": lambda a: a.fetch_account_posts("bibliotek"),
    "refresh_token": lambda a: a.refresh_token(),
    "verify": lambda a: a.verify(),
    "send_message": lambda a: a.send_message(
        OutgoingMessage(text="Tak for din besked.", recipient_id="1")),
    "read_post": lambda a: a.read_post("1"),
}

#: Ids no network gives: each would reach outside its place in a request's
#: path or query (``{page}/feed?x=`` as a comment's id made a reply to it a
#: new post on the page).
HOSTILE_ITEM_IDS = ("104738291045678/feed?x=", "104738291045678_1#x",
                    "../104738291045678", "Hvornår åbner", "{'id': '1'}",
                    "1/comments", "")
#: Every operation that takes an item's id (``find_reply`` with ``reply``).
ITEM_ID_CALLS = {
    "reply": lambda a, i: a.reply(i, "Tak for din kommentar."),
    "find_reply": lambda a, i: a.find_reply(i, text="Tak for din kommentar."),
    "hide": lambda a, i: a.hide(i),
    "delete": lambda a, i: a.delete(i),
    "repost": lambda a, i: a.repost(i),
    "pin": lambda a, i: a.pin(i),
    "like": lambda a, i: a.like(i),
    "read_post": lambda a, i: a.read_post(i),
}


def needs(*operations: str, quota: bool = False):
    """Mark a contract test as one for networks offering ``operations`` (and
    a publishing quota); ``NetworkContractTests`` leaves it out elsewhere."""

    def mark(test):
        test.needs = (frozenset(operations), quota)
        return test

    return mark


def offline_capabilities(network: str) -> Capabilities:
    """A network's documented capabilities, without asking the network."""
    connection = Connection(network=network, base_url="http://127.0.0.1:9")
    return adapter_class(network)(connection).capabilities()


def _image(caps: Capabilities, **fields) -> MediaItem:
    values = {
        "kind": "image",
        "mime_type": "image/jpeg" if "image/jpeg" in caps.image_formats
        else sorted(caps.image_formats)[0],
        "alt_text": "Havnebadet set fra broen",
        "public_url": "https://www.kk.dk/billede.jpg",
        "width": 1080,
        "height": 1080,
        "size_bytes": 1000,
    }
    return MediaItem(**{**values, **fields})


def _video(caps: Capabilities, **fields) -> MediaItem:
    values = {
        "kind": "video",
        "mime_type": sorted(caps.video_formats)[0],
        "alt_text": "Livredderen fortæller",
        "public_url": "https://www.kk.dk/film.mp4",
        "size_bytes": 1000,
        "duration_seconds": 30.0,
    }
    return MediaItem(**{**values, **fields})


def rule_cases(caps: Capabilities) -> dict[str, OutgoingPost]:
    """For each rule ``caps`` states, a post that breaks that rule only."""
    base = (_image(caps),) if caps.requires_media else ()

    def post(text: str = "Havnebadet åbner", media=None, **fields) -> OutgoingPost:
        return OutgoingPost(text=text, media=base if media is None else media,
                            **fields)

    cases = {"text_too_long": post("a" * (caps.max_text_length + 1))}
    if caps.max_text_bytes is not None:
        family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
        copies = caps.max_text_bytes // network_text.utf8_length(family) + 1
        cases["text_too_many_bytes"] = post(family * copies)
    if caps.requires_media:
        cases["media_required"] = post(media=())
    else:
        cases["text_empty"] = post("  ")
    if caps.max_hashtags is not None:
        cases["too_many_hashtags"] = post(
            " ".join(f"#havn{n}" for n in range(caps.max_hashtags + 1)))
    if caps.max_mentions is not None:
        cases["too_many_mentions"] = post(
            " ".join(f"@konto{n}" for n in range(caps.max_mentions + 1)))
    if caps.max_links is not None:
        cases["too_many_links"] = post(" ".join(
            f"https://www.kk.dk/{n}" for n in range(caps.max_links + 1)))
    images = caps.max_images + 1
    if caps.max_media is None or caps.max_images < caps.max_media:
        cases["too_many_images"] = post(media=(_image(caps),) * images)
    if caps.max_media is not None:
        cases["too_many_media"] = post(media=(_image(caps),) * (caps.max_media + 1))
    if not caps.max_videos:
        cases["video_not_supported"] = post(media=(*base, MediaItem(
            "video", "video/mp4", alt_text="Film", size_bytes=1000)))
    else:
        if caps.max_media is None or caps.max_videos < caps.max_media:
            cases["too_many_videos"] = post(
                media=(_video(caps),) * (caps.max_videos + 1))
        if caps.video_alone:
            cases["video_with_other_media"] = post(
                media=(_image(caps), _video(caps)))
        if caps.max_video_bytes is not None:
            cases["video_too_large"] = post(
                media=(_video(caps, size_bytes=caps.max_video_bytes + 1),))
        if caps.max_video_seconds is not None:
            cases["video_duration"] = post(media=(_video(
                caps, duration_seconds=caps.max_video_seconds + 10),))
    cases["media_format"] = post(media=(_image(caps, mime_type="image/tiff"),))
    if caps.media_by_url:
        cases["media_url_missing"] = post(media=(_image(caps, public_url=""),))
    if caps.max_image_bytes is not None:
        cases["image_too_large"] = post(
            media=(_image(caps, size_bytes=caps.max_image_bytes + 1),))
    if caps.max_image_pixels is not None:
        side = int(caps.max_image_pixels**0.5) + 1
        cases["image_too_many_pixels"] = post(
            media=(_image(caps, width=side, height=side),))
    if caps.min_aspect_ratio is not None:
        cases["aspect_ratio"] = post(
            media=(_image(caps, width=1000, height=2000),))
    if "image" in caps.alt_text_required_for:
        cases["alt_text_missing"] = post(media=(_image(caps, alt_text=" "),))
    if caps.alt_text_max_length is not None:
        cases["alt_text_too_long"] = post(media=(
            _image(caps, alt_text="a" * (caps.alt_text_max_length + 1)),))
    return cases


def assert_danish(message: str) -> None:
    lowered = f" {message.lower()} "
    assert message.strip(), "the error has no message for the editor"
    assert any(word in lowered for word in DANISH_WORDS), (
        f"the message does not look Danish: {message!r}"
    )


def as_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def unique(label: str) -> str:
    return f"{label} ({uuid.uuid4().hex[:8]})"


class NetworkContractTests:
    """Shared behaviour tests; subclasses set ``network`` (and hooks)."""

    network: ClassVar[str] = ""
    # Appended to ``<sandbox>/<slug>`` to make ``Connection.base_url``.
    base_path: ClassVar[str] = ""
    # True for networks with a rolling publishing quota (Instagram, Threads).
    has_quota: ClassVar[bool] = False
    # The client timeout for the OutcomeUnknown tests, and the sandbox's
    # delay of the faulted answer. The timeout holds for every call of the
    # publish (Instagram and Threads make several, and their emulators fetch
    # the image first), so it leaves room for a loaded machine: under load a
    # 0.5 s timeout fired before the post was made and nothing was found.
    short_timeout: ClassVar[float] = 2.0
    timeout_delay_ms: ClassVar[int] = 6000
    link: ClassVar[str] = "https://www.kk.dk/nyheder/badezoner-aabner"
    # The operation of the first write a publish makes (Instagram and Threads:
    # the container, "media").
    first_write_operation: ClassVar[str] = "publish"

    def __init_subclass__(cls, **kwargs) -> None:
        """Leave out the tests of what this network does not offer."""
        super().__init_subclass__(**kwargs)
        if not cls.network:
            return
        caps = offline_capabilities(cls.network)
        for name in dir(cls):
            test = getattr(cls, name)
            operations, quota = getattr(test, "needs", (frozenset(), False))
            if not operations <= caps.supports or (quota and not cls.has_quota):
                setattr(cls, name, None)
        if not set(UNSUPPORTED_CALLS) - caps.supports:
            cls.test_unsupported_operation_raises_not_supported = None

    def pytest_generate_tests(self, metafunc) -> None:
        caps = offline_capabilities(self.network)
        if "operation" in metafunc.fixturenames:
            metafunc.parametrize(
                "operation", sorted(set(UNSUPPORTED_CALLS) - caps.supports))
        if "rule" in metafunc.fixturenames:
            metafunc.parametrize("rule", sorted(rule_cases(caps)))

    # -- hooks ----------------------------------------------------------------

    def provision_options(self) -> dict:
        return {"followers": 1234}

    def make_connection(self, sandbox, account) -> Connection:
        return Connection(
            network=self.network,
            base_url=sandbox.base_url(self.network, self.base_path),
            account_id=account.account_id,
            handle=account.handle,
            credentials={k: str(v) for k, v in account.tokens.items() if v},
        )

    def connection_with_tokens(
        self, connection: Connection, tokens: TokenSet
    ) -> Connection:
        credentials = dict(connection.credentials)
        credentials["access_token"] = tokens.access_token
        if tokens.refresh_token:
            credentials["refresh_token"] = tokens.refresh_token
        credentials.update(tokens.extra)
        return replace(connection, credentials=credentials,
                       token_expires_at=tokens.expires_at)

    def make_adapter(
        self, connection: Connection, *, timeout: float | None = None, **hooks
    ):
        adapter = adapter_class(self.network)(connection, **hooks)
        if timeout is not None:
            adapter.client._client.timeout = httpx.Timeout(timeout)
        return adapter

    def sample_image(self, sandbox, *, alt_text: str = "", name: str = "square.jpg"):
        url = f"{sandbox.url}/_sandbox/media/{name}"
        data = httpx.get(url).content
        return MediaItem(
            kind="image", mime_type="image/jpeg", alt_text=alt_text, data=data,
            public_url=url, filename=name, width=1080, height=1080,
        )

    def make_comment(self, sandbox, account, post_remote_id: str, text: str) -> str:
        """A citizen's comment on our post; returns its remote id."""
        made = sandbox.citizen(self.network, text,
                               parent_id=self.stored_item_id(post_remote_id))
        return made["item_id"]

    def make_hashtag_post(self, sandbox, account, text: str) -> None:
        sandbox.citizen(self.network, text, kind="post",
                        account=f"citizen-{uuid.uuid4().hex[:8]}",
                        author_name="Mette Borger")

    #: A partner account the emulator seeds (handle, id, display name).
    partner_account: ClassVar[str] = ""
    partner_id: ClassVar[str] = ""
    partner_name: ClassVar[str] = ""

    def make_partner_post(self, sandbox, text: str) -> None:
        """A new public post by the partner account."""
        sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": self.network, "text": text, "kind": "post",
            "account": self.partner_id, "author_id": self.partner_id,
            "author_name": self.partner_name,
        })

    def stored_item_id(self, remote_id: str) -> str:
        """The sandbox's item id for an adapter's remote id (usually the same)."""
        return remote_id

    #: An id in the network's shape that no item has.
    unknown_item_id: ClassVar[str] = "999999999"

    def likes_on(self, sandbox, account, remote_id: str) -> int:
        """How many likes by ``account`` the network holds on the item (the
        emulators keep one per account in ``data["liked_by"]``)."""
        stored = sandbox.item(self.network, self.stored_item_id(remote_id))
        return (stored["data"].get("liked_by") or []).count(account.account_id)

    # -- fixtures and helpers -----------------------------------------------------

    @pytest.fixture
    def account(self, sandbox):
        return sandbox.provision(self.network, **self.provision_options())

    @pytest.fixture
    def connection(self, sandbox, account) -> Connection:
        return self.make_connection(sandbox, account)

    @pytest.fixture
    def adapter(self, connection) -> NetworkAdapter:
        return self.make_adapter(connection)

    def outgoing(self, sandbox, adapter, text: str, **fields) -> OutgoingPost:
        if adapter.capabilities().requires_media and "media" not in fields:
            fields["media"] = (self.sample_image(sandbox, alt_text="Havnebadet"),)
        return OutgoingPost(text=text, **fields)

    def publish(self, sandbox, adapter, text: str = "", **fields) -> PublishResult:
        text = text or unique("Havnebadet på Islands Brygge åbner i dag")
        return adapter.publish(self.outgoing(sandbox, adapter, text, **fields),
                               idempotency_key=uuid.uuid4().hex)

    def fail_next(self, sandbox, account, kind: str, operation: str = "publish",
                  **opts) -> None:
        sandbox.fault(self.network, kind, operation=operation,
                      account=account.account_id, **opts)

    # -- ids from outside ----------------------------------------------------------

    def test_an_item_id_no_network_gives_is_refused_before_any_request(
        self, adapter, monkeypatch
    ):
        sent = []
        real = adapter.client.request

        def record(method, url, **kwargs):
            sent.append(f"{method} {url} {kwargs}")
            return real(method, url, **kwargs)

        monkeypatch.setattr(adapter.client, "request", record)
        supports = adapter.capabilities().supports | {"find_reply"}
        if "reply" not in supports:
            supports -= {"find_reply"}
        tried = 0
        for operation, call in ITEM_ID_CALLS.items():
            if operation not in supports:
                continue
            for hostile in HOSTILE_ITEM_IDS:
                with pytest.raises(Rejected) as caught:
                    call(adapter, hostile)
                assert_danish(caught.value.message)
                tried += 1
        assert tried >= 3 * len(HOSTILE_ITEM_IDS)
        assert not [s for s in sent if any(
            h and h in s for h in HOSTILE_ITEM_IDS)]

    # -- capabilities and validation -------------------------------------------

    def test_adapter_is_registered_under_its_network(self, adapter):
        assert adapter.network == self.network
        assert adapter.api_version

    def test_capabilities_list_only_known_operations(self, adapter):
        capabilities = adapter.capabilities()
        assert capabilities.supports <= OPERATIONS
        assert "publish" in capabilities.supports
        assert capabilities.max_text_length > 0
        assert capabilities.text_counting

    def test_unsupported_operation_raises_not_supported(self, adapter, operation):
        with pytest.raises(NotSupported):
            UNSUPPORTED_CALLS[operation](adapter)

    def test_validate_refuses_too_long_text_in_danish(self, sandbox, adapter):
        limit = adapter.capabilities().max_text_length
        post = self.outgoing(sandbox, adapter, "a" * (limit + 1))
        problems = adapter.validate(post)
        too_long = [p for p in problems if p.code == "text_too_long"]
        assert len(too_long) == 1
        assert too_long[0].limit == limit
        assert_danish(too_long[0].message)

    def test_validate_refuses_a_post_breaking_each_stated_rule(self, adapter, rule):
        caps = adapter.capabilities()
        cases = rule_cases(caps)
        problems = adapter.validate(cases[rule])
        assert [p.code for p in problems] == [rule]
        assert_danish(problems[0].message)

    def test_a_post_breaking_no_rule_passes(self, adapter):
        caps = adapter.capabilities()
        media = (_image(caps),)
        if caps.max_videos and not caps.video_alone:
            media += (_video(caps),)
        assert adapter.validate(OutgoingPost("Havnebadet åbner", media=media)) == []

    def test_validate_accepts_text_at_the_limit(self, sandbox, adapter):
        limit = adapter.capabilities().max_text_length
        post = self.outgoing(sandbox, adapter, "a" * limit)
        assert adapter.count_text("a" * limit) == limit
        assert [p.code for p in adapter.validate(post) if p.field == "text"] == []

    # -- connection ------------------------------------------------------------------

    @needs("verify")
    def test_verify_returns_the_connected_account(self, adapter, account):
        info = adapter.verify()
        assert info.remote_id == account.account_id
        assert info.handle == account.handle
        assert info.followers == account.followers

    @needs("verify")
    def test_verify_with_expired_token_raises_auth_expired(
        self, sandbox, adapter, account
    ):
        self.fail_next(sandbox, account, "expired_token", operation="verify")
        with pytest.raises(AuthExpired) as caught:
            adapter.verify()
        assert_danish(caught.value.message)

    @needs("refresh_token")
    def test_refresh_token_returns_a_working_token(self, adapter, connection):
        tokens = adapter.refresh_token()
        assert tokens.access_token
        if tokens.expires_at is not None:
            assert tokens.expires_at.tzinfo is not None
        if "verify" in adapter.capabilities().supports:
            fresh = self.make_adapter(self.connection_with_tokens(connection, tokens))
            assert fresh.verify().remote_id == connection.account_id

    @needs("refresh_token")
    def test_refresh_token_refused_raises_auth_expired(
        self, sandbox, adapter, account
    ):
        self.fail_next(sandbox, account, "expired_token", operation="token")
        with pytest.raises(AuthExpired):
            adapter.refresh_token()

    # -- publishing ------------------------------------------------------------------

    def test_publish_text_creates_exactly_one_post(self, sandbox, adapter, account):
        text = unique("Sommerens første badedag i Københavns havn")
        result = self.publish(sandbox, adapter, text)
        assert result.remote_id
        assert result.url.startswith("http")
        stored = sandbox.item(self.network, self.stored_item_id(result.remote_id))
        assert stored is not None
        assert text in stored["text"]
        log = sandbox.published(self.network, account.account_id)
        assert [r["item_id"] for r in log] == [self.stored_item_id(result.remote_id)]

    @needs("link_posts")
    def test_publish_link_keeps_the_link(self, sandbox, adapter):
        result = self.publish(sandbox, adapter, unique("Læs mere om badezonerne"),
                              link=self.link)
        stored = sandbox.item(self.network, self.stored_item_id(result.remote_id))
        assert self.link in as_text(stored)

    def test_publish_image_keeps_alt_text(self, sandbox, adapter, account):
        if adapter.capabilities().max_images < 1:
            pytest.skip(f"{self.network} takes no images")
        alt = unique("Børn hopper i vandet ved Islands Brygge")
        image = self.sample_image(sandbox, alt_text=alt)
        result = self.publish(sandbox, adapter, media=(image,))
        assert result.remote_id
        everything = as_text(sandbox.items(self.network, account.account_id,
                                           include_deleted=True))
        assert alt in everything

    def test_publish_several_images_in_one_post(self, sandbox, adapter, account):
        if adapter.capabilities().max_images < 2:
            pytest.skip(f"{self.network} takes at most one image")
        alts = [unique("Havnebadet set fra broen"), unique("Livredder på tårnet")]
        media = tuple(self.sample_image(sandbox, alt_text=a) for a in alts)
        result = self.publish(sandbox, adapter, media=media)
        log = sandbox.published(self.network, account.account_id)
        assert [r["item_id"] for r in log] == [self.stored_item_id(result.remote_id)]
        everything = as_text(sandbox.items(self.network, account.account_id,
                                           include_deleted=True))
        assert all(alt in everything for alt in alts)

    @needs("delete")
    def test_delete_removes_the_post(self, sandbox, adapter):
        result = self.publish(sandbox, adapter)
        adapter.delete(result.remote_id)
        stored = sandbox.item(self.network, self.stored_item_id(result.remote_id))
        assert stored["deleted_at"] is not None

    # -- reading a published post back (the record) --------------------------

    def owner_changes(self, sandbox, remote_id: str, *, text: str | None = None):
        """The account's owner edits (``text``) or deletes the post in the
        network's own app, not through Kanal."""
        path = f"/_sandbox/items/{self.network}/{self.stored_item_id(remote_id)}"
        if text is None:
            return sandbox.control("DELETE", path)
        return sandbox.control("PATCH", path, {"text": text})

    @needs("read_post")
    def test_read_post_gives_the_text_as_published(self, sandbox, adapter):
        text = unique("Havnebadet & saunaen åbner")
        result = self.publish(sandbox, adapter, text)
        state = adapter.read_post(result.remote_id)
        assert not state.gone
        assert reconcile.same_text(state.text, text), state.text
        assert state.url.startswith(("http://", "https://"))
        assert state.current_id == result.remote_id
        assert state.edited_at is None or self.network == "facebook"

    @needs("read_post")
    def test_read_post_sees_an_edit_made_in_the_networks_own_app(
        self, sandbox, adapter
    ):
        result = self.publish(sandbox, adapter, unique("Havnebadet åbner kl. 7"))
        edited = unique("Havnebadet åbner først kl. 9 <i dag>")
        self.owner_changes(sandbox, result.remote_id, text=edited)
        state = adapter.read_post(result.remote_id)
        assert not state.gone
        assert state.text.startswith("Havnebadet åbner først kl. 9 <i dag>")
        assert reconcile.same_text(state.text, edited)
        if self.network == "x":  # an edit on X is a new post id
            assert state.current_id not in ("", result.remote_id)
            assert state.current_id in state.url
        if self.network in ("x", "mastodon", "linkedin", "facebook"):
            assert state.edited_at is not None

    @needs("read_post")
    def test_read_post_says_gone_for_a_post_deleted_in_the_networks_own_app(
        self, sandbox, adapter
    ):
        result = self.publish(sandbox, adapter)
        if self.network == "x":  # every version goes, also after an edit
            self.owner_changes(sandbox, result.remote_id, text=unique("Rettet"))
        self.owner_changes(sandbox, result.remote_id)
        assert adapter.read_post(result.remote_id).gone

    @needs("read_post")
    @pytest.mark.parametrize("kind, error", [
        ("server_error", TransientError), ("rate_limit", RateLimited),
        ("expired_token", AuthExpired),
    ])
    def test_read_post_failure_raises_and_is_never_gone(
        self, sandbox, adapter, account, kind, error
    ):
        result = self.publish(sandbox, adapter)
        sandbox.fault(self.network, kind, method="GET", account=account.account_id)
        if kind == "expired_token" and self.network == "bluesky":
            # Bluesky's access JWT lives 2 hours: the adapter renews the
            # session and asks again.
            assert not adapter.read_post(result.remote_id).gone
            assert sandbox.ctx.faults.pending(self.network) == []
            return
        with pytest.raises(error) as caught:
            adapter.read_post(result.remote_id)
        assert not isinstance(caught.value, OutcomeUnknown)
        assert_danish(caught.value.message)
        assert not adapter.read_post(result.remote_id).gone

    def test_find_published_returns_none_for_a_post_never_made(self, adapter):
        found = adapter.find_published(
            idempotency_key=uuid.uuid4().hex, text=unique("Aldrig sendt"),
            since=datetime.now(UTC) - timedelta(minutes=5),
        )
        assert found is None

    def test_find_published_finds_a_published_post(self, sandbox, adapter):
        text = unique("Kulturnatten i Rådhushallen")
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - timedelta(seconds=5)
        checkpoints: dict = {}
        result = adapter.publish(self.outgoing(sandbox, adapter, text),
                                 idempotency_key=key,
                                 on_checkpoint=checkpoints.update)
        found = adapter.find_published(idempotency_key=key, text=text, since=since,
                                       checkpoint=checkpoints or None)
        assert found is not None
        assert found.remote_id == result.remote_id

    # -- dialogue ----------------------------------------------------------------------

    @needs("reply")
    def test_reply_answers_a_citizen_comment(self, sandbox, adapter, account):
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id,
                                       "Hvornår lukker badet i aften?")
        answer = adapter.reply(comment_id, "Badet lukker kl. 19. Mvh. Kommunen",
                               idempotency_key=uuid.uuid4().hex)
        stored = sandbox.item(self.network, self.stored_item_id(answer.remote_id))
        assert stored["parent_id"] == self.stored_item_id(comment_id)
        assert "Badet lukker kl. 19" in stored["text"]
        assert stored["author_id"] in (account.account_id, "")

    @needs("reply", "fetch_inbox")
    def test_a_reply_goes_out_exactly_as_answer_text_says(
        self, sandbox, adapter, account
    ):
        """What Kanal counts before sending an answer (``answer_text``) is
        what the network gets: an adapter that adds text (a mention in
        front) says so there, so the length checked is the length sent."""
        post = self.publish(sandbox, adapter)
        question = unique("Hvornår åbner badet i morgen?")
        self.make_comment(sandbox, account, post.remote_id, question)
        seen = next(i for i in adapter.fetch_inbox().items if i.text == question)
        text = "Badet åbner kl. 7. Mvh. Kommunen"
        answer = adapter.reply(seen.remote_id, text,
                               idempotency_key=uuid.uuid4().hex)
        stored = sandbox.item(self.network, self.stored_item_id(answer.remote_id))
        assert stored["text"] == adapter.answer_text(
            text, to_handle=seen.author_handle)

    @needs("hide")
    def test_hide_and_unhide_a_comment(self, sandbox, adapter, account):
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id,
                                       "Mit CPR-nummer er 010101-1234")
        adapter.hide(comment_id)
        assert sandbox.item(self.network, self.stored_item_id(comment_id))["hidden"]
        adapter.hide(comment_id, hidden=False)
        assert not sandbox.item(self.network,
                                self.stored_item_id(comment_id))["hidden"]

    @needs("like")
    def test_like_twice_is_one_like_and_unlike_takes_it_back(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id,
                                       "Tak for et dejligt bad!")
        adapter.like(comment_id)
        assert self.likes_on(sandbox, account, comment_id) == 1
        adapter.like(comment_id)
        assert self.likes_on(sandbox, account, comment_id) == 1
        adapter.like(comment_id, liked=False)
        assert self.likes_on(sandbox, account, comment_id) == 0
        adapter.like(comment_id, liked=False)  # nothing to take back
        assert self.likes_on(sandbox, account, comment_id) == 0
        adapter.like(comment_id)
        assert self.likes_on(sandbox, account, comment_id) == 1

    @needs("like")
    def test_liking_an_unknown_comment_is_rejected_in_danish(self, adapter):
        for liked in (True, False):
            with pytest.raises(Rejected) as caught:
                adapter.like(self.unknown_item_id, liked=liked)
            assert_danish(caught.value.message)

    @needs("like")
    def test_a_like_refused_for_a_server_error_is_not_made(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id, "Super!")
        self.fail_next(sandbox, account, "server_error", operation="like")
        with pytest.raises(TransientError):
            adapter.like(comment_id)
        assert self.likes_on(sandbox, account, comment_id) == 0

    @needs("like")
    def test_a_raising_fence_stops_a_like(self, sandbox, connection, account):
        writer = self.make_adapter(connection)
        post = self.publish(sandbox, writer)
        comment_id = self.make_comment(sandbox, account, post.remote_id, "Godt!")

        def refuse(operation):
            raise Fenced(f"stop {operation}")

        fenced = self.make_adapter(connection, before_write=refuse)
        with pytest.raises(Fenced, match="stop like"):
            fenced.like(comment_id)
        assert self.likes_on(sandbox, account, comment_id) == 0

    @needs("pin")
    def test_pin_and_unpin_an_own_post(self, sandbox, adapter):
        result = self.publish(sandbox, adapter)
        item_id = self.stored_item_id(result.remote_id)
        adapter.pin(result.remote_id)
        assert sandbox.item(self.network, item_id)["data"]["pinned"] is True
        adapter.pin(result.remote_id, pinned=False)
        assert not sandbox.item(self.network, item_id)["data"].get("pinned")

    @needs("fetch_inbox")
    def test_fetch_inbox_returns_comments_newer_than_the_cursor(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        first = unique("Tak for info! Er der livredder i weekenden?")
        self.make_comment(sandbox, account, post.remote_id, first)
        page = adapter.fetch_inbox()
        by_text = {item.text: item for item in page.items}
        assert first in by_text
        seen = by_text[first]
        assert seen.author_name
        assert seen.created_at.tzinfo is not None
        if seen.kind in ("comment", "reply"):
            assert seen.post_remote_id == post.remote_id
        second = unique("Super, vi kommer med ungerne")
        self.make_comment(sandbox, account, post.remote_id, second)
        later = adapter.fetch_inbox(since=page.cursor)
        texts = [item.text for item in later.items]
        assert second in texts
        assert first not in texts

    # -- measurement and listening ---------------------------------------------------

    @needs("fetch_metrics")
    def test_fetch_metrics_names_each_metric_with_the_api_version(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        snapshot = adapter.fetch_metrics((post.remote_id,))
        followers = [m for m in snapshot.account if m.kind == "followers"]
        assert followers and followers[0].value == account.followers
        assert post.remote_id in snapshot.posts
        every = [*snapshot.account, *snapshot.posts[post.remote_id]]
        assert all(m.api_version == adapter.api_version for m in every)
        assert all(m.name and m.value >= 0 for m in every)

    @needs("fetch_metrics")
    @pytest.mark.parametrize("mode", MODES)
    def test_fetch_metrics_leaves_null_and_missing_numbers_out(
        self, sandbox, adapter, mode
    ):
        post = self.publish(sandbox, adapter)
        # Signed in (where a network needs a session) before numbers go.
        adapter.fetch_metrics(())
        with blank_numbers(adapter.client, mode):
            snapshot = adapter.fetch_metrics((post.remote_id,))
        # An absent number is absent (unavailable), never a 0 in its place.
        assert snapshot.account == ()
        assert snapshot.posts.get(post.remote_id, ()) == ()

    @needs("verify")
    def test_verify_gives_no_follower_count_when_the_network_gives_null(
        self, sandbox, adapter
    ):
        adapter.verify()
        with blank_numbers(adapter.client, "null"):
            info = adapter.verify()
        assert info.followers is None

    @needs("search_hashtag")
    def test_search_hashtag_finds_recent_public_posts(self, sandbox, adapter, account):
        tag = f"kbhtest{uuid.uuid4().hex[:6]}"
        text = f"Dejlig aften på Islands Brygge #{tag}"
        self.make_hashtag_post(sandbox, account, text)
        page = adapter.search_hashtag(tag)
        assert page.tag == tag
        assert text in [p.text for p in page.posts]

    @needs("account_posts")
    def test_fetch_account_posts_reads_a_partners_new_posts_once(
        self, sandbox, adapter
    ):
        first = adapter.fetch_account_posts(self.partner_account)
        assert first.posts and first.cursor
        assert all(p.remote_id and p.url.startswith("http") for p in first.posts)
        assert {p.author_name for p in first.posts} == {self.partner_name}
        text = unique("Ny udstilling i Kulturhuset")
        self.make_partner_post(sandbox, text)

        second = adapter.fetch_account_posts(self.partner_account, since=first.cursor)
        third = adapter.fetch_account_posts(self.partner_account, since=second.cursor)

        assert [p.text for p in second.posts] == [text]
        assert third.posts == ()

    @needs("account_posts")
    def test_fetch_account_posts_leaves_out_replies_and_other_accounts(
        self, sandbox, adapter, account
    ):
        first = adapter.fetch_account_posts(self.partner_account)
        own = self.publish(sandbox, adapter)
        sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": self.network, "text": "Tak for tippet!",
            "parent_id": self.stored_item_id(own.remote_id),
            "account": self.partner_id, "author_id": self.partner_id,
            "author_name": self.partner_name,
        })

        later = adapter.fetch_account_posts(self.partner_account, since=first.cursor)

        assert later.posts == ()


    def made_after(self, sandbox, account, post: PublishResult) -> list[str]:
        """Item ids the publish log shows after ``post`` (its replies)."""
        post_id = self.stored_item_id(post.remote_id)
        return [r["item_id"] for r in sandbox.published(self.network,
                                                        account.account_id)
                if r["item_id"] != post_id]

    @needs("reply")
    def test_every_network_that_replies_can_look_its_reply_up(self, adapter):
        """The follow-up worker asks ``find_reply`` before sending a first
        comment of unknown outcome again; every adapter that replies has it."""
        assert callable(getattr(adapter, "find_reply", None))

    @needs("reply")
    def test_find_reply_ignores_a_citizen_comment_with_the_same_words(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        text = unique("Læs mere om badezonerne på kk.dk")
        self.make_comment(sandbox, account, post.remote_id, text)
        assert adapter.find_reply(post.remote_id, text=text,
                                  idempotency_key=uuid.uuid4().hex) is None

    @pytest.mark.parametrize(("kind", "offset_minutes", "step_minutes"), [
        ("server_error_after_create", 0, 0),
        ("unreadable_after_create", 7, 0),
        ("timeout_after_create", -13, 0),
        ("timeout_after_create", -5, 10),
    ])
    @needs("reply")
    def test_lost_first_comment_is_found_once(
        self, sandbox, connection, account, kind, offset_minutes, step_minutes
    ):
        """The reply was made but its answer was lost (a 5xx, a cut body, a
        timeout), with the network's clock minutes off (or stepping between
        the write and the lookup) and the text shown the network's way: it is
        found, and it is the one reply the network has."""
        adapter = self.make_adapter(connection, timeout=self.short_timeout)
        post = self.publish(sandbox, adapter)
        sandbox.network_clock(self.network, offset_minutes * 60)
        text = self.changed_text()
        key = uuid.uuid4().hex
        self.fail_next(sandbox, account, kind, operation="reply",
                       delay_ms=self.timeout_delay_ms)
        with pytest.raises(OutcomeUnknown):
            adapter.reply(post.remote_id, text, idempotency_key=key)
        if step_minutes:
            sandbox.network_clock(self.network,
                                  (offset_minutes + step_minutes) * 60)
        again = self.make_adapter(connection)
        found = again.find_reply(post.remote_id, text=text, idempotency_key=key)
        assert found is not None
        assert self.made_after(sandbox, account, post) == [
            self.stored_item_id(found.remote_id)]

    @needs("reply")
    def test_lost_answer_to_a_citizen_comment_is_found_once(
        self, sandbox, adapter, account
    ):
        """An answer to a citizen's comment (nested on most networks; on
        Mastodon with the citizen's handle put in front) whose answer was
        lost is found by its text, without Kanal's key too."""
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id,
                                       "Hvornår åbner badet i morgen?")
        text = unique("Kl. 7 (som altid) & til kl. 19")
        key = uuid.uuid4().hex
        self.fail_next(sandbox, account, "server_error_after_create",
                       operation="reply")
        with pytest.raises(OutcomeUnknown):
            adapter.reply(comment_id, text, idempotency_key=key)
        made = self.made_after(sandbox, account, post)
        assert len(made) == 1
        for asked_key in (key, ""):
            found = adapter.find_reply(comment_id, text=text,
                                       idempotency_key=asked_key)
            assert found is not None
            assert self.stored_item_id(found.remote_id) == made[0]
        assert adapter.find_reply(post.remote_id, text=text,
                                  idempotency_key="") is None

    @needs("reply")
    def test_first_comment_refused_before_it_was_made_is_not_found(
        self, sandbox, adapter, account
    ):
        """A 5xx that came before the network made anything: unknown to Kanal,
        but the lookup says "not there", and the one resend makes one reply."""
        post = self.publish(sandbox, adapter)
        text = self.changed_text()
        key = uuid.uuid4().hex
        self.fail_next(sandbox, account, "server_error", operation="reply")
        with pytest.raises(OutcomeUnknown):
            adapter.reply(post.remote_id, text, idempotency_key=key)
        assert self.made_after(sandbox, account, post) == []
        assert adapter.find_reply(post.remote_id, text=text,
                                  idempotency_key=key) is None
        made = adapter.reply(post.remote_id, text, idempotency_key=key)
        found = adapter.find_reply(post.remote_id, text=text, idempotency_key=key)
        assert found is not None and found.remote_id == made.remote_id
        assert self.made_after(sandbox, account, post) == [
            self.stored_item_id(made.remote_id)]

    @needs("reply")
    def test_find_reply_that_cannot_read_raises(self, sandbox, adapter, account):
        """When the network cannot be read, the answer is "cannot tell" (an
        error), never "not there" (None), which would send it again."""
        post = self.publish(sandbox, adapter)
        sandbox.fault(self.network, "server_error", account=account.account_id,
                      count=20)
        with pytest.raises(TransientError):
            adapter.find_reply(post.remote_id, text="Hej",
                               idempotency_key=uuid.uuid4().hex)

    # -- errors, each forced through a fault ----------------------------------------

    def test_server_error_on_publish_is_outcome_unknown_and_nothing_was_made(
        self, sandbox, adapter, account
    ):
        # A 5xx to a write that cannot be sent twice says nothing about whether
        # the post exists: unknown, to be reconciled before any resend.
        self.fail_next(sandbox, account, "server_error")
        text = unique("Vejarbejde på Amagerbrogade")
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - timedelta(minutes=5)
        checkpoints: dict = {}
        with pytest.raises(OutcomeUnknown) as caught:
            adapter.publish(self.outgoing(sandbox, adapter, text),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        assert caught.value.http_status and caught.value.http_status >= 500
        assert_danish(caught.value.message)
        assert sandbox.published(self.network, account.account_id) == []
        assert adapter.find_published(idempotency_key=key, text=text, since=since,
                                      checkpoint=checkpoints or None) is None

    @needs("verify")
    def test_server_error_on_a_read_raises_transient_error(
        self, sandbox, adapter, account
    ):
        self.fail_next(sandbox, account, "server_error", operation="verify")
        with pytest.raises(TransientError) as caught:
            adapter.verify()
        assert not isinstance(caught.value, (RateLimited, OutcomeUnknown))

    @pytest.mark.parametrize("kind", ["server_error_after_create",
                                      "unreadable_after_create"])
    def test_bad_answer_after_the_post_was_made_is_unknown_then_found_once(
        self, sandbox, adapter, account, kind
    ):
        """A 5xx or an unreadable 2xx that comes after the network made the
        post: ``OutcomeUnknown`` (never transient), and the post is found."""
        text = unique("Borgermøde om Lynetteholm")
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - timedelta(minutes=5)
        checkpoints: dict = {}
        self.fail_next(sandbox, account, kind)
        with pytest.raises(OutcomeUnknown):
            adapter.publish(self.outgoing(sandbox, adapter, text),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        log = sandbox.published(self.network, account.account_id)
        assert len(log) == 1
        found = adapter.find_published(idempotency_key=key, text=text, since=since,
                                       checkpoint=checkpoints or None)
        assert found is not None
        assert log[0]["item_id"] == self.stored_item_id(found.remote_id)

    def test_duplicate_refusal_is_a_duplicate(self, sandbox, adapter, account):
        """The network's duplicate refusal is ``Duplicate`` (a ``Rejected``),
        so the engine can tell "already there" from any other refusal."""
        self.fail_next(sandbox, account, "duplicate")
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter)
        if self.network in ("x", "facebook", "linkedin"):
            assert isinstance(caught.value, Duplicate)

    def test_rate_limit_raises_rate_limited_with_a_wait(
        self, sandbox, adapter, account
    ):
        self.fail_next(sandbox, account, "rate_limit")
        with pytest.raises(RateLimited) as caught:
            self.publish(sandbox, adapter)
        error = caught.value
        assert not isinstance(error, QuotaExhausted)
        assert error.retry_after is not None or error.reset_at is not None
        assert_danish(error.message)

    @needs("fetch_inbox")
    def test_rate_limit_on_a_read_raises_rate_limited(self, sandbox, adapter, account):
        self.fail_next(sandbox, account, "rate_limit", operation="inbox")
        with pytest.raises(RateLimited):
            adapter.fetch_inbox()

    def test_expired_token_raises_auth_expired(self, sandbox, adapter, account):
        self.fail_next(sandbox, account, "expired_token")
        with pytest.raises(AuthExpired) as caught:
            self.publish(sandbox, adapter)
        assert_danish(caught.value.message)

    def test_policy_block_raises_rejected_in_danish(self, sandbox, adapter, account):
        self.fail_next(sandbox, account, "policy_block")
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter)
        assert caught.value.network_code not in (None, "")
        assert_danish(caught.value.message)

    def test_duplicate_raises_rejected_with_the_network_code(
        self, sandbox, adapter, account
    ):
        self.fail_next(sandbox, account, "duplicate")
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter)
        assert caught.value.network_code not in (None, "")
        assert_danish(caught.value.message)
        assert sandbox.published(self.network, account.account_id) == []

    def test_invalid_media_raises_rejected(self, sandbox, adapter, account):
        if adapter.capabilities().max_images < 1:
            pytest.skip(f"{self.network} takes no images")
        self.fail_next(sandbox, account, "invalid_media", operation="media")
        image = self.sample_image(sandbox, alt_text="Et billede")
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter, media=(image,))
        assert_danish(caught.value.message)

    @needs(quota=True)
    def test_quota_exhausted_raises_quota_exhausted(self, sandbox, adapter, account):
        self.fail_next(sandbox, account, "quota_exhausted")
        with pytest.raises(QuotaExhausted) as caught:
            self.publish(sandbox, adapter)
        assert caught.value.reset_at is not None or caught.value.retry_after
        assert_danish(caught.value.message)

    # -- fencing ---------------------------------------------------------------

    def test_a_raising_fence_stops_the_publish(self, sandbox, connection, account):
        asked: list[str] = []

        def refuse(operation: str) -> None:
            asked.append(operation)
            raise Fenced("lease lost")

        adapter = self.make_adapter(connection, before_write=refuse)
        with pytest.raises(Fenced):
            self.publish(sandbox, adapter)
        assert asked, "the adapter never asked its fence before writing"
        assert sandbox.published(self.network, account.account_id) == []

    def test_the_fence_is_asked_right_before_the_post_is_made(
        self, sandbox, connection, account
    ):
        """The fence is the last thing before the write: when it is asked for
        the write that publishes, nothing is published yet, and right after
        the call the post exists."""
        asked: list[tuple[str, int]] = []

        def record(operation: str) -> None:
            published = sandbox.published(self.network, account.account_id)
            asked.append((operation, len(published)))

        adapter = self.make_adapter(connection, before_write=record)
        result = self.publish(sandbox, adapter)
        log = sandbox.published(self.network, account.account_id)
        assert [r["item_id"] for r in log] == [self.stored_item_id(result.remote_id)]
        assert asked and all(count == 0 for _op, count in asked)
        assert asked[-1][0] in ("create", "publish")

    @needs("reply")
    def test_a_raising_fence_stops_a_reply(self, sandbox, adapter, connection,
                                          account):
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id,
                                       "Hvornår åbner badet?")
        before = as_text(sandbox.items(self.network, account.account_id))

        def refuse(operation: str) -> None:
            raise Fenced("crisis")

        fenced = self.make_adapter(connection, before_write=refuse)
        with pytest.raises(Fenced):
            fenced.reply(comment_id, "Kl. 7. Mvh. Kommunen",
                         idempotency_key=uuid.uuid4().hex)
        assert "Kl. 7. Mvh. Kommunen" not in as_text(
            sandbox.items(self.network, include_deleted=True))
        assert as_text(sandbox.items(self.network, account.account_id)) == before

    # -- direct messages (send_message) ------------------------------------------

    def citizen_message(self, sandbox, adapter, account, text: str) -> OutgoingMessage:
        """A citizen's direct message to the account, as the adapter reads
        it, and an answer to it (whose text the test sets)."""
        sandbox.control("POST", "/_sandbox/citizens/item", {
            "network": self.network, "kind": "message",
            "account": account.account_id, "text": text,
            "author_id": f"citizen-{uuid.uuid4().hex[:8]}",
            "author_name": "Ida Holm"})
        [item] = [i for i in adapter.fetch_inbox().items
                  if i.kind == "message" and i.text == text]
        return OutgoingMessage(
            text="", recipient_id=item.author_id,
            reply_to_remote_id=item.remote_id,
            conversation_id=item.parent_remote_id,
            last_received_at=item.created_at)

    def messages_sent(self, sandbox, account) -> list[str]:
        return [p["item_id"] for p in sandbox.published(self.network,
                                                          account.account_id)
                if p["kind"] == "message"]

    @needs("send_message")
    def test_every_network_that_sends_messages_can_look_one_up(self, adapter):
        assert callable(getattr(adapter, "find_message", None))
        assert "direct_messages" in adapter.capabilities().supports

    @needs("send_message")
    def test_send_message_answers_the_citizen_once(self, sandbox, adapter,
                                                   account):
        answer = replace(self.citizen_message(
            sandbox, adapter, account, unique("Hvornår har I åbent?")),
            text=unique("Kl. 10-16 på hverdage."))
        before = datetime.now(UTC) - timedelta(seconds=5)
        sent = adapter.send_message(answer, idempotency_key=uuid.uuid4().hex)
        assert self.messages_sent(sandbox, account) == [
            self.stored_item_id(sent.remote_id)]
        found = adapter.find_message(answer, since=before)
        assert found is not None and found.remote_id == sent.remote_id
        assert adapter.find_message(replace(answer, text=unique("Andet")),
                                    since=before) is None

    @needs("send_message")
    @pytest.mark.parametrize("fault", ["server_error_after_create",
                                       "unreadable_after_create"])
    def test_a_lost_message_answer_is_unknown_then_found_once(
        self, sandbox, adapter, account, fault
    ):
        """The network made the message, then failed its answer: Kanal says
        "unknown" (never "try again") and the lookup finds the one message
        (the engine looks up before it ever sends again)."""
        answer = replace(self.citizen_message(
            sandbox, adapter, account, unique("Er min ansøgning modtaget?")),
            text=unique("Ja, den er modtaget."))
        before = datetime.now(UTC) - timedelta(seconds=5)
        self.fail_next(sandbox, account, fault, operation="message")
        with pytest.raises(OutcomeUnknown):
            adapter.send_message(answer, idempotency_key="")
        [made] = self.messages_sent(sandbox, account)
        found = adapter.find_message(answer, since=before)
        assert found is not None and self.stored_item_id(found.remote_id) == made

    @needs("send_message")
    def test_a_server_error_before_the_message_is_no_message(
        self, sandbox, adapter, account
    ):
        answer = replace(self.citizen_message(
            sandbox, adapter, account, unique("Hallo?")), text=unique("Hej."))
        before = datetime.now(UTC) - timedelta(seconds=5)
        self.fail_next(sandbox, account, "server_error", operation="message")
        with pytest.raises((OutcomeUnknown, TransientError)):
            adapter.send_message(answer, idempotency_key="")
        assert self.messages_sent(sandbox, account) == []
        assert adapter.find_message(answer, since=before) is None

    @needs("send_message")
    def test_a_raising_fence_stops_a_message(self, sandbox, adapter, connection,
                                            account):
        answer = replace(self.citizen_message(
            sandbox, adapter, account, unique("Kan I ringe mig op?")),
            text=unique("Ja, i morgen."))

        def refuse(operation: str) -> None:
            assert operation == "message"
            raise Fenced("crisis")

        fenced = self.make_adapter(connection, before_write=refuse)
        with pytest.raises(Fenced):
            fenced.send_message(answer, idempotency_key=uuid.uuid4().hex)
        assert self.messages_sent(sandbox, account) == []

    @needs("pin")
    def test_a_raising_fence_stops_a_pin(self, sandbox, adapter, connection):
        result = self.publish(sandbox, adapter)

        def refuse(operation: str) -> None:
            raise Fenced("crisis over")

        fenced = self.make_adapter(connection, before_write=refuse)
        with pytest.raises(Fenced):
            fenced.pin(result.remote_id)
        stored = sandbox.item(self.network, self.stored_item_id(result.remote_id))
        assert not stored["data"].get("pinned")

    # -- reconciliation without trusting clocks or verbatim text ----------------

    def changed_text(self) -> str:
        """Text the network changes on the way: an entity, brackets, a
        hashtag, runs of spaces and line breaks."""
        return unique("Borgermøde  (kl. 19) & debat om\n\nLynetteholm #voreskbh")

    @pytest.mark.parametrize("offset_minutes", [-13, 7])
    def test_lost_answer_is_found_with_the_network_clock_minutes_off(
        self, sandbox, connection, account, offset_minutes
    ):
        """The network's clock is minutes off Kanal's and it shows the text
        its own way (link added or kept, entities, HTML, whitespace): the post
        is still found, once, from Kanal's text without the link."""
        sandbox.network_clock(self.network, offset_minutes * 60)
        adapter = self.make_adapter(connection, timeout=self.short_timeout)
        text = self.changed_text()
        fields = {"link": self.link} if "link_posts" in \
            adapter.capabilities().supports else {}
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - timedelta(minutes=5)
        checkpoints: dict = {}
        self.fail_next(sandbox, account, "timeout_after_create",
                       delay_ms=self.timeout_delay_ms)
        with pytest.raises(OutcomeUnknown):
            adapter.publish(self.outgoing(sandbox, adapter, text, **fields),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        again = self.make_adapter(connection)
        found = again.find_published(idempotency_key=key, text=text, since=since,
                                     checkpoint=checkpoints or None)
        assert found is not None
        log = sandbox.published(self.network, account.account_id)
        assert [r["item_id"] for r in log] == [self.stored_item_id(found.remote_id)]

    #: Kanal's slack below the first fenced write (the engine's
    #: ``RECONCILE_SLACK_SECONDS`` default): the ``since`` it passes.
    engine_slack: ClassVar[timedelta] = timedelta(seconds=300)

    @pytest.mark.parametrize(("step_minutes", "with_image"),
                             [(10, False), (20, False), (20, True)])
    def test_lost_answer_is_found_after_the_network_clock_stepped(
        self, sandbox, connection, account, step_minutes, with_image
    ):
        """The network's clock is 5 minutes behind when the post is made and
        its answer is lost; then the clock steps forward (an NTP correction
        on the network's side) before Kanal looks. The post is stamped on the
        old clock and every answer Kanal reads now is on the new one: it is
        still found, once."""
        if with_image and adapter_class(self.network)(connection) \
                .capabilities().max_images < 1:
            pytest.skip(f"{self.network} takes no images")
        sandbox.network_clock(self.network, -300)
        adapter = self.make_adapter(connection, timeout=self.short_timeout)
        text = self.changed_text()
        fields = {}
        if with_image:
            fields["media"] = (self.sample_image(sandbox, alt_text="Havnen"),)
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - self.engine_slack
        checkpoints: dict = {}
        self.fail_next(sandbox, account, "timeout_after_create",
                       delay_ms=self.timeout_delay_ms)
        with pytest.raises(OutcomeUnknown):
            adapter.publish(self.outgoing(sandbox, adapter, text, **fields),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        sandbox.network_clock(self.network, -300 + step_minutes * 60)
        again = self.make_adapter(connection)
        found = again.find_published(idempotency_key=key, text=text, since=since,
                                     checkpoint=checkpoints or None)
        assert found is not None
        log = sandbox.published(self.network, account.account_id)
        assert [r["item_id"] for r in log] == [self.stored_item_id(found.remote_id)]

    def test_image_only_post_never_matches_an_older_image_only_post(
        self, sandbox, adapter, account
    ):
        if adapter.capabilities().max_images < 1:
            pytest.skip(f"{self.network} takes no images")
        image = self.sample_image(sandbox, alt_text="Havnebadet set fra broen")
        since = datetime.now(UTC) - timedelta(minutes=5)
        older = adapter.publish(OutgoingPost(text="", media=(image,)),
                                idempotency_key=uuid.uuid4().hex,
                                on_checkpoint=lambda _cp: None)
        key = uuid.uuid4().hex
        checkpoints: dict = {}
        self.fail_next(sandbox, account, "server_error")
        with pytest.raises(OutcomeUnknown):
            adapter.publish(OutgoingPost(text="", media=(image,)),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        assert adapter.find_published(idempotency_key=key, text="", since=since,
                                      checkpoint=checkpoints or None) is None
        self.fail_next(sandbox, account, "server_error_after_create")
        with pytest.raises(OutcomeUnknown):
            adapter.publish(OutgoingPost(text="", media=(image,)),
                            idempotency_key=key, checkpoint=checkpoints or None,
                            on_checkpoint=checkpoints.update)
        found = adapter.find_published(idempotency_key=key, text="", since=since,
                                       checkpoint=checkpoints or None)
        assert found is not None
        assert found.remote_id != older.remote_id
        log = sandbox.published(self.network, account.account_id)
        assert [r["item_id"] for r in log][-1] == self.stored_item_id(found.remote_id)
        assert len(log) == 2

    def test_a_post_another_publication_recorded_is_never_adopted(
        self, sandbox, adapter, account
    ):
        """Twins: the same text twice on one channel (a weekly reminder). The
        second's attempt never reached the network; its reconciliation must
        not adopt the first's post once the caller names it as taken."""
        text = unique("Husk: genbrugsstationen har åbent i dag")
        since = datetime.now(UTC) - timedelta(minutes=5)
        sibling = self.publish(sandbox, adapter, text)
        key = uuid.uuid4().hex
        checkpoints: dict = {}
        # Before anything was made (for container networks: the container
        # itself failed, so no checkpoint names one and only text is left).
        self.fail_next(sandbox, account, "server_error",
                       operation=self.first_write_operation)
        with pytest.raises((OutcomeUnknown, TransientError)):
            adapter.publish(self.outgoing(sandbox, adapter, text),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        assert "container_id" not in checkpoints
        taken = {**checkpoints, "exclude_remote_ids": sibling.remote_id}
        assert adapter.find_published(idempotency_key=key, text=text, since=since,
                                      checkpoint=taken) is None
        assert len(sandbox.published(self.network, account.account_id)) == 1

    def test_timeout_after_create_is_outcome_unknown_then_reconciled_once(
        self, sandbox, connection, account
    ):
        adapter = self.make_adapter(connection, timeout=self.short_timeout)
        text = unique("Borgermøde om Lynetteholm")
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - timedelta(seconds=5)
        checkpoints: dict = {}
        self.fail_next(sandbox, account, "timeout_after_create",
                       delay_ms=self.timeout_delay_ms)
        with pytest.raises(OutcomeUnknown):
            adapter.publish(self.outgoing(sandbox, adapter, text),
                            idempotency_key=key, on_checkpoint=checkpoints.update)
        found = adapter.find_published(idempotency_key=key, text=text, since=since,
                                       checkpoint=checkpoints or None)
        assert found is not None
        log = sandbox.published(self.network, account.account_id)
        assert len(log) == 1
        assert log[0]["item_id"] == self.stored_item_id(found.remote_id)
