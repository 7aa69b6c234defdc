"""Facebook video posts (``/{page-id}/videos`` with ``file_url``), against the
emulator, which fetches the file from a loopback server here."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from kanal.channels.networks.base import (
    Connection,
    MediaItem,
    OutgoingPost,
    PublishResult,
)
from kanal.channels.networks.errors import OutcomeUnknown, Rejected
from kanal.channels.networks.facebook import FacebookAdapter
from kanal.channels.networks.http import NetworkClient

pytestmark = pytest.mark.sandbox

MP4 = b"\0\0\0\x18ftypmp42" + b"\0" * 4000


class Files(BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"/film.mp4": MP4, "/ikke-video.mp4": b"<html>nej</html>"}.get(
            self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def files():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def account(sandbox):
    return sandbox.provision("facebook", followers=43000,
                             display_name="Københavns Kommune")


def connect(sandbox, account, *, client=None) -> FacebookAdapter:
    return FacebookAdapter(Connection(
        network="facebook", base_url=sandbox.base_url("facebook", "/v25.0"),
        account_id=account.account_id, handle=account.handle,
        credentials=account.tokens,
    ), client=client)


@pytest.fixture
def adapter(sandbox, account):
    return connect(sandbox, account)


def video(url: str, **fields) -> MediaItem:
    return MediaItem(kind="video", mime_type=fields.pop("mime_type", "video/mp4"),
                     public_url=url, alt_text="Badning i havnen", **fields)


def offline() -> FacebookAdapter:
    return FacebookAdapter(Connection("facebook", "http://127.0.0.1:1/v25.0"))


def image() -> MediaItem:
    return MediaItem(kind="image", mime_type="image/jpeg", alt_text="Bro",
                     data=b"\xff\xd8\xff\xe0" + b"0" * 200)


# -- validation (pure) ------------------------------------------------------------


def test_capabilities_offer_one_mp4_or_mov_video_and_messages():
    capabilities = offline().capabilities()
    assert capabilities.max_videos == 1
    assert capabilities.video_formats == {"video/mp4", "video/quicktime"}
    assert capabilities.max_video_bytes == 1024 * 1024 * 1024
    assert {"video", "direct_messages"} <= capabilities.supports


def test_one_mp4_video_with_text_is_valid():
    assert offline().validate(OutgoingPost("Se filmen", media=(
        video("http://127.0.0.1/film.mp4"),))) == []


def test_video_and_images_in_one_post_are_refused_in_danish():
    problems = offline().validate(OutgoingPost("Blandet", media=(
        image(), video("http://127.0.0.1/film.mp4"))))
    assert [(p.code, p.field) for p in problems] == [
        ("video_with_other_media", "media")]
    assert problems[0].message.startswith(
        "Facebook kan ikke vise en video sammen med andre billeder eller filer.")


def test_two_videos_are_refused():
    problems = offline().validate(OutgoingPost("To film", media=(
        video("http://127.0.0.1/a.mp4"), video("http://127.0.0.1/b.mp4"))))
    assert [(p.code, p.limit, p.actual) for p in problems] == [
        ("too_many_videos", 1, 2)]
    assert "højst 1 video; der er 2" in problems[0].message


def test_a_webm_video_is_refused_and_the_message_names_the_formats():
    problems = offline().validate(OutgoingPost("Film", media=(
        video("http://127.0.0.1/a.webm", mime_type="video/webm"),)))
    assert [p.code for p in problems] == ["media_format"]
    assert "Brug MP4, MOV." in problems[0].message


def test_a_video_over_one_gigabyte_is_refused():
    big = MediaItem(kind="video", mime_type="video/quicktime",
                    data=b"\0" * (1024 * 1024 * 1024 + 1))
    problems = offline().validate(OutgoingPost("Lang film", media=(big,)))
    assert [(p.code, p.limit) for p in problems] == [
        ("video_too_large", 1024 * 1024 * 1024)]
    assert "højst 1073,7 MB" in problems[0].message


# -- publishing ---------------------------------------------------------------------


def test_video_is_published_as_one_post_with_its_description(
        sandbox, adapter, account, files):
    text = f"Havnebadet fra luften ({uuid.uuid4().hex[:6]})"
    result = adapter.publish(OutgoingPost(text, media=(video(f"{files}/film.mp4"),)),
                             idempotency_key=uuid.uuid4().hex)
    published = sandbox.published("facebook", account.account_id)
    assert [(r["item_id"], r["text"]) for r in published] == [
        (result.remote_id, text)]
    item = sandbox.item("facebook", result.remote_id)
    assert item["kind"] == "post"
    assert item["data"]["video"] == {"file_url": f"{files}/film.mp4",
                                     "bytes": len(MP4)}
    assert result.url == (f"{sandbox.url}/_sandbox/page/facebook/"
                          f"{account.account_id}#{result.remote_id}")
    page = httpx.get(f"{sandbox.url}/_sandbox/page/facebook/{account.account_id}")
    assert text in page.text


def test_retry_with_the_video_checkpoint_does_not_upload_again(
        sandbox, adapter, account, files):
    checkpoints = []
    post = OutgoingPost(f"Film fra Kulturnatten ({uuid.uuid4().hex[:6]})",
                        media=(video(f"{files}/film.mp4"),))
    first = adapter.publish(post, idempotency_key="v1",
                            on_checkpoint=checkpoints.append)
    assert checkpoints == [{"video_id": first.remote_id}]
    # The worker died before it stored the result; the retry has the checkpoint.
    again = connect(sandbox, account).publish(post, idempotency_key="v1",
                                              checkpoint=checkpoints[-1])
    assert again == PublishResult(first.remote_id, first.url, again.published_at)
    assert [r["item_id"] for r in sandbox.published("facebook",
                                                    account.account_id)] \
        == [first.remote_id]
    assert len(sandbox.items("facebook", account.account_id, kind="post")) == 1


def test_a_video_whose_answer_is_lost_is_found_by_find_published(
        sandbox, account, files):
    client = NetworkClient(network="facebook",
                           base_url=sandbox.base_url("facebook", "/v25.0"),
                           timeout=2.0)
    adapter = connect(sandbox, account, client=client)
    # The answer comes far later than the client waits, however loaded the
    # machine (and the client waits long enough for the upload before it).
    sandbox.fault("facebook", "timeout_after_create", operation="publish",
                  account=account.account_id, delay_ms=10_000)
    text = f"Cykelbroen åbner ({uuid.uuid4().hex[:6]})"
    started = datetime.now(UTC)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(OutgoingPost(text, media=(video(f"{files}/film.mp4"),)),
                        idempotency_key="v2")
    sandbox.clear_faults("facebook")
    found = connect(sandbox, account).find_published(
        idempotency_key="v2", text=text, since=started - timedelta(seconds=5))
    assert found is not None
    assert found.remote_id == sandbox.published(
        "facebook", account.account_id)[0]["item_id"]


def test_a_file_that_is_not_a_video_is_rejected_with_code_352(
        sandbox, adapter, account, files):
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost("Forkert fil", media=(
            video(f"{files}/ikke-video.mp4"),)), idempotency_key="v3")
    assert caught.value.network_code == 352
    assert sandbox.published("facebook", account.account_id) == []


def test_a_file_url_that_cannot_be_fetched_is_rejected_with_code_389(
        sandbox, adapter, files):
    with pytest.raises(Rejected) as caught:
        adapter.publish(OutgoingPost("Væk", media=(video(f"{files}/væk.mp4"),)),
                        idempotency_key="v4")
    assert caught.value.network_code == 389


def test_a_server_error_on_the_video_upload_is_unknown(sandbox, adapter,
                                                       account, files):
    # A published video is a post: a 5xx may come after it was made.
    sandbox.fault("facebook", "server_error", operation="publish",
                  account=account.account_id)
    checkpoints = []
    with pytest.raises(OutcomeUnknown):
        adapter.publish(OutgoingPost("Fejl", media=(video(f"{files}/film.mp4"),)),
                        idempotency_key="v5", on_checkpoint=checkpoints.append)
    assert checkpoints == []
    assert sandbox.published("facebook", account.account_id) == []
