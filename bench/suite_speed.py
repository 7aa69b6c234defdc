"""How long the test suite takes in one process and as ``bin/test-all`` runs
it (the parallel pass on one worker per CPU, then the ``serial`` tests
alone), measured alternately so that both see the same load.

``.venv/bin/python -m bench.suite_speed [ROUNDS] [PYTEST-ARGS…]``, e.g.
``… -m bench.suite_speed 2 kanal/inbox kanal/sources`` (SQLite) or with
``DATABASE_URL=postgresql://…`` (PostgreSQL). Prints one line per run and a
Markdown table (medians, the ratio and the load average) for BENCHMARKS.md.

Not part of ``make bench`` (it has no ``run_benchmarks``): it runs the
suite several times.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-q"]


def _workers() -> int:
    return int(os.environ.get("KANAL_TEST_WORKERS") or os.cpu_count() or 1)


def one_process(args: list[str]) -> list[list[str]]:
    return [[*PYTEST, "-p", "no:xdist", *args]]


def as_test_all(args: list[str]) -> list[list[str]]:
    """The two passes of ``bin/test-all`` for one database."""
    return [
        [*PYTEST, "-n", str(_workers()), "--dist", "loadgroup",
         "-m", "not serial", *args],
        [*PYTEST, "-p", "no:xdist", "-m", "serial", *args],
    ]


def timed(commands: list[list[str]]) -> tuple[float, bool]:
    started = time.monotonic()
    ok = True
    for command in commands:
        rc = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, check=False).returncode
        ok = ok and rc in (0, 5)  # 5: nothing selected in that pass
    return time.monotonic() - started, ok


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv and argv[0].isdigit() else 2
    args = argv[1:] if argv and argv[0].isdigit() else argv
    ways = {"one process": one_process,
            f"bin/test-all ({_workers()} workers)": as_test_all}
    times: dict[str, list[float]] = {name: [] for name in ways}
    loads = [os.getloadavg()[0]]
    failed = False
    for n in range(rounds):
        # Alternate which goes first, so neither always meets the same load.
        order = list(ways) if n % 2 == 0 else list(reversed(ways))
        for name in order:
            seconds, ok = timed(ways[name](args))
            loads.append(os.getloadavg()[0])
            failed |= not ok
            times[name].append(seconds)
            print(f"round {n + 1}: {name}: {seconds:.0f} s"
                  f"{'' if ok else ' (FAILED)'} load {loads[-1]:.1f}", flush=True)
    base, new = (statistics.median(times[name]) for name in ways)
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith(
        "postgres") else "SQLite"
    print()
    print(f"{database}, `{' '.join(args) or 'the whole suite'}`, {rounds} rounds, "
          f"{os.cpu_count()} CPUs, 1-minute load {min(loads):.1f}–{max(loads):.1f}")
    print()
    print("| how | runs (s) | median (s) |")
    print("| --- | --- | --- |")
    for name in ways:
        runs = ", ".join(f"{t:.0f}" for t in times[name])
        print(f"| {name} | {runs} | {statistics.median(times[name]):.0f} |")
    print(f"\nRatio (bin/test-all / one process): {new / base:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
