"""The shared contract against the Mastodon emulator, plus what only Mastodon
has: the Idempotency-Key, media processing, instance limits and boosts."""

import uuid

import httpx
import pytest

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    NotSupported,
    RateLimited,
    Rejected,
)
from kanal.channels.networks.mastodon import INSTANCE_CONFIGURATIONS, MastodonAdapter

from .contract import NetworkContractTests, assert_danish, unique

pytestmark = pytest.mark.sandbox


class TestMastodonContract(NetworkContractTests):
    network = "mastodon"
    partner_account = "bibliotek@kk.social"
    partner_id = "109000000000000201"
    partner_name = "Københavns Biblioteker"

    def make_adapter(self, connection, *, timeout=None, **hooks):
        adapter = super().make_adapter(connection, timeout=timeout, **hooks)
        adapter.load_instance_configuration(force=True)
        return adapter


@pytest.fixture
def account(sandbox):
    return sandbox.provision("mastodon", followers=77)


@pytest.fixture
def adapter(sandbox, account):
    return TestMastodonContract().make_adapter(
        TestMastodonContract().make_connection(sandbox, account)
    )


@pytest.fixture
def instance(sandbox):
    url = f"{sandbox.base_url('mastodon')}/_sandbox/instance"
    yield lambda **changes: httpx.put(url, json=changes).raise_for_status()
    httpx.put(url, json={"max_characters": 500, "media_processing_seconds": 3})
    INSTANCE_CONFIGURATIONS.clear()


def test_same_idempotency_key_returns_the_same_status(sandbox, adapter, account):
    post = OutgoingPost(text=unique("Kun én gang"))

    first = adapter.publish(post, idempotency_key="same-key")
    second = adapter.publish(post, idempotency_key="same-key")

    assert first.remote_id == second.remote_id
    assert len(sandbox.published("mastodon", account.account_id)) == 1


def test_idempotency_key_is_forgotten_after_an_hour(sandbox, adapter, account):
    post = OutgoingPost(text=unique("To gange"))
    first = adapter.publish(post, idempotency_key="hour-key")
    sandbox.advance_clock(3601)

    second = adapter.publish(post, idempotency_key="hour-key")

    assert first.remote_id != second.remote_id


def test_video_is_polled_until_processed_on_the_sandbox_clock(sandbox, account):
    connection = TestMastodonContract().make_connection(sandbox, account)
    waited = []

    def sleep(seconds):
        waited.append(seconds)
        sandbox.advance_clock(seconds)

    adapter = MastodonAdapter(connection, sleep=sleep)
    video = MediaItem(
        kind="video",
        mime_type="video/mp4",
        alt_text="Havnen i sol",
        data=b"\x00\x00\x00\x18ftypmp42",
    )

    result = adapter.publish(
        OutgoingPost(text=unique("Film"), media=(video,)),
        idempotency_key=uuid.uuid4().hex,
    )

    assert waited == [1.0, 1.0, 1.0]
    stored = sandbox.item("mastodon", result.remote_id)
    assert stored["data"]["media"][0]["description"] == "Havnen i sol"
    assert stored["data"]["media"][0]["type"] == "video"


def test_limits_follow_the_instance_configuration(sandbox, adapter, instance):
    instance(max_characters=1000)

    adapter.load_instance_configuration(force=True)
    post = OutgoingPost(text="å" * 900)

    assert adapter.capabilities().max_text_length == 1000
    assert adapter.validate(post) == []
    assert adapter.publish(post, idempotency_key=uuid.uuid4().hex).remote_id


def test_instance_refuses_text_over_its_limit(sandbox, adapter, instance):
    instance(max_characters=100)

    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text="a" * 101), idempotency_key="k-101")

    assert caught.value.http_status == 422
    assert "character limit of 100" in caught.value.network_message


def test_urls_count_23_on_both_sides(sandbox, adapter):
    text = "a" * 470 + " https://www.kk.dk/" + "x" * 100

    assert adapter.count_text(text) == 494
    assert adapter.validate(OutgoingPost(text=text)) == []
    assert adapter.publish(OutgoingPost(text=text), idempotency_key=uuid.uuid4().hex)


def test_boost_twice_gives_one_boost(sandbox, adapter, account):
    sandbox.citizen(
        "mastodon",
        "Kom til Kulturnatten #voreskbh",
        kind="post",
        account="citizen-boost",
        author_name="Mette Borger",
    )
    post = adapter.search_hashtag("voreskbh").posts[0]

    first = adapter.repost(post.remote_id)
    second = adapter.repost(post.remote_id)

    assert first.remote_id == second.remote_id
    assert first.url == post.url
    reblogs = sandbox.items("mastodon", account.account_id, kind="reblog")
    assert len(reblogs) == 1


def test_thread_lists_citizen_replies(sandbox, adapter, account):
    post = adapter.publish(OutgoingPost(text=unique("Tråd")), idempotency_key="t-1")
    comment = sandbox.citizen("mastodon", "Første svar", parent_id=post.remote_id)
    sandbox.citizen("mastodon", "Svar på svaret", parent_id=comment["item_id"])

    page = adapter.fetch_thread(post.remote_id)

    assert [i.text for i in page.items] == ["Første svar", "Svar på svaret"]
    assert {i.post_remote_id for i in page.items} == {post.remote_id}


