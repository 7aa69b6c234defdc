"""Four eyes, approval bound to what the approver saw, clock-change notes per
form, mail subjects, and network permalinks (issue 10: 2, 4, 5, 12, 13)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from kanal.planning import actions, bridge
from kanal.planning.forms import PostForm, VariantForm
from kanal.planning.models import Post, PostStatus, Variant

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def in_review(desk, soon):
    post = actions.create_post(
        actor=desk.editor,
        title="Svømmehallen åbner",
        shared_text="Kom og svøm",
        planned_at=soon,
        channels=[desk.channels["facebook"], desk.channels["x"]],
    )
    actions.submit_post(post, actor=desk.editor)
    return post


def _edit(post, actor, text):
    variants = {v.channel_id: {"text": text} for v in post.variants.all()[:1]}
    return actions.update_post(post, actor=actor, variants=variants)


def _seen(post):
    return [v.current_revision_id for v in post.variants.all()]


# ---------------------------------------------------------------------------
# Finding 4: whoever wrote a revision since submission may not approve


def test_an_approver_who_edited_the_post_in_review_may_not_approve_it(
    desk, in_review, client_for
):
    _edit(in_review, desk.admin, "Kom og svøm – nu med sauna")
    with pytest.raises(actions.PlanningError, match="selv har skrevet, ændret"):
        actions.approve_post(in_review, actor=desk.admin)
    client = client_for(desk.admin)
    page = client.get(f"/plan/opslag/{in_review.pk}/").content.decode()
    assert f"/plan/opslag/{in_review.pk}/godkend/" not in page
    assert "selv skrevet, ændret eller indsendt" in page
    response = client.post(
        f"/plan/opslag/{in_review.pk}/godkend/", {"revision": _seen(in_review)}
    )
    assert response.status_code in (302, 403)
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.IN_REVIEW
    # Another approver, who wrote nothing, may.
    actions.approve_post(in_review, actor=desk.approver)
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.SCHEDULED


def test_a_reschedule_by_the_approver_also_counts_as_writing(desk, in_review):
    actions.reschedule_post(
        in_review,
        actor=desk.admin,
        planned_at=in_review.planned_at + timedelta(minutes=30),
    )
    with pytest.raises(actions.PlanningError):
        actions.approve_post(in_review, actor=desk.admin)


def test_an_approver_who_wrote_the_current_text_before_submission_may_not_approve(
    desk, soon
):
    post = actions.create_post(
        actor=desk.editor,
        title="Bibliotek",
        shared_text="Læs",
        planned_at=soon,
        channels=[desk.channels["facebook"]],
    )
    _edit(post, desk.admin, "Læs mere")  # the admin writes the draft's text
    actions.submit_post(post, actor=desk.editor)
    with pytest.raises(actions.PlanningError):
        actions.approve_post(post, actor=desk.admin)
    actions.approve_post(post, actor=desk.approver)


def test_self_approval_rule_follows_the_organisation_setting(desk, in_review):
    desk.organisation.forbid_self_approval = False
    desk.organisation.save()
    _edit(in_review, desk.admin, "Rettet af admin")
    actions.approve_post(in_review, actor=desk.admin)
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.SCHEDULED


# ---------------------------------------------------------------------------
# Finding 5: the approval is bound to the revisions the approver saw


def test_the_approve_form_sends_the_revisions_on_the_page(desk, in_review, client_for):
    page = client_for(desk.approver).get(f"/plan/opslag/{in_review.pk}/")
    sent = re.findall(r'name="revision" value="(\d+)"', page.content.decode())
    assert sorted(int(r) for r in sent) == sorted(_seen(in_review))


def test_approval_of_a_changed_post_is_refused_with_409_and_keeps_the_comment(
    desk, in_review, client_for
):
    seen = _seen(in_review)
    # The editor changes the text after the approver opened the page.
    _edit(in_review, desk.editor, "Kom og svøm – ÆNDRET efter åbning")
    response = client_for(desk.approver).post(
        f"/plan/opslag/{in_review.pk}/godkend/",
        {"revision": seen, "comment": "Fin tekst, godkendt <b>nu</b>"},
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Opslaget er ændret, siden du åbnede det" in body
    assert "Fin tekst, godkendt &lt;b&gt;nu&lt;/b&gt;</textarea>" in body
    assert "ÆNDRET efter åbning" in body  # the new version is shown
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.IN_REVIEW
    assert all(v.approved_revision_id is None for v in in_review.variants.all())
    # The page now carries the new revisions; approving them works.
    fresh = re.findall(r'name="revision" value="(\d+)"', body)
    ok = client_for(desk.approver).post(
        f"/plan/opslag/{in_review.pk}/godkend/",
        {"revision": fresh, "comment": "Fin tekst"},
    )
    assert ok.status_code == 302
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.SCHEDULED
    assert sorted(v.approved_revision_id for v in in_review.variants.all()) == sorted(
        int(r) for r in fresh
    )
    assert in_review.comments.filter(body="Fin tekst").exists()


@pytest.mark.parametrize(
    "revisions",
    [[], ["abc"], ["99999999999999999999999"], ["1", "2", "3"]],
)
def test_approval_without_the_right_revisions_is_refused(
    desk, in_review, client_for, revisions
):
    response = client_for(desk.approver).post(
        f"/plan/opslag/{in_review.pk}/godkend/", {"revision": revisions}
    )
    assert response.status_code in (400, 409)
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.IN_REVIEW


def test_a_channel_added_after_opening_also_refuses_the_approval(
    desk, in_review, client_for
):
    seen = _seen(in_review)
    actions.update_post(
        in_review, actor=desk.editor, add_channels=[desk.channels["mastodon"]]
    )
    response = client_for(desk.approver).post(
        f"/plan/opslag/{in_review.pk}/godkend/", {"revision": seen}
    )
    assert response.status_code == 409


# ---------------------------------------------------------------------------
# Finding 10: a post planned for 9999-12-31


def test_a_post_planned_for_the_year_9999_gives_a_danish_error_not_500(
    desk, in_review, client_for
):
    far = datetime(9999, 12, 31, 10, 0, tzinfo=CPH)
    Variant.objects.filter(post=in_review).update(planned_at=far)
    Post.objects.filter(pk=in_review.pk).update(planned_at=far)
    response = client_for(desk.approver).post(
        f"/plan/opslag/{in_review.pk}/godkend/",
        {"revision": _seen(in_review)},
        follow=True,
    )
    assert response.status_code == 200
    assert "uden for det, Kanal kan planlægge" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.IN_REVIEW


# ---------------------------------------------------------------------------
# Finding 12: clock-change notes belong to one form


def _dst_data(prefix=""):
    # 02:30 on 28 March 2027 does not exist in Copenhagen.
    return {f"{prefix}planned_at_0": "2027-03-28", f"{prefix}planned_at_1": "02:30"}


@time_machine.travel(datetime(2027, 1, 10, 9, 0, tzinfo=CPH), tick=False)
def test_clock_change_notes_do_not_leak_between_forms(desk):
    first = PostForm(
        {"title": "A", "owner_administration": desk.kff.pk, **_dst_data()},
        organisation=desk.organisation,
    )
    first.is_valid()
    assert first.fields["planned_at"].notes  # the first form has its note
    second = PostForm(
        {
            "title": "B",
            "owner_administration": desk.kff.pk,
            "planned_at_0": "2027-04-10",
            "planned_at_1": "10:00",
        },
        organisation=desk.organisation,
    )
    second.is_valid()
    assert second.fields["planned_at"].notes == []
    assert PostForm.base_fields["planned_at"].notes == []
    variant = VariantForm(
        {"v1-planned_at_0": "2027-04-10", "v1-planned_at_1": "10:00"},
        prefix="v1",
        channel=desk.channels["x"],
        media_queryset=desk.organisation.media.none(),
    )
    variant.is_valid()
    assert variant.fields["planned_at"].notes == []


@time_machine.travel(datetime(2027, 1, 10, 9, 0, tzinfo=CPH), tick=False)
def test_a_note_reaches_only_the_person_whose_form_made_it(desk, client_for):
    def create(member, clock):
        return client_for(member).post(
            "/plan/opslag/nyt/",
            {
                "title": "Opslag",
                "channels": [desk.channels["facebook"].pk],
                "planned_at_0": "2027-03-28",
                "planned_at_1": clock,
                "owner_administration": desk.kff.pk,
            },
            follow=True,
        )

    first = create(desk.editor, "02:30").content.decode()
    assert "findes ikke den 28.03.2027" in first
    second = create(desk.admin, "12:00").content.decode()
    assert "findes ikke" not in second
    third = create(desk.editor, "12:00").content.decode()
    assert "findes ikke" not in third


# ---------------------------------------------------------------------------
# Finding 13: a carriage return in a title must not drop approval e-mails


@pytest.mark.parametrize(
    "title", ["Hej\rverden", "Hej\r\nBcc: spy@example.com", "Linje\u2028to", "Tab\tx"]
)
def test_control_characters_in_a_title_do_not_drop_the_approval_mail(desk, soon, title):
    desk.approver.user.email = "godkender@kk.dk"
    desk.approver.user.save()
    post = actions.create_post(
        actor=desk.editor,
        title=title,
        planned_at=soon,
        channels=[desk.channels["facebook"]],
    )
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.submit_post(post, actor=desk.editor)
    sent = [m for m in mail.outbox if m.to == ["godkender@kk.dk"]]
    assert len(sent) == 1
    message = sent[0]
    assert "\r" not in message.subject and "\n" not in message.subject
    assert message.subject.startswith("Kanal: Opslag venter på din godkendelse")
    assert message.bcc == []
    assert message.message()["Bcc"] is None


# ---------------------------------------------------------------------------
# Finding 2: a network's permalink is untrusted


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https://",
    ],
)
def test_a_hostile_permalink_is_neither_stored_nor_shown_as_a_link(
    desk, in_review, client_for, hostile
):
    from kanal.publishing.models import Publication, PublicationStatus

    actions.approve_post(in_review, actor=desk.approver)
    variant = in_review.variants.first()
    Publication.objects.filter(variant_id=variant.pk).update(
        status=PublicationStatus.PUBLISHED, url=hostile
    )
    bridge.publication_changed(post_id=in_review.pk)
    variant.refresh_from_db()
    assert variant.published_url == ""
    # Rendering refuses it too (a value stored before this check existed).
    Variant.objects.filter(pk=variant.pk).update(published_url=hostile)
    page = client_for(desk.editor).get(f"/plan/opslag/{in_review.pk}/")
    body = page.content.decode()
    assert "Se opslaget" not in body
    assert 'href="javascript' not in body.lower()
    operations = client_for(desk.editor).get("/udgivelser/?vis=published")
    assert 'href="javascript' not in operations.content.decode().lower()
    assert "Se opslaget" not in operations.content.decode()


def test_a_normal_permalink_is_kept_and_shown(desk, in_review, client_for):
    from kanal.publishing.models import Publication, PublicationStatus

    actions.approve_post(in_review, actor=desk.approver)
    variant = in_review.variants.first()
    url = "https://www.facebook.com/kobenhavn/posts/123"
    Publication.objects.filter(variant_id=variant.pk).update(
        status=PublicationStatus.PUBLISHED, url=url
    )
    bridge.publication_changed(post_id=in_review.pk)
    variant.refresh_from_db()
    assert variant.published_url == url
    body = client_for(desk.editor).get(f"/plan/opslag/{in_review.pk}/").content
    assert f'href="{url}"' in body.decode()
