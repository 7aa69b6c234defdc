"""Every write to sources: the sources themselves, fetching and importing,
and the desk's decisions on suggestions.

``actor`` is a Membership, or None for the system (the periodic job).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.notifications.audience import members_for_user, members_with
from kanal.planning.models import UPCOMING_STATES

from . import compose, fetch, parsers, partners, reasons
from .models import (
    Source,
    SourceItem,
    SourceKind,
    SourceStatus,
    Suggestion,
    SuggestionStatus,
)
from .policies import source_policy

logger = logging.getLogger("kanal.sources")

SOURCE_FIELDS = (
    "name",
    "kind",
    "url",
    "json_mapping",
    "category",
    "purposes",
    "allow_private",
    "fetch_every_minutes",
    "owner_administration_id",
    "partner_channel_id",
    "partner_account",
    "keywords",
)
ITEM_FIELDS = (
    "title",
    "summary",
    "link",
    "image_url",
    "location",
    "starts_at",
    "ends_at",
    "all_day",
    "published_at",
    "cancelled",
    "remote_id",
    "author_name",
)
#: How far ahead events are read from a calendar.
HORIZON_DAYS = 60
#: News older than this when first seen gets no suggestion.
NEWS_MAX_AGE = timedelta(days=7)
#: New suggestions one fetch of one source makes at most (the nearest items
#: first), so one feed never floods *Forslag fra kilder*.
SUGGESTIONS_PER_FETCH = 100


class SourceError(Exception):
    """A refused change; ``str()`` is a Danish sentence for the desk."""


def _check_owner(actor, administration) -> None:
    if actor is not None and administration.organisation_id != actor.organisation_id:
        raise SourceError(_("Forvaltningen findes ikke i organisationen."))


def _check_channels(organisation_id: int, channels) -> None:
    for channel in channels:
        if channel.organisation_id != organisation_id:
            raise SourceError(
                _("Kanalen findes ikke. Vælg en af organisationens kanaler.")
            )


def _check_partner(organisation_id, kind, url, channel, account) -> None:
    if kind != SourceKind.PARTNER:
        if not url:
            raise SourceError(_("Skriv feedets adresse."))
        return
    if channel is None or not account:
        raise SourceError(
            _("Vælg kanalen, partnerens opslag læses gennem, og skriv kontoens navn.")
        )
    _check_channels(organisation_id, [channel])
    if not partners.reads_partners(channel):
        raise SourceError(
            _(
                "%(network)s kan ikke læse andre kontoers opslag. Vælg en kanal på "
                "et netværk, der kan."
            )
            % {"network": channel.get_network_display()}
        )


@transaction.atomic
def create_source(
    *,
    actor,
    name: str,
    kind: str,
    url: str,
    owner_administration,
    channels=(),
    category: str = "",
    purposes=(),
    json_mapping: dict | None = None,
    allow_private: bool = False,
    fetch_every_minutes: int = 60,
    partner_channel=None,
    partner_account: str = "",
    keywords=(),
) -> Source:
    """A new source; fetched by the next run of the periodic job. A partner
    source (``kind="partner"``) follows ``partner_account`` through
    ``partner_channel``'s connection instead of an address."""
    source_policy.check(actor, "create")
    if allow_private:
        source_policy.check(actor, "allow_private")
    _check_owner(actor, owner_administration)
    organisation_id = owner_administration.organisation_id
    _check_channels(organisation_id, channels)
    _check_partner(organisation_id, kind, url, partner_channel, partner_account)
    source = Source.objects.create(
        organisation_id=organisation_id,
        owner_administration=owner_administration,
        name=name,
        kind=kind,
        url=url,
        json_mapping=dict(json_mapping or {}),
        category=category,
        purposes=list(purposes),
        allow_private=allow_private,
        fetch_every_minutes=fetch_every_minutes,
        partner_channel=partner_channel,
        partner_account=partner_account,
        keywords=list(keywords),
    )
    source.default_channels.set(channels)
    audit.record(
        "sources.source.created",
        actor=actor,
        organisation=source.organisation,
        target=source,
        changes={
            **audit.snapshot(source, SOURCE_FIELDS),
            "channels": [c.pk for c in channels],
        },
    )
    return source


