"""X reads posts back in batches (``GET /2/tweets?ids=``, up to 100 ids a
request): an id X names in a "Not Found Error" is gone; an id left out for any
other reason (a partial error, no word at all) is no conclusion."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from kanal.channels.networks.errors import RateLimited, TransientError

from .test_x_adapter import API, make_adapter

PROBLEMS = "https://api.x.com/2/problems/"


def _not_found(tweet_id: str) -> dict:
    return {"value": tweet_id, "detail": f"Could not find tweet with ids: "
            f"[{tweet_id}].", "title": "Not Found Error", "resource_type": "tweet",
            "parameter": "ids", "resource_id": tweet_id,
            "type": PROBLEMS + "resource-not-found"}


def _not_authorized(tweet_id: str) -> dict:
    return {"value": tweet_id, "detail": "Sorry, you are not authorized to see "
            f"the Post with ids: [{tweet_id}].", "title": "Authorization Error",
            "resource_type": "tweet", "parameter": "ids", "resource_id": tweet_id,
            "type": PROBLEMS + "not-authorized-for-resource"}


def _tweet(tweet_id: str, text: str, history: list[str] | None = None) -> dict:
    return {"id": tweet_id, "text": text, "created_at": "2026-12-07T10:00:00.000Z",
            "edit_history_tweet_ids": history or [tweet_id]}


def _asked(route, index: int) -> list[str]:
    query = parse_qs(urlsplit(str(route.calls[index].request.url)).query)
    return query["ids"][0].split(",")


def _lookup_answer(tweets: dict[str, dict], errors_for: dict[str, dict]):
    """A lookup answering each asked id from ``tweets``, else its error."""

    def answer(request):
        ids = parse_qs(urlsplit(str(request.url)).query)["ids"][0].split(",")
        body: dict = {"data": [tweets[i] for i in ids if i in tweets]}
        errors = [errors_for[i] for i in ids if i not in tweets and i in errors_for]
        if errors:
            body["errors"] = errors
        if not body["data"]:
            del body["data"]
        return httpx.Response(200, json=body)

    return answer


@respx.mock
def test_a_batch_of_150_ids_is_two_requests_of_100_and_50():
    ids = [str(1900000000000000000 + n) for n in range(150)]
    route = respx.get(f"{API}/2/tweets").mock(side_effect=_lookup_answer(
        {i: _tweet(i, f"Svar {i}") for i in ids}, {}))
    states = make_adapter().read_posts(ids)
    assert route.call_count == 2
    assert [len(_asked(route, 0)), len(_asked(route, 1))] == [100, 50]
    assert _asked(route, 0) + _asked(route, 1) == ids
    assert sorted(states) == sorted(ids)
    assert not any(state.gone for state in states.values())
    assert states[ids[149]].text == f"Svar {ids[149]}"


@respx.mock
def test_only_x_not_found_error_is_gone_and_a_partial_error_leaves_the_id_out():
    live, deleted, protected, silent = "1901", "1902", "1903", "1904"
    route = respx.get(f"{API}/2/tweets").mock(side_effect=_lookup_answer(
        {live: _tweet(live, "Hvornår åbner badet? &amp; saunaen")},
        {deleted: _not_found(deleted), protected: _not_authorized(protected)}))
    states = make_adapter().read_posts([live, deleted, protected, silent])
    assert route.call_count == 1
    assert _asked(route, 0) == [live, deleted, protected, silent]
    assert states[live].text == "Hvornår åbner badet? & saunaen"
    assert not states[live].gone
    assert states[deleted].gone
    # Neither a partial error nor silence is a deletion, or any answer at all.
    assert protected not in states
    assert silent not in states


@respx.mock
def test_a_not_found_error_for_an_id_not_asked_for_proves_nothing():
    asked = "1911"
    route = respx.get(f"{API}/2/tweets").mock(return_value=httpx.Response(
        200, json={"errors": [_not_found("1999"),
                              {**_not_found(asked), "parameter": "entities.id"}]}))
    assert make_adapter().read_posts([asked]) == {}
    assert route.call_count == 1


@respx.mock
def test_edited_posts_are_read_at_their_newest_versions_in_one_more_request():
    first, second, edited_a, edited_b = "1921", "1922", "1931", "1932"
    route = respx.get(f"{API}/2/tweets").mock(side_effect=_lookup_answer(
        {first: _tweet(first, "Første tekst", [first, edited_a]),
         second: _tweet(second, "Anden tekst", [second, edited_b]),
         edited_a: _tweet(edited_a, "Rettet tekst", [first, edited_a])},
        {edited_b: _not_found(edited_b)}))
    states = make_adapter().read_posts([first, second])
    assert route.call_count == 2
    assert sorted(_asked(route, 1)) == [edited_a, edited_b]
    assert states[first].text == "Rettet tekst"
    assert states[first].current_id == edited_a
    assert states[first].edited_at is not None
    assert states[second].gone  # deleting an edited post deletes every version


@respx.mock
def test_a_failed_batch_raises_and_is_never_gone():
    respx.get(f"{API}/2/tweets").mock(return_value=httpx.Response(
        429, json={"title": "Too Many Requests", "type": "about:blank",
                   "status": 429, "detail": "Too Many Requests"},
        headers={"x-rate-limit-reset": "1999999999"}))
    with pytest.raises(RateLimited):
        make_adapter().read_posts(["1941", "1942"])


@respx.mock
def test_read_post_of_one_id_uses_the_lookup_and_raises_when_x_says_nothing():
    route = respx.get(f"{API}/2/tweets").mock(return_value=httpx.Response(
        200, json={"errors": [_not_authorized("1951")]}))
    with pytest.raises(TransientError):
        make_adapter().read_post("1951")
    assert _asked(route, 0) == ["1951"]
