"""The shared contract against the Bluesky emulator, plus what only Bluesky
has: sessions that expire, rkey idempotency, byte-offset facets, lexicon
validation and threadgates."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.bluesky import BlueskyAdapter, rkey_for
from kanal.channels.networks.errors import AuthExpired, Rejected
from kanal.channels.networks.mastodon import MastodonAdapter

from .contract import NetworkContractTests, assert_danish, unique

pytestmark = pytest.mark.sandbox


class TestBlueskyContract(NetworkContractTests):
    network = "bluesky"
    partner_account = "bibliotek.kk.dk"
    partner_id = "did:plc:kkbibliotek0000000000000"
    partner_name = "Københavns Biblioteker"
    # The PDS's daily write budget (repo-write-day) is mapped to QuotaExhausted.
    has_quota = True

    def make_connection(self, sandbox, account):
        connection = super().make_connection(sandbox, account)
        return replace(connection, settings={"web_url": sandbox.base_url("bluesky")})

    def fail_next(self, sandbox, account, kind, operation="publish", **opts):
        """An expired access token alone is renewed by the adapter (that is
        tested below); to reach ``AuthExpired`` the refresh token and the app
        password must be refused as well."""
        super().fail_next(sandbox, account, kind, operation, **opts)
        if kind == "expired_token":
            sandbox.fault(
                "bluesky",
                "expired_token",
                operation="token",
                account=account.account_id,
                count=2,
            )


    unknown_item_id = "at://did:plc:ingensaadan00000000000000/app.bsky.feed.post/3kzz"

    def likes_on(self, sandbox, account, remote_id):
        """A like is a record of the account's own: count those records."""
        return len(like_records(sandbox, account, remote_id))

    def test_refresh_token_refused_raises_auth_expired(
        self, sandbox, connection, account
    ):
        # A session is renewed only near its expiry: move Kanal's clock there.
        later = datetime.now(UTC) + timedelta(minutes=110)
        adapter = BlueskyAdapter(connection, clock=lambda: later)
        self.fail_next(sandbox, account, "expired_token", operation="token")
        with pytest.raises(AuthExpired):
            adapter.refresh_token()


@pytest.fixture
def account(sandbox):
    return sandbox.provision("bluesky", followers=300)


@pytest.fixture
def connection(sandbox, account):
    return TestBlueskyContract().make_connection(sandbox, account)


@pytest.fixture
def tokens():
    return []


@pytest.fixture
def adapter(connection, tokens):
    return BlueskyAdapter(connection, on_tokens=tokens.append)


@pytest.fixture
def access_ttl(sandbox):
    url = f"{sandbox.base_url('bluesky')}/_sandbox/config"
    yield lambda seconds: httpx.put(url, json={"access_ttl_seconds": seconds})
    httpx.put(url, json={"access_ttl_seconds": 7200})


def xrpc(sandbox, connection, nsid, body):
    return httpx.post(
        f"{sandbox.base_url('bluesky')}/xrpc/{nsid}",
        json=body,
        headers={"Authorization": f"Bearer {connection.credentials['access_token']}"},
    )


def test_same_key_twice_makes_one_post(sandbox, adapter, account):
    post = OutgoingPost(text=unique("Én gang"))

    first = adapter.publish(post, idempotency_key="bsky-same")
    second = adapter.publish(post, idempotency_key="bsky-same")

    assert first.remote_id == second.remote_id
    assert first.remote_id.endswith("/app.bsky.feed.post/" + rkey_for("bsky-same"))
    assert len(sandbox.published("bluesky", account.account_id)) == 1


def test_expired_access_token_is_refreshed_and_stored(
    sandbox, adapter, account, tokens, access_ttl
):
    access_ttl(60)
    fresh = BlueskyAdapter(adapter.connection, on_tokens=tokens.append)
    fresh._renew()  # a session that lives 60 seconds
    tokens.clear()
    sandbox.advance_clock(120)

    result = fresh.publish(
        OutgoingPost(text=unique("Efter udløb")), idempotency_key=uuid.uuid4().hex
    )

    assert result.remote_id
    assert len(tokens) == 1
    assert tokens[0].extra["did"] == account.account_id


def test_expired_refresh_token_falls_back_to_the_app_password(
    sandbox, connection, tokens
):
    sandbox.expire_token("bluesky", connection.credentials["access_token"])
    sandbox.expire_token("bluesky", connection.credentials["refresh_token"])
    adapter = BlueskyAdapter(connection, on_tokens=tokens.append)

    info = adapter.verify()

    assert info.remote_id == connection.account_id
    assert len(tokens) == 1


