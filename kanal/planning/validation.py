"""A variant checked against its network's rules and Kanal's own.

The network's rules come from its adapter (``validate``, ``capabilities``,
``count_text``); Kanal adds what it requires everywhere: alt text on every
image, media whose rights have not expired, an enabled channel.

Images are not refused for their format, size, pixels or aspect ratio: the
engine sends each network Kanal's own rendition (``networks.mediafit``). The
check validates that rendition (as ``mediafit.plan_image`` predicts it) and
tells the editor, in ``VariantCheck.adjustments``, what Kanal will do to the
image for this network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels import adapters
from kanal.channels.models import ChannelStatus
from kanal.channels.networks import mediafit
from kanal.channels.networks.base import (
    Capabilities,
    MediaItem,
    OutgoingPost,
    ValidationProblem,
)
from kanal.channels.wording import COUNTING, worded
from kanal.core.formatting import when

logger = logging.getLogger(__name__)


@dataclass
class VariantCheck:
    problems: list[ValidationProblem] = field(default_factory=list)
    length: int = 0
    max_length: int | None = None
    counting: str = field(default_factory=lambda: str(COUNTING["facebook"]))
    rules_available: bool = True
    # What Kanal will do to the images for this network (information, Danish).
    adjustments: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def compose_text(text: str, hashtags) -> str:
    """The text with its hashtags: those not already in it are appended."""
    missing = [t for t in hashtags if t and t.lower() not in text.lower()]
    if not missing:
        return text
    return f"{text.rstrip()}\n\n{' '.join(missing)}".strip()


def outgoing(channel, campaign, *, text: str, hashtags=(), link: str = ""):
    """``(text, link)`` exactly as they go out on ``channel``: the hashtags
    appended and the links tracked (``links.tracked_content``)."""
    from .links import tracked_content

    return tracked_content(channel, campaign, compose_text(text, hashtags), link)


def adapter_for(channel):
    """The channel's adapter for counting and validating in the editor, with
    the channel's stored limits (``kanal.channels.adapters``); None for a
    network Kanal has no adapter for."""
    try:
        return adapters.adapter_for(channel, credentials=False)
    except (ImportError, AttributeError, KeyError):
        logger.info(
            "No adapter for %s yet; validating with Kanal's rules only",
            channel.network,
        )
        return None


def capabilities_for(channel) -> Capabilities | None:
    adapter = adapter_for(channel)
    if adapter is None:
        return None
    try:
        return adapter.capabilities()
    except Exception:  # an adapter being written must not break the editor
        logger.exception("capabilities() failed for %s", channel.network)
        return None


def media_item(
    snapshot: dict, plan: mediafit.Plan | None = None, *, size: int = 0
) -> MediaItem:
    """The item the network will get: with a ``plan``, the rendition's type
    and dimensions (Kanal fits the image before sending it, so its size is
    left to the plan); otherwise the file's ``size`` in bytes, so the
    network's size rules run in the editor."""
    base = settings.KANAL_BASE_URL.rstrip("/")
    return MediaItem(
        kind=snapshot["kind"],
        mime_type=plan.mime_type if plan else snapshot["mime_type"],
        alt_text=snapshot.get("alt_text", ""),
        public_url=f"{base}/{settings.MEDIA_URL.strip('/')}/{snapshot['path']}",
        filename=snapshot["path"].rsplit("/", 1)[-1],
        width=plan.width if plan else snapshot.get("width"),
        height=plan.height if plan else snapshot.get("height"),
        size_bytes=0 if plan else size,
    )


def image_plans(caps: Capabilities, media) -> list[mediafit.Plan | None]:
    """For each asset, what Kanal will do to fit it (None for a video)."""
    return [
        mediafit.plan_image(mime_type=asset.mime_type, size=asset.size or 0,
                            width=asset.width, height=asset.height, caps=caps)
        if asset.kind == "image" else None
        for asset in media
    ]


_FORMAT_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF",
                 "image/webp": "WebP"}


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".replace(".", ",")


