import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kanal.channels.networks.base import MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    AuthExpired,
    QuotaExhausted,
    RateLimited,
    Rejected,
)
from kanal.channels.networks.x import DUPLICATE_MESSAGE, new_code_verifier

from .contract import NetworkContractTests, assert_danish, unique


class TestXContract(NetworkContractTests):
    network = "x"
    # X's 24-hour posting limit (x-user-limit-24hour-*) is a rolling quota.
    has_quota = True
    partner_account = "kkbibliotek"
    partner_id = "1500000000000090001"
    partner_name = "Københavns Biblioteker"

    # -- X specifics --------------------------------------------------------------

    def test_same_text_twice_is_refused_as_a_duplicate(
        self, sandbox, adapter, account
    ):
        text = unique("Vejarbejde på Amagerbrogade")
        first = self.publish(sandbox, adapter, text)
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter, text)
        assert caught.value.message == DUPLICATE_MESSAGE
        assert caught.value.http_status == 403
        assert "duplicate content" in caught.value.network_message
        log = sandbox.published("x", account.account_id)
        assert [r["item_id"] for r in log] == [first.remote_id]

    def test_same_text_after_deleting_the_first_is_allowed(self, sandbox, adapter):
        text = unique("Vejarbejde på Jagtvej")
        first = self.publish(sandbox, adapter, text)
        adapter.delete(first.remote_id)
        second = self.publish(sandbox, adapter, text)
        assert second.remote_id != first.remote_id

    def test_every_answer_carries_rate_limit_headers(self, sandbox, account):
        token = account.tokens["access_token"]
        response = httpx.get(
            sandbox.base_url("x", "/2/users/me"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert response.headers["x-rate-limit-limit"] == "75"
        assert response.headers["x-rate-limit-remaining"] == "74"
        reset = int(response.headers["x-rate-limit-reset"])
        now = datetime.now(UTC).timestamp()
        assert now + 14 * 60 < reset <= now + 15 * 60 + 5

    def test_spent_window_is_429_until_fifteen_minutes_pass(
        self, sandbox, connection, account
    ):
        adapter = self.make_adapter(connection)
        for _ in range(75):
            adapter.verify()
        with pytest.raises(RateLimited) as caught:
            adapter.verify()
        assert caught.value.reset_at is not None
        assert caught.value.http_status == 429
        sandbox.advance_clock(15 * 60 + 1)
        assert adapter.verify().remote_id == account.account_id

    def test_posting_sends_24_hour_limit_headers(self, sandbox, account):
        response = httpx.post(
            sandbox.base_url("x", "/2/tweets"),
            json={"text": unique("Hej fra øvebanen")},
            headers={"Authorization": f"Bearer {account.tokens['access_token']}"},
        )
        assert response.status_code == 201
        assert response.headers["x-user-limit-24hour-limit"] == "2400"
        assert response.headers["x-user-limit-24hour-remaining"] == "2399"
        assert response.headers["x-rate-limit-limit"] == "100"

    def test_access_token_expires_after_two_hours(self, sandbox, adapter, connection):
        assert adapter.verify().remote_id == connection.account_id
        sandbox.advance_clock(2 * 3600 + 1)
        with pytest.raises(AuthExpired):
            adapter.verify()
        tokens = adapter.refresh_token()
        assert tokens.refresh_token != connection.secret("refresh_token")
        fresh = self.make_adapter(self.connection_with_tokens(connection, tokens))
        assert fresh.verify().remote_id == connection.account_id

    def test_refresh_tokens_are_single_use(self, adapter):
        adapter.refresh_token()
        with pytest.raises(AuthExpired):
            adapter.refresh_token()

    def test_oauth_pkce_round_trip(self, sandbox, connection, account):
        adapter = self.make_adapter(connection)
        verifier = new_code_verifier()
        url = adapter.authorization_url(
            redirect_uri="http://127.0.0.1/cb", state="st-1", code_verifier=verifier
        )
        consent = httpx.get(url + f"&login={account.handle}")
        assert consent.status_code == 302
        back = parse_qs(urlsplit(consent.headers["location"]).query)
        assert back["state"] == ["st-1"]
        with pytest.raises(AuthExpired):
            adapter.exchange_code(code=back["code"][0],
                                  redirect_uri="http://127.0.0.1/cb",
                                  code_verifier="wrong-" + verifier)
        consent = httpx.get(url + f"&login={account.handle}")
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        tokens = adapter.exchange_code(code=code, redirect_uri="http://127.0.0.1/cb",
                                       code_verifier=verifier)
        assert tokens.refresh_token
        assert tokens.expires_at - datetime.now(UTC) <= timedelta(hours=2)
        fresh = self.make_adapter(self.connection_with_tokens(connection, tokens))
        assert fresh.verify().handle == account.handle

    def test_video_upload_waits_for_processing(self, sandbox, connection, account):
        adapter = self.make_adapter(replace(
            connection, settings={"media_poll_seconds": "0"}))
        video = MediaItem(kind="video", mime_type="video/mp4", alt_text="Film",
                          data=b"\0\0\0\x18ftypmp42" + b"\0" * 5000)
        result = self.publish(sandbox, adapter, unique("Se filmen"), media=(video,))
        stored = sandbox.item("x", result.remote_id)
        (media,) = stored["data"]["media"]
        assert media["type"] == "video"
        assert media["alt_text"] == "Film"
        upload = sandbox.item("x", media["media_id"])
        assert upload["data"]["state"] == "succeeded"
        assert upload["data"]["status_polls"] == 2

    def test_a_file_that_is_not_an_image_is_rejected(self, sandbox, adapter):
        fake = MediaItem(kind="image", mime_type="image/jpeg", alt_text="Tekst",
                         data=b"this is text, not a jpeg")
        with pytest.raises(Rejected) as caught:
            self.publish(sandbox, adapter, media=(fake,))
        assert "Tjek format og størrelse" in caught.value.message

    def test_too_long_text_is_rejected_by_x_too(self, sandbox, adapter):
        with pytest.raises(Rejected) as caught:
            adapter.publish(OutgoingPost(text="日" * 141), idempotency_key="k")
        assert "280" in caught.value.message
        assert_danish(caught.value.message)

    def test_links_come_back_as_tco_and_reconcile_anyway(self, sandbox, adapter):
        text = unique("Læs om badevandet & vejret")
        key = uuid.uuid4().hex
        since = datetime.now(UTC) - timedelta(seconds=5)
        result = adapter.publish(
            OutgoingPost(text=text, link="https://www.kk.dk/badevand",
                         media=(self.sample_image(sandbox, alt_text="Vandet"),)),
            idempotency_key=key,
        )
        token = adapter.connection.secret("access_token")
        shown = httpx.get(
            sandbox.base_url("x", f"/2/tweets/{result.remote_id}"),
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]["text"]
        assert "https://t.co/" in shown
        assert "&amp;" in shown
        assert "kk.dk" not in shown
        found = adapter.find_published(idempotency_key=key, text=text, since=since)
        assert found.remote_id == result.remote_id

    def test_mentions_and_replies_reach_the_inbox_once_each(
        self, sandbox, adapter, account
    ):
        post = self.publish(sandbox, adapter)
        comment = self.make_comment(sandbox, account, post.remote_id, "Godt initiativ")
        sandbox.citizen("x", "Hvad siger I til cykelstierne?",
                        account=account.account_id, kind="mention")
        page = adapter.fetch_inbox()
        kinds = {item.text: item.kind for item in page.items}
        assert kinds["Godt initiativ"] == "comment"
        assert kinds[f"@{account.handle} Hvad siger I til cykelstierne?"] == "mention"
        assert [i.remote_id for i in page.items].count(comment) == 1
        assert page.cursor == max((i.remote_id for i in page.items), key=int)
        assert adapter.fetch_inbox(since=page.cursor).items == ()

    def test_repost_returns_the_retweet(self, sandbox, adapter, account):
        sandbox.citizen("x", "Koncert i Tivoli i aften", kind="post",
                        account="citizen-tivoli", author_name="Tivoli")
        (source,) = [i for i in sandbox.items("x", "citizen-tivoli")
                     if i["text"] == "Koncert i Tivoli i aften"][:1]
        result = adapter.repost(source["item_id"])
        stored = sandbox.item("x", result.remote_id)
        assert stored["kind"] == "repost"
        assert stored["parent_id"] == source["item_id"]

    def test_fetch_metrics_reports_public_metrics(self, sandbox, adapter, account):
        post = self.publish(sandbox, adapter)
        sandbox.control("POST", "/_sandbox/metrics", {
            "network": "x", "subject_id": post.remote_id, "name": "views",
            "value": 1234})
        self.make_comment(sandbox, account, post.remote_id, "Fint!")
        metrics = {m.name: m.value for m in
                   adapter.fetch_metrics((post.remote_id,)).posts[post.remote_id]}
        assert metrics["impression_count"] == 1234
        assert metrics["reply_count"] == 1

    def test_hiding_a_reply_to_someone_elses_conversation_is_refused(
        self, sandbox, adapter
    ):
        sandbox.citizen("x", "Min egen tråd", kind="post", account="citizen-anna",
                        author_name="Anna")
        (root,) = [i for i in sandbox.items("x", "citizen-anna")
                   if i["text"] == "Min egen tråd"][:1]
        reply = sandbox.citizen("x", "Svar i Annas tråd", parent_id=root["item_id"])
        with pytest.raises(Rejected):
            adapter.hide(reply["item_id"])

    def test_quota_error_names_when_it_resets(self, sandbox, adapter, account):
        self.fail_next(sandbox, account, "quota_exhausted",
                       params={"reset_in": 3600})
        with pytest.raises(QuotaExhausted) as caught:
            self.publish(sandbox, adapter)
        wait = caught.value.reset_at - datetime.now(UTC)
        assert timedelta(minutes=55) < wait <= timedelta(minutes=61)
