"""The send fence, driven step by step against the sandbox's emulators and
judged by what reached the network (``sandbox.published``): a worker that
lost its lease, a withdrawal or a crisis switch committed before the write
stops the write; only idle threads get work; leases are renewed whatever
the periodic jobs do."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kanal.channels import adapters
from kanal.channels.networks.errors import Fenced
from kanal.organisations.roles import Role
from kanal.publishing import actions, conf, engine
from kanal.publishing.models import Publication, PublicationStatus
from kanal.publishing.worker import PublishingWorker

from .conftest import call_threads, expire_leases, run_once, sandbox_channel

S = PublicationStatus


def refresh(pub) -> Publication:
    return Publication.objects.get(pk=pub.pk)


def posts_on(sandbox, channel) -> list[dict]:
    return [r for r in sandbox.published(channel.network, channel.remote_id)
            if r["kind"] == "post"]


def queue_on(channel, text: str = "", **fields) -> Publication:
    return actions.queue_publication(
        actor=None, organisation=channel.organisation, channel=channel,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None,
        text=text or f"Vejarbejde på Amagerbrogade ({uuid.uuid4().hex[:8]})",
        **fields,
    )


# -- a worker that lost its lease ---------------------------------------------


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
# Threads has no network-side idempotency (Facebook, X and LinkedIn refuse a
# second identical text within minutes, which hides the duplicate here).
@pytest.mark.parametrize("network", ["threads"])
def test_worker_that_lost_its_lease_sends_nothing(network, sandbox, organisation):
    channel = sandbox_channel(sandbox, organisation, network)
    pub = queue_on(channel)
    [paused] = engine.claim_due(owner="paused-worker", limit=5)
    # The worker stalls (SIGSTOP, a long pause) past its lease; another
    # worker takes the row back, finds nothing on the network and sends.
    expire_leases()
    assert engine.sweep_expired_leases() == 1
    [other] = engine.claim_due(owner="other-worker", limit=5)
    assert engine.record(other, engine.execute(other)) == S.PUBLISHED
    # The stalled worker wakes and goes on with its job.
    outcome = engine.execute(paused)
    assert len(posts_on(sandbox, channel)) == 1
    assert outcome.kind == "fenced"
    assert outcome.extra["why"] == "lease_lost"
    assert engine.record(paused, outcome) == S.PUBLISHED
    assert refresh(pub).remote_id == posts_on(sandbox, channel)[0]["item_id"]


@pytest.mark.django_db
def test_checkpoint_after_the_lease_is_lost_stops_before_the_write(
    fake_network, queue
):
    pub = queue()
    [job] = engine.claim_due(owner="w1", limit=5)
    # The lease runs out while the adapter prepares (uploads, a container).
    fake_network.script = [lambda: expire_leases()]
    outcome = engine.execute(job)
    assert outcome.kind == "fenced"
    assert fake_network.log == []
    # Nobody has swept it yet: it goes back to the queue, not counted.
    assert engine.record(job, outcome) == S.QUEUED
    pub = refresh(pub)
    assert pub.attempts == 0
    assert not pub.needs_reconcile
    assert run_once() == [S.PUBLISHED]
    assert len(fake_network.log) == 1


@pytest.mark.django_db
def test_fence_extends_the_lease_for_the_whole_write_by_the_database_clock(
    fake_network, queue
):
    queue()
    [job] = engine.claim_due(owner="w1", limit=5)
    claimed = Publication.objects.get().lease_expires_at
    engine.fence(job, "create")
    pub = Publication.objects.get()
    assert pub.lease_expires_at >= claimed + (conf.write_lease() - conf.lease()) \
        - timedelta(seconds=1)
    assert pub.needs_reconcile  # a write is under way: its outcome is open
    assert pub.first_sent_at is not None
    assert job.write_started


# -- withdrawal and crisis reach claimed publications -----------------------------


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_edit_after_approval_stops_a_publication_already_claimed(
    sandbox, member
):
    from kanal.planning import actions as planning

    editor = member(Role.EDITOR)
    approver = member(Role.APPROVER, administration=editor.administration)
    channel = sandbox_channel(sandbox, editor.organisation, "facebook",
                              owner_administration=editor.administration)
    planned_at = timezone.now() + timedelta(minutes=5)
    post = planning.create_post(
        actor=editor, title="Havnebadet åbner",
        shared_text=f"Havnebadet åbner lørdag kl. 10 ({uuid.uuid4().hex[:6]})",
        channels=[channel], planned_at=planned_at,
    )
    planning.submit_post(post, actor=editor)
    post.refresh_from_db()
    planning.approve_post(post, actor=approver)
    post.refresh_from_db()
    pub = Publication.objects.get(post_id=post.pk)
    Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())
    [job] = engine.claim_due(owner="w1", limit=5)
    # The editor changes the text after approval, while the job waits.
    variant = post.variants.get()
    planning.update_post(
        post, actor=editor,
        variants={channel.pk: {"text": "Havnebadet åbner først søndag.",
                               "planned_at": planned_at}},
    )
    outcome = engine.execute(job)
    assert posts_on(sandbox, channel) == []
    assert outcome.kind == "fenced"
    assert engine.record(job, outcome) == S.CANCELLED
    assert refresh(pub).withdrawn_at is not None
    assert variant.pk  # the variant stays; only its publication is cancelled


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_crisis_switched_on_while_threads_waits_for_its_container_stops_the_post(
    sandbox, organisation, member, monkeypatch
):
    from kanal.channels.networks.threads import ThreadsAdapter

    channel = sandbox_channel(sandbox, organisation, "threads")
    lead = member(Role.CRISIS_LEAD)

    class CrisisDuringContainerWait(ThreadsAdapter):
        def wait_until_finished(self, container_id):
            actions.start_crisis(actor=lead, organisation=organisation,
                                 reason="Brand på Amager")
            return super().wait_until_finished(container_id)

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, "threads",
                        CrisisDuringContainerWait)
    pub = queue_on(channel)
    assert run_once() == [S.PAUSED]
    assert posts_on(sandbox, channel) == []
    pub = refresh(pub)
    assert pub.attempts == 0
    assert pub.error_kind == "crisis"


NETWORKS = ["facebook", "instagram", "x", "mastodon", "bluesky", "linkedin",
            "threads"]


def _an_image(settings, tmp_path) -> list[dict]:
    """One stored JPEG as a publication's media snapshot (Instagram needs one)."""
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path / "media"
    out = io.BytesIO()
    Image.new("RGB", (1080, 1080), (20, 90, 160)).save(out, "JPEG")
    path = default_storage.save("media/havnebad.jpg", ContentFile(out.getvalue()))
    return [{"kind": "image", "mime_type": "image/jpeg", "path": path,
             "alt_text": "Havnebadet", "width": 1080, "height": 1080}]


