"""A crisis message is never cut short: each network's version is counted the
network's way, sending is refused while one does not fit (or a placeholder is
left), and the crisis lead writes a short version per network."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from kanal.channels import adapters
from kanal.channels.networks.base import OutgoingPost
from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role
from kanal.publishing import actions
from kanal.publishing import crisis as crisis_tools
from kanal.publishing.crisis import CrisisMessageRefused
from kanal.publishing.models import Publication

pytestmark = pytest.mark.django_db

# The message from the report: 410 characters, the last sentence is the one
# that matters most.
LONG = (
    "Stormflod i aften: DMI varsler vandstand op til 1,8 meter over normalen i "
    "Inderhavnen, Christianshavn og Sydhavnen fra kl. 20. Flyt biler, cykler "
    "og værdier væk fra kældre og kajkanter, og hold dig væk fra havnefronten "
    "i nat. Kommunen opstiller sandsække ved Nyhavn, Islands Brygge "
    "og Christianshavns Kanal. Følg med på kommunens hjemmeside og i DR's nyheder. "
    "Metroen kører efter planen. Ring 112 ved livsfare."
)
SHORT_X = (
    "Stormflod i aften: op til 1,8 m over normalen i Inderhavnen, "
    "Christianshavn og Sydhavnen fra kl. 20. Flyt værdier fra kældre, hold dig "
    "fra kajkanten. Sandsække ved Nyhavn. Ring 112 ved livsfare."
)


@pytest.fixture
def channels(organisation):
    def make(network, name=None):
        return ChannelFactory(organisation=organisation, network=network,
                              display_name=name or f"KK på {network}")

    return {n: make(n) for n in ("x", "bluesky", "facebook", "mastodon",
                                 "threads", "linkedin", "instagram")}


def test_the_report_message_is_410_characters():
    assert len(LONG) == 410
    assert LONG.endswith("Ring 112 ved livsfare.")


def test_message_over_x_and_bluesky_limits_is_refused_and_nothing_is_sent(
    channels, member
):
    lead = member(Role.CRISIS_LEAD)
    chosen = [channels[n] for n in ("x", "bluesky", "facebook")]
    with pytest.raises(CrisisMessageRefused) as refused:
        actions.publish_crisis_message(
            actor=lead, organisation=lead.organisation, text=LONG,
            channels=chosen, confirmed=True,
        )
    message = str(refused.value)
    assert "X (Twitter): 410 af højst 280 vægtede tegn" in message
    assert "Bluesky: 410 af højst 300 grafemer" in message
    assert "Facebook" not in message
    assert "forkorter aldrig" in message
    assert not Publication.objects.exists()
    assert not AuditEntry.objects.filter(
        event="publishing.crisis.message_sent").exists()


def test_own_short_versions_go_out_whole_and_the_others_get_the_full_text(
    channels, member
):
    lead = member(Role.CRISIS_LEAD)
    chosen = [channels[n] for n in ("x", "bluesky", "facebook", "mastodon")]
    pubs = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text=LONG,
        link="https://kk.dk/storm", channels=chosen, confirmed=True,
        versions={"x": SHORT_X, "bluesky": SHORT_X},
    )
    by_network = {p.channel.network: p for p in pubs}
    assert by_network["x"].text == SHORT_X
    assert by_network["bluesky"].text == SHORT_X
    assert by_network["facebook"].text == LONG
    assert by_network["mastodon"].text == LONG
    # The link travels beside the text; each adapter puts it where its
    # network wants it (in X's text, as Bluesky's card).
    assert {p.link for p in pubs} == {"https://kk.dk/storm"}
    entry = AuditEntry.objects.get(event="publishing.crisis.message_sent")
    assert entry.changes["versions"]["x"] == f"{SHORT_X}\n\nhttps://kk.dk/storm"
    assert entry.changes["versions"]["bluesky"] == SHORT_X
    assert entry.changes["versions"]["facebook"] == LONG


def test_a_short_version_must_fit_too(channels, member):
    lead = member(Role.CRISIS_LEAD)
    with pytest.raises(CrisisMessageRefused, match="X \\(Twitter\\): 410 af"):
        actions.publish_crisis_message(
            actor=lead, organisation=lead.organisation, text="Kort besked",
            channels=[channels["x"]], confirmed=True, versions={"x": LONG},
        )
    assert not Publication.objects.exists()


def test_each_network_counts_its_own_way():
    """150 wave emoji: 300 of X's 280 weighted characters, 150 of Bluesky's
    300 graphemes, 600 of Threads' 500 (an emoji counts as its bytes)."""
    text = "🌊" * 150
    composition = crisis_tools.compose(
        [ChannelFactory(network=n) for n in ("x", "bluesky", "threads")],
        chosen=None, text=text,
    )
    counts = {n.network: n.channels[0] for n in composition.networks}
    assert (counts["x"].length, counts["x"].limit) == (300, 280)
    assert (counts["bluesky"].length, counts["bluesky"].limit) == (150, 300)
    assert (counts["threads"].length, counts["threads"].limit) == (600, 500)
    assert [n.network for n in composition.blocking] == ["x", "threads"]


