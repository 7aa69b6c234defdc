"""No code that a dead-code finder reports with high confidence.

vulture at confidence 80 finds unused imports, unreachable code and unused
variables; a false positive (a parameter a framework's signature requires)
goes into ``vulture_whitelist.py`` with its reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_vulture_finds_no_dead_code_at_high_confidence():
    found = subprocess.run(
        [sys.executable, "-m", "vulture", "kanal", "vulture_whitelist.py",
         "--min-confidence", "80"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert found.stdout == "", f"dead code:\n{found.stdout}"
    assert found.returncode == 0, found.stderr
