"""Exactly once under real faults: the fault benchmark of the publishing engine.

``python -m bench publishing_faults`` runs every fault kind below on SQLite and
on PostgreSQL, each in its own process with its own database, the sandbox (all
seven emulators, 100 ms latency) and ``kanal worker`` processes, and writes the
figures to the ``faults`` section of BENCHMARKS.md. Every verdict is read from
the sandbox's publish log (what reached the networks), never from Kanal's rows:

- duplicates: a publication's marker appears in more than one post;
- lost: a publication that should be out has no post on its network;
- live posts marked failed / missed / paused / cancelled (Kanal's status
  compared with the network's truth), and "published" rows with no post;
- channels wrongly needing reconnection (no fault revokes real credentials);
- sends that started after a withdrawal, crisis switch or disabled channel
  had committed (the sandbox's receive time against the commit time);
- first comments missing or posted twice.

- early sends: a post that reached the network before its planned time.

Commands (``.venv/bin/python -m bench.publishing_faults …``):

- ``run KIND[,KIND…] sqlite[,postgres] [PARAMS-JSON]``: kinds by hand, one
  line of verdicts each; full results in ``var/bench-faults-last.json``
  (``KANAL_BENCH_OUT``). ``PARAMS`` e.g. ``{"scale": 0.3}``.
- ``ab BEFORE AFTER [ROUNDS]``: the cost of a change (lag, worker CPU per
  publication), two commits measured alternately in one session.
- ``report META-JSON RESULTS…``: the BENCHMARKS.md section from saved runs.
- ``KIND DB PARAMS-JSON OUT``: one kind in this process (what ``run`` spawns).

Environment: ``KANAL_BENCH_FAULTS`` (kinds for ``make bench``),
``KANAL_BENCH_DBS`` (``sqlite,postgres``), ``KANAL_BENCH_SCALE``
(publications per kind multiplier), ``KANAL_BENCH_REPEAT`` (runs per kind),
``KANAL_BENCH_COMMIT`` (test a commit: a clean export of it runs the workers
and the sandbox, so a working tree others are editing never breaks a run),
``KANAL_BENCH_SANDBOX_COMMIT`` (the sandbox from another commit, e.g. new
fault kinds against old code), ``KANAL_BENCH_BEFORE`` (a results file of the
old code, shown beside the new in BENCHMARKS.md), ``KANAL_BENCH_NO_WRITE``,
``KANAL_BENCH_PG_ADMIN_URL`` (where PostgreSQL databases are made),
``KANAL_BENCH_PG_PREFIX`` (their names' prefix),
``KANAL_BENCH_AB_NOFAULT_ONLY`` (``ab`` without the Mastodon engine runs),
``KANAL_BENCH_SANDBOX_PORT`` and ``KANAL_BENCH_MEDIA_PORT`` (fixed ports
instead of free ones, for a machine where each user has a range).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from bench import _fault_harness as h
from bench import write_section

logger = logging.getLogger("bench.faults")
LATENCY_MS = 100
#: A "lost answer": the post is made, the answer comes after Kanal's timeout.
LOST_ANSWER_MS = 4500

#: Settings every fault kind runs with (``KANAL_PUBLISH_*``): leases and
#: timeouts scaled down from the production defaults (60 s lease, 20 s read
#: timeout) so that a run takes minutes; their ratio is about kept. The
#: timeout stays well above the sandbox's answers on a busy machine (a
#: 100 ms call can take a second when eight jobs share two CPUs).
BASE = {"LEASE_SECONDS": 8, "SWEEP_EVERY_SECONDS": 1,
        "HTTP_TIMEOUT_SECONDS": 3, "BACKOFF_BASE_SECONDS": 0.5,
        "BACKOFF_MAX_SECONDS": 5, "MAX_ATTEMPTS": 12}


def scale(n: int, params: dict) -> int:
    return max(14, int(n * float(params.get("scale") or os.environ.get(
        "KANAL_BENCH_SCALE", 1))))


# ---------------------------------------------------------------------------
# The shared run: make channels and publications, start workers, inject,
# settle, judge


def begin(ctx, *, overrides=None, per_network=6, token_days=None,
          container_delay=0.0, bootstrap=False):
    ctx.overrides = {**BASE, **(overrides or {})}
    ctx.media_server = h.MediaServer(ctx.tmp)
    ctx.env = h.worker_env(ctx.db_url, ctx.tmp, ctx.overrides,
                           base_url=ctx.media_server.url)
    h.setup_django(ctx.env)
    ctx.world = h.make_world()
    h.make_channels(ctx.world, ctx.sandbox, per_network=per_network,
                    token_days=token_days, container_delay=container_delay)
    ctx.media = h.image_media(ctx.tmp, ctx.sandbox)
    ctx.markers = h.Markers()
    ctx.bootstrap = h.write_bootstrap(ctx.tmp) if bootstrap else None


def workers(ctx, n: int, concurrency: int = 8) -> h.Workers:
    ctx.workers = h.Workers(ctx.env, ctx.tmp, concurrency=concurrency,
                            bootstrap=ctx.bootstrap)
    ctx.workers.start_all(n)
    return ctx.workers


def finish(ctx, by_id, *, quiet=40.0, timeout=900.0, during=None, **judge_kw):
    try:
        waited = h.settle(by_id, timeout=timeout, quiet=quiet, during=during,
                          workers=ctx.workers, sandbox=ctx.sandbox)
        # Follow-up work and late records: a moment more.
        time.sleep(2)
    finally:
        ctx.workers.stop()
    # Arguments known only once the run is over are passed as callables.
    judge_kw = {k: v() if callable(v) else v for k, v in judge_kw.items()}
    result = h.db_retry(h.judge, ctx.sandbox, by_id, **judge_kw)
    result["settle"] = waited
    result["worker_exits"] = len(ctx.workers.exits)
    result["worker_exit_codes"] = dict(
        Counter(c for _, c in ctx.workers.exits))
    result["worker_errors"] = h.worker_log_summary(ctx.tmp)
    result["faults_fired"] = {f"{f['network']}:{f['kind']}:{f.get('operation')}":
                              f["fired"] for f in ctx.sandbox.faults()}
    return result


def loose(ctx, n, *, seconds, lead=6.0, networks=None, **kw):
    start = h.utcnow() + timedelta(seconds=lead)
    planned = h.spread(ctx.world.channels, n, start=start, seconds=seconds,
                       networks=networks)
    return h.make_loose(ctx.world, planned, markers=ctx.markers,
                        media=ctx.media, **kw), start


# ---------------------------------------------------------------------------
# Fault kinds


def kind_pause(ctx, params):
    """SIGSTOP a worker for longer than its lease (a GC pause, an I/O stall,
    a swapped-out VM), then SIGCONT it, again and again while two workers
    publish on all seven networks (Instagram and Threads containers take a
    second to process, as Meta's do)."""
    begin(ctx, container_delay=1.0)
    by_id, _start = loose(ctx, scale(420, params), seconds=45)
    w = workers(ctx, 2)
    lease = ctx.overrides["LEASE_SECONDS"]
    state = {"paused": None, "until": 0.0, "next": time.monotonic() + 8,
             "pauses": 0}

    def during():
        clock = time.monotonic()
        if state["paused"] is not None and clock >= state["until"]:
            w.resume(state["paused"])
            state["paused"] = None
            state["next"] = clock + random.uniform(2, 5)
        elif state["paused"] is None and clock >= state["next"]:
            i = random.randrange(len(w.procs))
            w.pause(i)
            # Half the pauses outlast the lease, half also the longest write
            # lease a fence grants (4 x HTTP timeout + lease): the window
            # between a fence and the request leaving the socket.
            longest = 4 * ctx.overrides["HTTP_TIMEOUT_SECONDS"] + lease
            length = random.choice([random.uniform(lease + 1.5, lease + 5),
                                    random.uniform(longest + 1, longest + 6)])
            state.update(paused=i, pauses=state["pauses"] + 1,
                         until=clock + length)

    result = finish(ctx, by_id, during=during)
    result["pauses"] = state["pauses"]
    return result


def keep_tokens_due(ctx, networks=("x",), every: float = 6.0) -> h.Ticker:
    """Make the channels' access tokens look minutes from expiry again and
    again (``token_expires_at`` = now + 5 min), so every worker's refresh job
    refreshes them on every pass, as it does when X's two-hour tokens come
    due. The network's tokens themselves stay valid."""
    from kanal.channels.models import Channel

    def push():
        h.db_retry(lambda: Channel.objects.filter(network__in=networks).update(
            token_expires_at=h.utcnow() + timedelta(minutes=5)))

    push()
    return h.Ticker(push, every).start()


def kind_slow_token(ctx, params):
    """A slow token endpoint: a third of X's refresh calls take longer than
    the lease (4 s + 2 s), while X's tokens keep coming due. Where refreshing
    runs on the thread that renews leases, leases run out and another worker
    takes the publications over."""
    begin(ctx, overrides={"TOKEN_REFRESH_EVERY_SECONDS": 8})
    lease = ctx.overrides["LEASE_SECONDS"]
    ctx.sandbox.fault("x", "latency", operation="token", probability=0.35,
                      delay_ms=int((lease + 2) * 1000))
    by_id, _ = loose(ctx, scale(280, params), seconds=40)
    due = keep_tokens_due(ctx)
    workers(ctx, 2)
    try:
        return finish(ctx, by_id)
    finally:
        due.stop()


def kind_error_after_create(ctx, params):
    """A 5xx answer after the network created the post (the write applied,
    the answer says server error: 4 % a proxy's HTML 502, 10 % the network's
    own 5xx), and a 2xx answer cut short (5 %), on every network's
    post-creating call; on Instagram and Threads also 10 % of containers are
    made and answered with a 5xx."""
    begin(ctx)
    if "server_error_after_create" not in ctx.sandbox.fault_kinds():
        return {"skipped": "the sandbox has no server_error_after_create fault"}
    unreadable = "unreadable_after_create" in ctx.sandbox.fault_kinds()
    for network in h.NETWORKS:
        # A load balancer's HTML 502 after the write, then the network's own
        # 5xx envelope, then a cut 2xx body.
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="publish", probability=0.04,
                          params={"status": 502, "body": "proxy"})
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="publish", probability=0.10)
        if unreadable:
            ctx.sandbox.fault(network, "unreadable_after_create",
                              operation="publish", probability=0.05)
    for network in ("instagram", "threads"):
        # The container is made, the answer is a 5xx (an orphan container).
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="media", probability=0.10)
    by_id, _ = loose(ctx, scale(420, params), seconds=40)
    workers(ctx, 2)
    return finish(ctx, by_id)


