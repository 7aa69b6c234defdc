"""The Meta webhook endpoint and the background processing of its events."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from kanal.inbox import intake
from kanal.inbox.models import (
    Conversation,
    DeliveryStatus,
    InboxItem,
    ItemVersion,
    WebhookDelivery,
)

from .conftest import fb_comment

pytestmark = pytest.mark.django_db


def _subscription_check(client, settings, token):
    settings.KANAL_META_VERIFY_TOKEN = "hemmeligt"
    return client.get("/webhooks/facebook/", {
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": "1158201444"})


def test_subscription_check_echoes_the_challenge(client, settings):
    response = _subscription_check(client, settings, "hemmeligt")
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_subscription_check_with_a_wrong_token_is_refused(client, settings):
    response = _subscription_check(client, settings, "forkert")
    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_missing_signature_is_refused_logged_and_nothing_stored(
    post_webhook, caplog
):
    with caplog.at_level(logging.WARNING, logger="kanal.inbox.webhooks"):
        response = post_webhook("facebook", fb_comment(), signature=False)
    assert response.status_code == 403
    assert response.json()["error"] == "bad_signature"
    assert "missing signature refused" in caplog.text
    assert WebhookDelivery.objects.count() == 0


def test_a_signature_made_with_another_secret_is_refused(post_webhook, caplog):
    with caplog.at_level(logging.WARNING, logger="kanal.inbox.webhooks"):
        response = post_webhook("facebook", fb_comment(), secret="a-different-one")
    assert response.status_code == 403
    assert "bad signature refused" in caplog.text
    assert WebhookDelivery.objects.count() == 0


def test_a_signature_over_another_body_is_refused(client, settings):
    from kanal.channels.networks import graph

    signed = graph.sign(settings.KANAL_META_APP_SECRET, b'{"object":"page"}')
    response = client.generic(
        "POST", "/webhooks/facebook/", b'{"object":"page","entry":[]}',
        content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signed)
    assert response.status_code == 403


def test_an_empty_secret_refuses_everything(post_webhook, settings):
    settings.KANAL_META_APP_SECRET = ""
    response = post_webhook("facebook", fb_comment(), secret="x")
    assert response.status_code == 403


def test_wrong_content_type_is_415(post_webhook):
    response = post_webhook("facebook", fb_comment(), content_type="text/plain")
    assert response.status_code == 415
    assert WebhookDelivery.objects.count() == 0


def test_a_body_over_the_limit_is_413(post_webhook):
    with override_settings(KANAL_WEBHOOK_MAX_BYTES=200):
        response = post_webhook("facebook", {"object": "page", "pad": "x" * 500})
    assert response.status_code == 413
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize("body", [
    b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"',
    b"[" * 10 + b"]" * 10,
    ('{"a":' * 40 + "1" + "}" * 40).encode(),
    b"[" * 100_000,
])
def test_malformed_or_deep_json_is_400(post_webhook, body):
    response = post_webhook("facebook", body)
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_json", "not_an_object", "too_deep"}
    assert WebhookDelivery.objects.count() == 0


def test_an_unknown_network_is_404(post_webhook):
    assert post_webhook("myspace", fb_comment()).status_code == 404


def test_a_signed_comment_is_stored_first_then_processed(
    post_webhook, facebook_channel
):
    response = post_webhook("facebook", fb_comment(text="Hvornår åbner det? 👏"))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert InboxItem.objects.count() == 0  # the endpoint only stores

    assert intake.process_deliveries() == 1
    item = InboxItem.objects.get()
    assert item.channel == facebook_channel
    assert (item.kind, item.remote_id, item.text) == (
        "comment", "104738291045678_1", "Hvornår åbner det? 👏")
    assert item.post_remote_id == "104738291045678_9"
    assert item.author_name == "Mette Hansen"
    assert item.conversation.key == "c:104738291045678_1"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert delivery.outcome["created"] == 1


def test_a_replay_changes_nothing(post_webhook, facebook_channel):
    for _ in range(3):
        post_webhook("facebook", fb_comment())
    intake.process_deliveries()
    assert InboxItem.objects.count() == 1
    assert ItemVersion.objects.count() == 1
    outcomes = [d.outcome for d in WebhookDelivery.objects.order_by("pk")]
    assert outcomes[1]["skipped"] == {"already_known": 1}
    assert outcomes[2]["created"] == 0


def test_an_edit_arriving_before_the_comment_keeps_both_and_the_newest_wins(
    post_webhook, facebook_channel
):
    post_webhook("facebook", fb_comment(text="Rettet tekst", verb="edited",
                                        when=1_780_000_500))
    post_webhook("facebook", fb_comment(text="Første tekst"))
    intake.process_deliveries()
    item = InboxItem.objects.get()
    assert item.text == "Rettet tekst"
    assert sorted(item.versions.values_list("text", flat=True)) == [
        "Første tekst", "Rettet tekst"]


def test_an_edit_after_the_comment_is_recorded_not_overwritten(
    post_webhook, facebook_channel
):
    post_webhook("facebook", fb_comment(text="Første tekst"))
    post_webhook("facebook", fb_comment(text="Rettet tekst", verb="edited",
                                        when=1_780_000_500))
    intake.process_deliveries()
    item = InboxItem.objects.get()
    assert item.text == "Rettet tekst"
    assert item.edited_at is not None
    assert list(item.versions.values_list("change", "text")) == [
        ("original", "Første tekst"), ("edited", "Rettet tekst")]


def test_a_deletion_on_the_network_is_recorded_and_the_text_kept(
    post_webhook, facebook_channel
):
    post_webhook("facebook", fb_comment(text="Skal slettes"))
    post_webhook("facebook", fb_comment(verb="remove", text="", when=1_780_000_900))
    post_webhook("facebook", fb_comment(verb="remove", text="", when=1_780_000_900))
    intake.process_deliveries()
    item = InboxItem.objects.get()
    assert item.deleted_on_network_at is not None
    assert item.text == "Skal slettes"
    assert list(item.versions.values_list("change", flat=True)) == [
        "original", "deleted"]


def test_hidden_on_the_network_is_recorded_and_a_replayed_add_does_not_undo_it(
    post_webhook, facebook_channel
):
    post_webhook("facebook", fb_comment())
    post_webhook("facebook", fb_comment(verb="hide"))
    post_webhook("facebook", fb_comment())
    intake.process_deliveries()
    assert InboxItem.objects.get().hidden_on_network is True


def test_a_reply_joins_its_comments_conversation_even_out_of_order(
    post_webhook, facebook_channel
):
    post_webhook("facebook", fb_comment("104738291045678_2", text="Svar",
                                        parent="104738291045678_1"))
    post_webhook("facebook", fb_comment("104738291045678_1", text="Spørgsmål"))
    intake.process_deliveries()
    assert Conversation.objects.count() == 1
    reply = InboxItem.objects.get(remote_id="104738291045678_2")
    assert reply.kind == "reply"


def test_an_unknown_page_is_ignored_with_a_reason(post_webhook, facebook_channel):
    post_webhook("facebook", fb_comment(page="999"))
    intake.process_deliveries()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED
    assert delivery.outcome["skipped"] == {"unknown_page": 1}
    assert InboxItem.objects.count() == 0


def test_another_organisations_page_is_ignored_on_the_organisations_address(
    post_webhook, facebook_channel
):
    from kanal.organisations.tests.factories import OrganisationFactory

    OrganisationFactory(slug="nabokommune")
    response = post_webhook("facebook", fb_comment(),
                            path="/webhooks/facebook/nabokommune/")
    assert response.status_code == 200
    intake.process_deliveries()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED
    assert delivery.outcome["skipped"] == {"other_organisation": 1}
    assert InboxItem.objects.count() == 0
    # The owner's own address takes it.
    post_webhook("facebook", fb_comment(), path="/webhooks/facebook/testkommune/")
    intake.process_deliveries()
    assert InboxItem.objects.count() == 1


def test_markup_and_right_to_left_text_are_stored_as_sent(
    post_webhook, facebook_channel
):
    text = "<script>alert(1)</script> مرحبا بكم ‏ 🙌"
    post_webhook("facebook", fb_comment(text=text))
    intake.process_deliveries()
    assert InboxItem.objects.get().text == text


def test_messages_instagram_and_threads_shapes(post_webhook, organisation):
    from kanal.channels.tests.factories import ChannelFactory

    ChannelFactory(organisation=organisation, network="facebook", remote_id="P1")
    ChannelFactory(organisation=organisation, network="instagram", remote_id="IG1")
    ChannelFactory(organisation=organisation, network="threads", remote_id="TH1")
    post_webhook("facebook", {"object": "page", "entry": [{
        "id": "P1", "time": 1_780_000_000_000, "messaging": [{
            "sender": {"id": "u9"}, "recipient": {"id": "P1"},
            "timestamp": 1_780_000_000_000,
            "message": {"mid": "m_1", "text": "Hej, mit pas er væk"}}]}]})
    post_webhook("instagram", {"object": "instagram", "entry": [{
        "id": "IG1", "time": 1_780_000_000, "changes": [{"field": "comments",
        "value": {"from": {"id": "u2", "username": "freja"},
                  "media": {"id": "M1"}, "id": "C1", "text": "Flot!"}}]}]})
    post_webhook("threads", {"target_id": "TH1", "time": 1_780_000_000,
                             "values": {"field": "replies", "value": {
                                 "id": "T1", "username": "omar", "text": "Godt",
                                 "timestamp": "2026-06-01T10:00:00+0000",
                                 "replied_to": {"id": "R1"},
                                 "root_post": {"id": "R1"}}}})
    intake.process_deliveries()
    kinds = dict(InboxItem.objects.values_list("network", "kind"))
    assert kinds == {"facebook": "message", "instagram": "comment",
                     "threads": "comment"}
    message = InboxItem.objects.get(network="facebook")
    assert message.conversation.key == "dm:u9"


def test_a_stored_body_that_fails_is_kept_with_the_reason(facebook_channel):
    delivery = WebhookDelivery.objects.create(network="facebook", body="{nope")
    intake.process_deliveries()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.outcome == {"error": "invalid_json"}
    assert delivery.body == "{nope"


def test_batched_entries_are_all_processed(post_webhook, facebook_channel):
    entries = [fb_comment(f"104738291045678_{n}", text=f"nr {n}")["entry"][0]
               for n in range(25)]
    post_webhook("facebook", {"object": "page", "entry": entries})
    intake.process_deliveries()
    assert InboxItem.objects.count() == 25
    # Processed: its events are items now, and the raw body (citizens'
    # names, ids and text) is not kept beside them.
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome["created"] == 25 and delivery.body == ""


def instagram_dm(mid="aWdfZAG1faXRlbToxOk1", *, text="Hej, er der åbent?",
                 when=1_780_000_000_000, **extra):
    body = {"mid": mid, "text": text, **extra}
    return {"object": "instagram", "entry": [{
        "id": "IG1", "time": when, "messaging": [{
            "sender": {"id": "igsid-9"}, "recipient": {"id": "IG1"},
            "timestamp": when, "message": body}]}]}


def test_instagram_messages_their_edits_unsends_and_echoes(post_webhook,
                                                           organisation):
    """Instagram's ``messaging`` webhooks: a citizen's message is one item
    in the citizen's conversation; ``message_edit`` is a new version;
    ``is_deleted`` (the citizen unsent it) keeps that it existed; the echo
    of the account's own message and a reaction are no items."""
    from kanal.channels.tests.factories import ChannelFactory

    ChannelFactory(organisation=organisation, network="instagram", remote_id="IG1")
    post_webhook("instagram", instagram_dm())
    post_webhook("instagram", instagram_dm())  # Meta delivers twice at times
    intake.process_deliveries()
    item = InboxItem.objects.get()
    assert (item.kind, item.author_id, item.text) == (
        "message", "igsid-9", "Hej, er der åbent?")
    assert item.conversation.key == "dm:igsid-9"

    post_webhook("instagram", {"object": "instagram", "entry": [{
        "id": "IG1", "time": 1_780_000_060_000, "messaging": [{
            "sender": {"id": "igsid-9"}, "recipient": {"id": "IG1"},
            "timestamp": 1_780_000_060_000,
            "message_edit": {"mid": item.remote_id, "text": "Hej, er der åbent i dag?",
                             "num_edit": 1}}]}]})
    post_webhook("instagram", {"object": "instagram", "entry": [{
        "id": "IG1", "time": 1_780_000_070_000, "messaging": [{
            "sender": {"id": "IG1"}, "recipient": {"id": "igsid-9"},
            "timestamp": 1_780_000_070_000,
            "message": {"mid": "aWdfZAG1faXRlbToxOk2", "text": "Ja", "is_echo": True}},
            {"sender": {"id": "igsid-9"}, "recipient": {"id": "IG1"},
             "timestamp": 1_780_000_080_000,
             "reaction": {"mid": "aWdfZAG1faXRlbToxOk2", "action": "react",
                          "reaction": "love"}}]}]})
    intake.process_deliveries()
    item.refresh_from_db()
    assert item.text == "Hej, er der åbent i dag?"
    assert InboxItem.objects.count() == 1
    assert WebhookDelivery.objects.order_by("-pk").first().outcome["skipped"] == {
        "own_item": 1, "not_a_message": 1}

    post_webhook("instagram", instagram_dm(item.remote_id, text="",
                                           when=1_780_000_090_000,
                                           is_deleted=True))
    intake.process_deliveries()
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    assert item.text == "Hej, er der åbent i dag?"
