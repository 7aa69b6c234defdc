"""Login and password-reset throttling.

Failed logins are counted three ways, each with its own limit within one
window (``KANAL_LOGIN_WINDOW_SECONDS``):

* per (address, account): ``KANAL_LOGIN_MAX_FAILURES`` (5): the person who
  mistypes, or one guesser at one account;
* per account: ``KANAL_LOGIN_MAX_ACCOUNT_FAILURES`` (20): a guesser spread over
  many addresses;
* per address: ``KANAL_LOGIN_MAX_ADDRESS_FAILURES`` (100): one address trying
  many accounts. Higher, because a whole town hall may share one address.

So nobody behind a shared address can lock the others out, and a guesser
gets a handful of tries per account. Password-reset requests have counters of
their own (per e-mail and per address) and never lock logins.

Attempts are counted *before* the password is checked, and a successful one is
refunded, so parallel requests cannot slip past the limit. The counters live
in their own table (``ThrottleCounter``), shared by every web process.

The client's address is ``REMOTE_ADDR`` unless that is one of
``KANAL_TRUSTED_PROXIES``; then ``X-Forwarded-For`` is read from the right,
skipping trusted proxies, and the first other hop is the client. IPv6
addresses are counted per /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ThrottleCounter


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int
    scope: str  # "pair", "account", "address", "reset-email", "reset-address"


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _address_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _digest(address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _window() -> timedelta:
    return timedelta(seconds=settings.KANAL_LOGIN_WINDOW_SECONDS)


def login_counters(username: str, address: str) -> list[Counter]:
    account, where = _digest(username), _address_key(address)
    return [
        Counter(
            f"login:pair:{where}:{account}", settings.KANAL_LOGIN_MAX_FAILURES, "pair"
        ),
        Counter(
            f"login:account:{account}",
            settings.KANAL_LOGIN_MAX_ACCOUNT_FAILURES,
            "account",
        ),
        Counter(
            f"login:address:{where}",
            settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES,
            "address",
        ),
    ]


def reset_counters(email: str, address: str) -> list[Counter]:
    return [
        Counter(
            f"reset:email:{_digest(email)}",
            settings.KANAL_PASSWORD_RESET_MAX_REQUESTS,
            "reset-email",
        ),
        Counter(
            f"reset:address:{_address_key(address)}",
            settings.KANAL_PASSWORD_RESET_MAX_ADDRESS_REQUESTS,
            "reset-address",
        ),
    ]


def sso_counters(address: str) -> list[Counter]:
    """Refused single sign-ons per address (each is audited, so the count
    bounds what one address can write to the log in a window)."""
    return [
        Counter(
            f"sso:address:{_address_key(address)}",
            settings.KANAL_LOGIN_MAX_ADDRESS_FAILURES,
            "address",
        )
    ]


def _hit(key: str) -> int:
    now = timezone.now()
    with transaction.atomic():
        counter, _created = ThrottleCounter.objects.select_for_update().get_or_create(
            key=key, defaults={"count": 0, "window_ends": now + _window()}
        )
        if counter.window_ends <= now:
            counter.count = 0
            counter.window_ends = now + _window()
        counter.count += 1
        counter.save(update_fields=["count", "window_ends"])
        return counter.count


@dataclass(frozen=True)
class Attempt:
    """The outcome of counting one attempt against several counters."""

    counters: tuple[Counter, ...]
    counts: tuple[int, ...]

    @property
    def refused(self) -> Counter | None:
        """The counter that was already full before this attempt, if any."""
        for counter, count in zip(self.counters, self.counts, strict=True):
            if count > counter.limit:
                return counter
        return None

    @property
    def reached(self) -> Counter | None:
        """The counter this attempt filled (if it fails), if any."""
        for counter, count in zip(self.counters, self.counts, strict=True):
            if count == counter.limit:
                return counter
        return None


def attempt(counters: list[Counter]) -> Attempt:
    """Count one attempt on every counter; see ``Attempt.refused``.

    A refused attempt is taken back from every counter again: it checked no
    password, so it must not fill the other counters (an address that is
    locked cannot go on to lock the accounts it names).
    """
    result = Attempt(tuple(counters), tuple(_hit(c.key) for c in counters))
    if result.refused is not None:
        _give_back([c.key for c in counters])
    return result


def _give_back(keys: list[str]) -> None:
    ThrottleCounter.objects.filter(
        key__in=keys, window_ends__gt=timezone.now(), count__gt=0
    ).update(count=F("count") - 1)


def refund(counters: list[Counter]) -> None:
    """A counted attempt succeeded: it was not a failure.

    The (address, account) counter is cleared (the person is back); the wider
    counters only give the one attempt back, so a guesser's failures there
    stay counted.
    """
    pair = [c.key for c in counters if c.scope == "pair"]
    ThrottleCounter.objects.filter(key__in=pair).delete()
    _give_back([c.key for c in counters if c.scope != "pair"])


def prune(*, now=None, dry_run: bool = False) -> int:
    """Delete counters whose window has passed (a periodic job)."""
    expired = ThrottleCounter.objects.filter(window_ends__lte=now or timezone.now())
    if dry_run:
        return expired.count()
    return expired.delete()[0]


@lru_cache(maxsize=8)
def _trusted(setting: str) -> tuple:
    networks = []
    for part in setting.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(networks)


def trusted_proxies() -> tuple:
    """``KANAL_TRUSTED_PROXIES`` parsed (addresses or networks)."""
    return _trusted(settings.KANAL_TRUSTED_PROXIES)


def _is_trusted(ip, networks) -> bool:
    return any(ip.version == n.version and ip in n for n in networks)


def parse_address(text: str):
    """An address as the server or a proxy wrote it, or None. An IPv4 peer
    of a server listening on IPv6 (``KANAL_WEB_BIND=[::]:8000``) arrives as
    ``::ffff:a.b.c.d``; it is that IPv4 address, to KANAL_TRUSTED_PROXIES
    and to the throttle's counters alike."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return (ip.ipv4_mapped if ip.version == 6 else None) or ip


def client_address(request) -> str:
    """The client's address, believing ``X-Forwarded-For`` only as far as
    the hops are trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    nearest = parse_address(remote)
    if nearest is None:
        return remote or "unknown"
    networks = trusted_proxies()
    if not networks or not _is_trusted(nearest, networks):
        return str(nearest)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        ip = parse_address(hop)
        if ip is None:
            # Whatever stands left of here was written by the client.
            break
        if not _is_trusted(ip, networks):
            return str(ip)
        nearest = ip
    return str(nearest)
