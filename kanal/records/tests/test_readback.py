"""Published posts read back from the networks: an edit or a deletion made in
the network's own app enters the record as a new version (issue 17)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from kanal.channels import adapters
from kanal.channels.models import ChannelStatus
from kanal.channels.networks.base import NetworkAdapter, PostState
from kanal.channels.networks.errors import RateLimited, Rejected, TransientError
from kanal.publishing import actions as publishing_actions
from kanal.publishing import periodic
from kanal.publishing.models import Publication
from kanal.publishing.tests.conftest import run_once, sandbox_channel
from kanal.records import actions, capture, readback
from kanal.records.export import run_export
from kanal.records.models import PostReadback, RecordChange, RecordEntry

HOUR = timedelta(hours=1)


def publish(sandbox, organisation, network: str, text: str):
    """Publish ``text`` through the engine to ``network``'s emulator and let
    the record's sweep record it; returns the publication and the sweep's
    "now"."""
    channel = sandbox_channel(sandbox, organisation, network)
    pub = publishing_actions.queue_publication(
        actor=None, organisation=organisation, channel=channel,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None, text=text,
    )
    assert run_once() == ["published"]
    pub.refresh_from_db()
    assert capture.capture_published() == 1
    return pub


def owner(sandbox, network: str, remote_id: str, *, text: str | None = None):
    """Someone edits (``text``) or deletes the post in the network's app."""
    path = f"/_sandbox/items/{network}/{remote_id}"
    if text is None:
        return sandbox.control("DELETE", path)
    return sandbox.control("PATCH", path, {"text": text})


def versions(pub) -> list[RecordEntry]:
    return list(RecordEntry.objects.filter(
        source_key=capture.publication_key(pub)).order_by("version"))


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("network", ["facebook", "x", "mastodon", "bluesky",
                                     "linkedin", "threads"])
