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
from PIL import Image, ImageOps, UnidentifiedImageError

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
# Pixels, not bytes: a small PNG can claim to be 100,000 × 100,000.
MAX_PIXELS = getattr(settings, "KANAL_MAX_IMAGE_PIXELS", 60_000_000)
THUMBNAIL_SIZE = (480, 480)


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
    size = upload.size
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if size == 0:
        raise MediaRejected("Filen er tom. Vælg billedet eller videoen igen.")
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
        return ReadMedia(
            "video", VIDEO_BRANDS.get(head[8:12], "video/mp4"), None, None, b""
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
            with Image.open(upload) as image:
                fmt = image.format
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise MediaRejected(_too_many_pixels(width, height))
                image.load()
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
    if fmt not in IMAGE_TYPES:
        raise MediaRejected(
            _(
                "Billedformatet %(fmt)s bruges ikke af de sociale medier. Gem "
                "billedet som JPEG eller PNG."
            )
            % {"fmt": f"{fmt}"}
        )
    return ReadMedia("image", IMAGE_TYPES[fmt], width, height, thumbnail)


def _too_many_pixels(width: int, height: int) -> str:
    return _(
        "Billedet er %(width)s × %(height)s pixel; Kanal tager højst "
        "%(limit)s megapixel. Gør billedet mindre og prøv igen."
    ) % {
        "width": f"{width}",
        "height": f"{height}",
        "limit": f"{MAX_PIXELS // 1_000_000}",
    }


def _thumbnail(image: Image.Image) -> bytes:
    thumb = ImageOps.exif_transpose(image.copy())
    thumb.thumbnail(THUMBNAIL_SIZE)
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
