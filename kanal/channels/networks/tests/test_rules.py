"""The shared rules (``networks.rules``): each one is checked for some
network, and a rule an adapter's own copy left out now holds."""

from __future__ import annotations

from kanal.channels.networks import REGISTRY, rules
from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.mastodon import MastodonAdapter

from .contract import offline_capabilities, rule_cases

#: Rules of one network only, checked in that adapter's own tests.
OWN = {"text_invalid_characters", "gif_with_other_media", "hashtag_too_long"}


def test_every_shared_rule_is_in_some_network_contract():
    covered = set()
    for network in REGISTRY:
        covered |= set(rule_cases(offline_capabilities(network)))
    assert covered == set(rules.WORDINGS) - OWN


def test_every_rule_has_one_danish_sentence_with_its_numbers():
    problem = rules.problem("too_many_links", network="Threads", field="link",
                            limit=5, actual=7)
    assert problem.message == (
        "Opslaget har 7 links; Threads tillader højst 5. Fjern nogle af dem."
    )
    assert (problem.code, problem.limit, problem.actual) == ("too_many_links", 5, 7)


def test_mastodon_refuses_an_image_over_the_instance_pixel_limit():
    # The adapter's own copy never checked image_matrix_limit, which Mastodon
    # enforces on upload.
    adapter = MastodonAdapter(Connection("mastodon", "http://127.0.0.1:9"))
    limit = adapter.capabilities().max_image_pixels
    side = int(limit**0.5) + 1
    image = MediaItem("image", "image/jpeg", alt_text="Havnen", width=side,
                      height=side)
    problems = adapter.validate(OutgoingPost("Havnen", media=(image,)))
    assert [(p.code, p.limit, p.actual) for p in problems] == [
        ("image_too_many_pixels", limit, side * side)]


def test_a_file_of_known_size_without_its_bytes_is_still_measured():
    item = MediaItem("video", "video/mp4", size_bytes=600 * 1024 * 1024)
    assert item.size == 600 * 1024 * 1024
    assert MediaItem("video", "video/mp4", data=b"abc", size_bytes=9).size == 3
