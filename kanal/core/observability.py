"""Request ids, request latency and structured logs without secrets.

``RequestMiddleware`` (first in ``MIDDLEWARE``) takes the caller's
``X-Request-ID`` (a proxy's, a load balancer's) when it is a sane token, or
makes one, keeps it for the request's log records and returns it in the
response header; it measures each request into a Prometheus histogram and
logs one line per request with the URL *pattern*, never the path (an iCal
feed's address is its secret).

``JsonFormatter`` writes one JSON object per line; ``RedactSecretsFilter``
(on the handler) renders each record's message with its arguments and blanks
tokens, passwords, keys and Kanal's own configured secrets in it first, so
no formatter ever sees them.

Request latency lives in this process; under the web tier's several
processes set ``PROMETHEUS_MULTIPROC_DIR`` (``kanal-web`` does, kanal/web.py)
and prometheus-client adds them up at scrape time.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Histogram

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "kanal_request_id", default=""
)

REQUEST_ID_HEADER = "X-Request-ID"
#: The methods the histogram names; any other a client sends is "other" (a
#: label per invented method would grow the files without bound).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

#: Request latency of this process (see the module's docstring).
REQUESTS = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "kanal_http_request_duration_seconds",
    "Time from request to response in Kanal, by view and status class.",
    ["method", "view", "status"],
    registry=REQUESTS,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

request_logger = logging.getLogger("kanal.request")
logger = logging.getLogger("kanal.observability")


def current_request_id() -> str:
    return request_id_var.get()


def _request_id(request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex


class RequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _request_id(request)
        request.request_id = request_id
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._measure(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(reset)

    @staticmethod
    def _measure(request, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "other"
        try:
            method = request.method if request.method in _METHODS else "other"
            REQUEST_SECONDS.labels(method, view, f"{status // 100}xx").observe(elapsed)
        except OSError as e:
            # Under kanal-web the histogram lives in files in
            # PROMETHEUS_MULTIPROC_DIR; a directory removed behind its back
            # (a /tmp cleaner, a full disk) must cost the measurement, never
            # the request: before, every request answered 500.
            logger.warning("request metrics: cannot record (%s): %s", view, e)
        request_logger.info(
            "%s %s %s %.1f ms",
            request.method,
            match.route if match else "-",
            status,
            elapsed * 1000,
            extra={"status": status, "duration_ms": round(elapsed * 1000, 1)},
        )


# -- secrets out of log records -------------------------------------------------

HIDDEN = "[skjult]"
_SECRET_NAMES = (
    r"access_token|refresh_token|id_token|token|app_password|password|passwd|"
    r"client_secret|secret|api_key|apikey|cookie|sessionid|"
    r"csrftoken|code_verifier"
)
_PATTERNS = (
    # "Authorization: Bearer abc", "bearer abc"
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {HIDDEN}"),
    # access_token=abc, "password": "abc", 'client_secret': 'abc'
    (
        re.compile(
            rf"""(?ix)(["']?[\w-]*(?:{_SECRET_NAMES})["']?\s*[:=]\s*)
            (?:"[^"]*"|'[^']*'|[^\s,&;}}\]]+)"""
        ),
        rf"\1'{HIDDEN}'",
    ),
    # Fernet tokens (encrypted credentials) anywhere.
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), HIDDEN),
)


def configured_secrets() -> list[str]:
    """Kanal's own keys from the settings: never in a log line."""
    from django.conf import settings

    if not settings.configured:
        return []
    values = [getattr(settings, "SECRET_KEY", "")]
    for name in ("KANAL_VAULT_KEYS", "KANAL_AUDIT_KEYS", "KANAL_METRICS_TOKEN"):
        values += str(getattr(settings, name, "") or "").split(",")
    return [v.strip() for v in values if len(v.strip()) >= 8]


def redact(text: str) -> str:
    for secret in configured_secrets():
        text = text.replace(secret, HIDDEN)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Render the message with its arguments, redacted; drop the arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        return True


# Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message,
    request_id, the record's ``extra`` fields, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = (
                    value if _is_plain(value)
                    else redact(value if isinstance(value, str) else repr(value))
                )
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def _is_plain(value) -> bool:
    return isinstance(value, int | float | bool) or value is None
