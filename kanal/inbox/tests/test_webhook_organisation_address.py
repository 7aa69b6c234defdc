"""``/webhooks/<network>/<organisation>/`` tells no caller without the app
secret (or the verify token) whether an organisation exists: every check of
the request comes before the organisation is looked up (T3-9)."""

from __future__ import annotations

import pytest

from kanal.inbox.models import WebhookDelivery

from .conftest import fb_comment

pytestmark = pytest.mark.django_db

UNKNOWN = "/webhooks/facebook/findes-ikke/"


def _known(organisation):
    return f"/webhooks/facebook/{organisation.slug}/"


def _unsigned(post_webhook, path, **kwargs):
    return post_webhook("facebook", fb_comment(), signature=False, path=path,
                        **kwargs)


@pytest.mark.parametrize("kwargs", [
    {},  # no signature
    {"content_type": "text/plain"},  # the wrong content type first
])
def test_an_unsigned_request_gets_the_same_answer_for_any_organisation(
    post_webhook, organisation, kwargs
):
    known = _unsigned(post_webhook, _known(organisation), **kwargs)
    unknown = _unsigned(post_webhook, UNKNOWN, **kwargs)
    assert known.status_code in (403, 415)
    assert (unknown.status_code, unknown.json()) == (known.status_code,
                                                     known.json())
    assert not WebhookDelivery.objects.exists()


def test_a_wrong_signature_gets_the_same_answer_for_any_organisation(
    post_webhook, organisation
):
    known = post_webhook("facebook", fb_comment(), secret="gættet",
                         path=_known(organisation))
    unknown = post_webhook("facebook", fb_comment(), secret="gættet", path=UNKNOWN)
    assert known.status_code == unknown.status_code == 403
    assert known.json() == unknown.json()


def test_a_body_too_big_gets_the_same_answer_for_any_organisation(
    post_webhook, organisation, settings
):
    settings.KANAL_WEBHOOK_MAX_BYTES = 50
    known = _unsigned(post_webhook, _known(organisation))
    unknown = _unsigned(post_webhook, UNKNOWN)
    assert known.status_code == unknown.status_code == 413
    assert known.json() == unknown.json()


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_another_method_gets_the_same_answer_for_any_organisation(
    client, organisation, method
):
    known = client.generic(method, _known(organisation))
    unknown = client.generic(method, UNKNOWN)
    assert known.status_code == unknown.status_code == 405
    assert known.json() == unknown.json()


def test_a_subscription_check_with_a_wrong_token_is_the_same_for_any_organisation(
    client, organisation, settings
):
    settings.KANAL_META_VERIFY_TOKEN = "hemmeligt"
    query = {"hub.mode": "subscribe", "hub.verify_token": "forkert",
             "hub.challenge": "1158201444"}
    known = client.get(_known(organisation), query)
    unknown = client.get(UNKNOWN, query)
    assert known.status_code == unknown.status_code == 403
    assert known.json() == unknown.json()


def test_an_unsigned_request_never_reads_the_database(
    post_webhook, organisation, django_assert_num_queries
):
    """Same timing class: an unsigned request for a known organisation does
    no lookup an unknown one would not (none at all)."""
    with django_assert_num_queries(0):
        _unsigned(post_webhook, _known(organisation))
        _unsigned(post_webhook, UNKNOWN)


def test_a_signed_request_for_an_unknown_organisation_is_404_and_not_kept(
    post_webhook, organisation
):
    response = post_webhook("facebook", fb_comment(), path=UNKNOWN)
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_organisation"
    assert not WebhookDelivery.objects.exists()


def test_a_signed_request_for_a_known_organisation_is_kept_for_it(
    post_webhook, organisation
):
    response = post_webhook("facebook", fb_comment(), path=_known(organisation))
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().organisation_id == organisation.pk


def test_a_subscription_check_names_no_unknown_organisation(
    client, organisation, settings
):
    settings.KANAL_META_VERIFY_TOKEN = "hemmeligt"
    query = {"hub.mode": "subscribe", "hub.verify_token": "hemmeligt",
             "hub.challenge": "1158201444"}
    assert client.get(_known(organisation), query).content == b"1158201444"
    assert client.get(UNKNOWN, query).status_code == 404
