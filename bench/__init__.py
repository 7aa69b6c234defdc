"""Kanal's benchmarks (`make bench` = `python -m bench`)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def write_section(start: str, end: str, section: str) -> None:
    """Put ``section`` (which begins with ``start`` and ends with ``end``)
    into BENCHMARKS.md in place of the old one, or at the end."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    BENCHMARKS.write_text(text)


def spread(samples: list[float]) -> dict:
    """The median, 95th percentile and slowest of ``samples`` (ms)."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "max_ms": round(ordered[-1], 1),
    }


def measure_page(client, url: str, *, warmup: int, repeats: int) -> dict:
    """``spread`` of ``repeats`` GETs of ``url`` (after ``warmup`` untimed
    ones), each answered 200, the size of the page and the queries one more
    GET makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        assert client.get(url).status_code == 200
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return {**spread(samples), "queries": len(ctx.captured_queries),
            "bytes": len(response.content)}
