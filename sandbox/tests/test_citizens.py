import itertools
import re
import types
from datetime import timedelta

import pytest

from sandbox import citizens
from sandbox.core import SandboxConfig, SandboxContext
from sandbox.networks import linkedin
from sandbox.seed import seed_demo

CPR = re.compile(r"\b\d{6}-\d{4}\b")


def make_ctx(tmp_path, name="a", *, meta_hook=False):
    ctx = SandboxContext(
        SandboxConfig(db_path=str(tmp_path / f"{name}.sqlite3"), seed=99)
    )
    facebook = types.ModuleType("fake_facebook")
    if meta_hook:
        facebook.on_citizen_item = lambda ctx, item: None
    ctx.networks = {
        "linkedin": linkedin,
        "x": types.ModuleType("fake_x"),
        "facebook": facebook,
    }
    seed_demo(ctx)
    now = ctx.now()
    for network, account_id in (("x", "1500000000000000001"),
                                ("facebook", "104738291045678")):
        for n, age in enumerate((2, 50)):
            ctx.store.add_item(
                network, account_id, f"{network}-post-{n}", "post",
                text=f"Opslag {n}", author_id=account_id,
                created_at=now - timedelta(hours=age),
            )
    sent = []
    ctx.webhooks.send = lambda network, payload: sent.append((network, payload)) or 1
    ctx.sent = sent
    return ctx


def summary(result):
    return [
        (i["network"], i["kind"], i["text"], i["author_name"], i["category"])
        for i in result["items"]
    ]


def test_same_seed_gives_the_same_citizens(tmp_path):
    first = citizens.tick(make_ctx(tmp_path, "a"), seed=7, actions=30)
    second = citizens.tick(make_ctx(tmp_path, "b"), seed=7, actions=30)
    assert first["created"] == 30
    assert summary(first) == summary(second)


def test_another_seed_gives_other_citizens(tmp_path):
    first = citizens.tick(make_ctx(tmp_path, "a"), seed=7, actions=30)
    other = citizens.tick(make_ctx(tmp_path, "b"), seed=8, actions=30)
    assert summary(first) != summary(other)


def test_a_run_has_cpr_numbers_and_every_kind_of_content(tmp_path):
    result = citizens.tick(make_ctx(tmp_path), seed=3, actions=200)
    texts = [i["text"] for i in result["items"]]
    assert any(CPR.search(t) for t in texts)
    assert any(re.search(r"\b\d{2} \d{2} \d{2} \d{2}\b", t) for t in texts)
    categories = {i["category"] for i in result["items"]}
    assert {c for c, _, _ in citizens.COMMENTS} <= categories
    assert {"reply", "mention", "message", "hashtag_post"} <= categories
    assert result["failed"] == 0


def test_comments_reach_every_network_with_posts_in_its_own_id_style(tmp_path):
    ctx = make_ctx(tmp_path)
    result = citizens.tick(ctx, seed=5, actions=60)
    comments = [i for i in result["items"] if i["kind"] == "comment"]
    assert {i["network"] for i in comments} == {"linkedin", "x", "facebook"}
    on_linkedin = [i for i in comments if i["network"] == "linkedin"]
    assert all(i["item_id"].startswith("urn:li:comment:(urn:li:share:")
               for i in on_linkedin)
    stored = ctx.store.get_item("linkedin", on_linkedin[0]["item_id"])
    assert stored.author_id.startswith("urn:li:person:")
    assert stored.author_name == on_linkedin[0]["author_name"]


def test_hashtag_posts_carry_voreskbh_or_a_campaign_tag(tmp_path):
    ctx = make_ctx(tmp_path)
    result = citizens.tick(ctx, seed=11, actions=80, hashtags=["sommerikbh"])
    posts = [i for i in result["items"] if i["category"] == "hashtag_post"]
    assert posts
    assert all(i["network"] == "x" for i in posts)
    assert all(re.search(r"#(voreskbh|sommerikbh)\b", i["text"]) for i in posts)
    assert any("#sommerikbh" in i["text"] for i in posts)
    assert all(i["account_id"].startswith("citizen-") for i in posts)


def test_metrics_grow_monotonically_and_views_exceed_likes_exceed_comments(
    tmp_path,
):
    ctx = make_ctx(tmp_path)
    history = []
    for _ in range(6):
        citizens.tick(ctx, seed=None, actions=6)
        history.append(ctx.store.metrics("x", "x-post-0"))
        ctx.clock.advance(3600)
    for before, after in itertools.pairwise(history):
        assert all(after.get(k, 0) >= v for k, v in before.items())
    assert history[-1]["views"] > history[0]["views"]
    final = history[-1]
    comments = len(ctx.store.list_items("x", root_id="x-post-0"))
    assert final["views"] > 10 * final["likes"]
    assert final["likes"] > comments
    assert final["reach"] <= final["views"]


def test_younger_posts_grow_faster_than_older_ones(tmp_path):
    ctx = make_ctx(tmp_path)
    citizens.tick(ctx, seed=1, actions=0)
    young = ctx.store.metrics("facebook", "facebook-post-0")["views"]
    old = ctx.store.metrics("facebook", "facebook-post-1").get("views", 0)
    assert young > 20 * max(old, 1)