def kind_token_race(ctx, params):
    """Several workers start at once (a deploy), twice more during the run,
    with X's single-use refresh tokens coming due again and again; the token
    endpoint is slow (0.7 s) and loses 15 % of its answers after rotating the
    refresh token (X, and LinkedIn and Threads, whose tokens expire in two
    days). A channel may be marked as needing reconnection only when its
    access really stopped working, which never happens here."""
    begin(ctx, overrides={"TOKEN_REFRESH_EVERY_SECONDS": 15}, token_days=2)
    ctx.sandbox.fault("x", "latency", operation="token", delay_ms=700)
    ctx.sandbox.fault("x", "timeout_after_create", operation="token",
                      probability=0.15, delay_ms=LOST_ANSWER_MS)
    for network in ("linkedin", "threads", "instagram", "bluesky"):
        ctx.sandbox.fault(network, "timeout_after_create", operation="token",
                          probability=0.15, delay_ms=LOST_ANSWER_MS)
    for network in ("x", "linkedin", "threads"):
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="token", probability=0.05)
    by_id, _ = loose(ctx, scale(420, params), seconds=50)
    due = keep_tokens_due(ctx, networks=("x",), every=5.0)
    w = workers(ctx, 4)
    restarts = {"at": [time.monotonic() + 15, time.monotonic() + 32], "done": 0}

    def during():
        if restarts["at"] and time.monotonic() >= restarts["at"][0]:
            restarts["at"].pop(0)
            # A deploy: every worker stops (SIGTERM, calls finish) and the
            # new ones start together.
            for i in list(w.procs):
                w.procs[i].terminate()
            for i in list(w.procs):
                w.procs[i].wait(60)
            for i in list(w.procs):
                w.start(i)
            restarts["done"] += 1

    try:
        result = finish(ctx, by_id, during=during)
    finally:
        due.stop()
    result["deploys"] = restarts["done"]
    return result


