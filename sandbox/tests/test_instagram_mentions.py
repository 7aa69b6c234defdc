"""The Instagram emulator's @mentions by raw HTTP: a citizen's mention in a
caption or in a comment under someone else's media is a ``mentions`` webhook
with ids only, read back on the account's node as Meta's Mentions API does
(``mentioned_media.media_id(…){…}``, ``mentioned_comment.comment_id(…){…}``);
one deleted (or not a mention of this account) is Graph's 400 #100/33."""

from sandbox.citizens import tick

from . import test_instagram_messages as messages
from .graph_client import error

ACCOUNT = messages.ACCOUNT
#: The emulator, with the webhooks it sends kept (``ig.webhooks``).
ig = messages.ig

MEDIA = "id,caption,timestamp,username,permalink,media_type"
COMMENT = "id,text,timestamp,username,media{id,permalink}"


def mentions_value(hook) -> dict:
    [entry] = hook["entry"]
    [change] = entry["changes"]
    assert (hook["object"], entry["id"], change["field"]) == (
        "instagram", ACCOUNT, "mentions")
    return change["value"]


def test_a_caption_mention_is_a_webhook_of_ids_read_back_on_the_account(ig):
    media = ig.citizen("Tak til @kobenhavnskommune for bænkene", kind="mention")
    assert mentions_value(ig.webhooks[-1]) == {"media_id": media}

    read = ig.get(f"/{ACCOUNT}",
                  fields=f"mentioned_media.media_id({media}){{{MEDIA}}}")
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["id"] == ACCOUNT
    node = body["mentioned_media"]
    assert (node["id"], node["caption"], node["username"], node["media_type"]) == (
        media, "Tak til @kobenhavnskommune for bænkene", "ida.holm", "IMAGE")
    assert node["permalink"].startswith("http")
    assert node["timestamp"].endswith("+0000")


def test_a_comment_mention_names_its_media_and_is_read_back(ig):
    media = ig.citizen("Ny legeplads @kobenhavnskommune", kind="mention")
    comment = ig.citizen("Enig, @kobenhavnskommune", kind="mention",
                         parent_id=media)
    assert mentions_value(ig.webhooks[-1]) == {"comment_id": comment,
                                               "media_id": media}
    read = ig.get(f"/{ACCOUNT}",
                  fields=f"mentioned_comment.comment_id({comment}){{{COMMENT}}}")
    assert read.status_code == 200, read.text
    node = read.json()["mentioned_comment"]
    assert (node["id"], node["text"], node["username"]) == (
        comment, "Enig, @kobenhavnskommune", "ida.holm")
    assert node["media"]["id"] == media
    assert node["media"]["permalink"].startswith("http")
    # A comment's mention is no tag of the account's: ``/tags`` lists media.
    tags = ig.get(f"/{ACCOUNT}/tags", fields="id,caption").json()["data"]
    assert media in [t["id"] for t in tags]
    assert comment not in [t["id"] for t in tags]


def test_a_deleted_or_foreign_mention_does_not_exist(ig):
    media = ig.citizen("@kobenhavnskommune hej", kind="mention")
    comment = ig.citizen("@kobenhavnskommune igen", kind="mention", parent_id=media)
    # The wrong kind of read-back for the id, and an id that is no mention.
    for fields in (f"mentioned_comment.comment_id({media}){{id}}",
                   f"mentioned_media.media_id({comment}){{id}}",
                   "mentioned_media.media_id(424242){id}"):
        gone = error(ig.get(f"/{ACCOUNT}", fields=fields))
        assert (gone["code"], gone["error_subcode"]) == (100, 33)
    assert ig.delete(f"/_sandbox/items/instagram/{media}").status_code == 200
    gone = error(ig.get(f"/{ACCOUNT}",
                        fields=f"mentioned_media.media_id({media}){{id}}"))
    assert (gone["code"], gone["error_subcode"]) == (100, 33)
    assert "does not exist" in gone["message"]


def test_a_read_back_fails_like_the_inbox_when_a_fault_is_set(ig):
    media = ig.citizen("@kobenhavnskommune", kind="mention")
    ig.fault("server_error", "inbox")
    failed = ig.get(f"/{ACCOUNT}", fields=f"mentioned_media.media_id({media}){{id}}")
    assert failed.status_code >= 500
    again = ig.get(f"/{ACCOUNT}", fields=f"mentioned_media.media_id({media}){{id}}")
    assert again.status_code == 200, again.text
    # The account's own node without a read-back is still ``verify``.
    assert ig.get(f"/{ACCOUNT}", fields="id,username").json()["username"]


def test_simulated_citizens_mention_the_account_in_comments_too(ig):
    ctx = ig.app.state.ctx
    tick(ctx, seed=7, actions=300, networks=["instagram"])
    found = ig.store.list_items("instagram", account_id=ACCOUNT, kind="mention")
    in_comments = [m for m in found if m.data.get("in") == "comment"]
    assert in_comments and len(in_comments) < len(found)
    values = [mentions_value(h) for h in ig.webhooks
              if h.get("entry") and h["entry"][0].get("changes")
              and h["entry"][0]["changes"][0]["field"] == "mentions"]
    assert {"comment_id": in_comments[0].item_id,
            "media_id": in_comments[0].root_id} in values