@transaction.atomic
def update_source(source: Source, *, actor, channels=None, **fields) -> Source:
    """Change a source. Changing its address or type starts it afresh (the
    stored ETag and content no longer apply); only an administrator may
    change whether it may fetch from internal addresses."""
    source_policy.check(actor, "edit", source)
    unknown = set(fields) - set(SOURCE_FIELDS) - {
        "owner_administration",
        "status",
        "partner_channel",
    }
    if unknown:
        raise ValueError(f"update_source: unknown fields {sorted(unknown)}")
    if "allow_private" in fields and fields["allow_private"] != source.allow_private:
        source_policy.check(actor, "allow_private", source)
    # The right to fetch from internal addresses was given to one address:
    # whoever points the source elsewhere must be allowed to give it too.
    readdressed = any(name in fields and fields[name] != getattr(source, name)
                      for name in ("url", "kind"))
    if (readdressed and fields.get("allow_private", source.allow_private)
            and not source_policy.can(actor, "allow_private", source)):
        raise SourceError(_(
            "Kilden må hente fra interne adresser. Kun en administrator kan "
            "ændre dens adresse eller type."))
    if "owner_administration" in fields:
        _check_owner(actor, fields["owner_administration"])
    if "status" in fields and fields["status"] not in (
        SourceStatus.PAUSED,
        SourceStatus.NEW,
    ):
        raise SourceError(_("En kilde kan kun sættes på pause eller genstartes."))
    if {"kind", "url", "partner_channel", "partner_account"} & set(fields):
        _check_partner(
            source.organisation_id,
            fields.get("kind", source.kind),
            fields.get("url", source.url),
            fields.get("partner_channel", source.partner_channel),
            fields.get("partner_account", source.partner_account),
        )
    before = audit.snapshot(source, (*SOURCE_FIELDS, "status"))
    changed = []
    for name, value in fields.items():
        if getattr(source, name) != value:
            setattr(source, name, value)
            changed.append(name)
    if {"url", "kind", "json_mapping", "partner_channel", "partner_account"} & set(
        changed
    ):
        source.etag = source.last_modified = source.content_digest = ""
        source.cursor = ""
        changed += ["etag", "last_modified", "content_digest", "cursor"]
    if changed:
        for relation in ("owner_administration", "partner_channel"):
            if relation in changed:
                changed.append(f"{relation}_id")
        source.save(
            update_fields=[
                c
                for c in changed
                if c not in ("owner_administration", "partner_channel")
            ]
        )
    if channels is not None:
        _check_channels(source.organisation_id, channels)
        source.default_channels.set(channels)
    after = audit.snapshot(source, (*SOURCE_FIELDS, "status"))
    audit.record(
        "sources.source.updated",
        actor=actor,
        organisation=source.organisation,
        target=source,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]}
        | ({"channels": [c.pk for c in channels]} if channels is not None else {}),
    )
    return source


# ---------------------------------------------------------------------------
# Fetching and importing


