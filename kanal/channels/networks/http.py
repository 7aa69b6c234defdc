"""The one HTTP client every adapter uses.

It sets timeouts, logs one line per call (never a token or a body), and turns
transport failures into Kanal's errors. Deciding what a *response* means is the
adapter's job: it calls ``request`` and inspects status and body itself, or
passes ``translate`` to map error responses.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from .errors import (
    UNREADABLE_AFTER_WRITE,
    UNREADABLE_ANSWER,
    Fenced,
    NetworkError,
    OutcomeUnknown,
    RateLimited,
    TransientError,
    gettext_noop,
)

logger = logging.getLogger("kanal.networks")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Translate = Callable[[httpx.Response], NetworkError | None]

_deadline = threading.local()


def set_write_deadline(
    deadline: float | None, confirm: Callable[[], None] | None = None
) -> None:
    """The ``time.monotonic()`` moment after which this thread's next write
    (``request(write=True)``) must not be sent; None clears it.

    The caller's fence sets it when it grants a write (its lease covers the
    write until then): a thread paused between the fence and the send (a
    stopped process, a long GC) then raises ``errors.Fenced("deadline")``
    instead of sending after another worker may have taken over.

    ``confirm`` is called immediately before the request leaves, after the
    deadline check: it raises ``errors.Fenced`` when a stop (a withdrawal, a
    crisis, a disabled channel) committed after the fence's own statement,
    so the only gap left between a stop and a send is the request's own
    bytes on the wire. Both are used once: the write that checks them
    clears them.
    """
    _deadline.value = deadline
    _deadline.confirm = confirm if deadline is not None else None

UNKNOWN_AFTER_WRITE = gettext_noop(
    "Netværket svarede med en fejl, efter opslaget var sendt, så Kanal ved ikke, "
    "om det kom ud. Kanal tjekker kontoen, før der sendes igen."
)


def unknown_after_write(error: NetworkError) -> NetworkError:
    """The error to raise for ``error`` answering a non-idempotent write.

    A 5xx "temporary" error says nothing about whether the network applied the
    write before failing, so it becomes ``OutcomeUnknown`` with the same
    details. A rate limit is a refusal before the work and stays as it is, as
    does every 4xx answer (also a 4xx "not ready yet", which refused the work).
    """
    if (
        isinstance(error, TransientError)
        and not isinstance(error, RateLimited)
        and (error.http_status or 500) >= 500
    ):
        return OutcomeUnknown(
            UNKNOWN_AFTER_WRITE,
            network=error.network,
            network_code=error.network_code,
            network_message=error.network_message,
            http_status=error.http_status,
        )
    return error


def read_json(
    response: httpx.Response, *, network: str, write: bool = False,
    message: str = "",
):
    """The JSON body of a 2xx answer; an unreadable one raises.

    For a write that cannot be sent twice, an unreadable (or truncated) body
    is ``OutcomeUnknown``: the network may have applied it. For anything else
    it is a ``TransientError``.
    """
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        # RecursionError: JSON nested deeper than the parser goes.
        detail = {
            "network": network,
            "http_status": response.status_code,
            "network_message": "answer was not JSON: " + response.text[:120],
        }
        if write:
            raise OutcomeUnknown(UNREADABLE_AFTER_WRITE, **detail) from e
        raise TransientError(message or UNREADABLE_ANSWER, **detail) from e


def error_json(response: httpx.Response):
    """The JSON body of an error answer, or None when it has none Kanal can
    read (not JSON, or nested deeper than the parser goes): the caller then
    words the error from the status alone."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def missing_in_answer(
    response: httpx.Response, *, network: str, what: str
) -> OutcomeUnknown:
    """A 2xx answer to a write that lacks what identifies the result."""
    return OutcomeUnknown(
        UNREADABLE_AFTER_WRITE,
        network=network,
        http_status=response.status_code,
        network_message=f"answer without {what}",
    )


