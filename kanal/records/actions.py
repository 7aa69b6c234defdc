"""Writes to the record. The public API other apps feed it through is
``record`` (something said or received, or a new version of it) and
``record_deleted`` (it was deleted on the network)::

    from kanal.records.actions import record
    record(organisation=org, kind="comment", source="inbox",
           source_key=f"inbox.item:{item.pk}", content={"text": ...},
           occurred_at=item.received_at, channel=item.channel,
           person=item.author_handle)

Calling it again with the same content changes nothing; with changed content
it adds a version (never overwrites).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.core.safety import InvalidInput
from kanal.untrusted import safe_url

from .content import content_hash, file_sha256, normalised
from .models import (
    AccessRequest,
    AccessRequestItem,
    LegalHold,
    RecordChange,
    RecordEntry,
    RecordKind,
    RecordMedia,
    RetentionRule,
    WithholdingGround,
)
from .policies import access_request_policy, legal_hold_policy, record_policy

logger = logging.getLogger(__name__)

MEDIA_DIR = "records/media"


def keep_media(item: dict) -> dict:
    """The media item as the record keeps it: its SHA-256 and a copy of its
    bytes under ``records/media/`` (stored once). A file that cannot be read
    is recorded as missing, with no hash."""
    kept = {k: v for k, v in item.items() if k not in {"path", "id"}}
    path = item.get("path") or ""
    kept["name"] = path.rsplit("/", 1)[-1]
    sha = file_sha256(path) if path else None
    kept["sha256"] = sha
    if sha is None:
        kept["missing"] = True
        return kept
    if not RecordMedia.objects.filter(sha256=sha).exists():
        target = f"{MEDIA_DIR}/{sha[:2]}/{sha}"
        with default_storage.open(path, "rb") as handle:
            if not default_storage.exists(target):
                default_storage.save(target, handle)
        try:
            with transaction.atomic():
                RecordMedia.objects.create(
                    sha256=sha,
                    path=target,
                    mime_type=str(item.get("mime_type") or ""),
                    size=default_storage.size(target),
                )
        except IntegrityError:
            pass  # kept by a concurrent recorder
    return kept


#: An entry's versions, newest first by the network's time (``occurred_at``);
#: versions of the same moment in the order Kanal learnt of them.
NEWEST_FIRST = ("-occurred_at", "-version")


def record(
    *,
    organisation,
    kind: str,
    source: str,
    source_key: str,
    content: dict,
    occurred_at: datetime,
    channel=None,
    administration=None,
    person: str = "",
    case_ref: str = "",
    text: str = "",
    permalink: str = "",
    media=(),
    change: str | None = None,
    same_as_before: bool = False,
) -> RecordEntry:
    """Record something said or received (or a change to it) immutably.

    ``media`` are dicts with a ``path`` in the media storage; their bytes are
    hashed and copied into the record. Returns the newest version: the same
    one when the content is unchanged, else a new version. Versions are
    numbered as Kanal learns of them, but ordered and labelled by
    ``occurred_at``, the network's time: "newest" is the latest by it, and
    ``change`` (unless given) is "created" for the first version and for
    one older than every recorded version (an original that arrived after
    its edit), else "edited". The same content at the same time again is
    the version recorded. With ``same_as_before``, content equal to any
    earlier version is not new either: a source that sends again what it
    sent before, while a later version came from elsewhere (an edit seen on
    the network), does not turn the record back. ``permalink`` is kept
    only as ``kanal.untrusted.safe_url`` keeps it (a network's address).
    """
    if kind not in RecordKind.values:
        raise ValueError(f"unknown record kind {kind!r}")
    body = dict(content)
    # Media already kept (a later version of an entry carries its
    # predecessor's) stay as they are; new ones are hashed and copied.
    body["media"] = ([keep_media(dict(m)) for m in media] if media
                     else list(body.get("media") or []))
    body = normalised(body)
    digest = content_hash(body)
    # Numbered under a lock on the newest version; the first version has
    # none to lock, so two writers of it can both reach the insert: the
    # one refused by the unique version reads again what the other wrote
    # (the same content: theirs; new content: the next version), so no
    # version is lost.
    for _attempt in range(3):
        with transaction.atomic():
            versions = RecordEntry.objects.filter(
                organisation=organisation, source_key=source_key)
            numbered = versions.select_for_update().order_by("-version").first()
            earliest = None  # nothing recorded yet: the first version, at once
            if numbered is not None:
                latest = versions.order_by(*NEWEST_FIRST).first()
                if latest.content_hash == digest:
                    return latest
                if same_as_before and versions.filter(content_hash=digest).exists():
                    return latest
                if versions.filter(content_hash=digest,
                                   occurred_at=occurred_at).exists():
                    return latest
                earliest = versions.order_by("occurred_at").values_list(
                    "occurred_at", flat=True).first()
            entry = RecordEntry(
                organisation=organisation,
                kind=kind,
                source=source,
                source_key=source_key,
                version=1 if numbered is None else numbered.version + 1,
                change=change
                or (RecordChange.CREATED if earliest is None or occurred_at < earliest
                    else RecordChange.EDITED),
                channel=channel,
                administration=administration
                or (channel.owner_administration if channel is not None else None),
                network=channel.network if channel is not None else "",
                person=person[:200],
                case_ref=case_ref[:100],
                text=text or str(body.get("text") or ""),
                search_text=(text or str(body.get("text") or "")).casefold(),
                permalink=safe_url(permalink),
                content=body,
                content_hash=digest,
                occurred_at=occurred_at,
                recorded_at=timezone.now(),
            )
            try:
                with transaction.atomic():
                    entry.save()
            except IntegrityError:
                continue  # another process recorded this version first
            return entry
    # Refused three times over (a writer every time): theirs stands.
    return _latest(organisation, source_key)


def record_deleted(
    *, organisation, source_key: str, occurred_at: datetime, details=None
) -> RecordEntry | None:
    """The item was deleted on the network: a new version saying so, with the
    last content kept (the earlier versions stay as they were). ``details``
    are added to its content (when and how it was seen)."""
    latest = _latest(organisation, source_key)
    if latest is None or latest.change == RecordChange.DELETED:
        return latest
    return _next_version(
        latest,
        {**(details or {}), "deleted_on_network_at": occurred_at.isoformat()},
        occurred_at=occurred_at, change=RecordChange.DELETED,
    )


def record_edited(
    *, organisation, source_key: str, text: str, occurred_at: datetime,
    permalink: str = "", details=None,
) -> RecordEntry | None:
    """The item was edited on the network (by someone in the network's own
    app): a new version with the text as the network now holds it and the
    rest of the last content kept. None when nothing was recorded before."""
    latest = _latest(organisation, source_key)
    if latest is None:
        return None
    return _next_version(
        latest, {**(details or {}), "text": text},
        occurred_at=occurred_at, change=RecordChange.EDITED,
        text=text, permalink=permalink,
    )


def _latest(organisation, source_key: str) -> RecordEntry | None:
    return (
        RecordEntry.objects.filter(organisation=organisation, source_key=source_key)
        .order_by(*NEWEST_FIRST)
        .first()
    )


def _next_version(
    latest: RecordEntry, changes: dict, *, occurred_at: datetime, change: str,
    text: str | None = None, permalink: str = "",
) -> RecordEntry:
    """A version after ``latest`` with its content updated by ``changes``
    (its media as kept, its person, channel and case)."""
    return record(
        organisation=latest.organisation,
        kind=latest.kind,
        source=latest.source,
        source_key=latest.source_key,
        content={**latest.content, **changes},
        occurred_at=occurred_at,
        channel=latest.channel,
        administration=latest.administration,
        person=latest.person,
        case_ref=latest.case_ref,
        text=latest.text if text is None else text,
        permalink=permalink or latest.permalink,
        change=change,
    )


# ---------------------------------------------------------------------------
# Access requests

MAX_FOUND = 20_000
#: What one request may search for: more words or persons, or longer ones,
#: are refused (never cut), so a request searches exactly what was asked.
MAX_SEARCH_WORDS = 20
MAX_PERSONS = 200
MAX_TERM_LENGTH = 200


def too_many_words(count: int) -> str:
    return _(
        "Skriv højst %(max)s søgeord; der er %(count)s. Del anmodningen op i "
        "flere, og prøv igen."
    ) % {"max": MAX_SEARCH_WORDS, "count": count}


def too_many_persons(count: int) -> str:
    return _(
        "Skriv højst %(max)s personer; der er %(count)s. Del anmodningen op i "
        "flere, og prøv igen."
    ) % {"max": MAX_PERSONS, "count": count}


def _check_terms(search_words: list, persons: list) -> None:
    if len(search_words) > MAX_SEARCH_WORDS:
        raise InvalidInput(too_many_words(len(search_words)))
    if len(persons) > MAX_PERSONS:
        raise InvalidInput(too_many_persons(len(persons)))
    if any(len(term) > MAX_TERM_LENGTH for term in search_words + persons):
        raise InvalidInput(
            _("Et søgeord eller en person må højst være %(max)s tegn.")
            % {"max": MAX_TERM_LENGTH}
        )


def build_access_request(
    *,
    actor,
    title: str,
    requester: str,
    case_ref: str,
    period_start,
    period_end,
    channels=(),
    administrations=(),
    search_words=(),
    persons=(),
) -> AccessRequest:
    """Create a request and find what it covers (``selectors.search``).

    Words are matched literally (no patterns) and case-insensitively; an entry
    matches when its text holds any of them. Refuses (``InvalidInput``) more
    than ``MAX_SEARCH_WORDS`` words or ``MAX_PERSONS`` persons, one longer
    than ``MAX_TERM_LENGTH``, and a search that finds more than
    ``MAX_FOUND`` versions.
    """
    from .selectors import search

    access_request_policy.check(actor, "create")
    search_words, persons = list(search_words), list(persons)
    _check_terms(search_words, persons)
    with transaction.atomic():
        found = search(
            organisation=actor.organisation,
            period_start=period_start,
            period_end=period_end,
            channels=channels,
            administrations=administrations,
            words=search_words,
            persons=persons,
        )
        ids = list(found.values_list("pk", flat=True)[: MAX_FOUND + 1])
        if len(ids) > MAX_FOUND:
            raise InvalidInput(
                _(
                    "Søgningen finder mere end %(max)s journalposter. Gør "
                    "perioden kortere, eller tilføj søgeord, kanaler eller "
                    "forvaltninger, og prøv igen."
                )
                % {"max": f"{MAX_FOUND:,}".replace(",", ".")}
            )
        request = AccessRequest.objects.create(
            organisation=actor.organisation,
            title=title,
            requester=requester,
            case_ref=case_ref,
            period_start=period_start,
            period_end=period_end,
            search_words=list(search_words),
            persons=list(persons),
            found=len(ids),
            created_by=actor.user,
        )
        request.channels.set(channels)
        request.administrations.set(administrations)
        AccessRequestItem.objects.bulk_create(
            [AccessRequestItem(request=request, entry_id=pk) for pk in ids],
            batch_size=2000,
        )
        audit.record(
            "records.access_request.created",
            actor=actor,
            target=request,
            changes={
                "period": [str(period_start), str(period_end)],
                "channels": [c.pk for c in channels],
                "administrations": [a.pk for a in administrations],
                "search_words": list(search_words),
                "persons": len(list(persons)),
                "found": len(ids),
            },
        )
    return request


def withhold_item(
    item: AccessRequestItem, *, actor, ground: str, note: str = ""
) -> AccessRequestItem:
    """Withhold one item from the requester, citing its legal ground."""
    access_request_policy.check(actor, "withhold", item.request)
    if ground not in WithholdingGround.values:
        raise InvalidInput(_("Vælg den hjemmel, posten undtages efter."))
    with transaction.atomic():
        item.withheld = True
        item.ground = ground
        item.note = note[:500]
        item.save(update_fields=["withheld", "ground", "note"])
        audit.record(
            "records.access_item.withheld",
            actor=actor,
            target=item.request,
            changes={"entry": item.entry_id, "ground": ground},
        )
    return item


def release_item(item: AccessRequestItem, *, actor) -> AccessRequestItem:
    """Give an item back to the requester (undo a withholding)."""
    access_request_policy.check(actor, "withhold", item.request)
    with transaction.atomic():
        item.withheld = False
        item.ground = ""
        item.note = ""
        item.save(update_fields=["withheld", "ground", "note"])
        audit.record(
            "records.access_item.released",
            actor=actor,
            target=item.request,
            changes={"entry": item.entry_id},
        )
    return item


def redact_item(
    item: AccessRequestItem, *, actor, passage: str, ground: str
) -> AccessRequestItem:
    """Black out ``passage`` (every occurrence, literally) for the requester,
    citing its legal ground: in the item's text and in every other field
    they get (the author's name and id, links), so a name that is only the
    author's can be redacted too."""
    from .selectors import requester_texts

    access_request_policy.check(actor, "redact", item.request)
    passage = passage.strip()
    if ground not in WithholdingGround.values:
        raise InvalidInput(_("Vælg den hjemmel, teksten overstreges efter."))
    if not passage:
        raise InvalidInput(_("Skriv den del af teksten, der skal overstreges."))
    if not any(passage in text for text in requester_texts(item.entry)):
        raise InvalidInput(
            _(
                "Teksten findes ikke i posten. Kopiér den del, der skal "
                "overstreges, præcis som den står."
            )
        )
    with transaction.atomic():
        # Read the redactions again under a row lock: another officer's
        # redaction saved since ``item`` was loaded must not be overwritten
        # (it would go to the requester in clear).
        current = AccessRequestItem.objects.select_for_update().get(pk=item.pk)
        redactions = [r for r in current.redactions if r.get("text") != passage]
        redactions.append({"text": passage, "ground": ground})
        current.redactions = redactions
        current.save(update_fields=["redactions"])
        item.redactions = redactions
        audit.record(
            "records.access_item.redacted",
            actor=actor,
            target=item.request,
            changes={"entry": item.entry_id, "ground": ground,
                     "length": len(passage)},
        )
    return item


# ---------------------------------------------------------------------------
# Holds and retention rules


def place_hold(
    *,
    actor,
    reason: str,
    case_ref: str = "",
    person: str = "",
    period_start=None,
    period_end=None,
) -> LegalHold:
    """Stop deletion of what a case, a person and/or a period covers."""
    legal_hold_policy.check(actor, "create")
    if not (case_ref or person or period_start or period_end):
        raise InvalidInput(
            _("Angiv en sag, en person eller en periode, som holdet gælder.")
        )
    with transaction.atomic():
        hold = LegalHold.objects.create(
            organisation=actor.organisation,
            reason=reason,
            case_ref=case_ref,
            person=person,
            period_start=period_start,
            period_end=period_end,
            created_by=actor.user,
        )
        audit.record(
            "records.legal_hold.placed",
            actor=actor,
            target=hold,
            changes={"case_ref": case_ref, "person": bool(person),
                     "period": [period_start, period_end]},
        )
    return hold


def release_hold(hold: LegalHold, *, actor) -> LegalHold:
    legal_hold_policy.check(actor, "release", hold)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at is None:
            hold.released_at = timezone.now()
            hold.released_by = actor.user
            hold.save(update_fields=["released_at", "released_by"])
            audit.record("records.legal_hold.released", actor=actor, target=hold)
    return hold


def set_retention(*, actor, kind: str, keep_days: int) -> RetentionRule:
    """How long ``kind`` is kept in the actor's organisation."""
    record_policy.check(actor, "manage_retention")
    if kind not in RecordKind.values:
        raise InvalidInput(_("Ukendt type journalpost."))
    with transaction.atomic():
        rule, _created = RetentionRule.objects.update_or_create(
            organisation=actor.organisation, kind=kind,
            defaults={"keep_days": keep_days},
        )
        audit.record(
            "records.retention_rule.set",
            actor=actor,
            target=rule,
            changes={"kind": kind, "keep_days": keep_days},
        )
    return rule


def person_hash(person: str) -> str:
    return hashlib.sha256(person.strip().casefold().encode("utf-8")).hexdigest()


def start_export(request: AccessRequest, *, actor):
    """Queue a package of ``request`` for the actor. Each call is its own
    export with its own files, so two officers exporting at once both get
    theirs."""
    from .models import AccessExport
    from .tasks import build_export

    access_request_policy.check(actor, "export", request)
    with transaction.atomic():
        export = AccessExport.objects.create(
            request=request, created_by=actor.user, total=request.found
        )
        audit.record(
            "records.access_export.started",
            actor=actor,
            target=request,
            changes={"export": export.pk, "items": request.found},
        )
        transaction.on_commit(lambda: build_export.enqueue(export.pk))
    return export


def close_access_request(request: AccessRequest, *, actor) -> AccessRequest:
    """The request is answered: its entries are no longer kept for it (the
    retention job may delete them when their period has run out)."""
    from .models import AccessRequestStatus

    access_request_policy.check(actor, "close", request)
    with transaction.atomic():
        if request.status != AccessRequestStatus.CLOSED:
            request.status = AccessRequestStatus.CLOSED
            request.save(update_fields=["status"])
            audit.record("records.access_request.closed", actor=actor,
                         target=request)
    return request


def note_download(export, *, actor, what: str) -> None:
    """Audit that ``actor`` took a copy of an export's PDF or archive."""
    from .policies import access_export_policy

    access_export_policy.check(actor, "download", export)
    with transaction.atomic():
        audit.record(
            "records.access_export.downloaded",
            actor=actor,
            target=export.request,
            changes={"export": export.pk, "file": what,
                     "sha256": export.pdf_sha256 if what == "pdf"
                     else export.zip_sha256},
        )