def refresh_source(source: Source, *, actor, now: datetime | None = None) -> str:
    """Fetch ``source`` and import what changed; returns what happened, in
    Danish. A failure is recorded on the source (status and plain-Danish
    error) and logged; it is never raised, so the caller's loop goes on."""
    if actor is not None:
        source_policy.check(actor, "fetch", source)
    now = now or timezone.now()
    if source.is_partner:
        return _refresh_partner(source, now=now)
    try:
        result = fetch.fetch(
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            allow_private=source.allow_private,
        )
    except fetch.FetchError as e:
        return _record_failure(source, e.args[0], now=now)
    except Exception:
        logger.exception("source fetch crashed source=%s", source.pk)
        return _record_failure(
            source,
            reasons._(
                "Kanal kunne ikke hente feedet på grund af en fejl i Kanal. Prøv igen."
            ),
            now=now,
        )
    if result.not_modified:
        return _record_success(source, now=now, message=_("Uændret siden sidst."),
                               unchanged=True)
    digest = hashlib.sha256(result.body).hexdigest()
    if digest == source.content_digest:
        return _record_success(
            source,
            now=now,
            message=_("Uændret siden sidst."),
            unchanged=True,
            etag=result.etag,
            last_modified=result.last_modified,
        )
    try:
        items = parse(source, result.body, result.content_type, now=now)
        summary = import_items(source, items, now=now)
    except parsers.ParseError as e:
        return _record_failure(source, e.args[0], now=now)
    except Exception:
        logger.exception("source import crashed source=%s", source.pk)
        return record_crash(source, now=now)
    note = None
    if getattr(items, "skipped_series", 0):
        # Said on the source (as its latest problem) while the rest is read.
        note = reasons._(
            "%(count)s gentagne begivenheder blev sprunget over, fordi de gentages "
            "oftere end %(times)s gange om dagen."
        ) % {"count": items.skipped_series, "times": parsers.TIMES_PER_DAY}
        summary += " " + str(note)
    return _record_success(
        source,
        now=now,
        message=summary,
        etag=result.etag,
        last_modified=result.last_modified,
        digest=digest,
        note=note,
    )


def _refresh_partner(source: Source, *, now: datetime) -> str:
    """Read the partner's new posts; the cursor moves on only once they are
    imported, so a failed import reads them again."""
    try:
        items, cursor = partners.read_posts(source)
        summary = import_items(source, items, now=now)
    except partners.PartnerError as e:
        return _record_failure(source, e.args[0], now=now)
    except Exception:
        logger.exception("partner source crashed source=%s", source.pk)
        return _record_failure(
            source,
            reasons._(
                "Kanal kunne ikke læse partnerens opslag på grund af en fejl i "
                "Kanal. Prøv igen."
            ),
            now=now,
        )
    if cursor and cursor != source.cursor:
        source.cursor = cursor
        source.save(update_fields=["cursor"])
    return _record_success(source, now=now, message=summary)


def record_crash(source: Source, *, now) -> str:
    """A failure nobody foresaw, on ``source`` (its status and its Danish
    reason)."""
    return _record_failure(
        source,
        reasons._("Feedet kunne ikke læses på grund af en fejl i Kanal. Prøv igen."),
        now=now,
    )


def parse(source: Source, body: bytes, content_type: str, *, now: datetime):
    """The items of ``body`` as ``source``'s kind reads them."""
    start, end = parsers.window(now, days=HORIZON_DAYS)
    if source.kind == SourceKind.ICAL:
        return parsers.parse_ical(body, content_type=content_type, start=start, end=end)
    if source.kind == SourceKind.JSON:
        return parsers.parse_json(
            body, mapping=source.json_mapping, start=start, end=end
        )
    return parsers.parse_feed(body, content_type=content_type)


@transaction.atomic
def _record_failure(source: Source, reason: reasons.Reason, *, now) -> str:
    with translation.override("da"):
        logged = str(reason)
    logger.warning("source failed source=%s error=%s", source.pk, logged)
    was = source.status
    source.status = SourceStatus.FAILING
    source.last_error = reason.msgid
    source.last_error_params = reason.params
    source.last_fetched_at = now
    source.save(
        update_fields=["status", "last_error", "last_error_params", "last_fetched_at"]
    )
    if was != SourceStatus.FAILING:
        audit.record(
            "sources.source.failing",
            organisation=source.organisation,
            target=source,
            changes={"error": logged},
        )
    return str(reason)


