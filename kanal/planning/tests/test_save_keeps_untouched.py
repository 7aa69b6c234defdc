"""Saving a form changes only what the person changed (issue 11, finding 2).

Each test renders the real page, submits the form exactly as a browser would
(``formdata``) and checks that nothing the person did not touch was changed:
a category or purpose outside the organisation's lists, a channel switched off
since, line breaks, a first comment, seconds in a planned time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.channels.models import ChannelStatus
from kanal.core.models import AuditEntry
from kanal.planning import actions
from kanal.planning.models import PostStatus, VariantRevision
from kanal.planning.tests.factories import MediaAssetFactory
from kanal.planning.tests.formdata import form_data

pytestmark = pytest.mark.django_db

TEXT = "Fælledbadet åbner igen lørdag.\n\nKom og bad med os!\n"


def _post(desk, soon, networks=("facebook", "x", "mastodon")):
    post = actions.create_post(
        actor=desk.editor,
        title="Svømmehallen åbner",
        shared_text=TEXT,
        channels=[desk.channels[n] for n in networks],
        planned_at=soon,
        category="Byens historie",
        purposes=["branding", "retired_purpose"],
    )
    facebook, x = desk.channels["facebook"], desk.channels["x"]
    actions.update_post(
        post,
        actor=desk.editor,
        variants={
            facebook.pk: {"planned_at": soon + timedelta(seconds=42)},
            x.pk: {"first_comment": "Tråden fortsætter her.\n"},
        },
    )
    post.refresh_from_db()
    return post


def _state(post):
    post.refresh_from_db()
    return {
        "fields": (
            post.title,
            post.shared_text,
            post.category,
            post.purposes,
            post.campaign_id,
            post.notes,
            post.owner_administration_id,
            post.status,
        ),
        "variants": {
            v.channel_id: (
                v.text,
                v.link,
                v.hashtags,
                v.first_comment,
                v.planned_at,
                sorted(v.media.values_list("pk", flat=True)),
            )
            for v in post.variants.all()
        },
        "revisions": VariantRevision.objects.filter(variant__post=post).count(),
    }


def _save_unchanged(client, post):
    url = reverse("planning:post_edit", args=[post.pk])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, form_data(page.content.decode(), "post-editor"))
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def test_saving_the_editor_unchanged_changes_nothing(desk, soon, client_for):
    post = _post(desk, soon)
    mastodon = desk.channels["mastodon"]
    mastodon.status = ChannelStatus.DISABLED
    mastodon.save(update_fields=["status"])
    before = _state(post)

    _save_unchanged(client_for(desk.editor), post)

    assert _state(post) == before
    entry = AuditEntry.objects.filter(event="planning.post.updated").latest("pk")
    assert entry.changes == {"revised_channels": [], "back_to_review": False}


def test_the_editor_shows_a_category_outside_the_list_as_chosen(
    desk, soon, client_for
):
    post = _post(desk, soon)
    html = client_for(desk.editor).get(
        reverse("planning:post_edit", args=[post.pk])
    ).content.decode()
    data = form_data(html, "post-editor")
    assert data["category"] == ["Byens historie"]
    assert set(data["purposes"]) == {"branding", "retired_purpose"}
    assert "Byens historie (ikke på kanalernes liste)" in html


def test_an_approved_post_saved_unchanged_stays_scheduled(desk, soon, client_for):
    post = _post(desk, soon, networks=("facebook", "x"))
    actions.submit_post(post, actor=desk.editor)
    actions.approve_post(post, actor=desk.approver)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    before = _state(post)

    _save_unchanged(client_for(desk.editor), post)

    assert _state(post) == before
    from kanal.publishing.models import Publication

    assert set(
        Publication.objects.filter(post_id=post.pk).values_list("status", flat=True)
    ) == {"queued"}


def test_a_change_is_saved_and_only_it(desk, soon, client_for):
    post = _post(desk, soon)
    client = client_for(desk.editor)
    url = reverse("planning:post_edit", args=[post.pk])
    data = form_data(client.get(url).content.decode(), "post-editor")
    x = desk.channels["x"]
    data[f"v{x.pk}-text"] = ["Kort udgave til X."]
    data["category"] = [""]
    before = _state(post)

    assert client.post(url, data).status_code == 302

    after = _state(post)
    assert after["fields"][2] == ""
    assert after["variants"][x.pk][0] == "Kort udgave til X."
    # The other variants and the other fields are as they were.
    for channel_id, values in before["variants"].items():
        if channel_id != x.pk:
            assert after["variants"][channel_id] == values
    assert after["variants"][x.pk][1:] == before["variants"][x.pk][1:]
    assert after["revisions"] == before["revisions"] + 1


def test_a_variant_without_a_first_comment_field_keeps_its_first_comment(
    desk, soon, client_for
):
    post = _post(desk, soon)
    html = client_for(desk.editor).get(
        reverse("planning:post_edit", args=[post.pk])
    ).content.decode()
    x = desk.channels["x"]
    assert f"v{x.pk}-first_comment" not in form_data(html, "post-editor")
    _save_unchanged(client_for(desk.editor), post)
    assert post.variants.get(channel=x).first_comment == "Tråden fortsætter her.\n"


def test_saving_a_proposal_unchanged_keeps_its_channels_and_past_wish(
    desk, client_for
):
    proposal = actions.create_proposal(
        actor=desk.contributor,
        title="Læsefest",
        text="Alle 2. klasser inviteres.\n",
        wish_from=timezone.localdate() + timedelta(days=1),
        channels=[desk.channels["facebook"], desk.channels["mastodon"]],
    )
    # Time passes and a channel is switched off.
    type(proposal).objects.filter(pk=proposal.pk).update(
        wish_from=timezone.localdate() - timedelta(days=3)
    )
    mastodon = desk.channels["mastodon"]
    mastodon.status = ChannelStatus.DISABLED
    mastodon.save(update_fields=["status"])
    client = client_for(desk.contributor)
    url = reverse("planning:proposal_edit", args=[proposal.pk])
    page = client.get(url)
    html = page.content.decode()
    response = client.post(url, form_data(html, "proposal-form"))
    assert response.status_code == 302, response.content.decode()[:3000]
    proposal.refresh_from_db()
    assert set(proposal.wished_channels.all()) == {
        desk.channels["facebook"],
        mastodon,
    }
    assert proposal.wish_from == timezone.localdate() - timedelta(days=3)
    assert proposal.shared_text == "Alle 2. klasser inviteres.\n"


def test_saving_media_unchanged_keeps_its_texts(desk, client_for):
    asset = MediaAssetFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        alt_text="To børn bader.\nSolen skinner.\n",
        credit=" Foto: KK",
    )
    client = client_for(desk.editor)
    url = reverse("planning:media_detail", args=[asset.pk])
    html = client.get(url).content.decode()
    assert client.post(url, form_data(html, "media-form")).status_code == 302
    asset.refresh_from_db()
    assert asset.alt_text == "To børn bader.\nSolen skinner.\n"
    assert asset.credit == " Foto: KK"


def test_the_calendar_filters_by_a_category_outside_the_list(desk, soon, client_for):
    _post(desk, soon)
    response = client_for(desk.editor).get(
        reverse("planning:post_list"), {"kategori": "Byens historie"}
    )
    html = response.content.decode()
    assert '<option value="Byens historie" selected>' in html
    assert "Svømmehallen åbner" in html
