"""When a crisis ends, the pinned crisis messages can be unpinned and an
all-clear sent, with the same per-network versions and refusal."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse

from kanal.channels import adapters
from kanal.channels.networks.base import Capabilities
from kanal.channels.networks.errors import TransientError
from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing import actions
from kanal.publishing import crisis as crisis_tools
from kanal.publishing.crisis import CrisisMessageRefused
from kanal.publishing.models import (
    Crisis,
    CrisisUnpin,
    Publication,
    PublicationStatus,
)

from .conftest import run_once
from .fakes import FakeAdapter

S = PublicationStatus
ALL_CLEAR = ("Stormfloden er overstået, og vandstanden er normal igen. Tak fordi "
             "I passede på hinanden. Sandsækkene hentes i morgen.")


class PinningAdapter(FakeAdapter):
    """The fake network, with pinning (and scripted pin failures)."""

    pins: list[tuple[str, bool]] = []
    fail_next_unpin = False

    def capabilities(self) -> Capabilities:
        return Capabilities(max_text_length=500, text_counting="tegn",
                            max_images=4,
                            supports=frozenset({"publish", "reply", "pin"}))

    def pin(self, remote_id, *, pinned=True):
        if not pinned and PinningAdapter.fail_next_unpin:
            PinningAdapter.fail_next_unpin = False
            raise TransientError("Netværket svarede ikke.", network="fake")
        PinningAdapter.pins.append((remote_id, pinned))


@pytest.fixture
def pinning_network(fake_network):
    PinningAdapter.pins = []
    PinningAdapter.fail_next_unpin = False
    adapters.ADAPTER_OVERRIDES["mastodon"] = PinningAdapter
    return PinningAdapter


@pytest.fixture
def in_crisis(pinning_network, channel, member, queue):
    """A crisis with a paused post and a published, pinned crisis message."""
    lead = member(Role.CRISIS_LEAD)
    paused = queue(post_id=None)
    crisis = actions.start_crisis(actor=lead, organisation=lead.organisation,
                                  reason="Stormflod")
    with TestCase.captureOnCommitCallbacks(execute=True):
        [message] = actions.publish_crisis_message(
            actor=lead, organisation=lead.organisation,
            text="Stormflod: hold dig væk fra kajkanten. Ring 112 ved livsfare.",
            channels=[channel], confirmed=True,
        )
    assert run_once() == [S.PUBLISHED]
    message.refresh_from_db()
    assert pinning_network.pins == [(message.remote_id, True)]
    return {"lead": lead, "crisis": crisis, "paused": paused, "message": message}


@pytest.mark.django_db
def test_ending_unpins_the_crisis_message_and_sends_the_all_clear(
    in_crisis, pinning_network, channel
):
    lead, message = in_crisis["lead"], in_crisis["message"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        tally = actions.end_crisis(
            in_crisis["crisis"], actor=lead,
            decisions={in_crisis["paused"].pk: ("cancel", None)},
            unpin=True,
            all_clear=actions.AllClear(text=ALL_CLEAR, channels=(channel,)),
        )
    assert tally == {"publish_now": 0, "reschedule": 0, "cancel": 1}
    assert pinning_network.pins[-1] == (message.remote_id, False)
    assert CrisisUnpin.objects.get(publication=message).done_at is not None
    assert list(crisis_tools.still_pinned(lead.organisation_id)) == []
    all_clear = Publication.objects.get(is_crisis=True, pin=False)
    assert all_clear.text == ALL_CLEAR
    assert run_once() == [S.PUBLISHED]
    # The all-clear is not pinned.
    assert len([p for p in pinning_network.pins if p[1]]) == 1
    events = set(AuditEntry.objects.values_list("event", flat=True))
    assert {"publishing.crisis.unpin_requested", "publishing.publication.unpinned",
            "publishing.crisis.all_clear_sent"} <= events


@pytest.mark.django_db
def test_an_all_clear_that_does_not_fit_changes_nothing(in_crisis, organisation):
    x = ChannelFactory(organisation=organisation, network="x")
    with pytest.raises(CrisisMessageRefused, match="X \\(Twitter\\)"):
        actions.end_crisis(
            in_crisis["crisis"], actor=in_crisis["lead"],
            decisions={in_crisis["paused"].pk: ("cancel", None)},
            unpin=True,
            all_clear=actions.AllClear(text=ALL_CLEAR * 3, channels=(x,)),
        )
    assert Crisis.objects.get(pk=in_crisis["crisis"].pk).is_active
    assert Publication.objects.get(pk=in_crisis["paused"].pk).status == S.PAUSED
    assert not CrisisUnpin.objects.exists()
    assert Publication.objects.filter(is_crisis=True).count() == 1


@pytest.mark.django_db
def test_an_editor_may_end_the_crisis_but_not_send_an_all_clear(
    in_crisis, member, channel
):
    from django.core.exceptions import PermissionDenied

    editor = member(Role.EDITOR)
    with pytest.raises(PermissionDenied):
        actions.end_crisis(
            in_crisis["crisis"], actor=editor,
            decisions={in_crisis["paused"].pk: ("cancel", None)},
            all_clear=actions.AllClear(text=ALL_CLEAR, channels=(channel,)),
        )
    assert Crisis.objects.get(pk=in_crisis["crisis"].pk).is_active


@pytest.mark.django_db
def test_the_end_form_offers_unpinning_and_an_all_clear_and_keeps_input_on_refusal(
    in_crisis, organisation, client_for
):
    adapters.ADAPTER_OVERRIDES.pop("x")  # X's own counting, not the fake's
    x = ChannelFactory(organisation=organisation, network="x")
    client = client_for(in_crisis["lead"])
    page = client.get(reverse("publishing:crisis")).content.decode()
    end_form = page.split('id="crisis-end-form"')[1]
    assert "Fastgjorte krisebeskeder" in end_form
    assert 'name="unpin" value="1" checked' in end_form
    assert "Afblæsning" in end_form
    assert 'data-kind="all_clear"' in end_form

    typed = ALL_CLEAR * 3
    response = client.post(reverse("publishing:crisis_end"), {
        f"choice-pub-{in_crisis['paused'].pk}": "cancel",
        "unpin": "1",
        "all_clear-text": typed,
        "all_clear-channels": [x.pk],
    })
    assert response.status_code == 400
    page = response.content.decode()
    assert "Krisetilstand er ikke slået fra." in page
    assert f"{len(typed)} af 280" in page
    assert f">\n{typed}</textarea>" in page
    assert 'value="cancel" checked' in page
    assert Crisis.objects.get(pk=in_crisis["crisis"].pk).is_active

    response = client.post(reverse("publishing:crisis_end"), {
        f"choice-pub-{in_crisis['paused'].pk}": "cancel",
        "unpin": "1",
        "all_clear-text": typed,
        "all_clear-channels": [x.pk],
        "all_clear-version_x": "Stormfloden er overstået. Tak for hjælpen.",
    }, follow=True)
    assert "Afblæsningen sendes nu." in response.content.decode()
    assert not Crisis.objects.filter(ended_at__isnull=True).exists()
    assert Publication.objects.get(channel=x).text == (
        "Stormfloden er overstået. Tak for hjælpen.")


@pytest.mark.django_db
def test_a_failed_unpin_is_reported_and_can_be_retried(
    in_crisis, pinning_network, client_for
):
    lead, message = in_crisis["lead"], in_crisis["message"]
    pinning_network.fail_next_unpin = True
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.end_crisis(in_crisis["crisis"], actor=lead,
                           decisions={in_crisis["paused"].pk: ("cancel", None)},
                           unpin=True)
    unpin = CrisisUnpin.objects.get(publication=message)
    assert unpin.done_at is None and "svarede ikke" in unpin.last_error
    assert Notification.objects.filter(kind="unpin_failed").exists()
    client = client_for(lead)
    page = client.get(reverse("publishing:crisis")).content.decode()
    assert "står stadig øverst" in page
    assert "kunne ikke løsnes" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("publishing:crisis_unpin"))
    assert response.status_code == 302
    assert CrisisUnpin.objects.get(publication=message).done_at is not None
    assert pinning_network.pins[-1] == (message.remote_id, False)
    page = client.get(reverse("publishing:crisis")).content.decode()
    assert "står stadig øverst" not in page


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_on_the_sandbox_the_crisis_message_is_unpinned_and_the_all_clear_is_out(
    sandbox, organisation, member
):
    from kanal.channels import vault
    from kanal.channels.networks.tests.test_contract_mastodon import (
        TestMastodonContract,
    )

    contract = TestMastodonContract()
    account = sandbox.provision("mastodon", **contract.provision_options())
    conn = contract.make_connection(sandbox, account)
    channel = ChannelFactory(
        organisation=organisation, network="mastodon", base_url=conn.base_url,
        remote_id=conn.account_id, handle=conn.handle,
        api_settings=dict(conn.settings),
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
    )
    lead = member(Role.CRISIS_LEAD)
    crisis = actions.start_crisis(actor=lead, organisation=lead.organisation,
                                  reason="Stormflod")
    [message] = actions.publish_crisis_message(
        actor=lead, organisation=lead.organisation,
        text="Stormflod: hold dig væk fra kajkanten. Ring 112 ved livsfare.",
        channels=[channel], confirmed=True,
    )
    assert run_once() == [S.PUBLISHED]
    message.refresh_from_db()
    assert sandbox.item("mastodon", message.remote_id)["data"]["pinned"] is True

    actions.end_crisis(crisis, actor=lead, decisions={}, unpin=True,
                       all_clear=actions.AllClear(text=ALL_CLEAR,
                                                  channels=(channel,)))
    assert sandbox.item("mastodon", message.remote_id)["data"]["pinned"] is False
    assert run_once() == [S.PUBLISHED]
    texts = [r["text"] for r in sandbox.published("mastodon", account.account_id)]
    assert texts[-1] == ALL_CLEAR
    all_clear = Publication.objects.get(text=ALL_CLEAR)
    assert not sandbox.item("mastodon", all_clear.remote_id)["data"].get("pinned")


@pytest.mark.django_db
def test_the_end_form_in_english(in_crisis, client_for):
    client = client_for(in_crisis["lead"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("publishing:crisis")).content.decode()
    for text in ("Turn off crisis mode", "Paused posts", "Pinned crisis messages",
                 "Unpin 1 crisis message from the top of its profile",
                 "All-clear (optional)", "How the message looks on each network",
                 "The proposed times never move a post earlier",
                 "Crisis templates"):
        assert text in page, text
    for danish in ("Afblæsning", "Fastgjorte", "foreslåede", "Opslag på pause"):
        assert danish not in page, danish


@pytest.mark.django_db
def test_an_editor_sees_unpinning_but_no_all_clear_and_can_end(
    in_crisis, member, client_for
):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    page = client.get(reverse("publishing:crisis")).content.decode()
    assert 'id="crisis-end-form"' in page
    assert 'name="unpin"' in page
    assert "all_clear-text" not in page
    assert 'id="crisis-message-form"' not in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("publishing:crisis_end"), {
            f"choice-pub-{in_crisis['paused'].pk}": "cancel", "unpin": "1",
            "all_clear-text": "Forsøg på afblæsning uden ret",
        })
    assert response.status_code == 302
    assert not Crisis.objects.filter(ended_at__isnull=True).exists()
    # The all-clear field is not the editor's: nothing was sent.
    assert Publication.objects.filter(is_crisis=True).count() == 1
    assert CrisisUnpin.objects.get().done_at is not None