def kind_db_drop(ctx, params):
    """The database goes away under the workers. PostgreSQL: every 1–4 s,
    ``pg_terminate_backend`` for every backend of the workers (claims,
    checkpoints, records, the LISTEN waker, the tasks thread). SQLite has no
    server to lose; its equivalent is a database that cannot be written:
    another process holds the write lock longer than the busy timeout (20 s),
    three times, so every write fails with "database is locked"."""
    begin(ctx, container_delay=1.0)
    by_id, _ = loose(ctx, scale(420, params), seconds=50)
    workers(ctx, 2)
    state = {"terminated": 0, "rounds": 0, "locks": 0}
    if ctx.db == "postgres":
        import psycopg

        def drop():
            with psycopg.connect(h.PG_ADMIN_URL, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND application_name = %s",
                    (ctx.db_name, h.WORKER_APPNAME)).fetchall()
            state["terminated"] += sum(1 for (done,) in rows if done)
            state["rounds"] += 1
            ticker.every = random.uniform(1, 4)

        ticker = h.Ticker(drop, 2.0).start()
    else:
        import sqlite3

        def lock():
            if state["locks"] >= 3:
                return
            conn = sqlite3.connect(ctx.db_name, timeout=30, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            state["locks"] += 1
            time.sleep(22)
            conn.execute("ROLLBACK")
            conn.close()

        ticker = h.Ticker(lock, 10.0).start()
    try:
        result = finish(ctx, by_id, quiet=60)
    finally:
        ticker.stop()
    result.update(state)
    return result


def kind_clock(ctx, params, *, jump: bool = False):
    """The networks' clocks are minutes off Kanal's, each network by its own
    amount (5–10 minutes, ahead or behind; where the sandbox has one clock
    only, all 10 minutes behind). 15 % of posts lose their answer (the post
    is made, the answer comes after Kanal's timeout), so Kanal must reconcile
    by asking the network, and X, Facebook and LinkedIn refuse a blind resend
    as a duplicate."""
    begin(ctx)
    offsets = dict(zip(h.NETWORKS, (-600, 600, -600, 300, -420, 600, -300),
                       strict=True))
    if jump:
        offsets = dict.fromkeys(h.NETWORKS, -300)
    per_network = ctx.sandbox.set_network_clock("x", 0)
    if per_network:
        for network, seconds in offsets.items():
            ctx.sandbox.set_network_clock(network, seconds)
    else:
        ctx.sandbox.advance_clock(-600)
    for network in h.NETWORKS:
        ctx.sandbox.fault(network, "timeout_after_create", operation="publish",
                          probability=0.15, delay_ms=LOST_ANSWER_MS)
    by_id, _ = loose(ctx, scale(420, params), seconds=50)
    workers(ctx, 2)
    jumps = {"at": time.monotonic() + 25, "done": not jump}

    def during():
        if not jumps["done"] and time.monotonic() >= jumps["at"]:
            # Every network's clock is corrected 10 minutes forward at once.
            for network in h.NETWORKS:
                ctx.sandbox.set_network_clock(network, 300)
            jumps["done"] = True

    # received_at (wall clock) times the sends; without it (an older
    # sandbox) the log's times carry the offsets and are not judged.
    result = finish(ctx, by_id, during=during,
                    clock_offset=0.0 if per_network else None)
    result["clock_offsets_s"] = offsets if per_network else [-600]
    return result


def kind_clock_jump(ctx, params):
    """Every network's clock 5 minutes behind Kanal's, then corrected 10
    minutes forward at once (an NTP step on the network's side) while
    answers are being lost: a lookup after the jump must still find the
    posts made before it. 15 % of answers lost after the post was made."""
    return kind_clock(ctx, params, jump=True)


def _edit(world, post, marker):
    from kanal.planning import actions as planning

    variant = post.variants.get()
    planning.update_post(post, actor=world.editor, variants={
        variant.channel_id: {"text": f"Rettet efter godkendelse ({marker})."}})


def kind_withdraw(ctx, params, *, networks=None, container_delay=0.0,
                  n=210, only_with_container=False):
    """Approval withdrawn while publications are claimed: every 1.5 s the
    editor edits the approved posts whose publications are being published
    right now (claimed, in a call or queued in a worker's thread pool). Calls
    take a second (slow network), so many are caught mid-way; 10 % of posts
    are made but answered with a 5xx, so some outcomes are unknown when the
    edit comes (a live one must still end as published, not cancelled)."""
    begin(ctx, container_delay=container_delay)
    from django.core.exceptions import PermissionDenied

    from kanal.planning.actions import PlanningError
    from kanal.planning.models import Post
    from kanal.publishing.models import Publication
    h.make_asset(ctx.world, ctx.tmp, ctx.sandbox)
    for network in networks or h.NETWORKS:
        ctx.sandbox.fault(network, "latency", operation="publish", delay_ms=900)
        # Some posts are made but answered with a 5xx: their outcome is
        # unknown when the edit comes; a live one must end as published.
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="publish", probability=0.10)
    start = h.utcnow() + timedelta(seconds=5)
    planned = h.spread(ctx.world.channels, scale(n, params), start=start,
                       seconds=40, networks=networks)
    by_id = h.make_planned(ctx.world, planned, markers=ctx.markers)
    # Planning took a while: give every publication a fresh time from now.
    base = h.utcnow() + timedelta(seconds=4)
    from kanal.publishing import conf

    ids = sorted(by_id)
    random.shuffle(ids)
    for i, pk in enumerate(ids):
        at = base + timedelta(seconds=40 * i / len(ids))
        Publication.objects.filter(pk=pk).update(
            planned_at=at, due_at=at, late_after=at + conf.late_cutoff())
        h.ORIGINAL_PLANNED[pk] = at
    workers(ctx, 2)
    stop_times = {}
    state = {"next": time.monotonic() + 6, "edits": 0, "too_late": 0,
             "edits_that_raised": 0, "refusals": Counter()}

    def during():
        if time.monotonic() < state["next"]:
            return
        state["next"] = time.monotonic() + 1.5
        claimed = Publication.objects.filter(status="publishing",
                                             post_id__isnull=False)
        if only_with_container:
            claimed = [p for p in claimed if (p.checkpoint or {}).get(
                "container_id")]
        for pub in list(claimed)[:8]:
            if pub.pk in stop_times:
                continue
            post = Post.objects.get(pk=pub.post_id)
            before = h.utcnow()
            try:
                _edit(ctx.world, post, by_id[pub.pk])
            except (PermissionDenied, PlanningError) as e:
                state["refusals"][f"{type(e).__name__}: {e}"[:120]] += 1
                if Post.objects.filter(pk=post.pk, status="in_review").exists():
                    # The edit committed, then something raised: the
                    # withdrawal stands from some time after ``before``.
                    stop_times[pub.pk] = before
                    state["edits_that_raised"] += 1
                else:
                    # Published meanwhile: planning no longer lets it be
                    # edited.
                    state["too_late"] += 1
                continue
            stop_times[pub.pk] = h.utcnow()
            state["edits"] += 1

    result = finish(ctx, by_id, during=during,
                    expect_out=lambda: set(by_id) - set(stop_times),
                    stop_times=stop_times)
    result["withdrawn_while_claimed"] = len(stop_times)
    result["edit_refused_already_published"] = state["too_late"]
    result["edits_that_raised"] = state["edits_that_raised"]
    result["edit_refusals"] = dict(state["refusals"])
    return result


def kind_container_withdraw(ctx, params):
    """A publication withdrawn while Instagram or Threads processes its
    container (3 s): media_publish must not follow."""
    return kind_withdraw(ctx, params, networks=("instagram", "threads"),
                         container_delay=3.0, n=140, only_with_container=True)


def end_crisis_publishing_now(ctx):
    """End the organisation's crisis, deciding "publish now" for every
    paused publication (again while workers pause more meanwhile); when."""
    from kanal.publishing import actions as publishing
    from kanal.publishing.models import Crisis, Publication

    crisis = Crisis.objects.get(organisation=ctx.world.org, ended_at__isnull=True)
    for _ in range(20):
        paused = list(Publication.objects.filter(
            organisation=ctx.world.org, status="paused"))
        try:
            publishing.end_crisis(
                crisis, actor=ctx.world.crisis_lead,
                decisions={p.pk: ("publish_now", None) for p in paused})
            break
        except ValueError:
            time.sleep(0.2)
    ended = h.utcnow()
    # "Publish now" is a person's choice: a post planned later may go out
    # from now on without being early.
    for p in paused:
        if p.pk in h.ORIGINAL_PLANNED:
            h.ORIGINAL_PLANNED[p.pk] = min(h.ORIGINAL_PLANNED[p.pk], ended)
    return ended