def adjustment_messages(
    number: int | None, plan: mediafit.Plan, network: str
) -> list[str]:
    """What Kanal will do to image ``number`` (None: the one image a page is
    about) for ``network``, in Danish, from ``mediafit.plan_image``."""
    if number is None:
        subject = _("Billedet")
    else:
        subject = _("Billede %(number)s") % {"number": f"{number}"}
    messages = []
    for change in plan.changes:
        detail = change.detail
        if change.code == "format":
            messages.append(_(
                "%(subject)s sendes som %(to)s, fordi %(network)s ikke "
                "tager %(from)s."
            ) % {
                "subject": subject, "network": network,
                "to": _FORMAT_NAMES.get(detail["to"], detail["to"]),
                "from": _FORMAT_NAMES.get(detail["from"], detail["from"] or "?"),
            })
        elif change.code == "padded":
            messages.append(_(
                "%(subject)s har et format (%(ratio)s:1), som %(network)s "
                "ikke viser. Kanal lægger en hvid kant om det (%(to)s:1), så intet "
                "af billedet skæres væk."
            ) % {
                "subject": subject, "network": network,
                "ratio": f"{detail['from_ratio']:.2f}".replace(".", ","),
                "to": f"{detail['to_ratio']:.2f}".replace(".", ","),
            })
        elif change.code == "pixels":
            messages.append(_(
                "%(subject)s er %(width)s × %(height)s pixel; Kanal skalerer "
                "det ned til %(new_width)s × %(new_height)s, som %(network)s højst "
                "tager."
            ) % {
                "subject": subject, "network": network,
                "width": f"{detail['from'][0]}", "height": f"{detail['from'][1]}",
                "new_width": f"{detail['to'][0]}", "new_height": f"{detail['to'][1]}",
            })
        elif change.code == "bytes":
            messages.append(_(
                "%(subject)s fylder %(size)s MB; %(network)s tager højst "
                "%(limit)s MB. Kanal sender en mindre udgave med så høj kvalitet, "
                "som grænsen tillader."
            ) % {
                "subject": subject, "network": network,
                "size": _megabytes(detail["from"]),
                "limit": _megabytes(detail["limit"]),
            })
    return messages


def check_variant(
    channel, *, text: str, link: str = "", hashtags=(), media=(), campaign=None
) -> VariantCheck:
    """Every reason this content would not go out on ``channel``.

    ``media`` are ``MediaAsset`` objects. The text is checked and counted as
    it goes out (hashtags appended, links tracked for ``campaign``).
    """
    result = VariantCheck()
    full_text, link = outgoing(
        channel, campaign, text=text, hashtags=hashtags, link=link
    )
    snapshots = [asset.snapshot() for asset in media]
    adapter = adapter_for(channel)
    if adapter is None:
        result.rules_available = False
        result.length = len(full_text)
    else:
        try:
            caps = adapter.capabilities()
            plans = image_plans(caps, media)
            post = OutgoingPost(
                text=full_text,
                link=link,
                media=tuple(
                    media_item(s, p, size=asset.size or 0)
                    for s, p, asset in zip(snapshots, plans, media, strict=True)
                ),
            )
            result.problems.extend(worded(adapter.validate(post), channel.network))
            result.length = adapter.count_text(full_text)
            result.max_length = caps.max_text_length
            result.counting = str(COUNTING.get(channel.network, caps.text_counting))
            label = adapter.display_name or channel.network
            for number, plan in enumerate(plans, start=1):
                if plan is not None:
                    result.adjustments.extend(
                        adjustment_messages(number, plan, label))
        except Exception:
            logger.exception("validate() failed for %s", channel.network)
            result.rules_available = False
            result.length = len(full_text)
    codes = {p.code for p in result.problems}
    if channel.status == ChannelStatus.DISABLED:
        result.problems.append(
            ValidationProblem(
                "channel_disabled",
                _(
                    "Kanalen %(channel)s er slået fra. Fjern varianten, eller bed "
                    "en administrator slå kanalen til."
                )
                % {"channel": f"{channel}"},
                field="channel",
            )
        )
    if not full_text.strip() and not media:
        result.problems.append(
            ValidationProblem(
                "empty", _("Varianten er tom. Skriv en tekst eller tilføj et billede.")
            )
        )
    today = timezone.localdate()
    for number, asset in enumerate(media, start=1):
        if (
            asset.kind == "image"
            and not asset.alt_text.strip()
            and "alt_text_missing" not in codes
        ):
            result.problems.append(
                ValidationProblem(
                    "alt_text_missing",
                    _(
                        "Billede %(number)s (%(name)s) mangler alternativ tekst. "
                        "Beskriv billedet i mediebiblioteket."
                    )
                    % {"number": f"{number}", "name": f"{asset.original_name}"},
                    field="media",
                )
            )
        if asset.shows_identifiable_people and not asset.identifiable_people_consent:
            result.problems.append(
                ValidationProblem(
                    "consent_missing",
                    _(
                        "%(name)s viser genkendelige personer, men der er ikke "
                        "registreret samtykke. Indhent samtykke og markér det i "
                        "mediebiblioteket, eller vælg et andet billede."
                    )
                    % {"name": f"{asset.original_name}"},
                    field="media",
                )
            )
        if asset.rights_expired(today):
            result.problems.append(
                ValidationProblem(
                    "media_rights_expired",
                    _(
                        "Rettighederne til %(name)s udløb %(rights_expire_on)s. "
                        "Vælg et andet medie."
                    )
                    % {
                        "name": f"{asset.original_name}",
                        "rights_expire_on": when(asset.rights_expire_on, "date"),
                    },
                    field="media",
                )
            )
    return result


def check_saved_variant(variant, media=None) -> VariantCheck:
    return check_variant(
        variant.channel,
        text=variant.text,
        link=variant.link,
        hashtags=variant.hashtags,
        media=list(variant.media.all()) if media is None else media,
        campaign=variant.post.campaign,
    )
