from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import vault


class Network(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X (Twitter)"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    LINKEDIN = "linkedin", "LinkedIn"
    THREADS = "threads", "Threads"


class Purpose(models.TextChoices):
    """The strategy's purposes for a channel."""

    BRANDING = "branding", _("Branding")
    INVOLVEMENT = "involvement", _("Involvering")
    STORYTELLING = "storytelling", _("Storytelling")
    DIALOGUE = "dialogue", _("Dialog")
    INFORMATION = "information", _("Information")
    SERVICE = "service", _("Service")
    NEWS = "news", _("Nyheder")


class CadencePeriod(models.TextChoices):
    DAY = "day", _("om dagen")
    WEEK = "week", _("om ugen")


class ChannelStatus(models.TextChoices):
    CONNECTED = "connected", _("Forbundet")
    NEEDS_RECONNECT = "needs_reconnect", _("Skal forbindes igen")
    DISABLED = "disabled", _("Slået fra")


class ChannelQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(status=ChannelStatus.DISABLED)


class Channel(models.Model):
    """A connected account on one network, owned by one administration."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="channels"
    )
    network = models.CharField(_("netværk"), max_length=20, choices=Network.choices)
    display_name = models.CharField(_("visningsnavn"), max_length=200)
    handle = models.CharField(_("brugernavn"), max_length=200, blank=True)
    remote_id = models.CharField(
        _("konto-id hos netværket"), max_length=200, blank=True
    )
    owner_administration = models.ForeignKey(
        "organisations.Administration",
        on_delete=models.PROTECT,
        related_name="channels",
        verbose_name=_("ejer (forvaltning)"),
    )
    base_url = models.URLField(
        _("API-adresse"),
        max_length=300,
        help_text=_("Netværkets API, eller øvebanens adresse for træning og test."),
    )
    api_settings = models.JSONField(_("API-indstillinger"), default=dict, blank=True)
    # Limits the network reported for this account (a Mastodon instance's
    # own), kept when the channel is verified (``adapters.store_limits``).
    network_limits = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ChannelStatus.choices,
        default=ChannelStatus.CONNECTED,
    )
    last_error = models.TextField(_("seneste fejl"), blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    follower_count = models.PositiveIntegerField(_("følgere"), null=True, blank=True)
    token_expires_at = models.DateTimeField(_("adgang udløber"), null=True, blank=True)
    # Fernet token of a JSON object of secrets; never shown, logged or exported.
    encrypted_credentials = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["network", "display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "network", "remote_id"],
                condition=~models.Q(remote_id=""),
                name="channel_remote_account_unique",
            )
        ]
        verbose_name = _("kanal")
        verbose_name_plural = _("kanaler")

    def __str__(self) -> str:
        return f"{self.get_network_display()}: {self.display_name}"

    def __repr__(self) -> str:
        return f"<Channel {self.pk} {self.network} {self.display_name!r}>"

    @property
    def has_credentials(self) -> bool:
        return bool(self.encrypted_credentials)

    def credentials(self) -> dict[str, str]:
        """Decrypted secrets. Raises ``vault.VaultError`` on a bad key."""
        return vault.decrypt(self.encrypted_credentials)

    def connection(self):
        """The adapter's view of this channel (decrypts the credentials)."""
        from .networks.base import Connection

        return Connection(
            network=self.network,
            base_url=self.base_url,
            account_id=self.remote_id,
            handle=self.handle,
            credentials=self.credentials(),
            token_expires_at=self.token_expires_at,
            settings=dict(self.api_settings),
        )


class StrategyProfile(models.Model):
    """What a channel is for and how often it should post (the strategy)."""

    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, related_name="strategy"
    )
    purposes = models.JSONField(_("formål"), default=list, blank=True)
    categories = models.JSONField(_("indholdskategorier"), default=list, blank=True)
    cadence_min = models.PositiveSmallIntegerField(_("mindst"), default=0)
    cadence_max = models.PositiveSmallIntegerField(_("højst"), default=0)
    cadence_period = models.CharField(
        _("pr."),
        max_length=10,
        choices=CadencePeriod.choices,
        default=CadencePeriod.DAY,
    )
    default_hashtags = models.JSONField(_("faste hashtags"), default=list, blank=True)
    tone_notes = models.TextField(_("tone og stil"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("strategiprofil")
        verbose_name_plural = _("strategiprofiler")

    def __str__(self) -> str:
        return f"Strategi for {self.channel}"

    @property
    def cadence_label(self) -> str:
        if not self.cadence_max:
            return ""
        span = (
            str(self.cadence_min)
            if self.cadence_min == self.cadence_max
            else f"{self.cadence_min}–{self.cadence_max}"
        )
        return f"{span} {self.get_cadence_period_display()}"

    def purpose_labels(self) -> list[str]:
        labels = dict(Purpose.choices)
        return [str(labels.get(p, p)) for p in self.purposes]
