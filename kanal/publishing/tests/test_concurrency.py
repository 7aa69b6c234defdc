"""Several workers at once, and workers killed mid-call: never a duplicate."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from kanal.publishing.models import Publication, PublicationStatus
from kanal.publishing.worker import PublishingWorker

ROOT = Path(__file__).resolve().parents[3]
S = PublicationStatus


@pytest.mark.django_db(transaction=True)
def test_two_worker_loops_publish_each_publication_exactly_once(
    fake_network, queue, organisation
):
    from kanal.channels.tests.factories import ChannelFactory

    channels = [ChannelFactory(organisation=organisation, network="mastodon")
                for _ in range(5)]
    for i in range(40):
        queue(channel=channels[i % 5])
    workers = [PublishingWorker(concurrency=4, name=f"w{i}") for i in range(2)]

    def run(worker):
        try:
            worker.run(once=True)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    keys = [key for key, _text in fake_network.log]
    assert len(keys) == 40
    assert len(set(keys)) == 40
    assert Publication.objects.filter(status=S.PUBLISHED).count() == 40
    assert sum(w.published for w in workers) == 40


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgresql://{auth}@{host}/{s['NAME']}"


@pytest.mark.serial
@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_killed_workers_and_network_faults_never_duplicate_or_lose_a_post(
    sandbox, organisation, tmp_path
):
    from kanal.channels import vault
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.publishing.actions import queue_publication

    channels = []
    for i in range(4):
        account = sandbox.provision("mastodon", handle=f"crash{i}",
                                    display_name=f"Crash {i}")
        channels.append(ChannelFactory(
            organisation=organisation, network="mastodon",
            remote_id=account.account_id, handle=account.handle,
            base_url=sandbox.base_url("mastodon"),
            encrypted_credentials=vault.encrypt(account.tokens),
        ))
    now = timezone.now()
    pubs = [
        queue_publication(
            actor=None, organisation=organisation, channel=channels[i % 4],
            planned_at=now - timedelta(seconds=1), post_id=None, variant_id=None,
            revision_id=None, text=f"Krak-test {i}: {random.randrange(10**9)}",
        )
        for i in range(60)
    ]
    for kind, p, extra in (
        ("timeout_after_create", 0.10, {"delay_ms": 1500}),
        ("rate_limit", 0.05, {"params": {"retry_after": 1}}),
        ("server_error", 0.05, {}),
    ):
        sandbox.fault("mastodon", kind, operation="publish", probability=p,
                      count=None, **extra)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "kanal.settings.test",
        "KANAL_PUBLISH_HTTP_TIMEOUT_SECONDS": "1.0",
        "KANAL_PUBLISH_LEASE_SECONDS": "2",
        "KANAL_PUBLISH_SWEEP_EVERY_SECONDS": "0.5",
        "KANAL_PUBLISH_BACKOFF_BASE_SECONDS": "0.2",
        "KANAL_PUBLISH_MAX_ATTEMPTS": "12",
    }

    def start(n):
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--concurrency", "4",
             "--no-tasks", "--name", f"crash-{n}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )

    log = open(tmp_path / "workers.log", "ab")  # noqa: SIM115
    workers = [start(0), start(1)]
    kills = 0
    deadline = time.monotonic() + 50
    try:
        while time.monotonic() < deadline:
            if kills < 5:
                time.sleep(random.uniform(0.4, 1.0))
                victim = random.randrange(2)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start(kills + 2)
                kills += 1
            else:
                time.sleep(0.2)
            if Publication.objects.filter(status=S.PUBLISHED).count() == 60:
                break
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        sandbox.clear_faults()
        log.close()
    statuses = dict(Publication.objects.values_list("idempotency_key", "status"))
    log = [r for r in sandbox.published("mastodon") if r["kind"] == "post"]
    sent = [r["idempotency_key"] for r in log if r["idempotency_key"] in statuses]
    assert kills == 5, (tmp_path / "workers.log").read_text()[-3000:]
    assert sorted(sent) == sorted(p.idempotency_key for p in pubs)  # once each
    assert set(statuses.values()) == {S.PUBLISHED}


@pytest.mark.django_db(transaction=True)
def test_idle_worker_wakes_on_notify_instead_of_polling():
    from kanal.publishing.actions import wake_workers
    from kanal.publishing.worker import Waker

    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers poll briefly.")
    waker = Waker()
    assert waker.listens
    timer = threading.Timer(0.3, lambda: (wake_workers(), connection.close()))
    started = time.monotonic()
    timer.start()
    waker.wait(10)
    waker.close()
    assert 0.25 < time.monotonic() - started < 3
