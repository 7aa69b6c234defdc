"""The fault benchmark's small schedule, run by ``make test`` on both databases.

It starts what production runs: the sandbox with all seven emulators and two
``kanal worker`` processes on a database of their own (an SQLite file, or a
fresh PostgreSQL database on the server of the PostgreSQL pass), and throws
every class of fault of issue 9 at them once (``kind_schedule`` in
``bench/publishing_faults.py``). The verdict comes from the sandbox's publish
log, what reached the networks: no publication twice, none lost, no live post
marked as not published, no channel wrongly needing reconnection, no send
after a withdrawal or a crisis switch committed, every first comment exactly
once. About a minute on an idle machine.
"""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.sandbox


def _database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgres" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def test_the_small_fault_schedule_keeps_every_promise(monkeypatch):
    from bench import publishing_faults

    db = _database()
    if db == "postgres":
        # The benchmark makes its own database on the same server.
        server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        monkeypatch.setenv("KANAL_BENCH_PG_ADMIN_URL", f"{server}/postgres")
    monkeypatch.delenv("KANAL_BENCH_COMMIT", raising=False)
    monkeypatch.delenv("KANAL_BENCH_CODE", raising=False)

    result = publishing_faults.run_one("schedule", db, {"timeout": 240})

    assert "error" not in result, result.get("error")
    verdicts = {key: result.get(key) for key in (
        "duplicates", "lost", "live_marked_not_published",
        "published_but_not_on_network", "channels_needing_reconnect",
        "sends_after_stop", "early_sends", "first_comment_duplicates",
        "first_comment_missing")}
    evidence = json.dumps(result.get("evidence"), indent=1, default=str)[:4000]
    assert result["publications"] >= 56
    assert result["network_posts"] >= 40, evidence
    assert verdicts == dict.fromkeys(verdicts, 0), (
        f"{verdicts}\nlogs: {result.get('logs')}\n{evidence}")
