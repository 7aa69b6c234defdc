"""The Instagram adapter's read-back of a mention (``read_mention``) against
the sandbox: a caption's and a comment's, ids checked before any request,
and what the network says when the mention is gone."""

import pytest

from kanal.channels.networks import instagram
from kanal.channels.networks.errors import Rejected

from .test_instagram_adapter import connect

pytestmark = pytest.mark.sandbox


@pytest.fixture
def account(sandbox):
    return sandbox.provision("instagram")


def test_a_caption_and_a_comment_mention_are_read_back(sandbox, account):
    adapter = connect(sandbox, account)
    media = sandbox.citizen("instagram", "Tak @kbh", account=account.account_id,
                            kind="mention", author_name="Ida Holm")["item_id"]
    comment = sandbox.citizen("instagram", "Også tak @kbh",
                              account=account.account_id, kind="mention",
                              parent_id=media, author_name="Bo Lind")["item_id"]

    caption = adapter.read_mention(media_id=media)
    assert (caption.remote_id, caption.kind, caption.text, caption.author_name) == (
        media, "mention", "Tak @kbh", "ida.holm")
    assert (caption.post_remote_id, caption.parent_remote_id) == ("", "")
    assert caption.url.startswith("http")

    said = adapter.read_mention(comment_id=comment, media_id=media)
    assert (said.remote_id, said.kind, said.text, said.author_id) == (
        comment, "mention", "Også tak @kbh", "bo.lind")
    assert (said.post_remote_id, said.parent_remote_id) == (media, media)
    assert said.url == caption.url


@pytest.mark.parametrize("bad", ["1)}{x", "../1", "17,mentioned_media", "abc"])
def test_an_id_that_is_no_instagram_id_is_never_asked_for(
    sandbox, account, monkeypatch, bad
):
    adapter = connect(sandbox, account)
    monkeypatch.setattr(adapter, "get", lambda *a, **k: pytest.fail("asked"))
    for ids in ({"comment_id": bad, "media_id": "17"}, {"media_id": bad}):
        with pytest.raises(Rejected) as caught:
            adapter.read_mention(**ids)
        assert instagram.mention_gone(caught.value)


def test_a_deleted_mention_is_gone(sandbox, account):
    adapter = connect(sandbox, account)
    media = sandbox.citizen("instagram", "@kbh", account=account.account_id,
                            kind="mention")["item_id"]
    sandbox.control("DELETE", f"/_sandbox/items/instagram/{media}")
    with pytest.raises(Rejected) as caught:
        adapter.read_mention(media_id=media)
    assert caught.value.http_status == 400
    assert instagram.mention_gone(caught.value)
