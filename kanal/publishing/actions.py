"""Writes to publications and crisis mode. Each: policy check, state change,
audit entry, follow-up work after commit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.models import Channel, ChannelStatus
from kanal.core import audit
from kanal.notifications.actions import notify
from kanal.notifications.audience import crisis_leads

from . import conf, signals
from . import crisis as crisis_tools
from .models import (
    CLAIMABLE,
    NOT_STARTED,
    Crisis,
    CrisisUnpin,
    Publication,
    PublicationStatus,
)
from .policies import crisis_policy, publication_policy
from .scope import CrisisScope

logger = logging.getLogger("kanal.publishing")

WAKE_CHANNEL = "kanal_publications"


# ---------------------------------------------------------------------------
# Helpers shared with the engine


def wake_workers() -> None:
    """Tell listening workers something became due (PostgreSQL NOTIFY)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {WAKE_CHANNEL}")


def wake_workers_on_commit() -> None:
    transaction.on_commit(wake_workers)


def publication_changed(post_ids) -> None:
    """Tell the apps above (planning rolls the post's status up) inside the
    caller's transaction (``signals.publication_changed``)."""
    for post_id in sorted({pid for pid in post_ids if pid}):
        signals.publication_changed.send(sender=Publication, post_id=post_id)


# ---------------------------------------------------------------------------
# The bridge: planning calls these


@transaction.atomic
def queue_publication(
    *,
    actor,
    organisation,
    channel,
    planned_at: datetime,
    post_id,
    variant_id,
    revision_id,
    text: str,
    link: str = "",
    media=(),
    first_comment: str = "",
) -> Publication:
    """Queue one approved variant revision for one channel.

    Called by planning's schedule action, inside its transaction, once per
    variant. Under crisis mode for the channel it starts out paused.
    """
    publication_policy.check(actor, "queue")
    if channel.organisation_id != organisation.pk:
        raise ValueError("The channel belongs to another organisation.")
    if timezone.is_naive(planned_at):
        raise ValueError("planned_at must be aware.")
    paused = CrisisScope.current(organisation.pk).covers_channel(channel.pk)
    publication = Publication.objects.create(
        organisation=organisation,
        channel=channel,
        planned_at=planned_at,
        due_at=planned_at,
        late_after=planned_at + conf.late_cutoff(),
        post_id=post_id,
        variant_id=variant_id,
        revision_id=revision_id,
        text=text,
        link=link or "",
        media=list(media),
        first_comment=first_comment or "",
        status=PublicationStatus.PAUSED if paused else PublicationStatus.QUEUED,
        last_error=(
            _("Krisetilstand er slået til for kanalen.") if paused else ""
        ),
    )
    audit.record(
        "publishing.publication.queued",
        actor=actor,
        organisation=organisation,
        target=publication,
        changes={
            "channel": channel.pk,
            "planned_at": planned_at,
            "post_id": post_id,
            "revision_id": revision_id,
            "status": publication.status,
        },
    )
    wake_workers_on_commit()
    return publication


