"""OUTSIDE TESTER 2 (branch tester2): failing tests for polling, judged by
the sandbox. Each test names its finding in /work/briefs/findings2.md. They
fail on main as of 39dbe77."""

from __future__ import annotations

import pytest

from kanal.inbox import polling
from kanal.inbox.models import InboxItem
from kanal.publishing.tests.conftest import sandbox_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mastodon(sandbox, organisation):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "mastodon")
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key="t2-post")
    made = sandbox.citizen("mastodon", "@kbh hvornår åbner havnebadet?",
                           parent_id=post.remote_id, author_name="Mette")
    polling.poll_channel(channel)
    item = InboxItem.objects.get(channel=channel, remote_id=made["item_id"])
    return {"channel": channel, "item": item, "sandbox": sandbox}


def test_finding_5_a_citizens_deletion_on_a_polled_network_is_recorded(mastodon):
    """Finding 5: only Meta's webhook "remove" marks an item deleted. On the
    polled networks (Mastodon here; X, Bluesky and LinkedIn alike) a reply
    the citizen deleted stays answerable in Kanal forever, and its text is
    kept as if still public."""
    item = mastodon["item"]
    mastodon["sandbox"].control(
        "DELETE", f"/_sandbox/items/mastodon/{item.remote_id}")
    assert mastodon["sandbox"].item("mastodon", item.remote_id)["deleted_at"]
    polling.poll_channel(mastodon["channel"])
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None


def test_finding_5_a_citizens_edit_on_a_polled_network_is_recorded(mastodon):
    """Finding 5: an edit of a polled item is never read again."""
    item = mastodon["item"]
    mastodon["sandbox"].control(
        "PATCH", f"/_sandbox/items/mastodon/{item.remote_id}",
        {"text": "@kbh glem det, jeg fandt svaret"})
    polling.poll_channel(mastodon["channel"])
    item.refresh_from_db()
    assert "glem det" in item.text


def _bluesky(sandbox, organisation):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "bluesky")
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key="t2-bsky")
    return channel, post


@pytest.mark.parametrize("skewed", [
    "2099-01-01T00:00:00.000Z",  # a broken clock
    None,  # two hours ahead, then put right (set below)
])
def test_finding_6_one_time_from_the_future_silences_bluesky_polling(
    sandbox, organisation, skewed
):
    """Finding 6: the Bluesky cursor is the newest ``indexedAt`` seen, and
    every later notification at or before it is skipped. One notification
    stamped in the future (a skewed server, a clock put right) makes the
    channel's inbox silent until real time passes that stamp: forever for
    2099, two hours of citizens' replies lost for a two-hour skew."""
    from datetime import UTC, datetime, timedelta

    channel, post = _bluesky(sandbox, organisation)
    ahead = skewed or (datetime.now(UTC) + timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    sandbox.citizen("bluesky", "Første svar", parent_id=post.remote_id,
                    author_name="Mette", data={"indexed_at": ahead})
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel).count() == 1

    later = sandbox.citizen("bluesky", "Hvornår åbner havnebadet?",
                            parent_id=post.remote_id, author_name="Omar")
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel,
                                    remote_id=later["item_id"]).exists()


def test_finding_6_the_same_on_the_meta_catch_up_poll():
    """Finding 6, Facebook/Instagram/Threads: the catch-up cursor
    (``graph.inbox_page``) is the newest ``created_time`` seen; after one
    comment stamped in the future, every real comment is older than the
    cursor and left out, so the poll that should save a missed webhook
    loses it."""
    from datetime import UTC, datetime, timedelta

    from kanal.channels.networks import graph
    from kanal.channels.networks.base import InboxItem as NetworkItem

    def comment(remote_id, at):
        return NetworkItem(remote_id=remote_id, kind="comment", author_id="a",
                           author_name="Mette", text="Hej", created_at=at,
                           post_remote_id="p", parent_remote_id="p")

    now = datetime.now(UTC)
    first = graph.inbox_page([comment("1", now + timedelta(hours=2))], None)
    later = graph.inbox_page([comment("2", now + timedelta(minutes=5))],
                             first.cursor)
    assert [i.remote_id for i in later.items] == ["2"]


def test_finding_16_a_linkedin_post_with_many_comments_keeps_its_newest(
    sandbox, organisation
):
    """Finding 16: LinkedIn's comments are read oldest first, at most
    ``MAX_PAGES`` x ``PAGE_SIZE`` (10 x 50) per post on every poll, and
    filtered by the cursor afterwards. On a post past 500 comments (a
    popular post, a storm), the newest are never read: every new comment on
    it is lost, on every poll."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "linkedin")
    post = adapter_for(channel).publish(OutgoingPost(text="Ny bydel"),
                                        idempotency_key="t2-li")
    for n in range(500):
        sandbox.citizen("linkedin", f"Kommentar {n}", parent_id=post.remote_id,
                        author_name=f"Borger {n}")
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel).count() == 500
    newest = sandbox.citizen("linkedin", "Hvornår kommer metroen?",
                             parent_id=post.remote_id, author_name="Omar")
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel,
                                    remote_id=newest["item_id"]).exists()


def test_finding_16_a_comment_on_an_older_linkedin_post_is_read(
    sandbox, organisation
):
    """Finding 16: LinkedIn has no webhooks here, and its poll reads the
    comments of the 20 newest posts only (``INBOX_POSTS``). A page posting
    daily never hears a comment on a three-week-old post."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    channel = sandbox_channel(sandbox, organisation, "linkedin")
    adapter = adapter_for(channel)
    posts = [adapter.publish(OutgoingPost(text=f"Opslag {n}"),
                             idempotency_key=f"t2-li-{n}") for n in range(21)]
    polling.poll_channel(channel)
    made = sandbox.citizen("linkedin", "Er der svar på min ansøgning?",
                           parent_id=posts[0].remote_id, author_name="Mette")
    polling.poll_channel(channel)
    assert InboxItem.objects.filter(channel=channel,
                                    remote_id=made["item_id"]).exists()
