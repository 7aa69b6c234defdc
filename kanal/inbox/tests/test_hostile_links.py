"""A link a network sends is kept only as ``kanal.untrusted.safe_url`` keeps
it, on every way an item comes in: a signed webhook, and each network's poll
(its answer spoiled on the sandbox). No such link is stored on the item or
its record, nor shown as an href on the conversation's page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from kanal.channels.adapters import adapter_for
from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import intake, polling
from kanal.inbox.models import InboxItem
from kanal.organisations.roles import Role
from kanal.records.models import RecordEntry
from kanal.untrusted import safe_url

from .test_polling import NETWORKS, contract_for

HOSTILE = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "//evil.example/p/1",
    "/indbakke/",
    " http://x.example/p/1",
    "http://x.example/p/1\n",
    "http://x.example/p /1",
    "http:///p/1",
    "https://x.example/" + "p" * 600,
]
IDS = ["javascript", "mixed-case", "tab-inside", "vbscript", "data",
       "scheme-relative", "relative", "leading-space", "trailing-newline",
       "inner-space", "no-host", "too-long"]
_HREF = re.compile(r'href="([^"]*)"')


def _assert_not_kept(items, client, hostile) -> None:
    """No item of ``items``, nor its record, keeps ``hostile``; every link
    they keep is one ``safe_url`` keeps; the conversation's page shows
    ``hostile`` as no href."""
    assert items
    for item in items:
        assert item.url != hostile
        assert item.url == safe_url(item.url)
        page = client.get(f"/indbakke/{item.conversation_id}/")
        assert page.status_code == 200
        hrefs = {html.unescape(h) for h in _HREF.findall(page.content.decode())}
        if not hostile.startswith("/") or hostile.startswith("//"):
            # A site path of Kanal's own is a link of the page itself.
            assert hostile not in hrefs
        assert not {h for h in hrefs if h.strip().lower().startswith(
            ("javascript:", "data:", "vbscript:", "//"))}
    permalinks = RecordEntry.objects.filter(
        source_key__in=[f"inbox:item:{i.pk}" for i in items]
    ).values_list("permalink", flat=True)
    assert hostile not in permalinks
    assert all(link == safe_url(link) for link in permalinks)


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_a_webhooks_link_is_kept_only_when_safe(
    post_webhook, organisation, member, client_for, django_capture_on_commit_callbacks,
    hostile,
):
    from kanal.channels.tests.factories import ChannelFactory

    ChannelFactory(organisation=organisation, network="threads", remote_id="TH1")
    # Threads is the Meta webhook that carries a link (``permalink``).
    post_webhook("threads", {"target_id": "TH1", "time": 1_780_000_000,
                             "values": {"field": "replies", "value": {
                                 "id": "T1", "username": "omar", "text": "Godt",
                                 "timestamp": "2026-06-01T10:00:00+0000",
                                 "permalink": hostile,
                                 "replied_to": {"id": "R1"},
                                 "root_post": {"id": "R1"}}}})
    with django_capture_on_commit_callbacks(execute=True):
        intake.process_deliveries()
    items = list(InboxItem.objects.all())
    assert [i.remote_id for i in items] == ["T1"]
    _assert_not_kept(items, client_for(member(Role.EDITOR)), hostile)


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_an_adapters_link_is_kept_only_when_safe(
    facebook_channel, member, client_for, django_capture_on_commit_callbacks,
    hostile,
):
    """What any adapter hands to polling (``ingest``), whatever it parsed."""
    with django_capture_on_commit_callbacks(execute=True):
        intake.ingest(facebook_channel, NetworkItem(
            remote_id="p1", kind="comment", author_id="a1", author_name="Borger",
            text="Hej", created_at=datetime.now(UTC), post_remote_id="post1",
            url=hostile), action="poll")
    _assert_not_kept(list(InboxItem.objects.all()),
                     client_for(member(Role.EDITOR)), hostile)


def test_a_safe_link_is_kept_and_shown(facebook_channel, member, client_for, db):
    intake.ingest(facebook_channel, NetworkItem(
        remote_id="p1", kind="comment", author_id="a1", author_name="Borger",
        text="Hej", created_at=datetime.now(UTC), post_remote_id="post1",
        url="https://www.facebook.com/104738291045678_1"), action="poll")
    item = InboxItem.objects.get()
    assert item.url == "https://www.facebook.com/104738291045678_1"
    page = client_for(member(Role.EDITOR)).get(f"/indbakke/{item.conversation_id}/")
    assert 'href="https://www.facebook.com/104738291045678_1"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("network", NETWORKS)
def test_a_polled_link_is_kept_only_when_safe(
    sandbox, organisation, member, client_for, network
):
    """Each network's poll, its answers' addresses (``url``, ``permalink``,
    ``permalink_url``) made each hostile link in turn. X, Bluesky and
    LinkedIn send none with an item: their adapters make it from the id."""
    from kanal.publishing.tests.conftest import sandbox_channel

    contract = contract_for(network)
    channel = sandbox_channel(sandbox, organisation, network)
    post = contract.publish(sandbox, adapter_for(channel))
    client = client_for(member(Role.EDITOR))
    for n, hostile in enumerate(HOSTILE):
        made = contract.make_comment(sandbox, channel.remote_id, post.remote_id,
                                     f"Spørgsmål nr. {n}")
        sandbox.fault(network, "hostile_after_create", operation="inbox",
                      count=None, params={"answer": "given_url", "url": hostile})
        try:
            polling.poll_channel(channel)
        finally:
            sandbox.clear_faults(network)
        items = list(InboxItem.objects.filter(channel=channel, remote_id=made))
        assert len(items) == 1, hostile
        _assert_not_kept(items, client, hostile)
