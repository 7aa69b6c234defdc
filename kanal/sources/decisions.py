"""The desk's decisions on suggestions: accept one as a draft (with the
item's image), share a partner's post, edit, dismiss, and the tone each
channel's suggestions are written in.

``actor`` is a Membership, or None for the system.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels.adapters import adapter_for
from kanal.core import audit, safety
from kanal.planning.actions import PlanningError, create_post

from . import compose, images, parsers
from .actions import SourceError
from .models import ChannelTone, Suggestion, SuggestionKind, SuggestionStatus, Tone
from .policies import suggestion_policy, tone_policy

logger = logging.getLogger("kanal.sources")


def _decide(suggestion: Suggestion, status: str, actor, *extra: str) -> None:
    suggestion.status = status
    suggestion.decided_by = actor.user if actor is not None else None
    suggestion.decided_at = timezone.now()
    suggestion.save(
        update_fields=["status", "decided_by", "decided_at", "updated_at", *extra]
    )


def accept_suggestion(suggestion: Suggestion, *, actor):
    """Make the suggestion a draft in the normal workflow (through planning's
    own action); the suggestion remembers the post. The item's image is
    fetched first, outside the transaction (the feed fetcher's limits and
    address guard), and attached without alt text: the editor asks for it
    before approval. A refused image is named in the draft's notes."""
    suggestion_policy.check(actor, "accept", suggestion)
    if suggestion.kind == SuggestionKind.REPOST:
        raise SourceError(_("Forslaget er en deling. Brug «Del nu»."))
    item = suggestion.item
    upload, problem = (
        images.fetch_image(item) if item.image_url else (None, "")
    )
    stored = []
    try:
        with transaction.atomic():
            return _accept(suggestion, actor, upload, problem, stored)
    except BaseException:
        for asset in stored:
            images.forget(asset)
        raise


def _accept(suggestion, actor, upload, problem: str, stored: list):
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    suggestion_policy.check(actor, "accept", suggestion)
    item = suggestion.item
    source = item.source
    notes = _("Fra kilden %(source)s.") % {"source": source.name}
    if item.image_url:
        notes += " " + _("Billede i kilden: %(url)s") % {"url": item.image_url}
    if upload is not None:
        asset, problem = images.store_image(upload, item, actor=actor)
        if asset is not None:
            stored.append(asset)
            notes += " " + _(
                "Billedet er vedhæftet: skriv en alternativ tekst, før opslaget "
                "sendes til godkendelse."
            )
    if problem:
        notes += " " + _("Billedet kunne ikke hentes: %(why)s") % {"why": problem}
    try:
        post = create_post(
            actor=actor,
            title=item.title[:200],
            shared_text=suggestion.text,
            channels=[suggestion.channel],
            planned_at=suggestion.planned_at,
            owner_administration=source.owner_administration,
            category=source.category,
            purposes=source.purposes,
            notes=notes,
            link=suggestion.link,
            hashtags=suggestion.hashtags,
            media=stored,
        )
    except PlanningError as e:
        raise SourceError(str(e)) from e
    suggestion.post = post
    _decide(suggestion, SuggestionStatus.ACCEPTED, actor, "post")
    audit.record(
        "sources.suggestion.accepted",
        actor=actor,
        target=suggestion,
        changes={"post": post.pk, "item": item.guid, "channel": suggestion.channel_id},
    )
    return post


