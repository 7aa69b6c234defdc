"""OUTSIDE TESTER 3 (branch tester3): failing tests for the house rules'
warning count. Each test names its finding (T3-N) in
/work/briefs/tester3-findings.md. They record moderation the way
``moderation.moderate_item`` does once the network did it (``_record``), so
no network is needed."""

from __future__ import annotations

import pytest

from kanal.inbox import moderation

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def _moderated(desk, text, *steps, author="Omar Khan"):
    """A citizen's item on the desk's channel with each ``(kind, reason)``
    of ``steps`` recorded (by the editor; by the guard where ``reason`` is
    ``personal_data``)."""
    item = citizen_item(desk["channel"], text, author=author)
    for kind, reason in steps:
        actor = None if reason == "personal_data" else desk["editor"]
        moderation._record(item, actor=actor, kind=kind, reason=reason)
    return item


def test_t3_5_one_comment_hidden_then_deleted_is_one_warning(desk):
    """T3-5: ``warnings_for`` counts every hide and delete with a reason.
    A moderator hides a spam comment, then deletes it: the author now has
    two warnings for one comment, and with the default policy (blocked at
    3) one more comment blocks them."""
    item = _moderated(desk, "Køb billige solbriller her!!!",
                      ("hide", "spam"), ("delete", "spam"))
    assert moderation.warnings_for(item) == 1


def test_t3_5_a_hide_undone_at_once_is_no_warning(desk):
    """T3-5: a comment hidden by mistake and shown again keeps its warning:
    ``unhide`` cancels nothing, and the page still says "Afsenderen har 1
    advarsel" (and hide/unhide/hide counts 2)."""
    item = _moderated(desk, "Hvornår åbner svømmehallen?",
                      ("hide", "other"), ("unhide", ""))
    assert moderation.warnings_for(item) == 0


def test_t3_6_the_guards_hide_of_a_citizens_own_cpr_is_no_warning(desk):
    """T3-6: the personal-data guard hides a comment in which a citizen
    wrote their own CPR number (``actor=None``, reason ``personal_data``)
    to protect them; it is counted as a breach of the house rules like spam
    or threats, so a citizen who twice asks Borgerservice about their own
    case is one comment from being blocked."""
    item = _moderated(desk, "Mit cpr er 120385-1234, hvor er mit kort?",
                      ("hide", "personal_data"), author="Mette Hansen")
    assert moderation.warnings_for(item) == 0
