"""Follow-up work on a published post (first comment, crisis pin): rows with
leases, fenced, retried with backoff, never lost, and a person is told when
it finally fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kanal.channels.networks.errors import OutcomeUnknown, Rejected, TransientError
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing import actions, conf, followup
from kanal.publishing.models import (
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Publication,
    PublicationStatus,
)

from .conftest import run_follow_ups, run_once, sandbox_channel

S = PublicationStatus
F = FollowUpStatus
pytestmark = pytest.mark.django_db


def expire_follow_up_leases() -> int:
    from django.db.models import DateTimeField, ExpressionWrapper
    from django.db.models.functions import Now

    past = ExpressionWrapper(Now() - timedelta(seconds=1), output_field=DateTimeField())
    return FollowUp.objects.filter(status=F.RUNNING).update(lease_expires_at=past)


def due_again(row) -> None:
    FollowUp.objects.filter(pk=row.pk).update(due_at=timezone.now())


def test_first_comment_becomes_a_follow_up_row_with_the_publication(
    fake_network, queue
):
    from kanal.publishing import engine

    pub = queue(first_comment="Læs mere på kk.dk")
    [job] = engine.claim_due(owner="w", limit=5)
    assert engine.record(job, engine.execute(job)) == S.PUBLISHED
    # Recorded in the same transaction as the publication: cannot be lost.
    row = FollowUp.objects.get(publication=pub)
    assert (row.kind, row.status) == (FollowUpKind.FIRST_COMMENT, F.PENDING)
    assert fake_network.replies == []
    assert run_follow_ups() == [F.DONE]
    assert fake_network.replies == [("r1", "Læs mere på kk.dk")]
    pub = Publication.objects.get(pk=pub.pk)
    assert pub.first_comment_remote_id == "c1"


def test_transient_error_on_the_first_comment_is_retried_with_backoff(
    fake_network, queue
):
    pub = queue(first_comment="Læs mere på kk.dk")
    fake_network.reply_script = [TransientError("Midlertidig fejl")]
    assert run_once() == [S.PUBLISHED]
    row = FollowUp.objects.get(publication=pub)
    assert row.status == F.PENDING
    assert row.due_at > timezone.now()
    assert run_follow_ups() == []  # not due yet
    with time_machine.travel(row.due_at + timedelta(seconds=1)):
        assert run_follow_ups() == [F.DONE]
    assert len(fake_network.replies) == 1
    assert not Notification.objects.filter(kind="first_comment_failed").exists()


def test_first_comment_that_keeps_failing_is_told_to_the_channel_owners(
    fake_network, queue, channel, desk_admin
):
    pub = queue(first_comment="Læs mere på kk.dk")
    limit = conf.get("FOLLOW_UP_MAX_ATTEMPTS")
    fake_network.reply_script = [TransientError("Serveren svarer ikke")] * limit
    run_once()
    row = FollowUp.objects.get(publication=pub)
    for _ in range(limit - 1):
        due_again(row)
        run_follow_ups()
    row.refresh_from_db()
    assert row.status == F.FAILED
    note = Notification.objects.get(kind="first_comment_failed")
    assert note.recipient == desk_admin
    assert "Skriv den selv" in note.message
    assert "Serveren svarer ikke" in note.message


def test_refused_first_comment_is_told_at_once(fake_network, queue, desk_admin):
    pub = queue(first_comment="Læs mere på kk.dk")
    fake_network.reply_script = [Rejected("Kommentaren er for lang.")]
    run_once()
    assert FollowUp.objects.get(publication=pub).status == F.FAILED
    assert Notification.objects.filter(kind="first_comment_failed").count() == 1


def test_first_comment_of_a_killed_worker_is_taken_back_and_sent(
    fake_network, queue
):
    pub = queue(first_comment="Læs mere på kk.dk")
    from kanal.publishing import engine

    [job] = engine.claim_due(owner="w", limit=5)
    engine.record(job, engine.execute(job))
    # A worker claims the follow-up and is killed before its write.
    [dead] = followup.claim_follow_ups(owner="dead", limit=5)
    expire_follow_up_leases()
    assert followup.sweep_expired_follow_ups() == 1
    assert run_follow_ups() == [F.DONE]
    assert fake_network.replies == [("r1", "Læs mere på kk.dk")]
    # The dead worker's late outcome changes nothing.
    dead.outcome = "error"
    dead.error = TransientError()
    assert followup.record_follow_up(dead) == F.DONE
    assert Publication.objects.get(pk=pub.pk).first_comment_remote_id == "c1"


def test_uncertain_first_comment_is_not_resent_where_replies_are_not_idempotent(
    fake_network, organisation, desk_admin
):
    from kanal.channels.tests.factories import ChannelFactory

    facebook = ChannelFactory(organisation=organisation, network="facebook")
    pub = actions.queue_publication(
        actor=None, organisation=organisation, channel=facebook,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None, text="Nyt fra Rådhuset",
        first_comment="Læs mere på kk.dk",
    )
    fake_network.reply_script = [OutcomeUnknown()]  # sent; the answer lost
    run_once()
    row = FollowUp.objects.get(publication=pub)
    assert row.status == F.FAILED
    assert len(fake_network.replies) == 1  # never twice
    note = Notification.objects.get(kind="first_comment_unsure")
    assert "ved ikke, om den første kommentar kom med" in note.message


def test_uncertain_first_comment_is_resent_with_its_key_on_mastodon(
    fake_network, queue
):
    pub = queue(first_comment="Læs mere på kk.dk")  # the channel is Mastodon
    fake_network.reply_script = [OutcomeUnknown()]
    run_once()
    row = FollowUp.objects.get(publication=pub)
    assert row.status == F.PENDING and row.write_started
    due_again(row)
    assert run_follow_ups() == [F.DONE]


def test_first_comment_is_held_back_by_a_crisis(
    fake_network, queue, member, desk_admin
):
    from kanal.publishing import engine

    pub = queue(first_comment="Læs mere på kk.dk")
    [job] = engine.claim_due(owner="w", limit=5)
    engine.record(job, engine.execute(job))
    lead = member(Role.CRISIS_LEAD)
    actions.start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    assert run_follow_ups() == [F.FAILED]
    assert fake_network.replies == []
    note = Notification.objects.get(kind="first_comment_crisis")
    assert "krisetilstand" in note.message
    assert Publication.objects.get(pk=pub.pk).first_comment_remote_id == ""


def test_failed_crisis_pin_is_retried_and_then_told_to_everyone(
    fake_network, member, channel, desk_admin
):
    lead = member(Role.CRISIS_LEAD)
    [pub] = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text="Hold vinduerne lukket.",
        channels=[channel], confirmed=True, pin=True,
    )
    limit = conf.get("FOLLOW_UP_MAX_ATTEMPTS")
    fake_network.pin_script = [TransientError("Fejl 503")] * limit
    assert run_once() == [S.PUBLISHED]
    row = FollowUp.objects.get(publication=pub, kind=FollowUpKind.PIN)
    assert row.status == F.PENDING  # retried, not dropped with a log line
    for _ in range(limit - 1):
        due_again(row)
        run_follow_ups()
    row.refresh_from_db()
    assert row.status == F.FAILED
    notes = Notification.objects.filter(kind="pin_failed")
    # A crisis concerns everyone who runs it.
    assert {n.recipient for n in notes} == {lead, desk_admin}
    note = notes[0]
    assert "Fastgør den selv" in note.message


def test_crisis_pin_that_fails_once_ends_up_pinned(fake_network, member, channel):
    lead = member(Role.CRISIS_LEAD)
    [pub] = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text="Hold vinduerne lukket.",
        channels=[channel], confirmed=True, pin=True,
    )
    fake_network.pin_script = [TransientError("Fejl 503")]
    run_once()
    row = FollowUp.objects.get(publication=pub, kind=FollowUpKind.PIN)
    due_again(row)
    assert run_follow_ups() == [F.DONE]
    assert fake_network.pins == [Publication.objects.get(pk=pub.pk).remote_id]


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_crisis_pin_refused_by_the_network_once_is_pinned_on_mastodon(
    sandbox, organisation, member
):
    channel = sandbox_channel(sandbox, organisation, "mastodon")
    lead = member(Role.CRISIS_LEAD)
    sandbox.fault("mastodon", "server_error", operation="pin",
                  account=channel.remote_id)
    [pub] = actions.publish_crisis_message(
        actor=lead, organisation=organisation, text="Brand på Amager. Luk vinduer.",
        channels=[channel], confirmed=True,
    )
    assert run_once() == [S.PUBLISHED]
    pub = Publication.objects.get(pk=pub.pk)
    assert sandbox.item("mastodon", pub.remote_id)["data"].get("pinned") \
        is not True
    row = FollowUp.objects.get(publication=pub, kind=FollowUpKind.PIN)
    assert row.status == F.PENDING
    due_again(row)
    assert run_follow_ups() == [F.DONE]
    assert sandbox.item("mastodon", pub.remote_id)["data"]["pinned"] is True


@pytest.mark.parametrize("made", [True, False])
def test_uncertain_first_comment_is_looked_up_where_the_network_can_tell(
    fake_network, organisation, made
):
    from kanal.channels.tests.factories import ChannelFactory

    facebook = ChannelFactory(organisation=organisation, network="facebook")
    fake_network.reply_lookup = True
    pub = actions.queue_publication(
        actor=None, organisation=organisation, channel=facebook,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None, text="Nyt fra Rådhuset",
        first_comment="Læs mere på kk.dk",
    )
    # A 5xx to the reply: made and the answer lost, or refused before it.
    fake_network.reply_script = [
        OutcomeUnknown() if made else ("after_fence", OutcomeUnknown())
    ]
    run_once()
    row = FollowUp.objects.get(publication=pub)
    assert row.status == F.PENDING and row.write_started
    due_again(row)
    assert run_follow_ups() == [F.DONE]
    assert fake_network.replies == [("r1", "Læs mere på kk.dk")]  # once
    assert not Notification.objects.filter(kind="first_comment_failed").exists()


def test_follow_up_whose_lease_ran_out_before_its_write_sends_nothing_and_is_due_again(
    fake_network, queue
):
    from kanal.publishing import engine

    pub = queue(first_comment="Læs mere på kk.dk")
    [job] = engine.claim_due(owner="w", limit=5)
    engine.record(job, engine.execute(job))
    [stalled] = followup.claim_follow_ups(owner="stalled", limit=5)
    expire_follow_up_leases()
    stalled = followup.execute_follow_up(stalled)
    assert stalled.outcome == "fenced"
    assert fake_network.replies == []
    assert followup.record_follow_up(stalled) == F.PENDING
    row = FollowUp.objects.get(publication=pub)
    assert row.due_at <= timezone.now()
    assert row.attempts == 0
    assert run_follow_ups() == [F.DONE]
    assert len(fake_network.replies) == 1
