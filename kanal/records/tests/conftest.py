from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from kanal.organisations.roles import Role


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk(organisation, member):
    """An officer, an editor, two administrations and two channels."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import AdministrationFactory

    kff = AdministrationFactory(organisation=organisation, code="KFF", name="Kultur")
    tmf = AdministrationFactory(organisation=organisation, code="TMF", name="Teknik")
    return {
        "kff": kff,
        "tmf": tmf,
        "officer": member(Role.RECORDS_OFFICER, administration=kff),
        "editor": member(Role.EDITOR, administration=kff),
        "analyst": member(Role.ANALYST, administration=kff),
        "facebook": ChannelFactory(organisation=organisation, network="facebook",
                                   display_name="KK Facebook",
                                   owner_administration=kff),
        "x": ChannelFactory(organisation=organisation, network="x",
                            display_name="KK på X", owner_administration=tmf),
    }


@pytest.fixture
def published(organisation):
    """``published(channel, text, ago=timedelta, media=[...])`` → a
    publication in the published state (as the engine leaves it)."""
    from kanal.publishing.models import Publication, PublicationStatus

    def make(channel, text, *, ago=timedelta(days=3), media=(), url=None, **kw):
        when = timezone.now() - ago
        return Publication.objects.create(
            organisation=organisation, channel=channel, planned_at=when,
            due_at=when, late_after=when + timedelta(hours=2), text=text,
            media=list(media), status=PublicationStatus.PUBLISHED,
            # An id in a network's shape (no spaces, ASCII), one per text.
            published_at=when,
            remote_id="r-" + hashlib.sha256(text.encode()).hexdigest()[:8],
            url=url or f"https://example.org/p/{abs(hash(text)) % 10**6}", **kw,
        )

    return make


@pytest.fixture
def stored_image():
    def make(name="havn.jpg", data=b"\xff\xd8\xffbillede af havnebadet"):
        path = default_storage.save(f"media/2026/11/{name}", ContentFile(data))
        return {"id": 1, "path": path, "mime_type": "image/jpeg",
                "alt_text": "Havnebadet", "width": 10, "height": 10,
                "kind": "image"}

    return make
