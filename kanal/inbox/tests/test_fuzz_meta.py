"""Fuzzing the webhook parser: whatever a client sends, it answers 200 or a
clear 4xx, and the parser raises nothing but ``Malformed``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kanal.inbox import intake, meta
from kanal.inbox.models import WebhookDelivery

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["page", "instagram", "feed", "comment", "add", "edited",
                     "remove", "messaging", "comments", "replies", "mentions"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["object", "entry", "id", "time", "changes", "field",
                         "value", "from", "message", "verb", "item", "post_id",
                         "comment_id", "parent_id", "messaging", "sender",
                         "mid", "text", "values", "target_id", "media",
                         "created_time", "timestamp"]) | st.text(max_size=5),
        children, max_size=6),
    max_leaves=30,
)
shaped = st.fixed_dictionaries({
    "object": st.sampled_from(["page", "instagram", "x"]),
    "entry": st.lists(st.fixed_dictionaries({
        "id": scalars, "time": scalars,
        "changes": st.lists(st.fixed_dictionaries({
            "field": st.sampled_from(["feed", "mention", "comments"]),
            "value": json_values}), max_size=3),
        "messaging": json_values,
    }), max_size=3),
})


@given(network=st.sampled_from(["facebook", "instagram", "threads"]),
       data=st.one_of(json_values, shaped))
@settings(max_examples=400, deadline=None)
def test_the_parser_reads_any_json_or_says_malformed(network, data):
    body = json.dumps(data).encode()
    try:
        parsed = meta.loads(body)
    except meta.Malformed:
        return
    events, skipped = meta.events(network, parsed, now=NOW)
    for event in events:
        assert event.item.remote_id
        assert event.item.kind in {"comment", "reply", "mention", "message"}
        assert event.at.tzinfo is not None
    assert all(isinstance(reason, str) for reason in skipped)


@given(body=st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_loads_takes_any_bytes(body):
    try:
        assert isinstance(meta.loads(body), dict)
    except meta.Malformed as e:
        assert e.reason in {"invalid_json", "not_an_object", "too_deep"}


@pytest.mark.django_db
@given(data=st.one_of(shaped, json_values), raw=st.binary(max_size=100))
@settings(max_examples=60, deadline=None,
          # (too_slow as in the suite's profile, conftest.py: this list
          # replaces the profile's.)
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
def test_the_endpoint_and_the_worker_never_fail_on_signed_input(
    post_webhook, facebook_channel, data, raw
):
    for body in (json.dumps(data).encode(), raw):
        response = post_webhook("facebook", body)
        # (The test client drops the content type of an empty body: 415.)
        assert response.status_code in {200, 400, 415}
    intake.process_deliveries()
    assert not WebhookDelivery.objects.filter(status="pending").exists()


@pytest.mark.parametrize("extra_depth, refused", [(0, False), (1, True)])
def test_depth_is_refused_one_past_the_bound_even_with_few_openers(
        extra_depth, refused):
    """The object itself is depth 1: MAX_DEPTH levels are read, one more is
    refused, whether or not the body has many other braces."""
    levels = meta.MAX_DEPTH - 1 + extra_depth
    body = ('{"a":' + '[' * levels + "1" + ']' * levels + "}").encode()
    if refused:
        with pytest.raises(meta.Malformed) as e:
            meta.loads(body)
        assert e.value.reason == "too_deep"
    else:
        assert meta.loads(body)


def test_braces_inside_strings_do_not_make_a_shallow_body_deep():
    body = json.dumps({"object": "page", "text": "{[" * 500}).encode()
    assert meta.loads(body)["text"] == "{[" * 500