def _stop(kind, channel, pub, lead):
    """Commit ``kind`` of stop, from another connection's point of view (the
    worker thread's own statements come after it)."""
    from kanal.channels.actions import disable_channel

    if kind == "crisis":
        actions.start_crisis(actor=lead, organisation=channel.organisation,
                             reason="Brand på Amager")
    elif kind == "withdrawn":
        Publication.objects.filter(pk=pub.pk).update(withdrawn_at=timezone.now())
    else:
        disable_channel(channel, actor=None, reason="Kontoen er kompromitteret")


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stop", ["crisis", "withdrawn", "channel"])
@pytest.mark.parametrize("network", NETWORKS)
def test_a_stop_committed_after_the_fence_and_before_the_request_sends_nothing(
    network, stop, sandbox, organisation, member, monkeypatch, settings, tmp_path,
    request,
):
    """The fence's statement passed; then a crisis, a withdrawal or a disabled
    channel committed before the request left (on PostgreSQL also a stop the
    fence's statement could not see: it waited for a row lock and re-checked
    only its own row). The last look at the send stops it: nothing reaches
    the network, and the publication is settled by the stop, not published."""
    channel = sandbox_channel(sandbox, organisation, network)
    lead = member(Role.CRISIS_LEAD)
    stopped = []
    base = adapters.adapter_class(network)

    class StopAfterTheFence(base):
        def fence(self, operation):
            super().fence(operation)
            if operation not in engine.PREPARATORY_WRITES and not stopped:
                stopped.append(operation)
                _stop(stop, channel, pub, lead)

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, network, StopAfterTheFence)
    media = ()
    if network == "instagram":
        settings.KANAL_BASE_URL = request.getfixturevalue("live_server").url
        media = _an_image(settings, tmp_path)
    pub = queue_on(channel, media=media)
    [job] = engine.claim_due(owner="w", limit=5)
    outcome = engine.execute(job)
    assert stopped, f"the adapter never reached a publishing write: {outcome}"
    assert outcome.kind == "fenced"
    assert outcome.extra["why"] == stop
    assert posts_on(sandbox, channel) == []
    status = engine.record(job, outcome)
    # Nothing went out, but the row was marked "possibly sent" by the fence:
    # the engine asks the network before it settles it.
    assert status in (S.UNKNOWN, S.PAUSED, S.CANCELLED, S.WAITING, S.FAILED)
    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, network, base)
    Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())
    run_once()
    run_once()
    assert posts_on(sandbox, channel) == []
    assert refresh(pub).status != S.PUBLISHED


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("network", ["facebook", "mastodon", "bluesky"])
def test_a_crisis_committed_after_a_first_comments_fence_stops_the_comment(
    network, sandbox, organisation, member, monkeypatch
):
    """The same last look guards follow-ups: the post went out, then the
    crisis committed between the first comment's fence and its request."""
    from kanal.publishing import followup
    from kanal.publishing.models import FollowUp

    channel = sandbox_channel(sandbox, organisation, network)
    lead = member(Role.CRISIS_LEAD)
    pub = queue_on(channel, first_comment="Læs mere på kk.dk/havnebad")
    [job] = engine.claim_due(owner="w", limit=5)
    assert engine.record(job, engine.execute(job)) == S.PUBLISHED
    before = sandbox.published(network, channel.remote_id)
    base = adapters.adapter_class(network)

    class CrisisAfterTheFence(base):
        def fence(self, operation):
            super().fence(operation)
            if operation not in engine.PREPARATORY_WRITES:
                actions.start_crisis(actor=lead, organisation=organisation,
                                     reason="Brand på Amager")

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, network, CrisisAfterTheFence)
    FollowUp.objects.filter(publication=pub).update(due_at=timezone.now())
    [fjob] = followup.claim_follow_ups(owner="w", limit=5)
    done = followup.execute_follow_up(fjob)
    assert done.outcome == "fenced", done.error
    assert done.extra["why"] == "crisis"
    assert sandbox.published(network, channel.remote_id) == before


