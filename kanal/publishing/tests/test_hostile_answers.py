"""What a network answers is untrusted, and so is ``next`` (issue 10: 2, 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from kanal.channels.networks.base import PublishResult
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import run_once
from .fakes import FakeAdapter

S = PublicationStatus
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "//evil.example/p/1",
        "https://\nevil",
        "x" * 2000,
    ],
)
def test_a_hostile_permalink_from_the_network_is_not_stored(
    fake_network, queue, monkeypatch, member, client_for, hostile
):
    def create(self, key, text):
        result = PublishResult(
            remote_id="r1", url=hostile, published_at=datetime.now(UTC)
        )
        fake_network.posts[key] = result
        fake_network.log.append((key, text))
        return result

    monkeypatch.setattr(FakeAdapter, "_create", create)
    pub = queue(text="Hej København")
    assert run_once() == [S.PUBLISHED]
    pub.refresh_from_db()
    assert pub.status == S.PUBLISHED and pub.remote_id == "r1"
    assert pub.url == ""
    assert not Notification.objects.filter(url__contains="javascript").exists()
    html = client_for(member(Role.EDITOR)).get("/udgivelser/?vis=published")
    assert "javascript:" not in html.content.decode()


def test_a_good_permalink_is_kept(fake_network, queue):
    pub = queue(text="Hej")
    run_once()
    pub.refresh_from_db()
    assert pub.url == "https://fake.example/p/1"


@pytest.fixture
def failed(queue):
    pub = queue(text="Svømmehallen åbner")
    Publication.objects.filter(pk=pub.pk).update(status=S.FAILED)
    return pub


@pytest.mark.parametrize(
    "target,expected",
    [
        ("foo", "/udgivelser/"),
        ("udgivelser/?vis=failed", "/udgivelser/"),
        ("https://evil.example/", "/udgivelser/"),
        ("//evil.example/", "/udgivelser/"),
        ("/\\evil.example/", "/udgivelser/"),
        ("javascript:alert(1)", "/udgivelser/"),
        ("http://testserver/udgivelser/?vis=failed", "/udgivelser/"),
        ("", "/udgivelser/"),
        ("/udgivelser/?vis=failed", "/udgivelser/?vis=failed"),
    ],
)
def test_operations_actions_follow_next_only_on_this_site(
    failed, member, client_for, target, expected
):
    client = client_for(member(Role.EDITOR))
    response = client.post(
        reverse("publishing:cancel", args=[failed.pk]), {"next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == expected
    failed.refresh_from_db()
    assert failed.status == S.CANCELLED  # the action was applied


@pytest.mark.parametrize("when", ["9999-12-31T23:00", "0001-01-01T00:00"])
def test_rescheduling_to_year_1_or_9999_is_refused_in_danish(
    failed, member, client_for, when
):
    client = client_for(member(Role.EDITOR))
    response = client.post(
        reverse("publishing:reschedule", args=[failed.pk]),
        {"planned_at": when, "next": "/udgivelser/?vis=failed"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Datoen skal ligge mellem" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == S.FAILED


@pytest.mark.parametrize("value", [str(2**63), "99999999999999999999999"])
def test_crisis_forms_with_a_channel_id_beyond_2_63_are_400(member, client_for, value):
    client = client_for(member(Role.ADMIN))
    for name in ("crisis_start", "crisis_message"):
        response = client.post(
            reverse(f"publishing:{name}"),
            {"reason": "Storm", "scope": "channels", "channels": [value], "text": "x"},
        )
        assert response.status_code == 400, name