def test_revoked_app_password_and_session_is_auth_expired(sandbox, connection):
    for name in ("access_token", "refresh_token", "app_password"):
        sandbox.expire_token("bluesky", connection.credentials[name])

    with pytest.raises(AuthExpired) as caught:
        BlueskyAdapter(connection).verify()

    assert_danish(caught.value.message)


def test_facets_survive_danish_letters_and_emoji(sandbox, adapter):
    anna = sandbox.provision("bluesky", handle="anna")
    text = f"Blåbærgrød 🫐 i Ørestad med @{anna.handle} #kulturnat https://kk.dk/æble"

    result = adapter.publish(OutgoingPost(text=text), idempotency_key=uuid.uuid4().hex)

    record = sandbox.item("bluesky", result.remote_id)["data"]["record"]
    raw = record["text"].encode()
    spans = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    assert spans[f"@{anna.handle}"]["did"] == anna.account_id
    assert spans["#kulturnat"]["tag"] == "kulturnat"
    assert spans["https://kk.dk/æble"]["uri"] == "https://kk.dk/æble"


def test_pds_refuses_facets_outside_the_text(sandbox, connection):
    response = xrpc(
        sandbox,
        connection,
        "com.atproto.repo.createRecord",
        {
            "repo": connection.account_id,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "ø",
                "createdAt": "2026-11-28T09:00:00.000Z",
                "facets": [
                    {
                        "index": {"byteStart": 0, "byteEnd": 1},
                        "features": [
                            {"$type": "app.bsky.richtext.facet#tag", "tag": "x"}
                        ],
                    }
                ],
            },
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert "splits a UTF-8 character" in response.json()["message"]


def test_pds_refuses_five_images_and_images_without_alt(sandbox, adapter, connection):
    image = adapter._xrpc(
        "POST",
        "com.atproto.repo.uploadBlob",
        content=b"JPEG",
        headers={"Content-Type": "image/jpeg"},
    ).json()["blob"]
    base = {
        "$type": "app.bsky.feed.post",
        "text": "",
        "createdAt": "2026-11-28T09:00:00.000Z",
    }

    five = xrpc(
        sandbox,
        connection,
        "com.atproto.repo.createRecord",
        {
            "repo": connection.account_id,
            "collection": "app.bsky.feed.post",
            "record": {
                **base,
                "embed": {
                    "$type": "app.bsky.embed.images",
                    "images": [{"alt": "a", "image": image}] * 5,
                },
            },
        },
    )
    no_alt = xrpc(
        sandbox,
        connection,
        "com.atproto.repo.createRecord",
        {
            "repo": connection.account_id,
            "collection": "app.bsky.feed.post",
            "record": {
                **base,
                "embed": {
                    "$type": "app.bsky.embed.images",
                    "images": [{"image": image}],
                },
            },
        },
    )

    assert five.status_code == 400
    assert "more than 4 elements" in five.json()["message"]
    assert no_alt.status_code == 400
    assert 'must have the property "alt"' in no_alt.json()["message"]


def test_image_over_two_megabytes_is_rejected_by_the_pds(sandbox, adapter):
    big = MediaItem(
        kind="image", mime_type="image/jpeg", alt_text="Stort", data=b"\xff" * 2_100_000
    )

    with pytest.raises(Rejected) as caught:
        adapter.publish(
            OutgoingPost(text="Stort billede", media=(big,)),
            idempotency_key=uuid.uuid4().hex,
        )

    assert caught.value.network_code == "BlobTooLarge"


def test_text_over_300_graphemes_is_refused_by_the_pds(sandbox, adapter):
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text="æ" * 301), idempotency_key="too-long")

    assert "300 graphemes" in caught.value.network_message
    assert_danish(caught.value.message)


def test_400_characters_fit_mastodon_but_not_bluesky(sandbox, adapter):
    text = "Københavns Kommune inviterer til borgermøde om havnebadene. " * 7
    text = text[:400]
    mastodon_account = sandbox.provision("mastodon")
    mastodon = MastodonAdapter(
        Connection(
            network="mastodon",
            base_url=sandbox.base_url("mastodon"),
            account_id=mastodon_account.account_id,
            handle=mastodon_account.handle,
            credentials=mastodon_account.tokens,
        )
    )
    mastodon.load_instance_configuration(force=True)
    post = OutgoingPost(text=text)

    assert mastodon.validate(post) == []
    assert mastodon.publish(post, idempotency_key=uuid.uuid4().hex).remote_id
    problems = adapter.validate(post)

    assert [p.code for p in problems] == ["text_too_long"]
    assert problems[0].actual == 400
    assert "Bluesky tillader højst 300" in problems[0].message
    assert_danish(problems[0].message)


