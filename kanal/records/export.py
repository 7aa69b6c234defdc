"""The package for an access request: a PDF for the requester and a ZIP
archive (items as JSON, the media, a manifest of SHA-256 checksums).

Neither ever holds the content of a withheld item or a redacted passage: they
say what was withheld and why. Files are written under
``records/exports/<export id>/`` in the media storage, so two officers'
exports never share a file. Media are streamed into the archive one at a
time; a media file missing from disk is listed in the manifest, not fatal.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kanal.core import audit

from .content import CHUNK, canonical_json, entry_facts
from .models import (
    AccessExport,
    AccessRequest,
    ExportStatus,
    RecordMedia,
    WithholdingGround,
)
from .selectors import items_of, redacted_content, redacted_text

PROGRESS_EVERY = 50


def _local(moment) -> str:
    return date_format(timezone.localtime(moment), "j. F Y \\k\\l. H:i")


def item_for_requester(item) -> dict:
    """One item as the requester may see it."""
    entry = item.entry
    base = {
        **entry_facts(entry),
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
    }
    if item.withheld:
        return {
            **base,
            "withheld": True,
            "ground": item.ground,
            "ground_text": str(WithholdingGround(item.ground).label)
            if item.ground else "",
        }
    redactions = list(item.redactions)
    # Every field, not only the text: the author's name and id and the links
    # can hold what was redacted.
    content = redacted_content(dict(entry.content), redactions)
    return {
        **base,
        "withheld": False,
        "permalink": redacted_text(entry.permalink, redactions),
        # The hash of the record as kept. A redacted item's content differs,
        # and its hash would let anyone confirm a guess at what was blacked
        # out (an 8-digit phone number is 10^8 tries), so it has none.
        "content_sha256": None if redactions else entry.content_hash,
        "redacted": bool(redactions),
        "redactions": [
            {"number": n, "ground": r.get("ground", ""),
             "ground_text": str(WithholdingGround(r["ground"]).label)
             if r.get("ground") in WithholdingGround.values else ""}
            for n, r in enumerate(redactions, start=1)
        ],
        "content": content,
    }


# ---------------------------------------------------------------------------
# PDF


def build_pdf(request: AccessRequest, rows: list[dict], target: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as pdfcanvas
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=10,
                          leading=14, alignment=TA_LEFT)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11,
                           textColor=colors.HexColor("#333333"))
    h1 = ParagraphStyle("h1", parent=styles["Heading1"], fontSize=18, leading=22)
    h2 = ParagraphStyle("h2", parent=styles["Heading2"], fontSize=13, leading=16)
    withheld_style = ParagraphStyle("withheld", parent=body,
                                    textColor=colors.HexColor("#7a1d1d"))

    class NumberedCanvas(pdfcanvas.Canvas):
        """"Side x af y" on every page (drawn once the count is known)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            count = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 8.5)
                self.setFillColor(colors.HexColor("#333333"))
                self.drawRightString(
                    A4[0] - 18 * mm, 12 * mm,
                    _("Side %(page)s af %(pages)s")
                    % {"page": self._pageNumber, "pages": count},
                )
                self.drawString(18 * mm, 12 * mm, request.title[:90])
                super().showPage()
            super().save()

    def p(text, style=body):
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story = [
        p(_("Aktindsigt"), h1),
        p(request.title, h2),
    ]
    facts = [
        (_("Anmoder"), request.requester or "–"),
        (_("Sagsnummer"), request.case_ref or "–"),
        (_("Periode"), f"{date_format(request.period_start, 'j. F Y')} – "
                       f"{date_format(request.period_end, 'j. F Y')}"),
        (_("Søgeord"), ", ".join(request.search_words) or "–"),
        (_("Kanaler"), ", ".join(c.display_name for c in request.channels.all())
         or _("Alle")),
        (_("Forvaltninger"), ", ".join(a.code for a in request.administrations.all())
         or _("Alle")),
        (_("Udleveret"), _local(timezone.now())),
    ]
    withheld = [r for r in rows if r["withheld"]]
    redacted = [r for r in rows if not r["withheld"] and r["redacted"]]
    facts.append((_("Fundne poster"), str(len(rows))))
    facts.append((_("Heraf undtaget"), str(len(withheld))))
    facts.append((_("Heraf delvist overstreget"), str(len(redacted))))
    table = Table([[p(k, small), p(v)] for k, v in facts],
                  colWidths=[45 * mm, 120 * mm], splitInRow=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
    ]))
    story += [table, Spacer(1, 6 * mm)]
    story.append(p(_(
        "Dokumentet indeholder de opslag, kommentarer og svar på kommunens "
        "sociale medier, som anmodningen omfatter, som de blev journaliseret. "
        "Poster, der er undtaget fra aktindsigt, er nævnt med den bestemmelse, "
        "de er undtaget efter, men uden deres indhold. Overstregede dele af en "
        "tekst er vist som █████ med et nummer, der henviser til begrundelsen "
        "under posten."
    )))
    if withheld:
        story.append(p(_("Undtaget fra aktindsigt"), h2))
        for r in withheld:
            story.append(p(
                f"{_local_iso(r['occurred_at'])} · {r['channel']} · "
                f"{r['ground_text']}", small))
    story.append(p(_("Poster"), h2))
    for number, r in enumerate(rows, start=1):
        head = p(
            f"{number}. {_local_iso(r['occurred_at'])} · {r['channel'] or '–'} · "
            f"{_kind_label(r['kind'])}"
            + (f" · {_('version')} {r['version']} ({_change_label(r['change'])})"
               if r["version"] > 1 else ""),
            small,
        )
        if r["withheld"]:
            block = [head, p(_("Undtaget: %(ground)s") % {"ground": r["ground_text"]},
                             withheld_style)]
        else:
            content = r["content"]
            block = [head, p(content.get("text") or "")]
            if content.get("first_comment"):
                block.append(p(_("Første kommentar: %(text)s")
                               % {"text": content["first_comment"]}, small))
            if content.get("link"):
                block.append(p(_("Link: %(url)s") % {"url": content["link"]}, small))
            if r.get("permalink"):
                block.append(p(_("Adresse: %(url)s") % {"url": r["permalink"]},
                               small))
            block.extend(p(line, small) for line in _network_change_lines(r))
            for m in content.get("media") or []:
                block.append(p(
                    _("Billede/video: %(name)s (alternativ tekst: %(alt)s)")
                    % {"name": m.get("name") or "–", "alt": m.get("alt_text") or "–"},
                    small,
                ))
            for red in r["redactions"]:
                block.append(p(_("Overstreget (%(number)s): %(ground)s")
                               % {"number": red["number"],
                                  "ground": red["ground_text"]}, withheld_style))
        block.append(Spacer(1, 4 * mm))
        story.append(KeepTogether(block))
    doc = SimpleDocTemplate(
        str(target), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
        topMargin=18 * mm, bottomMargin=20 * mm,
        title=_("Aktindsigt: %(title)s") % {"title": request.title},
        author=request.organisation.name, lang="da",
    )
    doc.build(story, canvasmaker=NumberedCanvas)


