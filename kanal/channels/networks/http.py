"""The one HTTP client every adapter uses.

It sets timeouts, logs one line per call (never a token or a body), and turns
transport failures into Kanal's errors. Deciding what a *response* means is the
adapter's job: it calls ``request`` and inspects status and body itself, or
passes ``translate`` to map error responses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from .errors import NetworkError, OutcomeUnknown, TransientError

logger = logging.getLogger("kanal.networks")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Translate = Callable[[httpx.Response], NetworkError | None]


class NetworkClient:
    """A thin wrapper around ``httpx.Client`` for one network and base URL."""

    def __init__(
        self,
        *,
        network: str,
        base_url: str,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.network = network
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "Kanal/0.1", **(headers or {})},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        translate: Translate | None = None,
        **kwargs,
    ) -> httpx.Response:
        """Send one request; raise a Kanal error for transport failures.

        A timeout or a dropped connection *after the request was written* on a
        non-idempotent method raises ``OutcomeUnknown``: the network may have
        applied it. Failures before anything was sent raise ``TransientError``.
        If ``translate`` returns an error for the response, it is raised.
        """
        method = method.upper()
        started = time.monotonic()
        try:
            response = self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            self._log(method, url, "connect-failed", started)
            raise TransientError(
                "Kanal kunne ikke få forbindelse til netværket. "
                "Kanal prøver igen automatisk.",
                network=self.network,
                network_message=type(e).__name__,
            ) from e
        except (httpx.TimeoutException, httpx.RemoteProtocolError,
                httpx.ReadError, httpx.WriteError) as e:
            self._log(method, url, "no-answer", started)
            if method in SAFE_METHODS:
                raise TransientError(
                    "Netværket svarede ikke i tide. Kanal prøver igen automatisk.",
                    network=self.network,
                    network_message=type(e).__name__,
                ) from e
            raise OutcomeUnknown(
                network=self.network, network_message=type(e).__name__
            ) from e
        except httpx.HTTPError as e:
            self._log(method, url, "error", started)
            raise TransientError(
                network=self.network, network_message=type(e).__name__
            ) from e
        self._log(method, url, response.status_code, started)
        if translate is not None:
            error = translate(response)
            if error is not None:
                if not error.network:
                    error.network = self.network
                raise error
        return response

    def _log(self, method: str, url: str, outcome, started: float) -> None:
        path = url.split("?", 1)[0]
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "%s %s %s%s -> %s in %.0f ms",
            self.network, method, self.base_url, path, outcome, elapsed_ms,
        )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def epoch_to_datetime(value: str | None) -> datetime | None:
    """A Unix-epoch header value (``x-rate-limit-reset``) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
