"""Tables as CSV and XLSX, safe against spreadsheet formula injection.

CSV is written the way a Danish spreadsheet opens it without a dialogue:
UTF-8 with a byte order mark, ``;`` between fields, decimal comma. XLSX is
written with openpyxl (well kept, pure Python, no spreadsheet program
needed), numbers as numbers, dates as dates."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from django.utils import timezone

from .selectors import Table

#: A cell beginning with one of these is a formula to a spreadsheet program.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: What a spreadsheet cannot hold: control characters other than tab and line
#: breaks (openpyxl refuses them; a name from a network's tag search may have
#: one) and lone surrogates (no UTF-8 file can).
UNFIT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe stops
    ``=HYPERLINK(...)`` and friends from running; characters no spreadsheet
    can hold become a space."""
    value = UNFIT.sub(" ", value) if value else value
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value, *, for_xlsx: bool):
    if value is None:
        return None
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        local = timezone.localtime(value)
        return local.replace(tzinfo=None) if for_xlsx else local.strftime(
            "%Y-%m-%d %H:%M")
    return safe_text(str(value))


def rows_of(table: Table, *, for_xlsx: bool):
    yield [safe_text(c.label) for c in table.columns]
    for row in table.rows:
        yield [_plain(row.get(c.key), for_xlsx=for_xlsx) for c in table.columns]


def as_csv(table: Table, on_progress=None) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    total = len(table.rows) + 1
    for n, row in enumerate(rows_of(table, for_xlsx=False), start=1):
        writer.writerow([
            "" if v is None else (str(v).replace(".", ",")
                                  if isinstance(v, float) else v)
            for v in row
        ])
        if on_progress and n % 500 == 0:
            on_progress(n, total)
    return out.getvalue().encode("utf-8")


def as_xlsx(table: Table, on_progress=None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=safe_text(table.title)[:31] or "Kanal")
    total = len(table.rows) + 1
    for n, row in enumerate(rows_of(table, for_xlsx=True), start=1):
        sheet.append(row)
        if on_progress and n % 500 == 0:
            on_progress(n, total)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(table: Table, file_format: str, on_progress=None) -> bytes:
    return (as_xlsx if file_format == "xlsx" else as_csv)(table, on_progress)
