"""The media library: tags, search, and choosing any of it in the editor."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kanal.core.models import AuditEntry
from kanal.planning import actions
from kanal.planning.tests.factories import image_upload
from kanal.planning.tests.formdata import form_data

pytestmark = pytest.mark.django_db


def _asset(desk, name, alt, tags=(), credit=""):
    return actions.upload_media(
        actor=desk.editor,
        upload=image_upload(name),
        alt_text=alt,
        credit=credit,
        tags=list(tags),
    )


@pytest.fixture
def library(desk):
    return {
        "bad": _asset(
            desk,
            "havnebad.jpg",
            "Børn bader i Islands Brygge Havnebad",
            ["islands brygge", "sommer"],
            "Foto: Ida Holm",
        ),
        "jul": _asset(desk, "raadhus.jpg", "Juletræet på Rådhuspladsen", ["jul"]),
        "bro": _asset(desk, "cykelbro.jpg", "", ["byudvikling"]),
    }


def _names(response):
    return {m.original_name for m in response.context["page"]}


def test_upload_with_tags_and_edit_them(desk, client_for):
    client = client_for(desk.editor)
    response = client.post(
        reverse("planning:media_list"),
        {
            "file": image_upload("lysfest.jpg"),
            "alt_text": "Lyskugler over Israels Plads",
            "tags": "Jul, israels  plads, jul",
        },
    )
    assert response.status_code == 302
    asset = desk.organisation.media.get()
    assert sorted(asset.tags.values_list("name", flat=True)) == ["israels plads", "jul"]
    url = reverse("planning:media_detail", args=[asset.pk])
    data = form_data(client.get(url).content.decode(), "media-form")
    assert data["tags"] == ["israels plads, jul"] or data["tags"] == [
        "jul, israels plads"
    ]
    data["tags"] = ["jul, vinter"]
    assert client.post(url, data).status_code == 302
    assert sorted(asset.tags.values_list("name", flat=True)) == ["jul", "vinter"]
    entry = AuditEntry.objects.filter(event="planning.media.updated").latest("pk")
    assert entry.changes["tags"] == [["israels plads", "jul"], ["jul", "vinter"]]


def test_a_bad_tag_is_refused_in_danish(desk, client_for):
    response = client_for(desk.editor).post(
        reverse("planning:media_list"),
        {"file": image_upload(), "alt_text": "x", "tags": "<script>"},
    )
    assert response.status_code == 400
    assert "kan ikke bruges som mærke" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "havnebad"}, {"havnebad.jpg"}),
        ({"q": "rådhuspladsen"}, {"raadhus.jpg"}),
        ({"q": "ida holm"}, {"havnebad.jpg"}),
        ({"q": "brygge"}, {"havnebad.jpg"}),
        ({"q": "jul træet"}, {"raadhus.jpg"}),
        ({"q": "jul havnebad"}, set()),
        ({"maerke": "jul"}, {"raadhus.jpg"}),
        ({"maerke": "Islands  Brygge"}, {"havnebad.jpg"}),
        ({"mangler": "alt"}, {"cykelbro.jpg"}),
        ({"type": "video"}, set()),
        ({}, {"havnebad.jpg", "raadhus.jpg", "cykelbro.jpg"}),
    ],
)
def test_search_the_library(desk, library, client_for, params, expected):
    response = client_for(desk.analyst).get(reverse("planning:media_list"), params)
    assert response.status_code == 200
    assert _names(response) == expected


def test_the_tags_in_use_are_listed_with_counts(desk, library, client_for):
    html = client_for(desk.editor).get(reverse("planning:media_list")).content.decode()
    assert "?maerke=islands%20brygge" in html
    assert 'sommer <span class="muted">(1)</span>' in html


def test_another_administrations_media_is_not_found(desk, library, client_for):
    # Contributors see their own administration's media only.
    response = client_for(desk.contributor).get(
        reverse("planning:media_list"), {"q": "havnebad"}
    )
    assert _names(response) == set()


def test_the_editor_finds_and_uses_any_image_of_the_library(
    desk, soon, library, client_for
):
    from kanal.planning.selectors import MEDIA_CHOICES

    # Enough newer uploads that the old photo is not among those listed.
    for n in range(MEDIA_CHOICES):
        _asset(desk, f"ny-{n}.jpg", f"Nyt billede {n}")
    post = actions.create_post(
        actor=desk.editor,
        title="Sommerbad",
        shared_text="Havnebadet åbner.",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    client = client_for(desk.editor)
    url = reverse("planning:post_edit", args=[post.pk])
    html = client.get(url).content.decode()
    old = library["bad"]
    facebook = desk.channels["facebook"].pk
    assert f'name="v{facebook}-media" value="{old.pk}"' not in html
    found = client.get(
        reverse("planning:media_picker"), {"kanal": facebook, "q": "havnebad"}
    ).content.decode()
    assert f'name="v{facebook}-media" value="{old.pk}"' in found
    data = form_data(html, "post-editor")
    data[f"v{facebook}-media"] = [str(old.pk)]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(post.variants.get().media.all()) == [old]
    # Listed from now on, since it is chosen.
    assert f'value="{old.pk}"' in client.get(url).content.decode()


def test_the_picker_is_limited_to_the_organisation(desk, library, client_for):
    from kanal.channels.tests.factories import ChannelFactory

    other = ChannelFactory(network="facebook")
    response = client_for(desk.editor).get(
        reverse("planning:media_picker"), {"kanal": other.pk, "q": "havnebad"}
    )
    assert response.status_code == 404
