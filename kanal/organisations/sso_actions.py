"""Writes for single sign-on: the organisation's identity provider, the
link between a member and their subject, and signing a person in (the
protocol itself is in ``sso``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from kanal.core import audit

from .actions import change_membership, record_account_event
from .models import ExternalIdentity, Membership, Organisation, SingleSignOn
from .policies import membership_policy, organisation_policy

SINGLE_SIGN_ON_FIELDS = (
    "enabled",
    "issuer",
    "client_id",
    "groups_claim",
    "group_roles",
    "local_passwords",
    "require_mfa_claim",
)


class UnknownPerson(Exception):
    """A valid sign-in by someone no administrator has linked to a member."""

    def __init__(self, subject: str):
        super().__init__(subject)
        self.subject = subject


@transaction.atomic
def configure_single_sign_on(
    organisation: Organisation, *, actor, client_secret: str = "", **fields
) -> SingleSignOn:
    """Set the organisation's identity provider. A blank ``client_secret``
    keeps the stored one; the secret goes to the vault and never into the
    audit log (only that it changed)."""
    from kanal.core import vault

    organisation_policy.check(actor, "change", organisation)
    unknown = set(fields) - set(SINGLE_SIGN_ON_FIELDS)
    if unknown:
        raise ValueError(f"Unknown single sign-on fields: {sorted(unknown)}")
    config = SingleSignOn.objects.filter(organisation=organisation).first()
    created = config is None
    if created:
        config = SingleSignOn(organisation=organisation)
    before = audit.snapshot(config, SINGLE_SIGN_ON_FIELDS)
    for name, value in fields.items():
        setattr(config, name, value)
    changed = audit.diff(config, SINGLE_SIGN_ON_FIELDS, before)
    if client_secret:
        config.encrypted_client_secret = vault.encrypt(
            {"client_secret": client_secret}
        )
        changed["client_secret"] = "changed"
    if changed or created:
        config.save()
        audit.record(
            "organisations.single_sign_on.configured",
            actor=actor,
            organisation=organisation,
            target=config,
            changes=changed,
        )
    return config


@transaction.atomic
def link_identity(membership: Membership, *, actor, subject: str) -> ExternalIdentity:
    """Tie a member to the subject (``sub``) their organisation's identity
    provider knows them by, before or after their first sign-in attempt."""
    membership_policy.check(actor, "change_identity", membership)
    config = SingleSignOn.objects.get(organisation=membership.organisation)
    taken = ExternalIdentity.objects.filter(issuer=config.issuer, subject=subject)
    if taken.exclude(user=membership.user).exists():
        raise PermissionDenied(
            _("Det subject er allerede knyttet til en anden person i Kanal.")
        )
    identity, _created = ExternalIdentity.objects.update_or_create(
        organisation=membership.organisation,
        user=membership.user,
        defaults={"issuer": config.issuer, "subject": subject},
    )
    audit.record(
        "organisations.identity.linked",
        actor=actor,
        organisation=membership.organisation,
        target=membership,
        changes={"issuer": config.issuer, "subject": subject},
    )
    return identity


@transaction.atomic
def unlink_identity(membership: Membership, *, actor) -> int:
    membership_policy.check(actor, "change_identity", membership)
    removed, _detail = ExternalIdentity.objects.filter(
        organisation=membership.organisation, user=membership.user
    ).delete()
    if removed:
        audit.record(
            "organisations.identity.unlinked",
            actor=actor,
            organisation=membership.organisation,
            target=membership,
            changes={"removed": removed},
        )
    return removed


def _mapped_place(config: SingleSignOn, claims: dict):
    """(role, administration) from the person's groups by the organisation's
    mapping (first match wins); None when the organisation keeps roles in
    Kanal. Refuses a mapping to a role or administration that does not exist."""
    from .roles import Role
    from .sso import SignInRefused

    if not config.group_roles:
        return None
    groups = claims.get(config.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    for entry in config.group_roles:
        if entry.get("group") not in groups:
            continue
        role = entry.get("role")
        administration = config.organisation.administrations.filter(
            code=entry.get("administration")
        ).first()
        if role not in Role.values or administration is None:
            raise SignInRefused(
                "unknown_role",
                detail=f"{entry.get('group')} -> {role}/{entry.get('administration')}",
                subject=claims["sub"],
            )
        return role, administration
    raise SignInRefused("no_group", detail=str(groups), subject=claims["sub"])


@transaction.atomic
def sign_in_with_identity(
    config: SingleSignOn, claims: dict, *, address: str
) -> Membership:
    """The member a validated ID token belongs to, matched by issuer and
    subject (never by e-mail), with role and administration from the group
    mapping when the organisation keeps one. Audited like a password login;
    the second factor is the identity provider's (its ``amr`` is recorded).
    Raises ``UnknownPerson`` or ``sso.SignInRefused``; changes nothing then.
    """
    from django.utils import timezone

    from .sso import SignInRefused, has_second_factor

    organisation = config.organisation
    identity = (
        ExternalIdentity.objects.select_for_update()
        .filter(issuer=config.issuer, subject=claims["sub"], organisation=organisation)
        .first()
    )
    membership = (
        Membership.objects.filter(user_id=identity.user_id, organisation=organisation)
        .select_related("user", "organisation", "administration")
        .first()
        if identity
        else None
    )
    if membership is None:
        raise UnknownPerson(claims["sub"])
    if not (membership.is_active and membership.user.is_active):
        raise SignInRefused("inactive", subject=claims["sub"])
    place = _mapped_place(config, claims)
    if place is not None:
        membership.role, membership.administration = place
    if (
        config.require_mfa_claim
        and membership.needs_two_factor
        and not has_second_factor(claims)
    ):
        raise SignInRefused("mfa_missing", detail=str(claims.get("amr")))
    if place is not None:
        membership.refresh_from_db()
        change_membership(
            membership, actor=None, role=place[0], administration=place[1]
        )
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    record_account_event(
        membership.user,
        "organisations.user.logged_in",
        changes={
            "address": address,
            "method": "sso",
            "issuer": config.issuer,
            "subject": claims["sub"],
            "second_factor": "identity_provider",
            "amr": claims.get("amr") or [],
            "acr": claims.get("acr", ""),
        },
    )
    return membership


def refuse_sign_in(organisation, refusal, *, address: str, issuer: str = "") -> None:
    """Audit a refused single sign-on (nobody is signed in)."""
    from .sso import SignInRefused

    reason = refusal.reason if isinstance(refusal, SignInRefused) else "unknown_person"
    audit.record(
        "organisations.sso.refused",
        organisation=organisation,
        changes={
            "reason": reason,
            "detail": getattr(refusal, "detail", "")[:500],
            "subject": getattr(refusal, "subject", ""),
            "issuer": issuer,
            "address": address,
        },
    )


