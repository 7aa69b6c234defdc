"""Who is told: the members of an organisation chosen by permission, by
administration or by user. Apps above name the people; this module finds
their memberships."""

from __future__ import annotations

from kanal.organisations.models import Membership


def _active(organisation_id: int):
    return Membership.objects.filter(
        organisation_id=organisation_id, is_active=True, user__is_active=True
    ).select_related("user")


def members_with(
    organisation_id: int,
    *permissions: str,
    administration_id: int | None = None,
    exclude_user=None,
) -> list[Membership]:
    """Active members holding any of ``permissions`` (of one administration
    when ``administration_id`` is given), without the user ``exclude_user``."""
    members = _active(organisation_id)
    if administration_id is not None:
        members = members.filter(administration_id=administration_id)
    return [
        m
        for m in members
        if any(m.has_perm(p) for p in permissions)
        and (exclude_user is None or m.user_id != exclude_user)
    ]


def members_for_user(organisation_id: int, user_id) -> list[Membership]:
    """The active membership of ``user_id`` in the organisation (or none)."""
    if user_id is None:
        return []
    return list(_active(organisation_id).filter(user_id=user_id))


def admins(organisation_id: int) -> list[Membership]:
    """The organisation's administrators (they manage channels and members)."""
    return members_with(organisation_id, "organisation.manage")


def channel_desk(
    organisation_id: int, administration_id: int | None
) -> list[Membership]:
    """Who acts when something goes wrong on a channel: the people of the
    channel's administration who plan, publish or approve, and the
    administrators (who reconnect channels)."""
    desk = []
    if administration_id is not None:
        desk = members_with(
            organisation_id,
            "posts.plan",
            "posts.publish",
            "posts.approve",
            administration_id=administration_id,
        )
    return desk + admins(organisation_id)


def crisis_leads(organisation_id: int, *, exclude_user=None) -> list[Membership]:
    """Everyone who may run crisis mode (crisis leads, editors, admins)."""
    return members_with(organisation_id, "crisis.manage", exclude_user=exclude_user)
