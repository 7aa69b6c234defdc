"""The operations page names the action for what it does: a publication that
was never sent is published now, not "tried again" (issue 11)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.organisations.roles import Role
from kanal.publishing.models import Publication, PublicationStatus

S = PublicationStatus
pytestmark = pytest.mark.django_db


def _row(html: str, pk: int) -> str:
    row = html[html.index(f'id="pub-{pk}"') :]
    return row[: row.index("</tr>")]


@pytest.mark.parametrize(
    ("status", "group"), [(S.QUEUED, "queued"), (S.MISSED, "missed")]
)
def test_a_publication_never_sent_offers_publish_now(
    queue, member, client_for, status, group
):
    pub = queue(text="Koncert i Kulturhuset")
    Publication.objects.filter(pk=pub.pk).update(status=status, attempts=0)
    client = client_for(member(Role.EDITOR))
    html = client.get(reverse("publishing:operations") + f"?vis={group}")
    row = _row(html.content.decode(), pub.pk)
    assert ">Udgiv nu</button>" in row
    assert "Prøv igen nu" not in row


def test_a_publication_tried_before_offers_try_again(queue, member, client_for):
    pub = queue(text="Koncert i Kulturhuset")
    Publication.objects.filter(pk=pub.pk).update(
        status=S.FAILED, attempts=2, first_sent_at=timezone.now()
    )
    client = client_for(member(Role.EDITOR))
    html = client.get(reverse("publishing:operations") + "?vis=failed")
    row = _row(html.content.decode(), pub.pk)
    assert ">Prøv igen nu</button>" in row
    assert "Udgiv nu" not in row


def test_a_failure_before_sending_says_it_was_never_sent(queue, member, client_for):
    pub = queue(text="Koncert i Kulturhuset")
    Publication.objects.filter(pk=pub.pk).update(
        status=S.FAILED, attempts=0, last_error="Kanalen er slået fra."
    )
    client = client_for(member(Role.EDITOR))
    html = client.get(reverse("publishing:operations") + "?vis=failed")
    row = _row(html.content.decode(), pub.pk)
    assert "Opslaget blev aldrig sendt." in row
    assert "'Udgiv nu'" in row


def test_a_publication_sent_before_and_retried_still_says_try_again(
    queue, member, client_for
):
    # A retry resets the attempts; the first send is remembered.
    pub = queue(text="Koncert i Kulturhuset")
    Publication.objects.filter(pk=pub.pk).update(
        status=S.MISSED, attempts=0, first_sent_at=timezone.now()
    )
    client = client_for(member(Role.EDITOR))
    html = client.get(reverse("publishing:operations") + "?vis=missed")
    row = _row(html.content.decode(), pub.pk)
    assert ">Prøv igen nu</button>" in row
    assert "aldrig sendt" not in row
