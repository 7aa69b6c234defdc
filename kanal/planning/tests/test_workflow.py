from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kanal.core.models import AuditEntry
from kanal.notifications.models import Notification
from kanal.planning import actions
from kanal.planning.models import PostStatus, VariantRevision
from kanal.planning.tests.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db


def make_post(
    desk,
    soon,
    networks=("facebook", "x"),
    text="Kom til koncert i Kulturhuset Islands Brygge fredag kl. 20!",
    actor=None,
):
    return actions.create_post(
        actor=actor or desk.editor,
        title="Koncert i Kulturhuset",
        shared_text=text,
        channels=[desk.channels[n] for n in networks],
        planned_at=soon,
        category="Arrangementer",
        purposes=["branding"],
    )


def approve_ready(desk, soon, **kwargs):
    post = make_post(desk, soon, **kwargs)
    actions.submit_post(post, actor=desk.editor)
    return post


def test_create_post_makes_one_variant_per_channel_from_the_shared_text(desk, soon):
    post = make_post(desk, soon)
    variants = list(post.variants.order_by("channel__network"))
    assert [v.channel.network for v in variants] == ["facebook", "x"]
    assert {v.text for v in variants} == {post.shared_text}
    assert all(v.planned_at == soon for v in variants)
    assert VariantRevision.objects.filter(variant__post=post).count() == 2
    assert post.status == PostStatus.DRAFT
    assert AuditEntry.objects.filter(event="planning.post.created").count() == 1


def test_submit_approve_schedules_the_approved_revision(desk, soon):
    post = approve_ready(desk, soon)
    assert post.status == PostStatus.IN_REVIEW
    assert Notification.objects.filter(
        recipient=desk.approver, kind="post.submitted"
    ).exists()
    actions.approve_post(post, actor=desk.approver)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.approved_by == desk.approver.user
    for variant in post.variants.all():
        assert variant.approved_revision_id == variant.current_revision_id
    events = list(
        AuditEntry.objects.filter(event__startswith="planning.post.")
        .order_by("seq")
        .values_list("event", flat=True)
    )
    assert events[-3:] == [
        "planning.post.submitted",
        "planning.post.approved",
        "planning.post.scheduled",
    ]


def test_edit_after_approval_creates_revision_and_returns_to_review(desk, soon):
    post = approve_ready(desk, soon)
    actions.approve_post(post, actor=desk.approver)
    fb = post.variants.get(channel__network="facebook")
    approved = fb.approved_revision_id
    actions.update_post(
        post,
        actor=desk.editor,
        expected_version=post.version,
        variants={fb.channel_id: {"text": "Ny tekst om koncerten"}},
    )
    post.refresh_from_db()
    fb.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert fb.current_revision.number == 2
    assert fb.current_revision.text == "Ny tekst om koncerten"
    assert fb.approved_revision_id == approved
    assert fb.approved_revision.text.startswith("Kom til koncert")
    assert Notification.objects.filter(kind="post.returned_to_review").exists()


def test_revisions_are_immutable(desk, soon):
    post = make_post(desk, soon)
    revision = VariantRevision.objects.filter(variant__post=post).first()
    revision.text = "ændret"
    with pytest.raises(TypeError):
        revision.save()
    with pytest.raises(TypeError):
        VariantRevision.objects.filter(pk=revision.pk).update(text="x")


def test_self_approval_is_forbidden_when_the_organisation_says_so(desk, soon):
    post = make_post(desk, soon, actor=desk.admin)
    actions.submit_post(post, actor=desk.admin)
    with pytest.raises(actions.PlanningError, match="selv har skrevet"):
        actions.approve_post(post, actor=desk.admin)
    desk.organisation.forbid_self_approval = False
    desk.organisation.save()
    post.organisation.refresh_from_db()
    actions.approve_post(post, actor=desk.admin)
    assert post.status == PostStatus.SCHEDULED