def server_date(response: httpx.Response) -> datetime | None:
    """The network's own clock from the ``Date`` header, or None."""
    value = response.headers.get("date", "")
    if not value:
        return None
    # Two Date headers (a proxy and the origin) arrive joined by ", ".
    end = value.find("GMT")
    if end != -1:
        value = value[: end + 3]
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        # (network's Date, Kanal's clock) of the latest answer with a Date.
        self._clock_sample: tuple[datetime, datetime] | None = None

    def close(self) -> None:
        self._client.close()

    def network_offset(self) -> timedelta | None:
        """How far the network's clock is ahead of Kanal's (negative: behind),
        from the ``Date`` header of the latest answer; None before any."""
        sample = self._clock_sample
        if sample is None:
            return None
        theirs, ours = sample
        # Date has whole seconds (truncated): add half a second on average.
        return theirs + timedelta(milliseconds=500) - ours

    def request(
        self,
        method: str,
        url: str,
        *,
        translate: Translate | None = None,
        write: bool = False,
        **kwargs,
    ) -> httpx.Response:
        """Send one request; raise a Kanal error for transport failures.

        A timeout or a dropped connection *after the request was written* on a
        non-idempotent method raises ``OutcomeUnknown``: the network may have
        applied it. Failures before anything was sent raise ``TransientError``.
        If ``translate`` returns an error for the response, it is raised.

        ``write=True`` marks a write that must not be sent twice (a create,
        publish, reply, pin, repost): then a 5xx answer is raised as
        ``OutcomeUnknown`` too, because the network may have applied the write
        before it failed.
        """
        method = method.upper()
        if write:
            deadline = getattr(_deadline, "value", None)
            confirm = getattr(_deadline, "confirm", None)
            _deadline.value = _deadline.confirm = None
            if deadline is not None and time.monotonic() > deadline:
                self._log(method, url, "fenced (write deadline passed)",
                          time.monotonic())
                raise Fenced("deadline")
            if confirm is not None:
                try:
                    confirm()
                except Fenced as e:
                    self._log(method, url, f"fenced ({e.reason} at the send)",
                              time.monotonic())
                    raise
        started = time.monotonic()
        try:
            response = self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            self._log(method, url, "connect-failed", started)
            raise TransientError(
                gettext_noop(
                    "Kanal kunne ikke få forbindelse til netværket. "
                    "Kanal prøver igen automatisk."
                ),
                network=self.network,
                network_message=type(e).__name__,
            ) from e
        except (httpx.TimeoutException, httpx.RemoteProtocolError,
                httpx.ReadError, httpx.WriteError) as e:
            self._log(method, url, "no-answer", started)
            if method in SAFE_METHODS:
                raise TransientError(
                    gettext_noop(
                        "Netværket svarede ikke i tide. Kanal prøver igen automatisk."
                    ),
                    network=self.network,
                    network_message=type(e).__name__,
                ) from e
            raise OutcomeUnknown(
                network=self.network, network_message=type(e).__name__
            ) from e
        except httpx.HTTPError as e:
            self._log(method, url, "error", started)
            if write:
                raise OutcomeUnknown(
                    network=self.network, network_message=type(e).__name__
                ) from e
            raise TransientError(
                network=self.network, network_message=type(e).__name__
            ) from e
        self._log(method, url, response.status_code, started)
        theirs = server_date(response)
        if theirs is not None:
            self._clock_sample = (theirs, datetime.now(UTC))
        if translate is not None:
            error = translate(response)
            if error is not None:
                if not error.network:
                    error.network = self.network
                raise unknown_after_write(error) if write else error
        elif write and response.status_code >= 500:
            raise OutcomeUnknown(
                UNKNOWN_AFTER_WRITE, network=self.network,
                http_status=response.status_code,
                network_message=response.text[:200],
            )
        return response

    def _log(self, method: str, url: str, outcome, started: float) -> None:
        path = url.split("?", 1)[0]
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "%s %s %s%s -> %s in %.0f ms",
            self.network, method, self.base_url, path, outcome, elapsed_ms,
        )


#: The longest ``Retry-After`` Kanal believes; beyond it the header is no
#: wait but a broken or hostile answer (a year, infinity, year 9999).
LONGEST_RETRY_AFTER = 7 * 24 * 3600.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date, one
    without a zone read as UTC), at most ``LONGEST_RETRY_AFTER``; None when
    it is missing, unreadable or not a finite number."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            # "-0000": UTC, its local zone unknown (RFC 5322); an HTTP date
            # is always UTC.
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), LONGEST_RETRY_AFTER)


def epoch_to_datetime(value: str | None) -> datetime | None:
    """A Unix-epoch header value (``x-rate-limit-reset``) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def iso_to_datetime(value) -> datetime | None:
    """An ISO 8601 time as a network writes it (``Z``, ``+00:00``, Graph's
    ``+0000``; without a zone it is UTC) as an aware datetime in UTC, or None
    when it is missing, not a string, or no time Kanal can hold (a network's
    answer is not trusted to be a time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
