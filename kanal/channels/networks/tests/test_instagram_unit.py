"""Instagram adapter details that the emulator does not reach (respx)."""

import httpx
import pytest
import respx

from kanal.channels.networks.base import Connection
from kanal.channels.networks.errors import TransientError
from kanal.channels.networks.instagram import InstagramAdapter

BASE = "https://graph.example/v25.0"


def adapter():
    return InstagramAdapter(Connection(
        network="instagram", base_url=BASE, account_id="178",
        credentials={"access_token": "tok"}))


@respx.mock(base_url=BASE)
def test_empty_insights_give_no_metric_rather_than_zero(respx_mock):
    respx_mock.get("/178").respond(json={"followers_count": 10, "id": "178"})
    respx_mock.get("/178/insights").respond(json={"data": []})
    respx_mock.get("/55/insights").respond(json={"data": []})
    snapshot = adapter().fetch_metrics(("55",))
    assert [m.name for m in snapshot.account] == ["followers_count"]
    assert snapshot.posts == {"55": ()}


@respx.mock(base_url=BASE)
def test_token_goes_in_the_authorization_header_not_in_the_url(respx_mock):
    route = respx_mock.get("/178").respond(json={"id": "178", "username": "kk"})
    adapter().verify()
    request = route.calls.last.request
    assert "access_token" not in request.url.params
    assert "tok" not in str(request.url)
    assert request.headers["authorization"] == "Bearer tok"


@respx.mock(base_url=BASE)
def test_answer_that_is_not_json_is_transient(respx_mock):
    respx_mock.get("/178").respond(200, text="<html>")
    with pytest.raises(TransientError):
        adapter().verify()


@respx.mock(base_url=BASE)
def test_metrics_ask_only_for_current_metric_names(respx_mock):
    respx_mock.get("/178").respond(json={"followers_count": 1})
    account = respx_mock.get("/178/insights").respond(json={"data": []})
    media = respx_mock.get("/9/insights").respond(json={"data": [
        {"name": "views", "period": "lifetime", "values": [{"value": 5}]}]})
    snapshot = adapter().fetch_metrics(("9",))
    asked = media.calls.last.request.url.params["metric"].split(",")
    assert asked == ["views", "reach", "likes", "comments", "saved", "shares",
                     "total_interactions"]
    assert account.calls.last.request.url.params["metric_type"] == "total_value"
    assert [(m.name, m.value, m.kind) for m in snapshot.posts["9"]] == [
        ("views", 5, "views")]


@respx.mock(base_url=BASE)
def test_rate_limit_headers_reach_the_error(respx_mock):
    respx_mock.get("/178").mock(return_value=httpx.Response(
        400, headers={"X-Business-Use-Case-Usage":
                      '{"178":[{"type":"instagram","call_count":100,'
                      '"estimated_time_to_regain_access":3}]}'},
        json={"error": {"code": 80002, "message": "too many calls"}}))
    with pytest.raises(TransientError) as caught:
        adapter().verify()
    assert caught.value.retry_after == 180


def test_real_hosts_send_people_to_the_network_login_pages():
    from kanal.channels.networks.threads import ThreadsAdapter

    instagram = InstagramAdapter(Connection(
        network="instagram", base_url="https://graph.instagram.com/v25.0",
        credentials={"client_id": "app"}))
    url = instagram.authorization_url(redirect_uri="https://kanal.kk.dk/cb",
                                      state="xyz")
    assert url.startswith("https://www.instagram.com/oauth/authorize?")
    assert "client_id=app" in url and "state=xyz" in url
    assert instagram._oauth_url(1) == "https://api.instagram.com/oauth/access_token"
    threads = ThreadsAdapter(Connection(
        network="threads", base_url="https://graph.threads.net/v1.0"))
    assert threads.authorization_url(redirect_uri="https://k/cb", state="s") \
        .startswith("https://threads.net/oauth/authorize?")
    assert threads.token_root == "https://graph.threads.net"


@respx.mock
def test_refresh_calls_the_unversioned_endpoint(respx_mock):
    route = respx_mock.get("https://graph.instagram.com/refresh_access_token") \
        .respond(json={"access_token": "ny", "expires_in": 5184000})
    old = InstagramAdapter(Connection(
        network="instagram", base_url="https://graph.instagram.com/v25.0",
        credentials={"access_token": "gammel",
                     "issued_at": "2026-01-01T00:00:00+00:00"}))
    assert old.refresh_token().access_token == "ny"
    assert route.calls.last.request.url.params["grant_type"] == "ig_refresh_token"


@respx.mock(base_url=BASE)
def test_publish_refused_because_a_lost_attempt_published_it_returns_that_post(
    respx_mock,
):
    # Resume check, wait, and the check after the refusal.
    statuses = iter(["FINISHED", "FINISHED", "PUBLISHED"])
    respx_mock.get("/c1").mock(side_effect=lambda request: httpx.Response(
        200, json={"id": "c1", "status_code": next(statuses)}))
    respx_mock.get("/178/content_publishing_limit").respond(json={"data": [
        {"quota_usage": 1, "config": {"quota_total": 100,
                                      "quota_duration": 86400}}]})
    respx_mock.post("/178/media_publish").respond(400, json={"error": {
        "code": 100, "error_subcode": 2207006,
        "message": "The media container has already been published."}})
    respx_mock.get("/178/media").respond(json={"data": [
        {"id": "m9", "caption": "Havnebadet åbner", "permalink": "https://www.instagram.com/p/m9/",
         "timestamp": "2026-11-28T10:00:00+0000"}]})
    from kanal.channels.networks.base import OutgoingPost

    saved = {}
    result = adapter().publish(
        OutgoingPost(text="Havnebadet åbner"), idempotency_key="k",
        checkpoint={"container_id": "c1"}, on_checkpoint=saved.update)
    assert (result.remote_id, result.url) == ("m9", "https://www.instagram.com/p/m9/")
    assert saved["media_id"] == "m9"


def test_facebook_login_accounts_are_not_refreshed_here():
    from kanal.channels.networks.errors import NotSupported

    page_login = InstagramAdapter(Connection(
        network="instagram", base_url="https://graph.facebook.com/v25.0",
        credentials={"access_token": "page"}))
    with pytest.raises(NotSupported) as caught:
        page_login.refresh_token()
    assert "Facebook-login" in caught.value.message
