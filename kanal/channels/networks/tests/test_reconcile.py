"""The lower time bound of a lookup, matching by checkpointed ids, and
looking a lost reply up."""

from datetime import UTC, datetime, timedelta

import pytest

from kanal.channels.networks import reconcile
from kanal.channels.networks.errors import TransientError

SINCE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_the_offset_measured_at_the_write_bounds_a_post_after_a_clock_step():
    # The network was 5 min behind at the write (its answer just before said
    # so); now, after an NTP step, it is 5 min ahead. The post carries the
    # old clock: the bound follows the write's offset, not the latest one.
    floor = reconcile.network_floor(SINCE, 5 * MIN, at_write=-5 * MIN)
    post_stamp = SINCE - 5 * MIN + timedelta(seconds=2)
    assert floor <= post_stamp
    assert floor == SINCE - 5 * MIN - reconcile.KNOWN_OFFSET_SLACK


def test_a_clock_that_stepped_back_since_the_write_lowers_the_bound():
    assert reconcile.network_floor(SINCE, -7 * MIN, at_write=3 * MIN) == (
        SINCE - 7 * MIN - reconcile.KNOWN_OFFSET_SLACK)


def test_without_the_write_offset_the_slack_is_wide_enough_for_a_step():
    # Only the latest answer is known: the clock may have stepped since the
    # write, so the wide slack applies around it.
    floor = reconcile.network_floor(SINCE, 5 * MIN)
    assert floor == SINCE + 5 * MIN - reconcile.UNKNOWN_OFFSET_SLACK
    assert floor <= SINCE - 5 * MIN - 10 * MIN
    assert reconcile.network_floor(SINCE, None) == (
        SINCE - reconcile.UNKNOWN_OFFSET_SLACK)
    assert reconcile.network_floor(None, 5 * MIN) is None


def test_the_write_offset_round_trips_through_a_checkpoint():
    entry = reconcile.clock_entry(timedelta(seconds=-299.54))
    assert entry == {reconcile.CLOCK_KEY: "-299.5"}
    assert reconcile.offset_at_write(entry) == timedelta(seconds=-299.5)
    assert reconcile.clock_entry(None) == {}
    for broken in ({}, None, {reconcile.CLOCK_KEY: "soon"},
                   {reconcile.CLOCK_KEY: "nan"}, {reconcile.CLOCK_KEY: "1e12"}):
        assert reconcile.offset_at_write(broken) is None


def test_checkpointed_media_ids_match_whatever_the_post_is_stamped():
    # The ids were made by this attempt: no clock can make them older.
    ids = frozenset({"m1", "m2"})
    old = reconcile.Candidate("p1", "Hej", SINCE - 3 * 60 * MIN, media_ids=ids)
    assert reconcile.matches(old, text="Hej", floor=SINCE, media_ids=ids)
    other = reconcile.Candidate("p2", "Hej", SINCE + MIN, media_ids={"m1"})
    assert not reconcile.matches(other, text="Hej", floor=SINCE, media_ids=ids)
    # Text alone stays bounded.
    assert not reconcile.matches(old, text="Hej", floor=SINCE)


def _reply(remote_id: str, text: str) -> reconcile.Candidate:
    return reconcile.Candidate(remote_id, text, SINCE)


def test_a_reply_is_found_only_among_the_account_own():
    search = reconcile.ReplySearch("facebook", "Læs mere &amp; tilmeld dig")
    assert not search.offer(_reply("c1", "Læs mere & tilmeld dig"), own=False)
    assert search.offer(_reply("c2", "Læs  mere & tilmeld dig"), own=True)
    assert search.result().remote_id == "c2"


def test_a_reply_whose_author_is_unknown_makes_the_answer_cannot_tell():
    search = reconcile.ReplySearch("facebook", "Tak for i dag")
    search.offer(_reply("c1", "Tak for i dag"), own=None)
    search.offer(_reply("c2", "Noget andet"), own=True)
    with pytest.raises(TransientError):
        search.result()


def test_replies_not_all_read_make_the_answer_cannot_tell():
    search = reconcile.ReplySearch("x", "Tak for i dag")
    search.offer(_reply("c1", "Noget andet"), own=True)
    with pytest.raises(TransientError) as caught:
        search.result(read_all=False)
    assert "Kanal" in caught.value.message
    assert reconcile.ReplySearch("x", "Tak").result() is None