@pytest.mark.django_db
def test_crisis_message_is_not_fenced_by_the_crisis(fake_network, member, channel):
    lead = member(Role.CRISIS_LEAD)
    actions.start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    [pub] = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text="Hold vinduerne lukket.",
        channels=[channel], confirmed=True, pin=False,
    )
    assert run_once() == [S.PUBLISHED]
    assert [text for _key, text in fake_network.log] == [pub.text]


@pytest.mark.django_db
def test_channel_needing_reconnection_fences_the_write(fake_network, queue, channel):
    from kanal.channels.models import ChannelStatus

    pub = queue()
    [job] = engine.claim_due(owner="w1", limit=5)
    channel.status = ChannelStatus.NEEDS_RECONNECT
    channel.save()
    with pytest.raises(Fenced) as refused:
        engine.fence(job, "create")
    assert refused.value.reason == "channel"
    outcome = engine.execute(job)
    assert engine.record(job, outcome) == S.QUEUED
    assert run_once() == []
    assert refresh(pub).status == S.WAITING
    assert fake_network.log == []


# -- crisis and an unknown outcome --------------------------------------------------


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_crisis_asks_the_network_before_pausing_an_unknown_outcome(
    sandbox, organisation, member, short_timeout
):
    channel = sandbox_channel(sandbox, organisation, "x")
    lead = member(Role.CRISIS_LEAD)
    pub = queue_on(channel)
    sandbox.fault("x", "timeout_after_create", operation="publish",
                  account=channel.remote_id, delay_ms=10_000)
    assert run_once() == [S.UNKNOWN]
    actions.start_crisis(actor=lead, organisation=organisation, reason="Storm")
    pub = refresh(pub)
    assert pub.status == S.UNKNOWN  # the post may be live: not "paused"
    with pytest.raises(ValueError, match="tjekker stadig"):
        actions.cancel_publication(pub, actor=member(Role.EDITOR))
    Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())
    assert run_once() == [S.PUBLISHED]
    assert len(posts_on(sandbox, channel)) == 1


