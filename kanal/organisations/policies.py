from __future__ import annotations

from kanal.core.policies import BasePolicy

from .models import Administration, Membership, Organisation


class OrganisationPolicy(BasePolicy):
    model = Organisation
    permissions = {"view": "channels.view", "change": "organisation.manage"}

    def visible(self, actor):
        if actor is None:
            return Organisation.objects.all()
        return Organisation.objects.filter(pk=actor.organisation_id)


class AdministrationPolicy(BasePolicy):
    model = Administration
    permissions = {"view": "channels.view", "change": "organisation.manage"}

    def visible(self, actor):
        if actor is None:
            return Administration.objects.all()
        return Administration.objects.filter(organisation_id=actor.organisation_id)


class MembershipPolicy(BasePolicy):
    model = Membership
    permissions = {
        "list": "members.manage",
        "view": "members.manage",
        "create": "members.manage",
        "change": "members.manage",
        "deactivate": "members.manage",
        "reset_two_factor": "members.manage",
    }

    def visible(self, actor):
        qs = Membership.objects.select_related("user", "administration", "team")
        if actor is None:
            return qs
        qs = qs.filter(organisation_id=actor.organisation_id)
        if not actor.has_perm("members.manage"):
            qs = qs.filter(pk=actor.pk)
        return qs

    def allows(self, actor, action, obj):
        # Nobody locks themselves out: an admin cannot demote or deactivate
        # their own membership. Nor reset their own second factor: that would
        # let a session without the phone enrol a new one.
        return not (
            action in {"change", "deactivate", "reset_two_factor"}
            and obj is not None
            and obj.pk == actor.pk
        )


organisation_policy = OrganisationPolicy()
administration_policy = AdministrationPolicy()
membership_policy = MembershipPolicy()
