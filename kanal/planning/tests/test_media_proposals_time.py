from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from kanal.notifications.models import Notification
from kanal.planning import actions, media
from kanal.planning.models import MediaAsset, PostStatus
from kanal.planning.tests.factories import image_upload
from kanal.planning.timeutil import from_local

# ---------------------------------------------------------------------------
# Time: Copenhagen wall clock, including the nights the clocks change


def test_spring_forward_0230_moves_to_0330_summer_time_with_note():
    result = from_local(date(2027, 3, 28), time(2, 30))
    assert result.value == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert "findes ikke" in result.note
    assert "03:30" in result.note


def test_autumn_back_0230_is_the_first_occurrence_with_note():
    result = from_local(date(2027, 10, 31), time(2, 30))
    assert result.value == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert "to gange" in result.note


def test_ordinary_times_have_no_note_and_correct_offset():
    winter = from_local(date(2027, 1, 15), time(9, 0))
    summer = from_local(date(2027, 7, 15), time(9, 0))
    assert (winter.value.hour, summer.value.hour) == (8, 7)
    assert winter.note == summer.note == ""


def test_editor_form_accepts_0230_on_clock_change_night_and_tells(
    desk, client_for, time_machine
):
    time_machine.move_to(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    client = client_for(desk.editor)
    response = client.post(
        reverse("planning:post_create"),
        {
            "title": "Natbadning",
            "channels": [desk.channels["facebook"].pk],
            "owner_administration": desk.kff.pk,
            "planned_at_0": "2027-03-28",
            "planned_at_1": "02:30",
        },
        follow=True,
    )
    assert response.status_code == 200
    post = desk.organisation.posts.get()
    assert post.planned_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert "findes ikke" in response.content.decode()


def test_drag_across_clock_change_keeps_the_wall_clock_time(desk, time_machine):
    time_machine.move_to(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    post = actions.create_post(
        actor=desk.editor,
        title="Morgensvømning",
        channels=[desk.channels["facebook"]],
        planned_at=from_local(date(2027, 3, 27), time(9, 0)).value,
    )
    post, notes = actions.reschedule_post(
        post, actor=desk.editor, day=date(2027, 3, 29)
    )
    assert post.variants.get().planned_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert notes == []


# ---------------------------------------------------------------------------
# Media


pytestmark = pytest.mark.django_db


def _files_on_disk(settings):
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_stores_image_with_thumbnail(desk, settings):
    asset = actions.upload_media(
        actor=desk.editor,
        upload=image_upload(),
        alt_text="Rådhuspladsen i sne",
        credit="Foto: KK",
    )
    assert (asset.kind, asset.mime_type, asset.width, asset.height) == (
        "image",
        "image/jpeg",
        1200,
        1200,
    )
    assert asset.thumbnail.name
    with Image.open(asset.thumbnail.path) as thumb:
        assert max(thumb.size) == 480
    assert len(_files_on_disk(settings)) == 2


def test_non_media_is_rejected_and_nothing_is_saved(desk, settings):
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 not an image", "image/jpeg")
    with pytest.raises(media.MediaRejected, match="hverken et billede"):
        actions.upload_media(actor=desk.editor, upload=upload)
    assert MediaAsset.objects.count() == 0
    assert _files_on_disk(settings) == []


def test_oversized_file_is_rejected(desk, settings, monkeypatch):
    monkeypatch.setattr(media, "MAX_IMAGE_BYTES", 1000)
    with pytest.raises(media.MediaRejected, match="Kanal tager højst"):
        actions.upload_media(actor=desk.editor, upload=image_upload())
    assert MediaAsset.objects.count() == 0


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_rejected(desk, settings):
    bomb = SimpleUploadedFile(
        "bombe.png", _png_header_only(100_000, 100_000), "image/png"
    )
    with pytest.raises(media.MediaRejected, match="unormalt stort"):
        actions.upload_media(actor=desk.editor, upload=bomb)
    assert MediaAsset.objects.count() == 0
    assert _files_on_disk(settings) == []


def test_failure_after_storing_removes_the_files(desk, settings, monkeypatch):
    from kanal.core import audit

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        actions.upload_media(actor=desk.editor, upload=image_upload())
    assert MediaAsset.objects.count() == 0
    assert _files_on_disk(settings) == []


def test_upload_page_shows_clear_message_for_bad_file(desk, client_for):
    client = client_for(desk.editor)
    response = client.post(
        reverse("planning:media_list"),
        {"file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00", "image/png")},
    )
    assert response.status_code == 400
    assert "hverken et billede" in response.content.decode()


def test_video_is_recognised_by_its_content(desk):
    from kanal.planning.tests.mp4 import mp4

    asset = actions.upload_media(
        actor=desk.editor,
        upload=SimpleUploadedFile("film.mp4", mp4(), "video/mp4"),
    )
    assert (asset.kind, asset.mime_type, asset.thumbnail.name) == (
        "video",
        "video/mp4",
        "",
    )


def test_contributor_sees_only_own_administrations_media(desk):
    from kanal.planning.policies import media_policy

    mine = actions.upload_media(actor=desk.contributor, upload=image_upload())
    theirs = actions.upload_media(actor=desk.tmf_contributor, upload=image_upload())
    visible = set(media_policy.visible(desk.contributor))
    assert mine in visible and theirs not in visible
    assert theirs in set(media_policy.visible(desk.editor))


# ---------------------------------------------------------------------------
# Proposals


def propose(desk, **kwargs):
    return actions.create_proposal(
        actor=desk.contributor,
        title="Åbent hus i Valby Bibliotek",
        text="Kom og lav kunst med børnene!",
        reason="Mange nye familier i Valby",
        wish_from=date.today() + timedelta(days=3),
        wish_to=date.today() + timedelta(days=10),
        channels=[desk.channels["facebook"], desk.channels["instagram"]],
        event_details="Valby Bibliotek, lørdag 10-14",
        **kwargs,
    )


def test_proposal_lands_in_the_desks_queue_and_notifies_editors(desk):
    from kanal.planning.selectors import proposal_queue

    proposal = propose(desk)
    assert proposal.status == PostStatus.PROPOSAL
    assert proposal.owner_administration == desk.buf
    assert list(proposal_queue(desk.editor)) == [proposal]
    assert Notification.objects.filter(
        recipient=desk.editor, kind="proposal.created"
    ).exists()


def test_accepting_turns_proposal_into_draft_with_variants(desk):
    proposal = propose(desk)
    actions.accept_proposal(proposal, actor=desk.editor)
    assert proposal.status == PostStatus.DRAFT
    networks = sorted(proposal.variants.values_list("channel__network", flat=True))
    assert networks == ["facebook", "instagram"]
    assert proposal.variants.get(channel__network="instagram").hashtags == ["#voreskbh"]
    assert Notification.objects.get(recipient=desk.contributor).kind == (
        "proposal.accepted"
    )


def test_asking_for_changes_then_resubmitting(desk):
    proposal = propose(desk)
    with pytest.raises(actions.PlanningError, match="begrundelse"):
        actions.request_proposal_changes(proposal, actor=desk.editor, reason="")
    actions.request_proposal_changes(
        proposal, actor=desk.editor, reason="Tilføj tidspunkt"
    )
    assert proposal.status == PostStatus.CHANGES_REQUESTED
    note = Notification.objects.get(recipient=desk.contributor)
    assert "Tilføj tidspunkt" in note.message
    actions.update_proposal(
        proposal,
        actor=desk.contributor,
        expected_version=proposal.version,
        event_details="Lørdag kl. 10-14",
    )
    assert proposal.status == PostStatus.PROPOSAL


def test_declining_with_reason(desk, client_for):
    proposal = propose(desk)
    client = client_for(desk.editor)
    client.post(
        reverse("planning:proposal_decline", args=[proposal.pk]),
        {"reason": "Ligger uden for strategien"},
    )
    proposal.refresh_from_db()
    assert proposal.status == PostStatus.DECLINED
    client = client_for(desk.contributor)
    body = client.get(reverse("planning:proposal_list")).content.decode()
    assert "Forslag afvist" in body and "Ligger uden for strategien" in body


def test_contributor_cannot_accept_own_proposal(desk):
    from django.core.exceptions import PermissionDenied

    proposal = propose(desk)
    with pytest.raises(PermissionDenied):
        actions.accept_proposal(proposal, actor=desk.contributor)


def test_proposal_form_with_image(desk, client_for):
    client = client_for(desk.contributor)
    response = client.post(
        reverse("planning:proposal_create"),
        {
            "title": "Sommerbad",
            "text": "Havnebadet åbner",
            "reason": "Sæsonstart",
            "channels": [desk.channels["instagram"].pk],
            "image": image_upload(),
            "image_alt_text": "Havnebadet i sol",
        },
    )
    assert response.status_code == 302
    proposal = desk.organisation.posts.get()
    assert proposal.proposal_media.get().alt_text == "Havnebadet i sol"


def test_proposal_form_rejects_reversed_window(desk, client_for):
    client = client_for(desk.contributor)
    response = client.post(
        reverse("planning:proposal_create"),
        {
            "title": "X",
            "text": "Y",
            "wish_from": (date.today() + timedelta(days=5)).isoformat(),
            "wish_to": (date.today() + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "Slutdatoen ligger før startdatoen" in response.content.decode()
