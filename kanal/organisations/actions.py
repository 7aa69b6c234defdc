"""Writes to organisations and memberships."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from kanal.core import audit

from .models import Administration, Membership, Organisation, Team
from .policies import membership_policy, organisation_policy

User = get_user_model()

MEMBERSHIP_FIELDS = ("role", "administration_id", "team_id", "is_active")


@transaction.atomic
def create_organisation(*, name: str, slug: str, actor=None, **options) -> Organisation:
    """A new organisation (installation-level: the system or a superuser)."""
    organisation = Organisation.objects.create(name=name, slug=slug, **options)
    audit.record(
        "organisations.organisation.created",
        actor=actor,
        organisation=organisation,
        target=organisation,
        changes={"name": name, "slug": slug, **options},
    )
    return organisation


@transaction.atomic
def create_administration(
    organisation: Organisation,
    *,
    actor,
    code: str,
    name: str,
    is_central_desk: bool = False,
) -> Administration:
    organisation_policy.check(actor, "change", organisation)
    administration = Administration.objects.create(
        organisation=organisation,
        code=code,
        name=name,
        is_central_desk=is_central_desk,
    )
    audit.record(
        "organisations.administration.created",
        actor=actor,
        organisation=organisation,
        target=administration,
        changes={"code": code, "name": name, "is_central_desk": is_central_desk},
    )
    return administration


@transaction.atomic
def create_team(administration: Administration, *, actor, name: str) -> Team:
    organisation_policy.check(actor, "change", administration.organisation)
    team = Team.objects.create(administration=administration, name=name)
    audit.record(
        "organisations.team.created",
        actor=actor,
        organisation=administration.organisation,
        target=team,
        changes={"administration": administration.code, "name": name},
    )
    return team


@transaction.atomic
def add_member(
    organisation: Organisation,
    *,
    actor,
    username: str,
    email: str,
    full_name: str,
    administration: Administration,
    role: str,
    password: str | None = None,
    team: Team | None = None,
) -> Membership:
    """Create (or reuse) a user and give them a role in ``organisation``.

    Without a password the user cannot log in until one is set (Django's
    unusable password): the admin hands over a reset link.
    """
    membership_policy.check(actor, "create")
    if administration.organisation_id != organisation.pk:
        raise ValueError("The administration belongs to another organisation.")
    if team is not None and team.administration_id != administration.pk:
        raise ValueError("The team belongs to another administration.")
    first, _, last = full_name.partition(" ")
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": email, "first_name": first, "last_name": last},
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    membership = Membership.objects.create(
        user=user,
        organisation=organisation,
        administration=administration,
        team=team,
        role=role,
    )
    audit.record(
        "organisations.membership.created",
        actor=actor,
        organisation=organisation,
        target=membership,
        changes={
            "username": username,
            "role": role,
            "administration": administration.code,
            "new_user": created,
        },
    )
    if created and not password and email:
        transaction.on_commit(lambda: send_set_password_email(user, organisation))
    return membership


@transaction.atomic
def change_membership(membership: Membership, *, actor, **fields) -> Membership:
    """Change a member's role, administration or team."""
    membership_policy.check(actor, "change", membership)
    unknown = set(fields) - {"role", "administration", "team"}
    if unknown:
        raise ValueError(f"Unknown membership fields: {sorted(unknown)}")
    before = audit.snapshot(membership, MEMBERSHIP_FIELDS)
    for name, value in fields.items():
        setattr(membership, name, value)
    if membership.administration.organisation_id != membership.organisation_id:
        raise ValueError("The administration belongs to another organisation.")
    if membership.team is not None and (
        membership.team.administration_id != membership.administration_id
    ):
        membership.team = None
    changed = audit.diff(membership, MEMBERSHIP_FIELDS, before)
    if changed:
        membership.save(update_fields=[n.removesuffix("_id") for n in changed])
        audit.record(
            "organisations.membership.changed",
            actor=actor,
            organisation=membership.organisation,
            target=membership,
            changes=changed,
        )
    return membership


@transaction.atomic
def set_membership_active(membership: Membership, *, actor, active: bool) -> Membership:
    """Deactivate (or reactivate) a member; a deactivated member sees nothing."""
    membership_policy.check(actor, "deactivate", membership)
    if membership.is_active == active:
        return membership
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    audit.record(
        "organisations.membership.activated"
        if active
        else "organisations.membership.deactivated",
        actor=actor,
        organisation=membership.organisation,
        target=membership,
        changes={"is_active": [not active, active]},
    )
    return membership


def send_set_password_email(user, organisation) -> None:
    """E-mail a new member a one-time link to choose their password."""
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "organisation": organisation,
        "link": settings.KANAL_BASE_URL.rstrip("/") + path,
    }
    send_mail(
        subject=f"Du er oprettet i Kanal ({organisation.name})",
        message=render_to_string("organisations/email_set_password.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


ORGANISATION_SETTINGS = ("name", "require_two_factor", "forbid_self_approval")


@transaction.atomic
def update_organisation(organisation: Organisation, *, actor, **fields) -> Organisation:
    """Change the organisation's name or its rules (two-factor, self-approval)."""
    organisation_policy.check(actor, "change", organisation)
    unknown = set(fields) - set(ORGANISATION_SETTINGS)
    if unknown:
        raise ValueError(f"Unknown organisation fields: {sorted(unknown)}")
    before = audit.snapshot(organisation, ORGANISATION_SETTINGS)
    for name, value in fields.items():
        setattr(organisation, name, value)
    changed = audit.diff(organisation, ORGANISATION_SETTINGS, before)
    if changed:
        organisation.save(update_fields=list(changed))
        audit.record(
            "organisations.organisation.updated",
            actor=actor,
            organisation=organisation,
            target=organisation,
            changes=changed,
        )
    return organisation


def pending_two_factor_device(user):
    """The user's unconfirmed authenticator (made on first visit to set-up).

    Its secret is shown once as a QR code; nothing is audited until the user
    proves the app works (``confirm_two_factor``).
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Kanal"}
    )
    return device


@transaction.atomic
def confirm_two_factor(device, *, token: str, actor) -> bool:
    """Turn two-factor login on if ``token`` is a current code from ``device``.

    ``actor`` is the user's membership (or the user). Returns False, changing
    nothing, for a wrong code.
    """
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record(
        "organisations.user.two_factor_enabled",
        actor=actor,
        target=actor if isinstance(actor, Membership) else None,
    )
    return True
