"""The one-button workflow views (``workflow_step``): each hands the action
the typed reason where the step asks for one, and says what happened."""

from django.contrib.messages import get_messages
from django.urls import reverse

from kanal.notifications.models import Notification
from kanal.planning.models import PostStatus

from .test_media_proposals_time import propose


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_asking_for_changes_hands_the_reason_on_and_says_so(desk, client_for):
    proposal = propose(desk)
    response = client_for(desk.editor).post(
        reverse("planning:proposal_changes", args=[proposal.pk]),
        {"reason": "Tilføj tidspunktet"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("planning:post_detail",
                                           args=[proposal.pk])
    assert _messages(response) == ["Bidragyderen er bedt om at rette forslaget."]
    proposal.refresh_from_db()
    assert proposal.status == PostStatus.CHANGES_REQUESTED
    assert proposal.decision_reason == "Tilføj tidspunktet"
    note = Notification.objects.get(recipient=desk.contributor,
                                    kind="proposal.changes_requested")
    assert "Tilføj tidspunktet" in note.message


def test_a_refused_step_says_why_and_changes_nothing(desk, client_for):
    proposal = propose(desk)
    response = client_for(desk.editor).post(
        reverse("planning:proposal_decline", args=[proposal.pk]), {"reason": ""},
    )
    assert response.status_code == 302
    [message] = _messages(response)
    assert "begrundelse" in message
    proposal.refresh_from_db()
    assert proposal.status == PostStatus.PROPOSAL


def test_accepting_asks_for_no_reason(desk, client_for):
    proposal = propose(desk)
    response = client_for(desk.editor).post(
        reverse("planning:proposal_accept", args=[proposal.pk]),
        {"reason": "ignored"},
    )
    assert _messages(response) == [
        "Forslaget er nu en kladde. Skriv varianterne til kanalerne."]
    proposal.refresh_from_db()
    assert proposal.status == PostStatus.DRAFT
    assert proposal.decision_reason == ""
