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


def test_t3_5_one_comment_hidden_then_deleted_is_one_warning(desk):
    """T3-5: ``warnings_for`` counts every hide and delete with a reason.
    A moderator hides a spam comment, then deletes it: the author now has
    two warnings for one comment, and with the default policy (blocked at
    3) one more comment blocks them."""
    item = citizen_item(desk["channel"], "Køb billige solbriller her!!!",
                        author="Omar Khan")
    moderation._record(item, actor=desk["editor"], kind="hide", reason="spam")
    moderation._record(item, actor=desk["editor"], kind="delete", reason="spam")
    assert moderation.warnings_for(item) == 1


def test_t3_5_a_hide_undone_at_once_is_no_warning(desk):
    """T3-5: a comment hidden by mistake and shown again keeps its warning:
    ``unhide`` cancels nothing, and the page still says "Afsenderen har 1
    advarsel" (and hide/unhide/hide counts 2)."""
    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?",
                        author="Omar Khan")
    moderation._record(item, actor=desk["editor"], kind="hide", reason="other")
    moderation._record(item, actor=desk["editor"], kind="unhide", reason="")
    assert moderation.warnings_for(item) == 0


def test_t3_6_the_guards_hide_of_a_citizens_own_cpr_is_no_warning(desk):
    """T3-6: the personal-data guard hides a comment in which a citizen
    wrote their own CPR number (``actor=None``, reason ``personal_data``)
    to protect them; it is counted as a breach of the house rules like spam
    or threats, so a citizen who twice asks Borgerservice about their own
    case is one comment from being blocked."""
    item = citizen_item(desk["channel"], "Mit cpr er 120385-1234, hvor er mit kort?",
                        author="Mette Hansen")
    moderation._record(item, actor=None, kind="hide", reason="personal_data")
    assert moderation.warnings_for(item) == 0
