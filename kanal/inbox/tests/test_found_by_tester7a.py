"""OUTSIDE TESTER 7a (branch tester7a): the inbox attacked again. Each test
names its finding (T7a-N)."""

from __future__ import annotations

import pytest

from kanal.inbox.models import AssignmentRule, ReferralTemplate, StandardAnswer
from kanal.organisations.roles import Role

from .factories import citizen_item

pytestmark = pytest.mark.django_db

SETTINGS = {"opens_at": "08:00", "closes_at": "16:00",
            "open_weekdays": ["0", "1", "2", "3", "4"], "target_hours": "8",
            "retention_days": "365", "footer_text": "", "block_at_warning": "3"}


def test_t7a_1_a_refused_setup_form_answers_400_and_keeps_what_was_typed(
        desk, member, organisation, client):
    """T7a-1: the inbox's setup pages (standard answers, referrals, their
    edit pages, the settings and their assignment rules) answered a refused
    form with 200, as if it were stored: a script or a monitor saw success,
    and the house's rule (``core.pages.form_page``, as every other form page
    answers) is 400. Now 400, with the form and what was typed."""
    answer = StandardAnswer.objects.create(organisation=organisation,
                                           title="Åbningstider", text="Kl. 8.")
    referral = ReferralTemplate.objects.create(organisation=organisation,
                                               title="kk.dk", text="Se kk.dk.")
    client.force_login(member(Role.ADMIN, administration=desk["kff"]).user)
    refused = {
        "/indbakke/standardsvar/": {"title": "Hilsen", "text": "Hej {navn}."},
        f"/indbakke/standardsvar/{answer.pk}/": {"title": "Hilsen",
                                                "text": "Hej {navn}."},
        "/indbakke/henvisninger/": {"title": "Hilsen", "text": "Hej {navn}.",
                                    "administration": ""},
        f"/indbakke/henvisninger/{referral.pk}/": {
            "title": "Hilsen", "text": "Hej {navn}.", "administration": ""},
        "/indbakke/indstillinger/": {**SETTINGS, "target_hours": "0"},
    }
    for path, data in refused.items():
        assert client.get(path).status_code == 200
        response = client.post(path, data)
        assert response.status_code == 400, path
        page = response.content.decode()
        assert 'id="error-summary"' in page or "errorlist" in page, path
    rule = client.post("/indbakke/indstillinger/", {
        "form": "rule", "keyword": "x" * 101,
        "administration": desk["buf"].pk})
    assert rule.status_code == 400
    assert "x" * 101 in rule.content.decode()
    assert not AssignmentRule.objects.exists()
    answer.refresh_from_db()
    referral.refresh_from_db()
    assert (answer.text, referral.text) == ("Kl. 8.", "Se kk.dk.")
    assert not StandardAnswer.objects.filter(title="Hilsen").exists()


def test_t7a_2_a_page_answers_only_the_methods_it_has(desk, member, organisation,
                                                      client):
    """T7a-2: the inbox's pages answered any method as a GET: a POST (or a
    PUT or DELETE) to the list, its polling, a conversation or a setup page
    drew the page with 200, so a client that meant to change something was
    told it had. ``DELETE /indbakke/standardsvar/<id>/`` answered 200 and
    deleted nothing. Now 405 with the methods allowed, and nothing changes."""
    conversation = citizen_item(desk["channel"]).conversation
    answer = StandardAnswer.objects.create(organisation=organisation,
                                           title="Åbningstider", text="Kl. 8.")
    referral = ReferralTemplate.objects.create(organisation=organisation,
                                               title="kk.dk", text="Se kk.dk.")
    client.force_login(member(Role.ADMIN, administration=desk["kff"]).user)
    read_only = ["/indbakke/", "/indbakke/nye/", f"/indbakke/{conversation.pk}/"]
    forms = ["/indbakke/standardsvar/", f"/indbakke/standardsvar/{answer.pk}/",
             "/indbakke/henvisninger/", f"/indbakke/henvisninger/{referral.pk}/",
             "/indbakke/indstillinger/"]
    for path in read_only:
        assert client.get(path).status_code == 200, path
        for method in ("post", "put", "delete", "patch"):
            response = getattr(client, method)(path)
            assert response.status_code == 405, (method, path)
            assert "GET" in response["Allow"]
    for path in forms:
        assert client.get(path).status_code == 200, path
        for method in ("put", "delete", "patch"):
            response = getattr(client, method)(path)
            assert response.status_code == 405, (method, path)
            assert response["Allow"] == "GET, POST"
    assert StandardAnswer.objects.filter(pk=answer.pk).exists()
    assert ReferralTemplate.objects.filter(pk=referral.pk).exists()


