"""Backup and restore benchmark: `kanal backup` and `kanal restore` on the
20,000-post planning data set (``bench.planning_calendar.fill``).

``python -m bench operations`` fills a fresh SQLite database and, when
PostgreSQL answers at ``KANAL_BENCH_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/kanal_ops_bench``, created and
dropped here), a PostgreSQL one, each in its own process; times one backup
and one restore of each, and checks that the restored database has the same
rows and that the audit chain verifies. The figures go to the operations
section of BENCHMARKS.md.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import write_section

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- operations:start -->", "<!-- operations:end -->"
POSTGRES = os.environ.get(
    "KANAL_BENCH_POSTGRES",
    "postgresql://postgres@127.0.0.1:5432/kanal_ops_bench",
)


def _postgres_database(create: bool) -> bool:
    import psycopg

    server, _slash, name = POSTGRES.rpartition("/")
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True,
                             connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            if create:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as e:
        print(f"PostgreSQL not reachable ({e}); SQLite only", file=sys.stderr)
        return False
    return True


def run_benchmarks(argv) -> int:
    results = []
    with tempfile.TemporaryDirectory(prefix="kanal-bench-backup-") as tmp:
        urls = [("sqlite", f"sqlite:///{Path(tmp) / 'backup.sqlite3'}")]
        if _postgres_database(create=True):
            urls.append(("postgresql", POSTGRES))
        for vendor, url in urls:
            out = Path(tmp) / f"{vendor}.json"
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "kanal.settings.dev",
                "DATABASE_URL": url,
                "KANAL_VAR_DIR": tmp,
                "KANAL_MEDIA_ROOT": str(Path(tmp) / f"media-{vendor}"),
                "KANAL_AUDIT_CHECKPOINT_DIR": "",
            }
            proc = subprocess.run(
                [sys.executable, "-m", "bench.operations_backup", "--inner",
                 str(out)],
                cwd=ROOT, env=env, check=False,
            )
            if proc.returncode != 0 or not out.exists():
                print(f"backup benchmark failed on {vendor}", file=sys.stderr)
                return 1
            results.append(json.loads(out.read_text()))
        if len(urls) > 1:
            _postgres_database(create=False)
    print(json.dumps(results, indent=2))
    write_markdown(results)
    return 0 if all(r["rows_equal"] and r["audit_intact"] for r in results) else 1


def inner(out: Path) -> None:
    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.planning_calendar import fill

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    data = fill(timezone.now())

    def counts() -> dict:
        return {m._meta.label: m._base_manager.count() for m in apps.get_models()}

    before = counts()
    archive = out.with_suffix(".tar.gz")
    t0 = time.perf_counter()
    call_command("backup", str(archive), stdout=io.StringIO())
    backup_seconds = time.perf_counter() - t0
    call_command("flush", interactive=False, verbosity=0)
    t0 = time.perf_counter()
    call_command("restore", str(archive), yes=True, stdout=io.StringIO())
    restore_seconds = time.perf_counter() - t0
    after = counts()
    restored_entry = "core.AuditEntry"
    after[restored_entry] -= 1  # the restore's own entry
    if before["core.AuditChain"] == 0:
        after["core.AuditChain"] -= 1  # and the chain's head it started
    try:
        call_command("verify_audit", stdout=io.StringIO())
        intact = True
    except SystemExit:
        intact = False
    out.write_text(json.dumps({
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "vendor": connection.vendor,
        "posts": data["posts"],
        "rows": sum(before.values()),
        "archive_mb": round(archive.stat().st_size / 1e6, 1),
        "backup_seconds": round(backup_seconds, 1),
        "restore_seconds": round(restore_seconds, 1),
        "rows_equal": before == after,
        "audit_intact": intact,
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }))


def write_markdown(results: list[dict]) -> None:
    rows = "\n".join(
        f"| {r['vendor']} | {r['posts']:,} | {r['rows']:,} | {r['archive_mb']} MB "
        f"| {r['backup_seconds']} s | {r['restore_seconds']} s "
        f"| {'yes' if r['rows_equal'] else 'NO'} "
        f"| {'yes' if r['audit_intact'] else 'NO'} | {r['load']} |"
        for r in results
    )
    section = f"""{START}
## Operations: backup and restore

Run {results[0]['run_at']} by `python -m bench operations`
(`bench/operations_backup.py`): the planning benchmark's data set (a year of
posts for 10 channels and 20 contributor administrations), then one
`kanal backup` and, after emptying the database, one `kanal restore`, in
process. "Same rows" compares the row count of every table before and after
(less the restore's own audit entry); "audit" is `kanal verify-audit`.

| database | posts | rows | archive | backup | restore | same rows | audit | load |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{rows}
{END}"""
    write_section(START, END, section)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(Path(sys.argv[2]))
    else:
        sys.exit(run_benchmarks(sys.argv[1:]))