def test_direct_message_is_a_message(sandbox, adapter, account):
    sandbox.citizen(
        "mastodon",
        "Privat spørgsmål om pas",
        kind="message",
        account=account.account_id,
    )

    items = adapter.fetch_inbox().items

    assert [(i.kind, i.text) for i in items] == [("message", "Privat spørgsmål om pas")]


def test_hide_is_not_supported(adapter):
    with pytest.raises(NotSupported) as caught:
        adapter.hide("1")

    assert_danish(caught.value.message)


def test_quota_fault_is_the_30_minute_limit(sandbox, adapter, account):
    sandbox.fault(
        "mastodon", "quota_exhausted", operation="media", account=account.account_id
    )
    image = MediaItem(kind="image", mime_type="image/png", alt_text="A", data=b"P")

    with pytest.raises(RateLimited) as caught:
        adapter.publish(
            OutgoingPost(text="x", media=(image,)), idempotency_key=uuid.uuid4().hex
        )

    assert 1790 < caught.value.retry_after <= 1800


def test_every_answer_carries_rate_limit_headers(sandbox, adapter):
    adapter.verify()

    assert adapter.last_rate_limit["limit"] == "300"
    assert int(adapter.last_rate_limit["remaining"]) < 300
    assert adapter.last_rate_limit["reset"].endswith("Z")


def test_oauth_code_flow_with_pkce_gives_a_working_token(sandbox):
    base = sandbox.base_url("mastodon")
    app = MastodonAdapter(Connection(network="mastodon", base_url=base)).register_app(
        redirect_uri="https://kanal.example/cb"
    )
    connection = Connection(network="mastodon", base_url=base, credentials=app)
    adapter = MastodonAdapter(connection)
    verifier = "v" * 50
    url = adapter.authorization_url(
        redirect_uri="https://kanal.example/cb", state="st", code_verifier=verifier
    )
    redirect = httpx.get(url, follow_redirects=False)
    code = httpx.URL(redirect.headers["location"]).params["code"]

    tokens = adapter.exchange_code(
        code=code, redirect_uri="https://kanal.example/cb", code_verifier=verifier
    )

    authorised = MastodonAdapter(
        Connection(
            network="mastodon",
            base_url=base,
            credentials={"access_token": tokens.access_token},
        )
    )
    assert authorised.verify().handle == "kobenhavn"


def test_status_url_and_account_page_show_the_image_description(
    sandbox, adapter, account
):
    image = MediaItem(
        kind="image",
        mime_type="image/png",
        data=b"PNG",
        alt_text="Livredder på tårnet ved Islands Brygge",
    )
    text = unique("Badet er åbent")
    result = adapter.publish(
        OutgoingPost(text=text, media=(image,)), idempotency_key=uuid.uuid4().hex
    )

    status_page = httpx.get(result.url)
    account_page = httpx.get(
        f"{sandbox.url}/_sandbox/page/mastodon/{account.account_id}"
    )

    assert status_page.status_code == 200
    assert "Livredder på tårnet" in status_page.text
    assert text in account_page.text
    assert "Livredder på tårnet" in account_page.text


def test_oauth_code_with_the_wrong_verifier_is_refused(sandbox):
    base = sandbox.base_url("mastodon")
    app = MastodonAdapter(Connection(network="mastodon", base_url=base)).register_app(
        redirect_uri="https://kanal.example/cb"
    )
    adapter = MastodonAdapter(
        Connection(network="mastodon", base_url=base, credentials=app)
    )
    url = adapter.authorization_url(
        redirect_uri="https://kanal.example/cb", state="s", code_verifier="a" * 50
    )
    code = httpx.URL(httpx.get(url).headers["location"]).params["code"]

    with pytest.raises(AuthExpired) as caught:
        adapter.exchange_code(
            code=code, redirect_uri="https://kanal.example/cb", code_verifier="b" * 50
        )

    assert caught.value.network_message.startswith("invalid_grant")


def test_a_sixth_pin_is_refused_with_the_instance_limit(sandbox, adapter, account):
    posts = [
        adapter.publish(OutgoingPost(text=unique(f"Fastgjort {n}")),
                        idempotency_key=uuid.uuid4().hex)
        for n in range(6)
    ]
    for post in posts[:5]:
        adapter.pin(post.remote_id)

    with pytest.raises(Rejected) as caught:
        adapter.pin(posts[5].remote_id)

    assert caught.value.http_status == 422
    assert "fastgjort så mange opslag" in caught.value.message
    assert not sandbox.item("mastodon", posts[5].remote_id)["data"].get("pinned")
    adapter.pin(posts[0].remote_id, pinned=False)
    adapter.pin(posts[5].remote_id)
    assert sandbox.item("mastodon", posts[5].remote_id)["data"]["pinned"] is True


def test_a_citizens_status_cannot_be_pinned(sandbox, adapter, account):
    made = sandbox.citizen(
        "mastodon", "Borgerens eget opslag", kind="post", account="citizen-pin",
        author_name="Mette Borger",
    )

    with pytest.raises(Rejected) as caught:
        adapter.pin(made["item_id"])

    assert "egne, offentlige opslag" in caught.value.message
    assert not sandbox.item("mastodon", made["item_id"])["data"].get("pinned")
