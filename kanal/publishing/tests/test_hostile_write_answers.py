"""Per network, through the engine and the sandbox: a post the network made
but answered with a hostile body (an id too long to keep, with a NUL or a lone
UTF-16 half, missing or an object; a ``javascript:`` or another host's
address; JSON nested deeper than a parser goes) is on the network once, and
Kanal's row ends with a usable id, found by a lookup where the answer's id
could not be used, and never with the hostile address."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.utils import timezone

from kanal.publishing import engine
from kanal.publishing.models import Publication, PublicationStatus

from .conftest import CONTRACTS, run_once, sandbox_channel

S = PublicationStatus
pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

BAD_IDS = ("long_id", "nul_id", "surrogate_id", "missing_id", "wrong_type_id",
           "deep")
BAD_URLS = ("javascript_url", "other_host_url")


def _queued(network, sandbox, organisation, monkeypatch):
    from kanal.publishing.actions import queue_publication

    channel = sandbox_channel(sandbox, organisation, network)
    contract = getattr(importlib.import_module(
        f"kanal.channels.networks.tests.test_contract_{network}"),
        CONTRACTS[network])()
    if network == "instagram":
        # Instagram fetches the image itself: the sandbox serves one.
        image = contract.sample_image(sandbox, alt_text="Havnebadet")
        monkeypatch.setattr(engine, "_media_items",
                            lambda media, capabilities=None: (image,))
    text = f"Åbningstider i påsken ({uuid.uuid4().hex[:8]})"
    pub = queue_publication(
        actor=None, organisation=organisation, channel=channel,
        planned_at=timezone.now(), post_id=None, variant_id=None,
        revision_id=None, text=text,
    )
    return contract, channel.remote_id, pub


def _published_after_the_hostile_answer(pub) -> Publication:
    first = run_once()
    if first != [S.PUBLISHED]:
        # The answer could not be used: the outcome is unknown, and the next
        # run looks the post up before anything is sent again.
        assert first == [S.UNKNOWN]
        pub = Publication.objects.get(pk=pub.pk)
        assert pub.needs_reconcile and pub.remote_id == ""
        Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())
        assert run_once() == [S.PUBLISHED]
    return Publication.objects.get(pk=pub.pk)


def _posts(sandbox, network, account_id):
    return [r for r in sandbox.published(network, account_id)
            if r["kind"] == "post"]


@pytest.mark.parametrize("answer", BAD_IDS)
@pytest.mark.parametrize("network", list(CONTRACTS))
def test_an_unusable_id_after_a_publish_is_a_lost_answer_found_once(
    network, answer, sandbox, short_timeout, organisation, monkeypatch
):
    contract, account_id, pub = _queued(network, sandbox, organisation, monkeypatch)
    sandbox.fault(network, "hostile_after_create", operation="publish",
                  account=account_id, params={"answer": answer})
    pub = _published_after_the_hostile_answer(pub)
    posts = _posts(sandbox, network, account_id)
    assert len(posts) == 1
    assert contract.stored_item_id(pub.remote_id) == posts[0]["item_id"]
    assert len(pub.remote_id) <= 200 and pub.remote_id.isprintable()
    assert "{" not in pub.remote_id
    assert pub.url == "" or pub.url.startswith(("http://", "https://"))


@pytest.mark.parametrize("answer", BAD_URLS)
@pytest.mark.parametrize("network", list(CONTRACTS))
def test_a_hostile_address_after_a_publish_is_never_stored(
    network, answer, sandbox, short_timeout, organisation, monkeypatch
):
    contract, account_id, pub = _queued(network, sandbox, organisation, monkeypatch)
    sandbox.fault(network, "hostile_after_create", account=account_id,
                  params={"answer": answer}, count=None)
    pub = _published_after_the_hostile_answer(pub)
    sandbox.clear_faults(network)
    posts = _posts(sandbox, network, account_id)
    assert len(posts) == 1
    assert contract.stored_item_id(pub.remote_id) == posts[0]["item_id"]
    assert "javascript" not in pub.url and "evil.example" not in pub.url
