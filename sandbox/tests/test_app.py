import asyncio
import io

import httpx
import pytest
from PIL import Image

from sandbox.__main__ import is_loopback, serve
from sandbox.app import create_app
from sandbox.core import SandboxConfig
from sandbox.seed import DEMO_ACCOUNTS


@pytest.fixture
def app(tmp_path):
    return create_app(SandboxConfig(db_path=str(tmp_path / "s.sqlite3"),
                                    networks=("facebook",), seed=3))


def call(app, method, path, **kwargs):
    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://127.0.0.1:8765") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(run())


def test_fresh_database_has_the_demo_accounts_of_all_seven_networks(app):
    accounts = app.state.ctx.store.list_accounts()
    assert {(a.network, a.followers) for a in accounts} >= {
        ("facebook", 43000), ("instagram", 6000), ("x", 2900)}
    assert len(accounts) == 7 == len(DEMO_ACCOUNTS)
    token = app.state.ctx.store.get_token("facebook",
                                          "sandbox-facebook-page-token-kk")
    assert token.expires_at is None and token.account_id == "104738291045678"


def test_faults_are_queued_listed_and_cleared(app):
    made = call(app, "POST", "/_sandbox/faults",
                json={"network": "facebook", "kind": "rate_limit", "count": 2})
    assert made.status_code == 201
    assert call(app, "GET", "/_sandbox/faults").json()[0]["count"] == 2
    bad = call(app, "POST", "/_sandbox/faults",
               json={"network": "facebook", "kind": "gremlins"})
    assert bad.status_code == 400
    assert call(app, "DELETE", "/_sandbox/faults").json() == {"cleared": 1}


def test_reset_wipes_provisioned_accounts_and_reseeds(app):
    made = call(app, "POST", "/_sandbox/accounts",
                json={"network": "facebook", "followers": 12}).json()
    assert made["tokens"]["access_token"]
    assert len(call(app, "GET", "/_sandbox/accounts?network=facebook").json()) == 2
    call(app, "POST", "/_sandbox/clock", json={"advance_seconds": 3600})
    call(app, "POST", "/_sandbox/reset")
    accounts = call(app, "GET", "/_sandbox/accounts?network=facebook").json()
    assert [a["account_id"] for a in accounts] == ["104738291045678"]
    assert app.state.ctx.clock.offset_seconds == 0


def test_provisioning_an_unmounted_network_is_refused(app):
    answer = call(app, "POST", "/_sandbox/accounts", json={"network": "myspace"})
    assert answer.status_code == 400


def test_citizen_comment_on_a_post_and_reply_to_it(app):
    store = app.state.ctx.store
    store.add_item("facebook", "104738291045678", "104738291045678_1", "post",
                   text="Opslag")
    comment = call(app, "POST", "/_sandbox/citizens/item", json={
        "network": "facebook", "parent_id": "104738291045678_1",
        "text": "Tak!", "author_name": "Mette"}).json()
    reply = call(app, "POST", "/_sandbox/citizens/item", json={
        "network": "facebook", "parent_id": comment["item_id"], "text": "Enig"}).json()
    assert (comment["kind"], comment["root_id"]) == ("comment", "104738291045678_1")
    assert (reply["kind"], reply["root_id"]) == ("reply", "104738291045678_1")
    assert reply["account_id"] == "104738291045678"
    assert call(app, "GET", f"/_sandbox/items/facebook/{reply['item_id']}"
                ).json()["text"] == "Enig"


def test_clock_moves_forward(app):
    answer = call(app, "POST", "/_sandbox/clock", json={"advance_seconds": 90})
    assert answer.json()["clock_offset_seconds"] == 90


def test_index_and_account_page_render(app):
    index = call(app, "GET", "/")
    assert index.status_code == 200
    assert "/_sandbox/page/facebook/104738291045678" in index.text
    page = call(app, "GET", "/_sandbox/page/facebook/104738291045678")
    assert page.status_code == 200
    assert "Københavns Kommune" in page.text
    assert call(app, "GET", "/_sandbox/page/facebook/nobody").status_code == 404


def test_sample_images_are_real_images(app):
    answer = call(app, "GET", "/_sandbox/media/portrait.jpg")
    assert answer.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(answer.content)).size == (1080, 1350)
    assert call(app, "GET", "/_sandbox/media/huge.jpg").status_code == 404


def test_only_loopback_hosts_are_served():
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.10")
    with pytest.raises(SystemExit):
        serve(host="0.0.0.0", port=8765, db=":memory:")
