"""Instagram's container flow against the emulator: checkpoints, resume, quota."""

import uuid
from datetime import timedelta

import pytest

from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.networks.errors import (
    OutcomeUnknown,
    QuotaExhausted,
    Rejected,
    TransientError,
)
from kanal.channels.networks.instagram import InstagramAdapter

pytestmark = pytest.mark.sandbox


def connect(sandbox, account, **settings) -> InstagramAdapter:
    connection = Connection(
        network="instagram",
        base_url=sandbox.base_url("instagram", "/v25.0"),
        account_id=account.account_id,
        handle=account.handle,
        credentials={k: str(v) for k, v in account.tokens.items() if v},
        settings={"container_poll_seconds": "0.01", **settings},
    )
    return InstagramAdapter(connection)


def image(sandbox, name="square.jpg", alt="Havnebadet ved Islands Brygge"):
    return MediaItem(kind="image", mime_type="image/jpeg", alt_text=alt,
                     public_url=f"{sandbox.url}/_sandbox/media/{name}",
                     width=1080, height=1080)


def post(sandbox, text="", *images):
    return OutgoingPost(text=text or f"Sommer i havnen {uuid.uuid4().hex[:6]}",
                        media=images or (image(sandbox),))


@pytest.fixture
def account(sandbox):
    return sandbox.provision("instagram", followers=6000)


def containers(sandbox, account):
    return sandbox.items("instagram", account.account_id, kind="container")


def test_container_id_is_reported_before_publishing(sandbox, account):
    adapter = connect(sandbox, account)
    reported = []
    result = adapter.publish(post(sandbox), idempotency_key="k1",
                             on_checkpoint=lambda cp: reported.append(dict(cp)))
    assert reported[0].keys() == {"container_id", "created_at", "media_type",
                                  "network_offset"}
    # The network's clock as the container's answer told it (reconcile).
    assert abs(float(reported[0]["network_offset"])) < 5
    assert reported[0]["media_type"] == "IMAGE"
    assert reported[-1]["media_id"] == result.remote_id
    assert reported[-1]["container_id"] == reported[0]["container_id"]
    stored = sandbox.item("instagram", reported[0]["container_id"])
    assert stored["kind"] == "container"
    assert stored["data"]["published_id"] == result.remote_id


def test_retry_after_failed_publish_reuses_the_container(sandbox, account):
    adapter = connect(sandbox, account)
    state = {}
    sandbox.fault("instagram", "server_error", operation="publish",
                  account=account.account_id)
    # A 5xx to media_publish may come after the post was made: unknown.
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post(sandbox, "Kulturnat"), idempotency_key="k",
                        on_checkpoint=state.update)
    assert state["container_id"]
    result = adapter.publish(post(sandbox, "Kulturnat"), idempotency_key="k",
                             checkpoint=dict(state), on_checkpoint=state.update)
    assert len(containers(sandbox, account)) == 1
    log = sandbox.published("instagram", account.account_id)
    assert [r["item_id"] for r in log] == [result.remote_id]


def test_resume_with_a_published_container_finds_the_media_instead_of_posting(
    sandbox, account
):
    adapter = connect(sandbox, account)
    text = f"Borgermøde om Lynetteholm {uuid.uuid4().hex[:6]}"
    state = {}
    adapter.client._client.timeout = 1.0
    sandbox.fault("instagram", "timeout_after_create", operation="publish",
                  account=account.account_id, delay_ms=10_000)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post(sandbox, text), idempotency_key="k",
                        on_checkpoint=state.update)
    assert "media_id" not in state
    again = connect(sandbox, account)
    result = again.publish(post(sandbox, text), idempotency_key="k",
                           checkpoint=dict(state), on_checkpoint=state.update)
    log = sandbox.published("instagram", account.account_id)
    assert [r["item_id"] for r in log] == [result.remote_id]
    assert state["media_id"] == result.remote_id
    assert result.url.startswith("http")


def test_resume_with_a_media_id_makes_no_new_call_to_publish(sandbox, account):
    adapter = connect(sandbox, account)
    state = {}
    first = adapter.publish(post(sandbox), idempotency_key="k",
                            on_checkpoint=state.update)
    second = adapter.publish(post(sandbox), idempotency_key="k",
                             checkpoint=dict(state))
    assert second.remote_id == first.remote_id
    assert len(sandbox.published("instagram", account.account_id)) == 1


