"""Likes by the connected account on an item, as the emulators keep them.

X, Mastodon, Facebook, Instagram and LinkedIn keep one like per account and
item: the liking accounts are the item's ``data["liked_by"]`` (a list without
repeats), so a second like changes nothing and the tests judge by what
reached the network.
Bluesky is different: a like there is a record of its own (an item of kind
``like`` whose ``parent_id`` is the liked post), and creating a second record
makes a second like (``sandbox/networks/bluesky.py``).
"""

from __future__ import annotations


def liked_by(item) -> list[str]:
    """The accounts that liked ``item`` (an untrusted ``data`` value read
    defensively)."""
    value = (item.data or {}).get("liked_by")
    return [str(v) for v in value] if isinstance(value, list) else []


def set_like(store, network: str, item, account_id: str, liked: bool):
    """Record (or remove) ``account_id``'s like of ``item``; idempotent.
    Returns the item as stored."""
    accounts = [a for a in liked_by(item) if a != account_id]
    if liked:
        accounts.append(account_id)
    return store.update_item(network, item.item_id, data={"liked_by": accounts})
