"""Bulk planning: a spreadsheet (CSV) of posts, read and checked row by row.

``read_table`` decodes the file the way spreadsheets write it (UTF-8 with or
without a byte order mark, UTF-16 from Excel's "Unicode text", Windows-1252
from Danish Excel's "CSV (semikolonsepareret)") and finds the separator
(semicolon, comma or tab). ``check_rows`` turns every row into a post to
create or a list of Danish errors; nothing is saved here. The action
``actions.import_posts`` creates the posts only when every row is valid.

Cells that a spreadsheet would run as a formula (beginning with "=") are
refused: such a text is almost never a post, and it would run the day someone
opens an export of the plan in Excel.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kanal.channels.models import ChannelStatus, Purpose

from .forms import parse_hashtags
from .timeutil import from_local

MAX_BYTES = 1024 * 1024
MAX_ROWS = 500
MAX_CELL = 5000

# column -> the names a header may use (Danish first, then English)
COLUMNS = {
    "date": ("dato", "date", "dag"),
    "time": ("tid", "klokkeslæt", "kl", "time"),
    "title": ("overskrift", "titel", "title"),
    "text": ("tekst", "text", "fælles tekst"),
    "channels": ("kanaler", "kanal", "channels", "networks", "netværk"),
    "category": ("kategori", "indholdskategori", "category"),
    "purposes": ("formål", "formaal", "purposes", "purpose"),
    "campaign": ("kampagne", "campaign"),
    "administration": ("forvaltning", "administration"),
    "link": ("link", "url"),
    "hashtags": ("hashtags", "hashtag"),
    "media": ("medie", "billede", "media", "image"),
    "notes": ("noter", "interne noter", "notes"),
}
REQUIRED = ("date", "time", "title", "channels")
NETWORK_ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram"}
FORMULA = re.compile(r"^\s*=")


class ImportRefused(Exception):
    """The file as a whole cannot be read (``str()`` says why, in Danish)."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number as in the spreadsheet, cells)
    encoding: str
    delimiter: str


@dataclass
class RowResult:
    number: int
    title: str = ""
    planned_at: datetime | None = None
    channels: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


ENCODING_NAMES = {
    "utf-8-sig": "UTF-8",
    "utf-16": gettext_lazy("UTF-16 (Excel, Unicode-tekst)"),
    "cp1252": gettext_lazy("Windows-1252 (Excel, CSV semikolonsepareret)"),
}


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise ImportRefused(
                _("Filen kunne ikke læses som UTF-16. Gem den igen som CSV.")
            ) from e
    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as e:
        raise ImportRefused(
            _(
                "Filens tegnsæt kunne ikke genkendes. Gem den som «CSV UTF-8» i "
                "Excel, og prøv igen."
            )
        ) from e


