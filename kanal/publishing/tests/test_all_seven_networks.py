"""One post planned for all seven networks, from the editor to the sandbox.

Planning validates each variant the network's way (a text that fits Mastodon
but not Bluesky; emoji that fit X but not Threads), refuses approval with
Danish messages until each variant fits, and then the engine publishes every
variant exactly once on its own network's emulator.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from kanal.channels import vault
from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role
from kanal.planning import actions as planning
from kanal.planning.models import PostStatus
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import run_once

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

CONTRACTS = {
    "facebook": "TestFacebookContract",
    "instagram": "TestInstagramContract",
    "x": "TestXContract",
    "mastodon": "TestMastodonContract",
    "bluesky": "TestBlueskyContract",
    "linkedin": "TestLinkedInContract",
    "threads": "TestThreadsContract",
}
# 400 characters: within Mastodon's 500, over Bluesky's 300 graphemes.
LONG_TEXT = ("Kom til åbent hus i Islands Brygge Havnebad søndag. " * 8)[:400]
# 130 emoji: 260 of X's 280 weighted characters, but 520 of Threads' 500
# (Threads counts an emoji as its UTF-8 bytes).
EMOJI_TEXT = "🏊" * 130


def _channels(sandbox, organisation, administration):
    channels = {}
    for network, contract_name in CONTRACTS.items():
        module = importlib.import_module(
            f"kanal.channels.networks.tests.test_contract_{network}"
        )
        contract = getattr(module, contract_name)()
        account = sandbox.provision(network, **contract.provision_options())
        conn = contract.make_connection(sandbox, account)
        channels[network] = ChannelFactory(
            organisation=organisation,
            owner_administration=administration,
            network=network,
            display_name=f"KK på {network}",
            base_url=conn.base_url,
            remote_id=conn.account_id,
            handle=conn.handle,
            api_settings=dict(conn.settings),
            encrypted_credentials=vault.encrypt(dict(conn.credentials)),
        )
    return channels


def _jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), (20, 90, 160)).save(buffer, "JPEG")
    return SimpleUploadedFile("havnebad.jpg", buffer.getvalue(), "image/jpeg")


def _problems(post, network):
    for variant, problems in planning.invalid_variants(post).items():
        if variant.channel.network == network:
            return [p.message for p in problems]
    return []


def test_a_post_for_all_seven_networks_goes_out_once_on_each(
    sandbox,
    member,
    live_server,
    settings,
    tmp_path,
):
    settings.KANAL_BASE_URL = live_server.url  # Instagram/Threads fetch media
    settings.MEDIA_ROOT = tmp_path / "media"
    editor = member(Role.EDITOR)
    approver = member(Role.APPROVER, administration=editor.administration)
    channels = _channels(sandbox, editor.organisation, editor.administration)
    planned_at = timezone.now() + timezone.timedelta(minutes=5)
    image = planning.upload_media(
        actor=editor, upload=_jpeg(), alt_text="Vinterbadere i Havnebadet"
    )
    post = planning.create_post(
        actor=editor,
        title="Åbent hus i Havnebadet",
        shared_text=LONG_TEXT,
        channels=list(channels.values()),
        planned_at=planned_at,
    )
    by_network = {v.channel.network: v for v in post.variants.select_related("channel")}
    post = planning.update_post(
        post,
        actor=editor,
        variants={
            by_network["instagram"].channel_id: {
                "text": LONG_TEXT,
                "media": [image],
                "planned_at": planned_at,
            },
            by_network["threads"].channel_id: {
                "text": EMOJI_TEXT,
                "planned_at": planned_at,
            },
            by_network["x"].channel_id: {"text": EMOJI_TEXT, "planned_at": planned_at},
        },
    )

    # Fits Mastodon, not Bluesky; fits X, not Threads: told in Danish.
    assert _problems(post, "mastodon") == []
    assert _problems(post, "x") == []
    bluesky = " ".join(_problems(post, "bluesky"))
    assert "Bluesky" in bluesky and "300" in bluesky
    threads = " ".join(_problems(post, "threads"))
    assert "500" in threads
    planning.submit_post(post, actor=editor)
    post.refresh_from_db()
    with pytest.raises(planning.InvalidVariants) as refused:
        planning.approve_post(post, actor=approver)
    assert "Bluesky" in str(refused.value) or "Threads" in str(refused.value)

    # The editor shortens the two variants; now everything fits.
    post.refresh_from_db()
    short = "Åbent hus i Islands Brygge Havnebad søndag kl. 10 🏊 #voreskbh"
    post = planning.update_post(
        post,
        actor=editor,
        variants={
            by_network["bluesky"].channel_id: {"text": short, "planned_at": planned_at},
            by_network["threads"].channel_id: {"text": short, "planned_at": planned_at},
        },
    )
    assert planning.invalid_variants(post) == {}
    if post.status != PostStatus.IN_REVIEW:
        planning.submit_post(post, actor=editor)
        post.refresh_from_db()
    planning.approve_post(post, actor=approver)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED

    # The planned time has come.
    Publication.objects.filter(post_id=post.pk).update(due_at=timezone.now())
    statuses = run_once()
    assert sorted(statuses) == [PublicationStatus.PUBLISHED] * 7

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    for network, channel in channels.items():
        posts = [r for r in sandbox.published(network, channel.remote_id)]
        assert len(posts) == 1, (network, posts)
        publication = Publication.objects.get(post_id=post.pk, channel=channel)
        assert publication.url and publication.remote_id
    assert run_once() == []  # nothing left to send, nothing sent twice
