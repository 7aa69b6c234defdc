"""The networks' problems and counting rules in the reader's language.

``kanal.channels.networks`` imports nothing of Django, so an adapter cannot
translate: each ``ValidationProblem`` carries a ``code`` with ``limit``,
``actual`` and ``params`` (Danish ``message`` only for logs and for a code
this module does not know yet). ``problem_text`` words it here, with gettext;
``test_wording`` fails when an adapter emits a code without a wording.
"""

from __future__ import annotations

import dataclasses

from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Network
from .networks import errors, rules

#: How each network counts, in words for the person writing.
COUNTING = {
    "x": _("vægtede tegn (et link tæller 23, en emoji 2)"),
    "bluesky": _("grafemer"),
    "mastodon": _("tegn (et link tæller 23)"),
    "threads": _("tegn (en emoji tæller som sine bytes)"),
    "facebook": _("tegn"),
    "linkedin": _("tegn"),
    "instagram": _("tegn"),
}

#: code → wording: the networks' rules (``networks.rules.WORDINGS``, marked
#: there with ``gettext_noop``, translated here).
WORDINGS = rules.WORDINGS


def _number(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return number_format(value, decimal_pos=1, use_l10n=True)
    if isinstance(value, int):
        return number_format(value, use_l10n=True, force_grouping=value >= 10000)
    return str(value)


def problem_text(problem, network: str) -> str:
    """``problem`` worded for the reader (its Danish ``message`` when its code
    has no wording here)."""
    wording = WORDINGS.get(problem.code)
    if wording is None:
        return problem.message
    values = rules.wording_values(
        problem.code,
        network=Network(network).label if network in Network.values else network,
        limit=problem.limit, actual=problem.actual,
        params=getattr(problem, "params", None), shown=_number,
    )
    try:
        return gettext(wording) % values
    except (KeyError, ValueError, TypeError):
        return problem.message


def worded(problems, network: str) -> list:
    """The problems with their ``message`` in the reader's language."""
    return [
        dataclasses.replace(p, message=problem_text(p, network)) for p in problems
    ]


def network_sentence(text: str) -> str:
    """A network's Danish sentence (an error an adapter raised, kept on the
    channel or the publication) in the reader's language, when the catalogue
    has it; adapters mark theirs with ``networks.errors.gettext_noop``."""
    return gettext(text) if text else ""


def direct_failure(error: Exception) -> str:
    """What a person is told when a network call they made directly (a hide,
    a delete, a like: no worker sends it again) failed, in their language.

    A network error's own sentence is written for the publishing worker and
    may promise that Kanal tries again by itself; for a direct call nothing
    does, so a temporary failure, a throttle or an answer that never came
    gets its own sentence here."""
    if isinstance(error, errors.RateLimited):
        return gettext("Netværket beder Kanal om at vente (for mange kald). "
                       "Prøv igen om lidt.")
    if isinstance(error, errors.OutcomeUnknown):
        return gettext("Netværket svarede ikke sikkert, så Kanal ved ikke, om "
                       "det lykkedes. Se efter på netværket, og prøv igen.")
    if isinstance(error, errors.TransientError):
        return gettext("Netværket havde en midlertidig fejl. Prøv igen om lidt.")
    return network_sentence(getattr(error, "message", "") or str(error))
