"""The control API refuses other origins and non-loopback hosts, and answers
every malformed body with a clear 400 (issue 10, finding 13)."""

import asyncio

import httpx
import pytest

from sandbox.app import create_app
from sandbox.control import is_loopback_host
from sandbox.core import SandboxConfig

BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    path = tmp_path_factory.mktemp("control") / "s.sqlite3"
    return create_app(SandboxConfig(db_path=str(path), seed=3))


def call(app, method, path, *, base=BASE, **kwargs):
    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(run())


#: Every state-changing control route and a body it accepts.
ROUTES = [
    ("POST", "/_sandbox/faults", {"network": "x", "kind": "rate_limit"}),
    ("DELETE", "/_sandbox/faults", {"network": "x"}),
    ("POST", "/_sandbox/latency", {"network": "x", "ms": 0}),
    ("POST", "/_sandbox/reset", {}),
    ("POST", "/_sandbox/accounts", {"network": "x", "followers": 5}),
    ("POST", "/_sandbox/citizens/item", {"network": "x", "text": "Hej"}),
    ("POST", "/_sandbox/citizens/tick", {"actions": 1, "seed": 1}),
    ("POST", "/_sandbox/clock", {"advance_seconds": 1}),
    ("POST", "/_sandbox/metrics", {"network": "x", "subject_id": "1", "name": "m"}),
    ("POST", "/_sandbox/tokens/expire", {"network": "x", "token": "nope"}),
    (
        "POST",
        "/_sandbox/webhooks",
        {"network": "facebook", "url": "http://127.0.0.1:9/hook"},
    ),
]
MALFORMED_JSON = [b"{", b"{'a': 1}", b"[1, 2", b"\xff\xfe", b"nul", b'{"a": NaN']
WRONG_SHAPES = [b"[]", b"[1, 2]", b'"text"', b"12", b"null", b"true"]


@pytest.mark.parametrize("method,path,good", ROUTES, ids=[r[1] for r in ROUTES])
def test_every_route_answers_malformed_bodies_with_400(app, method, path, good):
    for raw in MALFORMED_JSON + WRONG_SHAPES:
        answer = call(
            app, method, path, content=raw,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 400, (path, raw, answer.text)
        assert answer.json()["error"]
    answer = call(app, method, path, content=b"network=x", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]


WRONG_TYPES = {
    "/_sandbox/faults": [
        {"network": 1, "kind": "rate_limit"},
        {"network": "x", "kind": ["rate_limit"]},
        {"network": "x", "kind": "rate_limit", "count": "many"},
        {"network": "x", "kind": "rate_limit", "count": 10**30},
        {"network": "x", "kind": "rate_limit", "probability": "half"},
        {"network": "x", "kind": "rate_limit", "probability": 7},
        {"network": "x", "kind": "rate_limit", "delay_ms": -1},
        {"network": "x", "kind": "rate_limit", "params": [1]},
        {"network": "x", "kind": "no_such_kind"},
        {"network": "x"},
        {"kind": "rate_limit"},
    ],
    "/_sandbox/latency": [{"ms": "slow"}, {"ms": 1.5}, {"ms": -5}, {"network": 3}],
    "/_sandbox/accounts": [
        {},
        {"network": ["x"]},
        {"network": "x", "followers": "many"},
        {"network": "x", "followers": -1},
        {"network": "x", "extra": "x"},
        {"network": "x", "expires_in": "soon"},
        {"network": "x", "display_name": 5},
        {"network": "myspace"},
    ],
    "/_sandbox/citizens/item": [
        {},
        {"network": "x"},
        {"network": "x", "text": 5},
        {"network": "x", "text": "Hej", "data": "x"},
        {"network": "x", "text": "Hej", "parent_id": ["p"]},
        {"network": "x", "text": "Hej", "author_name": {"a": 1}},
    ],
    "/_sandbox/citizens/tick": [
        {"actions": "many"},
        {"actions": -1},
        {"seed": "x"},
        {"networks": "x"},
        {"networks": [1, 2]},
        {"hours": "long"},
        {"unknown_option": 1},
    ],
    "/_sandbox/clock": [
        {"advance_seconds": "later"},
        {"advance_seconds": 1e300},
        {"reset": "yes"},
    ],
    "/_sandbox/metrics": [
        {"network": "x", "subject_id": "1"},
        {"network": "x", "subject_id": "1", "name": "m", "value": "5"},
        {"network": "x", "subject_id": "1", "name": "m", "delta": 2**80},
        {"network": "x", "subject_id": {"a": 1}, "name": "m"},
    ],
    "/_sandbox/tokens/expire": [{}, {"network": "x"}, {"network": "x", "token": 5}],
    "/_sandbox/webhooks": [
        {"network": "facebook"},
        {"network": "facebook", "url": 5},
        {"network": "facebook", "url": "javascript:alert(1)"},
        {"network": "facebook", "url": "http://127.0.0.1:9/", "verify_token": 1},
    ],
}


@pytest.mark.parametrize("path", sorted(WRONG_TYPES))
def test_wrong_types_and_missing_fields_are_400_with_the_field_named(app, path):
    for body in WRONG_TYPES[path]:
        answer = call(app, "POST", path, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["error"], (path, body)


def test_bad_query_values_are_400(app):
    assert call(app, "GET", "/_sandbox/items?network=x&limit=lots").status_code == 400
    assert call(app, "GET", "/_sandbox/items?network=x&limit=0").status_code == 400


@pytest.mark.parametrize("method,path,good", ROUTES, ids=[r[1] for r in ROUTES])
def test_good_bodies_still_work(app, method, path, good):
    answer = call(app, method, path, json=good)
    if path == "/_sandbox/webhooks":
        assert answer.status_code == 400  # nobody answers the challenge on :9
        assert answer.json() == {"verified": False}
    else:
        assert answer.status_code in (200, 201), (path, answer.text)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1:8000"},  # Kanal itself: another origin
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:8765"},
    ],
)
def test_state_changing_requests_from_other_origins_are_refused(app, headers):
    for method, path, good in ROUTES:
        answer = call(app, method, path, json=good, headers=headers)
        assert answer.status_code == 403, (path, headers)
    # A simple form post from a page (no preflight) is refused as well.
    answer = call(
        app, "POST", "/_sandbox/reset", content=b"x=1",
        headers={**headers, "Content-Type": "text/plain"},
    )
    assert answer.status_code == 403


