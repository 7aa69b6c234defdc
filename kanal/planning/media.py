"""Reading and checking uploaded media (Pillow; no external tools).

Kanal never changes an uploaded file: the engine sends each network its own
rendition of an image (``networks.mediafit``), and ``fit_for`` says what that
rendition will be.
"""

from __future__ import annotations

import io
import mimetypes
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# ISO base media (MP4/MOV) files carry "ftyp" at byte 4.
VIDEO_BRANDS = {b"qt  ": "video/quicktime"}
MAX_IMAGE_BYTES = getattr(settings, "KANAL_MAX_IMAGE_BYTES", 30 * 1024 * 1024)
MAX_VIDEO_BYTES = getattr(settings, "KANAL_MAX_VIDEO_BYTES", 500 * 1024 * 1024)
# Pixels, not bytes: a 170 KiB PNG can claim 7,745 × 7,745. The ceiling is
# the largest any network documents (LinkedIn: < 36,152,320 px; Mastodon's
# image_matrix_limit is 33,177,600), so nothing bigger could be published.
MAX_PIXELS = getattr(settings, "KANAL_MAX_IMAGE_PIXELS", 36_152_319)
# Formats without reduced decoding (PNG, GIF, WebP) are decoded whole to make
# the thumbnail; this caps that bitmap (width × height × bytes per pixel).
MAX_DECODE_BYTES = getattr(settings, "KANAL_MAX_DECODE_BYTES", 100 * 1024 * 1024)
THUMBNAIL_SIZE = (480, 480)
# What the networks take: H.264 or HEVC video in MP4/MOV, at most 4K wide and
# as long as the most generous of them that Kanal supports.
VIDEO_CODECS = {
    "avc1": "H.264",
    "avc3": "H.264",
    "hvc1": "HEVC (H.265)",
    "hev1": "HEVC (H.265)",
}
MAX_VIDEO_SIDE = getattr(settings, "KANAL_MAX_VIDEO_SIDE", 4096)
MAX_VIDEO_SECONDS = getattr(settings, "KANAL_MAX_VIDEO_SECONDS", 4 * 60 * 60)
# Top-level boxes a camera, phone or editor writes in an MP4/MOV file.
TOP_LEVEL_BOXES = frozenset(
    {"ftyp", "moov", "mdat", "free", "skip", "wide", "uuid", "pdin", "meta",
     "moof", "mfra", "sidx", "styp", "prft", "emsg"}
)
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "I;16": 2, "RGB": 3,
                   "YCbCr": 3, "LAB": 3, "HSV": 3, "RGBA": 4, "RGBa": 4, "CMYK": 4,
                   "RGBX": 4, "I": 4, "F": 4}

class MediaRejected(ValueError):
    """The upload is not usable; the message (Danish) says why and what to do."""


@dataclass(frozen=True)
class ReadMedia:
    kind: str
    mime_type: str
    width: int | None
    height: int | None
    thumbnail: bytes  # JPEG, empty for video


def stored_name(mime_type: str) -> str:
    """An unguessable file name with the extension of the verified type.

    Media is served to the networks (Instagram and Threads fetch it) without a
    login, so the URL itself must not be guessable; the uploader's own file
    name is kept in ``MediaAsset.original_name`` only.
    """
    extension = mimetypes.guess_extension(mime_type) or ""
    return secrets.token_urlsafe(24) + extension


