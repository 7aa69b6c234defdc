"""/healthz, /readyz and /metrics: without login, from the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from prometheus_client.parser import text_string_to_metric_families

from kanal.channels.networks.errors import TransientError
from kanal.publishing import heartbeat
from kanal.publishing.models import WorkerHeartbeat
from kanal.publishing.tests.conftest import run_once

from .schema import FUTURE, add_future_migration

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def age_heartbeats(seconds: int) -> None:
    WorkerHeartbeat.objects.update(
        beat_at=ExpressionWrapper(
            Now() - timedelta(seconds=seconds), output_field=DateTimeField()
        )
    )


# -- /healthz and the request id ----------------------------------------------


def test_healthz_answers_without_login_with_a_request_id(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    generated = response["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz")["X-Request-ID"] != generated


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-4711.abc")
    assert kept["X-Request-ID"] == "lb-4711.abc"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="evil\r\nSet-Cookie: x")
    assert replaced["X-Request-ID"] != "evil\r\nSet-Cookie: x"
    assert len(replaced["X-Request-ID"]) == 32


# -- /readyz --------------------------------------------------------------------


def test_readyz_is_ready_with_a_recent_worker_heartbeat(client, channel):
    heartbeat.beat("host:1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "worker", "vault"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "host:1" in body["checks"]["worker"]["detail"]
    assert "1 kanal" in body["checks"]["vault"]["detail"]


def test_readyz_turns_unready_when_the_worker_heartbeat_is_stale(client):
    heartbeat.beat("host:1")
    assert client.get("/readyz").status_code == 200
    age_heartbeats(heartbeat.max_age().total_seconds() + 5)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert body["checks"]["worker"]["ok"] is False
    assert "Start `kanal worker`" in body["checks"]["worker"]["detail"]
    assert body["checks"]["database"]["ok"] is True
    # The worker comes back.
    heartbeat.beat("host:1")
    assert client.get("/readyz").status_code == 200


def test_readyz_is_unready_after_the_worker_stopped(client):
    heartbeat.beat("host:1")
    heartbeat.stopped("host:1")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_readyz_is_unready_when_the_vault_keys_cannot_decrypt(client, channel,
                                                              settings):
    heartbeat.beat("host:1")
    from cryptography.fernet import Fernet

    settings.KANAL_VAULT_KEYS = Fernet.generate_key().decode()
    response = client.get("/readyz")
    assert response.status_code == 503
    vault_check = response.json()["checks"]["vault"]
    assert vault_check["ok"] is False
    assert "KANAL_VAULT_KEYS" in vault_check["detail"]


def test_readyz_is_unready_when_the_database_is_newer_than_the_code(client):
    heartbeat.beat("host:1")
    add_future_migration()
    response = client.get("/readyz")
    assert response.status_code == 503
    check = response.json()["checks"]["migrations"]
    assert check["ok"] is False
    assert FUTURE in check["detail"]


# -- /metrics -------------------------------------------------------------------


def test_metrics_are_for_this_machine_only_without_a_token(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    through_proxy = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert through_proxy.status_code == 403


def test_metrics_with_a_token_need_the_token(client, settings):
    settings.KANAL_METRICS_TOKEN = "scrape-token-0123456789"
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", REMOTE_ADDR="10.1.2.3",
        HTTP_AUTHORIZATION="Bearer scrape-token-0123456789",
    )
    assert right.status_code == 200


def test_publishing_metrics_move_during_a_publish(client, fake_network, queue,
                                                  channel):
    heartbeat.beat("host:1")
    first = queue(text="Første")
    queue(text="Anden")
    before = scrape(client)
    assert sample(before, "kanal_publications_due") == 2
    assert sample(before, "kanal_publications", status="queued") == 2
    assert sample(before, "kanal_publish_outcomes_total", network="mastodon",
                  kind="published") is None
    assert sample(before, "kanal_workers_live") == 1
    assert sample(before, "kanal_crisis_active", organisation="testkommune") == 0

    fake_network.script = [TransientError("Midlertidig fejl")]
    assert run_once() == ["retrying"]
    during = scrape(client)
    assert sample(during, "kanal_publications_due") == 1
    assert sample(during, "kanal_publish_outcomes_total", network="mastodon",
                  kind="transient") == 1
    assert sample(during, "kanal_publish_retries_total", network="mastodon") == 1

    assert run_once() == ["published"]
    after = scrape(client)
    assert sample(after, "kanal_publications_due") == 0
    assert sample(after, "kanal_publications", status="published") == 1
    assert sample(after, "kanal_publications", status="retrying") == 1
    assert sample(after, "kanal_publish_outcomes_total", network="mastodon",
                  kind="published") == 1
    assert sample(after, "kanal_publish_retries_total", network="mastodon") == 1
    first.refresh_from_db()
    assert first.status == "retrying"
    assert 0 <= sample(after, "kanal_publish_delay_seconds", stat="max") < 60


def test_overdue_lag_reconnect_and_crisis_come_from_the_database(
    client, queue, channel, organisation
):
    from kanal.channels.models import ChannelStatus
    from kanal.publishing.models import Crisis, Publication

    pub = queue()
    Publication.objects.filter(pk=pub.pk).update(
        due_at=ExpressionWrapper(
            Now() - timedelta(seconds=300), output_field=DateTimeField()
        )
    )
    channel.status = ChannelStatus.NEEDS_RECONNECT
    channel.save(update_fields=["status"])
    Crisis.objects.create(organisation=organisation, reason="Stormflod")
    heartbeat.beat("host:1")
    age_heartbeats(42)
    text = scrape(client)
    assert sample(text, "kanal_publications_overdue") == 1
    assert 299 <= sample(text, "kanal_publishing_lag_seconds") < 400
    assert sample(text, "kanal_channels_needing_reconnect") == 1
    assert sample(text, "kanal_crisis_active", organisation="testkommune") == 1
    assert 41 <= sample(text, "kanal_worker_heartbeat_age_seconds",
                        worker="host:1") < 100


def test_request_latency_is_measured_per_view(client):
    client.get("/healthz")
    text = scrape(client)
    count = sample(text, "kanal_http_request_duration_seconds_count",
                   method="GET", view="healthz", status="2xx")
    assert count is not None and count >= 1


def test_the_grafana_dashboard_asks_only_for_metrics_kanal_exports(client):
    import json
    import re
    from pathlib import Path

    from django.conf import settings

    heartbeat.beat("host:1")
    client.get("/healthz")
    exported = {family.name for family in text_string_to_metric_families(
        scrape(client))}
    dashboard = json.loads(
        (Path(settings.BASE_DIR) / "deploy" / "grafana-dashboard.json").read_text()
    )
    asked = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for panel in dashboard["panels"] for target in panel["targets"]
        for name in re.findall(r"\bkanal_[a-z_]+", target["expr"])
    }
    assert asked and asked <= exported, asked - exported


def test_a_metrics_store_that_fails_costs_the_measurement_not_the_request(
        client, monkeypatch, caplog):
    """Under kanal-web the latency histogram is kept in files; when their
    directory is gone (a /tmp cleaner), every request used to answer 500."""
    from kanal.core import observability

    def gone(*labels):
        raise FileNotFoundError("/tmp/kanal-prometheus-0/histogram_1.db")

    monkeypatch.setattr(observability.REQUEST_SECONDS, "labels", gone)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["X-Request-ID"]
    assert "request metrics: cannot record" in caplog.text
