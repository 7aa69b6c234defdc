"""Personal-data scan of long citizen texts: ``privacy.mask`` over texts of
1,000, 10,000 and 100,000 characters of three shapes (numbers that are
phone and CPR candidates, street names, plain words with one finding). The
list masks every row's whole text, so one long comment costs every page
that shows it; the scan must grow with the text, not with its square. The
ratio 100,000 / 10,000 says which: about 10 for a linear scan, about 100 for
a quadratic one.

``python -m bench inbox_privacy`` writes the inbox-privacy section of
BENCHMARKS.md.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime

from bench import write_section
from bench.operations_server import _machine

START, END = "<!-- inbox-privacy:start -->", "<!-- inbox-privacy:end -->"
SIZES = (1_000, 10_000, 100_000)
REPEATS = 7
SHAPES = {
    "numbers (\"12 12 12 …\")": "12 ",
    "street names (\"Nørrebrogade 4 …\")": "Nørrebrogade 4 ",
    "words, one CPR number": "Hvornår åbner svømmehallen igen? ",
}


def _text(piece: str, size: int, shape: str) -> str:
    text = (piece * (size // len(piece) + 1))[:size]
    if "CPR" not in shape:
        return text
    return text[:size // 2] + " 120385-1234 " + text[size // 2:]


def run_benchmarks(argv) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kanal.settings.test")
    import django

    django.setup()
    from kanal.inbox import privacy

    rows = []
    for shape, piece in SHAPES.items():
        medians = {}
        for size in SIZES:
            text = _text(piece, size, shape)
            samples = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                privacy.mask(text)
                samples.append((time.perf_counter() - started) * 1000)
            medians[size] = statistics.median(samples)
        ratio = medians[100_000] / medians[10_000] if medians[10_000] else 0
        rows.append(f"| {shape} | " + " | ".join(
            f"{medians[s]:.2f}" for s in SIZES) + f" | {ratio:.1f} |")
        print(shape, medians, round(ratio, 1), flush=True)
    write_section(START, END, "\n".join([
        START,
        "## Inbox: personal-data scan of long texts",
        "",
        f"`python -m bench inbox_privacy`, "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, {_machine()}; "
        f"`privacy.mask` of one text, median of {REPEATS} runs in one process, ms. "
        "The last column is the 100,000-character time over the 10,000 one: "
        "about 10 for a scan that grows with the text, about 100 for one "
        "that grows with its square.",
        "",
        "| text | 1,000 chars | 10,000 chars | 100,000 chars | ratio 100k/10k |",
        "| --- | ---: | ---: | ---: | ---: |",
        *rows,
        END,
    ]))
    return 0
