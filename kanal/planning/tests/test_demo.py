"""The demo tells one story (issue 11, finding 5).

Its history is what Kanal and the sandbox produced together: every post the
calendar shows as published is on the sandbox at the address Kanal links to,
with its image on Instagram; what failed or was missed is on the operations
page, where it can be retried; the demo accounts hold nothing Kanal did not
publish; loading twice changes nothing.
"""

from __future__ import annotations

import socket
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.channels.networks.tests.sandbox_fixtures import serve_in_thread
from kanal.planning.models import MediaAsset, Post, PostStatus, Variant
from kanal.planning.timeutil import COPENHAGEN

CLOSED = "http://127.0.0.1:9"


def _plan_states():
    return {
        PostStatus.PROPOSAL,
        PostStatus.CHANGES_REQUESTED,
        PostStatus.DECLINED,
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
        PostStatus.CANCELLED,
    }


@pytest.mark.django_db
def test_without_the_sandbox_the_plan_loads_and_the_history_waits(settings):
    from kanal.demo import load_demo
    from kanal.planning.demo import PAST

    settings.KANAL_SANDBOX_URL = CLOSED
    settings.KANAL_BASE_URL = CLOSED
    notes: list[str] = []
    organisation = load_demo(notes=notes)
    states = set(
        Post.objects.filter(organisation=organisation).values_list("status", flat=True)
    )
    assert _plan_states() <= states
    assert not Post.objects.filter(title__in=[p.title for p in PAST]).exists()
    assert any("historik venter" in note for note in notes), notes
    count = Post.objects.count()
    load_demo()
    assert Post.objects.count() == count


@pytest.mark.django_db
def test_demo_images_are_all_different(settings):
    from kanal.demo import load_demo

    settings.KANAL_SANDBOX_URL = CLOSED
    settings.KANAL_BASE_URL = CLOSED
    load_demo()
    assets = list(MediaAsset.objects.all())
    assert len(assets) >= 4
    names = Counter(a.original_name for a in assets)
    assert max(names.values()) == 1, names
    contents = Counter(a.file.read() for a in assets)
    assert max(contents.values()) == 1
    assert all(a.alt_text for a in assets)


@pytest.fixture
def demo_sandbox(tmp_path, monkeypatch):
    """A sandbox as ``make run`` starts it: demo accounts without posts."""
    import uvicorn

    from kanal.channels.networks.tests.sandbox_fixtures import SandboxServer
    from sandbox.app import create_app
    from sandbox.core import SandboxConfig

    monkeypatch.setenv("SANDBOX_DEMO_POSTS", "0")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(
        SandboxConfig(
            base_url=url,
            db_path=str(tmp_path / "sandbox.sqlite3"),
            seed=11,
            webhook_url="",
            app_secret="test-app-secret",
        )
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
    )
    thread = serve_in_thread(server, sock)
    running = SandboxServer(url, app)
    yield running
    server.should_exit = True
    thread.join(timeout=5)
    running.http.close()
    sock.close()


DEMO_ACCOUNTS = {
    "facebook": "104738291045678",
    "instagram": "17841400000000001",
    "x": "1500000000000000001",
    "mastodon": "109000000000000001",
    "bluesky": "did:plc:kbhkommune7x2q4m5n6p3r",
    "linkedin": "1000001",
    "threads": "26000000000000001",
}


