"""The house rules' warning count: one warning per comment that stands
hidden or deleted for a breach of the house rules. An unhide takes it back;
a hide for personal data (the guard's or a moderator's) protects the
citizen and is no warning."""

from __future__ import annotations

import pytest

from kanal.inbox import moderation
from kanal.inbox.models import Reason

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def _comment(desk, text="Køb billige solbriller her!!!"):
    return citizen_item(desk["channel"], text, author="Omar Khan")


@pytest.mark.parametrize(("steps", "count"), [
    ([("hide", "spam")], 1),
    ([("delete", "threats")], 1),
    ([("hide", "spam"), ("delete", "spam")], 1),
    ([("hide", "spam"), ("delete", "threats")], 1),
    ([("hide", "other"), ("unhide", "")], 0),
    ([("hide", "other"), ("unhide", ""), ("hide", "other")], 1),
    ([("hide", "other"), ("unhide", ""), ("hide", "spam"), ("unhide", "")], 0),
    ([("hide", "personal_data")], 0),
    ([("hide", "personal_data"), ("delete", "personal_data")], 0),
    # A comment hidden for personal data, then deleted for a threat in it.
    ([("hide", "personal_data"), ("delete", "threats")], 1),
    ([("hide", "spam"), ("unhide", ""), ("hide", "personal_data")], 0),
])
def test_one_comment_counts_at_most_one_warning(desk, steps, count):
    item = _comment(desk)
    for kind, reason in steps:
        moderation._record(item, actor=desk["editor"], kind=kind, reason=reason)
    assert moderation.warnings_for(item) == count


def test_every_house_rule_but_personal_data_is_a_warning(desk):
    counted = []
    for reason in Reason.values:
        item = _comment(desk, f"Kommentar {reason}")
        before = moderation.warnings_for(item)
        moderation._record(item, actor=desk["editor"], kind="hide", reason=reason)
        counted.append((reason, moderation.warnings_for(item) - before))
    assert dict(counted) == {r: int(r != Reason.PERSONAL_DATA) for r in Reason.values}


def test_warnings_add_up_over_comments_and_stop_at_other_authors(desk):
    first, second = _comment(desk), _comment(desk, "Og en gang til!!!")
    other = citizen_item(desk["channel"], "Spam", author="Freja Holm")
    for item in (first, second):
        moderation._record(item, actor=desk["editor"], kind="hide", reason="spam")
        moderation._record(item, actor=desk["editor"], kind="delete", reason="spam")
    moderation._record(other, actor=None, kind="hide", reason="personal_data")
    assert moderation.warnings_for(first) == 2
    assert moderation.warnings_for(other) == 0
    policy = moderation.warning_policy(first)
    assert (policy["count"], policy["limit"], policy["block"]) == (2, 3, False)


def test_the_moderation_help_says_what_a_warning_is(desk, client_for):
    item = _comment(desk)
    page = client_for(desk["editor"]).get(f"/indbakke/{item.conversation_id}/")
    text = page.content.decode()
    assert "Skjul for personoplysninger beskytter borgeren og er ingen advarsel" in (
        text)
    assert "Vises kommentaren igen, tæller den ikke." in text
