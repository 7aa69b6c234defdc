"""The media library: upload and describe images and videos."""

from __future__ import annotations

from datetime import date

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from kanal.core import audit

from .. import media as media_files
from ..models import (
    MediaAsset,
    MediaTag,
)
from ..policies import (
    media_policy,
)
from .common import apply_changes

# ---------------------------------------------------------------------------
# Media


MEDIA_FIELDS = (
    "alt_text",
    "credit",
    "identifiable_people_consent",
    "shows_identifiable_people",
    "rights_expire_on",
)


def upload_media(
    *,
    actor,
    upload,
    alt_text: str = "",
    credit: str = "",
    shows_identifiable_people: bool = False,
    identifiable_people_consent: bool = False,
    rights_expire_on: date | None = None,
    tags=(),
) -> MediaAsset:
    """Store an image or video with its thumbnail; nothing is kept on failure.

    Raises ``media.MediaRejected`` (Danish message) for a file that is not
    media, too big, or a decompression bomb.
    """
    media_policy.check(actor, "upload")
    read = media_files.read_upload(upload)
    stored = []
    try:
        with transaction.atomic():
            _check_media_quota(actor.organisation_id, upload.size)
            asset = MediaAsset(
                organisation=actor.organisation,
                administration=actor.administration,
                kind=read.kind,
                mime_type=read.mime_type,
                original_name=(upload.name or "upload")[-255:],
                size=upload.size,
                width=read.width,
                height=read.height,
                alt_text=alt_text,
                credit=credit,
                shows_identifiable_people=shows_identifiable_people,
                identifiable_people_consent=identifiable_people_consent,
                rights_expire_on=rights_expire_on,
                uploaded_by=actor.user,
            )
            asset.file.save(media_files.stored_name(read.mime_type), upload, save=False)
            stored.append(asset.file)
            if read.thumbnail:
                asset.thumbnail.save(
                    media_files.stored_name("image/jpeg"),
                    ContentFile(read.thumbnail),
                    save=False,
                )
                stored.append(asset.thumbnail)
            asset.save()
            _set_tags(asset, tags)
            audit.record(
                "planning.media.uploaded",
                actor=actor,
                target=asset,
                changes={
                    "name": asset.original_name,
                    "size": asset.size,
                    "kind": asset.kind,
                    "mime_type": asset.mime_type,
                    "tags": sorted(tags),
                },
            )
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    return asset


def media_quota_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "KANAL_MEDIA_QUOTA_BYTES", 5 * 1024**3))


def _check_media_quota(organisation_id: int, size: int) -> None:
    """Refuse an upload that would take the organisation past its quota.

    The organisation row is locked first, so two uploads at the same moment
    cannot both squeeze under the limit.
    """
    from django.db.models import Sum

    from kanal.organisations.models import Organisation

    # NO KEY UPDATE: serialises uploads without blocking the inserts that
    # merely refer to the organisation (audit entries, publications).
    Organisation.objects.select_for_update(no_key=True).filter(
        pk=organisation_id
    ).first()
    used = (
        MediaAsset.objects.filter(organisation_id=organisation_id).aggregate(
            total=Sum("size")
        )["total"]
        or 0
    )
    quota = media_quota_bytes()
    if used + size > quota:
        raise media_files.MediaRejected(
            _(
                "Organisationens mediebibliotek er fuldt (%(used)s af %(quota)s MB "
                "brugt). Slet medier, der ikke bruges, eller bed den, der driver "
                "Kanal, om mere plads."
            )
            % {"used": f"{used / 1048576:.0f}", "quota": f"{quota / 1048576:.0f}"}
        )


def _set_tags(asset: MediaAsset, names) -> None:
    """The asset's tags by name (created in its organisation when new)."""
    tags = []
    for name in dict.fromkeys(names):
        tag, _created = MediaTag.objects.get_or_create(
            organisation_id=asset.organisation_id, name=name
        )
        tags.append(tag)
    asset.tags.set(tags)


@transaction.atomic
def update_media(asset: MediaAsset, *, actor, **fields) -> MediaAsset:
    """Change an asset's description, rights or tags (``tags``: names)."""
    media_policy.check(actor, "change", asset)
    tags = fields.pop("tags", None)
    changed = apply_changes(asset, fields, MEDIA_FIELDS, what="media")
    if changed:
        asset.save(update_fields=list(changed))
    if tags is not None:
        old = sorted(asset.tags.values_list("name", flat=True))
        if old != sorted(tags):
            _set_tags(asset, tags)
            changed["tags"] = [old, sorted(tags)]
    if changed:
        audit.record(
            "planning.media.updated", actor=actor, target=asset, changes=changed
        )
    return asset