def test_expired_container_is_made_again(sandbox, account):
    adapter = connect(sandbox, account)
    state = {}
    sandbox.fault("instagram", "server_error", operation="publish",
                  account=account.account_id)
    # A 5xx to media_publish may come after the post was made: unknown.
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post(sandbox, "Badesæson"), idempotency_key="k",
                        on_checkpoint=state.update)
    old = state["container_id"]
    sandbox.advance_clock(25 * 3600)
    assert adapter.container_status(old)[0] == "EXPIRED"
    result = adapter.publish(post(sandbox, "Badesæson"), idempotency_key="k",
                             checkpoint=dict(state), on_checkpoint=state.update)
    assert state["container_id"] != old
    assert sandbox.item("instagram", old)["data"].get("published_id") is None
    assert len(sandbox.published("instagram", account.account_id)) == 1
    assert sandbox.item("instagram", result.remote_id)["kind"] == "post"


def test_slow_container_raises_transient_then_resumes_on_the_sandbox_clock(sandbox):
    account = sandbox.provision("instagram",
                                extra={"container_delay_seconds": 600})
    slept = []
    adapter = connect(sandbox, account, container_poll_attempts="3")
    adapter.sleep = slept.append
    state = {}
    with pytest.raises(TransientError) as caught:
        adapter.publish(post(sandbox), idempotency_key="k",
                        on_checkpoint=state.update)
    assert slept == [0.01, 0.01]
    assert caught.value.retry_after >= 30
    assert sandbox.published("instagram", account.account_id) == []
    sandbox.advance_clock(601)
    result = adapter.publish(post(sandbox), idempotency_key="k",
                             checkpoint=dict(state))
    assert len(containers(sandbox, account)) == 1
    assert [r["item_id"] for r in sandbox.published(
        "instagram", account.account_id)] == [result.remote_id]


def test_default_polling_follows_meta_advice():
    adapter = InstagramAdapter(Connection(network="instagram",
                                          base_url="http://127.0.0.1:1/v25.0"))
    assert adapter.poll_seconds_default == 60.0
    assert adapter.poll_attempts_default == 6
    assert adapter.api_version == "v25.0"


def test_quota_used_up_raises_before_publishing_with_reset_time(sandbox):
    account = sandbox.provision("instagram", extra={"quota_total": 2})
    adapter = connect(sandbox, account)
    first = adapter.publish(post(sandbox), idempotency_key="a")
    adapter.publish(post(sandbox), idempotency_key="b")
    state = {}
    with pytest.raises(QuotaExhausted) as caught:
        adapter.publish(post(sandbox, "Tredje opslag"), idempotency_key="c",
                        on_checkpoint=state.update)
    error = caught.value
    assert "kvote på opslag" in error.message
    # The quota's size goes with the error for support, not into the
    # sentence (which must read in the reader's language).
    assert error.network_message.startswith("quota_usage 2/2 (2 opslag per 24 h")
    first_at = first.published_at
    assert abs((error.reset_at - (first_at + timedelta(hours=24)))
               .total_seconds()) < 2
    assert len(sandbox.published("instagram", account.account_id)) == 2
    # After the window the waiting post goes out from its own container.
    sandbox.advance_clock(24 * 3600 + 5)
    result = adapter.publish(post(sandbox, "Tredje opslag"), idempotency_key="c",
                             checkpoint=dict(state))
    assert sandbox.item("instagram", result.remote_id)["text"] == "Tredje opslag"
    assert len(sandbox.published("instagram", account.account_id)) == 3


def test_quota_error_from_media_publish_is_quota_exhausted(sandbox, account):
    adapter = connect(sandbox, account)
    sandbox.fault("instagram", "quota_exhausted", operation="publish",
                  account=account.account_id)
    with pytest.raises(QuotaExhausted) as caught:
        adapter.publish(post(sandbox), idempotency_key="k")
    assert caught.value.network_code == "9/2207042"
    assert caught.value.reset_at is not None


def test_carousel_publishes_children_with_alt_text_as_one_post(sandbox, account):
    adapter = connect(sandbox, account)
    alts = ["Livredder på tårnet", "Børn på badebroen", "Solnedgang over havnen"]
    images = tuple(image(sandbox, alt=a) for a in alts)
    result = adapter.publish(post(sandbox, "Tre billeder", *images),
                             idempotency_key="k")
    stored = sandbox.item("instagram", result.remote_id)
    assert stored["data"]["media_type"] == "CAROUSEL_ALBUM"
    assert [c["alt_text"] for c in stored["data"]["children"]] == alts
    made = containers(sandbox, account)
    assert len(made) == 4
    assert sum(1 for c in made if c["data"]["is_carousel_item"]) == 3
    assert len(sandbox.published("instagram", account.account_id)) == 1


def test_emulator_refuses_eleven_carousel_children(sandbox, account):
    adapter = connect(sandbox, account)
    children = [adapter.create_container({"image_url": image(sandbox).public_url,
                                          "is_carousel_item": "true"})
                for _ in range(11)]
    with pytest.raises(Rejected) as caught:
        adapter.create_container({"media_type": "CAROUSEL",
                                  "children": ",".join(children)})
    assert caught.value.network_code == "100/2207010"


