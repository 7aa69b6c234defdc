"""OUTSIDE TESTER 3 (branch tester3): failing tests for what the Meta webhook
lets into the inbox. Each test names its finding (T3-N) in
/work/briefs/tester3-findings.md."""

from __future__ import annotations

from unittest import mock

import pytest

from kanal.inbox import intake
from kanal.inbox.models import InboxItem

from .conftest import fb_comment

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("comment_id", [
    "104738291045678/feed?x=",  # a path and a query
    "104738291045678_1#x",  # a fragment
    "../104738291045678",  # a step up
    "Hvornår åbner",  # a space
    "{'id': '1'}",  # an object printed as text
])
def test_t3_1_a_webhook_item_id_no_network_gives_is_refused(
    post_webhook, facebook_channel, comment_id
):
    """T3-1: polling reads every id with ``kanal.untrusted.usable_id`` (no
    ``/..``, ``?``, ``#``, space, brace); the webhook path
    (``meta._text`` then ``intake.checked``) only bounds the length and
    control characters. Such an id is stored and later put into the Graph
    path of a reply, a hide or a delete."""
    post_webhook("facebook", fb_comment(comment_id=comment_id))
    intake.process_deliveries()
    assert not InboxItem.objects.filter(remote_id=comment_id).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_t3_1_an_answer_to_such_an_item_never_becomes_a_post_on_the_page(
    sandbox, organisation, member, post_webhook
):
    """T3-1, end to end: a comment announced with the id
    ``{page}/feed?x=`` is answered from the inbox; the follow-up calls
    ``POST /{page}/feed?x=/comments`` and the citizen's answer is published
    as a new public post on the municipality's page (the sandbox's publish
    log shows kind ``post``), not as a reply."""
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost
    from kanal.inbox import replies
    from kanal.organisations.roles import Role
    from kanal.publishing.tests.conftest import sandbox_channel

    from .test_replies import run_follow_ups

    channel = sandbox_channel(sandbox, organisation, "facebook")
    page = channel.remote_id
    post = adapter_for(channel).publish(OutgoingPost(text="Havnebadet åbner"),
                                        idempotency_key="t3-1")
    body = fb_comment(comment_id=f"{page}/feed?x=", page=page, post=post.remote_id)
    post_webhook("facebook", body)
    intake.process_deliveries()
    assert not InboxItem.objects.exists()  # intake refuses the id now
    # One stored before that: the adapter refuses it before building a path.
    with mock.patch.object(intake, "usable_id", lambda value: value):
        post_webhook("facebook", body)
        intake.process_deliveries()
    item = InboxItem.objects.get()
    replies.reply_to_item(item, actor=member(Role.EDITOR), text="Kl. 10 i morgen.",
                          key="t3-1-answer")
    run_follow_ups()
    kinds = [p["kind"] for p in sandbox.published("facebook", page)
             if p["text"] == "Kl. 10 i morgen."]
    assert "post" not in kinds


def _threads_reply(reply_id, username, replied_to, *, root="R1"):
    return {"target_id": "TH1", "time": 1_780_000_000, "values": {
        "field": "replies", "value": {
            "id": reply_id, "username": username, "text": "Kl. 10 i morgen.",
            "timestamp": "2026-06-01T10:00:00+0000",
            "replied_to": {"id": replied_to},
            "root_post": {"id": root, "username": "kbh_kommune"}}}}


def test_t3_3_the_accounts_own_threads_reply_is_not_a_citizens_question(
    post_webhook, organisation
):
    """T3-3: Facebook and Instagram webhooks skip the account's own items
    (``own_item``) and Threads polling skips ``is_reply_owned_by_me``, but
    the Threads webhook has no such check. The desk's own answer (Meta sends
    a ``replies`` event for it, author = the account's username) is stored
    as a citizen's item in the conversation it answered, which opens again
    as *Ny* with a due time: every answer on Threads reopens its own
    conversation and later sends an overdue notice."""
    from kanal.channels.tests.factories import ChannelFactory

    ChannelFactory(organisation=organisation, network="threads",
                   remote_id="TH1", handle="kbh_kommune")
    post_webhook("threads", _threads_reply("T1", "omar", "R1"))
    intake.process_deliveries()
    conversation = InboxItem.objects.get().conversation
    conversation.status = "answered"
    conversation.save(update_fields=["status"])
    post_webhook("threads", _threads_reply("T2", "kbh_kommune", "T1"))
    intake.process_deliveries()
    conversation.refresh_from_db()
    assert conversation.status == "answered"
    assert not InboxItem.objects.filter(remote_id="T2").exists()


@pytest.mark.parametrize("page_id", [
    "\\ud800",  # a lone UTF-16 half: no database driver encodes it
    "x\\udfff",
])
def test_t3_4_one_entry_with_an_unstorable_page_id_loses_no_other_entry(
    post_webhook, facebook_channel, page_id
):
    """T3-4: ids of items are checked (``bad_id``), the entry's page id is
    not: it goes straight into the channel lookup, which raises
    ``UnicodeEncodeError`` (and on PostgreSQL a ``DataError`` for a NUL
    ``\\u0000``, too). The whole delivery is marked failed and the other
    entries' comments in the same body (Meta batches entries) are never
    stored."""
    import json

    from kanal.inbox.models import WebhookDelivery

    good = fb_comment()
    other = fb_comment(comment_id="104738291045678_2")["entry"][0]
    raw = json.dumps({"object": "page", "entry": [good["entry"][0], other]})
    raw = raw.replace('"id": "104738291045678", "time": 1780000000, "changes": '
                      '[{"field": "feed", "value": {"from": {"id": "c-1", "name": '
                      '"Mette Hansen"}, "post_id": "104738291045678_9", '
                      '"comment_id": "104738291045678_2"',
                      f'"id": "{page_id}", "time": 1780000000, "changes": '
                      '[{"field": "feed", "value": {"from": {"id": "c-1", "name": '
                      '"Mette Hansen"}, "post_id": "104738291045678_9", '
                      '"comment_id": "104738291045678_2"')
    assert page_id in raw
    post_webhook("facebook", raw.encode())
    intake.process_deliveries()
    assert WebhookDelivery.objects.get().status != "failed"
    assert InboxItem.objects.filter(remote_id="104738291045678_1").exists()


def test_t3_9_an_unsigned_request_cannot_tell_which_organisations_exist(
    post_webhook, organisation
):
    """T3-9 (low): ``/webhooks/<network>/<organisation>/`` looks the
    organisation up (404) before it checks the signature (403), so anyone
    can list the municipalities Kanal serves by their slugs without the
    app secret. Both should get the same refusal."""
    known = post_webhook("facebook", fb_comment(), signature=False,
                         path=f"/webhooks/facebook/{organisation.slug}/")
    unknown = post_webhook("facebook", fb_comment(), signature=False,
                           path="/webhooks/facebook/findes-ikke/")
    assert known.status_code == 403
    assert unknown.status_code == known.status_code
