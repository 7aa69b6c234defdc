"""Every retry and backoff wait of publishing is a named value in conf.py."""

from __future__ import annotations

import re
from pathlib import Path

from kanal.publishing import conf

PUBLISHING = Path(conf.__file__).resolve().parent
#: A number written into a wait: doubling from a literal base, sleeping or
#: waiting a literal time, or a literal timedelta in seconds or minutes.
LITERAL_WAIT = re.compile(
    r"\d+(\.\d+)?\s*\*\s*2\s*\*\*"
    r"|sleep\(\s*\d"
    r"|wait\((min\([^)]*,\s*)?\d"
    r"|return\s+(?!0\.0\b)\d+\.\d+\s*$"
    r"|now\s*\+\s*timedelta\((seconds|minutes)=\d"
)


def test_no_wait_is_written_outside_conf():
    found = []
    for name in ("engine.py", "worker.py", "followup.py", "tokens.py",
                 "outcomes.py", "periodic.py"):
        for number, line in enumerate(
            (PUBLISHING / name).read_text(encoding="utf-8").splitlines(), 1
        ):
            if LITERAL_WAIT.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def test_the_waits_are_named_and_positive():
    for name in ("BACKOFF_BASE_SECONDS", "BACKOFF_MAX_SECONDS",
                 "RECONCILE_RETRY_SECONDS", "RECONNECT_RECHECK_SECONDS",
                 "QUOTA_FALLBACK_SECONDS", "QUOTA_RESET_MIN_SECONDS",
                 "LOCAL_ERROR_RETRY_SECONDS", "DB_RETRY_BASE_SECONDS",
                 "DB_RECONNECT_BASE_SECONDS", "DB_RETRY_MAX_SECONDS",
                 "IDLE_WAKE_MAX_SECONDS", "IDLE_POLL_SECONDS"):
        assert float(conf.get(name)) > 0, name