def _network_change_lines(row: dict) -> list[str]:
    """When a change on the network (an edit or a deletion made there) was
    made and seen, for a version that records one."""
    content = row["content"]
    lines = []
    for key, label in (
        ("edited_on_network_at", _("Ændret på netværket %(when)s")),
        ("deleted_on_network_at", _("Set slettet på netværket %(when)s")),
        ("seen_on_network_at", _("Læst fra netværket %(when)s")),
    ):
        value = content.get(key)
        if key == "seen_on_network_at" and content.get("deleted_on_network_at"):
            continue  # a deletion is dated by when it was seen
        if isinstance(value, str) and value:
            try:
                lines.append(label % {"when": _local_iso(value)})
            except ValueError:
                continue
    return lines


def _local_iso(value: str) -> str:
    from datetime import datetime

    return _local(datetime.fromisoformat(value))


def _kind_label(kind: str) -> str:
    from .models import RecordKind

    return str(RecordKind(kind).label) if kind in RecordKind.values else kind


def _change_label(change: str) -> str:
    from .models import RecordChange

    return str(RecordChange(change).label) if change in RecordChange.values else change


# ---------------------------------------------------------------------------
# The export job


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(export_id: int, done: int, total: int) -> None:
    AccessExport.objects.filter(pk=export_id).update(done=done, total=total)


def run_export(export_id: int) -> AccessExport:
    """Build the PDF and the archive of one export, saying how far it got
    as it goes; on any failure the export is marked failed with a Danish
    reason (the page offers to try again)."""
    claimed = AccessExport.objects.filter(
        pk=export_id, status=ExportStatus.QUEUED
    ).update(status=ExportStatus.RUNNING)
    export = AccessExport.objects.select_related(
        "request", "request__organisation"
    ).get(pk=export_id)
    if not claimed:
        return export
    with translation.override("da"):
        try:
            _build(export)
        except Exception as e:
            AccessExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED,
                error=_("Eksporten kunne ikke laves (%(error)s). Prøv igen; "
                        "sker det igen, så kontakt support.")
                % {"error": type(e).__name__},
                finished_at=timezone.now(),
            )
            raise
    export.refresh_from_db()
    return export


