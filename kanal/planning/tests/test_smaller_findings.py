"""Issue 11's smaller findings in planning, each with its test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from kanal.planning import actions
from kanal.planning.tests.factories import image_upload

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def test_accepting_a_proposal_puts_its_image_on_every_variant(desk):
    image = actions.upload_media(
        actor=desk.contributor,
        upload=image_upload(),
        alt_text="Livredder viser børn havnebadet",
    )
    proposal = actions.create_proposal(
        actor=desk.contributor,
        title="Åbent hus i Havnebadet",
        text="Kom og prøv vinterbadning!",
        channels=[desk.channels["facebook"], desk.channels["instagram"]],
        media=[image],
    )
    actions.accept_proposal(proposal, actor=desk.editor)
    variants = list(proposal.variants.all())
    assert len(variants) == 2
    for variant in variants:
        assert list(variant.media.all()) == [image]
        assert [m["id"] for m in variant.current_revision.media] == [image.pk]
    # Instagram's variant can go out as it is: it has its image.
    instagram = proposal.variants.get(channel=desk.channels["instagram"])
    assert not actions.check_saved_variant(instagram).problems


def test_the_editor_preview_shows_the_hashtags_it_counts(desk, soon, client_for):
    mastodon = desk.channels["mastodon"]
    mastodon.strategy.default_hashtags = ["#København"]
    mastodon.strategy.save(update_fields=["default_hashtags"])
    post = actions.create_post(
        actor=desk.editor,
        title="Cykelbro",
        shared_text="Den nye cykelbro åbner mandag.",
        channels=[mastodon],
        planned_at=soon,
    )
    html = client_for(desk.editor).get(
        reverse("planning:post_edit", args=[post.pk])
    ).content.decode()
    preview = html[html.index(f'id="preview-{mastodon.pk}"') :]
    body = preview[preview.index('class="preview-body"') :]
    body = body[: body.index("</div>")]
    assert "Den nye cykelbro åbner mandag." in body
    assert "#København" in body
    # 30 characters of text, a blank line and the hashtag: what the count says.
    count = re.search(r"(\d+) af 500", preview).group(1)
    assert int(count) == len("Den nye cykelbro åbner mandag.\n\n#København")


def test_the_proposal_edit_page_title_matches_its_heading(desk, client_for):
    proposal = actions.create_proposal(
        actor=desk.contributor, title="Læsefest", text="Alle 2. klasser."
    )
    client = client_for(desk.contributor)
    for url, heading in (
        (
            reverse("planning:proposal_edit", args=[proposal.pk]),
            "Ret forslaget: Læsefest",
        ),
        (reverse("planning:proposal_create"), "Foreslå et opslag"),
    ):
        html = client.get(url).content.decode()
        assert f"<title>{heading} · Kanal</title>" in html
        assert f"<h1>{heading}</h1>" in html


def test_the_readme_names_no_file_outside_the_repository():
    text = (ROOT / "README.md").read_text()
    assert "../" not in text
    for path in re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.(?:md|py|txt|toml|lock))`", text):
        assert (ROOT / path).exists(), path