@transaction.atomic
def _record_success(
    source: Source,
    *,
    now,
    message: str,
    etag: str | None = None,
    last_modified: str | None = None,
    digest: str | None = None,
    note: reasons.Reason | None = None,
    unchanged: bool = False,
) -> str:
    """Record a fetch that worked. ``note``: a problem of the feed that did
    not stop it (kept as its latest problem); an ``unchanged`` feed keeps the
    note it had."""
    fields = [
        "status",
        "last_error",
        "last_error_params",
        "last_fetched_at",
        "last_success_at",
    ]
    if source.status == SourceStatus.FAILING:
        audit.record(
            "sources.source.recovered", organisation=source.organisation, target=source
        )
    if not (unchanged and source.status == SourceStatus.OK):
        source.last_error = note.msgid if note else ""
        source.last_error_params = note.params if note else {}
    source.status = SourceStatus.OK
    source.last_fetched_at = source.last_success_at = now
    for name, value in (
        ("etag", etag),
        ("last_modified", last_modified),
        ("content_digest", digest),
    ):
        if value is not None:
            setattr(source, name, value)
            fields.append(name)
    source.save(update_fields=fields)
    logger.info("source ok source=%s %s", source.pk, message)
    return message


@transaction.atomic
def import_items(source: Source, parsed, *, now: datetime) -> str:
    """Bring the stored items of ``source`` in line with ``parsed``: new items
    get suggestions, changed ones update theirs (and warn about posts already
    made from them), cancelled ones, and future events gone from the feed,
    withdraw theirs. A dismissed suggestion is never made again."""
    existing = {i.guid: i for i in SourceItem.objects.filter(source=source)}
    channels = list(source.default_channels.select_related("strategy"))
    _start, end = parsers.window(now, days=HORIZON_DAYS)
    # Every source's open suggestions on these channels take room, as do
    # the posts already planned.
    open_suggestions = Suggestion.objects.filter(
        channel__in=channels,
        status=SuggestionStatus.OPEN,
        planned_at__gte=now,
        planned_at__lt=end + timedelta(days=7),
    )
    planner = compose.Planner(
        channels,
        now,
        end,
        existing=open_suggestions.values_list("channel_id", "planned_at"),
    )
    limits = {c.pk: compose.Limits(c) for c in channels}
    new_items, changed_items = [], []
    for item in parsed:
        fingerprint = item.fingerprint()
        stored = existing.pop(item.guid, None)
        values = {name: getattr(item, name) for name in ITEM_FIELDS}
        if stored is None:
            new_items.append(
                SourceItem(
                    source=source, guid=item.guid, fingerprint=fingerprint, **values
                )
            )
        elif stored.fingerprint != fingerprint:
            for name, value in values.items():
                setattr(stored, name, value)
            stored.fingerprint = fingerprint
            changed_items.append(stored)
    gone = [
        i
        for i in existing.values()
        if source.is_events
        and not i.cancelled
        and i.starts_at is not None
        and now < i.starts_at < end
    ]
    for item in gone:
        item.cancelled = True
        changed_items.append(item)
    SourceItem.objects.bulk_create(new_items, batch_size=500)
    if changed_items:
        SourceItem.objects.bulk_update(
            changed_items, ["fingerprint", *ITEM_FIELDS], batch_size=500
        )
    if new_items and any(i.pk is None for i in new_items):
        saved = dict(
            SourceItem.objects.filter(
                source=source, guid__in=[i.guid for i in new_items]
            ).values_list("guid", "pk")
        )
        for item in new_items:
            item.pk = saved[item.guid]
    made, unsuggested = _suggest(new_items, channels, planner, limits, now=now)
    for item in changed_items:
        _item_changed(source, item, planner, limits, now=now)
    summary = _(
        "%(items)s emner læst: %(new)s nye, %(changed)s ændrede, %(made)s nye forslag."
    ) % {
        "items": len(parsed),
        "new": len(new_items),
        "changed": len(changed_items),
        "made": made,
    }
    if unsuggested:
        summary += " " + _(
            "%(left)s nye emner fik ikke forslag: Kanal laver højst %(most)s nye "
            "forslag pr. hentning."
        ) % {"left": unsuggested, "most": SUGGESTIONS_PER_FETCH}
    return summary


