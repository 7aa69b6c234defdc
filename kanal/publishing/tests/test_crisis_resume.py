"""Ending a crisis: the proposed times keep a post's channels together, never
move a post earlier than planned, stay within the desk's hours and each
channel's cadence, and posts are counted as posts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from kanal.channels.models import StrategyProfile
from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role
from kanal.publishing import actions
from kanal.publishing import crisis as crisis_tools
from kanal.publishing.models import Publication, PublicationStatus

S = PublicationStatus
CPH = ZoneInfo("Europe/Copenhagen")
pytestmark = pytest.mark.django_db


def cph(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=CPH)


@pytest.fixture
def desk(organisation, member, time_machine):
    """Facebook (2–4 a day) and X (1–2 a day), as in the strategy; the clock
    at 5 December 22:50, the evening of the report."""
    time_machine.move_to(cph(5, 22, 50))
    fb = ChannelFactory(organisation=organisation, network="facebook")
    x = ChannelFactory(organisation=organisation, network="x")
    StrategyProfile.objects.filter(channel=x).update(cadence_min=1, cadence_max=2)
    lead = member(Role.CRISIS_LEAD)
    return {"fb": fb, "x": x, "lead": lead}


def post(desk, post_id, planned_at, channels=("fb", "x")):
    return [
        actions.queue_publication(
            actor=None, organisation=desk["lead"].organisation,
            channel=desk[name], planned_at=planned_at, post_id=post_id,
            variant_id=None, revision_id=None, text=f"Opslag {post_id} ({name})",
        )
        for name in channels
    ]


def paused(organisation_id):
    return list(
        Publication.objects.filter(organisation_id=organisation_id,
                                   status=S.PAUSED)
        .select_related("channel", "channel__strategy")
    )


def test_a_post_planned_for_later_keeps_its_time_on_all_its_channels(desk):
    post(desk, 11, cph(11, 10))
    actions.start_crisis(actor=desk["lead"], organisation=desk["lead"].organisation,
                         reason="Stormflod")
    proposals = crisis_tools.propose_times(paused(desk["lead"].organisation_id))
    assert proposals == {"post-11": cph(11, 10)}
    suggestion = actions.suggest_spread(paused(desk["lead"].organisation_id))
    assert set(suggestion.values()) == {cph(11, 10)}


def test_due_posts_move_forward_together_within_desk_hours_and_cadence(desk):
    # Both were due during the crisis; it is now 22:50, after desk hours.
    post(desk, 1, cph(5, 20))
    post(desk, 2, cph(5, 21))
    post(desk, 3, cph(5, 21, 30), channels=("fb",))
    actions.start_crisis(actor=desk["lead"], organisation=desk["lead"].organisation,
                         reason="Stormflod")
    pubs = paused(desk["lead"].organisation_id)
    proposals = crisis_tools.propose_times(pubs)
    # Next morning at opening; X (2 a day over 07–22) needs 7 h 30 between
    # posts, Facebook (4 a day) 3 h 45.
    assert proposals == {
        "post-1": cph(6, 7),
        "post-2": cph(6, 14, 30),
        "post-3": cph(6, 10, 45),
    }
    for pub in pubs:
        at = proposals[crisis_tools.post_key(pub)]
        assert at >= pub.planned_at
        assert 7 <= timezone.localtime(at).hour < 22


def test_cadence_counts_what_already_went_out_on_the_channel(desk, time_machine):
    time_machine.move_to(cph(6, 12))
    StrategyProfile.objects.filter(channel=desk["x"]).update(cadence_max=1)
    [out] = post(desk, 7, cph(6, 8), channels=("x",))
    Publication.objects.filter(pk=out.pk).update(
        status=S.PUBLISHED, published_at=cph(6, 8, 1))
    post(desk, 8, cph(6, 11), channels=("x",))
    actions.start_crisis(actor=desk["lead"], organisation=desk["lead"].organisation,
                         reason="Skybrud")
    proposals = crisis_tools.propose_times(paused(desk["lead"].organisation_id))
    # One a day on X, and today's went out at 08:01: tomorrow at opening.
    assert proposals == {"post-8": cph(7, 7)}


def test_weekly_cadence_is_one_a_day_and_at_most_n_a_week(
    desk, organisation, time_machine
):
    time_machine.move_to(cph(7, 22, 50))  # Monday evening
    weekly = ChannelFactory(organisation=organisation, network="mastodon")
    StrategyProfile.objects.filter(channel=weekly).update(
        cadence_min=2, cadence_max=2, cadence_period="week")
    desk["weekly"] = weekly
    for n in (1, 2, 3):
        post(desk, n, cph(7, 12), channels=("weekly",))
    actions.start_crisis(actor=desk["lead"], organisation=desk["lead"].organisation,
                         reason="Stormflod")
    proposals = crisis_tools.propose_times(paused(desk["lead"].organisation_id))
    # Tuesday, Wednesday; then the week has its two: next Monday.
    assert proposals == {
        "post-1": cph(8, 7), "post-2": cph(9, 7), "post-3": cph(14, 7),
    }


def test_desk_hours_are_a_setting(desk, settings):
    settings.KANAL_DESK_HOURS = "09:00-17:00"
    post(desk, 1, cph(5, 20))
    actions.start_crisis(actor=desk["lead"], organisation=desk["lead"].organisation,
                         reason="Stormflod")
    assert crisis_tools.propose_times(
        paused(desk["lead"].organisation_id)) == {"post-1": cph(6, 9)}
    settings.KANAL_DESK_HOURS = "22-07"
    with pytest.raises(ImproperlyConfigured, match="KANAL_DESK_HOURS"):
        crisis_tools.desk_hours()
    [error] = crisis_tools.desk_hours_are_valid(None)
    assert error.id == "kanal.E101"


def test_posts_are_counted_as_posts_on_the_page_and_in_the_tally(
    desk, client_for
):
    post(desk, 1, cph(5, 20))
    post(desk, 2, cph(11, 10))
    loose = post(desk, None, cph(5, 21), channels=("fb",))[0]
    lead = desk["lead"]
    crisis = actions.start_crisis(actor=lead, organisation=lead.organisation,
                                  reason="Stormflod")
    client = client_for(lead)
    page = client.get(reverse("publishing:crisis")).content.decode()
    assert "3 opslag (5 udgivelser på kanalerne) er sat på pause" in page
    # One time field per post (not per channel), holding the proposal.
    assert page.count('type="datetime-local" name="at-') == 3
    assert 'name="at-post-2" value="2026-12-11T10:00"' in page
    assert 'name="at-post-1" value="2026-12-06T07:00"' in page

    response = client.post(reverse("publishing:crisis_end"), {
        "choice-post-1": "publish_now",
        "choice-post-2": "reschedule", "at-post-2": "2026-12-11T10:00",
        f"choice-pub-{loose.pk}": "cancel",
    }, follow=True)
    assert "Opslag udgivet nu: 1, flyttet: 1, annulleret: 1." in (
        response.content.decode())
    assert not crisis.__class__.objects.filter(ended_at__isnull=True).exists()
    moved = Publication.objects.filter(post_id=2)
    assert {p.planned_at for p in moved} == {cph(11, 10)}
    assert {p.status for p in moved} == {S.QUEUED}
    entry = AuditEntry.objects.get(event="publishing.crisis.ended")
    assert entry.changes["decisions"] == {"publish_now": 1, "reschedule": 1,
                                          "cancel": 1}
    assert entry.changes["publications"] == 5


def test_bulk_reschedule_uses_each_posts_proposal(desk, client_for):
    post(desk, 1, cph(5, 20))
    post(desk, 2, cph(11, 10))
    lead = desk["lead"]
    actions.start_crisis(actor=lead, organisation=lead.organisation,
                         reason="Stormflod")
    client = client_for(lead)
    client.post(reverse("publishing:crisis_end"), {
        "bulk": "reschedule",
        "at-post-1": "2026-12-06T07:00", "at-post-2": "2026-12-11T10:00",
    })
    times = {(p.post_id, p.channel.network): p.planned_at
             for p in Publication.objects.select_related("channel")}
    assert times == {
        (1, "facebook"): cph(6, 7), (1, "x"): cph(6, 7),
        (2, "facebook"): cph(11, 10), (2, "x"): cph(11, 10),
    }


def test_a_time_in_the_past_is_refused_and_the_choices_are_kept(desk, client_for):
    post(desk, 1, cph(5, 20))
    lead = desk["lead"]
    actions.start_crisis(actor=lead, organisation=lead.organisation,
                         reason="Stormflod")
    client = client_for(lead)
    response = client.post(reverse("publishing:crisis_end"), {
        "choice-post-1": "reschedule", "at-post-1": "2026-12-01T07:00",
    })
    assert response.status_code == 400
    page = response.content.decode()
    assert "Vælg et tidspunkt i fremtiden" in page
    assert 'value="reschedule" checked' in page
    assert 'name="at-post-1" value="2026-12-01T07:00"' in page
    assert set(Publication.objects.values_list("status", flat=True)) == {S.PAUSED}