def _sandbox_posts(sandbox):
    """``{(network, item id): item}`` of the demo accounts' own posts."""
    posts = {}
    for network, account in DEMO_ACCOUNTS.items():
        for item in sandbox.items(network, account):
            if item["kind"] == "post" and item["author_id"] in (account, ""):
                posts[(network, item["item_id"])] = item
    return posts


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_operations_page_calendar_and_sandbox_agree(
    settings, live_server, demo_sandbox, client
):
    from kanal.demo import load_demo
    from kanal.planning.demo import PAST
    from kanal.publishing.models import Publication

    settings.KANAL_SANDBOX_URL = demo_sandbox.url
    settings.KANAL_BASE_URL = live_server.url
    notes: list[str] = []
    organisation = load_demo(notes=notes)
    assert any("udgivet på øvebanen" in n for n in notes), notes

    history = {
        p.title: p for p in Post.objects.filter(title__in=[p.title for p in PAST])
    }
    assert set(history) == {p.title for p in PAST}
    publications = list(
        Publication.objects.filter(
            post_id__in=[p.pk for p in history.values()]
        ).select_related("channel")
    )
    by_post = {}
    for pub in publications:
        by_post.setdefault(pub.post_id, {})[pub.channel.network] = pub
    sandbox_posts = _sandbox_posts(demo_sandbox)

    for past in PAST:
        post = history[past.title]
        pubs = by_post[post.pk]
        # One publication per network, with the fate the story gives it.
        assert {n: p.status for n, p in pubs.items()} == past.outcomes
        outcomes = set(past.outcomes.values())
        if outcomes == {"published"}:
            assert post.status == PostStatus.PUBLISHED
        elif "published" in outcomes:
            assert post.status == PostStatus.PARTIALLY_PUBLISHED
        elif outcomes == {"missed"}:
            assert post.status == PostStatus.MISSED
        else:
            assert post.status == PostStatus.FAILED
        for network, pub in pubs.items():
            variant = Variant.objects.get(pk=pub.variant_id)
            assert variant.publication_status == pub.status
            assert ".example" not in pub.url
            if pub.status != "published":
                assert not pub.url and pub.last_error
                assert (network, pub.remote_id) not in sandbox_posts
                continue
            # The sandbox holds it, as sent, at the planned time.
            item = sandbox_posts[(network, pub.remote_id)]
            assert (
                item["text"].startswith(past.text[:40])
                or past.text[:40] in (item["text"])
            ), (network, item["text"])
            at = datetime.fromisoformat(item["created_at"])
            assert abs(at - variant.planned_at) < timedelta(minutes=2), (network, at)
            assert pub.url == variant.published_url
            assert pub.url.startswith(demo_sandbox.url)
            page = httpx.get(pub.url, timeout=5, follow_redirects=True)
            assert page.status_code == 200
            if "https://" in past.text:
                # The kk.dk link went out tracked, once, with the campaign.
                assert item["text"].count("utm_source=") == 1, item["text"]
                assert f"utm_source={network}" in item["text"]
                assert "utm_campaign=vores-koebenhavn" in item["text"]
            if network == "instagram":
                assert item["data"].get("media_url") or item["data"].get("children")
                assert list(variant.media.all())
    # The engine's messages about the history are dated when it happened.
    from kanal.notifications.models import Notification, subject_of

    by_subject = {subject_of(pub): pub for pub in publications}
    for note in Notification.objects.filter(subject__in=by_subject):
        pub = by_subject[note.subject]
        when = pub.late_after if pub.status == "missed" else pub.planned_at
        assert abs(note.created_at - when) < timedelta(minutes=2), (
            pub.status,
            note.created_at,
        )
        if pub.published_at:
            assert abs(pub.published_at - pub.planned_at) < timedelta(minutes=2)
    # The demo accounts hold exactly what Kanal published.
    published = {
        (p.channel.network, p.remote_id)
        for p in publications
        if p.status == "published"
    }
    assert set(sandbox_posts) == published

    # The operations page shows what did not go out, with what to do.
    editor = organisation.memberships.get(user__username="redaktor")
    client.force_login(editor.user)
    failed = client.get(reverse("publishing:operations") + "?vis=failed")
    missed = client.get(reverse("publishing:operations") + "?vis=missed")
    failed_html, missed_html = failed.content.decode(), missed.content.decode()
    for pub in publications:
        html = {"failed": failed_html, "missed": missed_html}.get(pub.status)
        if html is None:
            continue
        row = html[html.index(f'id="pub-{pub.pk}"') :]
        row = row[: row.index("</tr>")]
        assert "Udgiv nu" in row or "Prøv igen nu" in row
    # The calendar shows the same fates.
    for past in PAST:
        post = history[past.title]
        local = timezone.localtime(post.planned_at, COPENHAGEN)
        page = client.get(
            reverse("planning:calendar_week"), {"uge": local.date().isoformat()}
        ).content.decode()
        entry = page[page.index(f'href="/plan/opslag/{post.pk}/"') - 200 :]
        assert f"status-{post.status}" in entry[:400]

    # Loading again changes nothing, here or on the sandbox.
    counts = (
        Post.objects.count(),
        Publication.objects.count(),
        MediaAsset.objects.count(),
        len(_sandbox_posts(demo_sandbox)),
    )
    notes = []
    load_demo(notes=notes)
    assert (
        Post.objects.count(),
        Publication.objects.count(),
        MediaAsset.objects.count(),
        len(_sandbox_posts(demo_sandbox)),
    ) == counts
    assert any("findes allerede" in n for n in notes)


@pytest.mark.django_db
def test_the_demo_has_the_crisis_templates_once(settings):
    from kanal.demo import load_demo
    from kanal.publishing.models import CrisisTemplate

    settings.KANAL_SANDBOX_URL = CLOSED
    settings.KANAL_BASE_URL = CLOSED
    organisation = load_demo()
    count = CrisisTemplate.objects.filter(organisation=organisation).count()
    assert count >= 4
    load_demo()
    assert CrisisTemplate.objects.filter(organisation=organisation).count() == count


@pytest.mark.django_db
def test_demo_media_can_be_found_by_tag(settings):
    from kanal.demo import load_demo
    from kanal.organisations.models import Membership
    from kanal.planning import selectors

    settings.KANAL_SANDBOX_URL = CLOSED
    settings.KANAL_BASE_URL = CLOSED
    organisation = load_demo()
    editor = Membership.objects.get(
        organisation=organisation, user__username="redaktor"
    )
    found = {m.original_name for m in selectors.search_media(editor, tag="jul")}
    assert found == {
        "juleudstilling-nikolaj-kunsthal.jpg",
        "julekoncert-kulturhuset.jpg",
    }
