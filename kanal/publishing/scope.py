"""The one answer to "is this publication held back by the crisis?".

An active crisis covers the whole organisation or chosen channels; it holds
back every publication on a covered channel except crisis messages
themselves. Actions (queueing, sending again, switching crisis mode on), the
engine (claim, job, send fence) and the selectors all ask here: in Python
(``CrisisScope``, ``CrisisScopes``) or, where the database must decide in the
same statement as a write, in SQL (``crises_holding_back``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Crisis


@dataclass(frozen=True)
class CrisisScope:
    """What one organisation's active crisis covers (nothing without one)."""

    organisation_id: int
    active: bool = False
    # None: every channel of the organisation.
    channel_ids: frozenset[int] | None = None

    @classmethod
    def of_crisis(cls, crisis: Crisis | None, organisation_id: int) -> CrisisScope:
        if crisis is None or crisis.ended_at is not None:
            return cls(organisation_id)
        if crisis.whole_organisation:
            return cls(organisation_id, active=True)
        channel_ids = frozenset(c.pk for c in crisis.channels.all())
        return cls(organisation_id, active=True, channel_ids=channel_ids)

    @classmethod
    def current(cls, organisation_id: int) -> CrisisScope:
        """The organisation's scope now (one or two queries)."""
        crisis = (
            Crisis.objects.filter(
                organisation_id=organisation_id, ended_at__isnull=True
            )
            .prefetch_related("channels")
            .first()
        )
        return cls.of_crisis(crisis, organisation_id)

    def covers_channel(self, channel_id: int) -> bool:
        return self.active and (
            self.channel_ids is None or channel_id in self.channel_ids
        )

    def holds_back(self, publication) -> bool:
        """True when ``publication`` must not be sent while this crisis lasts."""
        if publication.organisation_id != self.organisation_id:
            return False
        return not publication.is_crisis and self.covers_channel(publication.channel_id)

    def held_back(self, publications: QuerySet) -> QuerySet:
        """``publications`` narrowed to those this crisis holds back."""
        if not self.active:
            return publications.none()
        qs = publications.filter(organisation_id=self.organisation_id, is_crisis=False)
        if self.channel_ids is not None:
            qs = qs.filter(channel_id__in=self.channel_ids)
        return qs


class CrisisScopes:
    """Every organisation's scope, read once (the worker's claim loop)."""

    def __init__(self, scopes: dict[int, CrisisScope]) -> None:
        self._scopes = scopes

    @classmethod
    def load(cls) -> CrisisScopes:
        crises = Crisis.objects.filter(ended_at__isnull=True).prefetch_related(
            "channels"
        )
        return cls(
            {
                c.organisation_id: CrisisScope.of_crisis(c, c.organisation_id)
                for c in crises
            }
        )

    def of(self, organisation_id: int) -> CrisisScope:
        return self._scopes.get(organisation_id) or CrisisScope(organisation_id)

    def holds_back(self, publication) -> bool:
        return self.of(publication.organisation_id).holds_back(publication)


def crises_holding_back(publication=None) -> QuerySet:
    """Active crises that hold back the publication ``publication`` (an id or
    an expression such as ``OuterRef("pk")``), for ``Exists`` in a query or a
    conditional update. A crisis message is never held back."""
    publication = OuterRef("pk") if publication is None else publication
    return Crisis.objects.filter(
        ended_at__isnull=True,
        organisation__publications__pk=publication,
        organisation__publications__is_crisis=False,
    ).filter(Q(whole_organisation=True) | Q(channels__publications__pk=publication))


def held_back_in_sql(publication=None) -> Exists:
    """``crises_holding_back`` as a boolean expression."""
    return Exists(crises_holding_back(publication))
