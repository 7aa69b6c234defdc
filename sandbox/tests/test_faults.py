import asyncio

import pytest

from sandbox.core import SandboxConfig, SandboxContext
from sandbox.faults import FaultError, FaultInjector


def test_fault_fires_count_times_for_its_account_and_operation():
    faults = FaultInjector()
    faults.add("x", "rate_limit", account="1", operation="publish", count=2)
    assert faults.take("x", "publish", "2") is None
    assert faults.take("x", "inbox", "1") is None
    assert faults.take("mastodon", "publish", "1") is None
    assert faults.take("x", "publish", "1").kind == "rate_limit"
    assert faults.take("x", "publish", "1").fired == 2
    assert faults.take("x", "publish", "1") is None
    assert faults.pending() == []


def test_fault_without_count_stays_until_cleared():
    faults = FaultInjector()
    faults.add("x", "server_error", count=None)
    assert all(faults.take("x", "verify").kind == "server_error" for _ in range(5))
    assert faults.clear("x") == 1
    assert faults.take("x", "verify") is None


def test_probability_is_replayed_by_the_seed():
    def run(seed):
        faults = FaultInjector(seed=seed)
        faults.add("x", "server_error", count=None, probability=0.5)
        return [faults.take("x", "publish") is not None for _ in range(40)]

    assert run(7) == run(7)
    assert 5 < sum(run(7)) < 35


def test_unknown_kind_or_operation_is_refused():
    faults = FaultInjector()
    with pytest.raises(FaultError):
        faults.add("x", "meteor")
    with pytest.raises(FaultError):
        faults.add("x", "rate_limit", operation="dance")


def test_timeout_after_create_gets_a_default_delay():
    assert FaultInjector().add("x", "timeout_after_create").delay_ms == 3000


def test_context_applies_latency_faults_then_returns_the_next_fault(tmp_path):
    ctx = SandboxContext(SandboxConfig(db_path=str(tmp_path / "s.sqlite3")))
    slept = []

    async def sleep(ms):
        slept.append(ms)

    ctx.sleep = sleep
    ctx.faults.set_latency("x", 40)
    ctx.faults.add("x", "latency", delay_ms=200)
    ctx.faults.add("x", "duplicate", operation="publish")
    fault = asyncio.run(ctx.fault("x", "publish", "1"))
    assert fault.kind == "duplicate"
    assert slept == [240]
    assert asyncio.run(ctx.fault("x", "publish", "1")) is None
    assert slept == [240, 40]
