"""The outcome table: unknown outcomes are reconciled before any resend, a
duplicate refusal after an uncertain write is looked up (never FAILED), the
network's clock may be minutes off, and reasons are shown in the reader's
language."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from kanal.channels.networks.errors import OutcomeUnknown, Rejected, TransientError
from kanal.organisations.roles import Role
from kanal.publishing import actions, conf
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import run_once, sandbox_channel

S = PublicationStatus


def refresh(pub) -> Publication:
    return Publication.objects.get(pk=pub.pk)


def due_now(pub) -> None:
    Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())


def duplicate_refusal() -> Rejected:
    """X's refusal of the same text, as its adapter raises it."""
    from kanal.channels.networks import errors

    duplicate = getattr(errors, "Duplicate", Rejected)
    return duplicate(
        "X afviste opslaget, fordi den samme tekst lige er udgivet. Ret teksten.",
        network="x", network_code="duplicate-content", http_status=403,
    )


@pytest.mark.django_db
def test_duplicate_refusal_after_an_uncertain_write_is_the_lost_post(
    fake_network, facebook_queue
):
    pub = facebook_queue()
    fake_network.script = ["create_then_timeout", duplicate_refusal()]
    fake_network.find_script = ["miss"]  # the listing does not show it yet
    assert run_once() == [S.UNKNOWN]
    due_now(pub)
    assert run_once() == [S.PUBLISHED]
    pub = refresh(pub)
    assert pub.remote_id == "r1"
    assert len(fake_network.log) == 1


@pytest.mark.django_db
def test_duplicate_refusal_that_cannot_be_found_yet_is_never_failed_as_rejected(
    fake_network, facebook_queue
):
    pub = facebook_queue()
    fake_network.script = ["create_then_timeout"] + [duplicate_refusal()] * 20
    fake_network.find_script = ["miss"] * 40
    run_once()
    for _ in range(conf.get("MAX_ATTEMPTS") - 2):
        due_now(pub)
        assert run_once() == [S.UNKNOWN]
        pub = refresh(pub)
        assert pub.error_kind == "duplicate_unresolved"
        assert "Ret ikke teksten" in pub.last_error
    due_now(pub)
    # Never FAILED: the post may be live; Kanal keeps asking the network.
    assert run_once() == [S.UNKNOWN]
    pub = refresh(pub)
    assert pub.error_kind == "unknown_exhausted"
    assert pub.needs_reconcile
    assert "bliver ved med at spørge" in pub.last_error
    assert "Ret teksten" not in pub.last_error
    assert len(fake_network.log) == 1


@pytest.mark.django_db
def test_duplicate_refusal_of_a_first_write_is_a_rejection(fake_network, queue):
    pub = queue()
    fake_network.script = [duplicate_refusal()]
    assert run_once() == [S.FAILED]
    assert refresh(pub).error_kind == "rejected"


@pytest.mark.django_db
def test_transient_5xx_from_an_adapter_after_its_fence_counts_as_unknown(
    fake_network, queue
):
    pub = queue()
    fake_network.script = [OutcomeUnknown()]
    run_once()
    assert refresh(pub).status == S.UNKNOWN
    due_now(pub)
    # A second attempt: nothing found; the resend gets a plain 503 back
    # after its fence (an adapter that did not say "unknown").
    fake_network.script = [("after_fence", TransientError(http_status=503))]
    assert run_once() == [S.UNKNOWN]
    assert refresh(pub).error_kind == "unknown_outcome"


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("network", ["facebook", "x", "linkedin"])
def test_5xx_after_the_network_created_the_post_is_published_once(
    network, sandbox, organisation
):
    channel = sandbox_channel(sandbox, organisation, network)
    pub = actions.queue_publication(
        actor=None, organisation=organisation, channel=channel,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None,
        text=f"Nyt om affaldssortering i Valby ({uuid.uuid4().hex[:8]})",
    )
    sandbox.fault(network, "server_error_after_create", operation="publish",
                  account=channel.remote_id)
    assert run_once() == [S.UNKNOWN]
    due_now(pub)
    assert run_once() == [S.PUBLISHED]
    posts = [r for r in sandbox.published(network, channel.remote_id)
             if r["kind"] == "post"]
    assert len(posts) == 1
    assert refresh(pub).remote_id


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_reconciling_finds_the_post_when_the_networks_clock_is_minutes_behind(
    sandbox, organisation, short_timeout
):
    channel = sandbox_channel(sandbox, organisation, "x")
    sandbox.advance_clock(-600)
    pub = actions.queue_publication(
        actor=None, organisation=organisation, channel=channel,
        planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
        variant_id=None, revision_id=None,
        text=f"Vejarbejde på Jagtvej ({uuid.uuid4().hex[:8]})",
    )
    sandbox.fault("x", "timeout_after_create", operation="publish",
                  account=channel.remote_id, delay_ms=10_000)
    assert run_once() == [S.UNKNOWN]
    due_now(pub)
    assert run_once() == [S.PUBLISHED]
    posts = [r for r in sandbox.published("x", channel.remote_id)
             if r["kind"] == "post"]
    assert len(posts) == 1
    assert refresh(pub).remote_id == posts[0]["item_id"]


