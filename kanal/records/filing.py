"""Filing record entries in the municipality's case system.

The case system picks files up from a folder (``KANAL_RECORDS_FILING_DIR``).
Per entry Kanal writes, under ``<organisation>/<case number or "uden-sag">/``:

- ``kanal-<entry>-v<version>.pdf``: the entry as a readable document;
- ``kanal-<entry>-v<version>.json``: its metadata (the format
  ``kanal-journalpost/1``: organisation, case number, kind, channel,
  network, person, time, permalink, the content as recorded and its
  SHA-256, the media's SHA-256);
- ``kanal-<entry>-v<version>.receipt.json``: the receipt, written last
  (the two files' names and SHA-256 and when they were written), so the
  case system takes a pair only once its receipt is there.

Each file is written to a temporary name and renamed into place, so the
case system never sees half a file; filing the same entry again writes the
same names and the receipt of the last write.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.core.safety import InvalidInput
from kanal.publishing import periodic

from .content import canonical_json, entry_facts
from .models import Filing, FilingStatus, RecordEntry
from .policies import record_policy

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(part: str) -> str:
    return _UNSAFE.sub("-", part).strip(".-")[:80] or "uden-sag"


def mark_for_filing(entry: RecordEntry, *, actor, case_ref: str = "") -> Filing:
    """Mark ``entry`` for filing (once; marking again changes the case)."""
    record_policy.check(actor, "file", entry)
    with transaction.atomic():
        filing, created = Filing.objects.get_or_create(
            entry=entry,
            defaults={
                "organisation": entry.organisation,
                "case_ref": case_ref or entry.case_ref,
                "marked_by": actor.user,
                "marked_at": timezone.now(),
                "source_key": entry.source_key,
            },
        )
        if not created and filing.status == FilingStatus.FILED:
            raise InvalidInput(_("Posten er allerede journaliseret i sagssystemet."))
        if not created and case_ref and case_ref != filing.case_ref:
            filing.case_ref = case_ref
            filing.save(update_fields=["case_ref"])
        audit.record("records.filing.marked", actor=actor, target=entry,
                     changes={"case_ref": filing.case_ref})
    return filing


def _write_atomically(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def metadata(entry: RecordEntry, case_ref: str) -> dict:
    return {
        "format": "kanal-journalpost/1",
        "organisation": entry.organisation.name,
        "case_ref": case_ref,
        **entry_facts(entry),
        "person": entry.person,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "permalink": entry.permalink,
        "content_sha256": entry.content_hash,
        "content": entry.content,
    }


def _entry_pdf(entry: RecordEntry, case_ref: str) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from .export import _local

    styles = getSampleStyleSheet()
    lines = [
        (_("Organisation"), entry.organisation.name),
        (_("Sagsnummer"), case_ref or "–"),
        (_("Type"), entry.get_kind_display()),
        (_("Kanal"), entry.channel.display_name if entry.channel else "–"),
        (_("Person"), entry.person or "–"),
        (_("Tidspunkt"), _local(entry.occurred_at)),
        (_("Version"), f"{entry.version} ({entry.get_change_display()})"),
        (_("Adresse"), entry.permalink or "–"),
        (_("Kontrolsum (SHA-256)"), entry.content_hash),
    ]
    story = [Paragraph(escape(_("Journalpost")), styles["Heading1"])]
    for label, value in lines:
        story.append(Paragraph(f"<b>{escape(label)}:</b> {escape(value)}",
                               styles["BodyText"]))
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph(escape(entry.text).replace("\n", "<br/>"),
                           styles["BodyText"]))
    for media in entry.media:
        story.append(Paragraph(escape(
            _("Billede/video: %(name)s (alternativ tekst: %(alt)s)")
            % {"name": media.get("name") or "–", "alt": media.get("alt_text") or "–"}
        ), styles["BodyText"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=_("Journalpost"), lang="da",
                      author=entry.organisation.name).build(story)
    return buffer.getvalue()


def file_one(filing: Filing, *, actor=None) -> Filing:
    """Write one entry's files and receipt to the filing folder (``actor``
    is the member who asked for it, None for the periodic job)."""
    entry = RecordEntry.objects.select_related(
        "organisation", "channel", "administration"
    ).get(pk=filing.entry_id)
    folder = (Path(settings.KANAL_RECORDS_FILING_DIR)
              / _safe(entry.organisation.slug) / _safe(filing.case_ref))
    stem = f"kanal-{entry.pk}-v{entry.version}"
    with translation.override("da"):
        try:
            pdf_sha = _write_atomically(folder / f"{stem}.pdf",
                                        _entry_pdf(entry, filing.case_ref))
            json_sha = _write_atomically(
                folder / f"{stem}.json",
                json.dumps(metadata(entry, filing.case_ref), ensure_ascii=False,
                           indent=2, sort_keys=True, default=str).encode("utf-8"),
            )
            now = timezone.now()
            receipt = {
                "format": "kanal-kvittering/1",
                "entry": entry.pk,
                "case_ref": filing.case_ref,
                "folder": str(folder),
                "files": {f"{stem}.pdf": pdf_sha, f"{stem}.json": json_sha},
                "filed_at": now.isoformat(),
            }
            _write_atomically(folder / f"{stem}.receipt.json",
                              canonical_json(receipt).encode("utf-8"))
        except OSError as e:
            Filing.objects.filter(pk=filing.pk).update(
                status=FilingStatus.FAILED, attempts=F("attempts") + 1,
                error=_("Mappen til sagssystemet kunne ikke skrives (%(error)s). "
                        "Tjek KANAL_RECORDS_FILING_DIR og rettighederne, og "
                        "prøv igen.") % {"error": e.strerror or type(e).__name__},
            )
            filing.refresh_from_db()
            return filing
    with transaction.atomic():
        Filing.objects.filter(pk=filing.pk).update(
            status=FilingStatus.FILED, filed_at=now, receipt=receipt, error="",
            attempts=F("attempts") + 1,
        )
        audit.record("records.filing.filed", actor=actor,
                     organisation=entry.organisation,
                     target=entry, changes={"receipt": receipt})
    filing.refresh_from_db()
    return filing


def file_waiting(now=None, dry_run: bool = False, *, actor=None) -> int:
    """File every entry waiting (or failed before) for filing: the periodic
    job's (every organisation's), or, with ``actor``, only the entries of the
    actor's organisation (*Læg i sagssystemet nu*).

    An entry that cannot be filed for an unforeseen reason is marked failed
    with a Danish message and the others are filed all the same: one such
    entry, first in line on every run, would otherwise stop all filing.
    """
    waiting = Filing.objects.filter(
        status__in=[FilingStatus.WAITING, FilingStatus.FAILED],
        entry__isnull=False,
    ).order_by("marked_at", "pk")
    if actor is not None:
        record_policy.check(actor, "file")
        waiting = waiting.filter(organisation_id=actor.organisation_id)
    if dry_run:
        return waiting.count()

    def file(filing) -> int:
        return int(file_one(filing, actor=actor).status == FilingStatus.FILED)

    def failed(filing, error) -> None:
        with translation.override("da"):
            reason = _("Posten kunne ikke journaliseres på grund af en fejl i "
                       "Kanal. Den prøves igen ved næste kørsel; sker det "
                       "igen, så kontakt support.")
        Filing.objects.filter(pk=filing.pk).update(
            status=FilingStatus.FAILED, attempts=F("attempts") + 1, error=reason)

    return periodic.each_guarded("records_filing", waiting[:500], file,
                                 record=failed)