def like_records(sandbox, account, remote_id):
    return [r for r in sandbox.items("bluesky", account.account_id, kind="like")
            if r["parent_id"] == remote_id]


def like_record(remote_id: str, cid: str) -> dict:
    return {"$type": "app.bsky.feed.like",
            "subject": {"uri": remote_id, "cid": cid},
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}


def test_a_second_create_record_really_is_a_second_like(
    sandbox, adapter, connection, account
):
    """The emulator is as strict as the PDS: it keeps every like record, so
    only Kanal's lookup can keep a like single."""
    post = adapter.publish(OutgoingPost(text=unique("Kulturnat")),
                           idempotency_key=uuid.uuid4().hex)
    comment = sandbox.citizen("bluesky", "Fedt!", parent_id=post.remote_id)
    cid = sandbox.item("bluesky", comment["item_id"])["data"]["cid"]
    for _ in range(2):
        made = xrpc(sandbox, connection, "com.atproto.repo.createRecord", {
            "repo": account.account_id, "collection": "app.bsky.feed.like",
            "record": like_record(comment["item_id"], cid)})
        assert made.status_code == 200, made.text
    assert len(like_records(sandbox, account, comment["item_id"])) == 2


def test_kanal_does_not_like_again_what_the_account_liked_in_the_app(
    sandbox, adapter, connection, account
):
    """A like made outside Kanal (the Bluesky app) is found through
    ``viewer.like``: liking adds none, unliking deletes that record."""
    post = adapter.publish(OutgoingPost(text=unique("Kulturnat")),
                           idempotency_key=uuid.uuid4().hex)
    comment = sandbox.citizen("bluesky", "Fedt!", parent_id=post.remote_id)
    cid = sandbox.item("bluesky", comment["item_id"])["data"]["cid"]
    made = xrpc(sandbox, connection, "com.atproto.repo.createRecord", {
        "repo": account.account_id, "collection": "app.bsky.feed.like",
        "record": like_record(comment["item_id"], cid)}).json()

    adapter.like(comment["item_id"])
    adapter.like(comment["item_id"])

    records = like_records(sandbox, account, comment["item_id"])
    assert [r["item_id"] for r in records] == [made["uri"]]
    adapter.like(comment["item_id"], liked=False)
    assert like_records(sandbox, account, comment["item_id"]) == []


def test_a_like_record_without_a_strong_ref_is_refused_by_the_pds(
    sandbox, connection, account
):
    refused = xrpc(sandbox, connection, "com.atproto.repo.createRecord", {
        "repo": account.account_id, "collection": "app.bsky.feed.like",
        "record": {"$type": "app.bsky.feed.like", "subject": {"uri": "x"},
                   "createdAt": "2026-12-07T10:00:00Z"}})
    assert refused.status_code == 400
    assert refused.json()["error"] == "InvalidRequest"


def test_repost_twice_leaves_one_repost(sandbox, adapter, account):
    sandbox.citizen(
        "bluesky",
        "Se programmet #kulturnat",
        kind="post",
        account="citizen-repost",
        author_name="Sofie Holm",
    )
    original = adapter.search_hashtag("kulturnat").posts[0]

    first = adapter.repost(original.remote_id)
    second = adapter.repost(original.remote_id)

    assert first.remote_id == second.remote_id
    reposts = sandbox.items("bluesky", account.account_id, kind="repost")
    assert len(reposts) == 1
    assert reposts[0]["data"]["record"]["subject"]["uri"] == original.remote_id


def test_reply_in_a_thread_keeps_the_root(sandbox, adapter):
    post = adapter.publish(OutgoingPost(text=unique("Tråd")), idempotency_key="root")
    comment = sandbox.citizen("bluesky", "Spørgsmål", parent_id=post.remote_id)
    answer = sandbox.citizen("bluesky", "Opfølgning", parent_id=comment["item_id"])

    reply = adapter.reply(
        answer["item_id"], "Svar fra kommunen", idempotency_key="answer-1"
    )

    record = sandbox.item("bluesky", reply.remote_id)["data"]["record"]
    assert record["reply"]["root"]["uri"] == post.remote_id
    assert record["reply"]["parent"]["uri"] == answer["item_id"]
    thread = adapter.fetch_thread(post.remote_id)
    assert [i.text for i in thread.items] == ["Spørgsmål", "Opfølgning"]


