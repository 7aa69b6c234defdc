"""The engine sends each network Kanal's own rendition of an image."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from kanal.channels.networks import adapter_class, mediafit
from kanal.channels.networks.base import Connection
from kanal.channels.networks.errors import Rejected
from kanal.publishing.engine import _media_items


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KANAL_BASE_URL = "https://kanal.kk.dk"


def caps_of(network: str):
    return adapter_class(network)(
        Connection(network=network, base_url="http://127.0.0.1:9")
    ).capabilities()


def stored(image: Image.Image, fmt: str = "JPEG", **options) -> dict:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    mime = {"JPEG": "image/jpeg", "PNG": "image/png"}[fmt]
    path = default_storage.save(f"media/billede.{fmt.lower()}",
                                ContentFile(out.getvalue()))
    return {"kind": "image", "mime_type": mime, "path": path,
            "alt_text": "Havnebadet", "width": image.width, "height": image.height}


def grainy(width: int, height: int) -> Image.Image:
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    return Image.blend(base, grain, 0.5)


def test_bluesky_gets_a_rendition_under_one_million_bytes_made_once(monkeypatch):
    snapshot = stored(grainy(2400, 1600), quality=97)
    assert default_storage.size(snapshot["path"]) > 1_000_000
    caps = caps_of("bluesky")

    (first,) = _media_items([snapshot], caps)

    assert first.size <= 1_000_000
    assert first.public_url.startswith("https://kanal.kk.dk/")
    assert "/renditions/" in first.public_url
    assert first.alt_text == "Havnebadet"
    # A retry reuses the stored rendition: the same bytes, nothing fitted again.
    monkeypatch.setattr(mediafit, "fit_image",
                        lambda *a: pytest.fail("fitted twice"))
    (again,) = _media_items([snapshot], caps)
    assert again.data == first.data and again.public_url == first.public_url


def test_instagram_fetches_a_jpeg_rendition_at_its_public_url(settings):
    tall = Image.new("RGBA", (600, 1800), (0, 91, 140, 255))
    snapshot = stored(tall, "PNG")

    (item,) = _media_items([snapshot], caps_of("instagram"))

    assert item.mime_type == "image/jpeg"
    assert (item.width, item.height) == (1440, 1800)
    base = f"https://kanal.kk.dk/{settings.MEDIA_URL.strip('/')}/"
    assert item.public_url.startswith(base)
    relative = item.public_url.removeprefix(base)
    assert relative.startswith("renditions/") and relative.endswith(".jpg")
    with default_storage.open(relative, "rb") as f:
        assert f.read() == item.data


def test_an_image_that_already_fits_is_sent_as_it_is():
    snapshot = stored(grainy(400, 300), quality=80)
    with default_storage.open(snapshot["path"], "rb") as f:
        original = f.read()

    (item,) = _media_items([snapshot], caps_of("x"))

    assert item.data == original
    assert item.public_url.endswith(snapshot["path"])


def test_without_capabilities_nothing_is_changed():
    snapshot = stored(grainy(2400, 1600), quality=97)
    (item,) = _media_items([snapshot])
    assert item.size > 1_000_000


def test_an_image_kanal_cannot_read_is_refused_before_sending():
    path = default_storage.save("media/ødelagt.jpg", ContentFile(b"not a jpeg"))
    snapshot = {"kind": "image", "mime_type": "image/jpeg", "path": path,
                "alt_text": "x"}

    with pytest.raises(Rejected) as caught:
        _media_items([snapshot], caps_of("bluesky"))
    assert caught.value.network_code == "unreadable"
    assert "Kanal kunne ikke læse billedet" in caught.value.message
