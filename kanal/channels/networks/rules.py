"""The rules every network states in its ``Capabilities``, checked once.

``check`` turns a post and a network's ``Capabilities`` into the reasons the
network would refuse it: text length in the network's own counting, bytes,
hashtags, mentions, links, media count and kind, format, size, pixels, aspect
ratio, duration, alt text and whether the network fetches files by address.
An adapter adds only what is truly its own (``NetworkAdapter.own_problems``).

Each rule has one ``code`` and one Danish wording (``WORDINGS``). The
wording is marked with ``gettext_noop``: this package imports nothing of
Django, so ``kanal.channels.wording`` translates it for the reader, from the
problem's ``limit``, ``actual`` and ``params``. ``message`` is the Danish
sentence for logs.
"""

from __future__ import annotations

from collections.abc import Callable

from . import text as network_text
from .base import Capabilities, MediaItem, OutgoingPost, ValidationProblem
from .errors import gettext_noop

#: code → Danish wording. Placeholders: network, limit, actual, over
#: (actual − limit) and the problem's params (number, format, allowed, width,
#: height, minimum, maximum). Sizes in bytes are shown in MB.
WORDINGS = {
    "text_too_long": gettext_noop(
        "Teksten fylder %(actual)s tegn, men %(network)s tillader højst "
        "%(limit)s. Forkort den med %(over)s tegn."
    ),
    "text_too_many_bytes": gettext_noop(
        "Teksten fylder %(actual)s bytes, men %(network)s tillader højst "
        "%(limit)s (emoji og særlige tegn fylder flere bytes). Forkort teksten."
    ),
    "text_empty": gettext_noop(
        "Opslaget er tomt. Skriv en tekst, eller tilføj et link eller et billede."
    ),
    "too_many_hashtags": gettext_noop(
        "Teksten har %(actual)s hashtags; %(network)s tillader højst %(limit)s. "
        "Fjern nogle af dem."
    ),
    "too_many_mentions": gettext_noop(
        "Teksten nævner %(actual)s konti med @; %(network)s tillader højst "
        "%(limit)s. Fjern nogle af dem."
    ),
    "too_many_links": gettext_noop(
        "Opslaget har %(actual)s links; %(network)s tillader højst %(limit)s. "
        "Fjern nogle af dem."
    ),
    "media_required": gettext_noop(
        "%(network)s kræver et billede eller en video. Tilføj mindst ét billede "
        "eller én video, før opslaget kan udgives."
    ),
    "too_many_images": gettext_noop(
        "%(network)s tillader højst %(limit)s billeder i et opslag, men opslaget "
        "har %(actual)s. Fjern %(over)s."
    ),
    "too_many_videos": gettext_noop(
        "Et opslag på %(network)s kan have højst %(limit)s video; der er "
        "%(actual)s. Fjern de andre, eller del dem i flere opslag."
    ),
    "too_many_media": gettext_noop(
        "Opslaget har %(actual)s billeder og videoer; %(network)s tillader højst "
        "%(limit)s. Fjern %(over)s."
    ),
    "video_not_supported": gettext_noop(
        "Kanal kan ikke sende video til %(network)s. Fjern videoen, eller brug et "
        "billede."
    ),
    "video_with_other_media": gettext_noop(
        "%(network)s kan ikke vise en video sammen med andre billeder eller filer. "
        "Send videoen i sit eget opslag."
    ),
    "media_format": gettext_noop(
        "Fil %(number)s har formatet %(format)s, som %(network)s ikke tager imod. "
        "Brug %(allowed)s."
    ),
    "media_url_missing": gettext_noop(
        "Fil %(number)s har ingen offentlig adresse, som %(network)s kan hente "
        "den fra. Gem opslaget igen, så Kanal kan lægge filen ud."
    ),
    "image_too_large": gettext_noop(
        "Billede %(number)s fylder %(actual)s MB; %(network)s tager højst "
        "%(limit)s MB. Gør billedet mindre."
    ),
    "video_too_large": gettext_noop(
        "Video %(number)s fylder %(actual)s MB; %(network)s tager højst "
        "%(limit)s MB. Gør videoen mindre."
    ),
    "image_too_many_pixels": gettext_noop(
        "Billede %(number)s er %(width)s×%(height)s pixels; %(network)s tager "
        "højst %(limit)s pixels i alt. Gør billedet mindre."
    ),
    "aspect_ratio": gettext_noop(
        "Billede %(number)s har formatet %(width)s×%(height)s; %(network)s tager "
        "billeder fra 4:5 (højformat) til 1,91:1 (bredformat). Beskær billedet."
    ),
    "video_duration": gettext_noop(
        "Video %(number)s varer %(actual)s sekunder; %(network)s tager videoer "
        "på %(minimum)s–%(maximum)s sekunder. Klip videoen til."
    ),
    "alt_text_missing": gettext_noop(
        "Billede %(number)s mangler en alternativ tekst. Beskriv, hvad billedet "
        "viser, så det kan læses op for dem, der ikke kan se det."
    ),
    "alt_text_too_long": gettext_noop(
        "Den alternative tekst til billede %(number)s er %(actual)s tegn; "
        "%(network)s tillader højst %(limit)s. Forkort den."
    ),
    # Rules of one network only (``own_problems``), worded here with the rest.
    "text_invalid_characters": gettext_noop(
        "Teksten indeholder usynlige tegn, som %(network)s ikke tillader "
        "(U+FEFF, U+FFFE eller U+FFFF). Skriv teksten ind igen uden at kopiere "
        "den fra et andet program."
    ),
    "gif_with_other_media": gettext_noop(
        "%(network)s kan kun vise én GIF og intet andet i et opslag. Send GIF'en "
        "i sit eget opslag."
    ),
    "hashtag_too_long": gettext_noop(
        "Et hashtag er for langt: %(network)s tillader højst %(limit)s tegn i et "
        "hashtag. Gør det kortere."
    ),
}

