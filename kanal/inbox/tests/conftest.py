from __future__ import annotations

import json

import pytest
from django.conf import settings

from kanal.channels.networks import graph


@pytest.fixture
def facebook_channel(organisation):
    from kanal.channels.tests.factories import ChannelFactory

    return ChannelFactory(organisation=organisation, network="facebook",
                          remote_id="104738291045678")


@pytest.fixture
def post_webhook(client):
    """``post_webhook(network, payload_or_bytes, secret=..., path=...)``."""

    def post(network, payload, *, secret=None, path=None, signature=True,
             content_type="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(
            payload, ensure_ascii=False).encode()
        headers = {}
        if signature:
            headers["HTTP_X_HUB_SIGNATURE_256"] = graph.sign(
                secret or settings.KANAL_META_APP_SECRET, body)
        return client.generic("POST", path or f"/webhooks/{network}/", body,
                              content_type=content_type, **headers)

    return post


def fb_comment(comment_id="104738291045678_1", *, text="Hvornår åbner det?",
               verb="add", page="104738291045678", post="104738291045678_9",
               parent="", created=1_780_000_000, when=None, author="c-1"):
    value = {
        "from": {"id": author, "name": "Mette Hansen"},
        "post_id": post, "comment_id": comment_id, "message": text,
        "created_time": created, "item": "comment", "verb": verb,
        "parent_id": parent or post,
    }
    return {"object": "page", "entry": [{
        "id": page, "time": when or created,
        "changes": [{"field": "feed", "value": value}],
    }]}
