"""Who is told, in the app and by e-mail, when a post goes out or fails, a
channel needs reconnecting and a crisis starts or ends.

The choice (``kanal.notifications.audience``): a failure on a channel goes
to the channel's desk (its administration's planners, publishers and
approvers) and the administrators; the post's author learns how the post
went out; crisis mode goes to everyone who may run it, except the person who
switched it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from kanal.channels.networks.errors import AuthExpired, Rejected
from kanal.notifications.actions import set_preferences
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.planning import actions
from kanal.planning.models import PostStatus
from kanal.publishing import actions as publishing
from kanal.publishing.models import Publication
from kanal.publishing.tests.conftest import run_once
from kanal.publishing.tests.fakes import NETWORK, FakeAdapter

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(monkeypatch):
    """Every network answers through the scripted fake."""
    from kanal.channels import adapters

    NETWORK.reset()
    monkeypatch.setattr(
        adapters, "ADAPTER_OVERRIDES",
        dict.fromkeys(["facebook", "x", "mastodon"], FakeAdapter),
    )
    return NETWORK


@pytest.fixture
def author(desk, member):
    """An editor of another administration (BUF), writing for KFF's channel:
    not part of the channel's desk."""
    return member(Role.EDITOR, administration=desk.buf)


@pytest.fixture
def lead(desk, member):
    return member(Role.CRISIS_LEAD, administration=desk.kff)


def approved_and_due(desk, author, soon):
    post = actions.create_post(
        actor=author,
        title="Kulturnat",
        shared_text="Gratis adgang til rådhustårnet.",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    actions.submit_post(post, actor=author)
    actions.approve_post(post, actor=desk.approver)
    now = timezone.now()
    Publication.objects.filter(post_id=post.pk).update(
        planned_at=now - timedelta(seconds=1),
        due_at=now - timedelta(seconds=1),
        late_after=now + timedelta(hours=2),
    )
    Notification.objects.all().delete()
    mail.outbox.clear()
    return post


def told(kind):
    return {n.recipient for n in Notification.objects.filter(kind=kind)}


def mailed_to(fragment):
    return sorted(m.to[0] for m in mail.outbox if fragment in m.subject)


def test_a_failed_publication_reaches_the_desk_and_the_author(
    desk, author, soon, network
):
    set_preferences(actor=desk.admin, email_kinds=["publication_failed"],
                    language="en")
    post = approved_and_due(desk, author, soon)
    network.script = [Rejected("Teksten er for lang til Facebook.")]
    run_once()
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED
    assert told("publication_failed") == {desk.editor, desk.approver, desk.admin}
    assert told("post.failed") == {author}
    # By e-mail (the default for failures), each in their own language.
    assert mailed_to("opslaget blev ikke udgivet") == sorted(
        [desk.editor.user.email, desk.approver.user.email]
    )
    assert mailed_to("the post was not published") == [desk.admin.user.email]
    [english] = [m for m in mail.outbox if m.to == [desk.admin.user.email]]
    assert "Teksten er for lang til Facebook." in english.body
    assert mailed_to("Dit opslag «Kulturnat» blev ikke udgivet") == [
        author.user.email
    ]


def test_your_post_was_published_reaches_the_author_in_the_app_only(
    desk, author, soon, network
):
    post = approved_and_due(desk, author, soon)
    run_once()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    [note] = Notification.objects.filter(kind="post.published")
    assert note.recipient == author
    assert note.message == "Dit opslag er udgivet: Kulturnat"
    assert note.url == f"/plan/opslag/{post.pk}/"
    assert told("publication_failed") == set()
    assert mail.outbox == []  # good news is not mailed unless asked for


def test_the_author_who_asks_gets_the_good_news_by_e_mail_in_english(
    desk, author, soon, network
):
    set_preferences(actor=author, email_kinds=["post.published"], language="en")
    approved_and_due(desk, author, soon)
    run_once()
    [message] = mail.outbox
    assert message.to == [author.user.email]
    assert message.subject == "Kanal: Your post has been published: Kulturnat"


def test_a_channel_needing_reconnection_reaches_its_desk_by_e_mail(
    desk, author, soon, network
):
    approved_and_due(desk, author, soon)
    network.script = [AuthExpired()]
    run_once()
    channel = desk.channels["facebook"]
    assert told("channel_needs_reconnect") == {desk.editor, desk.approver,
                                               desk.admin}
    assert sorted(mailed_to("skal forbindes igen")) == sorted(
        m.user.email for m in (desk.editor, desk.approver, desk.admin)
    )
    [message] = [m for m in mail.outbox if m.to == [desk.admin.user.email]]
    assert f"/kanaler/{channel.pk}/" in message.body


def test_start_and_end_of_a_crisis_reach_the_crisis_leads(desk, lead):
    with TestCase.captureOnCommitCallbacks(execute=True):
        crisis = publishing.start_crisis(
            actor=lead, organisation=desk.organisation, reason="Skybrud"
        )
    # Everyone who may run crisis mode, but not the one who switched it.
    assert told("crisis_started") == {desk.editor, desk.admin}
    assert sorted(mailed_to("Krisetilstand er slået til")) == sorted(
        [desk.editor.user.email, desk.admin.user.email]
    )
    [note] = Notification.objects.filter(kind="crisis_started",
                                         recipient=desk.admin)
    assert "Skybrud" in note.message and lead.display_name in note.message
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        publishing.end_crisis(crisis, actor=desk.editor, decisions={})
    assert told("crisis_ended") == {lead, desk.admin}
    assert sorted(mailed_to("Krisetilstand er slået fra")) == sorted(
        [lead.user.email, desk.admin.user.email]
    )


def test_a_member_who_turned_crisis_mail_off_gets_it_only_in_the_app(desk, lead):
    set_preferences(actor=desk.admin, email_kinds=[], language="da")
    with TestCase.captureOnCommitCallbacks(execute=True):
        publishing.start_crisis(
            actor=lead, organisation=desk.organisation, reason="Skybrud"
        )
    assert desk.admin in told("crisis_started")
    assert mailed_to("Krisetilstand") == [desk.editor.user.email]
