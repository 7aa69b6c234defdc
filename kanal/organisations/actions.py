"""Writes to organisations and memberships."""

from __future__ import annotations

import enum

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

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
    """Create a user and give them a role in ``organisation``.

    Without a password the user cannot log in until one is set (Django's
    unusable password): the admin hands over a reset link. An existing
    account is reused only by the installation itself (``actor=None``: the
    demo, an operator): an administrator typing a username must not pull
    another organisation's person (and their sign-in) into theirs.
    """
    membership_policy.check(actor, "create")
    if actor is not None and User.objects.filter(username__iexact=username).exists():
        raise PermissionDenied(
            _("Brugernavnet er allerede i brug i Kanal. Vælg et andet brugernavn.")
        )
    if administration.organisation_id != organisation.pk:
        raise ValueError("The administration belongs to another organisation.")
    if team is not None and team.administration_id != administration.pk:
        raise ValueError("The team belongs to another administration.")
    first, _space, last = full_name.partition(" ")
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


def record_account_event(
    user, event: str, *, actor=..., changes: dict | None = None
) -> None:
    """Audit something that happened to a person's account (a login, a
    failure, a lockout, a password reset, a two-factor change).

    Written once for each organisation the person is an active member of, so
    each organisation's administrators see it in their own log. ``actor``
    defaults to the person; pass None when nobody known did it (a failed
    login may be anyone).
    """
    if actor is ...:
        actor = user
    organisations = list(
        Organisation.objects.filter(
            memberships__user=user, memberships__is_active=True
        ).distinct()
    )
    with transaction.atomic():
        for organisation in organisations or [None]:
            audit.record(
                event,
                actor=actor,
                organisation=organisation,
                target=user,
                changes=changes or {},
            )


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


def confirmed_devices(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True)


@transaction.atomic
def confirm_two_factor(device, *, token: str, actor) -> bool:
    """Turn two-factor login on if ``token`` is a current code from ``device``.

    Only for a first authenticator: when the user already has a confirmed
    one, a new one replaces it through ``replace_two_factor`` (a code from the
    old one) or after an administrator's ``reset_two_factor``. ``actor`` is
    the user's membership (or the user). Returns False, changing nothing, for
    a wrong code.
    """
    if confirmed_devices(device.user).exclude(pk=device.pk).exists():
        raise PermissionDenied(
            _("Du har allerede en godkendelses-app. Skift den med en kode fra den.")
        )
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_account_event(device.user, "organisations.user.two_factor_enabled")
    return True


class Replacement(enum.Enum):
    DONE = "done"
    CURRENT_CODE_WRONG = "current"
    NEW_CODE_WRONG = "new"


@transaction.atomic
def replace_two_factor(device, *, current_token: str, token: str, actor) -> Replacement:
    """Swap the user's authenticator for ``device`` (a new, unconfirmed one).

    Needs a current code from the authenticator in use *and* one from the new
    one, so a session that lost its second factor (or a stolen, signed-in
    laptop without the phone) cannot move the account to another phone. The
    old authenticators are removed.
    """
    user = device.user
    old = [d for d in confirmed_devices(user).exclude(pk=device.pk)]
    if not any(d.verify_token(current_token) for d in old):
        return Replacement.CURRENT_CODE_WRONG
    if not device.verify_token(token):
        return Replacement.NEW_CODE_WRONG
    for previous in old:
        previous.delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_account_event(
        user,
        "organisations.user.two_factor_replaced",
        changes={"removed_devices": len(old)},
    )
    return Replacement.DONE


@transaction.atomic
def reset_two_factor(membership: Membership, *, actor) -> int:
    """Remove a member's authenticators (a lost phone), so they set up a new
    one at their next login. Administrators only, never their own (that would
    skip the code from the old app); audited. Returns how many were removed.
    """
    from django_otp import devices_for_user

    membership_policy.check(actor, "reset_two_factor", membership)
    user = membership.user
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    record_account_event(
        user,
        "organisations.user.two_factor_reset",
        actor=actor,
        changes={"user": user.get_username(), "removed_devices": removed},
    )
    return removed


# ---------------------------------------------------------------------------
# Installation level: a new municipality on this installation


@transaction.atomic
def set_up_organisation(
    *,
    actor,
    name: str,
    slug: str,
    administrations: list[tuple[str, str]],
    central_desk: str,
    admin_username: str,
    admin_email: str,
    admin_name: str = "",
) -> list[str]:
    """Create an organisation, its administrations and its first
    administrator; safe to run again (what exists is kept and reported).

    ``actor`` is None (the command line) or a superuser. Returns Danish lines
    saying what was created and what already existed. Refuses a slug taken by
    an organisation of another name, and an administrator username that
    belongs to someone in another organisation.
    """
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Kun installationens superbrugere kan dette."))
    central_desk = central_desk.strip().upper()
    report = []
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        organisation = create_organisation(name=name, slug=slug, actor=actor)
        report.append(_("Organisationen %(name)s er oprettet.") % {"name": name})
    elif organisation.name != name:
        raise ValueError(
            _("Kortnavnet %(slug)s bruges allerede af %(name)s.")
            % {"slug": slug, "name": organisation.name}
        )
    else:
        report.append(_("Organisationen %(name)s findes allerede.") % {"name": name})
    for code, title in administrations:
        if organisation.administrations.filter(code=code).exists():
            report.append(_("Forvaltningen %(code)s findes allerede.") % {"code": code})
            continue
        create_administration(
            organisation,
            actor=None,
            code=code,
            name=title,
            is_central_desk=code == central_desk,
        )
        report.append(_("Forvaltningen %(code)s er oprettet.") % {"code": code})
    desk = organisation.administrations.filter(code=central_desk).first()
    if desk is None:
        raise ValueError(
            _("Den centrale redaktion %(code)s er ikke blandt forvaltningerne.")
            % {"code": central_desk}
        )
    user = User.objects.filter(username=admin_username).first()
    if user is not None and user.memberships.exclude(organisation=organisation):
        raise ValueError(
            _("Brugernavnet %(user)s tilhører en person i en anden organisation.")
            % {"user": admin_username}
        )
    if user is not None and user.memberships.filter(organisation=organisation):
        report.append(
            _("Administratoren %(user)s findes allerede.") % {"user": admin_username}
        )
    else:
        from .roles import Role

        add_member(
            organisation,
            actor=None,
            username=admin_username,
            email=admin_email,
            full_name=admin_name,
            administration=desk,
            role=Role.ADMIN,
        )
        report.append(
            _(
                "Administratoren %(user)s er oprettet og får en e-mail med et "
                "link til at vælge adgangskode."
            )
            % {"user": admin_username}
        )
    audit.record(
        "organisations.organisation.set_up",
        actor=actor,
        organisation=organisation,
        target=organisation,
        changes={"report": [str(line) for line in report]},
    )
    return report
