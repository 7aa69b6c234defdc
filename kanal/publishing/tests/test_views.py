from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.organisations.roles import Role
from kanal.publishing import actions
from kanal.publishing.models import Crisis, Publication, PublicationStatus

S = PublicationStatus
pytestmark = pytest.mark.django_db

# role -> (operations page, crisis page, may start crisis)
EXPECTED = {
    Role.ADMIN: (200, 200, True),
    Role.EDITOR: (200, 200, True),
    Role.APPROVER: (200, 200, False),
    Role.CONTRIBUTOR: (403, 200, False),
    Role.CRISIS_LEAD: (200, 200, True),
    Role.ANALYST: (403, 200, False),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_every_role_gets_the_expected_answer_on_publishing_pages(
    role, member, client_for
):
    client = client_for(member(role))
    ops, crisis, may_start = EXPECTED[role]
    assert client.get(reverse("publishing:operations")).status_code == ops
    assert client.get(reverse("publishing:crisis")).status_code == crisis
    response = client.post(reverse("publishing:crisis_start"),
                           {"reason": "Brand", "scope": "all"})
    assert response.status_code == (302 if may_start else 403)
    assert Crisis.objects.filter(ended_at__isnull=True).exists() == may_start


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("publishing:operations"))
    assert response.status_code == 302
    assert "/konto/" in response["Location"]


def test_operations_page_shows_the_reason_and_what_to_do(queue, member, client_for):
    pub = queue(text="Svømmehallen åbner")
    Publication.objects.filter(pk=pub.pk).update(
        status=S.FAILED, attempts=1, first_sent_at=timezone.now(),
        last_error="Teksten er for lang til X (300 af 280 tegn).")
    client = client_for(member(Role.EDITOR))
    html = client.get(reverse("publishing:operations") + "?vis=failed").content.decode()
    assert "Svømmehallen åbner" in html
    assert "Teksten er for lang til X (300 af 280 tegn)." in html
    assert "Prøv igen nu" in html
    assert "Opslaget kom ikke ud. Læs årsagen" in html


def test_other_organisations_publications_are_404(queue, member, client_for):
    from kanal.organisations.tests.factories import MembershipFactory

    pub = queue()
    outsider = MembershipFactory(role=Role.EDITOR)
    client = client_for(outsider)
    response = client.post(reverse("publishing:retry", args=[pub.pk]))
    assert response.status_code == 404


def test_retry_and_mark_published_through_the_page(queue, member, client_for):
    pub = queue()
    Publication.objects.filter(pk=pub.pk).update(status=S.MISSED)
    client = client_for(member(Role.EDITOR))
    client.post(reverse("publishing:retry", args=[pub.pk]))
    assert Publication.objects.get(pk=pub.pk).status == S.QUEUED
    Publication.objects.filter(pk=pub.pk).update(status=S.FAILED)
    client.post(reverse("publishing:mark_published", args=[pub.pk]),
                {"url": "https://facebook.com/kk/posts/1"})
    pub = Publication.objects.get(pk=pub.pk)
    assert (pub.status, pub.url) == (S.PUBLISHED, "https://facebook.com/kk/posts/1")


def test_reschedule_through_the_page_uses_danish_time(queue, member, client_for):
    pub = queue()
    Publication.objects.filter(pk=pub.pk).update(status=S.FAILED)
    client = client_for(member(Role.EDITOR))
    client.post(reverse("publishing:reschedule", args=[pub.pk]),
                {"planned_at": "2031-07-01T10:00"})
    pub = Publication.objects.get(pk=pub.pk)
    assert pub.planned_at.isoformat() == "2031-07-01T08:00:00+00:00"


def test_crisis_banner_is_shown_to_everyone(member, client_for):
    lead = member(Role.CRISIS_LEAD)
    actions.start_crisis(actor=lead, organisation=lead.organisation,
                         reason="Skybrud i indre by")
    client = client_for(member(Role.ANALYST))
    html = client.get(reverse("dashboard")).content.decode()
    assert 'id="crisis-banner"' in html
    assert "Skybrud i indre by" in html


def test_crisis_off_through_the_page_needs_a_choice_per_post(
    queue, member, client_for
):
    lead = member(Role.CRISIS_LEAD)
    a, b = queue(post_id=None), queue(post_id=None)
    actions.start_crisis(actor=lead, organisation=lead.organisation, reason="Brand")
    client = client_for(lead)
    page = client.get(reverse("publishing:crisis")).content.decode()
    assert "2 opslag er sat på pause" in page
    response = client.post(reverse("publishing:crisis_end"),
                           {f"choice-pub-{a.pk}": "cancel"})
    assert response.status_code == 400
    assert "mangler 1" in response.content.decode()
    assert Crisis.objects.filter(ended_at__isnull=True).exists()
    client.post(reverse("publishing:crisis_end"), {
        f"choice-pub-{a.pk}": "cancel", f"choice-pub-{b.pk}": "reschedule",
        f"at-pub-{b.pk}": "2031-01-01T09:00",
    })
    assert not Crisis.objects.filter(ended_at__isnull=True).exists()
    assert Publication.objects.get(pk=a.pk).status == S.CANCELLED
    assert Publication.objects.get(pk=b.pk).status == S.QUEUED


def test_worker_dry_run_reports_periodic_jobs(queue, capsys):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    queue(planned_at=timezone.now() - timedelta(hours=3))
    call_command("worker", dry_run=True)
    out = capsys.readouterr().out
    assert "mark_missed: 1" in out
    assert Publication.objects.get().status == S.QUEUED


@pytest.mark.parametrize("role,answer", [
    (Role.EDITOR, 302), (Role.CRISIS_LEAD, 302), (Role.APPROVER, 403),
    (Role.ANALYST, 403), (Role.CONTRIBUTOR, 403),
])
def test_switching_crisis_off_needs_the_right_even_when_none_is_active(
    role, answer, member, client_for
):
    client = client_for(member(role))
    assert client.post(reverse("publishing:crisis_end")).status_code == answer


@pytest.mark.parametrize("role,answer", [
    (Role.ADMIN, 302), (Role.EDITOR, 302), (Role.APPROVER, 403),
    (Role.CRISIS_LEAD, 403), (Role.CONTRIBUTOR, 404), (Role.ANALYST, 404),
])
def test_publication_actions_answer_per_role(role, answer, member, client_for,
                                             queue):
    pub = queue()
    client = client_for(member(role))
    for name in ("retry", "reschedule", "cancel", "mark_published"):
        response = client.post(reverse(f"publishing:{name}", args=[pub.pk]))
        assert response.status_code == answer, name