def _suggest(items, channels, planner, limits, *, now) -> tuple[int, int]:
    """Suggestions for new ``items`` (at most ``SUGGESTIONS_PER_FETCH``);
    returns how many were made and how many items got none for that cap."""
    rows = []
    unsuggested = 0
    for item in items:
        if item.cancelled:
            continue
        if item.published_at is not None and item.published_at < now - NEWS_MAX_AGE:
            # An old press release is history, not a post to make now.
            continue
        if len(rows) >= SUGGESTIONS_PER_FETCH:
            unsuggested += 1
            continue
        for channel in channels:
            draft = compose.draft_for(
                item, channel, planner, now=now, limits=limits[channel.pk]
            )
            if draft is None:
                continue
            rows.append(
                Suggestion(
                    item=item,
                    channel=channel,
                    kind=draft.kind,
                    text=draft.text,
                    link=draft.link,
                    hashtags=list(draft.hashtags),
                    planned_at=draft.planned_at,
                )
            )
    Suggestion.objects.bulk_create(rows, batch_size=500)
    return len(rows), unsuggested


def _item_changed(source, item, planner, limits, *, now) -> None:
    suggestions = list(item.suggestions.select_related("channel", "post"))
    by_channel = {s.channel_id: s for s in suggestions}
    for suggestion in suggestions:
        if suggestion.status == SuggestionStatus.OPEN:
            if item.cancelled:
                suggestion.status = SuggestionStatus.WITHDRAWN
                suggestion.save(update_fields=["status", "updated_at"])
            elif suggestion.edited:
                suggestion.item_changed = True
                suggestion.save(update_fields=["item_changed", "updated_at"])
            else:
                planner.forget(suggestion.channel_id, suggestion.planned_at)
                draft = compose.draft_for(
                    item,
                    suggestion.channel,
                    planner,
                    now=now,
                    limits=limits.get(suggestion.channel_id)
                    or compose.Limits(suggestion.channel),
                )
                if draft is None:
                    suggestion.status = SuggestionStatus.WITHDRAWN
                    suggestion.save(update_fields=["status", "updated_at"])
                    continue
                suggestion.kind = draft.kind
                suggestion.text = draft.text
                suggestion.link = draft.link
                suggestion.hashtags = list(draft.hashtags)
                suggestion.planned_at = draft.planned_at
                suggestion.item_changed = False
                suggestion.save(
                    update_fields=[
                        "kind",
                        "text",
                        "link",
                        "hashtags",
                        "planned_at",
                        "item_changed",
                        "updated_at",
                    ]
                )
        elif suggestion.status == SuggestionStatus.ACCEPTED:
            post = suggestion.post
            if post is not None and post.status in UPCOMING_STATES:
                _warn_post(source, item, post)
    if not item.cancelled:
        # A channel added to the source since: suggest for it too.
        missing = [c for c in source.default_channels.all() if c.pk not in by_channel]
        _suggest(
            [item],
            missing,
            planner,
            {c.pk: compose.Limits(c) for c in missing},
            now=now,
        )


def _warn_post(source, item, post) -> None:
    kind = "source.item_cancelled" if item.cancelled else "source.item_changed"
    recipients = members_with(
        source.organisation_id,
        "posts.plan",
        administration_id=source.owner_administration_id,
    ) + members_for_user(source.organisation_id, post.created_by_id)
    notify(
        recipients,
        kind=kind,
        params={"title": item.title, "source": source.name},
        about=post,
        url=reverse("planning:post_detail", args=[post.pk]),
    )
    audit.record(
        f"sources.{kind.split('.', 1)[1].replace('_', '.')}",
        organisation=source.organisation,
        target=post,
        changes={"item": item.guid, "source": source.pk},
    )
