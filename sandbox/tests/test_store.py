import threading
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.store import Store


@pytest.fixture
def clock():
    class Clock:
        moment = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

        def now(self):
            return self.moment

    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    made = Store(tmp_path / "s.sqlite3", now=clock.now)
    yield made
    made.close()


def test_state_survives_reopening_the_file(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = Store(path)
    first.put_account("x", "1", handle="kobenhavn", followers=2900)
    first.add_item("x", "1", "t1", "post", text="Hej", idempotency_key="k")
    first.close()
    again = Store(path)
    assert again.get_account("x", "1").followers == 2900
    assert again.get_item("x", "t1").idempotency_key == "k"
    assert again._one("PRAGMA journal_mode")[0] == "wal"
    again.close()


def test_check_token_follows_the_sandbox_clock(store, clock):
    store.put_token("x", "tok", "1", kind="access",
                    expires_at=clock.moment + timedelta(hours=2))
    assert store.check_token("x", "tok")[1] == ""
    assert store.check_token("x", "tok", kinds=("refresh",))[1] == "wrong_kind"
    clock.moment += timedelta(hours=2)
    token, reason = store.check_token("x", "tok")
    assert (token.token, reason) == ("tok", "expired")
    assert store.check_token("x", "")[1] == "missing"
    assert store.check_token("x", "nope")[1] == "unknown"
    store.put_token("x", "tok2", "1")
    store.revoke_token("x", "tok2")
    assert store.check_token("x", "tok2")[1] == "revoked"


def test_items_filter_by_parent_kind_and_cursor(store):
    store.add_item("m", "1", "p1", "post", text="Opslag", author_id="1")
    c1 = store.add_item("m", "1", "c1", "comment", parent_id="p1", root_id="p1",
                        text="Første")
    store.add_item("m", "1", "c2", "reply", parent_id="c1", root_id="p1",
                   text="Svar")
    assert [i.item_id for i in store.list_items("m", root_id="p1")] == ["c2", "c1"]
    assert [i.item_id for i in store.list_items("m", kind=("comment", "reply"),
                                                after_seq=c1.seq)] == ["c2"]
    assert [i.item_id for i in store.list_items("m", text_contains="FØRSTE")] \
        == ["c1"]
    assert store.delete_item("m", "c1") is True
    assert store.delete_item("m", "c1") is False
    assert store.get_item("m", "c1", include_deleted=False) is None
    assert [i.item_id for i in store.list_items("m", root_id="p1")] == ["c2"]


def test_update_item_merges_data_and_sets_hidden(store):
    store.add_item("f", "1", "c", "comment", data={"a": 1})
    updated = store.update_item("f", "c", hidden=True, data={"b": 2})
    assert updated.hidden is True
    assert updated.data == {"a": 1, "b": 2}
    with pytest.raises(ValueError):
        store.update_item("f", "c", created_at="x")


def test_next_seq_never_repeats_across_threads(store):
    seen = []

    def take():
        for _ in range(200):
            seen.append(store.next_seq("ids"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 1601))


def test_publish_log_and_metrics(store):
    store.log_publish("x", "1", "t1", idempotency_key="k1", text="Hej")
    store.log_publish("x", "2", "t2")
    assert [r.item_id for r in store.published("x", "1")] == ["t1"]
    assert store.published("x", "1")[0].idempotency_key == "k1"
    store.set_metric("x", "t1", "impression_count", 10)
    store.add_metric("x", "t1", "impression_count", 5)
    store.add_metric("x", "t1", "like_count", 2)
    assert store.metrics("x", "t1") == {"impression_count": 15, "like_count": 2}


def test_wipe_empties_everything(store):
    store.put_account("x", "1")
    store.kv_set("x", "quota", {"used": 3})
    store.next_seq("ids")
    store.wipe()
    assert store.list_accounts() == []
    assert store.kv_get("x", "quota") is None
    assert store.next_seq("ids") == 1


def test_putting_an_account_or_token_again_changes_it_and_keeps_its_first_time(
        store, clock):
    first = store.put_account("x", "1", handle="kobenhavn", followers=10)
    store.put_token("x", "tok", "1", kind="access")
    store.revoke_token("x", "tok")
    clock.moment += timedelta(hours=1)
    again = store.put_account("x", "1", handle="kbh", followers=20,
                              extra={"tier": "basic"})
    assert (again.handle, again.followers, again.extra) == ("kbh", 20,
                                                            {"tier": "basic"})
    assert again.created_at == first.created_at
    token = store.put_token("x", "tok", "2", kind="refresh")
    assert (token.account_id, token.kind, token.revoked) == ("2", "refresh", False)
    assert store.check_token("x", "tok", kinds=("refresh",))[1] == ""
    store.set_metric("x", "p1", "likes", 3)
    store.set_metric("x", "p1", "likes", 5)
    store.kv_set("x", "k", {"a": 1})
    store.kv_set("x", "k", {"a": 2})
    assert store.metrics("x", "p1") == {"likes": 5}
    assert store.kv_get("x", "k") == {"a": 2}


def test_rows_are_shown_with_every_field_and_times_as_text(store):
    account = store.put_account("x", "1", handle="kobenhavn", followers=10)
    item = store.add_item("x", "1", "77", "post", text="Hej", author_id="1")
    store.log_publish("x", "1", "77", kind="post", text="Hej")
    [record] = store.published("x", "1")
    assert account.as_json() == {
        "network": "x", "account_id": "1", "handle": "kobenhavn", "display_name": "",
        "followers": 10, "extra": {}, "created_at": "2026-06-01T12:00:00.000000+00:00"}
    shown = item.as_json()
    assert list(shown) == ["seq", "network", "account_id", "item_id", "kind",
                           "parent_id", "root_id", "author_id", "author_name",
                           "text", "data", "idempotency_key", "created_at",
                           "deleted_at", "hidden"]
    assert (shown["created_at"], shown["deleted_at"], shown["hidden"]) == (
        "2026-06-01T12:00:00.000000+00:00", None, False)
    assert record.as_json()["at"] == "2026-06-01T12:00:00.000000+00:00"
    assert record.as_json()["received_at"].endswith("+00:00")  # the wall clock