def test_an_edit_and_a_deletion_on_the_network_become_new_versions(
    network, sandbox, organisation
):
    text = f"Havnebadet åbner kl. 7 ({uuid.uuid4().hex[:8]})"
    pub = publish(sandbox, organisation, network, text)
    start = pub.published_at
    # Read once as published: nothing has changed on the network.
    assert readback.read_back_published(now=start + 2 * HOUR) == 0
    assert [v.change for v in versions(pub)] == [RecordChange.CREATED]

    edited = f"Havnebadet åbner først kl. 9 & varmen er på ({uuid.uuid4().hex[:8]})"
    owner(sandbox, network, pub.remote_id, text=edited)
    assert readback.read_back_published(now=start + 4 * HOUR) == 1
    first, second = versions(pub)
    assert first.text == text  # the earlier version stays as it was
    assert second.change == RecordChange.EDITED and second.version == 2
    assert second.text == edited
    assert second.content["seen_on_network_at"]
    assert second.content_hash != first.content_hash
    if network == "x":  # an edit on X is a new post id
        assert second.content["remote_id_now"] != pub.remote_id
    # Read again: the same text is no new version.
    assert readback.read_back_published(now=start + 6 * HOUR) == 0
    assert len(versions(pub)) == 2

    owner(sandbox, network, pub.remote_id)
    assert readback.read_back_published(now=start + 8 * HOUR) == 1
    third = versions(pub)[-1]
    assert third.change == RecordChange.DELETED and third.version == 3
    assert third.text == edited  # the last content is kept
    check = PostReadback.objects.get(publication=pub)
    assert check.gone_at is not None and check.next_read_at is None
    # A post recorded as deleted is not read again (a fault would show it).
    sandbox.fault(network, "server_error", method="GET",
                  account=pub.channel.remote_id, count=None)
    try:
        assert readback.read_back_published(now=start + 30 * HOUR) == 0
        assert PostReadback.objects.get(pk=check.pk).last_error == ""
    finally:
        sandbox.clear_faults(network)
    assert len(versions(pub)) == 3


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["server_error", "rate_limit", "expired_token"])
def test_a_failed_read_is_retried_and_never_recorded_as_a_deletion(
    kind, sandbox, organisation
):
    pub = publish(sandbox, organisation, "mastodon",
                  f"Affald hentes fredag ({uuid.uuid4().hex[:8]})")
    now = pub.published_at + 2 * HOUR
    sandbox.fault("mastodon", kind, method="GET", account=pub.channel.remote_id)
    assert readback.read_back_published(now=now) == 0
    check = PostReadback.objects.get(publication=pub)
    assert check.last_error and check.failures == 1 and check.gone_at is None
    assert check.next_read_at >= now + timedelta(minutes=10)
    assert [v.change for v in versions(pub)] == [RecordChange.CREATED]
    # The next try reads it: the post is there and unchanged.
    assert readback.read_back_published(now=check.next_read_at) == 0
    check.refresh_from_db()
    assert check.last_error == "" and check.failures == 0 and check.reads == 1
    assert len(versions(pub)) == 1


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_a_channel_that_needs_reconnecting_is_not_read(sandbox, organisation):
    pub = publish(sandbox, organisation, "mastodon",
                  f"Biblioteket holder lukket ({uuid.uuid4().hex[:8]})")
    owner(sandbox, "mastodon", pub.remote_id)
    pub.channel.status = ChannelStatus.NEEDS_RECONNECT
    pub.channel.save(update_fields=["status"])
    now = pub.published_at + 2 * HOUR
    assert readback.read_back_published(now=now) == 0
    check = PostReadback.objects.get(publication=pub)
    assert check.last_read_at is None and check.reads == 0
    pub.channel.status = ChannelStatus.CONNECTED
    pub.channel.save(update_fields=["status"])
    assert readback.read_back_published(now=now) == 1
    assert versions(pub)[-1].change == RecordChange.DELETED


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_the_export_shows_the_versions_seen_on_the_network(
    sandbox, organisation, member, client_for
):
    from pypdf import PdfReader

    from kanal.organisations.roles import Role

    pub = publish(sandbox, organisation, "x",
                  f"Havnebad ved Sluseholmen åbner ({uuid.uuid4().hex[:8]})")
    edited = f"Havnebad ved Sluseholmen åbner i morgen ({uuid.uuid4().hex[:8]})"
    owner(sandbox, "x", pub.remote_id, text=edited)
    readback.read_back_published(now=pub.published_at + 2 * HOUR)
    owner(sandbox, "x", pub.remote_id)
    readback.read_back_published(now=pub.published_at + 4 * HOUR)
    officer = member(Role.RECORDS_OFFICER)
    today = timezone.localdate()
    access = actions.build_access_request(
        actor=officer, title="Aktindsigt om havnebad", requester="Journalist",
        case_ref="2026-77", period_start=today - timedelta(days=2),
        period_end=today + timedelta(days=1), search_words=["sluseholmen"],
    )
    assert access.found == 3
    page = client_for(officer).get(f"/journal/aktindsigt/{access.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "version 2 (Ændret)" in html
    assert "version 3 (Slettet på netværket)" in html
    export = run_export(actions.start_export(access, actor=officer).pk)
    archive = zipfile.ZipFile(io.BytesIO(default_storage.open(export.zip_path).read()))
    items = json.loads(archive.read("items.json"))["items"]
    assert [(i["version"], i["change"]) for i in items] == [
        (1, "created"), (2, "edited"), (3, "deleted")]
    assert items[1]["content"]["text"] == edited
    assert items[1]["content"]["edited_on_network_at"]
    assert items[2]["content"]["deleted_on_network_at"]
    reader = PdfReader(io.BytesIO(default_storage.open(export.pdf_path).read()))
    pdf = " ".join(page.extract_text() for page in reader.pages)
    assert "version 2 (Ændret)" in pdf
    assert "version 3 (Slettet på netværket)" in pdf
    assert "Ændret på netværket" in pdf and "Set slettet på netværket" in pdf


# ---------------------------------------------------------------------------
# The job's own rules, with a network double that counts its reads


class CountingNetwork:
    """What a network answers to ``read_post``, and how the job called it."""

    def __init__(self) -> None:
        self.answers: dict[str, object] = {}
        self.reads: list[str] = []
        self.in_transaction: list[bool] = []


@pytest.fixture
def network(desk):
    seen = CountingNetwork()

    class Reading(NetworkAdapter):
        def read_post(self, remote_id):
            seen.reads.append(remote_id)
            seen.in_transaction.append(connection.in_atomic_block)
            answer = seen.answers.get(remote_id, "same")
            if isinstance(answer, Exception):
                raise answer
            if answer == "gone":
                return PostState(remote_id, gone=True)
            entry = RecordEntry.objects.filter(
                content__remote_id=remote_id).order_by("version").first()
            text = entry.text if answer == "same" else answer
            return PostState(remote_id, text=text, current_id=remote_id)

    saved = dict(adapters.ADAPTER_OVERRIDES)
    adapters.ADAPTER_OVERRIDES.update({"facebook": Reading, "x": Reading})
    yield seen
    adapters.ADAPTER_OVERRIDES.clear()
    adapters.ADAPTER_OVERRIDES.update(saved)


def _recorded(desk, published, text, *, ago, channel="facebook"):
    pub = published(desk[channel], text, ago=ago)
    capture.capture_publication(pub)
    return pub


def test_cadence_reads_young_posts_often_and_old_ones_rarely():
    assert readback.read_every(timedelta(hours=3)) == timedelta(hours=1)
    assert readback.read_every(timedelta(days=10)) == timedelta(days=1)
    assert readback.read_every(timedelta(days=200)) == timedelta(days=7)
    assert readback.read_every(timedelta(days=400)) is None


def test_posts_older_than_the_cadence_or_not_recorded_are_not_enrolled(
    desk, published
):
    now = timezone.now()
    young = _recorded(desk, published, "Ny plan for Amager", ago=timedelta(days=2))
    _recorded(desk, published, "Gammel plan", ago=timedelta(days=400))
    published(desk["facebook"], "Endnu ikke journaliseret", ago=timedelta(days=1))
    assert readback.enrol(now) == 1
    check = PostReadback.objects.get()
    assert check.publication_id == young.pk
    assert check.next_read_at == now  # its first hour is long past
    assert readback.enrol(now) == 0


@pytest.mark.django_db(transaction=True)
def test_a_run_reads_at_most_its_bound_and_never_inside_a_transaction(
    desk, published, network, settings
):
    settings.KANAL_RECORDS = {"READBACK_PER_RUN": 2}
    pubs = [_recorded(desk, published, f"Opslag {n}", ago=timedelta(days=n + 1))
            for n in range(3)]
    now = timezone.now()
    # Equally due: the oldest post first.
    network.answers[pubs[2].remote_id] = "Opslag 2, rettet på Facebook"
    assert readback.read_back_published(now=now) == 1
    assert network.reads == [pubs[2].remote_id, pubs[1].remote_id]
    assert network.in_transaction == [False, False]
    readback.read_back_published(now=now)
    assert sorted(network.reads) == sorted(p.remote_id for p in pubs)
    nexts = {c.publication_id: c.next_read_at for c in PostReadback.objects.all()}
    assert nexts[pubs[2].pk] == now + timedelta(days=1)
    assert RecordEntry.objects.get(version=2).text == "Opslag 2, rettet på Facebook"


def test_a_run_starts_no_read_after_its_time_budget(
    desk, published, network, settings
):
    settings.KANAL_RECORDS = {"READBACK_RUN_SECONDS": 0}
    for n in range(3):
        _recorded(desk, published, f"Budget {n}", ago=timedelta(days=n + 1))
    now = timezone.now()
    readback.read_back_published(now=now)
    assert len(network.reads) == 1  # at least one, then the budget is spent
    assert PostReadback.objects.filter(next_read_at__lte=now).count() == 2


def test_a_rate_limit_stops_the_channel_for_this_run_only(desk, published, network):
    first = _recorded(desk, published, "Første", ago=timedelta(days=3))
    second = _recorded(desk, published, "Anden", ago=timedelta(days=2))
    other = _recorded(desk, published, "På X", ago=timedelta(days=2), channel="x")
    now = timezone.now()
    reset = now + timedelta(hours=5)
    network.answers[first.remote_id] = RateLimited(reset_at=reset)
    assert readback.read_back_published(now=now) == 0
    assert network.reads == [first.remote_id, other.remote_id]
    checks = {c.publication_id: c for c in PostReadback.objects.all()}
    assert checks[first.pk].next_read_at == reset
    assert checks[second.pk].next_read_at == now  # not tried: still due
    assert all(v.change == RecordChange.CREATED
               for v in RecordEntry.objects.all())


def test_a_transient_error_keeps_the_post_due_later_and_records_nothing(
    desk, published, network
):
    pub = _recorded(desk, published, "Vejarbejde", ago=timedelta(days=3))
    now = timezone.now()
    network.answers[pub.remote_id] = TransientError(http_status=503)
    assert readback.read_back_published(now=now) == 0
    check = PostReadback.objects.get()
    assert check.next_read_at == now + timedelta(minutes=10)  # the next run
    assert check.gone_at is None and check.failures == 1
    assert RecordEntry.objects.count() == 1


def test_a_refusal_of_one_post_waits_for_its_next_regular_read(
    desk, published, network
):
    pub = _recorded(desk, published, "Video fra havnen", ago=timedelta(days=3))
    other = _recorded(desk, published, "Næste opslag", ago=timedelta(days=2))
    now = timezone.now()
    network.answers[pub.remote_id] = Rejected(http_status=400)
    readback.read_back_published(now=now)
    checks = {c.publication_id: c for c in PostReadback.objects.all()}
    assert checks[pub.pk].next_read_at == now + timedelta(days=1)
    assert checks[pub.pk].gone_at is None
    assert checks[other.pk].reads == 1  # the channel's other posts are read
    assert RecordEntry.objects.count() == 2


def test_an_unforeseen_failure_affects_only_that_post(desk, published, network):
    broken = _recorded(desk, published, "Mærkeligt svar", ago=timedelta(days=3))
    fine = _recorded(desk, published, "Almindeligt", ago=timedelta(days=2))
    now = timezone.now()
    network.answers[broken.remote_id] = KeyError("data")
    network.answers[fine.remote_id] = "Almindeligt, rettet"
    assert readback.read_back_published(now=now) == 1
    checks = {c.publication_id: c for c in PostReadback.objects.all()}
    assert checks[broken.pk].failures == 1
    assert checks[broken.pk].next_read_at == now + timedelta(days=1)
    assert checks[fine.pk].reads == 1


def test_a_failing_post_past_the_cadence_is_not_tried_again(
    desk, published, network
):
    pub = _recorded(desk, published, "Næsten et år", ago=timedelta(days=364))
    now = timezone.now()
    readback.enrol(now)
    later = now + timedelta(days=2)
    network.answers[pub.remote_id] = TransientError(retry_after=float("inf"))
    assert readback.read_back_published(now=later) == 0
    check = PostReadback.objects.get()
    assert check.next_read_at is None and check.gone_at is None
    assert check.last_error


def test_a_claimed_post_is_not_read_by_a_second_worker(desk, published):
    _recorded(desk, published, "Kun én læser", ago=timedelta(days=3))
    now = timezone.now()
    readback.enrol(now)
    mine, theirs = readback.due(now, 10), readback.due(now, 10)
    assert readback.claim(mine[0], now) is True
    assert readback.claim(theirs[0], now) is False


def test_dry_run_counts_what_is_due_and_reads_nothing(desk, published, network):
    _recorded(desk, published, "Tørløb", ago=timedelta(days=3))
    now = timezone.now()
    readback.enrol(now)
    assert readback.read_back_published(now=now, dry_run=True) == 1
    assert network.reads == []


def test_an_edit_time_outside_the_posts_life_is_not_believed():
    published_at = timezone.now() - timedelta(days=1)
    now = timezone.now()
    assert readback._plausible(now - HOUR, published_at, now) == now - HOUR
    # A network clock a few seconds behind: the edit is kept after publishing.
    behind = published_at - timedelta(seconds=2)
    assert readback._plausible(behind, published_at, now) == published_at
    assert readback._plausible(published_at - HOUR, published_at, now) is None
    assert readback._plausible(now + timedelta(days=3), published_at, now) is None


def test_the_job_is_in_the_one_periodic_registry():
    job = next(j for j in periodic.PERIODIC_JOBS
               if j.name == "records_read_back_published")
    assert job.run is readback.read_back_published
    assert job.every() == 600.0


def test_a_deletion_keeps_the_media_of_the_last_version(
    desk, published, stored_image, network
):
    pub = published(desk["facebook"], "Billede af havnen", ago=timedelta(days=2),
                    media=[stored_image()])
    entry = capture.capture_publication(pub)
    network.answers[pub.remote_id] = "gone"
    readback.read_back_published(now=timezone.now())
    deleted = RecordEntry.objects.get(version=2)
    assert deleted.change == RecordChange.DELETED
    assert deleted.media == entry.media and deleted.media[0]["sha256"]
    assert Publication.objects.get(pk=pub.pk).text == "Billede af havnen"


def test_recording_the_publication_again_keeps_the_edit_seen_on_the_network(
    desk, published, network
):
    """A sibling publication of the post changes later (its own network
    publishes): recording this one again must not turn its record back to
    Kanal's text."""
    pub = _recorded(desk, published, "Koncert i Tivoli", ago=timedelta(days=2))
    network.answers[pub.remote_id] = "Koncert i Tivoli – aflyst"
    assert readback.read_back_published(now=timezone.now()) == 1
    assert capture.capture_publication(pub).text == "Koncert i Tivoli – aflyst"
    assert RecordEntry.objects.count() == 2
    # A change made in Kanal (a permalink added by hand) is still a version.
    pub.url = "https://example.org/rettet"
    pub.save(update_fields=["url"])
    assert capture.capture_publication(pub).version == 3


# ---------------------------------------------------------------------------
# A network that reads several posts a request (X: 100)


@pytest.fixture
def batching(network):
    """``network``'s double on X, reading three posts a request; each
    request's ids in ``requests``; an id answered ``"left out"`` is missing
    from the answer (a partial error)."""
    requests: list[tuple[str, ...]] = []
    single = adapters.ADAPTER_OVERRIDES["x"]

    class Batching(single):
        read_batch = 3

        def read_posts(self, remote_ids):
            requests.append(tuple(remote_ids))
            if isinstance(network.answers.get("batch"), Exception):
                raise network.answers["batch"]
            return {i: self.read_post(i) for i in remote_ids
                    if network.answers.get(i) != "left out"}

    adapters.ADAPTER_OVERRIDES["x"] = Batching
    return requests


def test_a_channels_due_posts_are_read_as_many_a_request_as_its_network_allows(
    desk, published, network, batching
):
    pubs = [_recorded(desk, published, f"X-opslag {n}", ago=timedelta(days=n + 1),
                      channel="x") for n in range(5)]
    other = _recorded(desk, published, "Facebook", ago=timedelta(days=1))
    now = timezone.now()
    network.answers[pubs[0].remote_id] = "X-opslag 0, rettet på X"
    network.answers[pubs[4].remote_id] = "gone"
    assert readback.read_back_published(now=now) == 2
    oldest_first = [p.remote_id for p in reversed(pubs)]
    assert batching == [tuple(oldest_first[:3]), tuple(oldest_first[3:])]
    assert other.remote_id in network.reads  # Facebook: one a request
    assert PostReadback.objects.filter(reads=1).count() == 6
    edited = RecordEntry.objects.get(change=RecordChange.EDITED)
    assert edited.text == "X-opslag 0, rettet på X"
    assert RecordEntry.objects.filter(change=RecordChange.DELETED).count() == 1


def test_a_post_a_batchs_answer_left_out_is_asked_again_and_nothing_concluded(
    desk, published, network, batching
):
    kept = _recorded(desk, published, "Læst", ago=timedelta(days=3), channel="x")
    left = _recorded(desk, published, "Udeladt", ago=timedelta(days=2), channel="x")
    now = timezone.now()
    network.answers[left.remote_id] = "left out"
    readback.read_back_published(now=now)
    assert len(batching) == 1
    checks = {c.publication_id: c for c in PostReadback.objects.all()}
    assert checks[kept.pk].reads == 1 and checks[kept.pk].failures == 0
    assert checks[left.pk].reads == 0 and checks[left.pk].failures == 1
    assert checks[left.pk].gone_at is None
    assert checks[left.pk].next_read_at == now + timedelta(minutes=10)
    assert RecordEntry.objects.count() == 2  # nothing new for either


def test_a_failed_batch_request_fails_each_of_its_posts_and_stops_the_channel(
    desk, published, network, batching, settings
):
    settings.KANAL_RECORDS = {"READBACK_PER_RUN": 10}
    pubs = [_recorded(desk, published, f"Rate {n}", ago=timedelta(days=n + 1),
                      channel="x") for n in range(4)]
    now = timezone.now()
    reset = now + timedelta(hours=2)
    network.answers["batch"] = RateLimited(reset_at=reset)
    assert readback.read_back_published(now=now) == 0
    assert len(batching) == 1  # the channel waits for the next run
    nexts = {c.publication_id: c.next_read_at for c in PostReadback.objects.all()}
    assert sorted(nexts[p.pk] for p in pubs) == [now, reset, reset, reset]