LOOK_ALIKE = ["https://evil.example/login", "https://threads.net.evil.example/p/1",
              "https://evilthreads.net/p/1"]


@pytest.mark.parametrize("link", LOOK_ALIKE)
def test_t7a_3_a_link_to_another_host_is_not_offered_as_the_networks(
        post_webhook, organisation, member, client, link):
    """T7a-3: an item's "Se på netværket" link was kept whatever its host
    (only its scheme was checked): a Threads webhook whose ``permalink`` was
    ``https://evil.example/login`` put that address on the conversation
    page as the network's, where a person signs in. Publishing keeps only
    addresses on the network's own web (``permalink``); the inbox now does
    the same, for webhooks and polling."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox import intake
    from kanal.inbox.models import InboxItem

    ChannelFactory(organisation=organisation, network="threads", remote_id="TH1")
    good = "https://www.threads.net/@omar/post/T2"
    for remote_id, permalink in (("T1", link), ("T2", good)):
        post_webhook("threads", {"target_id": "TH1", "time": 1_780_000_000,
                                 "values": {"field": "replies", "value": {
                                     "id": remote_id, "username": "omar",
                                     "text": "Godt", "permalink": permalink,
                                     "timestamp": "2026-06-01T10:00:00+0000",
                                     "replied_to": {"id": "R1"},
                                     "root_post": {"id": "R1"}}}})
    intake.process_deliveries()
    hostile, kept = InboxItem.objects.get(remote_id="T1"), InboxItem.objects.get(
        remote_id="T2")
    assert (hostile.url, kept.url) == ("", good)
    client.force_login(member(Role.EDITOR).user)
    page = client.get(f"/indbakke/{hostile.conversation_id}/").content.decode()
    assert link not in page
    page = client.get(f"/indbakke/{kept.conversation_id}/").content.decode()
    assert f'href="{good}"' in page


def test_t7a_3_a_federated_citizens_link_is_on_their_own_server(facebook_channel):
    """T7a-3, Mastodon: a citizen on another server has their post there
    (``user@server``); that server's link is kept, any other host is not."""
    from datetime import UTC, datetime

    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.inbox import intake
    from kanal.inbox.models import InboxItem

    channel = ChannelFactory(organisation=facebook_channel.organisation,
                             network="mastodon", remote_id="109",
                             base_url="https://mastodon.example")
    for remote_id, url in (("1", "https://social.example/@ida/1"),
                           ("2", "https://mastodon.example/@kbh/2"),
                           ("3", "https://evil.example/@ida/3")):
        intake.ingest(channel, NetworkItem(
            remote_id=remote_id, kind="comment", author_id="a1",
            author_name="Ida", author_handle="ida@social.example", text="Hej",
            created_at=datetime.now(UTC), post_remote_id="p1", url=url),
            action="poll")
    assert dict(InboxItem.objects.values_list("remote_id", "url")) == {
        "1": "https://social.example/@ida/1",
        "2": "https://mastodon.example/@kbh/2", "3": ""}


def test_t7a_4_an_answer_to_a_conversation_given_away_meanwhile_is_kept(
        desk, client):
    """T7a-4: a contributor wrote an answer (or a note) while the desk gave
    the conversation to another administration; sending it answered the
    site's bare 404 and what they wrote was gone. Still 404 (the same page
    for an id that never existed: it tells nobody which do), now saying
    that nothing was sent, why that may be, and with the text to copy. And
    nothing reached the network."""
    from kanal.inbox.models import Answer, Note
    from kanal.publishing.models import FollowUp

    from .factories import post_answer

    item = citizen_item(desk["channel"])
    conversation = item.conversation
    conversation.assigned_administration = desk["buf"]
    conversation.save()
    client.force_login(desk["buf_contributor"].user)
    assert client.get(f"/indbakke/{conversation.pk}/").status_code == 200
    conversation.assigned_administration = desk["tmf"]  # the desk, meanwhile
    conversation.save()
    text = "Hej Mette. Svømmehallen åbner kl. 7 <på> mandag & tirsdag."
    for response in (
        post_answer(client, item, text),
        client.post(f"/indbakke/{conversation.pk}/note/",
                    {"text": text, "key": "n" * 32}),
        client.post("/indbakke/987654/svar/", {"text": text}),
    ):
        assert response.status_code == 404
        page = response.content.decode()
        assert "Intet er sendt eller gemt" in page
        assert "Hej Mette. Svømmehallen åbner kl. 7 &lt;på&gt; mandag &amp; " \
               "tirsdag." in page
    assert not Answer.objects.exists() and not FollowUp.objects.exists()
    assert not Note.objects.exists()
