"""The record: captured from publishing, immutable, hashed, versioned."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from kanal.publishing.actions import publication_changed
from kanal.publishing.tests.conftest import channel, fake_network, queue  # noqa: F401
from kanal.records import actions, capture
from kanal.records.content import canonical_json
from kanal.records.models import RecordChange, RecordEntry, RecordKind, RecordMedia


def test_published_post_is_recorded_after_commit_with_its_media_hashed(
    desk, published, stored_image, django_capture_on_commit_callbacks
):
    image = stored_image()
    pub = published(desk["facebook"], "Havnebadet åbner i dag", media=[image],
                    post_id=41)
    with django_capture_on_commit_callbacks(execute=True):
        publication_changed([41])
    entry = RecordEntry.objects.get(source_key=f"publication:{pub.pk}")
    assert entry.kind == RecordKind.POST
    assert entry.text == "Havnebadet åbner i dag"
    assert entry.permalink == pub.url
    assert entry.administration == desk["kff"]
    assert entry.network == "facebook"
    media_sha = hashlib.sha256(b"\xff\xd8\xffbillede af havnebadet").hexdigest()
    assert entry.media[0]["sha256"] == media_sha
    assert entry.media[0]["alt_text"] == "Havnebadet"
    # The hash covers the canonical JSON of the content, media hash included.
    expected = hashlib.sha256(canonical_json(entry.content).encode()).hexdigest()
    assert entry.content_hash == expected
    # A copy of the bytes is kept, so deleting the library's file loses nothing.
    kept = RecordMedia.objects.get(sha256=media_sha)
    default_storage.delete(image["path"])
    with default_storage.open(kept.path) as handle:
        assert handle.read() == b"\xff\xd8\xffbillede af havnebadet"


def test_recording_again_adds_nothing_and_a_change_adds_a_version(desk, published):
    pub = published(desk["facebook"], "Åbent hus")
    first = capture.capture_publication(pub)
    assert capture.capture_publication(pub).pk == first.pk
    pub.url = "https://example.org/rettet"
    pub.save()
    second = capture.capture_publication(pub)
    assert second.version == 2
    assert second.change == RecordChange.EDITED
    assert second.content_hash != first.content_hash
    first.refresh_from_db()
    assert first.permalink != "https://example.org/rettet"  # never overwritten


def test_kanal_edits_after_publishing_do_not_change_the_record(desk, published):
    pub = published(desk["facebook"], "Det oprindelige")
    entry = capture.capture_publication(pub)
    type(pub).objects.filter(pk=pub.pk).update(text="Rettet bagefter i Kanal")
    entry.refresh_from_db()
    assert entry.text == "Det oprindelige"


def test_entries_cannot_be_changed_or_deleted(desk, published):
    entry = capture.capture_publication(published(desk["facebook"], "Uændret"))
    entry.text = "ændret"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        RecordEntry.objects.filter(pk=entry.pk).update(text="x")
    with pytest.raises(TypeError):
        RecordEntry.objects.filter(pk=entry.pk).delete()
    assert RecordEntry.objects.get(pk=entry.pk).text == "Uændret"


def test_a_comment_edited_and_deleted_by_its_author_keeps_every_version(
    organisation, desk
):
    when = timezone.now() - timedelta(hours=5)
    common = dict(organisation=organisation, kind="comment", source="inbox",
                  source_key="inbox.item:7", channel=desk["facebook"],
                  person="borger42")
    v1 = actions.record(content={"text": "Hvornår åbner havnebadet?"},
                        occurred_at=when, **common)
    v2 = actions.record(content={"text": "Hvornår åbner havnebadet igen??"},
                        occurred_at=when + timedelta(minutes=3), **common)
    v3 = actions.record_deleted(organisation=organisation,
                                source_key="inbox.item:7",
                                occurred_at=when + timedelta(hours=1))
    versions = list(RecordEntry.objects.filter(source_key="inbox.item:7")
                    .order_by("version"))
    assert [(e.version, e.change) for e in versions] == [
        (1, "created"), (2, "edited"), (3, "deleted")]
    assert versions[0].text == "Hvornår åbner havnebadet?"
    assert versions[1].text == "Hvornår åbner havnebadet igen??"
    assert v3.text == v2.text and v3.person == "borger42"
    assert v1.content_hash != v2.content_hash != v3.content_hash
    # Deleting twice records nothing more.
    assert actions.record_deleted(organisation=organisation,
                                  source_key="inbox.item:7",
                                  occurred_at=timezone.now()).pk == v3.pk


def test_media_missing_from_disk_is_recorded_as_missing(desk, published):
    pub = published(desk["facebook"], "Billede væk",
                    media=[{"path": "media/findes/ikke.jpg", "alt_text": "x"}])
    entry = capture.capture_publication(pub)
    assert entry.media[0]["missing"] is True
    assert entry.media[0]["sha256"] is None


def test_first_comment_is_recorded_once_posted(desk, published):
    pub = published(desk["facebook"], "Opslag", first_comment="Læs mere på kk.dk",
                    first_comment_remote_id="c-1")
    capture.capture_publication(pub)
    comment = RecordEntry.objects.get(source_key=f"publication:{pub.pk}:first_comment")
    assert comment.kind == RecordKind.FIRST_COMMENT
    assert comment.text == "Læs mere på kk.dk"


def test_the_sweep_records_crisis_messages_and_what_the_signal_missed(
    desk, published
):
    crisis = published(desk["x"], "Stormflod: hold jer væk fra kajen", is_crisis=True)
    assert capture.capture_published(dry_run=True) == 1
    assert not RecordEntry.objects.exists()
    assert capture.capture_published() == 1
    assert RecordEntry.objects.get().source_key == f"publication:{crisis.pk}"
    assert capture.capture_published() == 0


def test_a_failing_record_never_breaks_publishing(
    desk, published, monkeypatch, django_capture_on_commit_callbacks
):
    published(desk["facebook"], "Ud alligevel", post_id=5)

    def boom(pub):
        raise RuntimeError("disk full")

    monkeypatch.setattr(capture, "capture_publication", boom)
    with django_capture_on_commit_callbacks(execute=True):
        publication_changed([5])  # no exception reaches publishing
    assert not RecordEntry.objects.exists()


def test_only_records_roles_read_the_record(desk, published, client_for):
    entry = capture.capture_publication(published(desk["facebook"], "Synligt"))
    officer = client_for(desk["officer"])
    assert officer.get("/journal/").status_code == 200
    page = officer.get(f"/journal/post/{entry.pk}/")
    assert page.status_code == 200
    assert entry.content_hash in page.content.decode()
    for role in ("editor", "analyst"):
        client = client_for(desk[role])
        assert client.get("/journal/").status_code == 403
        assert client.get(f"/journal/post/{entry.pk}/").status_code == 403


def test_content_json_round_trips_to_the_same_hash(desk, published):
    entry = capture.capture_publication(published(desk["facebook"], "Æblegrød 🍎"))
    entry = RecordEntry.objects.get(pk=entry.pk)
    again = json.loads(json.dumps(entry.content))
    assert hashlib.sha256(canonical_json(again).encode()).hexdigest() == (
        entry.content_hash
    )


@pytest.mark.usefixtures("fake_network")
def test_a_slow_or_failing_copy_never_delays_or_fails_publishing(
    desk, queue, stored_image, settings, monkeypatch,  # noqa: F811
):
    """The engine publishes; recording (which copies the images) is only
    queued as a task, so the copy does not run in the publishing worker at
    all: a copy that would hang or fail is never reached there. Run later by
    the task worker, a failing copy leaves the publication published and
    the sweep records it once the copy works."""
    from django_tasks_db.models import DBTaskResult

    from kanal.publishing import engine
    from kanal.publishing.models import Publication, PublicationStatus
    from kanal.publishing.tests.conftest import run_once

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    copies = []
    real_copy = actions.keep_media

    def stuck_copy(item):
        copies.append(item["path"])
        raise OSError("the disk does not answer")

    monkeypatch.setattr(actions, "keep_media", stuck_copy)
    # Post 77 stands for an approved post (planning is not what is tested).
    monkeypatch.setattr(engine, "_approval_stands", lambda pub: True)
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(picture, "JPEG")
    image = stored_image(data=picture.getvalue())
    pub = queue(channel=desk["facebook"], post_id=77, media=[image])
    assert run_once() == [PublicationStatus.PUBLISHED]
    assert copies == []  # not on the publishing path
    assert not RecordEntry.objects.exists()
    queued = DBTaskResult.objects.get(task_path="kanal.records.tasks.record_post")
    assert queued.args_kwargs["args"] == [77]

    # The task worker runs it: the copy fails, publishing is untouched.
    assert queued.task.call(*queued.args_kwargs["args"]) == 0
    assert len(copies) == 1
    pub = Publication.objects.get(pk=pub.pk)
    assert pub.status == PublicationStatus.PUBLISHED
    assert not RecordEntry.objects.exists()
    # Once the copy works, the sweep records what the task could not.
    monkeypatch.setattr(actions, "keep_media", real_copy)
    assert capture.capture_published() == 1
    entry = RecordEntry.objects.get(source_key=capture.publication_key(pub))
    assert entry.media[0]["sha256"]


def test_a_queue_that_refuses_the_task_never_fails_publishing(
    desk, published, monkeypatch, django_capture_on_commit_callbacks
):
    from kanal.records import tasks

    published(desk["facebook"], "Ud alligevel", post_id=6)

    def refuse(*args):
        raise RuntimeError("task table is locked")

    monkeypatch.setattr(tasks, "record_post", SimpleNamespace(enqueue=refuse))
    with django_capture_on_commit_callbacks(execute=True):
        publication_changed([6])  # no exception reaches publishing
    assert not RecordEntry.objects.exists()


def test_one_publication_that_cannot_be_recorded_does_not_stop_the_sweep(
    desk, published, monkeypatch
):
    stuck = published(desk["facebook"], "Billedet kan ikke læses")
    fine = published(desk["x"], "Biblioteket holder åbent")
    real = capture.capture_publication

    def capture_publication(pub):
        if pub.pk == stuck.pk:
            raise RuntimeError("the image's disk is gone")
        return real(pub)

    monkeypatch.setattr(capture, "capture_publication", capture_publication)
    assert capture.capture_published() == 1
    assert list(RecordEntry.objects.values_list("source_key", flat=True)) == [
        capture.publication_key(fine)]
    monkeypatch.setattr(capture, "capture_publication", real)
    assert capture.capture_published() == 1  # the next run records it


def test_the_record_names_each_entrys_network_beside_its_channel(
    desk, published, client_for
):
    """A municipality's channels often share a name ("Københavns Kommune" on
    every network): the list and the entry say which network it was."""
    for network in ("facebook", "x"):
        desk[network].display_name = "Københavns Kommune"
        desk[network].save()
    on_facebook = capture.capture_publication(
        published(desk["facebook"], "Samme tekst"))
    capture.capture_publication(published(desk["x"], "Samme tekst"))
    officer = client_for(desk["officer"])
    rows = officer.get("/journal/").content.decode()
    assert "Facebook<br>" in rows and "X (Twitter)<br>" in rows
    entry = officer.get(f"/journal/post/{on_facebook.pk}/").content.decode()
    assert "Facebook: Københavns Kommune" in entry


def test_a_first_version_is_recorded_without_looking_for_earlier_ones(
        desk, django_assert_max_num_queries):
    """Every comment the inbox receives is recorded: the first version of an
    entry costs the lock that numbers it and the insert, not the searches
    among earlier versions there cannot be (savepoints aside)."""
    def first(key):
        return actions.record(
            organisation=desk["kff"].organisation, kind=RecordKind.COMMENT,
            source="inbox", source_key=key, content={"text": "Hej"},
            occurred_at=timezone.now(), administration=desk["kff"], text="Hej")

    first("warm-up")
    with django_assert_max_num_queries(6) as captured:
        entry = first("inbox:ny")
    statements = [q["sql"] for q in captured.captured_queries
                  if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2, statements
    assert (entry.version, entry.change) == (1, RecordChange.CREATED)
