"""The one way to get a network adapter for a channel.

The editor (counting and validating), the channel pages (verifying), the
worker (publishing, follow-ups, token refresh) and crisis mode all build
their adapter here, so each gets the same wiring:

- one shared HTTP client per network and address (an httpx client costs
  ~20 ms of CPU to build; a shared one reuses keep-alive connections);
- new tokens an adapter receives mid-work are stored on the channel;
- the limits the network reported for this channel (a Mastodon instance's
  own) are handed to the adapter, so every caller counts the same way.
"""

from __future__ import annotations

import inspect
import threading

from .credentials import record_session_tokens
from .networks import adapter_class
from .networks.base import Connection, NetworkAdapter

#: Tests swap adapters here: network slug -> adapter class.
ADAPTER_OVERRIDES: dict[str, type] = {}

_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()


def class_for(network: str) -> type[NetworkAdapter]:
    """The adapter class for ``network``; KeyError for an unknown network."""
    return ADAPTER_OVERRIDES.get(network) or adapter_class(network)


def shared_client(network: str, base_url: str, *, timeout: float | None = None):
    """One ``NetworkClient`` per network and address for the whole process
    (``timeout`` applies when it is first made)."""
    from .networks.http import DEFAULT_TIMEOUT, NetworkClient

    key = (network, base_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = NetworkClient(
                network=network, base_url=base_url, timeout=timeout or DEFAULT_TIMEOUT
            )
            _clients[key] = client
        return client


def build_adapter(
    connection: Connection,
    *,
    channel_id: int | None = None,
    limits: dict | None = None,
    before_write=None,
    timeout: float | None = None,
) -> NetworkAdapter:
    """The adapter for ``connection``.

    With ``channel_id``, new tokens it receives mid-work are stored on that
    channel; ``limits`` are the channel's stored network limits
    (``Channel.network_limits``); ``before_write`` is the send fence the
    adapter calls immediately before each non-idempotent write.
    """
    cls = class_for(connection.network)
    options: dict = {}
    if _accepts(cls, "client"):
        options["client"] = shared_client(
            connection.network, connection.base_url, timeout=timeout
        )
    if channel_id is not None and _accepts(cls, "on_tokens", keywords=False):
        options["on_tokens"] = _TokenRecorder(channel_id)
    takes_hook = _accepts(cls, "before_write")
    if before_write is not None and takes_hook:
        options["before_write"] = before_write
    adapter = cls(connection, **options)
    if before_write is not None and not takes_hook:
        # A subclass whose constructor does not pass the hook on: the base
        # class's fence() reads it from here.
        adapter._before_write = before_write
    if limits:
        restore = getattr(adapter, "restore_limits", None)
        if restore is not None:
            restore(limits)
    return adapter


def adapter_for(
    channel, *, credentials: bool = True, before_write=None, timeout=None
) -> NetworkAdapter:
    """The adapter for ``channel``. Without ``credentials`` it can only
    count and validate (the editor: the rules are pure), and nothing is
    decrypted."""
    if credentials:
        connection = channel.connection()
    else:
        connection = Connection(
            network=channel.network,
            base_url=channel.base_url,
            settings=dict(channel.api_settings),
        )
    return build_adapter(
        connection,
        channel_id=channel.pk,
        limits=channel.network_limits,
        before_write=before_write,
        timeout=timeout,
    )


def store_limits(channel, adapter: NetworkAdapter) -> bool:
    """Keep the limits ``adapter`` loaded from the network on ``channel``
    (every process then counts by them). True when they changed."""
    stored = getattr(adapter, "stored_limits", None)
    limits = stored() if stored is not None else {}
    if not limits or limits == channel.network_limits:
        return False
    channel.network_limits = limits
    channel.save(update_fields=["network_limits"])
    return True


class _TokenRecorder:
    """The ``on_tokens`` hook: store tokens on the channel (outside any
    transaction; a renewed Bluesky session is reused by the next job)."""

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id

    def __call__(self, tokens) -> None:
        record_session_tokens(self.channel_id, tokens)


def _accepts(cls, name: str, *, keywords: bool = True) -> bool:
    parameters = inspect.signature(cls).parameters.values()
    return any(
        p.name == name or (keywords and p.kind is inspect.Parameter.VAR_KEYWORD)
        for p in parameters
    )
