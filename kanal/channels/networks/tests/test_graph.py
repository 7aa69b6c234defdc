import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from kanal.channels.networks import graph
from kanal.channels.networks.errors import (
    AuthExpired,
    Duplicate,
    QuotaExhausted,
    RateLimited,
    Rejected,
    TransientError,
)
from kanal.channels.networks.http import NetworkClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def envelope(code, subcode=None, status=400, headers=None, **extra):
    error = {"message": f"(#{code}) test", "type": "OAuthException", "code": code,
             "fbtrace_id": "AbC", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error}, headers=headers or {})


@pytest.mark.parametrize(
    ("code", "subcode", "status", "expected"),
    [
        (1, None, 500, TransientError),
        (2, None, 503, TransientError),
        (4, None, 403, RateLimited),
        (17, None, 400, RateLimited),
        (32, None, 400, RateLimited),
        (613, None, 400, RateLimited),
        (80001, None, 400, RateLimited),
        (80002, None, 400, RateLimited),
        (102, None, 401, AuthExpired),
        (190, 463, 400, AuthExpired),
        (10, None, 403, AuthExpired),
        (200, None, 403, AuthExpired),
        (299, None, 403, AuthExpired),
        (100, None, 400, Rejected),
        (368, None, 400, Rejected),
        (506, None, 400, Duplicate),
        (9, 2207042, 400, QuotaExhausted),
        (-2, 2207020, 400, Rejected),
        (-1, 2207001, 500, TransientError),
        (36000, 2207004, 400, Rejected),
        (9007, 2207027, 400, TransientError),
        (4, 2207051, 400, Rejected),
        (24, 2207008, 400, Rejected),
    ],
)
def test_each_graph_code_maps_to_its_kanal_error(code, subcode, status, expected):
    error = graph.translate(envelope(code, subcode, status), network="instagram")
    assert type(error) is expected
    assert error.http_status == status
    assert error.network == "instagram"
    assert error.network_code == (f"{code}/{subcode}" if subcode else code)
    assert error.network_message == f"(#{code}) test"


@pytest.mark.parametrize("subcode", range(458, 468))
def test_every_code_190_subcode_means_reconnect(subcode):
    assert isinstance(graph.translate(envelope(190, subcode)), AuthExpired)


def test_spam_restriction_is_not_treated_as_throttling():
    error = graph.translate(envelope(4, 2207051))
    assert not isinstance(error, TransientError)
    assert "spam" in error.message


def test_success_translates_to_none():
    assert graph.translate(httpx.Response(200, json={"id": "1"})) is None


def test_is_transient_flag_in_envelope_makes_unknown_code_retryable():
    error = graph.translate(envelope(12345, is_transient=True))
    assert type(error) is TransientError


def test_unknown_client_error_is_rejected_and_server_error_transient():
    assert type(graph.translate(envelope(12345))) is Rejected
    bare = httpx.Response(502, text="<html>bad gateway</html>")
    assert type(graph.translate(bare)) is TransientError


def test_bare_429_is_rate_limited():
    error = graph.translate(httpx.Response(429, text="slow down"))
    assert type(error) is RateLimited


def test_link_limit_error_names_the_limit_in_danish():
    response = httpx.Response(400, json={"error": {
        "message": "THREADS_API__LINK_LIMIT_EXCEEDED", "code": 100}})
    error = graph.translate(response)
    assert isinstance(error, Rejected)
    assert "højst 5" in error.message


def test_is_transient_accepts_envelope_dicts():
    assert graph.is_transient({"error": {"code": 2}})
    assert graph.is_transient({"code": 17})
    assert not graph.is_transient({"error": {"code": 100}})
    assert not graph.is_transient({"code": 4, "error_subcode": 2207051})
    assert graph.is_transient({"code": 100, "is_transient": True})
    assert not graph.is_transient(None)


def test_buc_header_gives_retry_after_in_seconds():
    buc = {"1234": [{"type": "pages", "call_count": 100, "total_cputime": 20,
                     "total_time": 30, "estimated_time_to_regain_access": 7}]}
    response = envelope(32, headers={"X-Business-Use-Case-Usage": json.dumps(buc)})
    error = graph.translate(response)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 420.0


def test_app_usage_over_100_percent_gives_default_wait():
    usage = {"call_count": 104, "total_cputime": 10, "total_time": 12}
    response = envelope(4, status=403, headers={"X-App-Usage": json.dumps(usage)})
    assert graph.usage_from_headers(response.headers) == graph.Usage(percent=104)
    assert graph.translate(response).retry_after == graph.DEFAULT_THROTTLE_SECONDS


def test_retry_after_header_wins_over_usage_headers():
    buc = {"1": [{"type": "instagram", "call_count": 100,
                  "estimated_time_to_regain_access": 60}]}
    response = envelope(80002, headers={
        "Retry-After": "12", "X-Business-Use-Case-Usage": json.dumps(buc)})
    assert graph.retry_hint(response) == 12.0


def test_usage_headers_below_limit_give_no_hint():
    response = httpx.Response(200, json={}, headers={
        "X-App-Usage": json.dumps({"call_count": 40})})
    assert graph.retry_hint(response) is None
    assert graph.usage_from_headers(response.headers).percent == 40


def test_garbled_usage_header_is_ignored():
    assert graph.usage_from_headers({"x-app-usage": "{not json"}) == graph.Usage()


def test_quota_error_carries_reset_time():
    error = graph.error_for(graph.GraphError(code=9, subcode=2207042),
                            retry_after=600, now=NOW)
    assert isinstance(error, QuotaExhausted)
    assert error.reset_at == NOW + timedelta(seconds=600)


