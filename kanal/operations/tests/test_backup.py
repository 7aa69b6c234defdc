"""`kanal backup` / `kanal restore`: the restore drill, and every refusal
leaves the database and the media as they were."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kanal.channels.models import Channel
from kanal.core.models import AuditEntry
from kanal.operations.backup import key_fingerprint
from kanal.publishing.tests.conftest import run_once, sandbox_channel

from .schema import FUTURE, add_future_migration, forget_newest_migration

CLOSED = "http://127.0.0.1:9"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def table_counts() -> dict[str, int]:
    """Rows per table, many-to-many tables included (not the unmanaged
    ones, which a backup leaves to whatever keeps them)."""
    from django.apps import apps

    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
    }


def restore(archive: Path) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), yes=True, stdout=out)
    return out.getvalue()


def verify_audit() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)  # exits 1 if the chain is broken
    return out.getvalue()


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_restore_drill(settings, media_root, tmp_path, sandbox):
    """Demo data, backup, wipe, restore: the audit chain verifies and a
    publish to the sandbox still works."""
    from kanal.demo import load_demo
    from kanal.planning.models import MediaAsset, Post
    from kanal.publishing.actions import queue_publication

    settings.KANAL_SANDBOX_URL = CLOSED
    settings.KANAL_BASE_URL = CLOSED
    organisation = load_demo()
    settings.KANAL_SANDBOX_URL = sandbox.url
    channel = sandbox_channel(sandbox, organisation, "mastodon")
    posts = Post.objects.count()
    entries = AuditEntry.objects.count()
    asset = MediaAsset.objects.exclude(file="").first()
    image = asset.file.read()
    assert posts >= 10 and entries >= 10 and image
    before = table_counts()
    posts_before = list(Post.objects.order_by("pk").values())
    channels_before = list(Channel.objects.order_by("pk").values())
    assert sum(n for label, n in before.items() if "_" in label.split(".")[1]) > 0

    archive = tmp_path / "kanal.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())

    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(media_root)
    assert Post.objects.count() == 0

    output = restore(archive)
    assert "Gendannet fra" in output
    assert Post.objects.count() == posts
    # The restore itself is one more audited entry.
    assert AuditEntry.objects.count() == entries + 1
    assert AuditEntry.objects.latest("seq").event == "operations.backup.restored"
    assert MediaAsset.objects.get(pk=asset.pk).file.read() == image
    after = table_counts()
    after["core.AuditEntry"] -= 1
    assert after == before
    # Every value as it was, times (auto_now ones too) to the microsecond.
    assert list(Post.objects.order_by("pk").values()) == posts_before
    assert list(Channel.objects.order_by("pk").values()) == channels_before
    assert "Revisionssporet er intakt" in verify_audit()

    restored = Channel.objects.get(pk=channel.pk)
    queue_publication(
        actor=None, organisation=restored.organisation, channel=restored,
        planned_at=timezone.now(),
        post_id=None, variant_id=None, revision_id=None,
        text="Efter gendannelsen: Kanal udgiver stadig.",
    )
    assert run_once() == ["published"]
    texts = [item.get("text") or item.get("status") or ""
             for item in sandbox.published("mastodon", restored.remote_id)]
    assert any("Efter gendannelsen" in str(t) for t in texts), texts


@pytest.fixture
def backed_up(db, organisation, media_root, tmp_path):
    """An archive of a small installation, then a change made after it."""
    from kanal.channels.tests.factories import ChannelFactory

    ChannelFactory(organisation=organisation, network="mastodon")
    (media_root / "billede.jpg").write_bytes(b"jpeg bytes")
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    later = ChannelFactory(organisation=organisation, network="bluesky")
    (media_root / "nyere.jpg").write_bytes(b"newer")
    return archive, later


def assert_nothing_overwritten(later, media_root) -> None:
    assert Channel.objects.filter(pk=later.pk).exists()
    assert (media_root / "nyere.jpg").read_bytes() == b"newer"
    assert sorted(p.name for p in media_root.iterdir()) == ["billede.jpg",
                                                            "nyere.jpg"]


def test_a_restore_with_other_vault_keys_is_refused_before_anything_changes(
    backed_up, media_root, settings
):
    archive, later = backed_up
    old_key = settings.KANAL_VAULT_KEYS
    settings.KANAL_VAULT_KEYS = Fernet.generate_key().decode()
    with pytest.raises(CommandError) as refused:
        restore(archive)
    message = str(refused.value)
    assert "andre nøgler" in message
    assert key_fingerprint(old_key) in message
    assert "Intet er overskrevet" in message
    assert_nothing_overwritten(later, media_root)
    # With the old key back (second, after a new one): restored.
    settings.KANAL_VAULT_KEYS = f"{Fernet.generate_key().decode()},{old_key}"
    restore(archive)
    assert not Channel.objects.filter(pk=later.pk).exists()
    assert sorted(p.name for p in media_root.iterdir()) == ["billede.jpg"]


def test_a_damaged_archive_is_refused(backed_up, media_root, tmp_path):
    archive, later = backed_up
    damaged = tmp_path / "damaged.tar.gz"
    data = archive.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(CommandError) as refused:
        restore(damaged)
    assert "beskadiget" in str(refused.value)
    assert_nothing_overwritten(later, media_root)


def test_an_archive_with_a_changed_member_is_refused(backed_up, media_root,
                                                      tmp_path):
    archive, later = backed_up
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "database.json":
                rows = json.loads(data)
                rows = [r for r in rows if r["model"] != "core.auditentry"]
                data = json.dumps(rows).encode()
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError) as refused:
        restore(tampered)
    assert "database.json har en forkert kontrolsum" in str(refused.value)
    assert_nothing_overwritten(later, media_root)


@pytest.mark.parametrize("kind", ["foreign_tar", "not_an_archive",
                                  "foreign_manifest", "path_escape"])
def test_a_foreign_archive_is_refused(backed_up, media_root, tmp_path, kind):
    _archive, later = backed_up
    foreign = tmp_path / "foreign.tar.gz"
    if kind == "not_an_archive":
        foreign.write_text("kanal,csv,fil\n1,2,3\n")
    else:
        with tarfile.open(foreign, "w:gz") as tar:
            files = {
                "foreign_tar": {"README": b"hello"},
                "foreign_manifest": {"manifest.json": b'{"format": "other"}'},
                "path_escape": {
                    "manifest.json": json.dumps({
                        "format": "kanal-backup", "format_version": 1,
                        "files": {"database.json": "0", "../evil": "0"},
                    }).encode(),
                    "../evil": b"x",
                },
            }[kind]
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    with pytest.raises(CommandError) as refused:
        restore(foreign)
    message = str(refused.value)
    assert "Intet er overskrevet" in message
    assert ("ikke en sikkerhedskopi fra Kanal" in message
            or "beskadiget" in message)
    assert_nothing_overwritten(later, media_root)
    assert not (tmp_path / "evil").exists()


def test_an_archive_from_another_schema_is_refused(backed_up, media_root):
    archive, later = backed_up
    forget_newest_migration()
    with pytest.raises(CommandError) as refused:
        restore(archive)
    assert "kør `kanal migrate` først" in str(refused.value).lower()
    assert_nothing_overwritten(later, media_root)


# -- the worker's version check ---------------------------------------------------


@pytest.mark.django_db
def test_the_worker_refuses_a_database_newer_than_its_code(capsys):
    add_future_migration()
    with pytest.raises(SystemExit) as exited:
        call_command("worker", "--once", "--no-tasks")
    assert exited.value.code == 78
    err = capsys.readouterr().err
    assert "Arbejderen starter ikke" in err
    assert FUTURE in err
    assert "Koden er ældre end databasen" in err


@pytest.mark.django_db
def test_the_worker_refuses_unapplied_migrations(capsys):
    forget_newest_migration()
    with pytest.raises(SystemExit) as exited:
        call_command("worker", "--once", "--no-tasks")
    assert exited.value.code == 78
    assert "Kør `kanal migrate`" in capsys.readouterr().err
