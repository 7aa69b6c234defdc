from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from kanal.core import audit
from kanal.core.models import AuditEntry


def _entries(n, organisation):
    return [
        audit.record(f"test.thing.{i}", organisation=organisation, changes={"i": i})
        for i in range(n)
    ]


def test_entries_form_an_intact_chain(organisation):
    entries = _entries(3, organisation)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert audit.verify_chain() == []


def test_entries_cannot_be_changed_or_deleted_through_the_orm(organisation):
    entry = _entries(1, organisation)[0]
    entry.event = "forged"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(event="forged")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


def test_verify_detects_an_edited_row(organisation):
    entries = _entries(3, organisation)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET changes = %s WHERE id = %s",
            ['{"i": 99}', entries[1].pk],
        )
    problems = audit.verify_chain()
    assert [p.seq for p in problems] == [2]
    assert "ændret" in problems[0].message


def test_verify_detects_a_deleted_row_in_the_middle(organisation):
    entries = _entries(3, organisation)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
    problems = audit.verify_chain()
    assert {p.seq for p in problems} == {3}
    assert any("slettet" in p.message for p in problems)


def test_verify_detects_the_last_row_deleted(organisation):
    entries = _entries(3, organisation)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[2].pk])
    problems = audit.verify_chain()
    assert len(problems) == 1 and "sidste" in problems[0].message


def test_verify_audit_command_exits_nonzero_on_tampering(organisation, capsys):
    entries = _entries(2, organisation)
    call_command("verify_audit")
    assert "intakt" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET actor_label = %s WHERE id = %s",
            ["mallory", entries[0].pk],
        )
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
    assert exit_info.value.code == 1
    assert "#1" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# An insider with write access to the database, but not the key


def _legacy_hash(entry: AuditEntry) -> str:
    """How the chain was hashed before it was keyed: anyone can compute it."""
    import hashlib

    return hashlib.sha256(entry.canonical().encode()).hexdigest()


def _rebuild(from_seq: int, hasher) -> None:
    """Recompute every hash from ``from_seq`` on, as an attacker would, and
    move the head to match."""
    from kanal.core.models import AuditChain

    prev = AuditEntry.objects.get(seq=from_seq - 1).hash if from_seq > 1 else "0" * 64
    for entry in AuditEntry.objects.filter(seq__gte=from_seq).order_by("seq"):
        entry.prev_hash = prev
        entry.hash = hasher(entry)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE core_auditentry SET prev_hash = %s, hash = %s, key_id = %s "
                "WHERE id = %s",
                [entry.prev_hash, entry.hash, entry.key_id, entry.pk],
            )
        prev = entry.hash
    AuditChain.objects.filter(pk=1).update(last_hash=prev)


def test_a_chain_rebuilt_without_the_key_is_detected(organisation):
    _entries(4, organisation)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET changes = %s WHERE seq = 2", ['{"i": 99}']
        )
    _rebuild(2, _legacy_hash)
    problems = audit.verify_chain()
    assert {p.seq for p in problems} == {2, 3, 4}
    assert all("ændret" in p.message for p in problems)


def test_a_chain_rebuilt_with_a_guessed_key_is_detected(organisation, settings):
    from kanal.core.models import keyed_digest

    _entries(3, organisation)
    _rebuild(1, lambda e: keyed_digest("gættet-nøgle", e.canonical()))
    assert {p.seq for p in audit.verify_chain()} == {1, 2, 3}


def test_a_chain_relabelled_as_unkeyed_is_detected(organisation):
    _entries(2, organisation)

    def unkeyed(entry):
        entry.key_id = ""
        return _legacy_hash(entry)

    _rebuild(1, unkeyed)
    problems = audit.verify_chain()
    assert {p.seq for p in problems} == {1, 2}
    assert all("ikke nøglet" in p.message for p in problems)


