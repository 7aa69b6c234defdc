from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from kanal.channels.models import ChannelStatus
from kanal.channels.networks.errors import (
    AuthExpired,
    OutcomeUnknown,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.core.models import AuditEntry
from kanal.notifications.models import Notification, subject_of
from kanal.publishing import conf, engine
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import expire_leases, run_once

S = PublicationStatus
pytestmark = pytest.mark.django_db


def refresh(pub) -> Publication:
    return Publication.objects.get(pk=pub.pk)


def test_due_publication_is_published_once_with_remote_id_and_url(
    fake_network, queue
):
    pub = queue(text="Hej København")
    assert run_once() == [S.PUBLISHED]
    pub = refresh(pub)
    assert pub.status == S.PUBLISHED
    assert pub.remote_id == "r1"
    assert pub.url == "https://fake.example/p/1"
    assert pub.attempts == 1
    assert fake_network.log == [(pub.idempotency_key, "Hej København")]
    assert run_once() == []
    assert len(fake_network.log) == 1
    assert AuditEntry.objects.filter(
        event="publishing.publication.published", object_id=str(pub.pk)
    ).exists()


def test_publication_planned_in_the_future_is_not_claimed(fake_network, queue):
    queue(planned_at=timezone.now() + timedelta(minutes=5))
    assert run_once() == []
    assert fake_network.calls == 0


def test_a_published_publication_troubles_no_desk(fake_network, queue, desk_admin):
    # Good news goes to the post's author (planning's roll-up), not to every
    # administrator of the channel.
    pub = queue()
    assert run_once() == [S.PUBLISHED]
    assert not Notification.objects.filter(subject=subject_of(pub)).exists()


def test_first_comment_is_posted_on_the_new_post(fake_network, queue):
    pub = queue(first_comment="Læs mere på kk.dk")
    run_once()
    assert fake_network.replies == [("r1", "Læs mere på kk.dk")]
    assert refresh(pub).first_comment_remote_id == "c1"


def test_transient_error_is_retried_later_with_backoff(fake_network, queue):
    pub = queue()
    fake_network.script = [TransientError("Midlertidig fejl", retry_after=30)]
    before = timezone.now()
    assert run_once() == [S.RETRYING]
    pub = refresh(pub)
    assert pub.last_error == "Midlertidig fejl"
    assert pub.due_at >= before + timedelta(seconds=30)
    assert run_once() == []  # not due yet
    with time_machine.travel(pub.due_at + timedelta(seconds=1)):
        assert run_once() == [S.PUBLISHED]
    assert len(fake_network.log) == 1


def test_rate_limit_waits_until_the_networks_reset_time(fake_network, queue):
    pub = queue()
    reset = timezone.now() + timedelta(minutes=15)
    fake_network.script = [RateLimited(reset_at=reset)]
    assert run_once() == [S.RETRYING]
    pub = refresh(pub)
    assert pub.due_at >= reset
    assert pub.error_kind == "rate_limited"


def test_transient_errors_give_up_after_the_attempt_limit(fake_network, queue):
    pub = queue()
    limit = conf.get("MAX_ATTEMPTS")
    fake_network.script = [TransientError()] * limit
    for _ in range(limit):
        pub = refresh(pub)
        with time_machine.travel(pub.due_at + timedelta(seconds=1)):
            run_once()
    pub = refresh(pub)
    assert pub.status == S.FAILED
    assert f"{limit} gange" in pub.last_error
    assert fake_network.log == []


def test_backoff_grows_and_has_jitter():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = {conf.backoff(1, None, now) for _ in range(20)}
    fifth = [conf.backoff(5, None, now) for _ in range(20)]
    assert len(first) > 1
    assert max(first) <= now + timedelta(seconds=5)
    assert min(fifth) >= now + timedelta(seconds=40)


def test_rejection_fails_at_once_with_the_adapters_danish_message(
    fake_network, queue, desk_admin
):
    pub = queue()
    fake_network.script = [Rejected("Teksten er for lang til X (300 af 280 tegn).")]
    assert run_once() == [S.FAILED]
    pub = refresh(pub)
    assert pub.last_error == "Teksten er for lang til X (300 af 280 tegn)."
    assert pub.attempts == 1
    note = Notification.objects.get(subject=subject_of(pub), kind="publication_failed")
    assert note.recipient == desk_admin
    assert "Teksten er for lang til X" in note.message


def test_auth_error_marks_channel_needs_reconnect_and_notifies_owners(
    fake_network, queue, channel, desk_admin
):
    pub = queue()
    fake_network.script = [AuthExpired()]
    assert run_once() == [S.WAITING]
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    note = Notification.objects.get(kind="channel_needs_reconnect")
    assert note.recipient == desk_admin
    assert note.url == f"/kanaler/{channel.pk}/"
    pub = refresh(pub)
    assert "forbinde kanalen igen" in pub.last_error
    with time_machine.travel(pub.due_at + timedelta(seconds=1)):
        assert run_once() == []  # still waiting: channel not connected
    assert refresh(pub).status == S.WAITING


def test_quota_exhausted_waits_visibly_until_reset(fake_network, queue):
    pub = queue()
    reset = timezone.now() + timedelta(hours=3)
    fake_network.script = [QuotaExhausted("Kvoten er brugt.", reset_at=reset)]
    assert run_once() == [S.WAITING]
    pub = refresh(pub)
    assert pub.due_at == reset
    assert pub.last_error == "Kvoten er brugt."
    assert pub.attempts == 0


def test_unknown_outcome_is_reconciled_without_sending_again(
    fake_network, queue, organisation
):
    from kanal.channels.tests.factories import ChannelFactory

    # Facebook keeps no key: the post is looked up before anything is sent.
    pub = queue(channel=ChannelFactory(organisation=organisation,
                                       network="facebook"))
    fake_network.script = ["create_then_timeout"]
    assert run_once() == [S.UNKNOWN]
    pub = refresh(pub)
    assert pub.needs_reconcile
    with time_machine.travel(pub.due_at + timedelta(seconds=1)):
        assert run_once() == [S.PUBLISHED]
    pub = refresh(pub)
    assert pub.remote_id == "r1"
    assert fake_network.calls == 1
    assert len(fake_network.log) == 1


def test_unknown_outcome_on_mastodon_is_settled_by_sending_again_with_the_key(
    fake_network, queue
):
    pub = queue()  # Mastodon keeps the Idempotency-Key for an hour
    fake_network.script = ["create_then_timeout"]
    run_once()
    with time_machine.travel(refresh(pub).due_at + timedelta(seconds=1)):
        assert run_once() == [S.PUBLISHED]
    assert fake_network.find_calls == 0  # no lookup by text
    assert fake_network.calls == 2
    assert len(fake_network.log) == 1  # the key returned the same post
    assert refresh(pub).remote_id == "r1"


def test_unknown_outcome_not_found_is_sent_again_with_the_same_key(
    fake_network, queue
):
    pub = queue()
    fake_network.script = [OutcomeUnknown()]
    run_once()
    with time_machine.travel(refresh(pub).due_at + timedelta(seconds=1)):
        assert run_once() == [S.PUBLISHED]
    assert fake_network.calls == 2
    assert fake_network.log == [(pub.idempotency_key, pub.text)]


def test_unknown_outcome_fails_for_a_person_when_network_cannot_tell(
    fake_network, facebook_queue
):
    pub = facebook_queue()
    fake_network.script = [OutcomeUnknown()]
    fake_network.find_supported = False
    run_once()
    with time_machine.travel(refresh(pub).due_at + timedelta(seconds=1)):
        assert run_once() == [S.FAILED]
    pub = refresh(pub)
    assert "marker det som udgivet" in pub.last_error
    assert fake_network.calls == 1
    # The person checked the account and found nothing: "Prøv igen nu" sends.
    from kanal.publishing.actions import retry_publication

    retry_publication(pub, actor=None)
    assert run_once() == [S.PUBLISHED]
    assert fake_network.calls == 2


def test_reconcile_that_cannot_reach_the_network_tries_again_later(
    fake_network, facebook_queue
):
    pub = facebook_queue()
    fake_network.script = [OutcomeUnknown()]
    fake_network.find_script = [TransientError()]
    run_once()
    with time_machine.travel(refresh(pub).due_at + timedelta(seconds=1)):
        # Still unknown (not a plain retry that could run out as FAILED).
        assert run_once() == [S.UNKNOWN]
    assert refresh(pub).needs_reconcile
    assert fake_network.calls == 1


def test_expired_lease_is_swept_and_reconciled(fake_network, queue):
    pub = queue()
    jobs = engine.claim_due(owner="dead-worker", limit=5)
    assert [j.publication_id for j in jobs] == [pub.pk]
    # The worker sends, then dies before recording.
    engine.execute(jobs[0])
    assert engine.sweep_expired_leases() == 0
    expire_leases()
    assert engine.sweep_expired_leases() == 1
    pub = refresh(pub)
    assert pub.status == S.UNKNOWN
    assert "afbrudt" in pub.last_error
    assert run_once() == [S.PUBLISHED]
    assert len(fake_network.log) == 1
    # The dead worker's late result changes nothing.
    assert engine.record(jobs[0], engine.Outcome("error", error=TransientError())) \
        == S.PUBLISHED


def test_worker_killed_before_its_fence_is_simply_due_again(fake_network, queue):
    pub = queue()
    engine.claim_due(owner="dead-worker", limit=5)
    expire_leases()
    assert engine.sweep_expired_leases() == 1
    pub = refresh(pub)
    assert pub.status == S.RETRYING
    assert not pub.needs_reconcile  # nothing was sent: no need to ask
    assert run_once() == [S.PUBLISHED]
    assert fake_network.find_calls == 0
    assert len(fake_network.log) == 1


def test_leases_are_measured_by_the_database_clock_not_the_workers(
    fake_network, queue
):
    queue()
    [job] = engine.claim_due(owner="w1", limit=5)
    # A worker whose clock is ten minutes ahead sees nothing expired.
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert engine.sweep_expired_leases() == 0
        assert engine.claim_due(owner="w2", limit=5) == []
    engine.fence(job, "create")  # still this job's


def test_publication_later_than_the_cutoff_becomes_missed(
    fake_network, queue, desk_admin
):
    pub = queue(planned_at=timezone.now() - timedelta(hours=2, minutes=1))
    assert engine.mark_missed() == 1
    pub = refresh(pub)
    assert pub.status == S.MISSED
    assert "2 timer" in pub.last_error
    assert fake_network.calls == 0
    assert Notification.objects.filter(
        subject=subject_of(pub), kind="publication_missed"
    ).exists()


def test_claim_refuses_a_publication_past_the_cutoff(fake_network, queue):
    pub = queue(planned_at=timezone.now() - timedelta(hours=3))
    assert run_once() == []
    assert refresh(pub).status == S.MISSED
    assert fake_network.calls == 0


def test_dry_run_of_missed_sweep_changes_nothing(fake_network, queue):
    pub = queue(planned_at=timezone.now() - timedelta(hours=3))
    assert engine.mark_missed(dry_run=True) == 1
    assert refresh(pub).status == S.QUEUED


def test_recheck_crisis_pauses_instead_of_sending(fake_network, queue, member):
    from kanal.publishing.actions import start_crisis

    pub = queue()
    lead = member("crisis_lead")
    # Started behind the queue's back: the claim still sees it.
    start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    Publication.objects.filter(pk=pub.pk).update(status=S.QUEUED)
    assert run_once() == []
    assert refresh(pub).status == S.PAUSED
    assert fake_network.calls == 0


def test_recheck_disconnected_channel_waits(fake_network, queue, channel):
    pub = queue()
    channel.status = ChannelStatus.NEEDS_RECONNECT
    channel.save()
    assert run_once() == []
    pub = refresh(pub)
    assert pub.status == S.WAITING
    assert pub.error_kind == "channel_needs_reconnect"


def test_recheck_disabled_channel_fails(fake_network, queue, channel):
    pub = queue()
    channel.status = ChannelStatus.DISABLED
    channel.save()
    run_once()
    assert refresh(pub).status == S.FAILED


def test_recheck_expired_media_rights_fail_before_sending(fake_network, queue):
    pub = queue(media=[{
        "path": "m/havn.jpg", "mime_type": "image/jpeg", "alt_text": "Havnen",
        "kind": "image", "rights_expire_at": "2020-01-01T00:00:00+00:00",
    }])
    assert run_once() == []
    pub = refresh(pub)
    assert pub.status == S.FAILED
    assert pub.error_kind == "media_rights_expired"
    assert fake_network.calls == 0


def test_recheck_withdrawn_approval_cancels(fake_network, queue, monkeypatch):
    import sys
    import types

    bridge = types.ModuleType("kanal.planning.bridge")
    bridge.approval_stands = lambda *, post_id, revision_id: False
    bridge.publication_changed = lambda *, post_id: None
    planning = types.ModuleType("kanal.planning")
    planning.bridge = bridge
    monkeypatch.setitem(sys.modules, "kanal.planning", planning)
    monkeypatch.setitem(sys.modules, "kanal.planning.bridge", bridge)
    pub = queue(post_id=99, revision_id=5)
    run_once()
    assert refresh(pub).status == S.CANCELLED
    assert fake_network.calls == 0


def test_daily_quota_is_respected_before_calling(fake_network, organisation):
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.publishing.actions import queue_publication

    ig = ChannelFactory(organisation=organisation, network="instagram")
    now = timezone.now()
    for i in range(3):
        queue_publication(
            actor=None, organisation=organisation, channel=ig,
            planned_at=now - timedelta(seconds=1), post_id=None,
            variant_id=None, revision_id=None, text=f"Billede {i}",
        )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conf, "get", _override(DAILY_QUOTA={"instagram": 2},
                                          CHANNEL_CONCURRENCY=5))
        assert run_once() == [S.PUBLISHED, S.PUBLISHED]
        assert run_once() == []
    waiting = Publication.objects.get(status=S.WAITING)
    assert waiting.error_kind == "quota_local"
    assert waiting.due_at > now + timedelta(hours=23)