@pytest.mark.parametrize(
    "network", ["x", "bluesky", "threads", "mastodon", "facebook", "linkedin"]
)
def test_the_shown_count_is_the_adapters_own(network):
    """What the composer shows is exactly the number the adapter refuses
    with, link included the network's way."""
    channel = ChannelFactory(network=network)
    adapter = crisis_tools._rules_adapter(channel)
    limit = adapter.capabilities().max_text_length
    text = ("Oversvømmelse på Amager 🌧️ – følg kk.dk/skybrud. " * 2000)[:limit + 40]
    link = "https://www.kk.dk/nyheder/skybrud-paa-amager"
    [problem] = [p for p in adapter.validate(OutgoingPost(text=text, link=link))
                 if p.code == "text_too_long"]
    [version] = crisis_tools.compose([channel], chosen=None, text=text,
                                     link=link).networks
    assert version.channels[0].length == problem.actual
    assert version.channels[0].over == problem.actual - limit > 0


def test_placeholders_left_block_sending(channels, member):
    lead = member(Role.CRISIS_LEAD)
    with pytest.raises(CrisisMessageRefused, match=r"\[STED\], \[TIDSPUNKT\]"):
        actions.publish_crisis_message(
            actor=lead, organisation=lead.organisation,
            text="Sandsække ved [STED] fra [TIDSPUNKT]. Ring 112 ved livsfare.",
            channels=[channels["facebook"]], confirmed=True,
        )
    assert not Publication.objects.exists()
    assert crisis_tools.placeholders("Brand [1] i Tårnby [sic]") == []
    assert crisis_tools.placeholders("[KL.] og [VANDSTAND I CM]") == [
        "[KL.]", "[VANDSTAND I CM]"
    ]


# ---------------------------------------------------------------------------
# Through the page


def test_refusal_is_400_with_every_version_and_keeps_what_was_typed(
    channels, member, client_for
):
    lead = member(Role.CRISIS_LEAD)
    client = client_for(lead)
    response = client.post(reverse("publishing:crisis_message"), {
        "text": LONG,
        "link": "kk.dk/storm",
        "channels": [channels["x"].pk, channels["bluesky"].pk,
                     channels["facebook"].pk],
        "version_bluesky": "Stormflod: Ring 112 ved livsfare.",
        "confirm": "on",
    })
    assert response.status_code == 400
    page = response.content.decode()
    assert "Krisebeskeden er ikke sendt." in page
    # X's version, counted X's way: the link goes into the text as 23.
    assert "435 af 280" in page
    assert "410 af 63.206" in page  # Facebook shows the link as a card
    assert "Linket vises som et kort under teksten: https://kk.dk/storm" in page
    # Everything typed is still there: the text, the link, the own version.
    assert f">\n{escape(LONG)}</textarea>" in page
    assert 'value="kk.dk/storm"' in page or "https://kk.dk/storm" in page
    assert "Stormflod: Ring 112 ved livsfare.</textarea>" in page
    assert not Publication.objects.exists()

    response = client.post(reverse("publishing:crisis_message"), {
        "text": LONG,
        "channels": [channels["x"].pk, channels["bluesky"].pk,
                     channels["facebook"].pk],
        "version_x": SHORT_X,
        "version_bluesky": SHORT_X,
        "confirm": "on",
    })
    assert response.status_code == 302
    texts = dict(Publication.objects.values_list("channel__network", "text"))
    assert texts == {"x": SHORT_X, "bluesky": SHORT_X, "facebook": LONG}


def test_missing_confirmation_keeps_the_message(channels, member, client_for):
    client = client_for(member(Role.CRISIS_LEAD))
    response = client.post(reverse("publishing:crisis_message"), {
        "text": "Vandet i Valby skal koges.", "channels": [channels["x"].pk],
    })
    assert response.status_code == 400
    assert "Vandet i Valby skal koges.</textarea>" in response.content.decode()
    assert not Publication.objects.exists()


def test_check_button_shows_versions_without_sending(channels, member, client_for):
    client = client_for(member(Role.CRISIS_LEAD))
    response = client.post(reverse("publishing:crisis_message"), {
        "text": LONG, "channels": [channels["x"].pk], "confirm": "on",
        "preview": "1",
    })
    assert response.status_code == 200
    assert "410 af 280" in response.content.decode()
    assert not Publication.objects.exists()


