"""Facebook and Instagram send the Page token in the Authorization header:
a token in the URL ends up in proxy, web server and error logs."""

import pytest
import respx

from kanal.channels.networks.base import Connection
from kanal.channels.networks.facebook import FacebookAdapter
from kanal.channels.networks.instagram import InstagramAdapter

BASE = "https://graph.example/v25.0"
TOKEN = "EAAG-page-token-secret"


def _assert_header_only(route):
    assert route.calls, "the adapter made no call"
    for call in route.calls:
        request = call.request
        assert TOKEN not in str(request.url)
        assert "access_token" not in request.url.params
        assert request.headers["authorization"] == f"Bearer {TOKEN}"


@respx.mock(base_url=BASE)
def test_facebook_reads_and_writes_carry_the_token_in_the_header(respx_mock):
    page = respx_mock.get("/42").respond(
        json={"id": "42", "name": "KK", "username": "kk", "followers_count": 3}
    )
    feed = respx_mock.post("/42/feed").respond(json={"id": "42_7"})
    permalink = respx_mock.get("/42_7").respond(
        json={"id": "42_7", "permalink_url": "https://www.facebook.com/42/posts/7"}
    )
    adapter = FacebookAdapter(Connection(
        network="facebook", base_url=BASE, account_id="42",
        credentials={"access_token": TOKEN}))
    adapter.verify()
    adapter.publish(_post(), idempotency_key="k1")
    for route in (page, feed, permalink):
        _assert_header_only(route)


@respx.mock(base_url=BASE)
def test_facebook_page_token_exchange_sends_the_user_token_in_the_header(
    respx_mock,
):
    accounts = respx_mock.get("/me/accounts").respond(json={"data": [
        {"id": "42", "name": "KK", "access_token": "page-token"}]})
    adapter = FacebookAdapter(Connection(
        network="facebook", base_url=BASE, account_id="42",
        credentials={"access_token": TOKEN}))
    from kanal.channels.networks.base import TokenSet

    tokens = adapter._page_tokens(TokenSet(TOKEN))
    assert tokens.access_token == "page-token"
    _assert_header_only(accounts)


@respx.mock(base_url=BASE)
def test_instagram_carries_the_token_in_the_header(respx_mock):
    route = respx_mock.get("/178").respond(json={"id": "178", "username": "kk"})
    InstagramAdapter(Connection(
        network="instagram", base_url=BASE, account_id="178",
        credentials={"access_token": TOKEN})).verify()
    _assert_header_only(route)


def _post():
    from kanal.channels.networks.base import OutgoingPost

    return OutgoingPost(text="Godmorgen København")


@pytest.mark.parametrize(
    "header",
    [
        "sha256=æøå",
        "sha256=\u00e9" * 3,
        "sha256=ｆｆ",
        "sha256=" + "\U0001f600" * 32,
        "SHA256=ÿ",
    ],
)
def test_a_non_ascii_signature_header_is_refused_not_raised(header):
    from kanal.channels.networks.graph import sign, verify_signature

    body = b'{"entry": []}'
    assert verify_signature("app-secret", body, header) is False
    assert verify_signature("app-secret", body, sign("app-secret", body)) is True
