"""What happens after a publication is out: a notification to the owner
administration, the variant's first comment, a pin where the network allows."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from kanal.channels.networks.base import stable_key
from kanal.channels.networks.errors import NetworkError
from kanal.core import audit

from .actions import notify
from .models import Publication, PublicationStatus

logger = logging.getLogger("kanal.publishing")


def after_publication(publication_id: int) -> None:
    from .engine import build_adapter

    pub = Publication.objects.select_related("channel").get(pk=publication_id)
    if pub.status != PublicationStatus.PUBLISHED:
        return
    channel = pub.channel
    comment_error = ""
    comment_id = ""
    if pub.first_comment and not pub.first_comment_remote_id and pub.remote_id:
        try:
            adapter = build_adapter(channel.connection(), channel_id=channel.pk)
            result = adapter.reply(
                pub.remote_id,
                pub.first_comment,
                idempotency_key=stable_key(pub.idempotency_key, "first_comment"),
            )
            comment_id = result.remote_id
        except NetworkError as e:
            comment_error = e.message
    if pub.pin and pub.remote_id:
        _pin(pub)
    with transaction.atomic():
        if comment_id:
            Publication.objects.filter(pk=pub.pk).update(
                first_comment_remote_id=comment_id
            )
            audit.record(
                "publishing.publication.first_comment",
                organisation=pub.organisation,
                target=pub,
                changes={"remote_id": comment_id},
            )
        if comment_error:
            notify(
                organisation_id=pub.organisation_id,
                administration_id=channel.owner_administration_id,
                kind="first_comment_failed",
                message=_(
                    "%(channel)s: den første kommentar kom ikke med (%(why)s). "
                    "Skriv den selv på opslaget."
                )
                % {"channel": channel, "why": comment_error},
                publication=pub,
                url=pub.url,
            )


def _pin(pub: Publication) -> None:
    from .engine import build_adapter

    try:
        adapter = build_adapter(pub.channel.connection(), channel_id=pub.channel_id)
        if "pin" in adapter.capabilities().supports:
            adapter.pin(pub.remote_id)
    except NetworkError as e:
        logger.warning("publication %s: pin failed: %s", pub.pk, e.message)