def kind_crisis(ctx, params):
    """Crisis mode switched on while many publications are claimed (slow
    network, containers processing, 10 % answers lost so some outcomes are
    unknown), a crisis message to seven channels, then switched off with
    "publish now" for every paused publication."""
    begin(ctx, container_delay=2.0)
    from kanal.publishing import actions as publishing
    for network in h.NETWORKS:
        ctx.sandbox.fault(network, "latency", operation="publish", delay_ms=900)
        ctx.sandbox.fault(network, "timeout_after_create", operation="publish",
                          probability=0.10, delay_ms=LOST_ANSWER_MS)
    by_id, _ = loose(ctx, scale(420, params), seconds=40)
    workers(ctx, 2)
    state = {"on": None, "off": None, "crisis_ids": None, "paused_at_end": 0}
    switch_on = time.monotonic() + 18

    def during():
        clock = time.monotonic()
        if state["on"] is None and clock >= switch_on:
            publishing.start_crisis(actor=ctx.world.crisis_lead,
                                    organisation=ctx.world.org,
                                    reason="Benchmark: brand på Amager")
            state["on"] = h.utcnow()
        if state["on"] is not None and state["crisis_ids"] is None:
            pubs = publishing.publish_crisis_message(
                actor=ctx.world.crisis_lead, organisation=ctx.world.org,
                text="Krisebesked: hold døre og vinduer lukket (kbcrisis).",
                channels=[c for c in ctx.world.channels
                          if c.network != "instagram"][::6][:6],
                confirmed=True)
            state["crisis_ids"] = [p.pk for p in pubs]
        elif state["on"] is not None and state["off"] is None and \
                clock >= switch_on + 15:
            live = h.judge(ctx.sandbox, by_id)
            by_status = live["live_marked_not_published_by_status"]
            state["live_paused_before_end"] = by_status.get("paused", 0) + \
                by_status.get("cancelled", 0)
            state["off"] = end_crisis_publishing_now(ctx)

    def windows():
        return {pk: (state["on"], state["off"]) for pk in by_id}

    # The stop window (crisis on → off) is known only once the run is over.
    try:
        waited = h.settle(by_id, timeout=900, quiet=40, during=during,
                          workers=ctx.workers, sandbox=ctx.sandbox,
                          hold=lambda: state["off"] is None)
        time.sleep(2)
    finally:
        ctx.workers.stop()
    if state["on"] is None:
        return {"error": "the crisis never started"}
    result = h.db_retry(h.judge, ctx.sandbox, by_id, stop_times=windows())
    crisis_posts = [r for r in ctx.sandbox.published()
                    if "kbcrisis" in (r.get("text") or "")
                    and r.get("kind", "post") == "post"]
    crisis_statuses = h.db_retry(h.statuses, state["crisis_ids"] or [])
    result.update(
        settle=waited, worker_exits=len(ctx.workers.exits),
        worker_errors=h.worker_log_summary(ctx.tmp),
        crisis_messages=len(state["crisis_ids"] or []),
        crisis_message_posts=len(crisis_posts),
        crisis_message_statuses=dict(crisis_statuses),
        live_paused_before_end=state.get("live_paused_before_end"),
    )
    return result


def kind_followup(ctx, params):
    """First comments under fire: a worker is SIGKILLed every 3–5 s, 10 % of
    replies fail with a 5xx before anything is made, 10 % are made but the
    answer is lost, 5 % are made and answered with a 5xx. Every published
    post must get its first comment exactly once, or a person is told that
    it may be missing (never silently missing, never twice)."""
    begin(ctx)
    for network in h.NETWORKS:
        ctx.sandbox.fault(network, "server_error", operation="reply",
                          probability=0.10)
        ctx.sandbox.fault(network, "timeout_after_create", operation="reply",
                          probability=0.10, delay_ms=LOST_ANSWER_MS)
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="reply", probability=0.05)
    by_id, _ = loose(ctx, scale(280, params), seconds=40, first_comment=True)
    w = workers(ctx, 2)
    state = {"kills": 0, "next": time.monotonic() + 5}

    def during():
        if time.monotonic() >= state["next"] and state["kills"] < 20:
            w.kill(random.randrange(len(w.procs)))
            state["kills"] += 1
            state["next"] = time.monotonic() + random.uniform(3, 5)

    def replies():
        return sum(1 for r in ctx.sandbox.published()
                   if r.get("kind") in ("reply", "comment"))

    try:
        h.settle(by_id, timeout=900, quiet=40, during=during,
                 workers=w, sandbox=ctx.sandbox)
        # Follow-up work runs after the publication is recorded: wait until
        # no new first comment has appeared for 30 s.
        last, since = -1, time.monotonic()
        while time.monotonic() - since < 30:
            n = replies()
            if n != last:
                last, since = n, time.monotonic()
            w.reap()
            time.sleep(1)
    finally:
        w.stop()
    result = h.db_retry(h.judge, ctx.sandbox, by_id, first_comments=True)
    result.update(kills=state["kills"], worker_exits=len(w.exits),
                  worker_errors=h.worker_log_summary(ctx.tmp))
    return result


def kind_skew(ctx, params):
    """Three workers whose clocks disagree: one right, one 2 minutes ahead,
    one 2 minutes behind (NTP broken on two hosts)."""
    begin(ctx, bootstrap=True)
    by_id, _ = loose(ctx, scale(280, params), seconds=40, lead=10)
    ctx.workers = h.Workers(ctx.env, ctx.tmp, concurrency=8,
                            bootstrap=ctx.bootstrap)
    for i, offset in enumerate((0, 120, -120)):
        ctx.workers.start(i, KANAL_BENCH_CLOCK_OFFSET=str(offset))
    return finish(ctx, by_id)


def kind_kill_after_answer(ctx, params):
    """A worker killed between the network's answer and the record: the judge
    watches the publish log and SIGKILLs the worker holding the lease of a
    post the moment it appears there."""
    begin(ctx)
    from kanal.publishing.models import Publication
    by_id, _ = loose(ctx, scale(280, params), seconds=45)
    marker_to_id = {m: pk for pk, m in by_id.items()}
    w = workers(ctx, 2)
    state = {"kills": 0, "seen": 0, "next": time.monotonic() + 4}

    def watch():
        log = ctx.sandbox.published()
        fresh = log[state["seen"]:]
        state["seen"] = len(log)
        if time.monotonic() < state["next"] or state["kills"] >= 25:
            return
        for record in reversed(fresh):
            m = h.MARKER.search(record.get("text") or "")
            pk = marker_to_id.get(m.group(0)) if m else None
            if pk is None:
                continue
            owner = Publication.objects.filter(
                pk=pk, status="publishing").values_list("lease_owner",
                                                        flat=True).first()
            i = w.index_of(owner) if owner else None
            if i is not None:
                w.kill(i)
                state["kills"] += 1
                state["next"] = time.monotonic() + random.uniform(1.0, 2.0)
                return

    ticker = h.Ticker(lambda: h.db_retry(watch), 0.03).start()
    try:
        result = finish(ctx, by_id)
    finally:
        ticker.stop()
    result["kills_after_answer"] = state["kills"]
    return result


def kind_sweeper_race(ctx, params):
    """Four workers sweep expired leases every 0.2 s while short pauses
    (3.5–5 s, lease 3 s) make leases expire all the time, sometimes two
    workers at once."""
    begin(ctx, overrides={"LEASE_SECONDS": 3, "SWEEP_EVERY_SECONDS": 0.2,
                          "HTTP_TIMEOUT_SECONDS": 1.2}, container_delay=0.5)
    by_id, _ = loose(ctx, scale(280, params), seconds=40)
    w = workers(ctx, 4, concurrency=4)
    paused: dict[int, float] = {}
    state = {"pauses": 0, "next": time.monotonic() + 5}

    def during():
        clock = time.monotonic()
        for i, until in list(paused.items()):
            if clock >= until:
                w.resume(i)
                del paused[i]
        if clock >= state["next"] and len(paused) < 2:
            i = random.choice([j for j in w.procs if j not in paused])
            w.pause(i)
            paused[i] = clock + random.uniform(3.5, 5.0)
            state["pauses"] += 1
            state["next"] = clock + random.uniform(0.5, 2.0)

    result = finish(ctx, by_id, during=during)
    result["pauses"] = state["pauses"]
    return result