@pytest.mark.django_db
def test_crisis_pauses_an_unknown_outcome_the_network_does_not_have(
    fake_network, queue, member
):
    from kanal.channels.networks.errors import OutcomeUnknown

    lead = member(Role.CRISIS_LEAD)
    pub = queue()
    fake_network.script = [OutcomeUnknown()]  # nothing was created
    assert run_once() == [S.UNKNOWN]
    actions.start_crisis(actor=lead, organisation=lead.organisation, reason="Storm")
    Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())
    assert run_once() == [S.PAUSED]
    pub = refresh(pub)
    assert not pub.needs_reconcile
    assert fake_network.find_calls == 1
    assert fake_network.log == []


# -- only idle threads get work; leases renewed by their own thread ---------------


@pytest.mark.django_db(transaction=True)
def test_worker_claims_only_for_idle_threads(fake_network, queue, organisation):
    from kanal.channels.tests.factories import ChannelFactory

    for _ in range(6):
        queue(channel=ChannelFactory(organisation=organisation, network="mastodon"))
    release = threading.Event()
    fake_network.script = [release.wait] * 6
    worker = PublishingWorker(concurrency=2, name="w")
    with call_threads(2) as executor:
        try:
            assert worker.claim(executor) == 2
            assert worker.claim(executor) == 0
            assert Publication.objects.filter(status=S.PUBLISHING).count() == 2
        finally:
            release.set()


@pytest.mark.django_db(transaction=True)
def test_leases_are_renewed_while_a_periodic_job_hangs(
    fake_network, queue, monkeypatch
):
    from kanal.publishing import periodic

    monkeypatch.setenv("KANAL_PUBLISH_LEASE_SECONDS", "0.9")
    hang = threading.Event()
    release = threading.Event()

    def slow_token_endpoint(**_kwargs):
        hang.set()
        release.wait(20)
        return 0

    jobs = [
        periodic.PeriodicJob("refresh_tokens", "slow", lambda: 60.0,
                             slow_token_endpoint)
    ]
    monkeypatch.setattr("kanal.publishing.worker.PERIODIC_JOBS", jobs)
    publishing = threading.Event()
    fake_network.script = [lambda: (publishing.set(), release.wait(20))]
    pub = queue()
    worker = PublishingWorker(concurrency=2, name="w")
    thread = threading.Thread(target=_run_and_close, args=(worker,))
    thread.start()
    try:
        assert publishing.wait(10) and hang.wait(10)
        first = refresh(pub).lease_expires_at
        deadline = time.monotonic() + 10
        # The lease keeper moves the lease on while the token job hangs.
        while refresh(pub).lease_expires_at <= first + timedelta(seconds=0.5):
            assert time.monotonic() < deadline, "lease was not renewed"
            time.sleep(0.05)
        assert refresh(pub).status == S.PUBLISHING
    finally:
        release.set()
        worker.stop.set()
        thread.join(20)
    assert refresh(pub).status == S.PUBLISHED
    assert len(fake_network.log) == 1


def _run_and_close(worker):
    try:
        worker.run()
    finally:
        connection.close()


# -- a late success is still a fact ---------------------------------------------


@pytest.mark.django_db
def test_late_success_of_a_worker_that_lost_its_lease_stops_the_other_worker(
    fake_network, queue
):
    pub = queue()
    [slow] = engine.claim_due(owner="slow-worker", limit=5)
    slow_outcome = engine.execute(slow)  # sent; its answer is late to record
    expire_leases()
    engine.sweep_expired_leases()
    [other] = engine.claim_due(owner="other-worker", limit=5)
    fake_network.find_script = ["miss"]  # the network does not list it yet
    assert engine.record(slow, slow_outcome) == S.PUBLISHED
    outcome = engine.execute(other)
    assert outcome.kind == "fenced"
    assert engine.record(other, outcome) == S.PUBLISHED
    assert len(fake_network.log) == 1
    assert refresh(pub).remote_id == "r1"


