"""The editor sees what Kanal will do to an image for each network, and an
image Kanal can fit is no reason to hold a post back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kanal.channels.tests.factories import ChannelFactory
from kanal.planning.tests.factories import MediaAssetFactory, image_bytes
from kanal.planning.validation import check_variant


def big_photo(desk, **fields):
    return MediaAssetFactory(organisation=desk.organisation,
                             administration=desk.kff, **fields)


def test_bluesky_image_over_one_million_bytes_is_fitted_not_refused(desk):
    bluesky = ChannelFactory(organisation=desk.organisation,
                             owner_administration=desk.kff, network="bluesky")
    photo = big_photo(desk, size=1_500_000, width=2400, height=1600)

    check = check_variant(bluesky, text="Havnebadet åbner", media=[photo])

    assert [p.code for p in check.problems if p.field == "media"] == []
    assert check.adjustments == [
        "Billede 1 fylder 1,5 MB; Bluesky tager højst 1,0 MB. Kanal sender en "
        "mindre udgave med så høj kvalitet, som grænsen tillader."
    ]


def test_instagram_png_outside_the_aspect_range_is_converted_and_padded(desk):
    tall = big_photo(
        desk, mime_type="image/png", width=600, height=1800, size=80_000,
        original_name="plakat.png",
        file__data=image_bytes(600, 1800, "PNG"), file__filename="plakat.png",
    )

    check = check_variant(desk.channels["instagram"], text="Kulturnat",
                          media=[tall])

    assert check.problems == []
    assert check.adjustments[0] == (
        "Billede 1 sendes som JPEG, fordi Instagram ikke tager PNG.")
    assert check.adjustments[1].startswith(
        "Billede 1 har et format (0,33:1), som Instagram ikke viser. Kanal "
        "lægger en hvid kant om det (0,80:1)")


def test_an_image_that_fits_needs_no_word(desk):
    photo = big_photo(desk, size=200_000)
    check = check_variant(desk.channels["x"], text="Vejarbejde", media=[photo])
    assert check.adjustments == [] and check.problems == []


def test_a_video_too_large_is_still_a_problem(desk):
    video = big_photo(desk, kind="video", mime_type="video/mp4",
                      size=600 * 1024 * 1024, width=None, height=None)
    check = check_variant(desk.channels["x"], text="Film", media=[video])
    assert "video_too_large" in [p.code for p in check.problems]


def test_the_preview_tells_the_editor_in_danish(desk, client_for):
    bluesky = ChannelFactory(organisation=desk.organisation,
                             owner_administration=desk.kff, network="bluesky")
    photo = big_photo(desk, size=1_500_000, width=2400, height=1600)
    client = client_for(desk.editor)

    response = client.post(reverse("planning:preview"), {
        "channel": bluesky.pk, f"v{bluesky.pk}-text": "Havnebadet åbner",
        f"v{bluesky.pk}-media": [photo.pk],
    })

    body = response.content.decode()
    assert response.status_code == 200
    assert "Kanal sender en mindre udgave" in body
    assert "overholder netværkets regler" in body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_editor_shows_what_kanal_does_to_each_networks_image(
    desk, live_server, page, login, screenshot, soon
):
    from playwright.sync_api import expect

    from kanal.planning import actions

    bluesky = ChannelFactory(organisation=desk.organisation,
                             owner_administration=desk.kff, network="bluesky",
                             display_name="kk.bsky.social")
    photo = big_photo(desk, size=1_500_000, width=2400, height=1600,
                      original_name="havnebad.jpg",
                      file__data=image_bytes(2400, 1600))
    post = actions.create_post(
        actor=desk.editor, title="Havnebadet åbner",
        shared_text="Havnebadet på Islands Brygge åbner lørdag kl. 10.",
        channels=[bluesky, desk.channels["instagram"]], planned_at=soon,
    )
    login(desk.editor)
    page.goto(f"{live_server.url}/plan/opslag/{post.pk}/rediger/")
    for channel in (bluesky, desk.channels["instagram"]):
        page.check(f"input[name='v{channel.pk}-media'][value='{photo.pk}']")
    expect(page.locator(f"#preview-{bluesky.pk}")).to_contain_text(
        "Kanal sender en mindre udgave")
    expect(page.locator(f"#preview-{bluesky.pk}")).to_contain_text(
        "overholder netværkets regler")
    instagram = page.locator(f"#preview-{desk.channels['instagram'].pk}")
    expect(instagram).to_contain_text("overholder netværkets regler")
    screenshot("media-fit")
