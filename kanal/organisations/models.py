from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import PERMISSIONS, TWO_FACTOR_ROLES, Role


class Organisation(models.Model):
    """A municipality (or another public body) running its own desk."""

    name = models.CharField(_("navn"), max_length=200)
    slug = models.SlugField(_("kort navn"), max_length=60, unique=True)
    require_two_factor = models.BooleanField(
        _("kræv to-faktor-login for administratorer og redaktører"), default=True
    )
    forbid_self_approval = models.BooleanField(
        _("forbyd at godkende egne opslag"), default=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")

    def __str__(self) -> str:
        return self.name


class Administration(models.Model):
    """A forvaltning, e.g. KFF (Kultur- og Fritidsforvaltningen)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="administrations"
    )
    code = models.CharField(_("forkortelse"), max_length=12)
    name = models.CharField(_("navn"), max_length=200)
    is_central_desk = models.BooleanField(
        _("den centrale redaktion"),
        default=False,
        help_text=_("Redaktionen, der planlægger og udgiver for hele kommunen."),
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="administration_code_unique"
            )
        ]
        verbose_name = _("forvaltning")
        verbose_name_plural = _("forvaltninger")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Team(models.Model):
    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("navn"), max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "name"], name="team_name_unique"
            )
        ]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place and role in one organisation (one per organisation)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="memberships"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    role = models.CharField(_("rolle"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_user_org_unique"
            )
        ]
        verbose_name = _("medlemskab")
        verbose_name_plural = _("medlemskaber")

    def __str__(self) -> str:
        role = self.get_role_display()
        return f"{self.user.get_username()} ({role}, {self.organisation})"

    @property
    def permissions(self) -> frozenset[str]:
        return PERMISSIONS.get(self.role, frozenset())

    def has_perm(self, permission: str) -> bool:
        return self.is_active and self.user.is_active and permission in self.permissions

    @property
    def needs_two_factor(self) -> bool:
        return self.organisation.require_two_factor and self.role in TWO_FACTOR_ROLES

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class ThrottleCounter(models.Model):
    """One login or password-reset counter (see ``throttle``).

    A table of its own, not the cache: the database cache culls entries once it
    holds a few hundred, so a flood of made-up usernames would wipe the real
    counters, and its ``incr`` is neither atomic nor keeps the window.
    """

    key = models.CharField(max_length=120, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class SingleSignOn(models.Model):
    """An organisation's OpenID Connect identity provider (its IdP).

    The client secret is kept in the vault (``kanal.core.vault``), like a
    channel's credentials. ``group_roles`` is the organisation's mapping from
    the IdP's groups to a role and an administration: a list of
    ``{"group": ..., "role": ..., "administration": <code>}``, first match
    wins. Empty: roles and administrations are kept in Kanal.
    """

    class LocalPasswords(models.TextChoices):
        ALL = "all", _("Alle medlemmer kan også logge ind med adgangskode")
        BREAK_GLASS = "break_glass", _(
            "Kun administratorer med to-faktor-login (nødadgang)"
        )

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="single_sign_on"
    )
    enabled = models.BooleanField(_("slået til"), default=True)
    issuer = models.URLField(_("udsteder (issuer)"), max_length=300)
    client_id = models.CharField(_("klient-id"), max_length=300)
    # Fernet token of {"client_secret": ...}; never shown, logged or exported.
    encrypted_client_secret = models.TextField(blank=True, editable=False)
    groups_claim = models.CharField(
        _("gruppe-claim"), max_length=100, default="groups"
    )
    group_roles = models.JSONField(_("grupper → roller"), default=list, blank=True)
    local_passwords = models.CharField(
        _("lokale adgangskoder"),
        max_length=20,
        choices=LocalPasswords.choices,
        default=LocalPasswords.BREAK_GLASS,
    )
    require_mfa_claim = models.BooleanField(
        _("kræv at identitetsudbyderen bekræfter to-faktor (amr)"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("fælles login")
        verbose_name_plural = _("fælles login")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.issuer}"

    @property
    def client_secret(self) -> str:
        """Decrypted secret. Raises ``vault.VaultError`` on a bad key."""
        from kanal.core import vault

        return vault.decrypt(self.encrypted_client_secret).get("client_secret", "")


class ExternalIdentity(models.Model):
    """A person as their identity provider knows them: issuer + subject.

    The subject (``sub``) is the IdP's stable identifier; an e-mail address
    can change hands and is never used to match a person.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="external_identities",
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="external_identities"
    )
    issuer = models.URLField(max_length=300)
    subject = models.CharField(_("subject (sub)"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="external_identity_unique"
            ),
            models.UniqueConstraint(
                fields=["organisation", "user"], name="external_identity_one_per_org"
            ),
        ]
        verbose_name = _("ekstern identitet")
        verbose_name_plural = _("eksterne identiteter")

    def __str__(self) -> str:
        return f"{self.subject} @ {self.issuer}"