def read_table(data: bytes) -> Table:
    """The header and the non-empty rows of a CSV file."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            _("Filen er for stor (højst 1 MB). Del planen op i flere filer.")
        )
    if not data.strip():
        raise ImportRefused(_("Filen er tom."))
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(
            _("Filen er ikke en CSV-fil. Gem regnearket som CSV, og prøv igen.")
        )
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as e:
        raise ImportRefused(_("Filen har ingen kolonneoverskrifter.")) from e
    rows = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRefused(
                    _("Filen har mere end %(n)d opslag. Del planen op i flere filer.")
                    % {"n": MAX_ROWS}
                )
            rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise ImportRefused(
            _("Linje %(line)d kan ikke læses (%(why)s). Ret den, og prøv igen.")
            % {"line": reader.line_num, "why": str(e)}
        ) from e
    return Table(header, rows, encoding, delimiter)


def map_header(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """``({column: index}, [errors])`` for the header row."""
    names = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}
    index: dict[str, int] = {}
    errors = []
    for position, raw in enumerate(header):
        name = " ".join(raw.strip().lower().split())
        if not name:
            continue
        column = names.get(name)
        if column is None:
            errors.append(
                _("Ukendt kolonne «%(name)s». Kendte kolonner: %(known)s.")
                % {
                    "name": raw.strip()[:40],
                    "known": ", ".join(a[0] for a in COLUMNS.values()),
                }
            )
        elif column in index:
            errors.append(
                _("Kolonnen «%(name)s» står der to gange.") % {"name": raw.strip()[:40]}
            )
        else:
            index[column] = position
    for column in REQUIRED:
        if column not in index:
            errors.append(
                _("Kolonnen «%(name)s» mangler.") % {"name": COLUMNS[column][0]}
            )
    return index, errors


def _date(value: str) -> date | None:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _time(value: str) -> time | None:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})(?:[:.]\d{2})?\s*", value)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


class Context:
    """What the rows are checked against: the organisation as ``actor`` sees it."""

    def __init__(self, actor):
        from .models import Campaign, Post
        from .policies import media_policy

        self.actor = actor
        self.channels = list(
            actor.organisation.channels.exclude(
                status=ChannelStatus.DISABLED
            ).select_related("strategy")
        )
        self.campaigns = {
            c.name.strip().lower(): c
            for c in Campaign.objects.filter(organisation_id=actor.organisation_id)
        }
        self.administrations = {
            a.code.lower(): a for a in actor.organisation.administrations.all()
        }
        self.media = media_policy.visible(actor)
        self.existing = set(
            Post.objects.filter(
                organisation_id=actor.organisation_id, planned_at__isnull=False
            ).values_list("title", "planned_at")
        )
        self.purposes = {}
        for value, label in Purpose.choices:
            self.purposes[value] = value
            self.purposes[str(label).lower()] = value

    def channels_for(self, raw: str) -> tuple[list, list[str]]:
        chosen, errors = [], []
        for token in re.split(r"[,;/+\s]+", raw.strip().lower()):
            if not token:
                continue
            network = NETWORK_ALIASES.get(token, token)
            matches = [c for c in self.channels if c.network == network]
            if not matches:
                matches = [
                    c
                    for c in self.channels
                    if token in {c.handle.lower().lstrip("@"), c.display_name.lower()}
                ]
            if len(matches) == 1:
                if matches[0] not in chosen:
                    chosen.append(matches[0])
            elif not matches:
                known = ", ".join(sorted({c.network for c in self.channels}))
                errors.append(
                    _(
                        "Kanalen «%(name)s» findes ikke eller er slået fra. "
                        "Brug: %(known)s."
                    )
                    % {"name": token[:40], "known": known}
                )
            else:
                errors.append(
                    _(
                        "«%(name)s» passer på flere kanaler (%(handles)s). Skriv "
                        "kanalens brugernavn i stedet."
                    )
                    % {
                        "name": token[:40],
                        "handles": ", ".join(
                            c.handle or c.display_name for c in matches
                        ),
                    }
                )
        return chosen, errors


def check_rows(table: Table, actor) -> tuple[list[RowResult], list[str]]:
    """Every row checked; ``(results, errors about the file as a whole)``."""
    from .validation import check_variant

    index, header_errors = map_header(table.header)
    if header_errors:
        return [], header_errors
    context = Context(actor)
    now = timezone.now()
    seen: dict[tuple, int] = {}
    url_validator = URLValidator(schemes=["http", "https"])
    results = []
    for number, cells in table.rows:
        row = RowResult(number)
        results.append(row)

        def cell(column, cells=cells):
            position = index.get(column)
            if position is None or position >= len(cells):
                return ""
            return cells[position].strip()

        if len(cells) > len(table.header):
            row.errors.append(
                _(
                    "Rækken har flere celler (%(n)d) end der er kolonner (%(m)d). "
                    "Står der et skilletegn i en tekst uden anførselstegn?"
                )
                % {"n": len(cells), "m": len(table.header)}
            )
        for column in COLUMNS:
            value = cell(column)
            if FORMULA.match(value):
                row.errors.append(
                    _(
                        "«%(column)s» begynder med «=» og ligner en regnearksformel. "
                        "Skriv teksten uden «=» først."
                    )
                    % {"column": COLUMNS[column][0]}
                )
            if len(value) > MAX_CELL:
                row.errors.append(
                    _("«%(column)s» er for lang (højst %(n)d tegn).")
                    % {"column": COLUMNS[column][0], "n": MAX_CELL}
                )
        title, text = cell("title"), cell("text")
        row.title = title
        if not title:
            row.errors.append(_("Overskriften mangler."))
        elif len(title) > 200:
            row.errors.append(_("Overskriften er for lang (højst 200 tegn)."))
        day, clock = _date(cell("date")), _time(cell("time"))
        if day is None:
            row.errors.append(
                _("Datoen «%(value)s» kan ikke læses. Skriv fx 24.12.2026.")
                % {"value": cell("date")[:30]}
            )
        if clock is None:
            row.errors.append(
                _("Klokkeslættet «%(value)s» kan ikke læses. Skriv fx 10:00.")
                % {"value": cell("time")[:30]}
            )
        if day is not None and clock is not None:
            local = from_local(day, clock)
            row.planned_at = local.value
            if local.note:
                row.warnings.append(local.note)
            if local.value <= now:
                row.errors.append(
                    _("Tidspunktet %(when)s er passeret. Vælg et senere tidspunkt.")
                    % {"when": f"{day:%d.%m.%Y} {clock:%H:%M}"}
                )
        channels, channel_errors = context.channels_for(cell("channels"))
        row.errors += channel_errors
        if not channels and not channel_errors:
            row.errors.append(_("Vælg mindst én kanal i kolonnen «kanaler»."))
        row.channels = channels
        values = {
            "title": title,
            "shared_text": text,
            "category": cell("category"),
            "notes": cell("notes"),
        }
        if len(values["category"]) > 100:
            row.errors.append(_("Kategorien er for lang (højst 100 tegn)."))
        purposes = []
        for word in re.split(r"[,;/]+", cell("purposes")):
            word = word.strip().lower()
            if not word:
                continue
            if word not in context.purposes:
                row.errors.append(
                    _("Formålet «%(value)s» findes ikke. Brug: %(known)s.")
                    % {
                        "value": word[:40],
                        "known": ", ".join(
                            str(label).lower() for _v, label in Purpose.choices
                        ),
                    }
                )
            elif context.purposes[word] not in purposes:
                purposes.append(context.purposes[word])
        values["purposes"] = purposes
        campaign = cell("campaign")
        values["campaign"] = None
        if campaign:
            values["campaign"] = context.campaigns.get(campaign.lower())
            if values["campaign"] is None:
                row.errors.append(
                    _("Kampagnen «%(value)s» findes ikke. Opret den under Kampagner.")
                    % {"value": campaign[:60]}
                )
        administration = cell("administration")
        values["owner_administration"] = context.actor.administration
        if administration:
            found = context.administrations.get(administration.lower())
            if found is None:
                row.errors.append(
                    _(
                        "Forvaltningen «%(value)s» findes ikke. Brug "
                        "forkortelsen, fx KFF."
                    )
                    % {"value": administration[:20]}
                )
            else:
                values["owner_administration"] = found
        link = cell("link")
        if link:
            try:
                url_validator(link)
            except ValidationError:
                row.errors.append(
                    _("Linket «%(value)s» er ikke en gyldig adresse (https://…).")
                    % {"value": link[:80]}
                )
        values["link"] = link
        try:
            values["hashtags"] = parse_hashtags(cell("hashtags"))
        except ValidationError as e:
            values["hashtags"] = []
            row.errors += [str(m) for m in e.messages]
        media_name = cell("media")
        values["media"] = []
        if media_name:
            found = list(context.media.filter(original_name__iexact=media_name)[:2])
            if not found:
                row.errors.append(
                    _(
                        "Mediet «%(value)s» findes ikke i mediebiblioteket. Læg det op "
                        "først, og skriv filnavnet præcis."
                    )
                    % {"value": media_name[:80]}
                )
            elif len(found) > 1:
                row.errors.append(
                    _(
                        "Flere medier hedder «%(value)s». Giv dem forskellige navne i "
                        "mediebiblioteket."
                    )
                    % {"value": media_name[:80]}
                )
            else:
                values["media"] = found
        key = (title, row.planned_at)
        if title and row.planned_at is not None:
            if key in context.existing:
                row.errors.append(
                    _(
                        "Der findes allerede et opslag med samme overskrift og tid. Er "
                        "filen importeret før?"
                    )
                )
            elif key in seen:
                row.errors.append(
                    _("Rækken er magen til række %(n)d (overskrift og tid).")
                    % {"n": seen[key]}
                )
            else:
                seen[key] = number
        row.values = values
        if row.ok:
            # The networks' rules: the editor shows these too; the post is
            # created as a draft and cannot be approved until they are fixed.
            for channel in channels:
                check = check_variant(
                    channel,
                    text=text,
                    link=link,
                    hashtags=[
                        *getattr(channel.strategy, "default_hashtags", []),
                        *(values["campaign"].hashtags if values["campaign"] else []),
                        *values["hashtags"],
                    ],
                    media=values["media"],
                    campaign=values["campaign"],
                )
                for problem in check.problems:
                    row.warnings.append(f"{channel}: {problem.message}")
    return results, []


def template_csv() -> bytes:
    """An example file as Danish Excel opens it (UTF-8 with BOM, semicolons)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([aliases[0] for aliases in COLUMNS.values()])
    day = timezone.localdate() + timedelta(days=7)
    writer.writerow(
        [
            f"{day:%d.%m.%Y}",
            "10:00",
            "Borgerservice: nye åbningstider",
            "Borgerservice har nye åbningstider fra næste uge. Book tid online.",
            "facebook, x",
            "Borgerservice",
            "service",
            "",
            "",
            "https://www.kk.dk/borgerservice",
            "#voreskbh",
            "",
            "Tjek tiderne med Borgerservice",
        ]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def encoding_label(encoding: str) -> str:
    return str(ENCODING_NAMES.get(encoding, encoding))