def test_the_chain_verifies_after_the_key_is_rotated(organisation, settings):
    _entries(2, organisation)
    old = settings.KANAL_AUDIT_KEYS
    settings.KANAL_AUDIT_KEYS = f"ny-nøgle-{'x' * 40},{old}"
    _entries(2, organisation)
    assert audit.verify_chain() == []
    assert AuditEntry.objects.values("key_id").distinct().count() == 2
    settings.KANAL_AUDIT_KEYS = f"ny-nøgle-{'x' * 40}"  # the old key dropped
    problems = audit.verify_chain()
    assert {p.seq for p in problems} == {1, 2}
    assert "KANAL_AUDIT_KEYS" in problems[0].message


@pytest.fixture
def checkpoint_dir(settings, tmp_path):
    settings.KANAL_AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    return tmp_path / "checkpoints"


def _cut_tail(keep: int) -> None:
    from kanal.core.models import AuditChain

    last = AuditEntry.objects.get(seq=keep)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq > %s", [keep])
    AuditChain.objects.filter(pk=1).update(last_seq=keep, last_hash=last.hash)


def test_a_cut_off_tail_is_detected_by_a_checkpoint(organisation, checkpoint_dir):
    from kanal.core import checkpoints

    _entries(5, organisation)
    assert checkpoints.write_checkpoint() == 1
    assert checkpoints.write_checkpoint() == 0  # the head did not move
    _cut_tail(3)
    assert audit.verify_chain(checkpoints=False) == []  # the chain alone is fooled
    problems = audit.verify_chain()
    assert [p.seq for p in problems] == [5]
    assert "slettet" in problems[0].message
    # Entries written after the cut get other hashes than the checkpoint saw.
    _entries(2, organisation)
    problems = audit.verify_chain()
    assert [p.seq for p in problems] == [5]
    assert "skrevet om" in problems[0].message
    # And no new checkpoint vouches for the shortened chain.
    assert checkpoints.write_checkpoint() == 0


def test_checkpoints_are_appended_one_file_per_day(organisation, checkpoint_dir):
    import json
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from kanal.core import checkpoints

    day = datetime(2026, 12, 6, 23, 0, tzinfo=ZoneInfo("UTC"))
    _entries(1, organisation)
    checkpoints.write_checkpoint(now=day)
    _entries(1, organisation)
    checkpoints.write_checkpoint(now=day + timedelta(minutes=30))
    _entries(1, organisation)
    checkpoints.write_checkpoint(now=day + timedelta(hours=2))
    files = sorted(p.name for p in checkpoint_dir.iterdir())
    assert files == [
        "audit-checkpoints-2026-12-06.jsonl",
        "audit-checkpoints-2026-12-07.jsonl",
    ]
    first = (checkpoint_dir / files[0]).read_text().splitlines()
    assert [json.loads(line)["seq"] for line in first] == [1, 2]
    assert audit.verify_chain() == []


def test_a_forged_or_edited_checkpoint_is_reported(organisation, checkpoint_dir):
    import json

    from kanal.core import checkpoints

    _entries(2, organisation)
    checkpoints.write_checkpoint()
    path = next(checkpoint_dir.iterdir())
    data = json.loads(path.read_text())
    data["seq"] = 1
    path.write_text(json.dumps(data) + "\n" + "kein json\n")
    messages = [p.message for p in audit.verify_chain()]
    assert any("ikke en gyldig signatur" in m for m in messages)
    assert any("kan ikke læses" in m for m in messages)


def test_a_tampered_chain_gets_no_checkpoint(organisation, checkpoint_dir):
    from kanal.core import checkpoints

    _entries(3, organisation)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET event = 'x' WHERE seq = 2")
    assert checkpoints.write_checkpoint() == 0
    assert not checkpoint_dir.exists() or not any(checkpoint_dir.iterdir())


def test_verify_audit_reports_checkpoints(organisation, checkpoint_dir, capsys):
    from kanal.core import checkpoints

    _entries(3, organisation)
    checkpoints.write_checkpoint()
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "1 checkpoint(s)" in out and "intakt: 3 poster" in out
    _cut_tail(2)
    with pytest.raises(SystemExit):
        call_command("verify_audit")
    assert "IKKE intakt" in capsys.readouterr().out