def test_the_sandbox_own_pages_and_scripts_may_still_post(app):
    same = call(
        app, "POST", "/_sandbox/clock", json={},
        headers={"Origin": BASE, "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert call(app, "POST", "/_sandbox/clock", json={}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "10.0.0.5"])
def test_a_foreign_host_header_is_refused_dns_rebinding(app, host):
    answer = call(app, "GET", "/_sandbox/accounts", headers={"Host": host})
    assert answer.status_code == 403
    answer = call(app, "POST", "/_sandbox/reset", headers={"Host": host})
    assert answer.status_code == 403


def test_loopback_host_names():
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "127.0.0.2"):
        assert is_loopback_host(host), host
    for host in ("evil.example", "0.0.0.0:8765", "[::]:1", "192.168.1.2", ""):
        assert not is_loopback_host(host), host


def test_the_network_emulators_are_not_affected(app):
    answer = call(app, "GET", "/_sandbox/", headers={"Origin": "https://x.example"})
    assert answer.status_code == 200  # reads are not state changes


def test_items_page_back_with_before_so_nothing_is_truncated(tmp_path):
    fresh = create_app(SandboxConfig(db_path=str(tmp_path / "p.sqlite3"), seed=3))
    for n in range(5):
        made = call(fresh, "POST", "/_sandbox/citizens/item",
                    json={"network": "mastodon", "text": f"Side {n}"})
        assert made.status_code < 300, made.text
    seen, before = [], None
    while True:
        query = "/_sandbox/items?network=mastodon&limit=2"
        if before is not None:
            query += f"&before={before}"
        page = call(fresh, "GET", query).json()
        seen += [item["text"] for item in page]
        if len(page) < 2:
            break
        before = min(item["seq"] for item in page)
    everything = call(fresh, "GET", "/_sandbox/items?network=mastodon&limit=10000")
    assert len(seen) == len(everything.json()) > 5
    mine = sorted(text for text in seen if text.startswith("Side "))
    assert mine == [f"Side {n}" for n in range(5)]
    assert call(fresh, "GET", "/_sandbox/items?network=x&before=nu").status_code == 400
