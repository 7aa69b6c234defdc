import uuid
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kanal.channels.networks.base import OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    QuotaExhausted,
    Rejected,
)
from kanal.channels.networks.linkedin import duplicate_of

from .contract import NetworkContractTests, assert_danish, unique


class TestLinkedInContract(NetworkContractTests):
    network = "linkedin"
    # LinkedIn's only quota is the daily call quota; its 429 says "DAY limit".
    has_quota = True
    # Well formed, so the like reaches the emulator and its 404.
    unknown_item_id = "urn:li:comment:(urn:li:share:7199999999,7399999999)"

    # -- LinkedIn specifics -----------------------------------------------------

    def test_reserved_characters_and_hashtags_survive_publishing(
        self, sandbox, adapter
    ):
        text = unique("Svømmehallen (Bellahøj) åbner [igen] kl. 7_30 *nu* #voreskbh")
        result = self.publish(sandbox, adapter, text)
        stored = sandbox.item("linkedin", result.remote_id)
        assert stored["text"] == text
        assert "{hashtag|\\#|voreskbh}" in stored["data"]["commentary"]

    def test_same_text_twice_is_a_duplicate_naming_the_first_post(
        self, sandbox, adapter, account
    ):
        text = unique("Affaldssortering starter i Valby")
        first = self.publish(sandbox, adapter, text)
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter, text)
        assert caught.value.network_code == "DUPLICATE_POST"
        assert caught.value.http_status == 422
        assert duplicate_of(caught.value) == first.remote_id
        assert_danish(caught.value.message)
        assert len(sandbox.published("linkedin", account.account_id)) == 1
        found = adapter.find_published(
            idempotency_key="k",
            text="ikke teksten",
            since=datetime.now(UTC),
            checkpoint={"duplicate_of": duplicate_of(caught.value)},
        )
        assert found.remote_id == first.remote_id

    def test_a_reaction_key_keeps_the_comment_urn_whole(
        self, sandbox, adapter, account
    ):
        """The comment URN's own parentheses and comma are encoded inside
        ``(actor:…,entity:…)``; a malformed id never reaches a path."""
        post = self.publish(sandbox, adapter)
        comment_id = self.make_comment(sandbox, account, post.remote_id, "Fint!")
        adapter.like(comment_id)
        adapter.like(comment_id, liked=False)
        assert self.likes_on(sandbox, account, comment_id) == 0
        with pytest.raises(Rejected):
            adapter.like("urn:li:comment:(x,1)/../../posts")

    def test_sunset_version_tells_the_admin_to_update_it(self, sandbox, connection):
        old = replace(connection, settings={"linkedin_version": "202507"})
        adapter = self.make_adapter(old)
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter)
        assert caught.value.network_code == "NONEXISTENT_VERSION"
        assert caught.value.http_status == 426
        assert "202507" in caught.value.message
        assert_danish(caught.value.message)

    def test_quota_exhausted_waits_until_midnight_utc(self, sandbox, adapter, account):
        self.fail_next(sandbox, account, "quota_exhausted")
        with pytest.raises(QuotaExhausted) as caught:
            self.publish(sandbox, adapter)
        reset = caught.value.reset_at
        assert (reset.hour, reset.minute, reset.second) == (0, 0, 0)
        assert 0 < caught.value.retry_after <= 24 * 3600 + 60

    def test_too_long_text_is_rejected_by_the_network(self, sandbox, adapter):
        with pytest.raises(Rejected) as caught:
            adapter.publish(OutgoingPost("a" * 3001), idempotency_key="k")
        assert caught.value.network_code == "FIELD_LENGTH_TOO_LONG"
        assert "3.000" in caught.value.message

    def test_reply_to_a_reply_and_inbox_sees_nested_replies(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        comment = self.make_comment(
            sandbox, account, post.remote_id, unique("Hvor kan jeg parkere?")
        )
        page = adapter.fetch_inbox()
        nested = sandbox.citizen(
            "linkedin", unique("Også med cykel?"), parent_id=comment
        )
        later = adapter.fetch_inbox(since=page.cursor)
        items = {i.text: i for i in later.items}
        assert nested["text"] in items
        assert items[nested["text"]].kind == "reply"
        assert items[nested["text"]].parent_remote_id == comment

    def test_own_replies_are_not_in_the_inbox(self, sandbox, adapter, account):
        post = self.publish(sandbox, adapter)
        comment = self.make_comment(sandbox, account, post.remote_id, unique("Hej"))
        answer = unique("Tak for din besked")
        adapter.reply(comment, answer)
        assert answer not in [i.text for i in adapter.fetch_inbox().items]

    def test_delete_a_citizen_comment(self, sandbox, adapter, account):
        post = self.publish(sandbox, adapter)
        comment = self.make_comment(
            sandbox, account, post.remote_id, "Mit CPR-nummer er 010190-1234"
        )
        adapter.delete(comment)
        assert sandbox.item("linkedin", comment)["deleted_at"] is not None

    def test_repost_reshares_another_post(self, sandbox, adapter, account):
        partner = sandbox.citizen(
            "linkedin", unique("Kulturnat i Tivoli"), kind="post", account="77"
        )
        result = adapter.repost(partner["item_id"])
        stored = sandbox.item("linkedin", result.remote_id)
        assert stored["data"]["reshareContext"] == {"parent": partner["item_id"]}
        log = sandbox.published("linkedin", account.account_id)
        assert [r["kind"] for r in log] == ["repost"]

    def test_post_metrics_come_from_share_statistics(self, sandbox, adapter, account):
        post = self.publish(sandbox, adapter)
        for name, value in (("views", 1200), ("likes", 33), ("shares", 4)):
            sandbox.control(
                "POST",
                "/_sandbox/metrics",
                {
                    "network": "linkedin",
                    "subject_id": post.remote_id,
                    "name": name,
                    "value": value,
                },
            )
        self.make_comment(sandbox, account, post.remote_id, "Fint initiativ")
        metrics = {
            m.name: m.value
            for m in adapter.fetch_metrics((post.remote_id,)).posts[post.remote_id]
        }
        assert metrics["impressionCount"] == 1200
        assert metrics["likeCount"] == 33
        assert metrics["shareCount"] == 4
        assert metrics["commentCount"] == 1

    def test_oauth_flow_gives_a_60_day_token_that_works(self, sandbox, connection):
        adapter = self.make_adapter(connection)
        redirect = "http://127.0.0.1:9/callback"
        url = adapter.authorization_url(redirect_uri=redirect, state="s-1")
        query = parse_qs(urlsplit(url).query)
        approved = httpx.get(
            url + "&" + f"organization={connection.account_id}&approve=1"
        )
        assert approved.status_code == 302
        back = parse_qs(urlsplit(approved.headers["location"]).query)
        assert back["state"] == ["s-1"]
        assert query["redirect_uri"] == [redirect]
        tokens = adapter.exchange_code(code=back["code"][0], redirect_uri=redirect)
        assert tokens.refresh_token
        assert tokens.expires_at is not None
        fresh = self.make_adapter(self.connection_with_tokens(connection, tokens))
        assert fresh.verify().remote_id == connection.account_id

    def test_refresh_without_a_refresh_token_asks_for_reconnect(self, connection):
        credentials = {"access_token": connection.secret("access_token")}
        adapter = self.make_adapter(replace(connection, credentials=credentials))
        with pytest.raises(AuthExpired) as caught:
            adapter.refresh_token()
        assert "60 dage" in caught.value.message

    def test_revoked_token_raises_auth_expired(self, sandbox, connection):
        token = f"revoked-{uuid.uuid4().hex}"
        adapter = self.make_adapter(
            replace(connection, credentials={"access_token": token})
        )
        with pytest.raises(AuthExpired):
            adapter.verify()
