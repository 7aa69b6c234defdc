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


def test_run_inner_reads_the_result_of_its_own_process(tmp_path, monkeypatch):
    import json
    import subprocess

    import bench

    seen = {}

    def run(command, *, cwd, check, env):
        seen.update(command=command, cwd=cwd, env=env)
        (tmp_path / "result.json").write_text(json.dumps({"p95_ms": 12.5}))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bench.subprocess, "run", run)
    result = bench.run_inner("sources_import", str(tmp_path), what="sources",
                             database_url="sqlite:///x.sqlite3", EXTRA="1")
    assert result == {"p95_ms": 12.5}
    assert seen["command"][1:] == ["-m", "bench.sources_import", "--inner",
                                   str(tmp_path / "result.json")]
    assert seen["cwd"] == bench.ROOT
    assert {k: seen["env"][k] for k in (
        "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "KANAL_VAR_DIR", "EXTRA")} == {
        "DJANGO_SETTINGS_MODULE": "kanal.settings.test",
        "DATABASE_URL": "sqlite:///x.sqlite3", "KANAL_VAR_DIR": str(tmp_path),
        "EXTRA": "1"}


def test_run_inner_says_when_the_benchmark_failed(tmp_path, capsys):
    from bench import run_inner

    assert run_inner("no_such_benchmark", str(tmp_path), what="missing",
                     database_url="sqlite:///x.sqlite3") is None
    assert "missing benchmark failed" in capsys.readouterr().err
