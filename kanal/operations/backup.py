"""Backups and restores: the database, the media files and the fingerprint
of the vault keys, in one archive.

The database goes through Django's own serialisation (``dumpdata``'s JSON,
written and read in bulk here), not ``pg_dump`` or SQLite's backup API: one
format for both databases (a backup of the SQLite demo restores into
PostgreSQL), no client tools whose version must match the server's, and an
archive that is read and checked in full (checksums, migrations, every
encrypted credential) before anything is overwritten. The price is speed on
very large databases (see BENCHMARKS.md).

Archive (``.tar.gz``)::

    manifest.json   format, version, migrations, vault key fingerprints,
                    SHA-256 of every other member, row counts
    database.json   every table, in ``dumpdata``'s format
    media/...       every file under MEDIA_ROOT

A restore refuses, with nothing overwritten: an archive that is not Kanal's,
is damaged (unreadable, a checksum that does not match, a member missing or
extra), comes from another schema (migrations), or holds credentials the
current ``KANAL_VAULT_KEYS`` cannot decrypt. Then it replaces the whole
database in one transaction, and the media directory by a rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import shutil
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.channels import vault
from kanal.core import audit
from kanal.core.schema import schema_state

FORMAT = "kanal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.json"
MEDIA = "media"
CREDENTIALS_MODEL = "channels.channel"
SERIALIZATION_FORMAT = "kanal-json"
serializers.register_serializer(SERIALIZATION_FORMAT, "kanal.operations.serializer")


class BackupError(Exception):
    """The archive cannot be made or may not be restored (message in Danish)."""


def key_fingerprint(key: str) -> str:
    """Names a vault key without revealing it."""
    digest = hashlib.sha256(b"kanal-vault-key:" + key.strip().encode())
    return digest.hexdigest()[:16]


def vault_fingerprints() -> list[str]:
    """The current keys' fingerprints, newest first."""
    keys = [k for k in settings.KANAL_VAULT_KEYS.split(",") if k.strip()]
    return [key_fingerprint(k) for k in keys]


def _applied_migrations() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class BackupSummary:
    path: Path
    rows: int
    media_files: int
    size: int


