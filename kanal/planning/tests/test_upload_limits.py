"""Upload abuse by the lowest writing role (issue 10, finding 7): pixel caps
checked before decoding, thumbnails without full-size bitmaps, real video
containers only, a per-organisation quota and a request-size limit."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from kanal.planning import actions, media
from kanal.planning.models import MediaAsset
from kanal.planning.tests.mp4 import mp4

pytestmark = pytest.mark.django_db

HANDLERS = [
    "kanal.planning.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(width: int, height: int, *, colour_type: int = 0, depth: int = 1) -> bytes:
    """A real PNG of one colour; tiny on disk however many pixels it claims."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    row = 1 + (width * channels * depth + 7) // 8
    compressor = zlib.compressobj(9)
    body = b"".join(
        compressor.compress(b"\0" * row) for _ in range(height)
    ) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", quality=30)
    return out.getvalue()


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type)


# ---------------------------------------------------------------------------
# Images


def test_the_7745_square_png_is_refused_before_it_is_decoded(desk, monkeypatch):
    data = png(7745, 7745)
    assert len(data) < 200 * 1024

    def no_decode(self, *args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decode)
    with pytest.raises(media.MediaRejected, match="7745 × 7745 pixel"):
        actions.upload_media(actor=desk.contributor, upload=upload("bomb.png", data))
    assert MediaAsset.objects.count() == 0


def test_a_png_that_would_decode_past_the_budget_is_refused(desk, monkeypatch):
    data = png(5200, 5200, colour_type=6, depth=8)  # 27 Mpx, 108 MB decoded
    monkeypatch.setattr(
        "PIL.ImageFile.ImageFile.load",
        lambda self, *a, **k: (_ for _ in ()).throw(AssertionError("decoded")),
    )
    with pytest.raises(media.MediaRejected, match="Gem det som JPEG"):
        media.read_upload(upload("big.png", data))


def test_a_large_jpeg_is_decoded_at_reduced_scale(desk, monkeypatch):
    decoded = []
    original = Image.Image.thumbnail

    def spy(self, *args, **kwargs):
        decoded.append(self.size)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "thumbnail", spy)
    read = media.read_upload(upload("photo.jpg", jpeg(4000, 3000)))
    assert (read.width, read.height) == (4000, 3000)
    thumb = Image.open(io.BytesIO(read.thumbnail))
    assert max(thumb.size) <= 480
    # The decoder produced a quarter-size bitmap (draft), never 4000 × 3000.
    assert decoded == [(1000, 750)]


def test_only_the_four_web_formats_are_even_tried(desk):
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "TIFF")
    with pytest.raises(media.MediaRejected, match="hverken et billede"):
        media.read_upload(upload("x.tiff", out.getvalue()))
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "BMP")
    with pytest.raises(media.MediaRejected, match="hverken et billede"):
        media.read_upload(upload("x.bmp", out.getvalue()))


