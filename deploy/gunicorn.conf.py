"""gunicorn's configuration for Kanal's web tier (see README, "Run it in
production"): ``gunicorn -c deploy/gunicorn.conf.py kanal.wsgi``.

Every value comes from the environment, with a default for one machine.
"""

import multiprocessing
import os
import shutil
import tempfile

# Behind the reverse proxy, on loopback by default.
bind = os.environ.get("KANAL_WEB_BIND", "127.0.0.1:8000")
# Kanal's views wait on the database: processes for the CPUs, threads for
# the waits. One process per CPU and one more, eight threads each: on two
# CPUs that took 658-797 signed webhooks a second against 532-601 with the
# old five processes of four threads, p99 43-45 ms against 46-47
# (BENCHMARKS.md, "Inbox: Meta webhook intake"); fewer processes contend
# less for the CPUs, more threads cover the commits' waits.
workers = int(os.environ.get("KANAL_WEB_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("KANAL_WEB_THREADS", "8"))
# A request longer than this (a large upload on a slow line) is cut.
timeout = int(os.environ.get("KANAL_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Restart processes now and then, so a slow leak never grows old.
max_requests = int(os.environ.get("KANAL_WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Kanal logs one JSON line per request itself (with the request id); the
# proxy keeps the access log.
accesslog = None
errorlog = "-"
loglevel = "info"
# The proxy's X-Forwarded-* are read by Django (KANAL_TRUSTED_PROXIES,
# SECURE_PROXY_SSL_HEADER), not by gunicorn.
forwarded_allow_ips = os.environ.get("KANAL_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "kanal-web"

# Request latency from every process, added up at scrape time
# (prometheus-client's multiprocess mode). Emptied when gunicorn starts.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), f"kanal-prometheus-{os.getuid()}"),
)


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
