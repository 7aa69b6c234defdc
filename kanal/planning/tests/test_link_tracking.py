"""UTM parameters on links, per organisation, channel and campaign."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kanal.core.models import AuditEntry
from kanal.planning import actions
from kanal.planning.links import Rule, track_text, track_url
from kanal.planning.models import LinkTracking
from kanal.planning.tests.formdata import form_data

RULE = Rule("facebook", "social", "jul-i-koebenhavn", ("kk.dk",))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.kk.dk/jul",
            "https://www.kk.dk/jul?utm_source=facebook&utm_medium=social"
            "&utm_campaign=jul-i-koebenhavn",
        ),
        (
            "https://kk.dk/jul?ref=a%20b#program",
            "https://kk.dk/jul?ref=a%20b&utm_source=facebook&utm_medium=social"
            "&utm_campaign=jul-i-koebenhavn#program",
        ),
        # Another site, an address with its own UTM, a mail link: untouched.
        ("https://bibliotek.example.org/x", "https://bibliotek.example.org/x"),
        (
            "https://kk.dk/x?utm_source=nyhedsbrev",
            "https://kk.dk/x?utm_source=nyhedsbrev",
        ),
        ("mailto:borgerservice@kk.dk", "mailto:borgerservice@kk.dk"),
        ("https://notkk.dk/", "https://notkk.dk/"),
    ],
)
def test_track_url(url, expected):
    assert track_url(url, RULE) == expected
    # Applying it again changes nothing: links are tracked exactly once.
    assert track_url(expected, RULE) == expected


def test_replacing_existing_parameters_is_a_choice():
    rule = Rule("facebook", "social", "jul", ("kk.dk",), replace_existing=True)
    once = track_url("https://kk.dk/x?a=1&utm_source=nyhedsbrev", rule)
    assert once == (
        "https://kk.dk/x?a=1&utm_source=facebook&utm_medium=social&utm_campaign=jul"
    )
    assert track_url(once, rule) == once


def test_track_text_keeps_the_punctuation_after_a_link():
    text = "Læs mere på https://kk.dk/jul. Se også (https://kk.dk/a)!"
    assert track_text(text, RULE) == (
        "Læs mere på https://kk.dk/jul?utm_source=facebook&utm_medium=social"
        "&utm_campaign=jul-i-koebenhavn. Se også (https://kk.dk/a?utm_source="
        "facebook&utm_medium=social&utm_campaign=jul-i-koebenhavn)!"
    )




def _rule(desk, channel=None, **fields):
    values = {
        "enabled": True,
        "medium": "social",
        "domains": ["kk.dk"],
        "campaign_default": "organisk",
    }
    values.update(fields)
    return actions.save_link_tracking(
        actor=desk.editor, organisation=desk.organisation, channel=channel, **values
    )


def _post(desk, soon, campaign=None):
    post = actions.create_post(
        actor=desk.editor,
        title="Julemarked",
        shared_text="Julemarkedet på Rådhuspladsen åbner. Program: "
        "https://kk.dk/jul?ref=nyhed og https://bibliotek.example.org/jul",
        channels=[desk.channels["facebook"], desk.channels["x"]],
        planned_at=soon,
        campaign=campaign,
    )
    facebook = desk.channels["facebook"]
    actions.update_post(
        post,
        actor=desk.editor,
        variants={facebook.pk: {"link": "https://www.kk.dk/jul"}},
    )
    return post


@pytest.mark.django_db
def test_published_links_carry_the_channel_and_campaign_once(desk, soon):
    from kanal.planning.tests.factories import CampaignFactory
    from kanal.publishing.models import Publication

    _rule(desk)
    _rule(desk, channel=desk.channels["x"], enabled=False)
    campaign = CampaignFactory(organisation=desk.organisation, name="Jul i København")
    post = _post(desk, soon, campaign)
    actions.submit_post(post, actor=desk.editor)
    actions.approve_post(post, actor=desk.approver)
    pubs = {
        p.channel.network: p
        for p in Publication.objects.filter(post_id=post.pk).select_related("channel")
    }
    facebook = pubs["facebook"]
    tags = "utm_source=facebook&utm_medium=social&utm_campaign=jul-i-koebenhavn"
    assert facebook.link == f"https://www.kk.dk/jul?{tags}"
    assert f"https://kk.dk/jul?ref=nyhed&{tags}" in facebook.text
    assert "https://bibliotek.example.org/jul" in facebook.text
    assert facebook.text.count("utm_source") == 1
    # X has its own rule: off.
    assert "utm_" not in pubs["x"].text
    # The revision (what the editor wrote and the approver approved) is as
    # written; only what goes out is tracked.
    variant = post.variants.get(channel=desk.channels["facebook"])
    assert variant.approved_revision.link == "https://www.kk.dk/jul"
    # Moving the post does not track its links again.
    actions.reschedule_post(post, actor=desk.editor, day=soon.date())
    facebook.refresh_from_db()
    assert facebook.text.count("utm_source") == 1


@pytest.mark.django_db
def test_without_a_campaign_the_default_campaign_name_is_used(desk, soon):
    from kanal.publishing.models import Publication

    _rule(desk)
    post = _post(desk, soon)
    actions.submit_post(post, actor=desk.editor)
    actions.approve_post(post, actor=desk.approver)
    link = Publication.objects.get(
        post_id=post.pk, channel=desk.channels["facebook"]
    ).link
    assert link.endswith("utm_source=facebook&utm_medium=social&utm_campaign=organisk")


@pytest.mark.django_db
def test_no_rule_no_tracking(desk, soon):
    from kanal.publishing.models import Publication

    post = _post(desk, soon)
    actions.submit_post(post, actor=desk.editor)
    actions.approve_post(post, actor=desk.approver)
    assert not Publication.objects.filter(
        post_id=post.pk, text__contains="utm_"
    ).exists()


@pytest.mark.django_db
def test_the_preview_shows_the_tracked_link_and_counts_it(desk, soon, client_for):
    from kanal.channels.tests.factories import ChannelFactory

    bluesky = ChannelFactory(organisation=desk.organisation, network="bluesky")
    _rule(desk)
    client = client_for(desk.editor)
    text = "Program: https://kk.dk/jul"
    html = client.post(
        reverse("planning:preview"),
        {
            "channel": bluesky.pk,
            f"v{bluesky.pk}-text": text,
            f"v{bluesky.pk}-link": "https://www.kk.dk/jul",
        },
    ).content.decode()
    tracked = (
        "https://kk.dk/jul?utm_source=bluesky&amp;utm_medium=social"
        "&amp;utm_campaign=organisk"
    )
    assert tracked in html
    assert "https://www.kk.dk/jul?utm_source=bluesky" in html
    # Bluesky counts every character of the link as it goes out.
    expected = len(text) + len(
        "?utm_source=bluesky&utm_medium=social&utm_campaign=organisk"
    )
    assert f"{expected} af 300" in html


@pytest.mark.django_db
def test_the_desk_sets_tracking_on_its_page(desk, client_for):
    client = client_for(desk.editor)
    url = reverse("planning:link_tracking")
    data = form_data(client.get(url).content.decode(), "link-tracking-form")
    data["org-enabled"] = ["on"]
    data["org-domains"] = ["kk.dk, https://www.kk.dk/ bibliotek.kk.dk"]
    x = desk.channels["x"].pk
    data.pop(f"c{x}-inherit", None)
    data[f"c{x}-source"] = ["twitter"]
    data[f"c{x}-enabled"] = ["on"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    org = LinkTracking.objects.get(organisation=desk.organisation, channel=None)
    assert (org.enabled, org.domains) == (
        True,
        ["kk.dk", "www.kk.dk", "bibliotek.kk.dk"],
    )
    own = LinkTracking.objects.get(channel_id=x)
    assert (own.source, own.medium) == ("twitter", "social")
    assert LinkTracking.objects.count() == 2
    assert AuditEntry.objects.filter(event="planning.link_tracking.saved").count() == 2
    # Saved again unchanged: nothing is written.
    data = form_data(client.get(url).content.decode(), "link-tracking-form")
    assert client.post(url, data).status_code == 302
    assert AuditEntry.objects.filter(event="planning.link_tracking.saved").count() == 2
    # Back to the organisation's rule.
    data[f"c{x}-inherit"] = ["on"]
    data[f"c{x}-source"] = [""]
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Fjern fluebenet" in response.content.decode()
    data = form_data(client.get(url).content.decode(), "link-tracking-form")
    data[f"c{x}-inherit"] = ["on"]
    assert client.post(url, data).status_code == 302
    assert not LinkTracking.objects.filter(channel_id=x).exists()


@pytest.mark.django_db
def test_bad_values_are_refused_in_danish(desk, client_for):
    client = client_for(desk.editor)
    url = reverse("planning:link_tracking")
    data = form_data(client.get(url).content.decode(), "link-tracking-form")
    data["org-enabled"] = ["on"]
    data["org-medium"] = ["<script>"]
    data["org-domains"] = ["ikke et domæne"]
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Brug bogstaver, tal" in html
    assert "er ikke et domæne" in html
    assert not LinkTracking.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "contributor", "approver"])
def test_only_the_desk_sets_tracking(desk, client_for, role):
    member = getattr(desk, role)
    assert client_for(member).get(reverse("planning:link_tracking")).status_code == 403
