"""The round trip with publishing (kanal.publishing), per the bridge doc."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from kanal.planning import actions, bridge
from kanal.planning.models import PostStatus

publishing = pytest.importorskip("kanal.publishing.actions")
Publication = pytest.importorskip("kanal.publishing.models").Publication

pytestmark = pytest.mark.django_db


def scheduled_post(desk, soon, networks=("facebook", "x", "mastodon")):
    post = actions.create_post(
        actor=desk.editor,
        title="Kulturnat",
        shared_text="Kulturnatten i København: gratis adgang til rådhustårnet.",
        channels=[desk.channels[n] for n in networks],
        planned_at=soon,
    )
    fb = post.variants.get(channel__network="facebook")
    actions.update_post(
        post,
        actor=desk.editor,
        variants={
            fb.channel_id: {
                "hashtags": ["#voreskbh"],
                "link": "https://kk.dk/kulturnat",
            }
        },
    )
    actions.submit_post(post, actor=desk.editor)
    actions.approve_post(post, actor=desk.approver)
    return post


def test_approval_queues_one_publication_per_variant_with_approved_content(desk, soon):
    post = scheduled_post(desk, soon)
    pubs = {p.channel.network: p for p in Publication.objects.filter(post_id=post.pk)}
    assert sorted(pubs) == ["facebook", "mastodon", "x"]
    fb_variant = post.variants.get(channel__network="facebook")
    fb = pubs["facebook"]
    assert fb.variant_id == fb_variant.pk
    assert fb.revision_id == fb_variant.approved_revision_id
    assert fb.text == (
        "Kulturnatten i København: gratis adgang til rådhustårnet.\n\n#voreskbh"
    )
    assert fb.link == "https://kk.dk/kulturnat"
    assert fb.planned_at == soon
    assert bridge.approval_stands(post_id=post.pk, revision_id=fb.revision_id)


def test_all_published_rolls_up_to_published_with_urls(desk, soon):
    post = scheduled_post(desk, soon, networks=("facebook", "x"))
    for pub in Publication.objects.filter(post_id=post.pk):
        publishing.mark_published_manually(
            pub, actor=desk.editor, url=f"https://example.org/{pub.channel.network}"
        )
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at is not None
    urls = set(post.variants.values_list("published_url", flat=True))
    assert urls == {"https://example.org/facebook", "https://example.org/x"}


def test_one_published_one_failed_is_partially_published(desk, soon):
    post = scheduled_post(desk, soon, networks=("facebook", "x"))
    fb, x = sorted(
        Publication.objects.filter(post_id=post.pk), key=lambda p: p.channel.network
    )
    publishing.mark_published_manually(
        fb, actor=desk.editor, url="https://example.org/fb"
    )
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED  # X still under way
    Publication.objects.filter(pk=x.pk).update(status="failed")
    bridge.publication_changed(post_id=post.pk)
    bridge.publication_changed(post_id=post.pk)  # idempotent
    post.refresh_from_db()
    assert post.status == PostStatus.PARTIALLY_PUBLISHED


def test_roll_up_rules():
    assert bridge.roll_up(["published", "published"]) == PostStatus.PUBLISHED
    assert bridge.roll_up(["published", "failed"]) == PostStatus.PARTIALLY_PUBLISHED
    assert bridge.roll_up(["missed", "missed"]) == PostStatus.MISSED
    assert bridge.roll_up(["failed", "missed"]) == PostStatus.FAILED
    assert bridge.roll_up(["published", "queued"]) is None
    assert bridge.roll_up(["cancelled"]) is None


def test_edit_after_approval_withdraws_queued_publications(desk, soon):
    post = scheduled_post(desk, soon)
    x = post.variants.get(channel__network="x")
    actions.update_post(
        post, actor=desk.editor, variants={x.channel_id: {"text": "Rettet tekst"}}
    )
    assert post.status == PostStatus.IN_REVIEW
    statuses = set(
        Publication.objects.filter(post_id=post.pk).values_list("status", flat=True)
    )
    assert statuses == {"cancelled"}
    assert not bridge.approval_stands(
        post_id=post.pk, revision_id=x.approved_revision_id
    )
    # Re-approval queues the new revision.
    actions.approve_post(post, actor=desk.approver)
    x.refresh_from_db()
    fresh = Publication.objects.get(post_id=post.pk, variant_id=x.pk, status="queued")
    assert fresh.revision_id == x.current_revision_id
    assert fresh.text == "Rettet tekst"


def test_reschedule_moves_queued_publications(desk, soon):
    post = scheduled_post(desk, soon)
    new_day = (soon + timedelta(days=1)).date()
    actions.reschedule_post(post, actor=desk.editor, day=new_day)
    planned = set(
        Publication.objects.filter(post_id=post.pk).values_list("planned_at", flat=True)
    )
    assert planned == {soon + timedelta(days=1)}
    revision_ids = set(
        Publication.objects.filter(post_id=post.pk).values_list(
            "revision_id", flat=True
        )
    )
    assert len(revision_ids) == 3
    assert all(
        bridge.approval_stands(post_id=post.pk, revision_id=r) for r in revision_ids
    )


def test_cancel_withdraws_publications(desk, soon):
    post = scheduled_post(desk, soon)
    actions.cancel_post(post, actor=desk.editor, reason="Aflyst pga. vejret")
    statuses = set(
        Publication.objects.filter(post_id=post.pk).values_list("status", flat=True)
    )
    assert statuses == {"cancelled"}


def test_desk_schedules_an_approved_post(desk, soon):
    post = actions.create_post(
        actor=desk.editor,
        title="Godkendt, ikke planlagt",
        shared_text="Tekst",
        planned_at=soon,
        channels=[desk.channels["facebook"]],
    )
    variant = post.variants.get()
    variant.approved_revision = variant.current_revision
    variant.save()
    post.status = PostStatus.APPROVED
    post.save()
    with pytest.raises(PermissionDenied):
        actions.schedule_post(post, actor=desk.approver)
    actions.schedule_post(post, actor=desk.editor)
    assert post.status == PostStatus.SCHEDULED
    pub = Publication.objects.get(post_id=post.pk)
    assert (pub.revision_id, pub.text) == (variant.current_revision_id, "Tekst")


@pytest.mark.parametrize("outcome", ["failed", "missed"])
def test_a_failed_or_missed_publication_sent_again_goes_out(desk, soon, outcome):
    """Retrying from the operations page must not be cancelled as 'approval
    withdrawn' because the post as a whole is failed or missed."""
    from kanal.publishing import engine

    post = scheduled_post(desk, soon, networks=("facebook",))
    pub = Publication.objects.get(post_id=post.pk)
    Publication.objects.filter(pk=pub.pk).update(status=outcome)
    bridge.publication_changed(post_id=post.pk)
    post.refresh_from_db()
    assert post.status == outcome
    pub.refresh_from_db()
    publishing.retry_publication(pub, actor=desk.editor)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert bridge.approval_stands(post_id=post.pk, revision_id=pub.revision_id)
    jobs = engine.claim_due(owner="test", limit=5)
    assert [job.publication_id for job in jobs] == [pub.pk]
    pub.refresh_from_db()
    assert pub.status == "publishing"
