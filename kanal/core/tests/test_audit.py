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