def test_signature_matches_only_the_raw_body_and_secret():
    body = b'{"object":"instagram","entry":[]}'
    header = graph.sign("s3cret", body)
    assert header.startswith("sha256=")
    assert graph.verify_signature("s3cret", body, header)
    assert graph.verify_signature("s3cret", body, header.upper().replace("SHA", "sha"))
    assert not graph.verify_signature("other", body, header)
    assert not graph.verify_signature("s3cret", body + b" ", header)
    assert not graph.verify_signature("s3cret", body, None)
    assert not graph.verify_signature("s3cret", body, "sha1=" + header[7:])
    assert not graph.verify_signature("", body, header)


def test_hub_challenge_echoes_only_for_the_right_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok",
              "hub.challenge": "1158201444"}
    assert graph.hub_challenge(params, "tok") == "1158201444"
    assert graph.hub_challenge(params, "wrong") is None
    assert graph.hub_challenge({**params, "hub.mode": "x"}, "tok") is None


@respx.mock(base_url="https://graph.example/v1.0")
def test_refresh_long_lived_threads_token(respx_mock):
    route = respx_mock.get("/refresh_access_token").respond(
        json={"access_token": "new", "token_type": "bearer", "expires_in": 5183944})
    client = NetworkClient(network="threads", base_url="https://graph.example/v1.0")
    tokens = graph.refresh_long_lived(client, network="threads", token="old", now=NOW)
    assert route.calls.last.request.url.params["grant_type"] == "th_refresh_token"
    assert route.calls.last.request.url.params["access_token"] == "old"
    assert tokens.access_token == "new"
    assert tokens.expires_at == NOW + timedelta(seconds=5183944)
    assert tokens.extra["issued_at"] == NOW.isoformat()


@respx.mock(base_url="https://graph.example/v25.0")
def test_exchange_instagram_token_uses_ig_grant(respx_mock):
    route = respx_mock.get("/access_token").respond(
        json={"access_token": "long", "expires_in": 5184000})
    client = NetworkClient(network="instagram", base_url="https://graph.example/v25.0")
    tokens = graph.exchange_long_lived(client, network="instagram",
                                       client_secret="cs", short_token="short")
    params = route.calls.last.request.url.params
    assert params["grant_type"] == "ig_exchange_token"
    assert params["client_secret"] == "cs"
    assert tokens.access_token == "long"


@respx.mock(base_url="https://graph.example/v25.0")
def test_exchange_facebook_token(respx_mock):
    route = respx_mock.get("/oauth/access_token").respond(
        json={"access_token": "long", "expires_in": 5183944})
    client = NetworkClient(network="facebook", base_url="https://graph.example/v25.0")
    tokens = graph.exchange_facebook_token(
        client, client_id="id", client_secret="cs", short_token="short")
    assert route.calls.last.request.url.params["fb_exchange_token"] == "short"
    assert tokens.access_token == "long"


@respx.mock(base_url="https://graph.example/v1.0")
def test_refused_refresh_means_reconnect(respx_mock):
    respx_mock.get("/refresh_access_token").mock(return_value=envelope(100))
    client = NetworkClient(network="threads", base_url="https://graph.example/v1.0")
    with pytest.raises(AuthExpired):
        graph.refresh_long_lived(client, network="threads", token="old")


def test_refresh_allowed_only_after_24_hours():
    assert not graph.refresh_allowed(NOW - timedelta(hours=23), now=NOW)
    assert graph.refresh_allowed(NOW - timedelta(hours=24), now=NOW)
    assert graph.refresh_allowed(None, now=NOW)


def test_token_issued_at_prefers_stored_value_then_derives_from_expiry():
    stored = {"issued_at": "2026-11-01T00:00:00+00:00"}
    assert graph.token_issued_at(stored, None) == datetime(2026, 11, 1, tzinfo=UTC)
    expires = NOW + timedelta(days=59)
    assert graph.token_issued_at({}, expires) == NOW - timedelta(days=1)
    assert graph.token_issued_at({}, None) is None


def test_parse_time_reads_graph_and_iso_formats():
    expected = datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)
    assert graph.parse_time("2026-11-28T10:00:05+0000") == expected
    assert graph.parse_time("2026-11-28T11:00:05+01:00") == expected
    assert graph.parse_time("2026-11-28T10:00:05Z") == expected
    assert graph.parse_time("") is None
    assert graph.parse_time("i går") is None


def test_metric_value_reads_total_value_single_value_and_series():
    assert graph.metric_value({"total_value": {"value": 7}}) == 7
    assert graph.metric_value({"values": [{"value": 3}]}) == 3
    assert graph.metric_value({"values": [{"value": 3}, {"value": 4}]}) == 7
    assert graph.metric_value({"values": []}) is None
    assert graph.metric_value({}) is None


def _item(remote_id, second, author="borger"):
    from kanal.channels.networks.base import InboxItem

    return InboxItem(remote_id=remote_id, kind="comment", author_id=author,
                     author_name=author, text=remote_id,
                     created_at=NOW + timedelta(seconds=second))


def test_inbox_cursor_keeps_items_that_share_the_last_second():
    first = graph.inbox_page([_item("a", 0), _item("b", 1)], None)
    assert [i.remote_id for i in first.items] == ["a", "b"]
    # "c" arrives in the same second as "b": it must not be lost.
    second = graph.inbox_page([_item("a", 0), _item("b", 1), _item("c", 1)],
                              first.cursor)
    assert [i.remote_id for i in second.items] == ["c"]
    third = graph.inbox_page([_item("b", 1), _item("c", 1)], second.cursor)
    assert third.items == ()
    assert third.cursor == second.cursor


def test_inbox_page_leaves_out_the_account_itself():
    page = graph.inbox_page([_item("a", 0, "kommunen"), _item("b", 1)], None,
                            own_handle="kommunen")
    assert [i.remote_id for i in page.items] == ["b"]