def test_the_worker_writes_checkpoints_as_a_periodic_job(organisation, checkpoint_dir):
    from kanal.publishing.periodic import PERIODIC_JOBS

    job = next(j for j in PERIODIC_JOBS if j.name == "audit_checkpoint")
    _entries(2, organisation)
    assert job.run(dry_run=True) == 1
    assert not checkpoint_dir.exists()
    assert job.run() == 1
    assert len(next(checkpoint_dir.iterdir()).read_text().splitlines()) == 1


def test_the_migration_rekeys_an_intact_unkeyed_chain(organisation):
    import importlib

    from django.db.migrations.loader import MigrationLoader

    rekey = importlib.import_module("kanal.core.migrations.0002_keyed_audit_chain")
    apps = (
        MigrationLoader(connection)
        .project_state(("core", "0002_keyed_audit_chain"))
        .apps
    )
    _entries(3, organisation)

    def unkeyed(entry):
        entry.key_id = ""
        payload = entry.payload()
        del payload["key_id"]
        import hashlib
        import json

        from django.core.serializers.json import DjangoJSONEncoder

        canonical = json.dumps(
            payload,
            sort_keys=True,
            separators=(",", ":"),
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    _rebuild(1, unkeyed)  # the chain as the previous version wrote it
    assert audit.verify_chain() != []
    rekey.rekey(apps, None)
    assert audit.verify_chain() == []
    # A broken unkeyed chain is not silently keyed.
    _rebuild(1, unkeyed)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET event = 'x' WHERE seq = 2")
    with pytest.raises(RuntimeError, match="brudt ved post #2"):
        rekey.rekey(apps, None)


def test_an_empty_audit_key_setting_is_a_system_check_error(settings):
    from kanal.core.checks import audit_keys_are_set

    settings.KANAL_AUDIT_KEYS = " , "
    assert [e.id for e in audit_keys_are_set(None)] == ["kanal.E002"]
    settings.KANAL_AUDIT_KEYS = "x" * 40
    assert audit_keys_are_set(None) == []


def test_generate_audit_key_prints_a_strong_key(capsys):
    from kanal.settings.guards import is_weak_secret

    call_command("generate_audit_key")
    key = capsys.readouterr().out.strip()
    assert not is_weak_secret(key, min_length=32)


@pytest.mark.parametrize(
    "query",
    [
        "date_from=0001-01-01",
        "date_to=9999-12-31",
        "date_from=1999-12-31&date_to=2000-01-02",
    ],
)
def test_audit_filter_refuses_days_outside_the_window_with_a_danish_400(
    member, client_for, query
):
    from kanal.organisations.roles import Role

    admin = member(Role.ADMIN)
    response = client_for(admin).get(f"/revisionsspor/?{query}")
    assert response.status_code == 400
    assert "Datoen skal ligge mellem 01.01.2000 og 31.12.2099" in (
        response.content.decode()
    )


def test_a_refused_value_says_itself_on_the_400_page(rf):
    from kanal.core.safety import InvalidInput
    from kanal.core.views import bad_request

    response = bad_request(
        rf.get("/"), InvalidInput("Ugen findes ikke: vælg en anden.")
    )
    assert response.status_code == 400
    assert "Ugen findes ikke: vælg en anden." in response.content.decode()


@pytest.mark.django_db
def test_a_snapshot_and_a_diff_keep_a_relation_by_its_id(organisation):
    """A relation in an audit's "before" is its id: the object itself is
    not JSON, and recording it was a server error (T4-6)."""
    from kanal.organisations.tests.factories import AdministrationFactory

    first = AdministrationFactory(organisation=organisation, code="BUF")
    second = AdministrationFactory(organisation=organisation, code="TMF")
    before = audit.snapshot(first, ["organisation", "code"])
    assert before == {"organisation": organisation.pk, "code": "BUF"}
    first.code = "KFF"
    assert audit.diff(first, ["organisation", "code"], before) == {
        "code": ["BUF", "KFF"]}
    entry = audit.record("test.thing.changed", organisation=organisation,
                         target=first, changes={"before": audit.snapshot(
                             second, ["organisation", "code"])})
    assert entry.changes["before"] == {"organisation": organisation.pk,
                                       "code": "TMF"}