#: Codes whose ``limit`` and ``actual`` are sizes in bytes.
IN_BYTES = frozenset({"image_too_large", "video_too_large"})

#: Instagram's documented ratios are rounded (4:5 is 0.8, 1.91:1 is 1.91).
ASPECT_TOLERANCE = 1e-3

FORMAT_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
}


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def wording_values(code: str, *, network: str, limit=None, actual=None,
                   params=None, shown: Callable[[object], str] = _shown) -> dict:
    """What the wording of rule ``code`` is filled with: sizes in MB, format
    names spelled out, every number written by ``shown``."""
    params = dict(params or {})
    values = {
        "network": network,
        "over": shown(actual - limit) if None not in (limit, actual) else "",
    }
    if code in IN_BYTES:
        limit = limit / 1_000_000 if limit else limit
        actual = actual / 1_000_000 if actual else actual
    values["limit"], values["actual"] = shown(limit), shown(actual)
    if "allowed" in params:
        params["allowed"] = ", ".join(
            FORMAT_NAMES.get(f, f) for f in sorted(params["allowed"])
        )
    if "format" in params:
        params["format"] = FORMAT_NAMES.get(params["format"], params["format"])
    values.update({k: shown(v) for k, v in params.items()})
    return values


def danish(code: str, *, network: str, limit=None, actual=None, params=None) -> str:
    """The Danish sentence of rule ``code`` for ``network`` (for logs; people
    read it through ``kanal.channels.wording`` in their own language)."""
    return WORDINGS[code] % wording_values(code, network=network, limit=limit,
                                           actual=actual, params=params)


def problem(
    code: str,
    *,
    network: str,
    field: str = "text",
    limit: int | None = None,
    actual: int | None = None,
    **params: object,
) -> ValidationProblem:
    """One problem of rule ``code``, with its Danish sentence."""
    return ValidationProblem(
        code,
        danish(code, network=network, limit=limit, actual=actual, params=params),
        field=field,
        limit=limit,
        actual=actual,
        params=params,
    )


def links_in(post: OutgoingPost, text: str) -> list[str]:
    """The addresses ``post`` carries: those in ``text`` and its own link."""
    links = [url.value for url in network_text.find_urls(text)]
    if post.link and post.link not in text:
        links.append(post.link)
    return links


def check(
    post: OutgoingPost,
    caps: Capabilities,
    *,
    text: str,
    count: Callable[[str], int],
    network: str,
) -> list[ValidationProblem]:
    """Every reason ``post`` breaks a rule ``caps`` states.

    ``text`` is the text exactly as the network gets it (the adapter's
    ``text_for``), ``count`` the network's own way of counting it, and
    ``network`` its name in the sentences.
    """
    problems = _text_problems(post, caps, text=text, count=count, network=network)
    problems.extend(_media_problems(post.media, caps, network=network))
    return problems


def _text_problems(post, caps, *, text, count, network) -> list[ValidationProblem]:
    problems = []
    length = count(text)
    if length > caps.max_text_length:
        problems.append(problem(
            "text_too_long", network=network,
            limit=caps.max_text_length, actual=length,
        ))
    if caps.max_text_bytes is not None:
        size = network_text.utf8_length(text)
        if size > caps.max_text_bytes:
            problems.append(problem(
                "text_too_many_bytes", network=network,
                limit=caps.max_text_bytes, actual=size,
            ))
    if not caps.requires_media and not (text.strip() or post.link or post.media):
        problems.append(problem("text_empty", network=network))
    counted = (
        ("too_many_hashtags", caps.max_hashtags, network_text.find_hashtags),
        ("too_many_mentions", caps.max_mentions, network_text.find_mentions),
    )
    for code, limit, find in counted:
        if limit is not None and len(find(text)) > limit:
            problems.append(problem(
                code, network=network, limit=limit, actual=len(find(text)),
            ))
    if caps.max_links is not None:
        links = len(links_in(post, text))
        if links > caps.max_links:
            problems.append(problem(
                "too_many_links", network=network, field="link",
                limit=caps.max_links, actual=links,
            ))
    return problems


