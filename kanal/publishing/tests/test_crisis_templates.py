"""Prepared crisis templates per kind of event, kept by the desk, audited,
per organisation, and ready to fill in."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import escape

from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory
from kanal.publishing import crisis as crisis_tools
from kanal.publishing.crisis import CrisisMessageRefused
from kanal.publishing.models import CrisisEvent, CrisisTemplate, Publication

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EDITOR, Role.CRISIS_LEAD])
def test_the_desk_creates_changes_and_deletes_templates_with_audit(
    role, member, client_for
):
    actor = member(role)
    client = client_for(actor)
    response = client.post(reverse("publishing:crisis_template_create"), {
        "name": "Skybrud i byen", "event": "cloudburst",
        "text": "Skybrud i [OMRÅDE]. Ring 112 ved livsfare.",
        "link": "kk.dk/skybrud",
        "version_x": "Skybrud i [OMRÅDE]. Ring 112.",
    })
    assert response.status_code == 302
    template = CrisisTemplate.objects.get()
    assert (template.organisation_id, template.event, template.link) == (
        actor.organisation_id, "cloudburst", "https://kk.dk/skybrud")
    # Only networks the organisation has channels on get a version field;
    # the fixture organisation has none, so no versions yet.
    assert template.versions == {}

    ChannelFactory(organisation=actor.organisation, network="x")
    response = client.post(
        reverse("publishing:crisis_template_edit", args=[template.pk]), {
            "name": "Skybrud", "event": "cloudburst",
            "text": "Skybrud i [OMRÅDE]. Ring 112 ved livsfare.",
            "version_x": "Skybrud i [OMRÅDE]. Ring 112.",
        })
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Skybrud"
    assert template.versions == {"x": "Skybrud i [OMRÅDE]. Ring 112."}

    page = client.get(reverse("publishing:crisis_template_delete",
                              args=[template.pk]))
    assert "Slet skabelonen Skybrud" in page.content.decode()
    response = client.post(reverse("publishing:crisis_template_delete",
                                   args=[template.pk]))
    assert response.status_code == 302
    assert not CrisisTemplate.objects.exists()
    events = list(AuditEntry.objects.filter(
        event__startswith="publishing.crisis_template").values_list(
        "event", flat=True).order_by("seq"))
    assert events == ["publishing.crisis_template.created",
                      "publishing.crisis_template.changed",
                      "publishing.crisis_template.deleted"]
    deleted = AuditEntry.objects.get(event="publishing.crisis_template.deleted")
    assert deleted.changes["text"] == "Skybrud i [OMRÅDE]. Ring 112 ved livsfare."


@pytest.mark.parametrize("role", [Role.APPROVER, Role.ANALYST, Role.CONTRIBUTOR])
def test_others_may_not_keep_templates(role, member, organisation):
    with pytest.raises(PermissionDenied):
        crisis_tools.create_crisis_template(
            actor=member(role), organisation=organisation, name="X",
            event="other", text="Tekst",
        )


def test_templates_belong_to_one_organisation(member, client_for):
    mine = member(Role.CRISIS_LEAD)
    other = MembershipFactory(role=Role.ADMIN)
    theirs = crisis_tools.create_crisis_template(
        actor=other, organisation=other.organisation, name="Stormflod",
        event="storm_surge", text="Deres tekst",
    )
    client = client_for(mine)
    assert "Deres tekst" not in client.get(
        reverse("publishing:crisis_templates")).content.decode()
    assert client.get(reverse("publishing:crisis_template_edit",
                              args=[theirs.pk])).status_code == 404
    assert client.get(reverse("publishing:crisis") + f"?skabelon={theirs.pk}"
                      ).status_code == 404
    assert client.post(reverse("publishing:crisis_template_delete",
                               args=[theirs.pk])).status_code == 404
    assert CrisisTemplate.objects.filter(pk=theirs.pk).exists()


def test_a_duplicate_name_is_refused_in_danish_and_keeps_the_input(
    member, client_for
):
    lead = member(Role.CRISIS_LEAD)
    crisis_tools.create_crisis_template(
        actor=lead, organisation=lead.organisation, name="Stormflod",
        event="storm_surge", text="Første")
    response = client_for(lead).post(reverse("publishing:crisis_template_create"), {
        "name": "Stormflod", "event": "storm_surge", "text": "Anden tekst"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Der findes allerede en skabelon med navnet" in page
    assert ">\nAnden tekst</textarea>" in page


def test_starter_templates_cover_the_four_events_and_their_short_versions_fit(
    member, organisation
):
    lead = member(Role.CRISIS_LEAD)
    created = crisis_tools.install_starter_templates(actor=lead,
                                                     organisation=organisation)
    assert sorted(t.event for t in created) == sorted([
        CrisisEvent.STORM_SURGE, CrisisEvent.CLOUDBURST,
        CrisisEvent.WATER_SUPPLY, CrisisEvent.IT_OUTAGE])
    assert crisis_tools.install_starter_templates(
        actor=lead, organisation=organisation) == []
    channels = [ChannelFactory(organisation=organisation, network=n)
                for n in ("x", "bluesky", "threads", "mastodon", "facebook",
                          "linkedin")]
    for template in created:
        assert crisis_tools.placeholders(template.text), template.name
        assert "112" in template.text
        composition = crisis_tools.compose(
            channels, chosen=None, text=template.text, link=template.link,
            own=template.versions, allow_placeholders=True,
        )
        # Room is left for the placeholders' values on the tight networks.
        for version in composition.networks:
            count = version.channels[0]
            assert count.fits, (template.name, version.network)
            assert count.length <= count.limit - 40, (template.name,
                                                      version.network)


def test_using_a_template_fills_the_composer_and_placeholders_block_sending(
    member, organisation, client_for
):
    lead = member(Role.CRISIS_LEAD)
    x = ChannelFactory(organisation=organisation, network="x")
    fb = ChannelFactory(organisation=organisation, network="facebook")
    crisis_tools.install_starter_templates(actor=lead, organisation=organisation)
    storm = CrisisTemplate.objects.get(event=CrisisEvent.STORM_SURGE)
    client = client_for(lead)
    page = client.get(reverse("publishing:crisis") + f"?skabelon={storm.pk}"
                      ).content.decode()
    assert f">\n{escape(storm.text)}</textarea>" in page
    assert re.search(r'<textarea name="text"[^>]* autofocus', page)
    assert f">\n{escape(storm.versions['x'])}</textarea>" in page
    assert "Udfyld pladsholderne: [VANDSTAND], [OMRÅDE], [TIDSPUNKT], [STED]" in page

    with pytest.raises(CrisisMessageRefused, match=r"\[VANDSTAND\]"):
        from kanal.publishing import actions

        actions.publish_crisis_message(
            actor=lead, organisation=organisation, text=storm.text,
            versions=storm.versions, channels=[x, fb], confirmed=True)
    assert not Publication.objects.exists()


def test_template_editor_counts_with_placeholders_allowed(
    member, organisation, client_for
):
    lead = member(Role.CRISIS_LEAD)
    ChannelFactory(organisation=organisation, network="x")
    client = client_for(lead)
    page = client.get(reverse("publishing:crisis_template_create")).content.decode()
    assert 'data-kind="template"' in page
    assert 'name="version_x"' in page
    import json

    data = json.loads(client.post(reverse("publishing:crisis_versions"), {
        "kind": "template", "text": "Skybrud i [OMRÅDE]. " * 20,
    }).content)
    assert data["states"] == {"x": "over"}
    assert "Pladsholdere, som krisestyringen udfylder" in data["networks"]["x"]
