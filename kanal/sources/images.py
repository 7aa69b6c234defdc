"""An item's image, fetched like a feed (size limit, timeout, the private
address guard) and stored in the media library through planning's own
action, so the draft made from a suggestion carries it."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from kanal.planning.actions import upload_media
from kanal.planning.media import MAX_IMAGE_BYTES, MediaRejected

from . import fetch
from .reasons import _

logger = logging.getLogger("kanal.sources")


def fetch_image(item):
    """``(upload, "")`` with ``item``'s image, or ``(None, why)`` in Danish.

    Called outside any transaction: it waits on someone else's server."""
    source = item.source
    try:
        result = fetch.fetch(
            item.image_url,
            allow_private=source.allow_private,
            limit=MAX_IMAGE_BYTES,
            too_big=_("Billedet er større end %(mb)s MB, som er grænsen.")
            % {"mb": MAX_IMAGE_BYTES // (1024 * 1024)},
        )
    except fetch.FetchError as e:
        logger.info("source image refused item=%s reason=%r", item.pk, e.args[0])
        return None, str(e.args[0])
    name = urlsplit(result.final_url).path.rsplit("/", 1)[-1][-100:] or "billede"
    upload = SimpleUploadedFile(
        name, result.body, content_type=result.content_type or ""
    )
    return upload, ""


def store_image(upload, item, *, actor):
    """``(MediaAsset, "")`` in the media library, without alt text (the
    editor refuses approval until someone writes one), or ``(None, why)``."""
    try:
        asset = upload_media(
            actor=actor,
            upload=upload,
            credit=item.author_name or item.source.name,
        )
    except (MediaRejected, PermissionDenied) as e:
        return None, str(e)
    return asset, ""


def forget(asset) -> None:
    """Remove a stored asset's files when the draft it was for was not made
    (the database rows go with the rolled-back transaction)."""
    for field_file in (asset.file, asset.thumbnail):
        if field_file:
            field_file.storage.delete(field_file.name)