def lock_publications(*, post_id: int) -> None:
    """Lock the post's publications, in id order, in the caller's transaction.

    The one lock order: a post's publications (by id), then the post, then
    the audit chain's head. The engine records a batch in this order (its
    publications, then each post through planning's roll-up, then the audit
    entries); an action on a post calls this before it locks the post, so
    the two wait for each other instead of deadlocking.
    """
    list(Publication.objects.select_for_update().filter(post_id=post_id)
         .order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def withdraw_publications(*, actor, post_id: int, reason: str) -> int:
    """Withdraw the approval of every publication of the post that is not
    out yet. Returns how many were cancelled.

    Every such row is marked withdrawn, which the send fence tests right
    before each write: a publication a worker has already claimed sends
    nothing after this commits. Rows not started are cancelled now; a row in
    flight, or one whose earlier send may have gone out (its outcome is
    being checked), is settled by the engine: published if the network has
    it, otherwise cancelled.
    """
    publication_policy.check(actor, "withdraw")
    qs = Publication.objects.select_for_update().filter(
        post_id=post_id,
        status__in=(*NOT_STARTED, PublicationStatus.PUBLISHING),
        withdrawn_at__isnull=True,
    ).order_by("pk")
    if actor is not None:
        qs = qs.filter(organisation_id=actor.organisation_id)
    pubs = list(qs)
    now = timezone.now()
    cancelled = 0
    for pub in pubs:
        pub.withdrawn_at = now
        pub.save(update_fields=["withdrawn_at", "updated_at"])
        if pub.status == PublicationStatus.PUBLISHING or pub.needs_reconcile:
            audit.record(
                "publishing.publication.withdrawal_pending",
                actor=actor,
                organisation=pub.organisation,
                target=pub,
                changes={"status": pub.status, "message": reason},
            )
            continue
        _set_status(
            pub,
            PublicationStatus.CANCELLED,
            actor=actor,
            event="publishing.publication.withdrawn",
            message=reason,
        )
        cancelled += 1
    wake_workers_on_commit()
    return cancelled


@transaction.atomic
def reschedule_publications(
    *, actor, post_id: int, planned_at: datetime, variant_id=None
) -> int:
    """Move not-yet-started publications of the post (calendar drag)."""
    publication_policy.check(actor, "reschedule")
    qs = Publication.objects.select_for_update().filter(
        post_id=post_id, status__in=CLAIMABLE
    ).order_by("pk")
    if variant_id is not None:
        qs = qs.filter(variant_id=variant_id)
    if actor is not None:
        qs = qs.filter(organisation_id=actor.organisation_id)
    pubs = list(qs)
    for pub in pubs:
        _move(pub, planned_at, actor=actor)
    wake_workers_on_commit()
    return len(pubs)


# ---------------------------------------------------------------------------
# The operations view: a person decides


def _set_status(
    pub: Publication,
    status: str,
    *,
    actor,
    event: str,
    message: str = "",
    extra: dict | None = None,
) -> None:
    previous = pub.status
    pub.status = status
    pub.last_error = message
    # A person's reason is free text: no reason code from an earlier state.
    pub.error_kind = ""
    pub.lease_token = ""
    pub.lease_owner = ""
    pub.lease_expires_at = None
    pub.save(
        update_fields=[
            "status",
            "last_error",
            "error_kind",
            "lease_token",
            "lease_owner",
            "lease_expires_at",
            "updated_at",
        ]
    )
    audit.record(
        event,
        actor=actor,
        organisation=pub.organisation_id and pub.organisation,
        target=pub,
        changes={"status": [previous, status], "message": message, **(extra or {})},
    )
    publication_changed([pub.post_id])


def _move(pub: Publication, planned_at: datetime, *, actor) -> None:
    previous = pub.planned_at
    pub.planned_at = planned_at
    pub.due_at = planned_at
    pub.late_after = planned_at + conf.late_cutoff()
    pub.status = PublicationStatus.QUEUED
    pub.attempts = 0
    pub.last_error = ""
    pub.error_kind = ""
    pub.save(
        update_fields=[
            "planned_at",
            "due_at",
            "late_after",
            "status",
            "attempts",
            "last_error",
            "error_kind",
            "updated_at",
        ]
    )
    audit.record(
        "publishing.publication.rescheduled",
        actor=actor,
        organisation=pub.organisation,
        target=pub,
        changes={"planned_at": [previous, planned_at]},
    )
    publication_changed([pub.post_id])


def _locked(pub: Publication) -> Publication:
    return Publication.objects.select_for_update().get(pk=pub.pk)


RETRYABLE_BY_PERSON = (
    PublicationStatus.FAILED,
    PublicationStatus.MISSED,
    PublicationStatus.RETRYING,
    PublicationStatus.WAITING,
    PublicationStatus.QUEUED,
)


@transaction.atomic
def retry_publication(pub: Publication, *, actor) -> Publication:
    """Send now (a failed, missed or waiting publication)."""
    publication_policy.check(actor, "retry", pub)
    pub = _locked(pub)
    if pub.status not in RETRYABLE_BY_PERSON:
        raise ValueError(_("Udgivelsen kan ikke sendes igen i sin nuværende tilstand."))
    if CrisisScope.current(pub.organisation_id).holds_back(pub):
        raise ValueError(
            _("Krisetilstand er slået til for kanalen. Slå den fra først.")
        )
    now = timezone.now()
    previous = pub.status
    if pub.error_kind in ("unverifiable", "sibling_exhausted"):
        # The network cannot tell; the person has looked and chose to send.
        pub.needs_reconcile = False
    pub.status = (
        PublicationStatus.UNKNOWN if pub.needs_reconcile else PublicationStatus.QUEUED
    )
    pub.due_at = now
    pub.late_after = now + conf.late_cutoff()
    pub.attempts = 0
    pub.last_error = ""
    pub.error_kind = ""
    pub.save(
        update_fields=[
            "status",
            "due_at",
            "late_after",
            "attempts",
            "last_error",
            "error_kind",
            "needs_reconcile",
            "updated_at",
        ]
    )
    audit.record(
        "publishing.publication.retried",
        actor=actor,
        organisation=pub.organisation,
        target=pub,
        changes={"status": [previous, pub.status]},
    )
    publication_changed([pub.post_id])
    wake_workers_on_commit()
    return pub


@transaction.atomic
def reschedule_publication(
    pub: Publication, *, actor, planned_at: datetime
) -> Publication:
    publication_policy.check(actor, "retry", pub)
    pub = _locked(pub)
    if pub.status not in RETRYABLE_BY_PERSON:
        raise ValueError(_("Udgivelsen kan ikke flyttes i sin nuværende tilstand."))
    if planned_at <= timezone.now() - timedelta(minutes=1):
        raise ValueError(_("Vælg et tidspunkt i fremtiden."))
    _move(pub, planned_at, actor=actor)
    wake_workers_on_commit()
    return pub


@transaction.atomic
def cancel_publication(pub: Publication, *, actor, reason: str = "") -> Publication:
    publication_policy.check(actor, "cancel", pub)
    pub = _locked(pub)
    if pub.status not in (*NOT_STARTED, *RETRYABLE_BY_PERSON):
        raise ValueError(_("Udgivelsen kan ikke annulleres i sin nuværende tilstand."))
    if pub.needs_reconcile and pub.status in CLAIMABLE:
        raise ValueError(
            _(
                "Kanal tjekker stadig hos netværket, om opslaget allerede er "
                "ude. Vent til det er afklaret, før du annullerer det."
            )
        )
    _set_status(
        pub,
        PublicationStatus.CANCELLED,
        actor=actor,
        event="publishing.publication.cancelled",
        message=reason or _("Annulleret af en person."),
    )
    return pub


@transaction.atomic
def mark_published_manually(pub: Publication, *, actor, url: str) -> Publication:
    """A person posted it by hand (or found it live): record the address."""
    publication_policy.check(actor, "mark_published", pub)
    pub = _locked(pub)
    if pub.status in (PublicationStatus.PUBLISHED, PublicationStatus.PUBLISHING):
        raise ValueError(_("Udgivelsen er allerede udgivet eller ved at blive det."))
    if not url.startswith(("http://", "https://")):
        raise ValueError(_("Angiv opslagets fulde adresse (https://…)."))
    previous = pub.status
    pub.status = PublicationStatus.PUBLISHED
    pub.url = url
    pub.published_at = timezone.now()
    pub.published_manually = True
    pub.needs_reconcile = False
    pub.last_error = ""
    pub.error_kind = ""
    pub.save(
        update_fields=[
            "status",
            "url",
            "published_at",
            "published_manually",
            "needs_reconcile",
            "last_error",
            "error_kind",
            "updated_at",
        ]
    )
    audit.record(
        "publishing.publication.marked_published",
        actor=actor,
        organisation=pub.organisation,
        target=pub,
        changes={"status": [previous, pub.status], "url": url},
    )
    publication_changed([pub.post_id])
    return pub


# ---------------------------------------------------------------------------
# Crisis mode


@transaction.atomic
def start_crisis(*, actor, organisation, reason: str, channels=None) -> Crisis:
    """Switch crisis mode on (whole organisation, or ``channels``).

    From the commit on, no scheduled publication starts: every not-yet-started
    one in scope is paused, and the worker re-checks at claim time. Calls
    already in flight finish.
    """
    crisis_policy.check(actor, "start")
    reason = (reason or "").strip()
    if not reason:
        raise ValueError(_("Skriv en årsag til krisetilstanden."))
    if Crisis.objects.select_for_update().filter(
        organisation=organisation, ended_at__isnull=True
    ).exists():
        raise ValueError(_("Krisetilstand er allerede slået til."))
    channels = list(channels or [])
    if any(c.organisation_id != organisation.pk for c in channels):
        raise ValueError("A channel belongs to another organisation.")
    crisis = Crisis.objects.create(
        organisation=organisation,
        reason=reason,
        whole_organisation=not channels,
        started_by=getattr(actor, "user", None),
    )
    if channels:
        crisis.channels.set(channels)
    # A publication whose earlier send may have gone out is not paused here:
    # the engine asks the network first (a live post must never show as
    # paused), then pauses it if it is not there.
    scope = CrisisScope.of_crisis(crisis, organisation.pk)
    claimable = Publication.objects.filter(status__in=CLAIMABLE)
    qs = scope.held_back(claimable.filter(needs_reconcile=False))
    post_ids = set(qs.values_list("post_id", flat=True))
    paused = qs.update(
        status=PublicationStatus.PAUSED,
        last_error=_("Krisetilstand er slået til."),
        error_kind="crisis",
        reason_params={},
        updated_at=timezone.now(),
    )
    # Those being checked are asked about now, to settle them quickly.
    scope.held_back(claimable.filter(needs_reconcile=True)).update(
        due_at=timezone.now()
    )
    wake_workers_on_commit()
    audit.record(
        "publishing.crisis.started",
        actor=actor,
        organisation=organisation,
        target=crisis,
        changes={
            "reason": reason,
            "channels": [c.pk for c in channels] or "all",
            "paused": paused,
        },
    )
    publication_changed(post_ids)
    _tell_crisis_leads(crisis, actor=actor, kind="crisis_started")
    return crisis


def _tell_crisis_leads(crisis: Crisis, *, actor, kind: str) -> None:
    """Everyone who runs crisis mode learns it started or ended (the person
    who did it knows)."""
    leads = crisis_leads(
        crisis.organisation_id, exclude_user=getattr(actor, "user_id", None)
    )
    notify(
        leads,
        kind=kind,
        params={
            "name": actor.display_name if actor is not None else "Kanal",
            "reason": crisis.reason,
        },
        about=crisis,
        url=reverse("publishing:crisis"),
    )


RESUME_CHOICES = ("publish_now", "reschedule", "cancel")


@dataclass(frozen=True)
class AllClear:
    """The all-clear to send when a crisis ends: one text (and link) for
    every chosen channel, with the lead's own version per network."""

    text: str
    channels: tuple
    link: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)