def kind_channel_disabled(ctx, params):
    """An administrator disables channels while their publications are in a
    call (slow network; 10 % of posts answered with a 5xx after they were
    made): no send may start after the disable committed, and a live post
    is not marked failed."""
    begin(ctx, container_delay=1.0)
    from kanal.channels.actions import disable_channel
    from kanal.channels.models import Channel
    from kanal.publishing.models import Publication

    for network in h.NETWORKS:
        ctx.sandbox.fault(network, "latency", operation="publish", delay_ms=900)
        ctx.sandbox.fault(network, "server_error_after_create",
                          operation="publish", probability=0.10)
    by_id, _ = loose(ctx, scale(280, params), seconds=40)
    workers(ctx, 2)
    stop_times = {}
    state = {"next": time.monotonic() + 8, "disabled": 0}
    pubs_of = {}
    for pk, channel_id in Publication.objects.filter(pk__in=list(by_id)) \
            .values_list("pk", "channel_id"):
        pubs_of.setdefault(channel_id, []).append(pk)

    def during():
        if time.monotonic() < state["next"] or state["disabled"] >= 14:
            return
        state["next"] = time.monotonic() + 2.5
        busy = set(Publication.objects.filter(status="publishing")
                   .values_list("channel_id", flat=True))
        for channel in Channel.objects.filter(pk__in=busy, status="connected")[:2]:
            disable_channel(channel, actor=ctx.world.admin,
                            reason="Benchmark: kontoen er kompromitteret")
            at = h.utcnow()
            for pk in pubs_of.get(channel.pk, []):
                stop_times[pk] = at
            state["disabled"] += 1

    result = finish(ctx, by_id, during=during,
                    expect_out=lambda: set(by_id) - set(stop_times),
                    stop_times=stop_times)
    result["channels_disabled"] = state["disabled"]
    # Disabled channels are not "needing reconnection".
    return result


def kind_nofault(ctx, params):
    """No fault: publishing lag and the worker's CPU per publication, one
    worker with 8 threads, all seven networks, 100 ms latency, production
    lease and sweep (60 s, 5 s) and the lag benchmark's 5 s timeout."""
    begin(ctx, overrides={"LEASE_SECONDS": 60, "SWEEP_EVERY_SECONDS": 5,
                          "HTTP_TIMEOUT_SECONDS": 5})
    n = scale(280, params)
    by_id, start = loose(ctx, n, seconds=60, lead=12)
    w = workers(ctx, 1)
    # Let the worker start and do its start-up work (token refresh), then
    # count CPU from the first due time.
    time.sleep(max(0.0, (start - h.utcnow()).total_seconds() - 0.5))
    cpu0 = w.cpu_seconds()
    result = finish(ctx, by_id, quiet=30)
    cpu = w.cpu_done - cpu0
    from kanal.publishing.models import Publication

    planned = dict(Publication.objects.filter(pk__in=list(by_id))
                   .values_list("pk", "planned_at"))
    marker_to_id = {m: pk for pk, m in by_id.items()}
    lags, per_network = [], {}
    for record in ctx.sandbox.published():
        m = h.MARKER.search(record.get("text") or "")
        pk = marker_to_id.get(m.group(0)) if m else None
        if pk is None or record.get("kind", "post") != "post":
            continue
        lag = (h.parse_at(record["at"]) - planned[pk]).total_seconds()
        lags.append(lag)
        per_network.setdefault(record["network"], []).append(lag)
    result["lag_seconds"] = h.percentiles(lags)
    result["lag_p99_by_network"] = {k: h.percentiles(v)["p99"]
                                    for k, v in sorted(per_network.items())}
    result["worker_cpu_ms_per_publication"] = round(cpu * 1000 / max(1, n), 2)
    return result


def kind_schedule(ctx, params):
    """The small schedule ``make test`` runs (about a minute): every fault
    class once, on all seven networks. Two workers start together (X's
    rotating refresh tokens, a slow token endpoint); answers lost after the
    post was made and 5xx after the post was made; the network's clock 5
    minutes behind; a worker paused past its lease and another killed; first
    comments whose replies fail; approval withdrawn and a crisis on two
    channels while publications are claimed."""
    begin(ctx, container_delay=0.5, token_days=2)
    from django.core.exceptions import PermissionDenied

    from kanal.planning.actions import PlanningError
    from kanal.planning.models import Post
    from kanal.publishing import actions as publishing
    from kanal.publishing.models import Publication

    h.make_asset(ctx.world, ctx.tmp, ctx.sandbox)
    after_create = "server_error_after_create" in ctx.sandbox.fault_kinds()
    ctx.sandbox.advance_clock(-300)
    ctx.sandbox.fault("x", "latency", operation="token", delay_ms=500)
    for network in h.NETWORKS:
        ctx.sandbox.fault(network, "latency", operation="publish", delay_ms=300)
        ctx.sandbox.fault(network, "timeout_after_create", operation="publish",
                          probability=0.1, delay_ms=LOST_ANSWER_MS)
        if after_create:
            ctx.sandbox.fault(network, "server_error_after_create",
                              operation="publish", probability=0.1)
        ctx.sandbox.fault(network, "server_error", operation="reply",
                          probability=0.2)
    start = h.utcnow() + timedelta(seconds=3)
    planned = h.make_planned(
        ctx.world, h.spread(ctx.world.channels, 14, start=start, seconds=1),
        markers=ctx.markers)
    by_id, start = loose(ctx, scale(42, params), seconds=14, lead=4,
                         first_comment=True)
    by_id.update(planned)
    base = h.utcnow() + timedelta(seconds=4)
    for i, pk in enumerate(sorted(planned)):
        at = base + timedelta(seconds=i)
        Publication.objects.filter(pk=pk).update(planned_at=at, due_at=at)
        h.ORIGINAL_PLANNED[pk] = at
    w = workers(ctx, 2)
    t0 = time.monotonic()
    lease = ctx.overrides["LEASE_SECONDS"]
    crisis_channels = [c for c in ctx.world.channels
                       if c.network in ("facebook", "threads")][:2]
    crisis_pubs = set(Publication.objects.filter(
        pk__in=list(by_id), channel__in=crisis_channels).values_list(
        "pk", flat=True))
    stop_times: dict = {}
    state = {"paused": False, "resumed": False, "killed": False,
             "crisis_on": None, "crisis_off": None, "withdrawn": 0}

    def during():
        clock = time.monotonic() - t0
        if not state["paused"] and clock > 5:
            w.pause(0)
            state["paused"] = True
        if state["paused"] and not state["resumed"] and clock > 5 + lease + 3:
            w.resume(0)
            state["resumed"] = True
        if not state["killed"] and clock > 14:
            w.kill(1)
            state["killed"] = True
        if state["crisis_on"] is None and clock > 8:
            publishing.start_crisis(actor=ctx.world.crisis_lead,
                                    organisation=ctx.world.org,
                                    reason="Benchmark: kort krise",
                                    channels=crisis_channels)
            state["crisis_on"] = h.utcnow()
        if state["crisis_on"] and state["crisis_off"] is None and clock > 12:
            state["crisis_off"] = end_crisis_publishing_now(ctx)
        if state["withdrawn"] < 5:
            for pub in Publication.objects.filter(pk__in=list(planned),
                                                  status="publishing")[:2]:
                if pub.pk in stop_times:
                    continue
                try:
                    _edit(ctx.world, Post.objects.get(pk=pub.post_id),
                          by_id[pub.pk])
                except (PermissionDenied, PlanningError):
                    continue
                stop_times[pub.pk] = h.utcnow()
                state["withdrawn"] += 1

    try:
        waited = h.settle(by_id, timeout=float(params.get("timeout", 240)),
                          quiet=30, during=during, workers=w, sandbox=ctx.sandbox,
                          hold=lambda: state["crisis_off"] is None
                          or not state["resumed"])
        last, since = -1, time.monotonic()
        while time.monotonic() - since < 12:
            n = len(ctx.sandbox.published())
            if n != last:
                last, since = n, time.monotonic()
            w.reap()
            time.sleep(0.5)
    finally:
        w.stop()
    for pk in crisis_pubs:
        stop_times.setdefault(pk, (state["crisis_on"], state["crisis_off"]))
    result = h.db_retry(h.judge, ctx.sandbox, by_id, first_comments=True,
                        expect_out=set(by_id) - {
                            pk for pk, v in stop_times.items()
                            if not isinstance(v, tuple)},
                        stop_times=stop_times, clock_offset=-300)
    result.update(settle=waited, worker_exits=len(w.exits),
                  withdrawn_while_claimed=state["withdrawn"],
                  after_create_faults=after_create,
                  worker_errors=h.worker_log_summary(ctx.tmp))
    return result