def _build(export: AccessExport) -> None:
    request = export.request
    items = items_of(request)
    total = items.count()
    # Items, media and the two files: a step each.
    steps = total * 2 + 2
    _progress(export.pk, 0, steps)
    rows = []
    for done, item in enumerate(items.iterator(chunk_size=1000), start=1):
        rows.append(item_for_requester(item))
        if done % PROGRESS_EVERY == 0:
            _progress(export.pk, done, steps)
    with tempfile.TemporaryDirectory(prefix="kanal-export-") as tmp:
        tmpdir = Path(tmp)
        pdf_path = tmpdir / "aktindsigt.pdf"
        build_pdf(request, rows, pdf_path)
        _progress(export.pk, total + 1, steps)
        zip_path = tmpdir / "aktindsigt.zip"
        missing = _build_zip(export, request, rows, pdf_path, zip_path, steps)
        base = f"records/exports/{export.pk}"
        slug = f"aktindsigt-{request.pk}-{export.pk}"
        with pdf_path.open("rb") as handle:
            stored_pdf = default_storage.save(f"{base}/{slug}.pdf", File(handle))
        with zip_path.open("rb") as handle:
            stored_zip = default_storage.save(f"{base}/{slug}.zip", File(handle))
        pdf_sha = _sha256_file(pdf_path)
        zip_sha = _sha256_file(zip_path)
    with transaction.atomic():
        AccessExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE,
            done=steps,
            total=steps,
            pdf_path=stored_pdf,
            zip_path=stored_zip,
            pdf_sha256=pdf_sha,
            zip_sha256=zip_sha,
            missing_media=missing,
            finished_at=timezone.now(),
        )
        audit.record(
            "records.access_export.finished",
            actor=export.created_by,
            organisation=request.organisation,
            target=request,
            changes={"export": export.pk, "items": total, "pdf_sha256": pdf_sha,
                     "zip_sha256": zip_sha, "missing_media": missing},
        )


def _build_zip(export, request, rows, pdf_path: Path, zip_path: Path,
               steps: int) -> int:
    checksums: dict[str, str] = {}
    missing: list[dict] = []
    total = len(rows)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add_bytes(name: str, data: bytes) -> None:
            zf.writestr(name, data)
            checksums[name] = hashlib.sha256(data).hexdigest()

        items_json = json.dumps(
            {"request": _request_meta(request), "items": rows},
            ensure_ascii=False, indent=2, sort_keys=True,
            default=str,
        ).encode("utf-8")
        add_bytes("items.json", items_json)
        zf.write(pdf_path, "aktindsigt.pdf")
        checksums["aktindsigt.pdf"] = _sha256_file(pdf_path)
        seen: set[str] = set()
        for done, row in enumerate(rows, start=1):
            for media in [] if row["withheld"] else row["content"].get("media") or []:
                sha = media.get("sha256")
                if not sha:
                    missing.append({"item": row["id"], "name": media.get("name"),
                                    "reason": _("Filen var ikke på disken, da "
                                                "posten blev journaliseret.")})
                    continue
                if sha in seen:
                    continue
                kept = RecordMedia.objects.filter(sha256=sha).first()
                name = f"media/{sha}{Path(media.get('name') or '').suffix.lower()}"
                try:
                    if kept is None:
                        raise FileNotFoundError(sha)
                    digest = hashlib.sha256()
                    with default_storage.open(kept.path, "rb") as src, \
                            zf.open(name, "w", force_zip64=True) as dst:
                        for chunk in iter(lambda src=src: src.read(CHUNK), b""):
                            digest.update(chunk)
                            dst.write(chunk)
                    checksums[name] = digest.hexdigest()
                    seen.add(sha)
                except OSError:
                    missing.append({"item": row["id"], "name": media.get("name"),
                                    "sha256": sha,
                                    "reason": _("Filen mangler i journalens lager.")})
            if done % PROGRESS_EVERY == 0:
                _progress(export.pk, total + 1 + done, steps)
        manifest = {
            "format": "kanal-aktindsigt/1",
            "request": _request_meta(request),
            "export": export.pk,
            "created_at": timezone.now().isoformat(),
            "algorithm": "sha256",
            "files": dict(sorted(checksums.items())),
            "missing_media": missing,
        }
        zf.writestr("manifest.json", canonical_json(manifest))
        # For `sha256sum -c SHA256SUMS` after unpacking.
        zf.writestr(
            "SHA256SUMS",
            "".join(f"{sha}  {name}\n" for name, sha in sorted(checksums.items())),
        )
    return len(missing)


def _request_meta(request: AccessRequest) -> dict:
    return {
        "id": request.pk,
        "title": request.title,
        "requester": request.requester,
        "case_ref": request.case_ref,
        "period_start": str(request.period_start),
        "period_end": str(request.period_end),
        "search_words": request.search_words,
        "channels": [c.display_name for c in request.channels.all()],
        "administrations": [a.code for a in request.administrations.all()],
    }
