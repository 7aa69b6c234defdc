"""OUTSIDE TESTER 2 (branch tester2): failing tests for the Meta webhook's
events out of order and their times. Each test names its finding in
/work/briefs/findings2.md. They fail on main as of 39dbe77."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kanal.inbox import intake, meta
from kanal.inbox.models import InboxItem

from .conftest import fb_comment

pytestmark = pytest.mark.django_db

T0 = 1_780_000_000


def test_finding_8_hide_and_unhide_out_of_order_end_as_the_network_shows(deliver):
    """Finding 8: hide/unhide events are applied in arrival order, not by
    their time. Meta hid a comment (T0+50) and it was shown again (T0+100);
    the deliveries arrive unhide first, hide second (retries make this
    normal). Kanal ends with the comment hidden, while the network shows it:
    the desk thinks it is dealt with and the personal-data guard skips it."""
    deliver(
        fb_comment(),
        fb_comment(verb="unhide", when=T0 + 100),
        fb_comment(verb="hide", when=T0 + 50))
    assert InboxItem.objects.get().hidden_on_network is False


def test_finding_8_a_deletion_before_the_comment_records_no_false_edit(deliver):
    """Finding 8: a ``remove`` (no message, as Meta sends it) arriving before
    the comment's ``add`` stores an original version with an empty text;
    the ``add`` then becomes an *Ændret* version with the comment's text
    and ``edited_at``: the record (and the records app, which captures
    versions) says the citizen edited a comment nobody edited."""
    deliver(
        fb_comment(verb="remove", text="", when=T0 + 900),
        fb_comment(text="Hvornår åbner det?"))
    item = InboxItem.objects.get()
    assert item.edited_at is None
    assert list(item.versions.order_by("network_time").values_list(
        "change", "text")) == [("original", "Hvornår åbner det?"),
                              ("deleted", "")]


def test_finding_8_a_comment_deleted_before_kanal_saw_it_is_not_due(deliver):
    """Finding 8: a comment Kanal first learns of by its deletion opens a
    *Ny* conversation with a response target: it goes overdue and the desk
    is notified about a comment that no longer exists and cannot be
    answered."""
    now = int(datetime.now(UTC).timestamp())
    deliver(fb_comment(verb="remove", text="", created=now - 60, when=now))
    conversation = InboxItem.objects.get().conversation
    assert conversation.due_at is None or conversation.status not in (
        "new", "assigned", "waiting")


@pytest.mark.parametrize("stamp", [4_102_444_800, 0])  # 2100, 1970
def test_finding_9_a_numeric_time_is_bounded_like_a_text_one(stamp):
    """Finding 9: ``meta._time`` refuses an ISO time outside 2004..next year
    (the fix of the last tester's finding), but a Unix number is taken as
    it is. An ``edited``/``remove``/``hide`` event's time is the entry's
    ``time``: an edit stamped 2100 stays the newest version forever (every
    real later edit is hidden behind it) and a deletion shows "slettet
    2100"."""
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    as_text = datetime.fromtimestamp(stamp, UTC).isoformat()
    assert meta._time(as_text, now) == now  # refused as text ...
    assert meta._time(stamp, now) == now  # ... and as a number


def test_finding_9_an_edit_stamped_in_2100_does_not_hide_later_edits(deliver):
    """Finding 9, end to end: the newest real edit must be the text shown."""
    now = int(datetime.now(UTC).timestamp())
    deliver(
        fb_comment(text="Først", created=now - 600, when=now - 600),
        fb_comment(text="Rettet med et forkert ur", verb="edited", when=4_102_444_800))
    deliver(fb_comment(text="Rettet igen", verb="edited", when=now + 60))
    item = InboxItem.objects.get()
    assert item.text == "Rettet igen"


def test_finding_19_a_private_message_with_a_cpr_is_not_called_a_comment_to_hide(
    post_webhook, facebook_channel, member
):
    """Finding 19: the personal-data guard treats a Messenger message like
    a public comment. Citizens send their CPR number privately on purpose
    (to Borgerservice); every such message e-mails every moderator "en
    borger skrev CPR-nummer i en kommentar. Kanal kunne ikke skjule den:
    skjul eller slet den på netværket nu": a private message called a
    comment, and an order to hide or delete what cannot and need not be
    hidden."""
    from kanal.inbox.models import InboxSettings
    from kanal.notifications.kinds import render
    from kanal.notifications.models import Notification
    from kanal.organisations.roles import Role

    InboxSettings.objects.create(organisation=facebook_channel.organisation,
                                 hide_personal_data=True)
    member(Role.EDITOR)
    post_webhook("facebook", {"object": "page", "entry": [{
        "id": facebook_channel.remote_id, "time": T0,
        "messaging": [{"sender": {"id": "u9"},
                       "recipient": {"id": facebook_channel.remote_id},
                       "timestamp": T0 * 1000,
                       "message": {"mid": "m_9",
                                   "text": "Mit CPR er 120385-1234, jeg mangler "
                                           "mit sundhedskort"}}]}]})
    intake.process_deliveries()
    assert InboxItem.objects.get().personal_data == ["cpr"]
    for note in Notification.objects.filter(kind="inbox_personal_data"):
        text = render(note.kind, note.params)
        assert "kommentar" not in text and "på netværket nu" not in text, text
