"""The outcome table: what happens to a publication after each kind of result.

One row per outcome: the publication's next status, when it is next due,
whether the network must be asked before anything is sent again
(``reconcile``), whether the try counts against ``MAX_ATTEMPTS``, the reason
shown to people, who is told, and which row applies once the tries are used
up. ``engine.record`` classifies a finished job into one of these keys and
applies the row; nothing else decides.

Reasons are stored as a code (``Publication.error_kind``) plus parameters
(``reason_params``) and rendered in the reader's language when shown
(``render_reason``); ``REASONS`` holds every code's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from kanal.channels.wording import network_sentence
from kanal.core.formatting import when

from .models import PublicationStatus

S = PublicationStatus

# When the publication is next due.
NOW = "now"  # at once (the claim re-checks what stopped it)
BACKOFF = "backoff"  # conf.backoff(attempts)
RECONCILE = "reconcile"  # conf.backoff(attempts, base RECONCILE_RETRY_SECONDS)
RESET = "reset"  # the network's quota reset time
RECONNECT = "reconnect"  # RECONNECT_RECHECK_SECONDS
LOCAL = "local"  # LOCAL_ERROR_RETRY_SECONDS
NEVER = ""  # a person decides

# Whether to ask the network before sending again.
YES, NO = True, False
KEEP = None  # what was known before this try (an earlier uncertain write)
# Who is told.
NOBODY, OWNERS, CHANNEL_OWNERS = "", "owners", "channel_owners"


@dataclass(frozen=True)
class Rule:
    status: str
    reason: str  # a code in REASONS ("" keeps none)
    due: str = NEVER
    reconcile: bool | None = KEEP
    counts: bool = True  # the try counts against MAX_ATTEMPTS
    tell: str = NOBODY
    exhausted: str = ""  # the rule once MAX_ATTEMPTS tries are used


RULES: dict[str, Rule] = {
    "published": Rule(S.PUBLISHED, "", reconcile=NO, tell=OWNERS),
    # Stopped before a write: by the fence (lease lost, withdrawn, crisis,
    # channel) or by the crisis seen just before the call. The claim then
    # decides again from the row's current state.
    "fenced": Rule(S.QUEUED, "fenced", due=NOW, counts=False),
    "paused": Rule(S.PAUSED, "crisis", counts=False),
    # The worker's own database failed: not a network attempt.
    "local_error": Rule(S.RETRYING, "local_error", due=LOCAL, counts=False),
    # Reconciled (asked the network) when it may no longer send: not there.
    "not_found_crisis": Rule(S.PAUSED, "crisis", reconcile=NO, counts=False),
    "not_found_withdrawn": Rule(S.CANCELLED, "approval_withdrawn", reconcile=NO),
    "not_found_late": Rule(S.MISSED, "late_not_found", reconcile=NO, tell=OWNERS),
    "not_found_channel_disabled": Rule(
        S.FAILED, "channel_disabled", reconcile=NO, tell=OWNERS
    ),
    "cannot_reconcile": Rule(S.FAILED, "unverifiable", reconcile=YES, tell=OWNERS),
    # A duplicate refusal after an uncertain write: the lost write got
    # through, but the network has not shown it yet. Ask again; never FAILED
    # with advice to change the text.
    "duplicate_unresolved": Rule(
        S.UNKNOWN, "duplicate_unresolved", due=RECONCILE, reconcile=YES,
        exhausted="unknown_exhausted",
    ),
    # The lookup found only another publication's post with the same text.
    "sibling": Rule(
        S.UNKNOWN, "sibling_post", due=RECONCILE, reconcile=YES,
        exhausted="sibling_exhausted",
    ),
    "sibling_exhausted": Rule(
        S.FAILED, "sibling_exhausted", reconcile=YES, tell=OWNERS
    ),
    "unknown": Rule(
        S.UNKNOWN, "unknown_outcome", due=RECONCILE, reconcile=YES,
        exhausted="unknown_exhausted",
    ),
    # Still no clear answer after MAX_ATTEMPTS: not FAILED (the post may be
    # live), a person is told once and Kanal keeps asking; after the late
    # cutoff a lookup settles it (published, or missed when not there).
    "unknown_exhausted": Rule(
        S.UNKNOWN, "unknown_exhausted", due=RECONCILE, reconcile=YES,
        tell=OWNERS,
    ),
    "quota": Rule(S.WAITING, "quota", due=RESET, counts=False),
    "auth": Rule(
        S.WAITING, "auth", due=RECONNECT, counts=False, tell=CHANNEL_OWNERS
    ),
    "rejected": Rule(S.FAILED, "rejected", tell=OWNERS),
    "transient": Rule(
        S.RETRYING, "transient", due=BACKOFF, exhausted="transient_exhausted"
    ),
    "rate_limited": Rule(
        S.RETRYING, "rate_limited", due=BACKOFF, exhausted="transient_exhausted"
    ),
    "transient_exhausted": Rule(S.FAILED, "transient_exhausted", tell=OWNERS),
    # Kanal's own code failed before any write: retried, then a person.
    "error": Rule(S.RETRYING, "error", due=BACKOFF, exhausted="error_exhausted"),
    "error_exhausted": Rule(S.FAILED, "error", tell=OWNERS),
}


def _hours(value) -> str:
    delta = timedelta(seconds=float(value or 0))
    hours = delta.total_seconds() / 3600
    if hours >= 1 and hours == int(hours):
        return ngettext("%(n)d time", "%(n)d timer", int(hours)) % {"n": hours}
    minutes = int(delta.total_seconds() // 60)
    return ngettext("%(n)d minut", "%(n)d minutter", minutes) % {"n": minutes}


def _local(value) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return when(at, "day_time")


#: Parameters rendered at display time (the reader's language and zone).
FORMATTERS = {"cutoff": _hours, "at": _local}

REASONS = {
    "fenced": _(
        "Udgivelsen blev stoppet lige før afsendelse (%(why)s). Intet blev "
        "sendt; Kanal ser på den igen med det samme."
    ),
    "crisis": _("Krisetilstand er slået til."),
    "local_error": _(
        "Kanals egen database svarede ikke, mens opslaget blev gjort klar. "
        "Det tæller ikke som et forsøg; Kanal prøver igen om lidt."
    ),
    "late": _(
        "Opslaget nåede ikke ud inden for %(cutoff)s efter det planlagte "
        "tidspunkt og sendes ikke for sent af sig selv."
    ),
    "late_because": _(
        "Opslaget nåede ikke ud inden for %(cutoff)s efter det planlagte "
        "tidspunkt (%(why)s) og sendes ikke for sent af sig selv."
    ),
    "late_not_found": _(
        "Opslaget kom ikke ud, og det er nu for sent til at sende det af sig "
        "selv. Vælg 'Prøv igen nu', 'Flyt' eller 'Annullér'."
    ),
    "approval_withdrawn": _(
        "Godkendelsen af opslaget gælder ikke længere, så det sendes ikke."
    ),
    "unverifiable": _(
        "Kanal ved ikke, om opslaget kom ud, og netværket kan ikke svare på "
        "det. Tjek kanalen: er opslaget der, så marker det som udgivet med "
        "adressen; ellers vælg 'Prøv igen nu'."
    ),
    "duplicate_unresolved": _(
        "Netværket siger, at opslaget allerede findes: et tidligere forsøg kom "
        "sandsynligvis igennem. Kanal leder efter det og registrerer det; "
        "intet sendes igen. Ret ikke teksten."
    ),
    "sibling_post": _(
        "Kanal fandt kun et andet opslag med samme tekst på kontoen (fra en "
        "anden udgivelse), ikke dette. Kanal spørger netværket igen, før noget "
        "sendes."
    ),
    "sibling_exhausted": _(
        "Kanal kan ikke se, om opslaget kom ud: kontoen viser kun et andet "
        "opslag med samme tekst (fra en anden udgivelse). Tjek kanalen: ligger "
        "teksten der to gange, så marker dette som udgivet med adressen; ellers "
        "vælg 'Prøv igen nu'."
    ),
    "lookup_taken_back": _(
        "Kanal havde knyttet et andet opslag med samme tekst til denne "
        "udgivelse. Kanal tjekker hos netværket igen, før noget sendes."
    ),
    "unknown_outcome": _(
        "Netværket svarede ikke tydeligt, efter opslaget var sendt. Kanal "
        "tjekker, om det kom ud, før noget sendes igen."
    ),
    "unknown_exhausted": _(
        "Kanal fik ikke et klart svar fra netværket efter %(n)d forsøg og ved "
        "endnu ikke, om opslaget kom ud. Kanal bliver ved med at spørge "
        "netværket og sender intet igen, før svaret er klart. Er opslaget "
        "der, kan du markere det som udgivet."
    ),
    # The network's own Danish sentence (adapters write for the person who
    # must act); other languages frame it.
    "quota": pgettext_lazy("publication reason: quota", "%(why)s"),
    "quota_local": _(
        "Kontoens kvote på %(n)d opslag i døgnet er brugt. Opslaget venter og "
        "sendes, når der er plads (omkring %(at)s)."
    ),
    "auth": _(
        "Adgangen til kanalen er udløbet. En administrator skal forbinde "
        "kanalen igen; derefter sendes opslaget automatisk."
    ),
    "rejected": pgettext_lazy("publication reason: rejected", "%(why)s"),
    "transient": pgettext_lazy("publication reason: transient", "%(why)s"),
    "rate_limited": pgettext_lazy("publication reason: rate limited", "%(why)s"),
    "transient_exhausted": _(
        "Netværket svarede med fejl %(n)d gange i træk (%(why)s). Prøv igen "
        "senere med 'Prøv igen nu', eller flyt opslaget."
    ),
    "error": _(
        "Der skete en fejl i Kanal, før opslaget blev sendt (%(why)s). Intet "
        "blev sendt. Prøv igen, eller kontakt support."
    ),
    "lease_expired": _(
        "Udgivelsen blev afbrudt (arbejderen stoppede). Kanal tjekker hos "
        "netværket, om opslaget kom ud, før noget sendes igen."
    ),
    "lease_expired_unsent": _(
        "Udgivelsen blev afbrudt, før noget blev sendt (arbejderen stoppede). "
        "Kanal prøver igen med det samme."
    ),
    "channel_disabled": _(
        "Kanalen er slået fra. Slå den til igen, eller annullér opslaget."
    ),
    "channel_needs_reconnect": _(
        "Kanalen skal forbindes igen. Opslaget venter og sendes, når en "
        "administrator har forbundet den."
    ),
    "media_rights_expired": _(
        "Rettighederne til billedet eller videoen '%(name)s' er udløbet. "
        "Skift mediet, og planlæg opslaget igen."
    ),
}

#: What a fence refusal's ``why`` means, for the reason text.
FENCE_REASONS = {
    "lease_lost": _("en anden arbejder har overtaget den"),
    "withdrawn": _("godkendelsen er trukket tilbage"),
    "crisis": _("krisetilstand er slået til"),
    "channel": _("kanalen er ikke forbundet"),
    "gone": _("udgivelsen er ændret"),
}


#: Reasons that quote ``why`` inside parentheses (its full stop is dropped).
IN_PARENTHESES = frozenset({"transient_exhausted", "error", "late_because"})


def render_reason(code: str, params: dict | None) -> str:
    """The reason ``code`` with ``params`` in the active language ("" when
    the code has no text)."""
    template = REASONS.get(code or "")
    if template is None:
        return ""
    values = {}
    for name, value in (params or {}).items():
        if name in FORMATTERS:
            values[name] = FORMATTERS[name](value)
        elif name == "fence":
            values["why"] = str(FENCE_REASONS.get(value, value))
        elif name == "because":
            # An earlier reason, itself a code: rendered the same way.
            values["why"] = render_reason(value, params.get("because_params"))
        elif name == "why" and isinstance(value, str):
            values["why"] = network_sentence(value)
        else:
            values[name] = value
    if code in IN_PARENTHESES and isinstance(values.get("why"), str):
        values["why"] = values["why"].rstrip(" .")
    text = str(template)
    try:
        return text % values
    except (KeyError, TypeError, ValueError):
        # A reason stored without its values (older rows, a hand-made
        # state): the caller shows the stored text instead.
        return ""


def render_notification_reason(value) -> str:
    """A notification's ``why``: a reason code with values (rendered in the
    reader's language, the text as written when the code has none) or a
    network's own words (its Danish sentence in the reader's language when
    the catalogue has it)."""
    if isinstance(value, dict):
        return render_reason(value.get("code", ""), value.get("params")) or str(
            value.get("text", "")
        )
    return network_sentence(str(value))
