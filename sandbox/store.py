"""The sandbox's state: one SQLite file (WAL) shared by every emulator.

The schema is generic on purpose: seven networks fit in the same tables
(accounts, tokens, items, metrics, subscriptions, publish_log, kv). A network
module stores whatever is specific to it in the JSON ``data``/``extra``
columns and chooses its own id style (``Store.next_seq`` helps).

Every method takes the lock and commits before it returns, so the store is
safe to share between uvicorn's event loop, its thread pool and the webhook
and citizen threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    network TEXT NOT NULL,
    account_id TEXT NOT NULL,
    handle TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    followers INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    PRIMARY KEY (network, account_id)
);
CREATE TABLE IF NOT EXISTS tokens (
    network TEXT NOT NULL,
    token TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'access',
    expires_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    PRIMARY KEY (network, token)
);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    network TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT NOT NULL DEFAULT '',
    root_id TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL DEFAULT '',
    author_name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}',
    idempotency_key TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    UNIQUE (network, item_id)
);
CREATE INDEX IF NOT EXISTS items_account ON items (network, account_id, kind);
CREATE INDEX IF NOT EXISTS items_parent ON items (network, parent_id);
CREATE INDEX IF NOT EXISTS items_root ON items (network, root_id);
CREATE INDEX IF NOT EXISTS items_key ON items (network, account_id, idempotency_key);
CREATE TABLE IF NOT EXISTS metrics (
    network TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (network, subject_id, name)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    network TEXT NOT NULL,
    object TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '',
    callback_url TEXT NOT NULL,
    verify_token TEXT NOT NULL DEFAULT '',
    verified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS publish_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    network TEXT NOT NULL,
    account_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'post',
    idempotency_key TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    received_at TEXT
);
CREATE TABLE IF NOT EXISTS kv (
    network TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (network, key)
);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

TABLES = (
    "accounts", "tokens", "items", "metrics", "subscriptions", "publish_log",
    "kv", "sequences",
)


def to_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class _Record:
    """A row as the control API shows it: every field, times as ISO 8601."""

    def as_json(self) -> dict:
        shown = {}
        for column in fields(self):
            value = getattr(self, column.name)
            is_time = isinstance(value, datetime)
            shown[column.name] = to_text(value) if is_time else value
        return shown


@dataclass(frozen=True)
class Account(_Record):
    network: str
    account_id: str
    handle: str
    display_name: str
    followers: int
    extra: dict = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(frozen=True)
class Token:
    network: str
    token: str
    account_id: str
    kind: str  # "access" | "refresh" | "app" | "page" | "user" | "code" …
    expires_at: datetime | None
    revoked: bool = False
    extra: dict = field(default_factory=dict)
    created_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Item(_Record):
    seq: int
    network: str
    account_id: str
    item_id: str
    kind: str  # post | comment | reply | mention | message | container | media …
    parent_id: str
    root_id: str
    author_id: str
    author_name: str
    text: str
    data: dict
    idempotency_key: str
    created_at: datetime
    deleted_at: datetime | None
    hidden: bool

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Subscription:
    id: int
    network: str
    object: str
    fields: str
    callback_url: str
    verify_token: str
    verified: bool


@dataclass(frozen=True)
class PublishRecord(_Record):
    seq: int
    network: str
    account_id: str
    item_id: str
    kind: str
    idempotency_key: str
    text: str
    at: datetime
    # Wall clock (never the sandbox clock) when the request that made it
    # arrived, before any latency or fault delay.
    received_at: datetime | None = None



class Store:
    """Typed access to the SQLite file. ``now`` gives the (shiftable) time."""

    def __init__(self, path: str | Path, *, now=None) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._db.row_factory = sqlite3.Row
        # SQLite's lower() folds ASCII only; Danish text needs æ/ø/å too.
        self._db.create_function(
            "fold", 1, lambda v: v.casefold() if isinstance(v, str) else v,
            deterministic=True,
        )
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            columns = {r[1] for r in self._db.execute(
                "PRAGMA table_info(publish_log)")}
            if "received_at" not in columns:  # a file from an older sandbox
                self._db.execute("ALTER TABLE publish_log ADD COLUMN received_at TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def now(self) -> datetime:
        return self._now()

    def _exec(self, sql: str, params: Iterable = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, tuple(params))

    def _upsert(self, table: str, keys: tuple[str, ...], row: dict) -> None:
        """Insert ``row`` into ``table``; where a row with the same ``keys``
        exists, set its other columns instead (all but ``created_at``, which
        keeps the first time). Names are the store's own, never a caller's."""
        columns = list(row)
        changed = [c for c in columns if c not in keys and c != "created_at"]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in changed)
        )
        self._exec(sql, row.values())

    def _all(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Iterable = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchone()

    def wipe(self) -> None:
        """Delete every row of every table (the control API's reset)."""
        with self._lock:
            self._db.execute("BEGIN")
            for table in TABLES:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608
            self._db.execute("DELETE FROM sqlite_sequence")
            self._db.execute("COMMIT")

    # -- sequences and key/value ------------------------------------------

    def next_seq(self, name: str, start: int = 1) -> int:
        """A counter that never repeats (for network-style ids)."""
        with self._lock:
            row = self._db.execute(
                "INSERT INTO sequences (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1 "
                "RETURNING value",
                (name, start),
            ).fetchone()
            return int(row[0])

    def kv_get(self, network: str, key: str, default=None):
        row = self._one(
            "SELECT value FROM kv WHERE network = ? AND key = ?", (network, key)
        )
        return json.loads(row["value"]) if row else default

    def kv_set(self, network: str, key: str, value) -> None:
        self._upsert("kv", ("network", "key"),
                     {"network": network, "key": key, "value": json.dumps(value)})

    # -- accounts -----------------------------------------------------------

    def put_account(
        self,
        network: str,
        account_id: str,
        *,
        handle: str = "",
        display_name: str = "",
        followers: int = 0,
        extra: dict | None = None,
    ) -> Account:
        self._upsert("accounts", ("network", "account_id"), {
            "network": network, "account_id": account_id, "handle": handle,
            "display_name": display_name, "followers": int(followers),
            "extra": json.dumps(extra or {}), "created_at": to_text(self.now()),
        })
        return self.get_account(network, account_id)

    def get_account(self, network: str, account_id: str) -> Account | None:
        row = self._one(
            "SELECT * FROM accounts WHERE network = ? AND account_id = ?",
            (network, account_id),
        )
        return _account(row) if row else None

    def find_account(self, network: str, handle: str) -> Account | None:
        row = self._one(
            "SELECT * FROM accounts WHERE network = ? AND handle = ?",
            (network, handle),
        )
        return _account(row) if row else None

    def list_accounts(self, network: str | None = None) -> list[Account]:
        if network:
            rows = self._all(
                "SELECT * FROM accounts WHERE network = ? ORDER BY created_at",
                (network,),
            )
        else:
            rows = self._all("SELECT * FROM accounts ORDER BY network, created_at")
        return [_account(r) for r in rows]

    def update_account(self, network: str, account_id: str, **changes) -> Account:
        """Change ``handle``, ``display_name``, ``followers`` or merge ``extra``."""
        current = self.get_account(network, account_id)
        if current is None:
            raise KeyError(account_id)
        extra = {**current.extra, **changes.pop("extra", {})}
        self._exec(
            "UPDATE accounts SET handle = ?, display_name = ?, followers = ?, "
            "extra = ? WHERE network = ? AND account_id = ?",
            (changes.get("handle", current.handle),
             changes.get("display_name", current.display_name),
             int(changes.get("followers", current.followers)),
             json.dumps(extra), network, account_id),
        )
        return self.get_account(network, account_id)

    def add_followers(self, network: str, account_id: str, delta: int) -> None:
        self._exec(
            "UPDATE accounts SET followers = MAX(0, followers + ?) "
            "WHERE network = ? AND account_id = ?",
            (int(delta), network, account_id),
        )

    # -- tokens -------------------------------------------------------------

    def put_token(
        self,
        network: str,
        token: str,
        account_id: str = "",
        *,
        kind: str = "access",
        expires_at: datetime | None = None,
        extra: dict | None = None,
    ) -> Token:
        self._upsert("tokens", ("network", "token"), {
            "network": network, "token": token, "account_id": account_id,
            "kind": kind, "expires_at": to_text(expires_at), "revoked": 0,
            "extra": json.dumps(extra or {}), "created_at": to_text(self.now()),
        })
        return self.get_token(network, token)

    def get_token(self, network: str, token: str) -> Token | None:
        if not token:
            return None
        row = self._one(
            "SELECT * FROM tokens WHERE network = ? AND token = ?", (network, token)
        )
        return _token(row) if row else None

    def check_token(
        self, network: str, token: str, kinds: Iterable[str] | None = None
    ) -> tuple[Token | None, str]:
        """``(token, "")`` when usable, else ``(token or None, reason)``.

        ``reason`` is ``"missing"``, ``"unknown"``, ``"wrong_kind"``,
        ``"revoked"`` or ``"expired"`` (against the sandbox clock).
        """
        if not token:
            return None, "missing"
        found = self.get_token(network, token)
        if found is None:
            return None, "unknown"
        if kinds is not None and found.kind not in set(kinds):
            return found, "wrong_kind"
        if found.revoked:
            return found, "revoked"
        if found.expired(self.now()):
            return found, "expired"
        return found, ""

    def tokens_for(self, network: str, account_id: str) -> list[Token]:
        rows = self._all(
            "SELECT * FROM tokens WHERE network = ? AND account_id = ? "
            "ORDER BY created_at",
            (network, account_id),
        )
        return [_token(r) for r in rows]

    def revoke_token(self, network: str, token: str) -> None:
        self._exec(
            "UPDATE tokens SET revoked = 1 WHERE network = ? AND token = ?",
            (network, token),
        )

    def expire_token(self, network: str, token: str) -> None:
        self._exec(
            "UPDATE tokens SET expires_at = ? WHERE network = ? AND token = ?",
            (to_text(self.now()), network, token),
        )

    # -- items --------------------------------------------------------------

    def add_item(
        self,
        network: str,
        account_id: str,
        item_id: str,
        kind: str,
        *,
        text: str = "",
        parent_id: str = "",
        root_id: str = "",
        author_id: str = "",
        author_name: str = "",
        data: dict | None = None,
        idempotency_key: str = "",
        created_at: datetime | None = None,
        hidden: bool = False,
    ) -> Item:
        self._exec(
            "INSERT INTO items (network, account_id, item_id, kind, parent_id, "
            "root_id, author_id, author_name, text, data, idempotency_key, "
            "created_at, hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (network, account_id, item_id, kind, parent_id, root_id, author_id,
             author_name, text, json.dumps(data or {}), idempotency_key,
             to_text(created_at or self.now()), int(hidden)),
        )
        return self.get_item(network, item_id)

    def get_item(
        self, network: str, item_id: str, *, include_deleted: bool = True
    ) -> Item | None:
        row = self._one(
            "SELECT * FROM items WHERE network = ? AND item_id = ?",
            (network, item_id),
        )
        item = _item(row) if row else None
        if item is not None and item.deleted and not include_deleted:
            return None
        return item

    def update_item(self, network: str, item_id: str, **changes) -> Item:
        """Set ``text``, ``hidden``, ``kind``, ``parent_id`` …; ``data`` is merged."""
        current = self.get_item(network, item_id)
        if current is None:
            raise KeyError(item_id)
        data = {**current.data, **changes.pop("data", {})}
        allowed = {"text", "hidden", "kind", "parent_id", "root_id", "author_id",
                   "author_name", "account_id", "idempotency_key"}
        sets, params = ["data = ?"], [json.dumps(data)]
        for name, value in changes.items():
            if name not in allowed:
                raise ValueError(name)
            sets.append(f"{name} = ?")
            params.append(int(value) if name == "hidden" else value)
        self._exec(
            f"UPDATE items SET {', '.join(sets)} "  # noqa: S608
            "WHERE network = ? AND item_id = ?",
            (*params, network, item_id),
        )
        return self.get_item(network, item_id)

    def delete_item(self, network: str, item_id: str) -> bool:
        """Mark deleted; False when it did not exist or was already deleted."""
        cursor = self._exec(
            "UPDATE items SET deleted_at = ? WHERE network = ? AND item_id = ? "
            "AND deleted_at IS NULL",
            (to_text(self.now()), network, item_id),
        )
        return cursor.rowcount == 1

    def list_items(
        self,
        network: str,
        *,
        account_id: str | None = None,
        kind: str | Iterable[str] | None = None,
        parent_id: str | None = None,
        root_id: str | None = None,
        author_id: str | None = None,
        idempotency_key: str | None = None,
        text_contains: str | None = None,
        since: datetime | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        include_deleted: bool = False,
        include_hidden: bool = True,
        newest_first: bool = True,
        limit: int | None = None,
    ) -> list[Item]:
        where, params = ["network = ?"], [network]
        for column, value in (
            ("account_id", account_id), ("parent_id", parent_id),
            ("root_id", root_id), ("author_id", author_id),
            ("idempotency_key", idempotency_key),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        if text_contains:
            where.append("instr(fold(text), fold(?)) > 0")
            params.append(text_contains)
        if since is not None:
            where.append("created_at >= ?")
            params.append(to_text(since))
        if after_seq is not None:
            where.append("seq > ?")
            params.append(after_seq)
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        if not include_deleted:
            where.append("deleted_at IS NULL")
        if not include_hidden:
            where.append("hidden = 0")
        sql = (
            f"SELECT * FROM items WHERE {' AND '.join(where)} "  # noqa: S608
            f"ORDER BY seq {'DESC' if newest_first else 'ASC'}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_item(r) for r in self._all(sql, params)]

    # -- metrics ------------------------------------------------------------

    def metrics(self, network: str, subject_id: str) -> dict[str, int]:
        rows = self._all(
            "SELECT name, value FROM metrics WHERE network = ? AND subject_id = ?",
            (network, subject_id),
        )
        return {r["name"]: int(r["value"]) for r in rows}

    def set_metric(self, network: str, subject_id: str, name: str, value: int):
        self._upsert("metrics", ("network", "subject_id", "name"), {
            "network": network, "subject_id": subject_id, "name": name,
            "value": int(value), "updated_at": to_text(self.now()),
        })

    def add_metric(self, network: str, subject_id: str, name: str, delta: int):
        self._exec(
            "INSERT INTO metrics (network, subject_id, name, value, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(network, subject_id, name) "
            "DO UPDATE SET value = value + excluded.value, "
            "updated_at = excluded.updated_at",
            (network, subject_id, name, int(delta), to_text(self.now())),
        )

    # -- webhook subscriptions ---------------------------------------------

    def add_subscription(
        self,
        network: str,
        callback_url: str,
        *,
        object: str = "",
        fields: str = "",
        verify_token: str = "",
        verified: bool = False,
    ) -> Subscription:
        cursor = self._exec(
            "INSERT INTO subscriptions (network, object, fields, callback_url, "
            "verify_token, verified, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (network, object, fields, callback_url, verify_token, int(verified),
             to_text(self.now())),
        )
        return self.subscriptions(network, subscription_id=cursor.lastrowid)[0]

    def subscriptions(
        self, network: str, *, subscription_id: int | None = None
    ) -> list[Subscription]:
        sql, params = "SELECT * FROM subscriptions WHERE network = ?", [network]
        if subscription_id is not None:
            sql += " AND id = ?"
            params.append(subscription_id)
        return [
            Subscription(
                id=r["id"], network=r["network"], object=r["object"],
                fields=r["fields"], callback_url=r["callback_url"],
                verify_token=r["verify_token"], verified=bool(r["verified"]),
            )
            for r in self._all(sql + " ORDER BY id", params)
        ]

    def delete_subscriptions(self, network: str) -> None:
        self._exec("DELETE FROM subscriptions WHERE network = ?", (network,))

    # -- publish log (the sandbox's own proof of exactly-once) -------------

    def log_publish(
        self,
        network: str,
        account_id: str,
        item_id: str,
        *,
        kind: str = "post",
        idempotency_key: str = "",
        text: str = "",
    ) -> None:
        from .faults import current_request

        request = current_request()
        received = request.received_at if request is not None else None
        self._exec(
            "INSERT INTO publish_log (network, account_id, item_id, kind, "
            "idempotency_key, text, at, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (network, account_id, item_id, kind, idempotency_key, text,
             to_text(self.now()), to_text(received or datetime.now(UTC))),
        )

    def published(
        self,
        network: str | None = None,
        account_id: str | None = None,
        kind: str | None = None,
    ) -> list[PublishRecord]:
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if network:
            where.append("network = ?")
            params.append(network)
        if account_id:
            where.append("account_id = ?")
            params.append(account_id)
        sql = "SELECT * FROM publish_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [
            PublishRecord(
                seq=r["seq"], network=r["network"], account_id=r["account_id"],
                item_id=r["item_id"], kind=r["kind"],
                idempotency_key=r["idempotency_key"], text=r["text"],
                at=from_text(r["at"]), received_at=from_text(r["received_at"]),
            )
            for r in self._all(sql + " ORDER BY seq", params)
        ]


def _account(row: sqlite3.Row) -> Account:
    return Account(
        network=row["network"], account_id=row["account_id"], handle=row["handle"],
        display_name=row["display_name"], followers=int(row["followers"]),
        extra=json.loads(row["extra"]), created_at=from_text(row["created_at"]),
    )


def _token(row: sqlite3.Row) -> Token:
    return Token(
        network=row["network"], token=row["token"], account_id=row["account_id"],
        kind=row["kind"], expires_at=from_text(row["expires_at"]),
        revoked=bool(row["revoked"]), extra=json.loads(row["extra"]),
        created_at=from_text(row["created_at"]),
    )


def _item(row: sqlite3.Row) -> Item:
    return Item(
        seq=int(row["seq"]), network=row["network"], account_id=row["account_id"],
        item_id=row["item_id"], kind=row["kind"], parent_id=row["parent_id"],
        root_id=row["root_id"], author_id=row["author_id"],
        author_name=row["author_name"], text=row["text"],
        data=json.loads(row["data"]), idempotency_key=row["idempotency_key"],
        created_at=from_text(row["created_at"]),
        deleted_at=from_text(row["deleted_at"]), hidden=bool(row["hidden"]),
    )
