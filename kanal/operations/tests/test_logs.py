"""Structured logs: one JSON object per line, the request id, no secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from kanal.core.observability import (
    JsonFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
)


@pytest.fixture
def json_log():
    """A handler like production's on the ``kanal`` logger; returns its lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("kanal")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # An earlier test may have left logging switched off for these loggers
    # (a logging configuration that disables the loggers existing then, a
    # global logging.disable, a logger that stops propagating): these tests
    # are about the formatter and filters, so they log through live loggers
    # and put everything back afterwards.
    kanal_loggers = [
        one for name, one in logging.root.manager.loggerDict.items()
        if name.startswith("kanal.") and isinstance(one, logging.Logger)
    ]
    saved = [(one, one.disabled, one.propagate) for one in kanal_loggers]
    for one in kanal_loggers:
        one.disabled, one.propagate = False, True
    switched_off = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.disable(switched_off)
    for one, disabled, propagate in saved:
        one.disabled, one.propagate = disabled, propagate
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_token_in_a_records_args_is_redacted(json_log, settings):
    log = logging.getLogger("kanal.publishing.engine")
    log.warning("refresh answered %s", {"access_token": "tok-SECRET-123",
                                        "expires_in": 7200})
    log.warning("calling with Authorization: Bearer abc.DEF-ghi and %s",
                "client_secret=s3cr3t-value&grant_type=refresh_token")
    log.warning("vault key %s leaked", settings.KANAL_VAULT_KEYS)
    lines = json_log()
    text = json.dumps(lines)
    for secret in ("tok-SECRET-123", "abc.DEF-ghi", "s3cr3t-value",
                   settings.KANAL_VAULT_KEYS):
        assert secret not in text
    assert "'expires_in': 7200" in lines[0]["message"]
    assert "[skjult]" in lines[0]["message"]
    assert lines[1]["message"].startswith("calling with Authorization: Bearer [skjult]")
    assert "grant_type=refresh_token" in lines[1]["message"]
    assert lines[2]["message"] == "vault key [skjult] leaked"


def test_an_exception_with_a_secret_is_redacted(json_log):
    try:
        raise ValueError("password=hunter2-hunter2")
    except ValueError:
        logging.getLogger("kanal.x").exception("failed")
    (line,) = json_log()
    assert line["level"] == "ERROR"
    assert "hunter2" not in line["exception"]
    assert "ValueError" in line["exception"]


@pytest.mark.django_db
def test_each_request_logs_one_json_line_with_its_request_id(client, json_log):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-42")
    assert response["X-Request-ID"] == "req-42"
    lines = [line for line in json_log() if line["logger"] == "kanal.request"]
    assert len(lines) == 1
    (line,) = lines
    assert line["request_id"] == "req-42"
    assert line["status"] == 200
    assert line["message"].startswith("GET healthz 200")
    assert set(line) >= {"time", "level", "logger", "message", "duration_ms"}


@pytest.mark.django_db
def test_the_request_log_names_the_url_pattern_not_a_secret_path(client, json_log):
    client.get("/plan/ical/very-secret-feed-token.ics")
    text = json.dumps(json_log())
    assert "very-secret-feed-token" not in text
    assert "ical/<str:token>.ics" in text
