"""Texts editors keep for answers: standard answers and referral templates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeptText(models.Model):
    """A text the desk keeps for answering citizens: a title unique within
    the organisation and a text with the variables ``{fornavn}``,
    ``{kanalnavn}`` and ``{forvaltningsnavn}``, filled in when it is used.
    Each kind keeps its own table, its own ``organisation`` (for its related
    name) and its own help text."""

    title = models.CharField(_("titel"), max_length=120)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title



class StandardAnswer(KeptText):
    """A prepared answer the desk keeps."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE,
        related_name="standard_answers",
    )
    text = models.TextField(
        _("tekst"), max_length=2000,
        help_text=_("Du kan bruge {fornavn} (borgerens fornavn), {kanalnavn} og "
                    "{forvaltningsnavn}."),
    )

    class Meta(KeptText.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "title"], name="standard_answer_title_unique"
            )
        ]
        verbose_name = _("standardsvar")
        verbose_name_plural = _("standardsvar")



class ReferralTemplate(KeptText):
    """Where to send a citizen whose question the desk cannot settle here
    (kk.dk, Borgerservice, the right administration). Kept by editors apart
    from standard answers; answering with one marks the conversation
    *referred*."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE,
        related_name="referral_templates",
    )
    administration = models.ForeignKey(
        "organisations.Administration", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("henvis til forvaltning"),
        help_text=_("Valgfri: den forvaltning, borgeren henvises til. Dens navn "
                    "bruges for {forvaltningsnavn}."),
    )
    text = models.TextField(
        _("tekst"), max_length=2000,
        help_text=_("Sig hvor borgeren skal henvende sig, fx en side på kk.dk "
                    "eller Borgerservice. Du kan bruge {fornavn}, {kanalnavn} og "
                    "{forvaltningsnavn}."),
    )

    class Meta(KeptText.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "title"], name="referral_title_unique"
            )
        ]
        verbose_name = _("henvisningsskabelon")
        verbose_name_plural = _("henvisningsskabeloner")

