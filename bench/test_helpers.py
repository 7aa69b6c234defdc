"""The benchmarks' shared timing helpers (``bench/__init__.py``)."""

import pytest

from bench import measure_page, spread


def test_spread_reports_median_95th_percentile_and_slowest():
    samples = [float(n) for n in range(20, 0, -1)]
    assert spread(samples) == {"p50_ms": 10.5, "p95_ms": 19.0, "max_ms": 20.0}


class _Answer:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.content = b"<p>side</p>"


class _Client:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.urls: list[str] = []

    def get(self, url: str) -> _Answer:
        self.urls.append(url)
        return _Answer(self.statuses.pop(0) if self.statuses else 200)


@pytest.mark.django_db
def test_measure_page_times_the_repeats_after_the_warmup():
    client = _Client([])
    measured = measure_page(client, "/plan/", warmup=2, repeats=5)
    # Two untimed, five timed and one counting the queries.
    assert client.urls == ["/plan/"] * 8
    assert measured["queries"] == 0 and measured["bytes"] == len(b"<p>side</p>")
    assert 0 <= measured["p50_ms"] <= measured["p95_ms"] <= measured["max_ms"]


@pytest.mark.django_db
def test_measure_page_refuses_a_page_that_is_not_200():
    with pytest.raises(AssertionError):
        measure_page(_Client([200, 500]), "/plan/", warmup=1, repeats=3)
