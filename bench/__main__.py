"""Run every benchmark module in this package: each module that defines
``run_benchmarks(argv)`` is run in name order. ``python -m bench publishing``
runs only the modules whose name starts with ``publishing``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")]
    rc = 0
    package = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        if wanted and not any(info.name.startswith(w) for w in wanted):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        run = getattr(module, "run_benchmarks", None)
        if run is None:
            continue
        rc |= int(run([a for a in argv if a.startswith("-")]) or 0)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
