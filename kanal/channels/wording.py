"""The networks' problems and counting rules in the reader's language.

``kanal.channels.networks`` imports nothing of Django, so an adapter cannot
translate: each ``ValidationProblem`` carries a ``code`` with ``limit``,
``actual`` and ``params`` (Danish ``message`` only for logs and for a code
this module does not know yet). ``problem_text`` words it here, with gettext;
``test_wording`` fails when an adapter emits a code without a wording.
"""

from __future__ import annotations

import dataclasses

from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Network

#: How each network counts, in words for the person writing.
COUNTING = {
    "x": _("vægtede tegn (et link tæller 23, en emoji 2)"),
    "bluesky": _("grafemer"),
    "mastodon": _("tegn (et link tæller 23)"),
    "threads": _("tegn (en emoji tæller som sine bytes)"),
    "facebook": _("tegn"),
    "linkedin": _("tegn"),
    "instagram": _("tegn"),
}

FORMAT_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
}

_EMPTY = _("Opslaget er tomt. Skriv en tekst, eller tilføj et link eller et billede.")
_FORMAT = _(
    "Fil %(number)s har formatet %(format)s, som %(network)s ikke tager imod. "
    "Brug %(allowed)s."
)
_MIXED = _(
    "%(network)s kan ikke vise en video sammen med andre billeder eller filer. "
    "Send videoen i sit eget opslag."
)

#: code → wording. Placeholders: network, limit, actual, over (actual − limit),
#: and the problem's params (number, format, allowed, width, height, minimum,
#: maximum). Sizes in bytes are shown in MB.
WORDINGS = {
    "text_too_long": _(
        "Teksten fylder %(actual)s tegn, men %(network)s tillader højst "
        "%(limit)s. Forkort den med %(over)s tegn."
    ),
    "text_too_many_bytes": _(
        "Teksten fylder %(actual)s bytes, men %(network)s tillader højst "
        "%(limit)s (emoji og særlige tegn fylder flere bytes). Forkort teksten."
    ),
    "text_invalid_characters": _(
        "Teksten indeholder usynlige tegn, som %(network)s ikke tillader "
        "(U+FEFF, U+FFFE eller U+FFFF). Skriv teksten ind igen uden at kopiere "
        "den fra et andet program."
    ),
    "text_empty": _EMPTY,
    "text_missing": _EMPTY,
    "empty": _EMPTY,
    "hashtag_too_long": _(
        "Et hashtag er for langt: %(network)s tillader højst %(limit)s tegn i et "
        "hashtag. Gør det kortere."
    ),
    "too_many_hashtags": _(
        "Teksten har %(actual)s hashtags; %(network)s tillader højst %(limit)s. "
        "Fjern nogle af dem."
    ),
    "too_many_mentions": _(
        "Teksten nævner %(actual)s konti med @; %(network)s tillader højst "
        "%(limit)s. Fjern nogle af dem."
    ),
    "too_many_links": _(
        "Opslaget har %(actual)s links; %(network)s tillader højst %(limit)s. "
        "Fjern nogle af dem."
    ),
    "too_many_images": _(
        "%(network)s tillader højst %(limit)s billeder i et opslag, men opslaget "
        "har %(actual)s. Fjern %(over)s."
    ),
    "too_many_media": _(
        "Opslaget har %(actual)s billeder og videoer; %(network)s tillader højst "
        "%(limit)s. Fjern %(over)s."
    ),
    "too_many_videos": _(
        "Et opslag på %(network)s kan have højst %(limit)s video; der er "
        "%(actual)s. Fjern de andre, eller del dem i flere opslag."
    ),
    "media_required": _(
        "%(network)s kræver et billede eller en video. Tilføj mindst ét billede "
        "eller én video, før opslaget kan udgives."
    ),
    "video_not_supported": _(
        "Kanal kan ikke sende video til %(network)s. Fjern videoen, eller brug et "
        "billede."
    ),
    "video_with_other_media": _MIXED,
    "video_with_images": _MIXED,
    "gif_with_other_media": _(
        "%(network)s kan kun vise én GIF og intet andet i et opslag. Send GIF'en "
        "i sit eget opslag."
    ),
    "media_format": _FORMAT,
    "image_format": _FORMAT,
    "video_format": _FORMAT,
    "media_url_missing": _(
        "Fil %(number)s har ingen offentlig adresse, som %(network)s kan hente "
        "den fra. Gem opslaget igen, så Kanal kan lægge filen ud."
    ),
    "alt_text_missing": _(
        "Billede %(number)s mangler en alternativ tekst. Beskriv, hvad billedet "
        "viser, så det kan læses op for dem, der ikke kan se det."
    ),
    "alt_text_too_long": _(
        "Den alternative tekst til billede %(number)s er %(actual)s tegn; "
        "%(network)s tillader højst %(limit)s. Forkort den."
    ),
    "image_too_large": _(
        "Billede %(number)s fylder %(actual)s MB; %(network)s tager højst "
        "%(limit)s MB. Gør billedet mindre."
    ),
    "image_too_large:pixels": _(
        "Billede %(number)s er for stort til %(network)s (%(width)s×%(height)s "
        "pixels). Gør det mindre, fx højst 6000×6000."
    ),
    "video_too_large": _(
        "Video %(number)s fylder %(actual)s MB; %(network)s tager højst "
        "%(limit)s MB. Gør videoen mindre."
    ),
    "video_duration": _(
        "Video %(number)s varer %(actual)s sekunder; %(network)s tager videoer "
        "på %(minimum)s–%(maximum)s sekunder. Klip videoen til."
    ),
    "aspect_ratio": _(
        "Billede %(number)s har formatet %(width)s×%(height)s; %(network)s tager "
        "billeder fra 4:5 (højformat) til 1,91:1 (bredformat). Beskær billedet."
    ),
}