# -- reasons in the reader's language -------------------------------------------


def test_every_rule_has_a_reason_text_and_every_exhausted_rule_exists():
    from kanal.publishing import outcomes

    for key, rule in outcomes.RULES.items():
        assert rule.reason == "" or rule.reason in outcomes.REASONS, key
        assert rule.exhausted == "" or rule.exhausted in outcomes.RULES, key


def test_reason_is_rendered_in_the_readers_language():
    from kanal.publishing import outcomes

    params = {"n": 6, "why": "HTTP 503"}
    with translation.override("da"):
        danish = outcomes.render_reason("transient_exhausted", params)
    with translation.override("en"):
        english = outcomes.render_reason("transient_exhausted", params)
    assert "6 gange i træk" in danish
    assert "6 times in a row" in english
    with translation.override("en"):
        late = outcomes.render_reason("late", {"cutoff": 7200})
    assert "2 hours" in late


@pytest.mark.django_db
def test_operations_page_shows_the_reason_in_english_for_an_english_reader(
    fake_network, queue, member, client_for
):
    pub = queue()
    fake_network.script = [TransientError("Serveren svarede 503.")] * 10
    for _ in range(conf.get("MAX_ATTEMPTS")):
        due_now(pub)
        run_once()
    assert refresh(pub).status == S.FAILED
    client = client_for(member(Role.EDITOR))
    page = client.get(reverse("publishing:operations") + "?vis=failed",
                      HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "times in a row" in text
    assert "Serveren svarede 503" in text  # the network's own words, kept
    danish = client.get(reverse("publishing:operations") + "?vis=failed",
                        HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "gange i træk" in danish


def test_reason_without_its_values_falls_back_to_the_stored_text():
    from kanal.publishing import outcomes
    from kanal.publishing.models import Publication

    assert outcomes.render_reason("rejected", {}) == ""
    pub = Publication(error_kind="rejected", last_error="Teksten er for lang.")
    assert pub.reason == "Teksten er for lang."


# -- twins: the same text twice on one channel ------------------------------------


@pytest.mark.django_db
def test_lookup_never_adopts_the_post_another_publication_holds(
    fake_network, organisation
):
    from kanal.channels.tests.factories import ChannelFactory

    facebook = ChannelFactory(organisation=organisation, network="facebook")
    fake_network.find_by_text = True
    text = "Husk: genbrugsstationen lukker kl. 17 i dag"

    def queue_twin():
        return actions.queue_publication(
            actor=None, organisation=organisation, channel=facebook,
            planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
            variant_id=None, revision_id=None, text=text,
        )

    first = queue_twin()
    fake_network.script = [OutcomeUnknown()]  # sent; nothing was made
    assert run_once() == [S.UNKNOWN]
    second = queue_twin()
    Publication.objects.filter(pk=first.pk).update(
        due_at=timezone.now() + timedelta(hours=1))
    assert run_once() == [S.PUBLISHED]
    second = refresh(second)
    for _ in range(conf.get("MAX_ATTEMPTS")):
        due_now(first)
        run_once()
    first = refresh(first)
    assert first.remote_id != second.remote_id
    assert first.status == S.FAILED
    assert first.error_kind == "sibling_exhausted"
    assert len(fake_network.log) == 1  # only the second one is out
    # The person checked: not there twice, so "Prøv igen nu" sends it.
    actions.retry_publication(first, actor=None)
    assert run_once() == [S.PUBLISHED]
    assert len(fake_network.log) == 2
    assert refresh(first).remote_id != second.remote_id


@pytest.mark.django_db
def test_lookup_finding_a_twins_post_sends_again_with_the_key_where_that_is_safe(
    fake_network, queue
):
    fake_network.find_by_text = True
    text = "Husk: genbrugsstationen lukker kl. 17 i dag"
    first = queue(text=text)  # the channel is Mastodon: its key dedupes
    fake_network.script = [OutcomeUnknown()]
    run_once()
    second = queue(text=text)
    Publication.objects.filter(pk=first.pk).update(
        due_at=timezone.now() + timedelta(hours=1))
    assert run_once() == [S.PUBLISHED]
    due_now(first)
    assert run_once() == [S.PUBLISHED]
    assert refresh(first).remote_id != refresh(second).remote_id
    assert len(fake_network.log) == 2


@pytest.mark.django_db
def test_the_networks_own_answer_takes_a_post_back_from_a_lookup(
    fake_network, queue
):
    from kanal.channels.networks.base import PublishResult
    from kanal.publishing import engine

    adopted = queue(text="Ens tekst")
    twin = queue(text="Ens tekst")
    [job] = engine.claim_due(owner="w", limit=1)
    assert job.publication_id == adopted.pk
    post = PublishResult("r9", "https://fake.example/p/9", timezone.now())
    engine.record(job, engine.Outcome("published", result=post, reconciled=True))
    assert refresh(adopted).found_by_lookup
    [job] = engine.claim_due(owner="w", limit=1)
    assert job.publication_id == twin.pk
    assert engine.record(job, engine.Outcome("published", result=post)) == \
        S.PUBLISHED
    adopted = refresh(adopted)
    assert adopted.status == S.UNKNOWN
    assert adopted.needs_reconcile and adopted.remote_id == ""
    assert adopted.error_kind == "lookup_taken_back"
    assert refresh(twin).remote_id == "r9"


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_twins_on_mastodon_each_get_their_own_post(sandbox, organisation):
    channel = sandbox_channel(sandbox, organisation, "mastodon")
    text = f"Husk madpakken til udflugten ({uuid.uuid4().hex[:6]})"

    def queue_twin():
        return actions.queue_publication(
            actor=None, organisation=organisation, channel=channel,
            planned_at=timezone.now() - timedelta(seconds=1), post_id=None,
            variant_id=None, revision_id=None, text=text,
        )

    first = queue_twin()
    # A 5xx before anything is made: unknown for a write.
    sandbox.fault("mastodon", "server_error", operation="publish",
                  account=channel.remote_id)
    assert run_once() == [S.UNKNOWN]
    second = queue_twin()
    Publication.objects.filter(pk=first.pk).update(
        due_at=timezone.now() + timedelta(hours=1))
    assert run_once() == [S.PUBLISHED]
    due_now(first)
    assert run_once() == [S.PUBLISHED]
    posts = [r for r in sandbox.published("mastodon", channel.remote_id)
             if r["kind"] == "post"]
    assert len(posts) == 2
    assert {refresh(first).remote_id, refresh(second).remote_id} == {
        r["item_id"] for r in posts}


@pytest.mark.django_db
def test_duplicate_refusal_naming_another_publications_post_is_a_rejection(
    fake_network, facebook_queue
):
    from kanal.channels.networks import errors

    text = "Husk: genbrugsstationen lukker kl. 17 i dag"
    first = facebook_queue(text=text)
    assert run_once() == [S.PUBLISHED]
    second = facebook_queue(text=text)
    fake_network.script = [
        OutcomeUnknown(),  # sent; nothing made
        errors.Duplicate("LinkedIn afviste opslaget som en gentagelse.",
                         existing_id=refresh(first).remote_id),
    ]
    fake_network.find_script = ["miss"]
    assert run_once() == [S.UNKNOWN]
    due_now(second)
    assert run_once() == [S.FAILED]
    second = refresh(second)
    assert second.error_kind == "rejected"
    assert second.remote_id == ""
    assert len(fake_network.log) == 1


@pytest.mark.django_db
def test_lookups_that_time_out_keep_an_unknown_outcome_unknown_until_found(
    fake_network, facebook_queue, desk_admin
):
    """Found by the fault benchmark (token_race on a saturated machine): the
    answer to the write was lost, then every lookup timed out; each timeout
    was taken for a plain transient error, and after MAX_ATTEMPTS the live
    post was FAILED as "the network answered with errors". An outcome that
    is unknown stays unknown (and is looked up again) however many lookups
    fail; a person is told once; the post is recorded when a lookup works."""
    from kanal.notifications.models import Notification, subject_of

    pub = facebook_queue()
    slow = TransientError("Netværket svarede ikke i tide.", network="fake")
    fake_network.script = ["create_then_timeout"]
    fake_network.find_script = [slow] * (conf.get("MAX_ATTEMPTS") + 3)
    assert run_once() == [S.UNKNOWN]
    for _ in range(conf.get("MAX_ATTEMPTS") + 3):
        due_now(pub)
        assert run_once() == [S.UNKNOWN]
        assert refresh(pub).needs_reconcile
    pub = refresh(pub)
    assert pub.error_kind == "unknown_exhausted"
    assert "ved endnu ikke" in pub.last_error
    told = list(
        Notification.objects.filter(subject=subject_of(pub))
        .values_list("recipient_id", "kind")
    )
    # Told once: one notice per person, of the "does not know" kind.
    assert (desk_admin.pk, "publication_unknown") in told
    assert len(told) == len(set(told))
    assert {kind for _, kind in told} == {"publication_unknown"}
    due_now(pub)
    assert run_once() == [S.PUBLISHED]
    assert refresh(pub).remote_id == "r1"
    assert len(fake_network.log) == 1


@pytest.mark.django_db
def test_a_timeout_after_the_write_went_through_is_unknown_not_a_plain_retry(
    fake_network, queue
):
    """Found by the fault benchmark (container_withdraw): threads_publish
    made the post, then a read after it timed out; the transient error was
    taken as "nothing applied" (retrying, no lookup), and an edit then
    cancelled a live post. After this job's fence let a write start, a
    transient error is an unknown outcome: looked up, never sent again."""
    pub = queue()
    fake_network.script = ["create_then_read_timeout"]
    assert run_once() == [S.UNKNOWN]
    # Marked as possibly sent: a withdrawal now leaves it to the engine.
    assert refresh(pub).needs_reconcile
    due_now(pub)
    assert run_once() == [S.PUBLISHED]
    assert len(fake_network.log) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("on_the_network", [True, False])
def test_a_disabled_channel_asks_the_network_before_failing_a_doubtful_post(
    fake_network, queue, on_the_network
):
    """Found by the fault benchmark (channel_disabled, PostgreSQL): a post
    whose answer was lost was FAILED "channel disabled" at the next claim
    without asking the network, although it was live. Now the network is
    asked first; nothing is sent on a disabled channel either way."""
    from kanal.channels.models import Channel, ChannelStatus

    pub = queue()
    fake_network.script = ["create_then_timeout"]
    assert run_once() == [S.UNKNOWN]
    Channel.objects.filter(pk=pub.channel_id).update(status=ChannelStatus.DISABLED)
    fake_network.find_script = [] if on_the_network else ["miss"]
    due_now(pub)
    if on_the_network:
        assert run_once() == [S.PUBLISHED]
        assert refresh(pub).remote_id
    else:
        assert run_once() == [S.FAILED]
        assert refresh(pub).error_kind == "channel_disabled"
    assert len(fake_network.log) == 1  # the one lost write; nothing resent