@transaction.atomic
def end_crisis(
    crisis: Crisis,
    *,
    actor,
    decisions: dict[int, tuple[str, datetime | None]],
    unpin: bool = False,
    all_clear: AllClear | None = None,
) -> dict[str, int]:
    """Switch crisis mode off. ``decisions`` maps every paused publication's id
    to ``(choice, planned_at)``: publish now, reschedule (at ``planned_at``) or
    cancel. Nothing fires on its own: a paused publication without a decision
    is refused.

    With ``unpin`` the crisis messages Kanal pinned are taken off the top of
    their profiles (after commit); with ``all_clear`` an all-clear goes out on
    its channels, refused like a crisis message while a version does not fit
    (then nothing at all changes). Returns how many posts (not publications)
    got each choice.
    """
    crisis_policy.check(actor, "end", crisis)
    if all_clear is not None:
        crisis_policy.check(actor, "publish")
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if crisis.ended_at is not None:
        raise ValueError(_("Krisetilstand er allerede slået fra."))
    composition = None
    if all_clear is not None:
        composition = _checked_composition(
            crisis.organisation,
            text=all_clear.text,
            link=all_clear.link,
            channels=all_clear.channels,
            versions=all_clear.versions,
        )
    paused = list(
        Publication.objects.select_for_update().filter(
            organisation_id=crisis.organisation_id, status=PublicationStatus.PAUSED
        )
    )
    missing = [p.pk for p in paused if p.pk not in decisions]
    if missing:
        raise ValueError(
            _("Vælg hvad der skal ske med alle opslag på pause (mangler %(n)d).")
            % {"n": len({crisis_tools.post_key(p) for p in paused
                         if p.pk in missing})}
        )
    now = timezone.now()
    posts: dict[str, set[str]] = {choice: set() for choice in RESUME_CHOICES}
    for pub in paused:
        choice, when = decisions[pub.pk]
        if choice not in RESUME_CHOICES:
            raise ValueError(f"Unknown resume choice {choice!r}")
        if choice == "cancel":
            _set_status(
                pub,
                PublicationStatus.CANCELLED,
                actor=actor,
                event="publishing.publication.cancelled",
                message=_("Annulleret efter krisetilstand."),
            )
        else:
            if choice == "reschedule" and (when is None or when < now):
                raise ValueError(_("Vælg et tidspunkt i fremtiden for hvert opslag."))
            _move(pub, now if choice == "publish_now" else when, actor=actor)
        posts[choice].add(crisis_tools.post_key(pub))
    tally = {choice: len(keys) for choice, keys in posts.items()}
    crisis.ended_at = now
    crisis.ended_by = getattr(actor, "user", None)
    crisis.save(update_fields=["ended_at", "ended_by"])
    audit.record(
        "publishing.crisis.ended",
        actor=actor,
        organisation=crisis.organisation,
        target=crisis,
        changes={
            "decisions": tally,
            "publications": len(paused),
            "unpin": unpin,
            "all_clear": all_clear is not None,
        },
    )
    _tell_crisis_leads(crisis, actor=actor, kind="crisis_ended")
    if unpin:
        unpin_crisis_messages(actor=actor, organisation=crisis.organisation)
    if composition is not None:
        _send_crisis_publications(
            actor=actor,
            organisation=crisis.organisation,
            composition=composition,
            pin=False,
            event="publishing.crisis.all_clear_sent",
        )
    wake_workers_on_commit()
    return tally