def read_upload(upload) -> ReadMedia:
    """Check an upload by its content and make its thumbnail.

    Images: only JPEG, PNG, GIF and WebP decoders are tried; the pixel count
    is checked from the header before anything is decoded; JPEG is decoded
    at a reduced scale (``draft``) straight to thumbnail size; other formats
    are decoded once, within ``MAX_DECODE_BYTES``. Videos: the MP4/MOV
    container is parsed (``hachoir``) for duration, codec and dimensions,
    and every byte of the file must belong to a box.
    """
    size = upload.size
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if size == 0:
        raise MediaRejected(_("Filen er tom. Vælg billedet eller videoen igen."))
    if head[4:8] == b"ftyp":
        if size > MAX_VIDEO_BYTES:
            raise MediaRejected(
                _(
                    "Videoen fylder %(size)s MB; Kanal tager højst "
                    "%(limit)s MB. Gør den mindre og prøv igen."
                )
                % {
                    "size": f"{size / 1048576:.0f}",
                    "limit": f"{MAX_VIDEO_BYTES / 1048576:.0f}",
                }
            )
        video = read_video(upload, size)
        return ReadMedia(
            "video",
            VIDEO_BRANDS.get(head[8:12], "video/mp4"),
            video.width,
            video.height,
            b"",
        )
    if size > MAX_IMAGE_BYTES:
        raise MediaRejected(
            _(
                "Billedet fylder %(size)s MB; Kanal tager højst %(limit)s "
                "MB. Gem det i en mindre størrelse."
            )
            % {
                "size": f"{size / 1048576:.0f}",
                "limit": f"{MAX_IMAGE_BYTES / 1048576:.0f}",
            }
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(IMAGE_TYPES)) as image:
                fmt = image.format
                width, height = image.size
                if fmt not in IMAGE_TYPES:
                    raise MediaRejected(_unsupported_format(fmt))
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    raise MediaRejected(_too_many_pixels(width, height))
                thumbnail = _thumbnail(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise MediaRejected(
            _(
                "Billedet er unormalt stort, når det pakkes ud, og kan være "
                "skadeligt. Gem det igen i et almindeligt format (JPEG) og prøv "
                "igen."
            )
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, MediaRejected):
            raise
        raise MediaRejected(
            _(
                "Filen er hverken et billede (JPEG, PNG, GIF, WebP) eller en video "
                "(MP4, MOV). Vælg en anden fil."
            )
        ) from e
    finally:
        upload.seek(0)
    return ReadMedia("image", IMAGE_TYPES[fmt], width, height, thumbnail)


def _unsupported_format(fmt) -> str:
    return _(
        "Billedformatet %(fmt)s bruges ikke af de sociale medier. Gem "
        "billedet som JPEG eller PNG."
    ) % {"fmt": f"{fmt}"}


@dataclass(frozen=True)
class VideoInfo:
    seconds: float
    codec: str
    width: int
    height: int


def _not_a_video() -> MediaRejected:
    return MediaRejected(
        _(
            "Filen ligner en video, men er ikke en gyldig MP4- eller MOV-fil "
            "(Kanal kan ikke læse længde, format og størrelse). Gem videoen igen "
            "som MP4 (H.264) og prøv igen."
        )
    )


def read_video(upload, size: int) -> VideoInfo:
    """Duration, codec and dimensions of an MP4/MOV file, read with a real
    container parser; refuses anything else dressed up with ``ftyp``."""
    from hachoir.core import config as hachoir_config
    from hachoir.field import FieldError
    from hachoir.parser.container.mp4 import MP4File
    from hachoir.stream import InputIOStream, StreamError

    hachoir_config.quiet = True  # its warnings go to stdout otherwise
    upload.seek(0)
    try:
        parser = MP4File(InputIOStream(upload, size * 8, tags=[]))
        atoms = _top_level(parser, size)
        info = _video_info(atoms)
    except MediaRejected:
        raise
    except (FieldError, StreamError, LookupError, ValueError, TypeError,
            AttributeError, OSError, OverflowError) as e:
        raise _not_a_video() from e
    finally:
        upload.seek(0)
    if info.codec not in VIDEO_CODECS:
        raise MediaRejected(
            _(
                "Videoen er kodet som %(codec)s; de sociale medier tager H.264 "
                "eller HEVC. Gem videoen som MP4 (H.264) og prøv igen."
            )
            % {"codec": info.codec.strip() or "?"}
        )
    if not 0 < info.seconds <= MAX_VIDEO_SECONDS:
        raise MediaRejected(
            _(
                "Videoen varer %(seconds)s sekunder; Kanal tager videoer på op "
                "til %(limit)s minutter. Klip den og prøv igen."
            )
            % {"seconds": f"{info.seconds:.0f}", "limit": f"{MAX_VIDEO_SECONDS // 60}"}
        )
    if not (
        16 <= info.width <= MAX_VIDEO_SIDE and 16 <= info.height <= MAX_VIDEO_SIDE
    ):
        raise MediaRejected(
            _(
                "Videoen er %(width)s × %(height)s pixel; Kanal tager højst "
                "%(limit)s pixel på hver led. Gør den mindre og prøv igen."
            )
            % {
                "width": f"{info.width}",
                "height": f"{info.height}",
                "limit": f"{MAX_VIDEO_SIDE}",
            }
        )
    return info


def _top_level(parser, size: int) -> dict[str, list]:
    """The top-level boxes by type; they must cover the file exactly."""
    atoms: dict[str, list] = {}
    covered = 0
    for atom in parser:
        tag = atom["tag"].value
        if tag not in TOP_LEVEL_BOXES:
            raise _not_a_video()
        atoms.setdefault(tag, []).append(atom)
        covered += atom.size // 8
        if len(atoms) > 64 or sum(map(len, atoms.values())) > 10_000:
            raise _not_a_video()
    if covered != size or "moov" not in atoms or "mdat" not in atoms:
        raise _not_a_video()
    if len(atoms["moov"]) != 1 or atoms.get("ftyp", [None])[0] is None:
        raise _not_a_video()
    return atoms


def _children(field, name: str):
    return [child for child in field[name] if child.name.startswith("atom[")]


def _child(field, name: str, tag: str):
    return next((a for a in _children(field, name) if a["tag"].value == tag), None)


def _video_info(atoms: dict[str, list]) -> VideoInfo:
    moov = atoms["moov"][0]
    header = _child(moov, "movie", "mvhd")
    if header is None or not header["movie_hdr/time_scale"].value:
        raise _not_a_video()
    seconds = (
        header["movie_hdr/duration"].value / header["movie_hdr/time_scale"].value
    )
    for trak in _children(moov, "movie"):
        if trak["tag"].value != "trak":
            continue
        media = _child(trak, "track", "mdia")
        handler = _child(media, "media", "hdlr") if media is not None else None
        if handler is None or handler["hdlr/subtype"].value != "vide":
            continue
        minf = _child(media, "media", "minf")
        stbl = _child(minf, "minf", "stbl") if minf is not None else None
        stsd = _child(stbl, "stbl", "stsd") if stbl is not None else None
        if stsd is None:
            raise _not_a_video()
        entry = stsd["stsd/sample_entry[0]"]
        codec = entry["format"].value
        if isinstance(codec, bytes):
            codec = codec.decode("latin-1")
        return VideoInfo(
            seconds=seconds,
            codec=str(codec),
            width=int(entry["width"].value),
            height=int(entry["height"].value),
        )
    raise MediaRejected(
        _("Filen har ingen videospor. Vælg en video med billede og prøv igen.")
    )


def _too_many_pixels(width: int, height: int) -> str:
    return _(
        "Billedet er %(width)s × %(height)s pixel; Kanal tager højst "
        "%(limit)s megapixel. Gør billedet mindre og prøv igen."
    ) % {
        "width": f"{width}",
        "height": f"{height}",
        "limit": f"{MAX_PIXELS / 1_000_000:.0f}",
    }


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation from the header only (``getexif`` would decode a
    whole PNG to look for EXIF after the pixels)."""
    raw = image.info.get("exif")
    if not raw:
        return None
    exif = Image.Exif()
    try:
        exif.load(raw)
    except Exception:  # a broken EXIF block only loses the rotation
        return None
    return exif.get(0x0112)


def _thumbnail(image: Image.Image) -> bytes:
    """A small JPEG without ever holding more than one decoded bitmap.

    JPEG is decoded at 1/2, 1/4 or 1/8 scale (``draft``), so a 7,000 px
    photo never exists full size in memory. Other formats are decoded once
    (their decoders cannot scale) if that bitmap fits ``MAX_DECODE_BYTES``,
    then reduced in place; no full-size copy is made.
    """
    orientation = _orientation(image)
    if image.format == "JPEG":
        image.draft("RGB", THUMBNAIL_SIZE)
    else:
        width, height = image.size
        per_pixel = BYTES_PER_PIXEL.get(image.mode, 4)
        if width * height * per_pixel > MAX_DECODE_BYTES:
            raise MediaRejected(
                _(
                    "Billedet er %(width)s × %(height)s pixel i %(fmt)s og fylder "
                    "for meget, når det pakkes ud. Gem det som JPEG, eller gør det "
                    "mindre, og prøv igen."
                )
                % {"width": f"{width}", "height": f"{height}", "fmt": image.format}
            )
    image.thumbnail(THUMBNAIL_SIZE, reducing_gap=2.0)
    thumb = image
    if orientation in _TRANSPOSE:
        thumb = thumb.transpose(_TRANSPOSE[orientation])
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


@dataclass(frozen=True)
class NetworkFit:
    """What Kanal does with a medium for one channel's network.

    ``adjustments`` (images) say what Kanal will change in the rendition it
    sends, predicted by ``mediafit.plan_image`` exactly as the editor's
    preview and the engine decide it; ``problems`` (videos, which Kanal
    sends as they are) say what the network would refuse.
    """

    network: str
    adjustments: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def fit_for(asset, caps, network_label: str) -> NetworkFit:
    if asset.kind == "image":
        from kanal.channels.networks import mediafit

        from .validation import adjustment_messages

        plan = mediafit.plan_image(
            mime_type=asset.mime_type, size=asset.size or 0,
            width=asset.width, height=asset.height, caps=caps,
        )
        return NetworkFit(
            network_label, adjustments=tuple(
                adjustment_messages(None, plan, network_label)),
        )
    problems: list[str] = []
    if caps.video_formats and asset.mime_type not in caps.video_formats:
        problems.append(
            _("%(network_label)s tager ikke denne videotype.")
            % {"network_label": network_label}
        )
    if caps.max_video_bytes and asset.size > caps.max_video_bytes:
        problems.append(
            _("%(network_label)s tager højst %(max_video_bytes)s MB.")
            % {
                "network_label": f"{network_label}",
                "max_video_bytes": f"{caps.max_video_bytes / 1048576:.0f}",
            }
        )
    return NetworkFit(network_label, problems=tuple(problems))