def test_live_count_endpoint_counts_with_the_adapters(channels, member, client_for):
    client = client_for(member(Role.CRISIS_LEAD))
    response = client.post(reverse("publishing:crisis_versions"), {
        "kind": "message",
        "text": "🌊" * 150,
        "channels": [channels["x"].pk, channels["bluesky"].pk,
                     channels["threads"].pk],
    })
    assert response.status_code == 200
    data = json.loads(response.content)
    assert "300 af 280" in data["networks"]["x"]
    assert "150 af 300" in data["networks"]["bluesky"]
    assert "600 af 500" in data["networks"]["threads"]
    assert data["states"] == {
        "x": "over", "bluesky": "ok", "threads": "over", "mastodon": "unchosen",
        "facebook": "unchosen", "linkedin": "unchosen", "instagram": "unchosen",
    }
    assert "Kan ikke sendes endnu" in data["summary"]


def test_live_counts_in_english(channels, member, client_for):
    client = client_for(member(Role.CRISIS_LEAD))
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("publishing:crisis_versions"),
        {"kind": "message", "text": LONG, "channels": [channels["x"].pk]},
    )
    data = json.loads(response.content)
    assert "410 of 280" in data["networks"]["x"]
    assert "weighted characters" in data["networks"]["x"]
    assert "Cannot be sent yet" in data["summary"]


def test_instagram_is_shown_as_not_taking_text_only_messages(
    channels, member, client_for
):
    client = client_for(member(Role.CRISIS_LEAD))
    page = client.get(reverse("publishing:crisis")).content.decode()
    assert "Instagram tager ikke opslag uden billede" in page
    # Instagram is not ticked by default; every other channel is.
    assert f'value="{channels["instagram"].pk}"  id' not in page
    form = page.split('id="crisis-message-form"')[1]
    assert f'value="{channels["x"].pk}" id="id_channels_' in form or (
        f'value="{channels["x"].pk}"' in form and "checked" in form
    )


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_through_the_engine_each_network_gets_its_whole_version_and_the_link(
    sandbox, organisation, member
):
    from .conftest import run_once
    from .test_all_seven_networks import _channels

    lead = member(Role.CRISIS_LEAD)
    channels = _channels(sandbox, organisation, lead.administration)
    link = "https://www.kk.dk/storm"
    chosen = [channels[n] for n in ("x", "bluesky", "mastodon", "facebook",
                                    "threads", "linkedin")]
    pubs = actions.publish_crisis_message(
        actor=lead, organisation=organisation, text=LONG, link=link,
        channels=chosen, confirmed=True,
        versions={"x": SHORT_X, "bluesky": SHORT_X},
    )
    assert len(pubs) == 6
    assert sorted(run_once()) == ["published"] * 6
    sent = {
        n: sandbox.published(n, channels[n].remote_id)
        for n in ("x", "bluesky", "mastodon", "facebook", "threads", "linkedin")
    }
    assert [r["text"] for r in sent["x"]] == [f"{SHORT_X}\n\n{link}"]
    assert [r["text"] for r in sent["mastodon"]] == [f"{LONG}\n\n{link}"]
    assert [r["text"] for r in sent["bluesky"]] == [SHORT_X]
    for network in ("facebook", "threads", "linkedin"):
        assert [r["text"] for r in sent[network]] == [LONG], network
    # Bluesky and Facebook show the link as a card beside the whole text.
    card = sandbox.item("bluesky", sent["bluesky"][0]["item_id"])
    assert card["data"]["record"]["embed"]["external"]["uri"] == link
    assert card["data"]["pinned"] is True
    assert sandbox.item("facebook", sent["facebook"][0]["item_id"])["data"][
        "link"] == link


def test_a_network_whose_rules_cannot_be_checked_is_not_sent_to(
    channels, member, fake_network
):

    from .fakes import FakeAdapter

    class Broken(FakeAdapter):
        def validate(self, post):
            raise RuntimeError("adapter bug")

    adapters.ADAPTER_OVERRIDES["linkedin"] = Broken
    lead = member(Role.CRISIS_LEAD)
    with pytest.raises(CrisisMessageRefused, match="LinkedIn"):
        actions.publish_crisis_message(
            actor=lead, organisation=lead.organisation, text="Brand på Amager.",
            channels=[channels["linkedin"], channels["facebook"]], confirmed=True,
        )
    [version] = [n for n in crisis_tools.compose(
        [channels["linkedin"]], chosen=None, text="Brand på Amager.").networks]
    assert "kunne ikke tjekke teksten" in version.channels[0].problems[0]
    assert not Publication.objects.exists()
    pubs = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation, text="Brand på Amager.",
        channels=[channels["facebook"]], confirmed=True,
    )
    assert [p.channel.network for p in pubs] == ["facebook"]