def test_editor_cannot_approve(desk, soon):
    post = approve_ready(desk, soon)
    with pytest.raises(PermissionDenied):
        actions.approve_post(post, actor=desk.editor)


def test_approval_refuses_invalid_variant_with_danish_message(desk, soon):
    post = approve_ready(desk, soon, networks=("instagram",))
    with pytest.raises(actions.InvalidVariants) as caught:
        actions.approve_post(post, actor=desk.approver)
    messages = [p.message for ps in caught.value.problems.values() for p in ps]
    assert any("Instagram kræver et billede" in m for m in messages)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_approval_refuses_image_without_alt_text(desk, soon):
    post = approve_ready(desk, soon, networks=("facebook",))
    asset = MediaAssetFactory(
        organisation=desk.organisation, administration=desk.kff, alt_text=""
    )
    fb = post.variants.get()
    actions.update_post(
        post, actor=desk.editor, variants={fb.channel_id: {"media": [asset]}}
    )
    with pytest.raises(actions.InvalidVariants) as caught:
        actions.approve_post(post, actor=desk.approver)
    codes = {p.code for ps in caught.value.problems.values() for p in ps}
    assert "alt_text_missing" in codes


def test_expired_media_rights_block_scheduling(desk, soon):
    post = approve_ready(desk, soon, networks=("facebook",))
    asset = MediaAssetFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        rights_expire_on=timezone.localdate() - timedelta(days=1),
    )
    fb = post.variants.get()
    actions.update_post(
        post, actor=desk.editor, variants={fb.channel_id: {"media": [asset]}}
    )
    with pytest.raises(actions.InvalidVariants) as caught:
        actions.approve_post(post, actor=desk.approver)
    assert "media_rights_expired" in {
        p.code for ps in caught.value.problems.values() for p in ps
    }


def test_reject_returns_to_draft_with_reason_and_notifies(desk, soon):
    post = approve_ready(desk, soon)
    with pytest.raises(actions.PlanningError):
        actions.reject_post(post, actor=desk.approver, reason="  ")
    actions.reject_post(post, actor=desk.approver, reason="Tjek datoen")
    assert post.status == PostStatus.DRAFT
    assert post.comments.get().body == "Tjek datoen"
    assert Notification.objects.filter(
        recipient=desk.editor, kind="post.rejected"
    ).exists()


def test_cancel_from_any_state_before_published(desk, soon):
    for prepare in ("draft", "review", "scheduled"):
        post = make_post(desk, soon)
        if prepare != "draft":
            actions.submit_post(post, actor=desk.editor)
        if prepare == "scheduled":
            actions.approve_post(post, actor=desk.approver)
        actions.cancel_post(post, actor=desk.editor, reason="Aflyst")
        assert post.status == PostStatus.CANCELLED
    post.status = PostStatus.PUBLISHED
    post.save()
    with pytest.raises(PermissionDenied):
        actions.cancel_post(post, actor=desk.editor)


def test_planned_time_in_the_past_is_refused(desk):
    with pytest.raises(actions.PlanningError, match="passeret"):
        actions.create_post(
            actor=desk.editor,
            title="For sent",
            channels=[desk.channels["facebook"]],
            planned_at=timezone.now() - timedelta(minutes=1),
        )


def test_stale_edit_is_refused_and_saves_nothing(desk, soon):
    post = make_post(desk, soon)
    seen = post.version
    actions.update_post(
        post, actor=desk.editor, expected_version=seen, fields={"title": "Først"}
    )
    with pytest.raises(actions.StaleEdit, match="ændret af en anden"):
        actions.update_post(
            post, actor=desk.editor, expected_version=seen, fields={"title": "Sidst"}
        )
    post.refresh_from_db()
    assert post.title == "Først"


def test_variant_for_disabled_channel_is_refused(desk, soon):
    channel = desk.channels["x"]
    channel.status = "disabled"
    channel.save()
    with pytest.raises(actions.PlanningError, match="slået fra"):
        make_post(desk, soon, networks=("x",))


