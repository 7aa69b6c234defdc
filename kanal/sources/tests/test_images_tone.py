"""The event's image follows the accepted suggestion into the draft (fetched
with the feed's guards, without alt text until someone writes it), and each
channel's tone shapes the suggestion texts."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from kanal.core.models import AuditEntry
from kanal.planning.actions import InvalidVariants, approve_post, submit_post
from kanal.planning.actions.workflow import invalid_variants
from kanal.sources import actions, decisions
from kanal.sources.models import ChannelTone, Suggestion, Tone

from .feeds import days_ahead, ics, ics_event

pytestmark = pytest.mark.django_db


def _png(width=1200, height=800) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def event_with_image(feed_server, make_source, desk):
    start = days_ahead(8, 19, 0)
    image_url = feed_server.url("/billeder/koncert.png")
    feed_server.serve("/billeder/koncert.png", _png(), content_type="image/png")
    feed_server.serve(
        "/k.ics",
        ics(
            ics_event(
                "koncert@bib",
                start,
                "Koncert i Musikcaféen",
                end=start + timedelta(hours=2),
                description="Gratis koncert med Københavns Jazzorkester.",
                extra=f"ATTACH;FMTTYPE=image/png:{image_url}\r\n",
            )
        ),
    )
    source = make_source(feed_server.url("/k.ics"))
    actions.refresh_source(source, actor=None)
    return source


def test_the_events_image_is_attached_without_alt_text(event_with_image, desk):
    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])

    post = decisions.accept_suggestion(facebook, actor=desk.editor)

    [asset] = post.variants.get().media.all()
    assert asset.kind == "image" and asset.mime_type == "image/png"
    assert (asset.width, asset.height) == (1200, 800)
    assert asset.alt_text == ""
    assert asset.credit == "Hovedbiblioteket"
    assert "skriv en alternativ tekst" in post.notes
    [problems] = invalid_variants(post).values()
    assert [p.code for p in problems] == ["alt_text_missing"]
    assert "mangler en alternativ tekst" in problems[0].message


def test_approval_waits_for_the_alt_text(event_with_image, desk):
    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])
    post = decisions.accept_suggestion(facebook, actor=desk.editor)
    submit_post(post, actor=desk.editor)

    with pytest.raises(InvalidVariants):
        approve_post(post, actor=desk.admin)

    asset = post.variants.get().media.get()
    asset.alt_text = "Jazzorkestret spiller i Musikcaféen"
    asset.save(update_fields=["alt_text"])
    assert invalid_variants(post) == {}


def test_the_editor_shows_the_missing_alt_text_in_danish(
    event_with_image, desk, client_for
):
    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])
    post = decisions.accept_suggestion(facebook, actor=desk.editor)

    client = client_for(desk.editor)
    detail = client.get(f"/plan/opslag/{post.pk}/")
    editor = client.get(f"/plan/opslag/{post.pk}/rediger/")

    assert "alternativ tekst" in detail.content.decode()
    assert "alternativ tekst" in editor.content.decode()


def test_an_image_on_an_internal_address_is_refused_and_the_draft_made(
    event_with_image, desk
):
    event_with_image.allow_private = False
    event_with_image.save(update_fields=["allow_private"])
    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])

    post = decisions.accept_suggestion(facebook, actor=desk.editor)

    assert not post.variants.get().media.exists()
    assert "Billedet kunne ikke hentes" in post.notes
    assert "intern adresse" in post.notes


def test_an_image_over_the_limit_is_refused(event_with_image, desk, monkeypatch):
    monkeypatch.setattr("kanal.sources.images.MAX_IMAGE_BYTES", 1024)
    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])

    post = decisions.accept_suggestion(facebook, actor=desk.editor)

    assert not post.variants.get().media.exists()
    assert "Billedet er større end" in post.notes


def test_a_file_that_is_no_image_is_refused(feed_server, event_with_image, desk):
    feed_server.serve(
        "/billeder/koncert.png", b"<html>ikke et billede</html>",
        content_type="image/png",
    )
    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])

    post = decisions.accept_suggestion(facebook, actor=desk.editor)

    assert not post.variants.get().media.exists()
    assert "hverken et billede" in post.notes


# -- tone -----------------------------------------------------------------------


def _texts_in(tone, feed_server, make_source, desk, path):
    for channel in desk.channels.values():
        ChannelTone.objects.update_or_create(channel=channel, defaults={"tone": tone})
    start = days_ahead(9, 19, 30)
    feed_server.serve(
        path,
        ics(
            ics_event(
                f"tone-{tone}@bib",
                start,
                "Koncert i Musikcaféen",
                end=start + timedelta(hours=2),
                description="Gratis koncert med Københavns Jazzorkester.",
            )
        ),
    )
    source = make_source(feed_server.url(path), name=f"Tone {tone}")
    actions.refresh_source(source, actor=None)
    return {
        s.channel.network: s.text
        for s in Suggestion.objects.filter(item__source=source)
    }


def test_each_tone_writes_the_event_its_own_way(feed_server, make_source, desk):
    friendly = _texts_in(Tone.FRIENDLY, feed_server, make_source, desk, "/v.ics")
    formal = _texts_in(Tone.FORMAL, feed_server, make_source, desk, "/f.ics")
    brief = _texts_in(Tone.BRIEF, feed_server, make_source, desk, "/k.ics")

    assert "Gratis koncert" in friendly["facebook"]
    assert "\n\nTid: " in formal["facebook"]
    assert "\nSted: Hovedbiblioteket, Krystalgade 15" in formal["facebook"]
    assert "Gratis koncert" in formal["facebook"]
    assert "Gratis koncert" not in brief["facebook"]
    assert len(brief["facebook"]) < len(friendly["facebook"])
    assert friendly["x"].startswith("I dag kl. 19.30: Koncert i Musikcaféen, ")
    assert formal["x"] == (
        "Koncert i Musikcaféen finder sted i dag kl. 19.30, "
        "Hovedbiblioteket, Krystalgade 15."
    )
    assert brief["x"] == "Koncert i Musikcaféen i dag kl. 19.30."


def test_setting_a_tone_through_the_page(client_for, desk):
    channel = desk.channels["x"]

    answer = client_for(desk.editor).post(
        "/kilder/tone/", {"channel": channel.pk, "tone": "brief"}, follow=True
    )

    assert "i den valgte tone (0 åbne forslag er skrevet om)" in answer.text
    assert ChannelTone.objects.get(channel=channel).tone == Tone.BRIEF
    entry = AuditEntry.objects.get(event="sources.tone.changed")
    assert entry.changes == {"tone": ["", "brief"], "rewritten": 0}


def test_a_new_tone_rewrites_the_open_suggestions_no_one_edited(
    feed_server, make_source, desk
):
    friendly = _texts_in(Tone.FRIENDLY, feed_server, make_source, desk, "/v.ics")
    facebook = desk.channels["facebook"]
    kept = Suggestion.objects.get(channel=desk.channels["x"])
    decisions.update_suggestion(
        kept, actor=desk.editor, text="Vores egen tekst", planned_at=kept.planned_at
    )
    before = Suggestion.objects.get(channel=facebook)

    rewritten = decisions.set_channel_tone(facebook, actor=desk.editor, tone="formal")
    decisions.set_channel_tone(desk.channels["x"], actor=desk.editor, tone="brief")

    after = Suggestion.objects.get(channel=facebook)
    assert rewritten == 1
    assert after.text != friendly["facebook"] and "\n\nTid: " in after.text
    assert after.planned_at == before.planned_at
    assert Suggestion.objects.get(pk=kept.pk).text == "Vores egen tekst"


def test_a_short_post_the_day_before_says_tomorrow(desk):
    from datetime import datetime

    from kanal.sources import compose
    from kanal.sources.models import SourceItem
    from kanal.sources.parsers import LOCAL

    start = datetime(2026, 12, 12, 19, 30, tzinfo=LOCAL)
    item = SourceItem(title="Koncert", starts_at=start, location="Musikcaféen")
    limits = compose.Limits(desk.channels["x"])

    on_the_day = compose.words_for(
        item, desk.channels["x"], limits, start.replace(hour=9)
    )
    day_before = compose.words_for(
        item, desk.channels["x"], limits, start.replace(day=11, hour=9)
    )

    assert on_the_day.text == "I dag kl. 19.30: Koncert, Musikcaféen."
    assert day_before.text == "I morgen kl. 19.30: Koncert, Musikcaféen."


def test_tone_page_refuses_bad_input_and_other_organisations(client_for, desk):
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.organisations.tests.factories import OrganisationFactory

    elsewhere = ChannelFactory(organisation=OrganisationFactory(), network="x")
    client = client_for(desk.editor)

    bad = client.post("/kilder/tone/", {"channel": desk.channels["x"].pk, "tone": "x"})
    foreign = client.post("/kilder/tone/", {"channel": elsewhere.pk, "tone": "brief"})
    page = client.get("/kilder/tone/")
    analyst = client_for(desk.analyst).get("/kilder/tone/")

    assert bad.status_code == 302
    assert not ChannelTone.objects.exists()
    assert foreign.status_code == 404
    assert page.status_code == 200
    assert "Københavns Kommune (x)" in page.content.decode()
    assert analyst.status_code == 403


def test_an_image_stored_for_a_draft_that_was_not_made_is_removed(
    event_with_image, desk, monkeypatch
):
    from kanal.planning.models import MediaAsset
    from kanal.sources import images

    facebook = Suggestion.objects.get(channel=desk.channels["facebook"])
    stored = []
    real_store = images.store_image

    def store(upload, item, *, actor):
        asset, problem = real_store(upload, item, actor=actor)
        stored.append(asset)
        return asset, problem

    monkeypatch.setattr(images, "store_image", store)
    # The time passed meanwhile: planning refuses the draft.
    Suggestion.objects.filter(pk=facebook.pk).update(
        planned_at=timezone.now() - timedelta(hours=1)
    )

    with pytest.raises(actions.SourceError):
        decisions.accept_suggestion(facebook, actor=desk.editor)

    [asset] = stored
    assert not asset.file.storage.exists(asset.file.name)
    assert not MediaAsset.objects.exists()
    facebook.refresh_from_db()
    assert facebook.status == "open"