@pytest.mark.django_db
def test_two_posts_for_one_publication_are_told_to_a_person(
    fake_network, queue, organisation, desk_admin
):
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.notifications.models import Notification

    # Facebook keeps no key: a second send makes a second post.
    pub = queue(channel=ChannelFactory(organisation=organisation,
                                       network="facebook"))
    [slow] = engine.claim_due(owner="slow-worker", limit=5)
    slow_outcome = engine.execute(slow)
    expire_leases()
    engine.sweep_expired_leases()
    [other] = engine.claim_due(owner="other-worker", limit=5)
    fake_network.find_script = ["miss"]
    assert engine.record(other, engine.execute(other)) == S.PUBLISHED
    assert engine.record(slow, slow_outcome) == S.PUBLISHED
    assert refresh(pub).remote_id == "r2"  # the first recorded stays
    note = Notification.objects.get(kind="publication_duplicate")
    assert note.recipient == desk_admin
    assert "https://fake.example/p/1" in note.message


# -- a host whose clock is off -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_worker_on_a_host_whose_clock_is_ahead_sends_nothing_early(
    fake_network, queue, monkeypatch
):
    from concurrent.futures import wait

    from kanal.publishing.worker import PeriodicRunner

    pub = queue(planned_at=timezone.now() + timedelta(seconds=60))
    late = queue(planned_at=timezone.now() - timedelta(minutes=1))
    real = timezone.now
    # NTP is broken on this host: its clock is three hours ahead.
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(hours=3))
    worker = PublishingWorker(concurrency=2, name="ahead")
    PeriodicRunner(threading.Event(), worker.clock).run_due(force=True)
    assert refresh(late).status == S.QUEUED  # not "missed" by this host's clock
    with call_threads(2) as executor:
        assert worker.claim(executor) == 1
        wait(list(worker.in_flight), timeout=10)
        worker.record_finished()
    assert refresh(pub).status == S.QUEUED  # not sent early
    assert refresh(late).status == S.PUBLISHED


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_thread_stalled_between_its_fence_and_the_send_sends_nothing(
    sandbox, organisation, monkeypatch
):
    from kanal.channels.networks.facebook import FacebookAdapter

    monkeypatch.setenv("KANAL_PUBLISH_LEASE_SECONDS", "0.3")

    class StallsAfterItsFence(FacebookAdapter):
        def fence(self, operation):
            super().fence(operation)
            time.sleep(0.5)  # a stopped process, a long GC pause

    channel = sandbox_channel(sandbox, organisation, "facebook")
    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, "facebook", StallsAfterItsFence)
    pub = queue_on(channel)
    [job] = engine.claim_due(owner="w", limit=5)
    outcome = engine.execute(job)
    assert outcome.kind == "fenced"
    assert outcome.extra["why"] == "deadline"
    assert posts_on(sandbox, channel) == []
    assert engine.record(job, outcome) == S.UNKNOWN  # asks before it sends
    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, "facebook", FacebookAdapter)
    assert run_once() == [S.PUBLISHED]
    assert len(posts_on(sandbox, channel)) == 1
    assert refresh(pub).remote_id


@pytest.mark.django_db
def test_a_write_grant_that_was_not_used_does_not_outlive_its_job(
    fake_network, queue
):
    """The fence granted a write, then the adapter failed before sending:
    the grant (and its deadline) ends with the job, so the thread's next
    write, another job's, is not refused as 'past its deadline'."""
    from kanal.channels.networks import http
    from kanal.channels.networks.errors import TransientError

    queue()
    fake_network.script.append(
        ("after_fence", TransientError("Netværket svarede ikke.", network="fake"))
    )
    [job] = engine.claim_due(owner="w1", limit=5)
    engine.execute(job)
    assert getattr(http._deadline, "value", None) is None