def kind_twins(ctx, params):
    """The same text twice on one channel, 6–20 s apart (a reminder that
    goes out every week), while 15 % of posts get a 5xx before anything is
    made (the outcome is unknown to Kanal), 10 % lose their answer after the
    post was made, and containers fail. Reconciling by text must not take the
    first twin's post for the second's: each twin needs a post of its own, and
    two rows may never claim one post. X, Facebook and LinkedIn refuse an
    identical text as a duplicate; there the second twin may fail, but must
    not be recorded as published with the first twin's post."""
    begin(ctx)
    from kanal.publishing.models import Publication

    for network in h.NETWORKS:
        ctx.sandbox.fault(network, "server_error", operation="publish",
                          probability=0.15)
        ctx.sandbox.fault(network, "timeout_after_create", operation="publish",
                          probability=0.10, delay_ms=LOST_ANSWER_MS)
    for network in ("instagram", "threads"):
        ctx.sandbox.fault(network, "server_error", operation="media",
                          probability=0.10)
    start = h.utcnow() + timedelta(seconds=6)
    firsts = h.spread(ctx.world.channels, scale(126, params), start=start,
                      seconds=30)
    planned = []
    for channel, at in firsts:
        planned += [(channel, at),
                    (channel, at + timedelta(seconds=random.uniform(6, 20)))]
    by_id = h.make_loose(ctx.world, planned, markers=ctx.markers, media=ctx.media)
    ids = sorted(by_id)
    for a, b in zip(ids[0::2], ids[1::2], strict=True):
        text = Publication.objects.values_list("text", flat=True).get(pk=a)
        Publication.objects.filter(pk=b).update(text=text)
        by_id[b] = by_id[a]
    workers(ctx, 2)
    refusing = set(Publication.objects.filter(
        pk__in=ids, channel__network__in=("x", "facebook", "linkedin"))
        .values_list("pk", flat=True))
    second = set(ids[1::2])
    return finish(ctx, by_id, expect_out=set(ids) - (second & refusing))


def kind_read_outage(ctx, params):
    """The networks' read endpoints fail while outcomes are unknown: 15 % of
    posts are made but their answer is lost, and every 25 s all GET requests
    on all seven networks answer 5xx for 15 s (listing, lookup, container
    status). Asking the network again is always safe; a live post must not
    end as failed because the network could not be asked for a while."""
    begin(ctx, container_delay=0.5)

    def base_faults():
        for network in h.NETWORKS:
            ctx.sandbox.fault(network, "timeout_after_create",
                              operation="publish", probability=0.15,
                              delay_ms=LOST_ANSWER_MS)

    base_faults()
    by_id, _ = loose(ctx, scale(280, params), seconds=50)
    workers(ctx, 2)
    state = {"down": False, "next": time.monotonic() + 8, "outages": 0}

    def during():
        clock = time.monotonic()
        if clock < state["next"]:
            return
        if state["down"]:
            ctx.sandbox.clear_faults()
            base_faults()
            state.update(down=False, next=clock + 10)
        elif state["outages"] < 5:
            for network in h.NETWORKS:
                ctx.sandbox.fault(network, "server_error", method="GET")
            state.update(down=True, next=clock + 15,
                         outages=state["outages"] + 1)

    result = finish(ctx, by_id, during=during)
    result["read_outages"] = state["outages"]
    return result


KINDS = {
    "schedule": kind_schedule,
    "nofault": kind_nofault,
    "pause": kind_pause,
    "slow_token": kind_slow_token,
    "error_after_create": kind_error_after_create,
    "token_race": kind_token_race,
    "db_drop": kind_db_drop,
    "clock": kind_clock,
    "clock_jump": kind_clock_jump,
    "withdraw": kind_withdraw,
    "container_withdraw": kind_container_withdraw,
    "crisis": kind_crisis,
    "followup": kind_followup,
    "skew": kind_skew,
    "kill_after_answer": kind_kill_after_answer,
    "sweeper_race": kind_sweeper_race,
    "channel_disabled": kind_channel_disabled,
    "twins": kind_twins,
    "read_outage": kind_read_outage,
}


# ---------------------------------------------------------------------------
# The scenario process


