"""The base of every permission policy.

One policy per model answers two questions: which objects may this actor see
(``visible``), and may this actor do ``action`` to this object (``can``).
Views and actions ask the policy; nobody checks roles inline. ``actor`` is a
``Membership`` (a user acting within one organisation), or None for the system.
Objects outside ``visible`` are reported as missing (404), never as forbidden,
so a guessed URL reveals nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _


class BasePolicy:
    model: type[models.Model]
    #: action name -> the permission (see organisations.roles) it requires
    permissions: dict[str, str] = {}

    def visible(self, actor) -> models.QuerySet:
        """Objects ``actor`` may see at all. Subclasses narrow this."""
        raise NotImplementedError

    def can(self, actor, action: str, obj: models.Model | None = None) -> bool:
        """May ``actor`` do ``action`` (to ``obj``)?"""
        if actor is None:
            return True
        if not actor.is_active:
            return False
        try:
            permission = self.permissions[action]
        except KeyError:
            raise ValueError(
                f"{type(self).__name__} knows no action {action!r}"
            ) from None
        if not actor.has_perm(permission):
            return False
        if obj is not None and not self.visible(actor).filter(pk=obj.pk).exists():
            return False
        return self.allows(actor, action, obj)

    def allows(self, actor, action: str, obj) -> bool:
        """Object-level rules beyond the role; override where needed."""
        return True

    def check(self, actor, action: str, obj: models.Model | None = None) -> None:
        """Raise ``PermissionDenied`` unless ``can``; for actions."""
        if not self.can(actor, action, obj):
            raise PermissionDenied(_("Du har ikke rettighed til at gøre dette."))

    def get_visible_or_404(self, actor, **lookup) -> models.Model:
        try:
            return self.visible(actor).get(**lookup)
        except (self.model.DoesNotExist, ValueError) as e:
            raise Http404 from e

    def get_allowed(self, actor, action: str, **lookup) -> models.Model:
        """The object ``actor`` may see (else 404) and do ``action`` to (else
        ``PermissionDenied``): what a view asks before it acts on one object."""
        obj = self.get_visible_or_404(actor, **lookup)
        self.check(actor, action, obj)
        return obj


class OrganisationPolicy(BasePolicy):
    """The policy of a model whose rows belong to one organisation
    (``organisation_id``): an actor sees its own organisation's rows only,
    narrowed further by ``narrow``; the system (None) sees every row."""

    def queryset(self) -> models.QuerySet:
        """Every row, with what the pages read alongside."""
        return self.model.objects.all()

    def visible(self, actor) -> models.QuerySet:
        rows = self.queryset()
        if actor is None:
            return rows
        return self.narrow(actor, rows.filter(organisation_id=actor.organisation_id))

    def narrow(self, actor, rows: models.QuerySet) -> models.QuerySet:
        """The organisation's ``rows`` that ``actor`` may see (all, here)."""
        return rows