def repost_suggestion(suggestion: Suggestion, *, actor) -> Suggestion:
    """Share the partner's post on the channel now, with the network's own
    repost (a Mastodon boost). It publishes under the city's name at once,
    so it takes an approver, and an active crisis covering the channel
    stops it. The network is called outside any transaction; a repost sent
    twice is one repost (the adapters' ``repost`` returns the existing one),
    so a second click after an unknown outcome is safe."""
    from kanal.channels.networks.errors import NetworkError
    from kanal.channels.wording import network_sentence
    from kanal.publishing.scope import CrisisScope

    suggestion_policy.check(actor, "repost", suggestion)
    if suggestion.kind != SuggestionKind.REPOST:
        raise SourceError(_("Forslaget er ikke en deling."))
    channel = suggestion.channel
    if CrisisScope.current(channel.organisation_id).covers_channel(channel.pk):
        raise SourceError(
            _("Krisetilstand er aktiv for kanalen. Del først, når den er slut.")
        )
    try:
        result = adapter_for(channel).repost(suggestion.item.remote_id)
    except NetworkError as e:
        logger.warning(
            "repost failed suggestion=%s detail=%s", suggestion.pk, e.support_detail
        )
        raise SourceError(network_sentence(e.message)) from e
    with transaction.atomic():
        suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status != SuggestionStatus.OPEN:
            return suggestion
        url = parsers.safe_url(result.url if result is not None else "")
        suggestion.repost_url = url
        _decide(suggestion, SuggestionStatus.ACCEPTED, actor, "repost_url")
        audit.record(
            "sources.suggestion.reposted",
            actor=actor,
            target=suggestion,
            changes={
                "item": suggestion.item.guid,
                "channel": channel.pk,
                "remote_id": result.remote_id if result is not None else "",
            },
        )
    return suggestion


@transaction.atomic
def set_channel_tone(channel, *, actor, tone: str) -> int:
    """The tone Kanal writes the channel's suggestions in. The open
    suggestions no one has edited are written again in it (their times
    stay); returns how many changed."""
    tone_policy.check(actor, "edit", channel)
    if tone not in Tone.values:
        raise SourceError(_("Vælg en af tonerne."))
    row, created = ChannelTone.objects.get_or_create(channel=channel)
    before = "" if created else row.tone
    if row.tone != tone:
        row.tone = tone
        row.save(update_fields=["tone"])
    limits = compose.Limits(channel)
    rewritten = 0
    for suggestion in Suggestion.objects.filter(
        channel=channel,
        status=SuggestionStatus.OPEN,
        edited=False,
        planned_at__gt=timezone.now(),
    ).select_related("item", "item__source", "item__source__partner_channel"):
        draft = compose.words_for(
            suggestion.item, channel, limits, suggestion.planned_at
        )
        if draft.text != suggestion.text:
            suggestion.text = draft.text
            suggestion.save(update_fields=["text", "updated_at"])
            rewritten += 1
    audit.record(
        "sources.tone.changed",
        actor=actor,
        organisation=channel.organisation,
        target=channel,
        changes={"tone": [before, tone], "rewritten": rewritten},
    )
    return rewritten


@transaction.atomic
def update_suggestion(
    suggestion: Suggestion, *, actor, text: str, planned_at: datetime
) -> Suggestion:
    """The desk's own text and time; a later change in the feed then only
    marks the suggestion as changed instead of rewriting it."""
    suggestion_policy.check(actor, "edit", suggestion)
    if not safety.in_window(planned_at):
        raise SourceError(safety.day_window_message())
    if planned_at <= timezone.now():
        raise SourceError(_("Tidspunktet er passeret. Vælg et tidspunkt i fremtiden."))
    before = audit.snapshot(suggestion, ("text", "planned_at"))
    suggestion.text = text
    suggestion.planned_at = planned_at
    suggestion.edited = True
    suggestion.item_changed = False
    suggestion.save(
        update_fields=["text", "planned_at", "edited", "item_changed", "updated_at"]
    )
    audit.record(
        "sources.suggestion.edited",
        actor=actor,
        target=suggestion,
        changes={"before": before, "after": {"text": text, "planned_at": planned_at}},
    )
    return suggestion


@transaction.atomic
def dismiss_suggestion(suggestion: Suggestion, *, actor) -> Suggestion:
    """Dismiss the suggestion for good: the item never brings it back."""
    suggestion_policy.check(actor, "dismiss", suggestion)
    _decide(suggestion, SuggestionStatus.DISMISSED, actor)
    audit.record(
        "sources.suggestion.dismissed",
        actor=actor,
        target=suggestion,
        changes={"item": suggestion.item.guid, "channel": suggestion.channel_id},
    )
    return suggestion
