from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role
from kanal.publishing import actions
from kanal.publishing.models import Crisis, Publication, PublicationStatus

from .conftest import run_once

S = PublicationStatus
pytestmark = pytest.mark.django_db


def statuses():
    return dict(Publication.objects.values_list("pk", "status"))


def test_crisis_pauses_every_scheduled_publication_and_is_audited(
    fake_network, queue, member
):
    lead = member(Role.CRISIS_LEAD)
    a, b = queue(), queue(planned_at=timezone.now() + timedelta(hours=1))
    crisis = actions.start_crisis(
        actor=lead, organisation=lead.organisation, reason="Storm over København"
    )
    assert statuses() == {a.pk: S.PAUSED, b.pk: S.PAUSED}
    assert run_once() == []
    assert fake_network.calls == 0
    entry = AuditEntry.objects.get(event="publishing.crisis.started")
    assert entry.changes["reason"] == "Storm over København"
    assert entry.changes["paused"] == 2
    assert crisis.is_active


def test_crisis_needs_a_reason(member):
    lead = member(Role.CRISIS_LEAD)
    with pytest.raises(ValueError, match="årsag"):
        actions.start_crisis(actor=lead, organisation=lead.organisation, reason=" ")


def test_editor_may_switch_crisis_on_but_analyst_may_not(member):
    editor = member(Role.EDITOR)
    analyst = member(Role.ANALYST)
    with pytest.raises(PermissionDenied):
        actions.start_crisis(actor=analyst, organisation=analyst.organisation,
                             reason="x")
    assert actions.start_crisis(
        actor=editor, organisation=editor.organisation, reason="Brand"
    ).is_active


def test_crisis_for_chosen_channels_leaves_the_others_running(
    fake_network, queue, channel, member
):
    other = ChannelFactory(organisation=channel.organisation, network="x")
    lead = member(Role.CRISIS_LEAD)
    on_other = queue(channel=other)
    on_channel = queue()
    actions.start_crisis(actor=lead, organisation=lead.organisation,
                         reason="Brand", channels=[channel])
    assert run_once() == [S.PUBLISHED]
    assert Publication.objects.get(pk=on_other.pk).status == S.PUBLISHED
    assert Publication.objects.get(pk=on_channel.pk).status == S.PAUSED


def test_publication_queued_during_crisis_starts_paused(queue, member):
    lead = member(Role.CRISIS_LEAD)
    actions.start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    assert queue().status == S.PAUSED


def test_ending_crisis_requires_a_decision_for_every_paused_post(queue, member):
    lead = member(Role.CRISIS_LEAD)
    a, b = queue(), queue()
    crisis = actions.start_crisis(actor=lead, organisation=lead.organisation,
                                  reason="Brand")
    with pytest.raises(ValueError, match="mangler 1"):
        actions.end_crisis(crisis, actor=lead,
                           decisions={a.pk: ("cancel", None)})
    assert Crisis.objects.get(pk=crisis.pk).is_active
    assert statuses() == {a.pk: S.PAUSED, b.pk: S.PAUSED}


def test_resume_choices_publish_now_reschedule_and_cancel(
    fake_network, queue, member
):
    lead = member(Role.CRISIS_LEAD)
    now_pub, later_pub, cancel_pub = queue(), queue(), queue()
    crisis = actions.start_crisis(actor=lead, organisation=lead.organisation,
                                  reason="Brand")
    later = timezone.now() + timedelta(hours=2)
    tally = actions.end_crisis(crisis, actor=lead, decisions={
        now_pub.pk: ("publish_now", None),
        later_pub.pk: ("reschedule", later),
        cancel_pub.pk: ("cancel", None),
    })
    assert tally == {"publish_now": 1, "reschedule": 1, "cancel": 1}  # posts
    assert run_once() == [S.PUBLISHED]
    assert statuses() == {now_pub.pk: S.PUBLISHED, later_pub.pk: S.QUEUED,
                          cancel_pub.pk: S.CANCELLED}
    assert Publication.objects.get(pk=later_pub.pk).planned_at == later
    assert not Crisis.objects.get(pk=crisis.pk).is_active
    assert AuditEntry.objects.filter(event="publishing.crisis.ended").exists()


def test_crisis_message_goes_out_on_every_channel_despite_crisis(
    fake_network, channel, member
):
    other = ChannelFactory(organisation=channel.organisation, network="bluesky")
    lead = member(Role.CRISIS_LEAD)
    actions.start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    text = "Brand på Amager. Hold vinduer og døre lukket. Følg kk.dk for nyt."
    # The fake network allows 40 characters: the message is refused whole,
    # never cut at a word.
    with pytest.raises(ValueError, match="passer ikke"):
        actions.publish_crisis_message(
            actor=lead, organisation=lead.organisation, text=text,
            channels=[channel, other], confirmed=True,
        )
    short = "Brand på Amager. Hold døre lukket."
    pubs = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text=text,
        channels=[channel, other], confirmed=True,
        versions={"mastodon": short, "bluesky": short},
    )
    assert all(p.is_crisis for p in pubs)
    assert [p.text for p in pubs] == [short, short]
    assert sorted(run_once()) == [S.PUBLISHED, S.PUBLISHED]
    assert sorted(t for _key, t in fake_network.log) == [short, short]


def test_crisis_message_needs_explicit_confirmation(channel, member):
    lead = member(Role.CRISIS_LEAD)
    with pytest.raises(ValueError, match="Bekræft"):
        actions.publish_crisis_message(actor=lead, organisation=lead.organisation,
                                       text="Brand", channels=[channel])


def test_editor_cannot_send_a_crisis_message(fake_network, channel, member):
    editor = member(Role.EDITOR)
    with pytest.raises(PermissionDenied):
        actions.publish_crisis_message(actor=editor, organisation=editor.organisation,
                                       text="Brand", channels=[channel],
                                       confirmed=True)


def test_crisis_message_skips_networks_that_need_an_image(fake_network, channel,
                                                          member):
    ig = ChannelFactory(organisation=channel.organisation, network="instagram")
    lead = member(Role.CRISIS_LEAD)
    pubs = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text="Brand på Amager",
        channels=[channel, ig], confirmed=True,
    )
    assert [p.channel_id for p in pubs] == [channel.pk]
    entry = AuditEntry.objects.get(event="publishing.crisis.message_sent")
    assert entry.changes["skipped"] == [ig.pk]
