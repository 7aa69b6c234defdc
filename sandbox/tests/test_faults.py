import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.core import SandboxConfig, SandboxContext
from sandbox.faults import FaultError, FaultInjector, hostile_answer


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


# -- faults narrowed to a request, answers replaced after the write ------------

def _call(app, method, path, **kwargs):
    import httpx

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://127.0.0.1:8765") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(run())


@pytest.fixture
def x_app(tmp_path):
    from sandbox.app import create_app

    return create_app(SandboxConfig(db_path=str(tmp_path / "s.sqlite3"),
                                    networks=("x", "mastodon"), seed=5))


def _x_account(app):
    body = _call(app, "POST", "/_sandbox/accounts", json={"network": "x"}).json()
    return body["account"]["account_id"], body["tokens"]["access_token"]


def _tweet(app, token, text):
    return _call(app, "POST", "/x/2/tweets", json={"text": text},
                 headers={"Authorization": f"Bearer {token}"})


def test_a_fault_can_be_narrowed_to_a_method_and_a_path():
    faults = FaultInjector()
    faults.add("x", "server_error", method="post", path="/x/2/tweets")
    faults.add("x", "latency", path="/x/2/oauth2/*", delay_ms=900)
    from sandbox.faults import CURRENT_REQUEST, RequestScope

    token = CURRENT_REQUEST.set(RequestScope("x", "GET", "/x/2/tweets"))
    try:
        assert faults.take("x", "publish") is None
    finally:
        CURRENT_REQUEST.reset(token)
    token = CURRENT_REQUEST.set(RequestScope("x", "POST", "/x/2/oauth2/token"))
    try:
        assert faults.take("x", "token", latency=True).delay_ms == 900
        assert faults.take("x", "token", latency=False) is None
    finally:
        CURRENT_REQUEST.reset(token)
    token = CURRENT_REQUEST.set(RequestScope("x", "POST", "/x/2/tweets"))
    try:
        assert faults.take("x", "publish").kind == "server_error"
    finally:
        CURRENT_REQUEST.reset(token)


def test_server_error_after_create_makes_the_post_then_answers_500(x_app):
    account, token = _x_account(x_app)
    made = _call(x_app, "POST", "/_sandbox/faults", json={
        "network": "x", "kind": "server_error_after_create",
        "operation": "publish", "account": account})
    assert made.status_code == 201

    answer = _tweet(x_app, token, "Vejarbejde på Jagtvej")

    assert answer.status_code == 500
    assert answer.json()["type"].endswith("/internal-error")
    log = _call(x_app, "GET", "/_sandbox/published",
                params={"network": "x", "account": account}).json()
    assert [r["text"] for r in log] == ["Vejarbejde på Jagtvej"]


def test_a_proxy_page_and_an_unreadable_answer_after_create(x_app):
    _account, token = _x_account(x_app)
    _call(x_app, "POST", "/_sandbox/faults", json={
        "network": "x", "kind": "server_error_after_create",
        "params": {"body": "proxy"}})
    proxy = _tweet(x_app, token, "Først")
    assert proxy.status_code == 502
    assert proxy.headers["content-type"].startswith("text/html")

    _call(x_app, "POST", "/_sandbox/faults", json={
        "network": "x", "kind": "unreadable_after_create", "path": "/x/2/tweets"})
    cut = _tweet(x_app, token, "Dernæst")
    assert cut.status_code == 201
    with pytest.raises(ValueError):
        cut.json()
    assert int(cut.headers["content-length"]) == len(cut.content)
    log = _call(x_app, "GET", "/_sandbox/published", params={"network": "x"}).json()
    assert {r["text"] for r in log} >= {"Først", "Dernæst"}