def _dump_database(target: Path) -> None:
    """Every table, from one consistent snapshot."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        serializer = serializers.get_serializer(SERIALIZATION_FORMAT)()
        with target.open("w", encoding="utf-8") as stream:
            serializer.serialize(
                itertools.chain.from_iterable(map(_rows_of, _dumped_models())),
                stream=stream,
            )


def _dumped_models() -> list:
    """Every table ``dumpdata`` would write (no proxies, no many-to-many
    tables: those rows travel with their model's objects), but no unmanaged
    one: a table Django does not make is kept by something else (the
    inbox's status counts, by triggers that count the restored
    conversations themselves; restored too, they would count twice)."""
    return [
        model for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
        and router.allow_migrate_model(DEFAULT_DB_ALIAS, model)
    ]


def _rows_of(model):
    """``dumpdata``'s rows, with many-to-many ids fetched per chunk, not per
    object (one query per post took minutes on 20,000 posts)."""
    m2m = [f.name for f in model._meta.local_many_to_many]
    queryset = model._base_manager.order_by(model._meta.pk.name)
    if m2m:
        queryset = queryset.prefetch_related(*m2m)
    return queryset.iterator(chunk_size=2000)


def create_backup(target: Path) -> BackupSummary:
    """Write an archive of the database and the media to ``target`` (written
    beside it first, then renamed, so a half-written archive never has the
    name)."""
    state = schema_state()
    if not state.current:
        raise BackupError(_(
            "Databasen og koden har ikke samme migreringer. Kør `kanal migrate` "
            "(eller brug den version af Kanal, der passer til databasen), og tag "
            "så sikkerhedskopien."
        ))
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        dump = Path(scratch) / DATABASE
        _dump_database(dump)
        rows = json.loads(dump.read_text(encoding="utf-8"))
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["model"]] = counts.get(row["model"], 0) + 1
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if (
            media_root.is_dir()) else []
        files = {DATABASE: _sha256(dump)}
        for path in media:
            files[f"{MEDIA}/{path.relative_to(media_root).as_posix()}"] = _sha256(path)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "database_vendor": connection.vendor,
            "migrations": _applied_migrations(),
            "vault_key_fingerprints": vault_fingerprints(),
            "rows": counts,
            "files": files,
        }
        partial = Path(scratch) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=DATABASE)
            for path in media:
                arcname = f"{MEDIA}/{path.relative_to(media_root).as_posix()}"
                tar.add(path, arcname=arcname)
        os.replace(partial, target)
    return BackupSummary(target, sum(counts.values()), len(media),
                         target.stat().st_size)


# -- restore ---------------------------------------------------------------------


@dataclass
class CheckedArchive:
    manifest: dict
    workdir: Path  # database.json and media/, extracted and verified
    rows: int = 0
    warnings: list[str] = field(default_factory=list)


def _refuse_damaged(detail: str) -> BackupError:
    return BackupError(_(
        "Arkivet er beskadiget (%(detail)s). Intet er overskrevet. Brug en anden "
        "sikkerhedskopi."
    ) % {"detail": detail})


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and (name in (MANIFEST, DATABASE) or path.parts[0] == MEDIA)
    )


def check_archive(source: Path, workdir: Path) -> CheckedArchive:
    """Read, verify and extract ``source`` into ``workdir``; raise
    ``BackupError`` for anything that would make a restore unsafe."""
    if not source.is_file():
        raise BackupError(_("Filen %(path)s findes ikke.") % {"path": source})
    try:
        with tarfile.open(source, "r:*") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if MANIFEST not in names:
                raise BackupError(_(
                    "Filen er ikke en sikkerhedskopi fra Kanal (den har intet "
                    "manifest). Intet er overskrevet."
                ))
            manifest = _read_manifest(tar.extractfile(MANIFEST))
            expected = manifest["files"]
            for member in members:
                if member.name == MANIFEST:
                    continue
                if not member.isfile() or not _safe_member(member.name):
                    raise _refuse_damaged(
                        _("uventet indhold: %(name)s") % {"name": member.name})
                if member.name not in expected:
                    raise _refuse_damaged(
                        _("filen %(name)s står ikke i manifestet")
                        % {"name": member.name})
                tar.extract(member, workdir, filter="data")
    except (tarfile.TarError, OSError, EOFError, ValueError) as e:
        raise _refuse_damaged(type(e).__name__) from e
    for name, digest in expected.items():
        path = workdir / name
        if not path.is_file():
            raise _refuse_damaged(_("%(name)s mangler") % {"name": name})
        if _sha256(path) != digest:
            raise _refuse_damaged(
                _("%(name)s har en forkert kontrolsum") % {"name": name})
    return CheckedArchive(manifest, workdir)


def _read_manifest(handle) -> dict:
    try:
        manifest = json.load(handle)
    except (ValueError, TypeError) as e:
        raise _refuse_damaged(_("manifestet kan ikke læses")) from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_(
            "Filen er ikke en sikkerhedskopi fra Kanal. Intet er overskrevet."
        ))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(_(
            "Sikkerhedskopien har formatversion %(version)s, som denne version af "
            "Kanal ikke kan læse. Intet er overskrevet."
        ) % {"version": manifest.get("format_version")})
    if not isinstance(manifest.get("files"), dict) or DATABASE not in manifest[
        "files"
    ]:
        raise _refuse_damaged(_("manifestet mangler databasen"))
    return manifest


def check_schema(archive: CheckedArchive) -> None:
    state = schema_state()
    if not state.current:
        raise BackupError(_(
            "Databasen, der skal gendannes i, er ikke migreret til denne version "
            "af Kanal. Kør `kanal migrate` først. Intet er overskrevet."
        ))
    theirs = set(archive.manifest.get("migrations", []))
    ours = set(_applied_migrations())
    if theirs != ours:
        newer = sorted(theirs - ours)
        older = sorted(ours - theirs)
        raise BackupError(_(
            "Sikkerhedskopien er fra en anden version af Kanal (migreringer kun i "
            "arkivet: %(newer)s; kun her: %(older)s). Gendan med den version, "
            "den blev taget med, og opgradér derefter. Intet er overskrevet."
        ) % {"newer": ", ".join(newer) or "-", "older": ", ".join(older) or "-"})


def check_vault(archive: CheckedArchive) -> None:
    """The archive's credentials must open with today's keys: else every
    channel would need reconnecting after the restore."""
    theirs = archive.manifest.get("vault_key_fingerprints") or []
    ours = vault_fingerprints()
    rows = json.loads((archive.workdir / DATABASE).read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise _refuse_damaged(_("databasen er ikke en liste af rækker"))
    archive.rows = len(rows)
    wrong_keys = BackupError(_(
        "Sikkerhedskopien blev taget med andre nøgler til kanalernes adgangs"
        "oplysninger (KANAL_VAULT_KEYS: arkivets nyeste nøgle har fingeraftrykket "
        "%(theirs)s, de nuværende har %(ours)s). Sæt den nøgle, arkivet blev "
        "taget med, i KANAL_VAULT_KEYS, og prøv igen. Intet er overskrevet."
    ) % {"theirs": (theirs or ["-"])[0], "ours": ", ".join(ours) or "-"})
    if theirs and theirs[0] not in ours:
        raise wrong_keys
    for row in rows:
        if row.get("model") != CREDENTIALS_MODEL:
            continue
        token = (row.get("fields") or {}).get("encrypted_credentials") or ""
        try:
            vault.decrypt(token)
        except vault.VaultError as e:
            raise wrong_keys from e


def restore_backup(source: Path) -> CheckedArchive:
    """Check ``source`` in full, then replace the database and the media."""
    media_root = Path(settings.MEDIA_ROOT).resolve()
    media_root.parent.mkdir(parents=True, exist_ok=True)
    # The scratch directory sits beside MEDIA_ROOT, so the media swap is a
    # rename on one file system.
    with tempfile.TemporaryDirectory(
        dir=media_root.parent, prefix=".kanal-restore-"
    ) as scratch:
        archive = check_archive(source, Path(scratch))
        check_schema(archive)
        check_vault(archive)
        with transaction.atomic():
            _constraints("IMMEDIATE")  # TRUNCATE refuses pending FK checks
            call_command("flush", interactive=False, inhibit_post_migrate=True,
                         verbosity=0)
            _constraints("DEFERRED")  # rows load in any order, checked at commit
            ContentType.objects.clear_cache()
            _load_rows(archive.workdir / DATABASE)
            ContentType.objects.clear_cache()
            audit.record(
                "operations.backup.restored",
                changes={
                    "archive_sha256": _sha256(source),
                    "created_at": archive.manifest.get("created_at"),
                    "rows": archive.rows,
                },
            )
        _swap_media(archive.workdir / MEDIA, media_root)
    with contextlib.suppress(Exception):
        cache.clear()  # login counters and the like of the replaced database
    return archive


def _load_rows(path: Path) -> None:
    """What ``loaddata`` does, in bulk: each model's rows in batches, then the
    many-to-many rows, then the sequences moved past the loaded ids. (One
    INSERT per row, as ``loaddata`` does, took minutes for the 20,000-post
    data set.) Foreign keys are deferred constraints on both databases, so
    the order of the models does not matter; they are checked at commit."""
    rows: dict[type, list] = defaultdict(list)
    links: dict[object, list] = defaultdict(list)
    with path.open(encoding="utf-8") as stream:
        for loaded in serializers.deserialize("json", stream):
            rows[type(loaded.object)].append(loaded.object)
            for name, targets in (loaded.m2m_data or {}).items():
                m2m = loaded.object._meta.get_field(name)
                through = m2m.remote_field.through
                source = f"{m2m.m2m_field_name()}_id"
                target = f"{m2m.m2m_reverse_field_name()}_id"
                links[through] += [
                    through(**{source: loaded.object.pk, target: pk}) for pk in targets
                ]
    for model, objects in [*rows.items(), *links.items()]:
        if not objects:
            continue
        # Raw inserts, as loaddata's: bulk_create would stamp auto_now and
        # auto_now_add fields with the time of the restore.
        fields = [
            f for f in model._meta.local_concrete_fields
            # Many-to-many rows come without ids: the database numbers them.
            if not (f.primary_key and objects[0].pk is None)
        ]
        batch = max(1, min(500, connection.ops.bulk_batch_size(fields, objects)))
        for start in range(0, len(objects), batch):
            model._base_manager._insert(
                objects[start : start + batch], fields=fields, raw=True
            )
    statements = connection.ops.sequence_reset_sql(
        no_style(), [*rows.keys(), *links.keys()]
    )
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _constraints(mode: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS ALL {mode}")


def _swap_media(restored: Path, media_root: Path) -> None:
    restored.mkdir(exist_ok=True)
    previous = media_root.with_name(f".{media_root.name}.before-restore")
    if previous.exists():
        shutil.rmtree(previous)
    if media_root.exists():
        os.replace(media_root, previous)
    os.replace(restored, media_root)
    if previous.exists():
        shutil.rmtree(previous)
