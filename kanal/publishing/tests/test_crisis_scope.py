"""One answer to "is this publication held back by the crisis?".

Every place that needs the answer (queueing, sending again, switching crisis
mode on, the worker's claim and its send fence, the follow-up fence) asks
``kanal.publishing.scope``. These tests put each of them in every situation
and compare with one truth table, so a copy that answers differently fails.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.tests.factories import OrganisationFactory
from kanal.publishing import actions, engine
from kanal.publishing.models import Crisis, Publication, PublicationStatus
from kanal.publishing.scope import CrisisScope, CrisisScopes, held_back_in_sql

pytestmark = pytest.mark.django_db
S = PublicationStatus

#: situation -> the publications it holds back (of: c1, c2, c1_crisis, other)
SITUATIONS = {
    "no crisis": set(),
    "whole organisation": {"c1", "c2"},
    "channel c1 only": {"c1"},
    "ended crisis": set(),
    "another organisation's crisis": {"other"},
}


@pytest.fixture
def world(organisation, settings):
    # Two publications on c1 (an ordinary one and a crisis message) are
    # claimed together.
    settings.KANAL_PUBLISHING = {"CHANNEL_CONCURRENCY": 5}
    other_org = OrganisationFactory(name="Nabokommune", slug="nabo")
    channels = {
        "c1": ChannelFactory(organisation=organisation, network="mastodon"),
        "c2": ChannelFactory(organisation=organisation, network="bluesky"),
        "other": ChannelFactory(organisation=other_org, network="mastodon"),
    }
    return {"org": organisation, "other_org": other_org, "channels": channels}


def make_crisis(world, situation):
    org, channels = world["org"], world["channels"]
    if situation == "no crisis":
        return None
    if situation == "another organisation's crisis":
        return Crisis.objects.create(organisation=world["other_org"], reason="Brand")
    crisis = Crisis.objects.create(
        organisation=org,
        reason="Skybrud",
        whole_organisation=situation != "channel c1 only",
        ended_at=timezone.now() if situation == "ended crisis" else None,
    )
    if situation == "channel c1 only":
        crisis.channels.set([channels["c1"]])
    return crisis


def publications(world):
    """One due publication on each channel, and a crisis message on c1."""
    now = timezone.now()
    rows = {}
    for name, channel, is_crisis in [
        ("c1", world["channels"]["c1"], False),
        ("c2", world["channels"]["c2"], False),
        ("c1_crisis", world["channels"]["c1"], True),
        ("other", world["channels"]["other"], False),
    ]:
        rows[name] = Publication.objects.create(
            organisation_id=channel.organisation_id,
            channel=channel,
            planned_at=now - timedelta(seconds=1),
            due_at=now - timedelta(seconds=1),
            late_after=now + timedelta(hours=2),
            text=f"Opslag på {name}",
            is_crisis=is_crisis,
            status=S.QUEUED,
        )
    return rows


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_scope_object_and_its_sql_form_agree_with_the_truth(world, situation):
    make_crisis(world, situation)
    pubs = publications(world)
    expected = SITUATIONS[situation]
    loaded = CrisisScopes.load()
    for name, pub in pubs.items():
        want = name in expected
        assert CrisisScope.current(pub.organisation_id).holds_back(pub) is want, name
        assert loaded.holds_back(pub) is want, name
        in_sql = Publication.objects.filter(pk=pub.pk).filter(held_back_in_sql())
        assert in_sql.exists() is want, name


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_workers_claim_pauses_exactly_what_is_held_back(world, situation):
    make_crisis(world, situation)
    pubs = publications(world)
    jobs = engine.claim_due(owner="scope-test", limit=10)
    claimed = {job.publication_id for job in jobs}
    for name, pub in pubs.items():
        pub.refresh_from_db()
        if name in SITUATIONS[situation]:
            assert pub.status == S.PAUSED and pub.pk not in claimed, name
        else:
            assert pub.pk in claimed, name


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_send_fence_refuses_exactly_what_is_held_back(world, situation):
    pubs = publications(world)
    jobs = {job.publication_id: job for job in engine.claim_due(owner="w", limit=10)}
    assert len(jobs) == len(pubs)
    # The crisis is switched on after the claim: only the fence can stop it.
    make_crisis(world, situation)
    for name, pub in pubs.items():
        job = jobs[pub.pk]
        if name in SITUATIONS[situation]:
            with pytest.raises(engine.Fenced) as refused:
                engine.fence(job)
            assert str(refused.value) == "crisis", name
        else:
            engine.fence(job)


@pytest.mark.parametrize("situation", SITUATIONS)
def test_queueing_and_sending_again_ask_the_same_scope(world, situation):
    make_crisis(world, situation)
    for name in ("c1", "c2", "other"):
        channel = world["channels"][name]
        pub = actions.queue_publication(
            actor=None,
            organisation=channel.organisation,
            channel=channel,
            planned_at=timezone.now() + timedelta(hours=1),
            post_id=None,
            variant_id=None,
            revision_id=None,
            text="Nyt fra Rådhuset",
        )
        held = name in SITUATIONS[situation]
        assert (pub.status == S.PAUSED) is held, name
        Publication.objects.filter(pk=pub.pk).update(status=S.FAILED)
        if held:
            with pytest.raises(ValueError):
                actions.retry_publication(pub, actor=None)
        else:
            assert actions.retry_publication(pub, actor=None).status == S.QUEUED


@pytest.mark.parametrize("chosen", [None, "c1"])
def test_switching_crisis_mode_on_pauses_what_the_scope_holds_back(
    world, member, chosen
):
    from kanal.organisations.roles import Role

    pubs = publications(world)
    lead = member(Role.CRISIS_LEAD)
    channels = [world["channels"][chosen]] if chosen else None
    crisis = actions.start_crisis(
        actor=lead, organisation=world["org"], reason="Skybrud", channels=channels
    )
    scope = CrisisScope.of_crisis(crisis, world["org"].pk)
    for name, pub in pubs.items():
        pub.refresh_from_db()
        assert (pub.status == S.PAUSED) is scope.holds_back(pub), name
    assert {p.pk for p in scope.held_back(Publication.objects.all())} == {
        pubs[n].pk for n in (["c1"] if chosen else ["c1", "c2"])
    }


def test_no_other_file_decides_what_a_crisis_covers():
    """Only the scope reads a crisis's coverage; the model declares it and
    ``start_crisis`` sets it."""
    root = Path(__file__).resolve().parents[2]
    readers = set()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if "/tests/" in relative or "/migrations/" in relative:
            continue
        text = path.read_text(encoding="utf-8")
        if "whole_organisation" in text or "channels__publications" in text:
            readers.add(relative)
    assert readers == {"publishing/models.py", "publishing/scope.py",
                       "publishing/actions.py"}
    actions_text = (root / "publishing" / "actions.py").read_text()
    assert actions_text.count("whole_organisation") == 1  # set when it starts
