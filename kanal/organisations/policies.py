from __future__ import annotations

from kanal.core.policies import BasePolicy

from .models import Administration, Membership, Organisation, SingleSignOn


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
        "change_identity": "members.manage",
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


def password_sign_in_allowed(user) -> bool:
    """May ``user`` sign in with a local password?

    Yes, unless an organisation they are an active member of signs its people
    in through its identity provider and keeps passwords for break-glass
    administrators only: then only as an administrator there with a confirmed
    second factor (the code is still asked for after the password).
    """
    from django_otp import user_has_device

    from .roles import Role

    restricting = SingleSignOn.objects.filter(
        enabled=True,
        local_passwords=SingleSignOn.LocalPasswords.BREAK_GLASS,
        organisation__memberships__user=user,
        organisation__memberships__is_active=True,
    ).values_list("organisation_id", flat=True)
    if not restricting:
        return True
    admin_everywhere = not user.memberships.filter(
        organisation_id__in=list(restricting), is_active=True
    ).exclude(role=Role.ADMIN).exists()
    return admin_everywhere and user_has_device(user, confirmed=True)