def scenario_main(kind: str, db: str, params: dict, out: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    seed = int(params.get("seed", random.randrange(10**6)))
    random.seed(seed)
    tmp = Path(tempfile.mkdtemp(prefix=f"kanal-faults-{kind}-{db}-"))
    db_url, db_name = h.prepare_database(db, tmp)
    sandbox = h.Sandbox(tmp, latency_ms=LATENCY_MS, seed=seed % 1000)
    ctx = SimpleNamespace(tmp=tmp, db=db, db_url=db_url, db_name=db_name,
                          sandbox=sandbox, workers=None, media_server=None)
    started = time.monotonic()
    try:
        result = KINDS[kind](ctx, params)
    except Exception as e:
        logger.exception("fault kind %s failed", kind)
        result = {"error": f"{type(e).__name__}: {e}"}
    finally:
        if ctx.workers is not None:
            with contextlib.suppress(Exception):
                ctx.workers.stop()
        sandbox.stop()
        if ctx.media_server is not None:
            ctx.media_server.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        h.drop_database(db, db_name)
    result.update(kind=kind, db=db, seed=seed, logs=str(tmp),
                  code=str(h.CODE), seconds=round(time.monotonic() - started, 1))
    if "skipped" not in result and "error" not in result:
        result["ok"] = h.ok_of(result)
    Path(out).write_text(h.dump(result))
    return 0


def code_env() -> dict:
    """``KANAL_BENCH_COMMIT`` / ``KANAL_BENCH_SANDBOX_COMMIT``: test a commit
    (a clean export) instead of the working tree."""
    env = dict(os.environ)
    if env.get("KANAL_BENCH_COMMIT"):
        env["KANAL_BENCH_CODE"] = str(h.export_commit(env["KANAL_BENCH_COMMIT"]))
    if env.get("KANAL_BENCH_SANDBOX_COMMIT"):
        env["KANAL_BENCH_SANDBOX_CODE"] = str(
            h.export_commit(env["KANAL_BENCH_SANDBOX_COMMIT"]))
    return env


def run_one(kind: str, db: str, params: dict) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    proc = subprocess.run(
        [h.PY, "-m", "bench.publishing_faults", kind, db, json.dumps(params), out],
        cwd=h.ROOT, check=False, env=code_env(),
    )
    try:
        result = json.loads(Path(out).read_text() or "{}")
    except (OSError, ValueError):
        result = {}
    Path(out).unlink(missing_ok=True)
    if proc.returncode:
        result["error"] = f"exit code {proc.returncode}"
    result.setdefault("kind", kind)
    result.setdefault("db", db)
    return result


def results_path() -> Path:
    return Path(os.environ.get("KANAL_BENCH_OUT")
                or h.ROOT / "var" / "bench-faults-last.json")


def run_benchmarks(argv) -> int:
    """``make bench`` / ``python -m bench publishing_faults``: every kind on
    every database (``KANAL_BENCH_FAULTS``, ``KANAL_BENCH_DBS``), then the
    ``faults`` section of BENCHMARKS.md (unless ``KANAL_BENCH_NO_WRITE``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    kinds = [k for k in os.environ.get("KANAL_BENCH_FAULTS", "").split(",") if k] \
        or list(KINDS)
    dbs = [d for d in os.environ.get("KANAL_BENCH_DBS", "").split(",") if d] \
        or ["sqlite", "postgres"]
    repeat = int(os.environ.get("KANAL_BENCH_REPEAT", 1))
    started = h.utcnow()
    load = [os.getloadavg()]
    results = []
    out = results_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    for db in dbs:
        for kind in kinds:
            for _ in range(repeat):
                logger.info("== faults: %s on %s", kind, db)
                result = run_one(kind, db, {})
                load.append(os.getloadavg())
                logger.info("   %s", summary_line(result))
                results.append(result)
                out.write_text(h.dump(results))
    meta = {"started": started, "ended": h.utcnow(), "load": load,
            "commit": os.environ.get("KANAL_BENCH_COMMIT") or "working tree",
            "command": " ".join(["python -m bench publishing_faults", *argv])}
    out.write_text(h.dump({"meta": meta, "results": results}))
    if not os.environ.get("KANAL_BENCH_NO_WRITE"):
        write_markdown(results, meta)
    return int(any(r.get("ok") is False or "error" in r for r in results))


# ---------------------------------------------------------------------------
# BENCHMARKS.md

COLUMNS = (
    ("publications", "pubs"), ("network_posts", "on network"),
    ("duplicates", "dup"), ("lost", "lost"),
    ("live_marked_not_published", "live marked not published"),
    ("published_but_not_on_network", "marked published, not on network"),
    ("channels_needing_reconnect", "channels needing reconnection"),
    ("sends_after_stop", "sends after stop"), ("early_sends", "early sends"),
)


def _cell(result: dict, key: str) -> str:
    value = result.get(key)
    if value is None:
        return "–"
    if key == "sends_after_stop" and result.get("latest_send_after_stop_s"):
        return f"{value} (latest +{result['latest_send_after_stop_s']} s)"
    return str(value)


def _extra(result: dict) -> str:
    # The commit a run tested, where runs of one report tested several.
    bits = [f"code {result['commit']}"] if result.get("commit") else []
    if "first_comment_missing" in result:
        bits.append(f"first comments: {result['first_comment_duplicates']} dup, "
                    f"{result['first_comment_missing']} missing silently, "
                    f"{result.get('first_comment_missing_person_told', 0)} "
                    "missing with a person told")
    for key, label in (("worker_exits", "worker exits"), ("pauses", "pauses"),
                       ("kills", "kills"), ("kills_after_answer", "kills"),
                       ("terminated", "backends terminated"),
                       ("locks", "22 s write locks"),
                       ("withdrawn_while_claimed", "withdrawn while claimed"),
                       ("channels_disabled", "channels disabled"),
                       ("deploys", "deploys"),
                       ("live_paused_before_end", "live & paused during crisis")):
        if result.get(key):
            bits.append(f"{label} {result[key]}")
    if result.get("lag_seconds"):
        bits.append(f"lag p50 {result['lag_seconds']['p50']} s, p99 "
                    f"{result['lag_seconds']['p99']} s; worker CPU "
                    f"{result['worker_cpu_ms_per_publication']} ms/publication")
    return "; ".join(bits)


def load_results(path: str) -> dict | None:
    """A results file of ``run_benchmarks`` ({"meta", "results"}) or of
    ``run`` (a list)."""
    if not path or not Path(path).exists():
        return None
    data = json.loads(Path(path).read_text())
    if isinstance(data, list):
        data = {"meta": {}, "results": data}
    return data


def _brief(r: dict) -> str:
    if "skipped" in r or "error" in r:
        return "not run"
    keys = ("duplicates", "lost", "live_marked_not_published",
            "channels_needing_reconnect", "sends_after_stop", "early_sends")
    return f"{r.get('publications')} pubs: " + " / ".join(
        str(r.get(k, "–")) for k in keys)


def machine() -> str:
    """The CPU model and memory of this machine, for the record."""
    model, memory = "", ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{round(kib / 1024 / 1024)} GB RAM"
    return ", ".join(x for x in (model, memory) if x) or "this machine"


def write_markdown(results: list[dict], meta: dict) -> None:
    """The section ``faults`` of BENCHMARKS.md; META ``section`` (e.g.
    ``faults-2026-12-07``) and ``title`` write a section of its own beside it,
    so that an earlier series stays as its record."""
    load = meta.get("load") or []
    loads = [round(x[0], 1) for x in load]
    name = meta.get("section", "faults")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    lines = [
        start, f"## {meta.get('title', 'Publishing under faults (issue 9)')}", "",
        f"Run {str(meta['started'])[:16]}–{str(meta['ended'])[11:16]} UTC on "
        f"{meta.get('machine') or machine()}, "
        f"{os.cpu_count()} CPUs shared with other work (1-minute load "
        f"{min(loads, default=0)}–{max(loads, default=0)} during the run), code: "
        f"{meta['commit']}. Command: `{meta['command']}` "
        "(`bench/publishing_faults.py`; kinds and what each does are in its "
        "docstrings). Each kind: a fresh database, the sandbox with all seven "
        f"emulators at {LATENCY_MS} ms latency, `kanal worker` processes, "
        "publications on 6 channels per network; verdicts from the sandbox's "
        "publish log only.", "",
        "| kind | db | " + " | ".join(label for _, label in COLUMNS)
        + " | other | verdict |",
        "| --- | --- | " + " | ".join("---:" for _ in COLUMNS) + " | --- | --- |",
    ]
    totals: dict[str, dict] = {}
    for r in results:
        if "skipped" in r or "error" in r:
            why = r.get("skipped") or r.get("error")
            lines.append(f"| {r['kind']} | {r['db']} | " + " | ".join(
                "–" for _ in COLUMNS) + f" | {why} | **not run** |")
            continue
        t = totals.setdefault(r["db"], {"publications": 0, "bad": 0, "kinds": 0,
                                         "names": set()})
        t["publications"] += r.get("publications", 0)
        t["kinds"] += 1
        t["names"].add(r["kind"])
        t["bad"] += 0 if r.get("ok") else 1
        lines.append(f"| {r['kind']} | {r['db']} | " + " | ".join(
            _cell(r, key) for key, _ in COLUMNS) + f" | {_extra(r)} | "
            + ("**met**" if r.get("ok") else "**not met**") + " |")
    lines.append("")
    for db, t in sorted(totals.items()):
        lines.append(f"- {db}: {t['publications']} publications in "
                     f"{t['kinds']} runs of {len(t['names'])} fault kinds; "
                     f"runs with any failure: {t['bad']}.")
    lines += ["", "Evidence of each failure (first items; full results in "
              "`var/bench-faults-last.json`):", ""]
    for r in results:
        if r.get("ok") is not False:
            continue
        for key, items in (r.get("evidence") or {}).items():
            if items:
                lines.append(f"- {r['kind']} / {r['db']} / {key}: "
                             f"`{h.dump(items[:3])[:400]}`")
    cost = os.environ.get("KANAL_BENCH_AB", "")
    if cost and Path(cost).exists():
        ab_run = json.loads(Path(cost).read_text())
        ab_loads = ", ".join(str(round(x, 1)) for x in
                             ab_run.get("loads") or ab_run["load"][:1])
        lines += ["", "### Cost of the fencing (no faults)", "",
                  f"`python -m bench.publishing_faults ab {ab_run['before']} "
                  f"{ab_run['after']} {ab_run['rounds']}`: the code before issue "
                  f"9 ({ab_run['before']}) and after ({ab_run['after']}), run "
                  f"alternately {ab_run['rounds']} times in one session on the "
                  "busy machine (1-minute load "
                  f"{ab_loads}"
                  "), both against the new sandbox; medians, and "
                  "after ÷ before. *nofault*: 280 publications over 60 s on all "
                  "seven networks, one worker with 8 threads, production lease"
                  + ("; *mastodon*: `bench/publishing_engine.py`'s lag (200 over "
                     "120 s) and burst (2,000 at once) scenarios"
                     if any(k.startswith("mastodon") for k in ab_run["medians"])
                     else "") + ". Lag is the "
                  "network's receive time less the planned time and includes "
                  f"the {LATENCY_MS} ms latency; worker CPU is user + system "
                  "time of the worker processes per publication.", "",
                  "| figure | before | after | after ÷ before |",
                  "| --- | ---: | ---: | ---: |"]
        for key, med in ab_run["medians"].items():
            if key.endswith(": ok"):
                continue
            lines.append(f"| {key} | {med.get('before', '–')} | "
                         f"{med.get('after', '–')} | {med.get('ratio', '–')} |")
    before = load_results(os.environ.get("KANAL_BENCH_BEFORE", ""))
    if before:
        lines += ["", "### The same kinds on the code before issue 9", "",
                  f"Code {before['meta'].get('commit', '?')}, run "
                  f"{str(before['meta'].get('started', ''))[:16]} UTC, same "
                  "benchmark (its sandbox where the old one lacks a fault "
                  "kind). dup / lost / live marked not published / channels "
                  "needing reconnection / sends after stop / early sends:", "",
                  "| kind | db | before | after |", "| --- | --- | --- | --- |"]
        after = {(r["kind"], r["db"]): r for r in results}
        for r in before["results"]:
            now = after.get((r["kind"], r["db"]))
            lines.append(f"| {r['kind']} | {r['db']} | {_brief(r)} | "
                         f"{_brief(now) if now else '–'} |")
    if meta.get("notes"):
        # What the person who ran it found (``report``'s META "notes").
        lines += ["", "### Findings of this run", ""]
        lines += [f"- {note}" for note in meta["notes"]]
    lines += ["", NOTES, end]
    section = "\n".join(lines)
    write_section(start, end, section)


NOTES = """How to read it. *dup*: copies beyond the first of one publication
on its network. *lost*: publications that should be out and have no post.
*live marked not published*: a post is on the network and Kanal's row says
failed, missed, paused, cancelled or still waiting. *sends after stop*:
requests that reached the network more than 0.25 s after a withdrawal, a
crisis switch or a disabled channel committed (the latest margin in
brackets). *early sends*: posts that reached the network more than 1 s
before their planned time. Leases are scaled down (8 s, swept every 1 s,
HTTP timeout 3 s; production: 60 s, 5 s, 20 s) so that a kind runs in
minutes."""


def summary_line(result: dict) -> str:
    keys = ("publications", "network_posts", "duplicates", "lost",
            "live_marked_not_published", "published_but_not_on_network",
            "sends_after_stop", "channels_needing_reconnect",
            "first_comment_duplicates", "first_comment_missing",
            "first_comment_missing_person_told", "early_sends",
            "worker_exits", "latest_send_after_stop_s",
            "ok", "skipped", "error", "seconds", "logs")
    return h.dump({k: result[k] for k in keys if k in result})


def ab(argv: list[str]) -> int:
    """``ab BEFORE AFTER [ROUNDS]``: the cost of a change, measured in one
    session on a shared machine: the no-fault run (all seven networks) and
    the Mastodon lag and burst benchmarks of ``bench/publishing_engine.py``,
    for the two commits alternately, ROUNDS times; prints the medians and the
    ratio. Both run against AFTER's sandbox."""
    import statistics

    before, after = argv[0], argv[1]
    rounds = int(argv[2]) if len(argv) > 2 else 3
    codes = {"before": h.export_commit(before), "after": h.export_commit(after)}
    engine_runs = [("lag", "sqlite", {}),
                   ("burst", "sqlite", {"workers": 1, "concurrency": 32}),
                   ("burst", "postgres", {"workers": 4, "concurrency": 4})]
    if os.environ.get("KANAL_BENCH_AB_NOFAULT_ONLY"):
        # Only the no-fault runs of this harness (its ports and database
        # names follow KANAL_BENCH_*; the older commit's engine benchmark
        # picks its own): the lag and worker CPU on all seven networks.
        engine_runs = []
    figures: dict = {}
    loads: list[float] = []

    def add(label, key, value):
        if value is not None:
            figures.setdefault(key, {}).setdefault(label, []).append(value)

    for _ in range(rounds):
        for label, code in codes.items():
            os.environ["KANAL_BENCH_COMMIT"] = before if label == "before" \
                else after
            os.environ["KANAL_BENCH_SANDBOX_COMMIT"] = after
            for db in ("sqlite", "postgres"):
                r = run_one("nofault", db, {})
                add(label, f"nofault {db}: lag p99 s",
                    (r.get("lag_seconds") or {}).get("p99"))
                add(label, f"nofault {db}: worker CPU ms/publication",
                    r.get("worker_cpu_ms_per_publication"))
                add(label, f"nofault {db}: ok", int(bool(r.get("ok"))))
            for scenario, db, params in engine_runs:
                with tempfile.NamedTemporaryFile(suffix=".json") as f:
                    subprocess.run(
                        [h.PY, "-m", "bench.publishing_engine", scenario, db,
                         json.dumps(params), f.name], cwd=code, check=False)
                    try:
                        r = json.loads(Path(f.name).read_text() or "{}")
                    except ValueError:
                        r = {}
                name = f"mastodon {scenario} {db} {json.dumps(params)}"
                add(label, f"{name}: lag p99 s",
                    (r.get("lag_seconds") or {}).get("p99"))
                add(label, f"{name}: worker CPU ms/publication",
                    r.get("worker_cpu_ms_per_publication"))
                add(label, f"{name}: publications/s",
                    r.get("throughput_per_s"))
            print(label, h.dump(figures), flush=True)
            loads.append(os.getloadavg()[0])
    out = {"before": before, "after": after, "rounds": rounds,
           "load": os.getloadavg(), "loads": loads, "figures": figures,
           "medians": {}}
    for key, by in figures.items():
        med = {k: statistics.median(v) for k, v in by.items()}
        if med.get("before"):
            med["ratio"] = round(med.get("after", 0) / med["before"], 3)
        out["medians"][key] = med
        print(f"{key}: {h.dump(med)}", flush=True)
    path = Path(os.environ.get("KANAL_BENCH_OUT") or h.ROOT / "var" /
                "bench-faults-ab.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(h.dump(out))
    return 0


def main(argv: list[str]) -> int:
    """``run KIND[,KIND] DB[,DB] [params-json]``: run kinds by hand and print
    the verdicts (full results in var/bench-faults-last.json)."""
    if argv[0] == "ab":
        return ab(argv[1:])
    if argv[0] == "report":
        # report META-JSON RESULTS.json [RESULTS.json ...]: BENCHMARKS.md from
        # saved runs (META: {"commit", "command", "started", "ended", "load",
        # optional "machine" and "notes"}).
        meta = json.loads(argv[1])
        results = []
        for path in argv[2:]:
            results += load_results(path)["results"]
        write_markdown(results, meta)
        return 0
    if argv[0] != "run":
        return scenario_main(argv[0], argv[1], json.loads(argv[2]), argv[3])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    params = json.loads(argv[3]) if len(argv) > 3 else {}
    results = []
    for db in argv[2].split(","):
        for kind in argv[1].split(","):
            result = run_one(kind, db, params)
            print(kind, db, summary_line(result), flush=True)
            results.append(result)
            out = results_path()
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(h.dump(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
