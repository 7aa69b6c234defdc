"""Kanal's own errors for everything that can go wrong talking to a network.

Adapters raise only these. Each carries a plain Danish message for the editor
(``message``) and, for support, what the network itself said (``network_code``,
``network_message``, ``http_status``). The publishing engine decides what to do
from the class alone:

- ``TransientError``: nothing was applied; safe to retry after ``retry_after``.
- ``RateLimited``: the network asks Kanal to slow down; retry after
  ``retry_after`` (or at ``reset_at``).
- ``QuotaExhausted``: a rolling publishing quota (Instagram, Threads) is used
  up; wait until ``reset_at``.
- ``AuthExpired``: the account's token is expired or revoked; the channel needs
  reconnecting by a person. Never retried automatically.
- ``Rejected``: the network refused this content for good (too long, duplicate,
  policy, invalid media). Retrying the same request cannot help.
  ``Duplicate`` (a ``Rejected``) is the network's duplicate refusal: the same
  content is already on the account. After an uncertain attempt it means "our
  own lost attempt got through": find the post and record it, never fail.
  ``existing_id`` is the remote id the network named, when it named one.
  ``RecipientGone`` (a ``Rejected``): the citizen a direct message answers
  has no account on the network any more.
- ``OutcomeUnknown``: the request was sent and the answer says nothing certain
  (no answer, a 5xx, or an unreadable or partial 2xx to a write that cannot be
  sent twice); the post may exist. Reconcile (``find_published``) before
  sending again.
- ``NotSupported``: the network (or this adapter) cannot do this at all.

``Fenced`` is not a network error: the caller's fence (``NetworkAdapter.fence``)
raises it before a write, and adapters let it pass untouched.
"""

from __future__ import annotations

from datetime import datetime


def gettext_noop(message: str) -> str:
    """Mark a Danish sentence for Kanal's catalogue and return it unchanged.

    ``makemessages`` collects every ``gettext_noop("…")`` as a msgid, and the
    Django side translates a network's sentence when it shows it
    (``kanal.channels.wording.network_sentence``). The network package imports
    nothing of Django, so the marker is this no-op of its own.
    """
    return message


#: An answer Kanal could not read or use (not JSON, nested too deep, an id
#: it cannot store) to a write: the network may have applied it.
UNREADABLE_AFTER_WRITE = gettext_noop(
    "Netværket sendte et svar, Kanal ikke kunne læse, efter opslaget var sendt. "
    "Kanal tjekker kontoen, før der sendes igen."
)
#: The same for a read, which is simply asked again.
UNREADABLE_ANSWER = gettext_noop(
    "Netværket sendte et svar, Kanal ikke kunne læse. Kanal prøver igen "
    "automatisk."
)


class NetworkError(Exception):
    """Base class: a failure talking to a social network."""

    default_message = gettext_noop("Netværket svarede med en fejl.")

    def __init__(
        self,
        message: str = "",
        *,
        network: str = "",
        network_code: str | int | None = None,
        network_message: str = "",
        http_status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.network = network
        self.network_code = network_code
        self.network_message = network_message
        self.http_status = http_status
        super().__init__(self.message)

    @property
    def support_detail(self) -> str:
        """What the network said, for support staff (never shown as the headline)."""
        parts = []
        if self.http_status:
            parts.append(f"HTTP {self.http_status}")
        if self.network_code not in (None, ""):
            parts.append(f"kode {self.network_code}")
        if self.network_message:
            parts.append(self.network_message)
        return " · ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.support_detail!r})"


class TransientError(NetworkError):
    default_message = gettext_noop(
        "Netværket havde en midlertidig fejl. Kanal prøver igen automatisk."
    )

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimited(TransientError):
    default_message = gettext_noop(
        "Netværket beder Kanal om at vente (for mange kald). "
        "Kanal prøver igen, når grænsen er nulstillet."
    )

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
        **kw,
    ):
        super().__init__(message, retry_after=retry_after, **kw)
        self.reset_at = reset_at


class QuotaExhausted(RateLimited):
    default_message = gettext_noop(
        "Kontoens udgivelseskvote for det seneste døgn er brugt op. "
        "Opslaget venter, til der er plads i kvoten igen."
    )


class AuthExpired(NetworkError):
    default_message = gettext_noop(
        "Adgangen til kontoen er udløbet eller trukket tilbage. "
        "En administrator skal forbinde kanalen igen."
    )


class Rejected(NetworkError):
    default_message = (
        gettext_noop("Netværket afviste opslaget. Ret indholdet og prøv igen.")
    )


class Duplicate(Rejected):
    """The network refused the post as a duplicate of one already there.

    ``existing_id`` is the remote id of the existing post when the network
    named it (LinkedIn's ``DUPLICATE_POST`` names the URN; X, Facebook and the
    others do not), else "".
    """

    default_message = gettext_noop(
        "Netværket afviste opslaget, fordi det samme indhold allerede ligger "
        "på kontoen. Tjek kontoen, før det sendes igen."
    )

    def __init__(self, message: str = "", *, existing_id: str = "", **kw) -> None:
        super().__init__(message, **kw)
        self.existing_id = existing_id


class RecipientGone(Rejected):
    """The citizen a direct message answers is no longer on the network:
    their account is deleted, or the network knows no such person any more
    (Messenger's and Instagram's "No matching user found", X's "not a valid
    user"). Nothing was sent, and sending again cannot help."""

    default_message = gettext_noop(
        "Borgerens konto findes ikke længere på netværket, så beskeden kan "
        "ikke sendes. Der er ingen at svare."
    )


class OutcomeUnknown(NetworkError):
    default_message = gettext_noop(
        "Netværket svarede ikke, efter opslaget var sendt. Kanal tjekker, "
        "om det kom ud, før der sendes igen."
    )


class NotSupported(NetworkError):
    default_message = gettext_noop("Netværket understøtter ikke denne handling.")


class Fenced(Exception):
    """The caller may no longer write (lease lost, approval withdrawn, crisis).

    Raised by the caller's ``before_write`` hook, never by the network; nothing
    was sent for the write it stopped.
    """

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        super().__init__(reason or "fenced")


#: A like or unlike the network answered without confirming it (an answer is
#: untrusted). A like is idempotent, so sending it again is safe.
LIKE_UNCONFIRMED = gettext_noop(
    "Netværket bekræftede ikke, at synes godt om blev sat eller fjernet. "
    "Prøv igen; det giver ikke to."
)