def _media_problems(
    media: tuple[MediaItem, ...], caps: Capabilities, *, network: str
) -> list[ValidationProblem]:
    problems = []
    videos = [m for m in media if m.kind == "video"]
    images = [m for m in media if m.kind != "video"]
    if caps.requires_media and not media:
        problems.append(problem(
            "media_required", network=network, field="media", limit=1, actual=0,
        ))
    if videos and not caps.max_videos:
        problems.append(problem("video_not_supported", network=network,
                                field="media"))
    counted = [("too_many_images", caps.max_images, len(images))]
    if caps.max_videos:
        counted.append(("too_many_videos", caps.max_videos, len(videos)))
    for code, limit, actual in counted:
        if actual > limit and (caps.max_media is None or limit < caps.max_media):
            problems.append(problem(
                code, network=network, field="media", limit=limit, actual=actual,
            ))
    if caps.max_media is not None and len(media) > caps.max_media:
        problems.append(problem(
            "too_many_media", network=network, field="media",
            limit=caps.max_media, actual=len(media),
        ))
    if videos and images and caps.video_alone:
        problems.append(problem(
            "video_with_other_media", network=network, field="media",
        ))
    for number, item in enumerate(media, start=1):
        if item.kind == "video" and not caps.max_videos:
            continue  # said once above
        problems.extend(_item_problems(number, item, caps, network=network))
    return problems


def _item_problems(
    number: int, item: MediaItem, caps: Capabilities, *, network: str
) -> list[ValidationProblem]:
    problems = []
    is_video = item.kind == "video"
    if caps.media_by_url and not item.public_url:
        problems.append(problem(
            "media_url_missing", network=network, field="media", number=number,
        ))
    formats = caps.video_formats if is_video else caps.image_formats
    if item.mime_type not in formats:
        problems.append(problem(
            "media_format", network=network, field="media", number=number,
            format=item.mime_type or "?", allowed=sorted(formats),
        ))
    limit = _byte_limit(item, caps)
    if limit is not None and item.size > limit:
        problems.append(problem(
            "video_too_large" if is_video else "image_too_large",
            network=network, field="media", limit=limit, actual=item.size,
            number=number,
        ))
    if not is_video:
        problems.extend(_image_shape(number, item, caps, network=network))
    elif item.duration_seconds is not None:
        low = caps.min_video_seconds or 0
        high = caps.max_video_seconds
        seconds = item.duration_seconds
        if seconds < low or (high is not None and seconds > high):
            problems.append(problem(
                "video_duration", network=network, field="media",
                limit=high, actual=round(seconds), number=number,
                minimum=low, maximum=high,
            ))
    if item.kind in caps.alt_text_required_for and not item.alt_text.strip():
        problems.append(problem(
            "alt_text_missing", network=network, field="media", number=number,
        ))
    elif (
        caps.alt_text_max_length is not None
        and len(item.alt_text) > caps.alt_text_max_length
    ):
        problems.append(problem(
            "alt_text_too_long", network=network, field="media",
            limit=caps.alt_text_max_length, actual=len(item.alt_text),
            number=number,
        ))
    return problems


def _byte_limit(item: MediaItem, caps: Capabilities) -> int | None:
    if item.kind == "video":
        return caps.max_video_bytes
    if item.mime_type == "image/gif" and caps.max_gif_bytes is not None:
        return caps.max_gif_bytes
    return caps.max_image_bytes


def _image_shape(
    number: int, item: MediaItem, caps: Capabilities, *, network: str
) -> list[ValidationProblem]:
    if not (item.width and item.height):
        return []
    problems = []
    pixels = item.width * item.height
    if caps.max_image_pixels is not None and pixels > caps.max_image_pixels:
        problems.append(problem(
            "image_too_many_pixels", network=network, field="media",
            limit=caps.max_image_pixels, actual=pixels, number=number,
            width=item.width, height=item.height,
        ))
    ratio = item.width / item.height
    low, high = caps.min_aspect_ratio, caps.max_aspect_ratio
    if (low is not None and ratio < low - ASPECT_TOLERANCE) or (
        high is not None and ratio > high + ASPECT_TOLERANCE
    ):
        problems.append(problem(
            "aspect_ratio", network=network, field="media", number=number,
            width=item.width, height=item.height,
        ))
    return problems