def test_channel_concurrency_limits_simultaneous_calls(fake_network, queue, channel):
    queue()
    queue()
    jobs = engine.claim_due(owner="w1", limit=10)
    assert len(jobs) == 1
    assert engine.claim_due(owner="w2", limit=10) == []
    engine.record(jobs[0], engine.execute(jobs[0]))
    assert len(engine.claim_due(owner="w2", limit=10)) == 1


def _override(**values):
    original = conf.get

    def get(name):
        return values[name] if name in values else original(name)

    return get


def test_claimed_job_waiting_for_a_thread_does_not_start_after_crisis(
    fake_network, queue, member
):
    from kanal.publishing.actions import start_crisis

    pub = queue()
    jobs = engine.claim_due(owner="w", limit=5)
    lead = member("crisis_lead")
    start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    outcome = engine.execute(jobs[0])
    assert outcome.kind == "fenced"
    assert engine.record(jobs[0], outcome) == S.PAUSED
    assert fake_network.log == []
    assert refresh(pub).attempts == 0


def test_settings_from_the_environment_accept_fractions(monkeypatch):
    monkeypatch.setenv("KANAL_PUBLISH_BACKOFF_BASE_SECONDS", "0.5")
    monkeypatch.setenv("KANAL_PUBLISH_MAX_ATTEMPTS", "9")
    assert conf.get("BACKOFF_BASE_SECONDS") == 0.5
    assert conf.get("MAX_ATTEMPTS") == 9


def test_instagram_quota_is_the_adapters_one_value(organisation):
    """Kanal's own count used to stop Instagram at 50 a day while the adapter
    (and Instagram's guide) say 100: the 51st post of a day goes out."""
    from kanal.channels.networks.instagram import InstagramAdapter
    from kanal.channels.networks.threads import ThreadsAdapter
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.publishing.actions import queue_publication

    assert engine.daily_quota("instagram") == InstagramAdapter.default_quota_total
    assert engine.daily_quota("instagram") == 100
    assert engine.daily_quota("threads") == ThreadsAdapter.default_quota_total
    assert engine.daily_quota("mastodon") is None
    ig = ChannelFactory(organisation=organisation, network="instagram")
    now = timezone.now()
    Publication.objects.bulk_create(
        Publication(
            organisation=organisation, channel=ig, planned_at=now,
            due_at=now, late_after=now, text=f"Billede {i}",
            status=S.PUBLISHED, published_at=now - timedelta(hours=1),
        )
        for i in range(50)
    )
    pub = queue_publication(
        actor=None, organisation=organisation, channel=ig,
        planned_at=now - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None, text="Billede 51",
    )
    [job] = engine.claim_due(owner="w", limit=5)
    assert job.publication_id == pub.pk