def test_followers_grow(tmp_path):
    ctx = make_ctx(tmp_path)
    before = ctx.store.get_account("linkedin", "1000001").followers
    result = citizens.tick(ctx, seed=2, actions=0, hours=24)
    after = ctx.store.get_account("linkedin", "1000001").followers
    assert after > before
    assert result["followers_added"]["linkedin"] == after - before


def test_metrics_hook_receives_the_same_deltas_as_the_store(tmp_path):
    ctx = make_ctx(tmp_path)
    seen = {}
    ctx.networks["x"].citizen_metrics = lambda ctx, post, deltas: seen.update(
        {post.item_id: deltas}
    )
    citizens.tick(ctx, seed=2, actions=0)
    assert "x-post-0" in seen
    assert set(seen["x-post-0"]) <= set(citizens.GENERIC_METRICS)
    assert ctx.store.metrics("x", "x-post-0") == seen["x-post-0"]


def test_facebook_comment_sends_a_meta_page_webhook(tmp_path):
    ctx = make_ctx(tmp_path)
    result = citizens.tick(ctx, seed=5, actions=60)
    comment = next(i for i in result["items"]
                   if i["network"] == "facebook" and i["kind"] == "comment")
    payloads = [p for n, p in ctx.sent if n == "facebook"]
    change = next(
        p["entry"][0]["changes"][0] for p in payloads
        if "changes" in p["entry"][0]
        and p["entry"][0]["changes"][0]["value"].get("comment_id")
        == comment["item_id"]
    )
    assert change["field"] == "feed"
    assert change["value"]["item"] == "comment"
    assert change["value"]["message"] == comment["text"]
    assert change["value"]["post_id"] == comment["parent_id"]
    assert all(n in citizens.META_NETWORKS for n, _ in ctx.sent)


def test_module_with_its_own_hook_gets_no_second_webhook(tmp_path):
    ctx = make_ctx(tmp_path, meta_hook=True)
    citizens.tick(ctx, seed=5, actions=60)
    assert [n for n, _ in ctx.sent if n == "facebook"] == []


@pytest.mark.parametrize("kind", ["message", "mention"])
def test_meta_payload_for_messages_and_mentions(tmp_path, kind):
    ctx = make_ctx(tmp_path)
    item = ctx.add_citizen_item(
        "facebook", kind=kind, account_id="104738291045678",
        text="Hej @kobenhavnskommune", author_id="42", author_name="Mette Holm",
    )
    payload = citizens.meta_payload(ctx, item)
    entry = payload["entry"][0]
    assert payload["object"] == "page"
    assert entry["id"] == "104738291045678"
    if kind == "message":
        assert entry["messaging"][0]["message"]["text"] == "Hej @kobenhavnskommune"
        assert entry["messaging"][0]["sender"] == {"id": "42"}
    else:
        assert entry["changes"][0]["field"] == "mention"


def test_tick_endpoint_runs_citizens(tmp_path):
    from starlette.testclient import TestClient

    from sandbox.app import create_app

    app = create_app(SandboxConfig(db_path=str(tmp_path / "app.sqlite3"),
                                   networks=("linkedin",)))
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        response = client.post("/_sandbox/citizens/tick",
                               json={"seed": 4, "actions": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["created"] == 5
    assert {i["network"] for i in body["items"]} == {"linkedin"}


def test_citizens_answer_the_accounts_own_replies(tmp_path):
    ctx = make_ctx(tmp_path)
    for n in range(2):
        ctx.store.add_item("x", "1500000000000000001", f"x-answer-{n}", "reply",
                           text="Tak for din besked", parent_id=f"x-post-{n}",
                           root_id=f"x-post-{n}", author_id="1500000000000000001")
    result = citizens.tick(ctx, seed=9, actions=120, networks=["x"])
    answers = [i for i in result["items"] if i["category"] == "reply_to_account"]
    assert answers
    assert {i["parent_id"] for i in answers} <= {"x-answer-0", "x-answer-1"}
    prefixes = tuple(t.split("{")[0] for t in citizens.REPLIES_TO_ACCOUNT)
    assert all(i["text"].startswith(prefixes) for i in answers)


def test_citizens_work_with_every_installed_emulator(tmp_path):
    from sandbox.app import create_app

    app = create_app(SandboxConfig(db_path=str(tmp_path / "all.sqlite3"), seed=1))
    ctx = app.state.ctx
    ctx.webhooks.send = lambda network, payload: 0
    for network in ctx.networks:
        account = ctx.store.list_accounts(network)[0]
        if not own_posts_exist(ctx, network, account.account_id):
            ctx.store.add_item(network, account.account_id, f"{network}-demo-post",
                               "post", text="Demo", author_id=account.account_id)
    result = citizens.tick(ctx, seed=21, actions=80)
    assert result["failed"] == 0
    assert result["created"] == 80
    reached = {i["network"] for i in result["items"] if i["kind"] == "comment"}
    assert reached == set(ctx.networks)


def own_posts_exist(ctx, network, account_id):
    return bool(citizens.own_posts(ctx, network, account_id))


def test_scheduled_ticks_cover_only_their_interval(tmp_path):
    ctx = make_ctx(tmp_path)
    ctx.config.citizens_every = 60
    before = ctx.store.get_account("linkedin", "1000001").followers
    created = [citizens.tick(ctx)["created"] for _ in range(120)]
    after = ctx.store.get_account("linkedin", "1000001").followers
    assert 80 <= sum(created) <= 160
    assert max(created) <= 4
    assert 0 < after - before < 15