def test_an_ordinary_photo_still_gets_its_thumbnail_the_right_way_up(desk):
    image = Image.new("RGB", (300, 100), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    asset = actions.upload_media(
        actor=desk.contributor, upload=upload("rotated.jpg", out.getvalue())
    )
    assert (asset.width, asset.height) == (300, 100)
    with asset.thumbnail.open("rb") as handle:
        thumb = Image.open(handle)
        assert thumb.size[0] < thumb.size[1]  # shown upright


# ---------------------------------------------------------------------------
# Videos


@pytest.mark.parametrize(
    "data,message",
    [
        (b"\0\0\0\x18ftypmp42\0\0\0\0mp41" + b"\0" * 200_000, "ikke en gyldig MP4"),
        (
            b"\0\0\0\x18ftypmp42\0\0\0\0mp41" + b"<html><script>alert(1)</script>" * 99,
            "ikke en gyldig MP4",
        ),
        (mp4(trailer=b"<html><body>hi</body></html>"), "ikke en gyldig MP4"),
        (mp4(codec=b"vp09"), "kodet som vp09"),
        (mp4(with_video=False), "ingen videospor"),
        (mp4(seconds=0), "varer 0 sekunder"),
        (mp4(seconds=5 * 3600), "varer 18000 sekunder"),
        (mp4(width=7680, height=4320), "7680 × 4320 pixel"),
    ],
)
def test_only_real_video_containers_are_accepted(desk, data, message):
    with pytest.raises(media.MediaRejected, match=message):
        actions.upload_media(actor=desk.contributor, upload=upload("f.mp4", data))
    assert MediaAsset.objects.count() == 0


def test_a_real_mp4_and_mov_are_stored_with_their_dimensions(desk):
    asset = actions.upload_media(
        actor=desk.contributor,
        upload=upload("film.mp4", mp4(seconds=12.5, width=1920, height=1080)),
    )
    assert (asset.kind, asset.mime_type, asset.width, asset.height) == (
        "video",
        "video/mp4",
        1920,
        1080,
    )
    mov = actions.upload_media(
        actor=desk.contributor, upload=upload("film.mov", mp4(brand=b"qt  "))
    )
    assert mov.mime_type == "video/quicktime"


def test_the_upload_page_shows_why_a_fake_video_is_refused(desk, client_for):
    response = client_for(desk.contributor).post(
        reverse("planning:media_list"),
        {"file": upload("fake.mp4", b"\0\0\0\x18ftypmp42" + b"<html>" * 1000)},
    )
    assert response.status_code == 400
    assert "ikke en gyldig MP4- eller MOV-fil" in response.content.decode()


# ---------------------------------------------------------------------------
# Quota and request size


def test_the_organisation_quota_refuses_the_upload_that_would_pass_it(
    desk, client_for
):
    first = jpeg(64, 64)
    with override_settings(KANAL_MEDIA_QUOTA_BYTES=len(first) + 10):
        actions.upload_media(actor=desk.contributor, upload=upload("a.jpg", first))
        with pytest.raises(media.MediaRejected, match="mediebibliotek er fuldt"):
            actions.upload_media(actor=desk.contributor, upload=upload("b.jpg", first))
        response = client_for(desk.contributor).post(
            reverse("planning:media_list"), {"file": upload("c.jpg", first)}
        )
    assert response.status_code == 400
    assert "mediebibliotek er fuldt" in response.content.decode()
    assert MediaAsset.objects.count() == 1


def test_a_file_past_the_request_limit_is_dropped_with_a_danish_message(
    desk, client_for, settings, tmp_path
):
    settings.FILE_UPLOAD_HANDLERS = HANDLERS
    settings.KANAL_MAX_UPLOAD_BYTES = 64 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = client_for(desk.contributor)
    response = client.post(
        reverse("planning:media_list"),
        {"file": upload("big.mp4", mp4(media_bytes=300 * 1024)), "alt_text": "Film"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Filen er for stor til at blive modtaget" in body
    assert "Film" in body  # what the user typed is kept
    assert MediaAsset.objects.count() == 0
    assert list(tmp_path.iterdir()) == []
    proposal = client.post(
        reverse("planning:proposal_create"),
        {"title": "Forslag", "text": "Tekst", "image": upload("big.jpg", b"x" * 70000)},
    )
    assert proposal.status_code == 400
    assert "Filen er for stor til at blive modtaget" in proposal.content.decode()
    small = client.post(
        reverse("planning:media_list"),
        {"file": upload("small.jpg", jpeg(32, 32)), "alt_text": "Lille"},
    )
    assert small.status_code == 302


# ---------------------------------------------------------------------------
# Memory, measured in a fresh process


MEASURE = textwrap.dedent(
    """
    import json, os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "kanal.settings.test"
    import django
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from kanal.planning import media

    def peak():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024

    data = open(sys.argv[1], "rb").read()
    before = peak()
    try:
        media.read_upload(SimpleUploadedFile("f", data, "image/png"))
        outcome = "accepted"
    except media.MediaRejected:
        outcome = "refused"
    print(json.dumps({"before": before, "after": peak(), "outcome": outcome}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
@pytest.mark.parametrize(
    "name,make,outcome",
    [
        ("7745.png", lambda: png(7745, 7745), "refused"),
        ("6000.png", lambda: png(6000, 6000), "accepted"),
        ("5000.jpg", lambda: jpeg(5000, 5000), "accepted"),
    ],
)
def test_reading_an_upload_stays_small_in_memory(tmp_path, name, make, outcome):
    path = tmp_path / name
    path.write_bytes(make())
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["outcome"] == outcome
    # Before: +657 MB for the 7,745² PNG. Now a 1-bit 6000² PNG decodes to
    # 36 MB at most and a JPEG is decoded at 1/8 scale.
    assert measured["after"] - measured["before"] < 60, measured