def suggest_spread(publications, *, now: datetime | None = None) -> dict:
    """Proposed new times for paused publications (publication id → time):
    a post's channels together, never before the planned time, within the
    desk's hours and each channel's cadence (see ``crisis.propose_times``)."""
    proposals = crisis_tools.propose_times(publications, now=now)
    return {p.pk: proposals[crisis_tools.post_key(p)] for p in publications}


def _checked_composition(organisation, *, text, link, channels, versions):
    """Every chosen channel's version, or ``CrisisMessageRefused`` when one
    does not fit or a placeholder is left. Nothing is ever cut short."""
    text = (text or "").strip()
    if not text:
        raise ValueError(_("Skriv krisebeskeden."))
    channels = list(channels)
    if not channels:
        raise ValueError(_("Vælg mindst én kanal."))
    if any(c.organisation_id != organisation.pk for c in channels):
        raise ValueError("A channel belongs to another organisation.")
    composition = crisis_tools.compose(
        channels, chosen=None, text=text, link=link, own=versions
    )
    if composition.blocking:
        raise crisis_tools.CrisisMessageRefused(composition)
    if not composition.sendable:
        raise ValueError(
            _("Ingen af de valgte kanaler kan tage en besked uden billede.")
        )
    return composition


def _send_crisis_publications(
    *, actor, organisation, composition, pin: bool, event: str
) -> list[Publication]:
    now = timezone.now()
    publications = []
    for version, count in composition.sendable:
        publications.append(
            Publication.objects.create(
                organisation=organisation,
                channel=count.channel,
                planned_at=now,
                due_at=now,
                late_after=now + conf.late_cutoff(),
                text=version.text,
                link=version.link,
                is_crisis=True,
                pin=pin and count.can_pin,
            )
        )
    skipped = [c.channel.pk for n in composition.networks for c in n.chosen
               if c.skipped]
    audit.record(
        event,
        actor=actor,
        organisation=organisation,
        target=publications[0],
        changes={
            "text": composition.text,
            "link": composition.link,
            "versions": composition.for_audit(),
            "channels": [c.channel.pk for c in composition.chosen_channels],
            "publications": [p.pk for p in publications],
            "skipped": skipped,
        },
    )
    wake_workers_on_commit()
    return publications


