"""Standard answers and referral templates filled in for a citizen's item:
the variables a kept text may hold, the ones Kanal cannot fill, and the
citizen's first name as a plain name only."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from kanal import untrusted

from .models import (
    AssignmentRule,
    InboxItem,
    InboxSettings,
    ReferralTemplate,
    StandardAnswer,
)

#: The variables a standard answer or referral template may hold
#: (``fill_standard_answer`` fills them in).
TEMPLATE_VARIABLES = ("fornavn", "kanalnavn", "forvaltningsnavn")
#: A ``{…}`` (or a brace left open to the end, or a lone closing brace).
_BRACED = re.compile(r"\{[^{}]*\}?|\}")


def unknown_variables(text: str) -> list[str]:
    """Every ``{…}`` in a kept text that Kanal cannot fill: a name it does
    not know (``{navn}``, ``{Fornavn}``), a brace left open (``{fornavn``,
    shown to its first word) or a lone closing brace."""
    return braced(text, known=TEMPLATE_VARIABLES)


def braced(text: str, *, known=()) -> list[str]:
    """Every ``{…}``, open brace or lone closing brace in ``text`` but the
    ``known`` variables, each shown to its first word (at most 40
    characters)."""
    found_all = []
    for match in _BRACED.finditer(text or ""):
        found = match.group()
        if found.endswith("}") and found[1:-1] in known:
            continue
        shown = found.split()[0] if found.split() else found
        found_all.append(shown[:40])
    return found_all


def known_variables() -> str:
    return ", ".join("{" + name + "}" for name in TEMPLATE_VARIABLES)


def fill_standard_answer(answer: StandardAnswer | ReferralTemplate,
                         item: InboxItem) -> str:
    """The standard answer's (or referral template's) text with its
    variables filled in for ``item``; a referral names its own
    administration where it has one.

    ``{fornavn}`` is the citizen's first name as a plain name only
    (``first_name``): the name is whatever the citizen chose on the
    network, and the answer goes out from the organisation's account, so a
    handle, a link, a hashtag or markup never gets into it. Without such a
    name the variable is left out with the space before it ("Hej.").
    """
    conversation = item.conversation
    administration = (getattr(answer, "administration", None)
                      or conversation.assigned_administration)
    values = {
        "fornavn": first_name(item.author_name),
        "kanalnavn": conversation.channel.display_name,
        "forvaltningsnavn": administration.name if administration else "",
    }
    text = answer.text
    for name, value in values.items():
        if not value:
            text = re.sub(r"[ \t]*\{" + name + r"\}", "", text)
        text = text.replace("{" + name + "}", value)
    return text


def footer_problem(settings_row: InboxSettings | None) -> str:
    """The first ``{…}`` (or brace) in the organisation's guidance footer,
    or "": the footer is never filled in, so one kept before the settings
    form refused them (or changed in the database) would reach citizens as
    written."""
    if settings_row is None:
        return ""
    found = braced(settings_row.footer_text)
    return found[0] if found else ""


@dataclass(frozen=True)
class StoredProblem:
    """A kept text that no longer passes its check: what it is (``kind``,
    shown), its ``title``, the first ``variable`` Kanal cannot fill and
    ``url``, where it is put right."""

    kind: str
    title: str
    variable: str
    url: str


def stored_problems(organisation_id: int) -> list[StoredProblem]:
    """Every text the organisation keeps for answers that its form would
    refuse now (saved before the check, or changed in the database): the
    guidance footer with a brace, a standard answer or referral template
    with a variable Kanal cannot fill, an assignment rule whose keyword
    reads as nothing. Answers using them are refused when sent
    (``replies.reply_to_item``), such a rule matches nothing
    (``AssignmentRule.matches``); the settings page lists them."""
    found = []
    row = InboxSettings.objects.filter(organisation_id=organisation_id).first()
    variable = footer_problem(row)
    if variable:
        found.append(StoredProblem(_("Vejledningstekst"), _("Vejledningstekst"),
                                   variable, reverse("inbox:settings")))
    for model, kind, edit in (
            (StandardAnswer, _("Standardsvar"), "inbox:standard_answer_edit"),
            (ReferralTemplate, _("Henvisning"), "inbox:referral_edit")):
        for pk, title, text in model.objects.filter(
                Q(text__contains="{") | Q(text__contains="}"),
                organisation_id=organisation_id).values_list("pk", "title", "text"):
            unknown = unknown_variables(text)
            if unknown:
                found.append(StoredProblem(kind, title, unknown[0],
                                           reverse(edit, args=[pk])))
    for pk, keyword in AssignmentRule.objects.filter(
            organisation_id=organisation_id).exclude(keyword="").values_list(
            "pk", "keyword"):
        if not untrusted.as_read(keyword):
            found.append(StoredProblem(
                _("Tildelingsregel"), _("Tildelingsregel"),
                _("et nøgleord uden synlige tegn (reglen tildeler intet)"),
                reverse("inbox:settings") + f"#regel-{pk}"))
    return found


#: Characters that join the parts of a name (Anne-Marie, D'Angelo, O’Brien).
NAME_JOINERS = "-'’"
FIRST_NAME_LIMIT = 40


def first_name(author_name: str) -> str:
    """The first word of ``author_name`` when it is a plain name, else "".

    A plain name is letters (any script, with their combining marks) joined
    by a hyphen or an apostrophe; punctuation or an emoji after it is left
    off ("Mette," and "Mette🌸" give "Mette"). A word that starts with
    anything else (@handle, #tag, a link, markup) or holds anything else
    (borgmester_kbh, svindel.dk, https://…) is no name: nothing is used.
    """
    words = (author_name or "").split()
    if not words:
        return ""
    word = words[0]
    while word and not _is_letter(word[-1]):
        word = word[:-1]
    if not word or len(word) > FIRST_NAME_LIMIT or not _is_letter(word[0]):
        return ""
    for before, char in pairwise(word):
        if char in NAME_JOINERS:
            if before in NAME_JOINERS:
                return ""
        elif not (_is_letter(char) or unicodedata.category(char).startswith("M")):
            return ""
    return word


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")