def test_publishing_an_unfinished_container_is_9007(sandbox):
    account = sandbox.provision("instagram",
                                extra={"container_delay_seconds": 60})
    adapter = connect(sandbox, account)
    container = adapter.create_container({"image_url": image(sandbox).public_url})
    with pytest.raises(TransientError) as caught:
        adapter.post(f"/{account.account_id}/media_publish", creation_id=container)
    assert caught.value.network_code == "9007/2207027"


def test_publishing_a_published_container_again_is_refused(sandbox, account):
    adapter = connect(sandbox, account)
    state = {}
    adapter.publish(post(sandbox), idempotency_key="k", on_checkpoint=state.update)
    with pytest.raises(Rejected):
        adapter.post(f"/{account.account_id}/media_publish",
                     creation_id=state["container_id"])
    assert len(sandbox.published("instagram", account.account_id)) == 1


@pytest.mark.parametrize(
    ("name", "code"),
    [("square.png", "9004/2207026"), ("tall.jpg", "36003/2207009")],
)
def test_emulator_checks_loopback_images(sandbox, account, name, code):
    adapter = connect(sandbox, account)
    with pytest.raises(Rejected) as caught:
        adapter.create_container({"image_url": f"{sandbox.url}/_sandbox/media/{name}"})
    assert caught.value.network_code == code


def test_emulator_accepts_a_remote_image_without_fetching_it(sandbox, account):
    adapter = connect(sandbox, account)
    container = adapter.create_container(
        {"image_url": "https://cdn.example.invalid/havn.jpg", "caption": "Havn"})
    assert adapter.container_status(container)[0] == "FINISHED"


def test_find_published_uses_the_checkpoint(sandbox, account):
    adapter = connect(sandbox, account)
    state = {}
    sandbox.fault("instagram", "server_error", operation="publish",
                  account=account.account_id)
    # A 5xx to media_publish may come after the post was made: unknown.
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post(sandbox, "Ikke ude"), idempotency_key="k",
                        on_checkpoint=state.update)
    assert adapter.find_published(idempotency_key="k", text="Ikke ude",
                                  since=sandbox.ctx.now(),
                                  checkpoint=dict(state)) is None


def test_reconnect_needed_when_token_expired_in_the_sandbox(sandbox, account):
    sandbox.expire_token("instagram", account.tokens["access_token"])
    adapter = connect(sandbox, account)
    from kanal.channels.networks.errors import AuthExpired

    with pytest.raises(AuthExpired) as caught:
        adapter.publish(post(sandbox), idempotency_key="k")
    assert caught.value.network_code == "190/463"



def test_container_that_fails_processing_is_rejected_in_danish(sandbox, account):
    adapter = connect(sandbox, account)
    state = {}
    sandbox.fault("instagram", "invalid_media", operation="media",
                  account=account.account_id, params={"phase": "processing"})
    with pytest.raises(Rejected) as caught:
        adapter.publish(post(sandbox, "Defekt billede"), idempotency_key="k",
                        on_checkpoint=state.update)
    assert "kunne ikke behandle mediet" in caught.value.message
    assert "2207052" in caught.value.network_message
    assert caught.value.network_code == "ERROR"
    assert sandbox.published("instagram", account.account_id) == []
    # A retry from the checkpoint makes a fresh container instead.
    result = adapter.publish(post(sandbox, "Defekt billede"), idempotency_key="k",
                             checkpoint=dict(state))
    assert len(containers(sandbox, account)) == 2
    assert sandbox.item("instagram", result.remote_id)["kind"] == "post"


def test_checkpoint_naming_an_unknown_container_starts_over(sandbox, account):
    adapter = connect(sandbox, account)
    result = adapter.publish(post(sandbox), idempotency_key="k",
                             checkpoint={"container_id": "17999999999999999"})
    assert len(containers(sandbox, account)) == 1
    assert [r["item_id"] for r in sandbox.published(
        "instagram", account.account_id)] == [result.remote_id]


@pytest.mark.parametrize(("code", "missing"), [
    ("100/33", True), ("24/2207008", True), (100, False), ("100/2207050", False),
    ("240", False),
])
def test_only_a_container_that_does_not_exist_reads_as_missing(
    sandbox, account, monkeypatch, code, missing
):
    """T7b-4's sibling: a container read refused with Graph's code 100 for
    another reason than "does not exist" (100/33) is no missing container
    (which is made again); the refusal is raised."""
    from kanal.channels.networks.errors import Rejected

    adapter = connect(sandbox, account)

    def refuse(*_args, **_kwargs):
        raise Rejected("x", network_code=code, http_status=400)

    monkeypatch.setattr(adapter, "get", refuse)
    if missing:
        assert adapter.container_status("17900000000000001")[0] == "MISSING"
    else:
        with pytest.raises(Rejected):
            adapter.container_status("17900000000000001")