def test_comment_notifies_participants_and_sends_email(desk, soon):
    post = approve_ready(desk, soon)
    mail.outbox.clear()
    with pytest.raises(actions.PlanningError):
        actions.add_comment(post, actor=desk.approver, body="   ")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.add_comment(post, actor=desk.approver, body="Flot billede!")
    note = Notification.objects.get(kind="comment.created")
    assert note.recipient == desk.editor
    assert "Flot billede!" in note.message
    assert [m.to for m in mail.outbox] == [[desk.editor.user.email]]


def test_unapproved_post_near_its_time_warns_once(desk, soon):
    post = make_post(desk, soon)
    assert actions.warn_unapproved_posts(now=soon - timedelta(hours=2)) == 1
    assert actions.warn_unapproved_posts(now=soon - timedelta(hours=1)) == 0
    note = Notification.objects.filter(
        kind="post.approval_due", recipient=desk.approver
    ).get()
    assert "ikke godkendt" in note.message
    post.refresh_from_db()
    assert post.approval_warning_sent_at is not None


def test_reschedule_moves_every_variant_keeping_clock_time(desk, soon):
    post = approve_ready(desk, soon)
    actions.approve_post(post, actor=desk.approver)
    new_day = (soon + timedelta(days=3)).date()
    post, notes = actions.reschedule_post(post, actor=desk.editor, day=new_day)
    assert notes == []
    for variant in post.variants.all():
        local = timezone.localtime(variant.planned_at)
        assert (local.date(), local.hour, local.minute) == (new_day, 10, 0)
        assert variant.current_revision.number == 2
        assert variant.approved_revision.number == 1
    assert post.status == PostStatus.SCHEDULED
    assert AuditEntry.objects.filter(event="planning.post.rescheduled").exists()


def test_reschedule_to_the_past_is_refused(desk, soon):
    post = make_post(desk, soon)
    with pytest.raises(actions.PlanningError, match="passeret"):
        actions.reschedule_post(
            post, actor=desk.editor, day=timezone.localdate() - timedelta(days=2)
        )


def test_contributor_cannot_reschedule(desk, soon):
    post = make_post(desk, soon)
    with pytest.raises(PermissionDenied):
        actions.reschedule_post(
            post, actor=desk.contributor, day=soon.date() + timedelta(days=1)
        )


def test_unapproved_post_past_its_time_is_marked_missed(desk, soon):
    from kanal.planning.tasks import approval_watch

    late = make_post(desk, soon)
    on_time = approve_ready(desk, soon)
    actions.approve_post(on_time, actor=desk.approver)
    later = soon + timedelta(minutes=10)
    assert approval_watch(now=later, dry_run=True) == 1
    late.refresh_from_db()
    assert late.status == PostStatus.DRAFT
    assert approval_watch(now=later) == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.status, on_time.status) == (PostStatus.MISSED, PostStatus.SCHEDULED)
    assert Notification.objects.filter(
        kind="post.missed", recipient=desk.editor
    ).exists()
    assert approval_watch(now=later) == 0


def test_image_of_identifiable_people_needs_consent(desk, soon):
    post = approve_ready(desk, soon, networks=("facebook",))
    asset = MediaAssetFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        shows_identifiable_people=True,
    )
    fb = post.variants.get()
    actions.update_post(
        post, actor=desk.editor, variants={fb.channel_id: {"media": [asset]}}
    )
    with pytest.raises(actions.InvalidVariants) as caught:
        actions.approve_post(post, actor=desk.approver)
    assert "consent_missing" in {
        p.code for ps in caught.value.problems.values() for p in ps
    }
    actions.update_media(asset, actor=desk.editor, identifiable_people_consent=True)
    actions.approve_post(post, actor=desk.approver)
    assert post.status == PostStatus.SCHEDULED
