"""Demo accounts of Københavns Kommune, written on a fresh database.

The ids, handles and tokens are fixed so that Kanal's demo data can point at
them (they are listed in ``sandbox/README.md``). Tokens last until 2036 so the
demo never needs reconnecting. Each network module may add its own demo data
through a ``seed(ctx)`` hook, run once per module and database: earlier posts
of the demo accounts with citizens' comments, and public hashtag posts.

Kanal's demo (``make run``) publishes the accounts' history itself, through
its own publishing engine, so that what the sandbox holds is exactly what
Kanal's calendar and operations page show. It therefore starts the sandbox
with ``SANDBOX_DEMO_POSTS=0``: the accounts and tokens are written, the
modules' own posts are not (simulated citizens still comment on what Kanal
publishes, and post with the city's hashtags).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

logger = logging.getLogger("sandbox")

#: Environment switch: "0" leaves the demo accounts without the modules' posts.
DEMO_POSTS_ENV = "SANDBOX_DEMO_POSTS"


def module_posts_wanted() -> bool:
    return os.environ.get(DEMO_POSTS_ENV, "1").strip().lower() not in {
        "0", "false", "no", "off",
    }

DEMO_EXPIRY = datetime(2036, 1, 1, tzinfo=UTC)

# network, account_id, handle, display_name, followers, extra, tokens
# tokens: (kind, token, expires_at or None for "never")
DEMO_ACCOUNTS: list[dict] = [
    {
        "network": "facebook",
        "account_id": "104738291045678",
        "handle": "kobenhavnskommune",
        "display_name": "Københavns Kommune",
        "followers": 43000,
        "extra": {"fan_count": 41250, "category": "Government Organization",
                  "user_id": "100090000000001"},
        "tokens": [
            ("page", "sandbox-facebook-page-token-kk", None),
            ("user", "sandbox-facebook-user-token-kk", DEMO_EXPIRY),
        ],
    },
    {
        "network": "instagram",
        "account_id": "17841400000000001",
        "handle": "kobenhavnskommune",
        "display_name": "Københavns Kommune",
        "followers": 6000,
        "extra": {"page_id": "104738291045678"},
        "tokens": [("access", "sandbox-instagram-token-kk", DEMO_EXPIRY)],
    },
    {
        "network": "x",
        "account_id": "1500000000000000001",
        "handle": "kobenhavn",
        "display_name": "Københavns Kommune",
        "followers": 2900,
        "extra": {},
        "tokens": [
            ("access", "sandbox-x-access-token-kk", DEMO_EXPIRY),
            ("refresh", "sandbox-x-refresh-token-kk", DEMO_EXPIRY),
        ],
    },
    {
        "network": "mastodon",
        "account_id": "109000000000000001",
        "handle": "kobenhavn",
        "display_name": "Københavns Kommune",
        "followers": 1850,
        "extra": {"acct": "kobenhavn"},
        "tokens": [("access", "sandbox-mastodon-token-kk", None)],
    },
    {
        "network": "bluesky",
        "account_id": "did:plc:kbhkommune7x2q4m5n6p3r",
        "handle": "kobenhavn.bsky.social",
        "display_name": "Københavns Kommune",
        "followers": 3400,
        "extra": {},
        "tokens": [
            ("app_password", "kbhk-demo-pass-word", None),
            ("access", "sandbox-bluesky-access-jwt-kk", DEMO_EXPIRY),
            ("refresh", "sandbox-bluesky-refresh-jwt-kk", DEMO_EXPIRY),
        ],
    },
    {
        "network": "linkedin",
        "account_id": "1000001",
        "handle": "kobenhavns-kommune",
        "display_name": "Københavns Kommune",
        "followers": 48500,
        "extra": {"urn": "urn:li:organization:1000001"},
        "tokens": [
            ("access", "sandbox-linkedin-access-token-kk", DEMO_EXPIRY),
            ("refresh", "sandbox-linkedin-refresh-token-kk", DEMO_EXPIRY),
        ],
    },
    {
        "network": "threads",
        "account_id": "26000000000000001",
        "handle": "kobenhavnskommune",
        "display_name": "Københavns Kommune",
        "followers": 1200,
        "extra": {},
        "tokens": [("access", "sandbox-threads-token-kk", DEMO_EXPIRY)],
    },
]

SEEDED_KEY = "seeded"


def seed_demo(ctx) -> None:
    """Write the demo accounts (once), then run each module's ``seed`` hook."""
    store = ctx.store
    if not store.kv_get("_sandbox", SEEDED_KEY):
        for demo in DEMO_ACCOUNTS:
            store.put_account(
                demo["network"], demo["account_id"], handle=demo["handle"],
                display_name=demo["display_name"], followers=demo["followers"],
                extra=demo["extra"],
            )
            for kind, token, expires_at in demo["tokens"]:
                store.put_token(
                    demo["network"], token, demo["account_id"], kind=kind,
                    expires_at=expires_at,
                )
        store.kv_set("_sandbox", SEEDED_KEY, True)
    if not module_posts_wanted():
        # Marked as done, so a later start without the switch does not add
        # posts Kanal never made to this database's accounts.
        for slug in ctx.networks:
            if not store.kv_get(slug, SEEDED_KEY):
                store.kv_set(slug, SEEDED_KEY, "skipped")
        logger.info(
            "demo accounts without earlier posts (%s=0): Kanal publishes them",
            DEMO_POSTS_ENV,
        )
        return
    for slug, module in ctx.networks.items():
        hook = getattr(module, "seed", None)
        if hook is None or store.kv_get(slug, SEEDED_KEY):
            continue
        try:
            hook(ctx)
        except Exception:
            logger.exception("seed hook of %s failed", slug)
            continue
        store.kv_set(slug, SEEDED_KEY, True)


def demo_account(network: str) -> dict:
    return next(d for d in DEMO_ACCOUNTS if d["network"] == network)
