"""OUTSIDE TESTER 5a (branch tester5a): the conversation page under a storm
from the network. Each test names its finding (T5a-N)."""

from __future__ import annotations

import pytest

from kanal.inbox.models import ItemVersion

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def test_t5a_6_a_comment_edited_thousands_of_times_keeps_its_page(desk, client):
    """T5a-6: every edit of a comment is kept as a version, and the page
    drew every version of every item: a comment edited 3,000 times (a bot
    rewording its comment every few seconds; each edit is a webhook) made
    its conversation's page 5 MB and 7.7 seconds, and no bound. The page
    shows the original and the newest versions and says how many it left
    out (all are kept)."""
    page = _page_of_edited(desk, client, edits=300)
    assert "Første udgave" in page  # the original
    assert "Udgave nummer 300." in page  # the newest
    assert "Udgave nummer 2." not in page
    assert page.count("Udgave nummer ") < 30
    assert "281 udgaver mellem den oprindelige og de nyeste vises ikke" in page
    # The note stands between two lists, and the newest keep their numbers
    # (283 to 301), instead of counting on from the note as a list item.
    assert '<p class="muted">281 udgaver' in page
    assert '<ol start="283">' in page


def test_a_comment_edited_a_few_times_shows_every_version(desk, client):
    """T5a-6 (fixer): under the bound, every version is shown, in order."""
    page = _page_of_edited(desk, client, edits=3)
    shown = [page.index(t) for t in ("Første udgave", "Udgave nummer 1.",
                                    "Udgave nummer 2.", "Udgave nummer 3.")]
    assert shown == sorted(shown)
    assert "vises ikke" not in page


def _page_of_edited(desk, client, *, edits: int) -> str:
    """The conversation page of a comment "Første udgave" edited ``edits``
    times ("Udgave nummer 1." on), as the desk sees it."""
    item = citizen_item(desk["channel"], text="Første udgave")
    ItemVersion.objects.bulk_create([
        ItemVersion(item=item, change="edited", text=f"Udgave nummer {i}.")
        for i in range(1, edits + 1)])
    client.force_login(desk["editor"].user)
    return client.get(f"/indbakke/{item.conversation_id}/").content.decode()
