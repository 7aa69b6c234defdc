"""Every kind of notification: its one Danish wording (translated in the
catalogue), its name on the preferences page, and whether it comes by e-mail
unless the member chose otherwise.

A notification stores a kind's code and its parameters; the sentence is made
when someone reads it, in the reader's language (``render``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kanal.core.formatting import when


@dataclass(frozen=True)
class Kind:
    code: str
    label: Promise
    wording: Promise
    by_email: bool


#: The groups on the preferences page, in order.
FAILURES = _("Fejl og kanaler")
CRISIS = _("Krise")
PLANNING = _("Planlægning og godkendelse")
YOUR_POSTS = _("Dine opslag")
INBOX = _("Indbakke")
REPORTS = _("Rapporter")

KINDS: dict[str, Kind] = {}
GROUPS: dict[str, Promise] = {}


def _kind(group, code, label, wording, *, by_email) -> None:
    KINDS[code] = Kind(code, label, wording, by_email)
    GROUPS[code] = group


# Failures: someone must act, so they come by e-mail.
_kind(
    FAILURES,
    "publication_failed",
    _("En udgivelse fejlede"),
    _("%(channel)s: opslaget blev ikke udgivet. %(why)s"),
    by_email=True,
)
_kind(
    FAILURES,
    "publication_missed",
    _("En udgivelse nåede ikke ud"),
    _("%(channel)s: opslaget blev ikke udgivet til tiden. %(why)s"),
    by_email=True,
)
_kind(
    FAILURES,
    "publication_unknown",
    _("Kanal ved ikke, om en udgivelse kom ud"),
    _("%(channel)s: Kanal ved ikke, om opslaget kom ud. %(why)s"),
    by_email=True,
)
_kind(
    FAILURES,
    "publication_duplicate",
    _("Et opslag ligger der to gange"),
    _(
        "%(channel)s: opslaget ligger der to gange (det andet: %(url)s). Slet "
        "det ene på kontoen."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "channel_needs_reconnect",
    _("En kanal skal forbindes igen"),
    _(
        "%(channel)s skal forbindes igen: adgangen er udløbet. Planlagte opslag "
        "venter, til kanalen er forbundet."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "token_refresh_failed",
    _("En kanals adgang kunne ikke fornyes"),
    _(
        "%(channel)s: adgangen kunne ikke fornyes. En administrator skal "
        "forbinde kanalen igen, ellers udgives der ikke på den."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "token_refresh_refused",
    _("En kanals adgang udløber snart"),
    _(
        "%(channel)s: Kanal kunne ikke forny adgangen (%(why)s). Den nuværende "
        "adgang virker til %(at)s. Forbind kanalen igen inden da, ellers stopper "
        "udgivelserne på den."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "inbox_messages_denied",
    _("En kanal må ikke læse private beskeder"),
    _(
        "%(channel)s: netværket giver ikke Kanal lov til at læse private "
        "beskeder (tilladelsen %(permission)s mangler), så de kommer ikke i "
        "indbakken. Kommentarer og omtaler hentes stadig. En administrator "
        "skal forbinde kanalen igen og give tilladelsen."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "inbox_mention_denied",
    _("En kanal må ikke læse omtaler"),
    _(
        "%(channel)s: netværket giver ikke Kanal lov til at læse en omtale af "
        "kontoen (%(why)s), så den kommer ikke i indbakken. Intet er slettet, og "
        "Kanal prøver igen. En administrator skal forbinde kanalen igen og give "
        "tilladelsen."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "inbox_mention_gave_up",
    _("En omtale kunne ikke hentes"),
    _(
        "%(channel)s: en omtale af kontoen kunne ikke hentes fra netværket i "
        "%(days)s dage (%(why)s), så Kanal har opgivet den, og den kommer ikke i "
        "indbakken. Læs den i netværkets egen app."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "first_comment_failed",
    _("En første kommentar kom ikke med"),
    _(
        "%(channel)s: den første kommentar kom ikke med (%(why)s). Skriv den "
        "selv på opslaget."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "first_comment_unsure",
    _("En første kommentar er usikker"),
    _(
        "%(channel)s: Kanal ved ikke, om den første kommentar kom med "
        "(netværket svarede ikke tydeligt). Tjek opslaget, og skriv den selv, "
        "hvis den mangler."
    ),
    by_email=True,
)
_kind(
    FAILURES,
    "first_comment_crisis",
    _("En første kommentar blev holdt tilbage"),
    _(
        "%(channel)s: den første kommentar blev ikke sendt, fordi krisetilstand "
        "blev slået til. Skriv den selv på opslaget, hvis den stadig passer."
    ),
    by_email=True,
)
# Crisis: the crisis leads must know at once.
_kind(
    CRISIS,
    "crisis_started",
    _("Krisetilstand slået til"),
    _(
        "Krisetilstand er slået til af %(name)s: %(reason)s. Planlagte opslag "
        "på de berørte kanaler er sat på pause."
    ),
    by_email=True,
)
_kind(
    CRISIS,
    "crisis_ended",
    _("Krisetilstand slået fra"),
    _(
        "Krisetilstand er slået fra af %(name)s. Se de opslag, der var sat på "
        "pause, og vælg hvad der skal ske med dem."
    ),
    by_email=True,
)
_kind(
    CRISIS,
    "pin_failed",
    _("En krisebesked kunne ikke fastgøres"),
    _(
        "%(channel)s: krisebeskeden kunne ikke fastgøres (%(why)s). Fastgør den "
        "selv på kontoen."
    ),
    by_email=True,
)
_kind(
    CRISIS,
    "unpin_failed",
    _("En krisebesked kunne ikke løsnes"),
    _(
        "%(channel)s: krisebeskeden kunne ikke løsnes (%(why)s). Prøv igen fra "
        "kriseside, eller løsn den på netværket."
    ),
    by_email=True,
)
# The author's own posts: good news in the app only unless the member asks;
# a post that did not (fully) go out comes by e-mail.
_kind(
    YOUR_POSTS,
    "post.published",
    _("Dit opslag er udgivet"),
    _("Dit opslag er udgivet: %(title)s"),
    by_email=False,
)
_kind(
    YOUR_POSTS,
    "post.failed",
    _("Dit opslag blev ikke udgivet"),
    _(
        "Dit opslag «%(title)s» blev ikke udgivet. Se hvorfor på opslaget, og "
        "send det igen eller vælg en ny tid."
    ),
    by_email=True,
)
_kind(
    YOUR_POSTS,
    "post.partially_published",
    _("Dit opslag er delvist udgivet"),
    _(
        "Dit opslag «%(title)s» er kun udgivet på nogle af kanalerne. Se hvorfor "
        "på opslaget."
    ),
    by_email=True,
)
# Planning and approval: the next person in the flow must act.
_kind(
    PLANNING,
    "proposal.created",
    _("Nyt forslag"),
    _("Nyt forslag fra %(code)s: %(title)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "proposal.resubmitted",
    _("Forslag sendt igen"),
    _("Forslaget er rettet og sendt igen: %(title)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "proposal.accepted",
    _("Dit forslag er taget med"),
    _("Dit forslag er taget med i planen: %(title)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "proposal.changes_requested",
    _("Ændringer ønsket i dit forslag"),
    _(
        "Redaktionen beder om ændringer i dit forslag: %(title)s. Begrundelse: "
        "%(reason)s"
    ),
    by_email=True,
)
_kind(
    PLANNING,
    "proposal.declined",
    _("Dit forslag er afvist"),
    _("Dit forslag er afvist: %(title)s. Begrundelse: %(reason)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "post.submitted",
    _("Opslag venter på godkendelse"),
    _("Opslag venter på din godkendelse: %(title)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "post.returned_to_review",
    _("Opslag ændret efter godkendelse"),
    _("Opslaget er ændret efter godkendelse og skal godkendes igen: %(title)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "post.approved",
    _("Opslag godkendt"),
    _("Opslaget er godkendt og planlagt: %(title)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "post.rejected",
    _("Opslag sendt retur"),
    _("Opslaget er sendt retur: %(title)s. %(reason)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "comment.created",
    _("Ny kommentar"),
    _("%(name)s kommenterede «%(title)s»: %(body)s"),
    by_email=True,
)
_kind(
    PLANNING,
    "post.approval_due",
    _("Opslag mangler godkendelse"),
    _(
        "«%(title)s» skal udgives %(when)s men er ikke godkendt. Uden "
        "godkendelse bliver det ikke udgivet."
    ),
    by_email=True,
)
_kind(
    PLANNING,
    "post.missed",
    _("Opslag ikke godkendt i tide"),
    _(
        "«%(title)s» blev ikke udgivet, fordi det ikke var godkendt og "
        "planlagt til tiden. Vælg en ny tid og send det til godkendelse."
    ),
    by_email=True,
)
# Sources: a post was made from a feed's item, and the item changed after.
_kind(
    PLANNING,
    "source.item_changed",
    _("En begivenhed er ændret efter, at der er lavet et opslag om den"),
    _(
        "«%(title)s» er ændret i kilden %(source)s, men der er allerede lavet et "
        "opslag om den. Tjek tid, sted og tekst i opslaget."
    ),
    by_email=True,
)
_kind(
    PLANNING,
    "source.item_cancelled",
    _("En begivenhed er aflyst efter, at der er lavet et opslag om den"),
    _(
        "«%(title)s» er aflyst eller fjernet i kilden %(source)s, men der er "
        "allerede lavet et opslag om den. Annuller eller ret opslaget."
    ),
    by_email=True,
)

_kind(
    INBOX,
    "reply_failed",
    _("Et svar kom ikke ud"),
    _("%(channel)s: svaret til borgeren blev ikke sendt (%(why)s). Prøv igen "
      "fra indbakken, eller svar direkte på netværket."),
    by_email=True,
)
_kind(
    INBOX,
    "reply_parent_gone",
    _("Et svar blev ikke sendt: kommentaren er slettet"),
    _("%(channel)s: svaret blev ikke sendt, fordi borgeren har slettet "
      "kommentaren, før svaret kom ud. Der er intet at svare på; svarets "
      "tekst er gemt her."),
    by_email=False,
)
_kind(
    INBOX,
    "reply_recipient_gone",
    _("En besked blev ikke sendt: borgerens konto findes ikke længere"),
    _("%(channel)s: beskeden blev ikke sendt, fordi borgerens konto ikke "
      "findes længere på netværket. Der er ingen at svare; svarets tekst er "
      "gemt her."),
    by_email=False,
)
_kind(
    INBOX,
    "reply_channel_disabled",
    _("Et svar kom ikke ud: kanalen er slået fra"),
    _("%(channel)s: svaret til borgeren blev ikke sendt, fordi kanalen blev "
      "slået fra, før det kom ud. Svar direkte på netværket, hvis det stadig "
      "er relevant."),
    by_email=True,
)
_kind(
    INBOX,
    "reply_unsure",
    _("Et svar er usikkert"),
    _("%(channel)s: Kanal ved ikke, om svaret til borgeren kom ud (netværket "
      "svarede ikke tydeligt). Tjek kommentaren, og svar selv, hvis svaret "
      "mangler."),
    by_email=True,
)
_kind(
    INBOX,
    "inbox_assigned",
    _("Henvendelse tildelt"),
    _("En henvendelse på %(channel)s er tildelt %(administration)s. Svar den "
      "inden for svarfristen."),
    by_email=True,
)
_kind(
    INBOX,
    "inbox_mentioned",
    _("Nævnt i en note"),
    _("%(who)s nævnte dig i en intern note på en henvendelse."),
    by_email=False,
)
_kind(
    INBOX,
    "inbox_personal_data",
    _("Personoplysninger i en kommentar"),
    _("%(channel)s: en borger skrev %(privacy_kinds)s i en kommentar. "
      "%(privacy_step)s"),
    by_email=True,
)
_kind(
    INBOX,
    "inbox_overdue",
    _("Henvendelse over svarfristen"),
    _("En henvendelse på %(channel)s skulle have været besvaret %(when)s. "
      "Svar den nu, eller marker at den ikke kræver svar."),
    by_email=True,
)

# Reports a member subscribed to (insights): the subscription is the choice.
_kind(
    REPORTS,
    "report_ready",
    _("En rapport, du abonnerer på, er klar"),
    _("%(report_cadence)s for %(report_period)s er klar. Den er vedhæftet "
      "e-mailen og kan "
      "hentes i Kanal."),
    by_email=True,
)


#: Renderers for parameters whose value is itself text to translate (a
#: failure's reason is a code with values). An app above registers one at
#: start (``register_param``): this app does not import it.
PARAM_RENDERERS: dict[str, Callable[[Any], str]] = {}
#: Parameters holding a moment: shown in the reader's zone and language.
MOMENTS = frozenset({"at", "when"})


def register_param(name: str, renderer: Callable[[Any], str]) -> None:
    """Render the parameter ``name`` with ``renderer`` at read time."""
    PARAM_RENDERERS[name] = renderer


def _moment(value) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value)
    return when(moment, "datetime")


def render(code: str, params: dict) -> str:
    """The sentence for ``code`` with ``params`` in the active language.

    Rows carried over from before notifications were stored as codes keep
    their sentence as it was written (``params["text"]``)."""
    kind = KINDS.get(code)
    values: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name in PARAM_RENDERERS:
            values[name] = PARAM_RENDERERS[name](value)
        elif name in MOMENTS:
            values[name] = _moment(value)
        else:
            values[name] = value
    if kind is not None:
        try:
            return (str(kind.wording) % values).strip()
        except (KeyError, TypeError, ValueError):
            pass
    return str((params or {}).get("text", ""))