@transaction.atomic
def publish_crisis_message(
    *,
    actor,
    organisation,
    text: str,
    channels,
    link: str = "",
    versions: Mapping[str, str] | None = None,
    confirmed: bool = False,
    pin: bool = True,
) -> list[Publication]:
    """Send one message to every chosen channel now, bypassing approval after
    an explicit confirmation, pinned where the network allows.

    Each network gets ``text`` or the lead's own version in ``versions``
    (network → text). Nothing is ever shortened: while a version does not fit
    its network (counted by the network's adapter) or a placeholder such as
    ``[STED]`` is left, ``CrisisMessageRefused`` is raised and nothing is
    sent. Channels that take no text-only posts (Instagram) are skipped.
    """
    crisis_policy.check(actor, "publish")
    if not confirmed:
        raise ValueError(
            _("Bekræft, at beskeden skal ud på alle valgte kanaler uden godkendelse.")
        )
    composition = _checked_composition(
        organisation, text=text, link=link, channels=channels, versions=versions
    )
    return _send_crisis_publications(
        actor=actor,
        organisation=organisation,
        composition=composition,
        pin=pin,
        event="publishing.crisis.message_sent",
    )


@transaction.atomic
def unpin_crisis_messages(*, actor, organisation) -> int:
    """Take every crisis message Kanal pinned off the top of its profile
    (after commit, one task each; a failure is reported and can be retried).
    Returns how many were asked for."""
    crisis_policy.check(actor, "start")
    pubs = list(crisis_tools.still_pinned(organisation.pk))
    if not pubs:
        return 0
    user = getattr(actor, "user", None)
    unpins = []
    for pub in pubs:
        unpin, _created = CrisisUnpin.objects.get_or_create(
            publication=pub, defaults={"requested_by": user}
        )
        unpins.append(unpin.pk)
    audit.record(
        "publishing.crisis.unpin_requested",
        actor=actor,
        organisation=organisation,
        target=pubs[0],
        changes={"publications": [p.pk for p in pubs]},
    )

    def enqueue():
        from .tasks import release_crisis_pin

        for unpin_id in unpins:
            release_crisis_pin.enqueue(unpin_id)

    transaction.on_commit(enqueue)
    return len(pubs)


def channel_connected(channel: Channel) -> bool:
    return channel.status == ChannelStatus.CONNECTED