#: Codes whose limit and actual are sizes in bytes.
IN_BYTES = {"image_too_large", "video_too_large"}


def _number(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return number_format(value, decimal_pos=1, use_l10n=True)
    if isinstance(value, int):
        return number_format(value, use_l10n=True, force_grouping=value >= 10000)
    return str(value)


def problem_text(problem, network: str) -> str:
    """``problem`` worded for the reader (its Danish ``message`` when its code
    has no wording here)."""
    params = dict(getattr(problem, "params", None) or {})
    key = problem.code
    if params.get("unit") == "pixels":
        key = f"{problem.code}:pixels"
    wording = WORDINGS.get(key)
    if wording is None:
        return problem.message
    limit, actual = problem.limit, problem.actual
    values = {
        "network": Network(network).label if network in Network.values else network,
        "over": _number(actual - limit) if None not in (limit, actual) else "",
    }
    if problem.code in IN_BYTES and params.get("unit") != "pixels":
        limit = limit / 1_000_000 if limit else limit
        actual = actual / 1_000_000 if actual else actual
    values["limit"], values["actual"] = _number(limit), _number(actual)
    if "allowed" in params:
        params["allowed"] = ", ".join(
            FORMAT_NAMES.get(f, f) for f in sorted(params["allowed"])
        )
    if "format" in params:
        params["format"] = FORMAT_NAMES.get(params["format"], params["format"])
    values.update({k: _number(v) for k, v in params.items() if k != "unit"})
    try:
        return str(wording) % values
    except (KeyError, ValueError, TypeError):
        return problem.message


def worded(problems, network: str) -> list:
    """The problems with their ``message`` in the reader's language."""
    return [
        dataclasses.replace(p, message=problem_text(p, network)) for p in problems
    ]


def network_sentence(text: str) -> str:
    """A network's Danish sentence (an error an adapter raised, kept on the
    channel or the publication) in the reader's language, when the catalogue
    has it; adapters mark theirs with ``networks.errors.gettext_noop``."""
    return gettext(text) if text else ""