def test_each_network_can_have_its_own_clock_and_date_header(x_app):
    from email.utils import parsedate_to_datetime

    _account, token = _x_account(x_app)
    set_clock = _call(x_app, "POST", "/_sandbox/clock",
                      json={"network": "x", "offset_seconds": -600})
    assert set_clock.json()["network_offsets_seconds"] == {"x": -600.0}

    made = _tweet(x_app, token, "Klokken er forkert")
    mastodon = _call(x_app, "GET", "/mastodon/api/v2/instance")

    x_date = parsedate_to_datetime(made.headers["date"])
    other_date = parsedate_to_datetime(mastodon.headers["date"])
    assert 590 <= (other_date - x_date).total_seconds() <= 610
    tweet = _call(x_app, "GET", f"/_sandbox/items/x/{made.json()['data']['id']}")
    created = datetime.fromisoformat(tweet.json()["created_at"])
    assert 590 <= (other_date - created).total_seconds() <= 612
    bad = _call(x_app, "POST", "/_sandbox/clock",
                json={"network": "x", "offset_seconds": "soon"})
    assert bad.status_code == 400
    _call(x_app, "POST", "/_sandbox/clock", json={"reset": True})
    assert _call(x_app, "GET", "/_sandbox/clock").json()[
        "network_offsets_seconds"] == {}


def test_publish_log_keeps_when_the_request_arrived_on_the_wall_clock(x_app):
    _account, token = _x_account(x_app)
    _call(x_app, "POST", "/_sandbox/latency", json={"network": "x", "ms": 300})
    _call(x_app, "POST", "/_sandbox/clock", json={"advance_seconds": 3600})
    before = datetime.now(UTC)

    _tweet(x_app, token, "Ankomst")

    record = _call(x_app, "GET", "/_sandbox/published",
                   params={"network": "x"}).json()[-1]
    received = datetime.fromisoformat(record["received_at"])
    at = datetime.fromisoformat(record["at"])
    assert before <= received < before + timedelta(seconds=0.25)
    # ``at`` is the sandbox clock after the latency; received_at is neither.
    assert at - received >= timedelta(seconds=3600.3)


@pytest.mark.parametrize(("answer", "check"), [
    ("long_id", lambda data: data["id"] == "9" * 300),
    ("nul_id", lambda data: data["id"].endswith("\x00")),
    ("surrogate_id", lambda data: data["id"].endswith("\ud800")),
    ("missing_id", lambda data: "id" not in data),
    ("wrong_type_id", lambda data: isinstance(data["id"], dict)),
])
def test_a_hostile_answer_after_create_spoils_the_id_of_a_post_that_was_made(
    x_app, answer, check
):
    _account, token = _x_account(x_app)
    _call(x_app, "POST", "/_sandbox/faults", json={
        "network": "x", "kind": "hostile_after_create",
        "params": {"answer": answer}, "path": "/x/2/tweets"})
    made = _tweet(x_app, token, f"Fjendtligt svar {answer}")
    assert made.status_code == 201
    assert check(made.json()["data"])
    assert int(made.headers["content-length"]) == len(made.content)
    log = _call(x_app, "GET", "/_sandbox/published", params={"network": "x"}).json()
    assert [r["text"] for r in log].count(f"Fjendtligt svar {answer}") == 1


def test_a_hostile_answer_can_be_nested_deeper_than_a_parser_goes(x_app):
    _account, token = _x_account(x_app)
    _call(x_app, "POST", "/_sandbox/faults", json={
        "network": "x", "kind": "hostile_after_create",
        "params": {"answer": "deep"}, "path": "/x/2/tweets"})
    made = _tweet(x_app, token, "Dybt svar")
    assert made.status_code == 201
    with pytest.raises(RecursionError):
        made.json()


def test_a_hostile_answer_needs_to_say_how():
    with pytest.raises(FaultError):
        FaultInjector().add("x", "hostile_after_create")
    with pytest.raises(FaultError):
        FaultInjector().add("x", "hostile_after_create", params={"answer": "rude"})



def test_a_hostile_answer_can_give_every_address_a_chosen_text():
    body = json.dumps({"data": [{"id": "1", "url": "https://a.example/1",
                                 "permalink": "https://a.example/p"}],
                       "next": {"permalink_url": "https://a.example/n"}})
    status, _headers, spoiled = hostile_answer(
        "given_url", 200, [], [], body.encode(), url=" http://x")
    assert status == 200
    assert json.loads(spoiled) == {
        "data": [{"id": "1", "url": " http://x", "permalink": " http://x"}],
        "next": {"permalink_url": " http://x"}}
    with pytest.raises(FaultError):
        FaultInjector().add("x", "hostile_after_create",
                            params={"answer": "given_url"})
