"""Kanal's benchmarks (`make bench` = `python -m bench`)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"


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


def run_inner(module: str, tmp: str, *, database_url: str, what: str,
              settings: str = "kanal.settings.test", **env) -> dict | None:
    """Run ``python -m bench.<module> --inner RESULT`` in a process of its
    own on ``database_url``, with ``tmp`` as its var directory and ``env``
    added: the result it wrote, or None (said on stderr) when it failed."""
    out = Path(tmp) / "result.json"
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "--inner", str(out)],
        cwd=ROOT, check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings,
             "DATABASE_URL": database_url, "KANAL_VAR_DIR": tmp, **env},
    )
    if proc.returncode != 0 or not out.exists():
        print(f"{what} benchmark failed", file=sys.stderr)
        return None
    return json.loads(out.read_text())
