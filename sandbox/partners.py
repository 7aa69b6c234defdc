"""Partner accounts: other authorities' accounts that Kanal follows as a
source, seeded once per network (also after a reset) by the emulator that
answers for them."""

from __future__ import annotations

from datetime import timedelta

KEY = "partners_seeded"


def seed_once(ctx, network: str, accounts, *, followers: int, write_post,
              extra=None) -> None:
    """Write ``accounts`` (``(id, handle, name, posts)``; a post's second
    field is how many hours ago it was made) and their posts, oldest first,
    unless they are written already. ``write_post(account_id, handle, name,
    post, at)`` stores one post the network's way; ``extra(handle)`` gives
    the account's own extra fields."""
    store = ctx.store
    if store.kv_get(network, KEY):
        return
    store.kv_set(network, KEY, True)
    now = ctx.now()
    for account_id, handle, name, posts in accounts:
        store.put_account(
            network, account_id, handle=handle, display_name=name,
            followers=followers,
            extra={**(extra(handle) if extra else {}), "partner": True},
        )
        for post in sorted(posts, key=lambda p: -p[1]):
            write_post(account_id, handle, name, post, now - timedelta(hours=post[1]))
