"""Insights benchmark: dashboards on three years of numbers.

``python -m bench insights`` fills a fresh SQLite database (in its own
process; ``--postgres URL`` uses that database instead) with three years of
daily snapshots for 50 channels, 50,000 published posts with 30 samples
each, the day rollups built by Kanal's own rollup code, and three years of
hashtag counts. It then measures in-process through Django's test client the
overview, a year's category breakdown and the hashtag page (server time
p50/p95, SQL queries, for a month and for a year: the count must not grow),
the rollup update after one day's collection, and a year's PDF report. The
figures go to the insights section of BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import measure_page, run_inner, write_section

ROOT = Path(__file__).resolve().parent.parent
#: One section per database, side by side in BENCHMARKS.md.
MARKERS = {
    "sqlite": ("<!-- insights:start -->", "<!-- insights:end -->"),
    "postgresql": ("<!-- insights-postgresql:start -->",
                   "<!-- insights-postgresql:end -->"),
}
REPEATS = 30
WARMUP = 3
# Smaller worlds for a quick check: KANAL_BENCH_INSIGHTS_SCALE=0.02.
SCALE = float(os.environ.get("KANAL_BENCH_INSIGHTS_SCALE", "1"))
CHANNELS = max(7, int(50 * SCALE))
POSTS = max(500, int(50_000 * SCALE))
SAMPLES = 30
DAYS = 3 * 365
NETWORKS = ["facebook", "instagram", "x", "mastodon", "bluesky", "linkedin",
            "threads"]
CATEGORIES = ["Borgerservice", "Kultur", "Byudvikling", "Kampagner", "Job",
              "Kriseberedskab", "Idræt", "Natur"]
PURPOSES = ["branding", "information", "dialogue", "service", "involvement"]


def run_benchmarks(argv) -> int:
    database = None
    if "--postgres" in argv:
        database = os.environ.get("KANAL_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="kanal-bench-insights-") as tmp:
        result = run_inner(
            "insights_dashboards", tmp, what="insights",
            database_url=database or f"sqlite:///{Path(tmp) / 'insights.sqlite3'}")
        if result is None:
            return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if SCALE == 1:
        # Only the full-size run is recorded.
        write_markdown(result)
    return 0 if all(result["pages"][p]["p95_ms"] < 300 for p in result["pages"]) else 1


# --------------------------------------------------------------------------
# Inside the benchmark process


def fill(today) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from kanal.channels.models import Channel, StrategyProfile
    from kanal.insights.models import (
        AccountSample,
        DirtyDay,
        HashtagDay,
        HashtagUse,
        PostSample,
        PostTracking,
    )
    from kanal.organisations.models import Administration, Membership, Organisation
    from kanal.planning.models import Campaign, Post, PostStatus
    from kanal.publishing.models import Publication, PublicationStatus

    rng = random.Random(2015)
    org = Organisation.objects.create(name="Benchkommune", slug="bench",
                                      require_two_factor=False)
    admins = [Administration.objects.create(organisation=org, code=f"F{n}",
                                            name=f"Forvaltning {n}")
              for n in range(7)]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("analytiker", password="x")
    analyst = Membership.objects.create(organisation=org, user=user,
                                        administration=admins[0], role="analyst")
    campaigns = [Campaign.objects.create(organisation=org, name=f"Kampagne {n}",
                                         hashtags=[f"#kampagne{n}"])
                 for n in range(12)]
    channels = []
    for n in range(CHANNELS):
        channel = Channel.objects.create(
            organisation=org, network=NETWORKS[n % len(NETWORKS)],
            display_name=f"Kanal {n}", handle=f"kanal{n}", remote_id=str(n),
            owner_administration=admins[n % 7], base_url="http://127.0.0.1:9",
            follower_count=1000 + 900 * n)
        StrategyProfile.objects.create(channel=channel, cadence_min=1,
                                       cadence_max=3, cadence_period="day",
                                       default_hashtags=["#voreskbh"])
        channels.append(channel)
    first = today - timedelta(days=DAYS - 1)
    tz = timezone.get_current_timezone()
    t0 = time.perf_counter()
    with transaction.atomic():
        AccountSample.objects.bulk_create([
            AccountSample(
                organisation=org, channel=channel, day=first + timedelta(days=d),
                name=name, kind=kind, api_version="v25.0",
                value=(channel.follower_count + 3 * d if kind == "followers"
                       else rng.randint(100, 5000)),
                taken_at=datetime.combine(first + timedelta(days=d),
                                          datetime.min.time(), tzinfo=tz)
                + timedelta(hours=12))
            for channel in channels for d in range(DAYS)
            for name, kind in (("followers_count", "followers"),
                               ("page_media_view", "views"))
        ], batch_size=5000)
    snapshots_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction.atomic():
        posts = Post.objects.bulk_create([
            Post(organisation=org, owner_administration=rng.choice(admins),
                 title="Opslag", category=rng.choice(CATEGORIES),
                 purposes=[rng.choice(PURPOSES)],
                 campaign=rng.choice(campaigns) if rng.random() < 0.2 else None,
                 status=PostStatus.PUBLISHED)
            for _ in range(POSTS)
        ], batch_size=5000)
        moments = []
        for _ in range(POSTS):
            day = first + timedelta(days=rng.randrange(DAYS))
            moments.append(datetime.combine(day, datetime.min.time(), tzinfo=tz)
                           + timedelta(hours=rng.randint(7, 21)))
        publications = Publication.objects.bulk_create([
            Publication(organisation=org, channel=rng.choice(channels),
                        planned_at=at, due_at=at, late_after=at, post_id=post.pk,
                        text=f"Opslag {i}", status=PublicationStatus.PUBLISHED,
                        published_at=at, remote_id=f"r{i}",
                        idempotency_key=f"bench-{i}")
            for i, (post, at) in enumerate(zip(posts, moments, strict=True))
        ], batch_size=5000)
        kinds = [("post_media_view", "views"), ("post_total_media_view_unique",
                                                "reach"),
                 ("post_reactions_like_total", "likes"),
                 ("comments.summary.total_count", "comments"),
                 ("post_clicks", "clicks")]
        trackings, samples = [], []
        for publication in publications:
            latest = {}
            for s in range(SAMPLES // len(kinds)):
                taken = publication.published_at + timedelta(hours=2 ** s)
                for name, kind in kinds:
                    value = rng.randint(10, 5000) * (s + 1)
                    latest[kind] = value
                    samples.append(PostSample(
                        organisation=org, channel_id=publication.channel_id,
                        publication=publication, taken_at=taken, name=name,
                        kind=kind, api_version="v25.0", value=value))
            trackings.append(PostTracking(
                publication=publication, channel_id=publication.channel_id,
                next_due_at=publication.published_at + timedelta(days=400),
                finished=True, latest=latest,
                published_at=publication.published_at,
                engagement=latest["likes"] + latest["comments"],
                views=latest["views"]))
            if len(samples) >= 50_000:
                PostSample.objects.bulk_create(samples, batch_size=5000)
                samples = []
        PostSample.objects.bulk_create(samples, batch_size=5000)
        PostTracking.objects.bulk_create(trackings, batch_size=5000)
    posts_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction.atomic():
        tags = ["voreskbh"] + [f"kampagne{n}" for n in range(4)]
        HashtagDay.objects.bulk_create([
            HashtagDay(organisation=org, network=network, tag=tag,
                       day=first + timedelta(days=d), uses=rng.randint(0, 120))
            for network in ("instagram", "mastodon", "bluesky", "x")
            for tag in tags for d in range(DAYS)
        ], batch_size=5000)
        HashtagUse.objects.bulk_create([
            HashtagUse(organisation=org, network="instagram", tag="voreskbh",
                       remote_id=f"h{i}", author_name=f"borger{i % 900}",
                       text="Dejlig dag #voreskbh", url=f"https://example.org/{i}",
                       posted_at=moments[i % POSTS], found_at=moments[i % POSTS],
                       day=moments[i % POSTS].date())
            for i in range(50_000)
        ], batch_size=5000)
        DirtyDay.objects.bulk_create([
            DirtyDay(organisation=org, day=first + timedelta(days=d),
                     marked_at=timezone.now())
            for d in range(DAYS)
        ])
    hashtags_s = time.perf_counter() - t0
    return {"org": org, "analyst": analyst, "channels": channels,
            "fill": {"snapshots_s": round(snapshots_s, 1),
                     "posts_s": round(posts_s, 1),
                     "hashtags_s": round(hashtags_s, 1)}}


def measure(client, url: str) -> dict:
    return measure_page(client, url, warmup=WARMUP, repeats=REPEATS)


def one_days_collection(data, now) -> dict:
    """Collect one day for every channel (account + the posts due), then
    time the rollup update that follows."""
    from kanal.channels.networks.base import Metric, MetricsSnapshot
    from kanal.insights import actions, rollups
    from kanal.insights.models import PostTracking

    recent = list(PostTracking.objects.filter(
        publication__published_at__gte=now - timedelta(days=14)
    ).select_related("publication"))
    by_channel: dict[int, list] = {}
    for tracking in recent:
        by_channel.setdefault(tracking.channel_id, []).append(tracking)
    t0 = time.perf_counter()
    for channel in data["channels"]:
        due = by_channel.get(channel.pk, [])
        snapshot = MetricsSnapshot(
            account=(Metric("followers_count", 99999, "followers", "v25.0"),),
            posts={t.publication.remote_id: (
                Metric("post_media_view", 1234, "views", "v25.0"),
                Metric("post_reactions_like_total", 56, "likes", "v25.0"))
                for t in due},
        )
        actions.record_metrics(channel, snapshot, trackings=due, now=now)
    collect_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    days = rollups.update_dirty_days(now=now)
    return {"collect_s": round(collect_s, 2), "posts_sampled": len(recent),
            "rollup_s": round(time.perf_counter() - t0, 2), "days_recomputed": days}


def inner(out: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from kanal.insights import report, rollups

    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now()
    today = timezone.localdate(now)
    data = fill(today)
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load; without statistics the
        # planner takes the freshly filled tables for empty ones.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    t0 = time.perf_counter()
    rollups.update_dirty_days(now=now)
    while rollups.update_dirty_days(now=now):
        pass
    full_rollup_s = time.perf_counter() - t0
    client = Client(HTTP_HOST="localhost")
    client.force_login(data["analyst"].user)
    year = f"fra={today - timedelta(days=364)}&til={today}"
    month = f"fra={today - timedelta(days=29)}&til={today}"
    pages = {
        "Overview, a year": f"/indsigt/?{year}",
        "Overview, a month": f"/indsigt/?{month}",
        "Categories, a year": f"/indsigt/fordeling/category/?{year}",
        "Categories, a month": f"/indsigt/fordeling/category/?{month}",
        "Hashtags, a year": f"/indsigt/hashtags/?{year}",
        "Hashtags, a month": f"/indsigt/hashtags/?{month}",
    }
    measured = {name: measure(client, url) for name, url in pages.items()}
    collection = one_days_collection(data, now + timedelta(minutes=5))
    t0 = time.perf_counter()
    pdf = b"".join(
        report.monthly_report(data["org"], (today.replace(day=1) - timedelta(
            days=31 * n)).replace(day=1))
        for n in range(12)
    )
    pdf_s = time.perf_counter() - t0
    from kanal.insights.models import DailyRollup, PostSample

    result = {
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": connection.vendor,
        "cpus": os.cpu_count(),
        "channels": CHANNELS, "posts": POSTS,
        "post_samples": PostSample.objects.count(),
        "rollup_rows": DailyRollup.objects.count(),
        "fill": data["fill"],
        "full_rollup_s": round(full_rollup_s, 1),
        "pages": measured,
        "collection": collection,
        "pdf_year_s": round(pdf_s, 2), "pdf_bytes": len(pdf),
        "repeats": REPEATS,
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    out.write_text(json.dumps(result))


def write_markdown(r: dict) -> None:
    start, end = MARKERS[r["database"]]
    lines = [
        start,
        f"## Insights: dashboards ({r['database']})",
        "",
        f"Run {r['run_at']} on {r['cpus']} CPU(s) by `python -m bench insights` "
        f"(`bench/insights_dashboards.py`), {r['database']}, Django test client in "
        f"process, {r['repeats']} requests per page after warm-up, load average "
        f"{r['load']} (other suites ran beside it). Data: {r['channels']} channels "
        f"with three years of daily snapshots, {r['posts']:,} published posts with "
        f"{r['post_samples']:,} samples, {r['rollup_rows']:,} rollup rows built by "
        f"Kanal's rollup code ({r['full_rollup_s']} s for all three years), three "
        "years of hashtag counts and 50,000 hashtag posts.",
        "",
        "| Page | p50 ms | p95 ms | SQL queries |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, m in r["pages"].items():
        lines.append(f"| {name} | {m['p50_ms']} | {m['p95_ms']} | {m['queries']} |")
    pages = r["pages"]
    ok = all(m["p95_ms"] < 300 for m in pages.values())
    flat = all(pages[f"{p}, a year"]["queries"] == pages[f"{p}, a month"]["queries"]
               for p in ("Overview", "Categories", "Hashtags"))
    c = r["collection"]
    lines += [
        "",
        f"- Target p95 < 300 ms: **{'met' if ok else 'missed'}**.",
        f"- Query count flat (a year = a month): **{'yes' if flat else 'no'}**.",
        f"- Rollup update after a day's collection (50 channels, {c['posts_sampled']}"
        f" posts sampled, {c['days_recomputed']} days recomputed): "
        f"**{c['rollup_s']} s** (target < 10 s; the collection's writes took "
        f"{c['collect_s']} s).",
        f"- A year's PDF (twelve monthly reports): **{r['pdf_year_s']} s** "
        "(target < 10 s).",
        "- How: pages read only the day rollups (one row per day and dimension "
        "value) and, for top posts, one tracking row per post; no page reads the "
        "samples.",
        end,
    ]
    write_section(start, end, "\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--inner":
        inner(Path(sys.argv[2]))
    else:
        sys.exit(run_benchmarks(sys.argv[1:]))