def test_hidden_reply_leaves_the_thread_view(sandbox, adapter):
    post = adapter.publish(OutgoingPost(text=unique("Skjul")), idempotency_key="h")
    comment = sandbox.citizen(
        "bluesky", "Mit CPR er 010101-1234", parent_id=post.remote_id
    )

    adapter.hide(comment["item_id"])

    assert adapter.fetch_thread(post.remote_id).items == ()


def test_hide_in_someone_elses_thread_is_rejected(sandbox, adapter):
    other = sandbox.citizen(
        "bluesky",
        "Borgerens eget opslag",
        kind="post",
        account="citizen-x",
        author_name="Bo",
    )
    reply = sandbox.citizen("bluesky", "Et svar", parent_id=other["item_id"])

    with pytest.raises(Rejected) as caught:
        adapter.hide(reply["item_id"])

    assert "egne tråde" in caught.value.message


def test_every_answer_carries_rate_limit_headers(adapter):
    adapter.verify()

    assert adapter.last_rate_limit["limit"] == "3000"
    assert adapter.last_rate_limit["policy"] == "3000;w=300"
    assert int(adapter.last_rate_limit["reset"]) > 0


def test_public_url_opens_the_post_page(sandbox, adapter):
    text = unique("Se mig på nettet")
    result = adapter.publish(OutgoingPost(text=text), idempotency_key="page")

    page = httpx.get(result.url)

    assert page.status_code == 200
    assert text in page.text


def test_pinned_post_is_on_the_profile_and_kept_beside_its_fields(
    sandbox, adapter, connection
):
    first = adapter.publish(OutgoingPost(text=unique("Vejarbejde")),
                            idempotency_key=uuid.uuid4().hex)
    second = adapter.publish(OutgoingPost(text=unique("Brand på Amager")),
                             idempotency_key=uuid.uuid4().hex)
    put = xrpc(sandbox, connection, "com.atproto.repo.putRecord", {
        "repo": connection.account_id, "collection": "app.bsky.actor.profile",
        "rkey": "self",
        "record": {"$type": "app.bsky.actor.profile", "description": "Kommunen"},
    })
    assert put.status_code == 200

    adapter.pin(first.remote_id)
    adapter.pin(second.remote_id)

    assert not sandbox.item("bluesky", first.remote_id)["data"]["pinned"]
    assert sandbox.item("bluesky", second.remote_id)["data"]["pinned"] is True
    profile = httpx.get(
        f"{sandbox.base_url('bluesky')}/xrpc/app.bsky.actor.getProfile",
        params={"actor": connection.account_id},
        headers={"Authorization": f"Bearer {connection.credentials['access_token']}"},
    ).json()
    assert profile["pinnedPost"]["uri"] == second.remote_id
    assert profile["description"] == "Kommunen"


def test_a_stale_swap_record_is_refused(sandbox, connection):
    body = {
        "repo": connection.account_id, "collection": "app.bsky.actor.profile",
        "rkey": "self", "record": {"$type": "app.bsky.actor.profile"},
    }
    assert xrpc(sandbox, connection, "com.atproto.repo.putRecord",
                body).status_code == 200

    stale = xrpc(sandbox, connection, "com.atproto.repo.putRecord",
                 {**body, "swapRecord": "bafyold"})

    assert stale.status_code == 400
    assert stale.json()["error"] == "InvalidSwap"


def test_pds_refuses_an_image_above_one_million_bytes_at_publish_time(
    sandbox, connection, account
):
    """Servers still in use refuse blobs above 1,000,000 bytes when the post is
    created (the lexicon allows 2,000,000); a newer PDS takes them."""
    big = MediaItem(kind="image", mime_type="image/jpeg", alt_text="Stort",
                    data=b"\xff\xd8\xff" + b"\x00" * 1_200_000)
    adapter = BlueskyAdapter(connection)
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost(text=unique("For stort"), media=(big,)),
                        idempotency_key=uuid.uuid4().hex)
    assert caught.value.network_code == "BlobTooLarge"
    assert sandbox.published("bluesky", account.account_id) == []

    newer = sandbox.provision("bluesky", extra={"max_image_bytes": 2_000_000})
    fine = BlueskyAdapter(TestBlueskyContract().make_connection(sandbox, newer))
    assert fine.publish(OutgoingPost(text=unique("Ny PDS"), media=(big,)),
                        idempotency_key=uuid.uuid4().hex).remote_id
