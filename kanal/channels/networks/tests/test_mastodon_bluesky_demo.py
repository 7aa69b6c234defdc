"""The demo accounts of Mastodon and Bluesky as Kanal sees them: seeded posts,
citizens' comments, #voreskbh, and simulated citizens read through the
adapters."""

import pytest

from kanal.channels.networks.base import Connection
from kanal.channels.networks.bluesky import BlueskyAdapter
from kanal.channels.networks.mastodon import MastodonAdapter

pytestmark = pytest.mark.sandbox

MASTODON_DEMO = "109000000000000001"
BLUESKY_DEMO = "did:plc:kbhkommune7x2q4m5n6p3r"


@pytest.fixture
def demo(sandbox):
    sandbox.reset()
    yield
    sandbox.reset()


def mastodon(sandbox):
    return MastodonAdapter(
        Connection(
            network="mastodon",
            base_url=sandbox.base_url("mastodon"),
            account_id=MASTODON_DEMO,
            handle="kobenhavn",
            credentials={"access_token": "sandbox-mastodon-token-kk"},
        )
    )


def bluesky(sandbox):
    return BlueskyAdapter(
        Connection(
            network="bluesky",
            base_url=sandbox.base_url("bluesky"),
            account_id=BLUESKY_DEMO,
            handle="kobenhavn.bsky.social",
            credentials={
                "access_token": "sandbox-bluesky-access-jwt-kk",
                "refresh_token": "sandbox-bluesky-refresh-jwt-kk",
                "app_password": "kbhk-demo-pass-word",
            },
            settings={"web_url": sandbox.base_url("bluesky")},
        )
    )


def test_mastodon_demo_account_has_posts_comments_and_tags(sandbox, demo):
    adapter = mastodon(sandbox)

    inbox = adapter.fetch_inbox()
    tagged = adapter.search_hashtag("voreskbh")
    posts = sandbox.items("mastodon", MASTODON_DEMO, kind="post")
    metrics = adapter.fetch_metrics(tuple(p["item_id"] for p in posts))

    assert adapter.verify().followers == 1850
    assert {i.text for i in inbox.items} >= {
        "Glæder mig! Er der livredder hele weekenden?",
        "Skal man bestille billet til tårnet?",
    }
    assert all(i.kind == "reply" for i in inbox.items)
    assert len(tagged.posts) == 3
    assert sorted(
        m.value
        for p in metrics.posts.values()
        for m in p
        if m.name == "favourites_count"
    ) == [18, 42, 65]


def test_bluesky_demo_account_has_posts_comments_and_tags(sandbox, demo):
    adapter = bluesky(sandbox)

    inbox = adapter.fetch_inbox()
    tagged = adapter.search_hashtag("voreskbh")
    posts = sandbox.items("bluesky", BLUESKY_DEMO, kind="post")
    metrics = adapter.fetch_metrics(tuple(p["item_id"] for p in posts))

    assert adapter.verify().followers == 3400
    assert {i.text for i in inbox.items} >= {
        "Er der livredder hele weekenden?",
        "Skal man bestille billet til tårnet?",
    }
    assert len(tagged.posts) == 3
    assert sorted(
        m.value for p in metrics.posts.values() for m in p if m.name == "likeCount"
    ) == [23, 57, 80]


@pytest.mark.parametrize("make", [mastodon, bluesky], ids=["mastodon", "bluesky"])
def test_simulated_citizens_reach_the_inbox(sandbox, demo, make):
    adapter = make(sandbox)
    before = adapter.fetch_inbox()

    result = sandbox.tick(seed=7, actions=40, networks=[adapter.network])
    after = adapter.fetch_inbox(since=before.cursor)

    made = [
        i
        for i in result["items"]
        if i["kind"] in ("comment", "reply", "mention")
        and i["account_id"] == adapter.connection.account_id
    ]
    assert made, "the tick made nothing for the demo account"
    assert {i["text"] for i in made} <= {i.text for i in after.items}
