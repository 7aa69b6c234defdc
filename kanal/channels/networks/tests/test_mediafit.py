"""Kanal's renditions: each network gets an image that fits its limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from kanal.channels.networks import adapter_class
from kanal.channels.networks.base import Capabilities, Connection, MediaItem
from kanal.channels.networks.mediafit import (
    CannotFit,
    caps_key,
    fit_image,
    fit_media,
    plan_image,
    strip_metadata,
)

GPS_TAG = 0x8825
MAKE_TAG = 0x010F
ORIENTATION_TAG = 0x0112


def caps_of(network: str) -> Capabilities:
    adapter = adapter_class(network)(Connection(network=network,
                                                base_url="http://127.0.0.1:9"))
    return adapter.capabilities()


def photo(width: int, height: int, *, noise: int = 40) -> Image.Image:
    """A photo-like image: a gradient with grain (compresses like a photo)."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    grain = Image.effect_noise((width, height), noise).convert("RGB")
    return Image.blend(base, grain, 0.5)


def jpeg(image: Image.Image, *, quality: int = 97, orientation: int = 1,
         gps: bool = True) -> bytes:
    exif = Image.Exif()
    exif[MAKE_TAG] = "Kamera"
    exif[ORIENTATION_TAG] = orientation
    if gps:
        exif[GPS_TAG] = {1: "N", 2: (55.0, 40.0, 30.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes(),
               comment=b"Havnebadet, fotograf Mette")
    return out.getvalue()


def item(data: bytes, mime: str = "image/jpeg", **fields) -> MediaItem:
    return MediaItem(kind="image", mime_type=mime, data=data,
                     alt_text="Børn hopper i vandet", filename="bad.jpg", **fields)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_photo_too_big_for_bluesky_fits_at_the_highest_quality_that_fits():
    data = jpeg(photo(2400, 1600))
    assert len(data) > 1_000_000
    caps = caps_of("bluesky")

    rendition = fit_image(item(data), caps)

    out = rendition.item
    assert out.size <= 1_000_000 == caps.max_image_bytes
    assert out.mime_type == "image/jpeg" and out.filename == "bad.jpg"
    assert (out.width, out.height) == (2400, 1600)  # quality first, pixels kept
    change = next(c for c in rendition.changes if c.code == "bytes")
    assert change.detail["from"] == len(data)
    assert change.detail["to"] == out.size
    # The highest quality that fits: one step up would not.
    image = opened(out.data)
    higher = io.BytesIO()
    photo_again = opened(data)
    photo_again.save(higher, "JPEG", quality=change.detail["quality"] + 1,
                     optimize=True)
    assert higher.tell() > 1_000_000
    assert image.size == (2400, 1600)
    assert not image.getexif() and "comment" not in image.info
    assert rendition.has("metadata")
    assert rendition.original_bytes == len(data)


def test_a_photo_that_fits_loses_only_its_metadata_not_its_pixels():
    data = jpeg(photo(800, 600), quality=90)
    rendition = fit_image(item(data), caps_of("facebook"))

    assert [c.code for c in rendition.changes] == ["metadata"]
    before, after = opened(data), opened(rendition.item.data)
    assert ImageChops.difference(before, after).getbbox() is None  # lossless
    assert not after.getexif()
    assert GPS_TAG not in after.getexif()
    assert len(rendition.item.data) < len(data)


def test_nothing_to_do_means_the_same_bytes():
    out = io.BytesIO()
    photo(400, 300).save(out, "JPEG", quality=85)
    data = out.getvalue()

    rendition = fit_image(item(data), caps_of("x"))

    assert not rendition.changed
    assert rendition.item.data == data


def test_instagram_gets_a_jpeg_padded_into_its_aspect_range_never_cropped():
    tall = Image.new("RGBA", (600, 1800), (0, 91, 140, 255))
    tall.paste((255, 0, 0, 0), (0, 0, 600, 100))  # a transparent band
    out = io.BytesIO()
    tall.save(out, "PNG")
    caps = caps_of("instagram")

    rendition = fit_image(item(out.getvalue(), "image/png"), caps)

    fitted = opened(rendition.item.data)
    assert rendition.item.mime_type == "image/jpeg"
    assert fitted.format == "JPEG"
    assert fitted.size == (1440, 1800)  # 4:5, the whole height kept
    assert abs(fitted.width / fitted.height - caps.min_aspect_ratio) < 0.001
    codes = [c.code for c in rendition.changes]
    assert codes[:2] == ["format", "padded"]
    # The original sits in the middle; the sides are white padding.
    assert fitted.getpixel((5, 900))[0] > 240
    assert fitted.getpixel((720, 900))[2] > 120


def test_the_camera_rotation_is_applied_to_the_pixels():
    data = jpeg(photo(600, 400), quality=85, orientation=6)

    rendition = fit_image(item(data), caps_of("x"))

    assert rendition.has("orientation")
    assert (rendition.item.width, rendition.item.height) == (400, 600)
    assert not opened(rendition.item.data).getexif().get(ORIENTATION_TAG)


def test_a_pixel_ceiling_scales_the_image_down():
    caps = Capabilities(max_text_length=500, text_counting="tegn", max_images=4,
                        image_formats=frozenset({"image/jpeg"}),
                        max_image_pixels=1_000_000)
    data = jpeg(photo(2000, 1000), quality=80)

    rendition = fit_image(item(data), caps)

    assert rendition.item.width * rendition.item.height < 1_000_000
    assert abs(rendition.item.width / rendition.item.height - 2) < 0.01
    assert rendition.has("pixels")


def test_an_animation_the_network_takes_is_left_alone_else_its_first_frame():
    frames = [Image.new("RGB", (200, 200), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0)
    gif = item(out.getvalue(), "image/gif")

    assert not fit_image(gif, caps_of("x")).changed
    for_instagram = fit_image(gif, caps_of("instagram"))
    assert for_instagram.has("animation")
    assert for_instagram.item.mime_type == "image/jpeg"


def test_videos_and_items_without_bytes_pass_through():
    video = MediaItem(kind="video", mime_type="video/mp4", data=b"\0\0\0\x18ftyp")
    remote = MediaItem(kind="image", mime_type="image/tiff",
                       public_url="https://kk.dk/a.tif")

    fitted = fit_media((video, remote), caps_of("bluesky"))

    assert [r.item for r in fitted] == [video, remote]
    assert not any(r.changed for r in fitted)


def test_a_file_that_is_not_an_image_cannot_be_fitted_in_danish():
    with pytest.raises(CannotFit) as caught:
        fit_image(item(b"<html>ikke et billede</html>"), caps_of("bluesky"))
    assert caught.value.code == "unreadable"
    assert "Kanal kunne ikke læse billedet" in caught.value.message


def test_a_decompression_bomb_is_refused_before_it_is_unpacked():
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 MP, a few kB

    with pytest.raises(CannotFit) as caught:
        fit_image(item(bomb.getvalue(), "image/png"), caps_of("bluesky"))
    assert caught.value.code in ("too_many_pixels", "unreadable")


def test_the_plan_predicts_what_the_fit_does():
    caps = caps_of("instagram")
    image = photo(600, 1800)
    out = io.BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()

    plan = plan_image(mime_type="image/png", size=len(data), width=600,
                      height=1800, caps=caps)
    fitted = fit_image(item(data, "image/png"), caps)

    assert plan.mime_type == fitted.item.mime_type == "image/jpeg"
    assert (plan.width, plan.height) == (fitted.item.width, fitted.item.height)
    assert [c.code for c in plan.changes] == ["format", "padded"]
    assert {c.code for c in plan.changes} <= {c.code for c in fitted.changes}
    big = plan_image(mime_type="image/jpeg", size=3_000_000, width=2400,
                     height=1600, caps=caps_of("bluesky"))
    assert [c.code for c in big.changes] == ["bytes"]


def test_lossless_stripping_refuses_a_broken_file_instead_of_guessing():
    assert strip_metadata(b"\xff\xd8\xff\xe1\xff\xff", "image/jpeg") == (None, False)
    assert strip_metadata(b"not a png", "image/png") == (None, False)


def test_the_cache_key_follows_the_limits_that_shape_a_rendition():
    assert caps_key(caps_of("bluesky")) == caps_key(caps_of("bluesky"))
    assert caps_key(caps_of("bluesky")) != caps_key(caps_of("instagram"))
