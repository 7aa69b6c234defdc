"""Records benchmark: access requests, export and deletion over years of data.

``python -m bench records`` fills a fresh SQLite database (in its own process)
with three years of a municipality's record: 50 channels, posts and citizen
items in the issue's proportion (50,000 posts : 1,000,000 citizen items),
scaled by ``KANAL_BENCH_RECORDS_SCALE`` (1.0 = the issue's full size; the
default 0.1 keeps the run short on a shared machine). Then it measures:

- building an access request for a year and a search word (the action: the
  literal search plus storing what it found), p50/p95 over repeats;
- exporting 10,000 items with media (PDF + ZIP with checksums), its time and
  the process's peak memory (RSS);
- the deletion job over a year's expired citizen items.

The figures go to the records section of BENCHMARKS.md.
By hand: ``python -m bench.records_archive --inner <result.json>``.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import run_inner, spread, write_section

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = 50
FULL_POSTS = 50_000
FULL_ITEMS = 1_000_000
EXPORT_ITEMS = 10_000
MEDIA_FILES = 400
REPEATS = 15
WORD = "havnebad"


def run_benchmarks(argv) -> int:
    with tempfile.TemporaryDirectory(prefix="kanal-bench-records-") as tmp:
        result = run_inner(
            "records_archive", tmp, what="records",
            database_url=os.environ.get(
                "DATABASE_URL", f"sqlite:///{Path(tmp) / 'records.sqlite3'}"),
            KANAL_MEDIA_ROOT=str(Path(tmp) / "media"))
        if result is None:
            return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    write_markdown(result)
    return 0


def fill(now, scale: float) -> dict:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kanal.channels.models import Channel
    from kanal.organisations.models import Administration, Membership, Organisation
    from kanal.organisations.roles import Role
    from kanal.records.content import content_hash, file_sha256, normalised
    from kanal.records.models import RecordEntry, RecordMedia

    rng = random.Random(17)
    org = Organisation.objects.create(name="Benchkommune", slug="bench",
                                      require_two_factor=False)
    adm = Administration.objects.create(organisation=org, code="KFF", name="Kultur")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("officer", password="x")
    officer = Membership.objects.create(user=user, organisation=org,
                                        administration=adm,
                                        role=Role.RECORDS_OFFICER)
    channels = [
        Channel.objects.create(
            organisation=org, network=("facebook", "instagram", "x")[n % 3],
            display_name=f"Kanal {n}", owner_administration=adm,
            base_url="http://127.0.0.1:9/",
        )
        for n in range(CHANNELS)
    ]
    media = []
    for n in range(MEDIA_FILES):
        data = rng.randbytes(40_000)
        path = default_storage.save(f"records/media/b{n}.jpg", ContentFile(data))
        sha = file_sha256(path)
        RecordMedia.objects.create(sha256=sha, path=path, mime_type="image/jpeg",
                                   size=len(data))
        media.append({"name": f"b{n}.jpg", "sha256": sha, "alt_text": "Billede",
                      "mime_type": "image/jpeg"})
    words = ["svømmehal", "bibliotek", "affald", "cykelsti", "parkering",
             "skole", "vejarbejde", "koncert", "borgerservice", WORD]
    posts = int(FULL_POSTS * scale)
    items = int(FULL_ITEMS * scale)
    span = timedelta(days=3 * 365).total_seconds()
    batch = []
    t0 = time.perf_counter()
    for n in range(posts + items):
        is_post = n < posts
        word = WORD if rng.random() < 0.01 else rng.choice(words[:-1])
        text = (f"Opslag {n} om {word} i København, se kk.dk" if is_post
                else f"Kommentar {n}: hvad med {word}? Mvh borger")
        content = {"text": text, "media": [rng.choice(media)] if is_post else []}
        content = normalised(content)
        when = now - timedelta(seconds=rng.random() * span)
        channel = channels[n % CHANNELS]
        batch.append(RecordEntry(
            organisation=org, kind="post" if is_post else "comment",
            source="bench", source_key=f"bench:{n}", text=text,
            search_text=text.casefold(), content=content,
            content_hash=content_hash(content), channel=channel,
            administration=adm, network=channel.network,
            person="" if is_post else f"borger{rng.randrange(items // 20 + 1)}",
            occurred_at=when, recorded_at=when,
        ))
        if len(batch) == 5000:
            RecordEntry.objects.bulk_create(batch)
            batch = []
    RecordEntry.objects.bulk_create(batch)
    return {"officer": officer, "posts": posts, "items": items,
            "fill_seconds": round(time.perf_counter() - t0, 1)}


def inner(out: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    scale = float(os.environ.get("KANAL_BENCH_RECORDS_SCALE", "0.1"))
    now = timezone.now()
    data = fill(now, scale)
    officer = data["officer"]
    # Statistics as a live table has them (autovacuum analyses it after such
    # a load): without them PostgreSQL guesses one matching row and walks
    # the period's time index instead of the trigram index.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    from kanal.records import actions, retention
    from kanal.records.export import run_export
    from kanal.records.models import AccessRequest, RecordEntry

    today = timezone.localdate()
    timings = []
    found = 0
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        access = actions.build_access_request(
            actor=officer, title="Et år", requester="", case_ref="",
            period_start=today - timedelta(days=365), period_end=today,
            search_words=[WORD])
        timings.append((time.perf_counter() - t0) * 1000)
        found = access.found
    search = {**spread(timings), "found": found}

    # An export of 10,000 items (posts with media first): a request over
    # the period that holds that many, built directly.
    from kanal.records.models import AccessRequestItem

    ids = list(RecordEntry.objects.filter(kind="post").order_by("-occurred_at")
               .values_list("pk", flat=True)[:EXPORT_ITEMS])
    if len(ids) < EXPORT_ITEMS:
        ids += list(RecordEntry.objects.filter(kind="comment")
                    .values_list("pk", flat=True)[:EXPORT_ITEMS - len(ids)])
    big = AccessRequest.objects.create(
        organisation=officer.organisation, title="Eksport", period_start=today,
        period_end=today, found=len(ids))
    AccessRequestItem.objects.bulk_create(
        [AccessRequestItem(request=big, entry_id=pk) for pk in ids],
        batch_size=2000)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    # The test settings' task backend runs the export as soon as it is queued.
    export = actions.start_export(big, actor=officer)
    export = run_export(export.pk)
    export_seconds = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from django.core.files.storage import default_storage

    exported = {
        "items": len(ids),
        "seconds": round(export_seconds, 1),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "pdf_mb": round(default_storage.size(export.pdf_path) / 1e6, 1),
        "zip_mb": round(default_storage.size(export.zip_path) / 1e6, 1),
        "status": export.status,
    }
    for request in AccessRequest.objects.all():
        actions.close_access_request(request, actor=officer)

    # Comments are kept two years: a year's worth is due.
    actions.set_retention(actor=officer, kind="comment", keep_days=2 * 365)
    due = retention.apply_retention(dry_run=True).deleted
    t0 = time.perf_counter()
    deleted = retention.apply_retention().deleted
    deletion = {"due": due, "deleted": deleted,
                "seconds": round(time.perf_counter() - t0, 1)}
    result = {
        "database": connection.vendor,
        "scale": scale,
        "posts": data["posts"],
        "citizen_items": data["items"],
        "channels": CHANNELS,
        "fill_seconds": data["fill_seconds"],
        "access_request_year_word": search,
        "export": exported,
        "deletion": deletion,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    out.write_text(json.dumps(result))


SEARCH_NOTE = {
    "postgresql": (
        "The search is a literal, case-insensitive LIKE on the case-folded "
        "text; on PostgreSQL a `pg_trgm` GIN index (records migration 0003) "
        "answers it, so it reads the rows holding the word rather than every "
        "row of the period. The deletion job reads the due ids 50,000 at a "
        "time and deletes them in batches of 500."
    ),
    "sqlite": (
        "The search is literal and case-insensitive on the case-folded text; "
        "on SQLite an FTS5 table of trigrams (records migration 0004, kept by "
        "triggers) answers it, so it reads the rows holding the word rather "
        "than every row of the period. The deletion job reads the due ids "
        "50,000 at a time and deletes them in batches of 500; each deleted "
        "row also leaves the trigram index (a trigger)."
    ),
}


def write_markdown(r: dict) -> None:
    """One section per database, so both runs stand side by side."""
    start = f"<!-- records:{r['database']}:start -->"
    end = f"<!-- records:{r['database']}:end -->"
    s, e, d = r["access_request_year_word"], r["export"], r["deletion"]
    lines = [
        start,
        f"## Records on {r['database']} (access requests, export, deletion)",
        "",
        f"`python -m bench records` on {r['database']}, scale {r['scale']} of the "
        f"issue's data set: {r['channels']} channels, {r['posts']:,} posts and "
        f"{r['citizen_items']:,} citizen items over three years (filled in "
        f"{r['fill_seconds']} s). Load average at the end "
        f"{r['load_average']} on {r['cpus']} CPUs (shared with other suites).",
        "",
        "| measure | result | target (full size) |",
        "| --- | --- | --- |",
        f"| access request, a year + one word (search and store {s['found']:,} "
        f"found) | p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms | p95 < 2 s |",
        f"| export of {e['items']:,} items with media (PDF {e['pdf_mb']} MB, ZIP "
        f"{e['zip_mb']} MB) | {e['seconds']} s, peak RSS {e['peak_rss_mb']} MB "
        f"(+{e['rss_growth_mb']} MB during the export) | < 2 min, < 300 MB |",
        f"| deletion job, a year's expired citizen items ({d['deleted']:,} of "
        f"{d['due']:,} due) | {d['seconds']} s | < 5 min |",
        "",
        SEARCH_NOTE[r["database"]],
        end,
    ]
    write_section(start, end, "\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(Path(sys.argv[2]))
    else:
        sys.exit(run_benchmarks(sys.argv[1:]))
