"""Inbox benchmark: the list, its filters and full-text search over
1,000,000 stored items.

``python -m bench inbox_list`` migrates a fresh SQLite database (in its own
process) and, when ``KANAL_BENCH_POSTGRES_URL`` names a PostgreSQL database
the benchmark may empty (``--postgres-only`` skips SQLite), that one too. It
bulk-loads one organisation with 21 channels, 250,000 conversations and
1,000,000 citizens' items of Danish-looking text (COPY on PostgreSQL, one
``executemany`` transaction on SQLite; the search triggers run on SQLite,
while PostgreSQL loads with its search and assignment triggers off and then
fills the vectors with the migration's own batched fill, as an upgrade of a
full inbox would; each item row carries its conversation's assignment, as
the triggers would set it, ``scope``).
Then it asks the list through Django's test client as an editor (everything)
and as a contributor (one administration): plain, with each filter, and with
a rare word, a common word and two words; p50/p95 and SQL queries per page.
``KANAL_BENCH_INBOX_ITEMS`` makes a smaller world for a quick check (only
the full size is written to BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench import write_section

ROOT = Path(__file__).resolve().parent.parent
# One section per database, so a run on one leaves the other's figures.
MARKERS = "<!-- inbox-list-{}:start -->", "<!-- inbox-list-{}:end -->"
ITEMS = int(os.environ.get("KANAL_BENCH_INBOX_ITEMS", "1000000"))
PER_CONVERSATION = 4
REPEATS, WARMUP = 20, 2
TARGET_MS = 200
NETWORKS = ["facebook", "instagram", "x", "mastodon", "bluesky", "linkedin",
            "threads"]
STATUSES = (["answered"] * 60 + ["no_reply"] * 15 + ["new"] * 10
            + ["assigned"] * 5 + ["referred"] * 5 + ["hidden"] * 3
            + ["waiting"] * 2)
WORDS = [
    "hvornår", "hvor", "hvorfor", "kan", "jeg", "man", "vi", "det", "den", "er", "har",
    "skal", "vil", "gerne", "tak", "for", "hjælp", "spørgsmål", "kommune", "borger",
    "skole", "børnehave", "vuggestue", "bibliotek", "park", "vej", "cykelsti", "bus",
    "metro", "parkering", "skrald", "genbrug", "byggeri", "støj", "træer", "legeplads",
    "hal", "idræt", "kultur", "koncert", "festival", "åbningstid", "lukket", "åben",
    "weekend", "sommer", "vinter", "sne", "is", "vand", "kloak", "belysning", "fortov",
    "bænk", "hund", "kat", "affaldssortering", "container", "pas", "kørekort",
    "sygesikring", "flytning", "adresse", "ansøgning", "afgørelse", "venteliste",
    "pladsanvisning", "tandpleje", "sundhedspleje", "ældrepleje", "hjemmehjælp",
    "plejehjem", "madordning", "praktik", "job", "elev", "lærling", "frivillig",
    "forening", "tilskud", "pulje", "arrangement", "borgermøde", "høring", "lokalplan",
    "cykelparkering", "ladestander", "trafik", "lys", "fodgængerfelt", "skilt", "hul",
    "asfalt", "fejning", "glatførebekæmpelse",
]
RARE = "svømmehallen"  # in one item of 5,000
COMMON = "affald"  # in one item of 20


def run_benchmarks(argv) -> int:
    results = {}
    postgres = os.environ.get("KANAL_BENCH_POSTGRES_URL", "")
    with tempfile.TemporaryDirectory(prefix="kanal-bench-inbox-list-") as tmp:
        # KANAL_BENCH_SQLITE_PATH keeps the SQLite world in a file of one's
        # own, so KANAL_BENCH_INBOX_REUSE=1 can measure it again later.
        sqlite = (os.environ.get("KANAL_BENCH_SQLITE_PATH")
                  or Path(tmp) / "inbox.sqlite3")
        targets = [] if "--postgres-only" in argv else [
            ("sqlite", f"sqlite:///{sqlite}")]
        if postgres and "--sqlite-only" not in argv:
            targets.append(("postgresql", postgres))
        for vendor, url in targets:
            out = Path(tmp) / f"{vendor}.json"
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kanal.settings.test",
                   "DATABASE_URL": url, "KANAL_VAR_DIR": tmp}
            proc = subprocess.run(
                [sys.executable, "-m", "bench.inbox_list", "--inner", str(out)],
                cwd=ROOT, env=env, check=False)
            if proc.returncode != 0 or not out.exists():
                print(f"inbox list benchmark failed on {vendor}", file=sys.stderr)
                return 1
            results[vendor] = json.loads(out.read_text())
    if os.environ.get("KANAL_BENCH_INBOX_LOAD_ONLY") == "1":
        print(json.dumps(results))
        return 0
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if ITEMS == 1_000_000:
        write_markdown(results)
    return 0 if all(m["p95_ms"] < TARGET_MS for r in results.values()
                    for m in r["pages"].values()) else 1


# --------------------------------------------------------------------------
# Inside the benchmark process


def sentence(rng: random.Random, n: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 24))
    if n % 20 == 0:
        words.insert(rng.randrange(len(words)), COMMON)
    if n % 5000 == 0:
        words.insert(rng.randrange(len(words)), RARE)
    return " ".join(words).capitalize() + "?"


def world():
    from django.contrib.auth import get_user_model

    from kanal.channels.models import Channel
    from kanal.organisations.models import Administration, Membership, Organisation

    org = Organisation.objects.create(name="Benchkommune", slug="bench",
                                      require_two_factor=False)
    admins = [Administration.objects.create(organisation=org, code=f"F{n}",
                                            name=f"Forvaltning {n}")
              for n in range(7)]
    users = get_user_model().objects
    editor = Membership.objects.create(
        organisation=org, user=users.create_user("redaktoer", password="x"),
        administration=admins[0], role="editor")
    contributor = Membership.objects.create(
        organisation=org, user=users.create_user("bidragyder", password="x"),
        administration=admins[1], role="contributor")
    channels = [Channel.objects.create(
        organisation=org, network=NETWORKS[n % 7], display_name=f"Kanal {n}",
        handle=f"kanal{n}", remote_id=f"page{n}", owner_administration=admins[n % 7],
        base_url="http://127.0.0.1:9", status="connected") for n in range(21)]
    return org, admins, editor, contributor, channels


def rows(org, admins, channels, now):
    """The conversations' and items' rows, in the tables' column order."""
    rng = random.Random(13)
    conversations, items = [], []
    start = now - timedelta(days=730)
    item_id = 0
    for c in range(1, ITEMS // PER_CONVERSATION + 1):
        channel = channels[c % len(channels)]
        status = rng.choice(STATUSES)
        first = start + timedelta(seconds=rng.randrange(730 * 86400))
        last = first
        personal = rng.random() < 0.02
        mine = []  # the conversation's items, given its assignment below
        for k in range(PER_CONVERSATION):
            item_id += 1
            at = first + timedelta(minutes=30 * k)
            last = at
            mine.append((
                item_id, org.pk, channel.pk, channel.network, c, f"i{item_id}",
                "comment" if k == 0 else "reply", f"p{c % 5000}",
                f"p{c % 5000}" if k == 0 else f"i{item_id - k}",
                f"a{rng.randrange(50_000)}", f"Borger {rng.randrange(50_000)}",
                sentence(rng, item_id), "", at, at, None, None, False,
                '["cpr"]' if personal and k == 0 else "[]",
                rng.randint(-5, 5), "da", None))
        assigned = rng.choice(admins).pk if status != "new" else None
        # Each item carries its conversation's assignment (``scope``).
        items.extend((*item, assigned, None) for item in mine)
        conversations.append((
            c, org.pk, channel.pk, f"c:i{item_id - PER_CONVERSATION + 1}",
            f"p{c % 5000}", status, assigned, None, personal,
            rng.random() < 0.15, rng.random() < 0.001, last,
            first + timedelta(days=1), None, None, None, first, last))
    return conversations, items


CONVERSATION_COLUMNS = (
    "id", "organisation_id", "channel_id", "key", "post_remote_id", "status",
    "assigned_administration_id", "assigned_to_id", "has_personal_data",
    "negative", "priority", "last_item_at", "due_at", "first_response_at",
    "answered_on_time", "overdue_notified_at", "created_at", "updated_at")
ITEM_COLUMNS = (
    "id", "organisation_id", "channel_id", "network", "conversation_id",
    "remote_id", "kind", "post_remote_id", "parent_remote_id", "author_id",
    "author_name", "text", "url", "created_at", "received_at", "edited_at",
    "deleted_on_network_at", "hidden_on_network", "personal_data", "sentiment",
    "language", "redacted_at", "assigned_administration_id", "assigned_to_id")


def _with_defaults(model, columns, rows):
    """``columns`` and ``rows`` completed with every other concrete column
    of ``model`` at its default, so a column added later (with a default)
    does not break the load."""
    from django.db import connection

    extra = [f for f in model._meta.concrete_fields
             if f.column not in columns and not f.primary_key]
    if not extra:
        return columns, rows
    values = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
    return (*columns, *(f.column for f in extra)), [(*row, *values) for row in rows]


def load(conversations, items) -> dict:
    from django.db import connection, transaction

    from kanal.inbox import counts, scope, search
    from kanal.inbox.models import Conversation, InboxItem

    conversation_columns, conversations = _with_defaults(
        Conversation, CONVERSATION_COLUMNS, conversations)
    item_columns, items = _with_defaults(InboxItem, ITEM_COLUMNS, items)
    timings = {}
    t0 = time.perf_counter()
    if connection.vendor == "postgresql":
        raw = connection.connection
        with transaction.atomic(), raw.cursor() as cursor:
            # The rows carry their search vector (filled below) and their
            # conversation's assignment: the triggers that set them are off.
            for trigger in ("inbox_item_search_vector", "inbox_item_scope_ins"):
                cursor.execute(
                    f"ALTER TABLE inbox_inboxitem DISABLE TRIGGER {trigger}")
            for table, columns, data in (
                ("inbox_conversation", conversation_columns, conversations),
                ("inbox_inboxitem", item_columns, items),
            ):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) "
                                 "FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', "
                               f"'id'), {len(data)})")
        # After the commit: the deferred foreign-key checks must run first.
        with connection.cursor() as cursor:
            for trigger in ("inbox_item_search_vector", "inbox_item_scope_ins"):
                cursor.execute(
                    f"ALTER TABLE inbox_inboxitem ENABLE TRIGGER {trigger}")
        timings["load_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        timings["filled"] = search.fill_postgresql(connection)
        timings["fill_vectors_s"] = round(time.perf_counter() - t0, 1)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE inbox_inboxitem")
            cursor.execute("VACUUM ANALYZE inbox_conversation")
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns, data in (
                ("inbox_conversation", conversation_columns, conversations),
                ("inbox_inboxitem", item_columns, items),
            ):
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                for i in range(0, len(data), 20_000):
                    cursor.executemany(sql, data[i:i + 20_000])
        timings["load_s"] = round(time.perf_counter() - t0, 1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if scope.disagreeing().exists():
        raise RuntimeError("items loaded without their conversation's assignment")
    # The status counts' triggers wrote one row per conversation; the
    # worker's periodic job would fold them within a minute.
    t0 = time.perf_counter()
    timings["folded"] = counts.fold()
    timings["fold_s"] = round(time.perf_counter() - t0, 1)
    if connection.vendor == "postgresql":
        # The fold left a dead row per conversation; autovacuum (off on some
        # test machines) would clear them before the desk's first morning.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE inbox_statuscount")
    return timings


def measure_queries(membership, params: dict) -> dict:
    """The list's reads alone (count and one page of rows), without the
    page around them: what the database costs."""
    from kanal.inbox import selectors
    from kanal.inbox.policies import conversation_policy

    try:  # the kept status counts (absent from code before them)
        from kanal.inbox import counts
    except ImportError:
        counts = None

    flags = ("overdue", "personal_data", "negative", "priority")
    filters = selectors.Filters(**{
        k: (bool(v) if k in flags else v) for k, v in params.items() if k != "side"})
    samples = []
    for n in range(WARMUP + REPEATS):
        t0 = time.perf_counter()
        visible = conversation_policy.visible(membership)
        # As the view asks it: the items from the policy (absent before
        # items carried their conversation's assignment) …
        scoped = ({"items": conversation_policy.visible_items(membership)}
                  if hasattr(conversation_policy, "visible_items") else {})
        if counts is None:
            page = selectors.page_of(visible, filters, params.get("side"),
                                     **scoped)
        else:  # … and counted from the kept counts if it can
            known = counts.list_count(membership, filters,
                                      counts.status_counts(membership))
            page = selectors.page_of(visible, filters, params.get("side"),
                                     count=known, **scoped)
        page.paginator.count  # noqa: B018 (the count is part of the cost)
        if n >= WARMUP:
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {"db_p50_ms": round(statistics.median(samples), 1),
            "db_p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1)}


def measure(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_test_environment,
        teardown_test_environment,
    )

    for _ in range(WARMUP):
        assert client.get(url).status_code == 200
    samples = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    # After timing: the test environment records the template context.
    setup_test_environment()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    teardown_test_environment()
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
        "queries": len(ctx.captured_queries),
        "found": response.context["page"].paginator.count,
        # Counted only up to a bound (selectors.COUNT_BOUND): "over" it.
        "bounded": getattr(response.context["page"].paginator, "bounded", False),
    }


def inner(out: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from kanal.channels.models import Channel
    from kanal.inbox.models import Conversation, InboxItem
    from kanal.organisations.models import Administration, Membership

    call_command("migrate", verbosity=0, interactive=False)
    # KANAL_BENCH_INBOX_REUSE=1: measure again on a world an earlier run
    # loaded (the load is the slow part; its figures are from that run).
    if os.environ.get("KANAL_BENCH_INBOX_REUSE") == "1" and (
        InboxItem.objects.count() == ITEMS
    ):
        editor = Membership.objects.get(user__username="redaktoer")
        contributor = Membership.objects.get(user__username="bidragyder")
        admins = list(Administration.objects.filter(
            organisation=editor.organisation).order_by("code"))
        channels = list(Channel.objects.filter(
            organisation=editor.organisation).order_by("pk"))
        generate_s, timings = None, {"reused": True}
    else:
        call_command("flush", verbosity=0, interactive=False)
        now = timezone.now()
        org, admins, editor, contributor, channels = world()
        t0 = time.perf_counter()
        conversations, items = rows(org, admins, channels, now)
        generate_s = round(time.perf_counter() - t0, 1)
        timings = load(conversations, items)
        del conversations, items
    if os.environ.get("KANAL_BENCH_INBOX_LOAD_ONLY") == "1":
        # Load the world for later runs (KANAL_BENCH_INBOX_REUSE=1) only.
        out.write_text(json.dumps({"generate_s": generate_s, **timings}))
        return
    editor_client = Client(HTTP_HOST="localhost")
    editor_client.force_login(editor.user)
    contributor_client = Client(HTTP_HOST="localhost")
    contributor_client.force_login(contributor.user)
    x_channel = next(c for c in channels if c.network == "x")

    def page(**params):
        return params

    pages = {
        "List, newest first": (editor_client, page()),
        "List, page 100": (editor_client, page(side=100)),
        "Filter: status new": (editor_client, page(status="new")),
        "Filter: network X": (editor_client, page(network="x")),
        "Filter: one channel": (editor_client, page(channel=x_channel.pk)),
        "Filter: administration": (editor_client,
                                   page(administration=admins[2].pk)),
        "Filter: overdue": (editor_client, page(overdue="on")),
        "Filter: personal data": (editor_client, page(personal_data="on")),
        "Filter: negative": (editor_client, page(negative="on")),
        "Filter: crisis priority": (editor_client, page(priority="on")),
        "Filter: crisis priority, status new": (editor_client,
                                                page(priority="on", status="new")),
        f"Search: rare word ({RARE})": (editor_client, page(q=RARE)),
        f"Search: common word ({COMMON})": (editor_client, page(q=COMMON)),
        "Search: two words": (editor_client, page(q=f"{COMMON} parkering")),
        "Search + filter status new": (editor_client,
                                       page(q=COMMON, status="new")),
        "Contributor: list": (contributor_client, page()),
        "Contributor: search": (contributor_client, page(q=COMMON)),
        "Contributor: crisis priority": (contributor_client, page(priority="on")),
    }
    members = {id(editor_client): editor, id(contributor_client): contributor}
    measured = {}
    for name, (client, params) in pages.items():
        url = "/indbakke/" + ("?" + urlencode(params) if params else "")
        measured[name] = {**measure(client, url),
                          **measure_queries(members[id(client)], params)}
    result = {
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": connection.vendor,
        "cpus": os.cpu_count(),
        "items": InboxItem.objects.count(),
        "conversations": Conversation.objects.count(),
        "generate_s": generate_s,
        **timings,
        "pages": measured,
        "repeats": REPEATS,
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    out.write_text(json.dumps(result))


def write_markdown(results: dict, before: dict | None = None,
                   notes: dict | None = None) -> None:
    """BENCHMARKS.md's sections; ``before``: a run of the code before, on
    the same world in the same period (``--write AFTER BEFORE``), shown
    beside each page with the ratio; ``notes``: lines per vendor to add."""
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    for vendor, r in results.items():
        was = (before or {}).get(vendor, {}).get("pages", {})
        start, end = (m.format(vendor) for m in MARKERS)
        load = ("loaded by an earlier run of the same benchmark "
                "(`KANAL_BENCH_INBOX_REUSE=1`)" if r.get("reused") else
                f"loaded in {r['load_s']} s with COPY, trigger off, then the "
                f"migration's batched fill set {r['filled']:,} search vectors in "
                f"{r['fill_vectors_s']} s" if vendor == "postgresql" else
                f"loaded in {r['load_s']} s in one transaction with the FTS5 "
                "triggers on")
        lines = [
            start,
            f"## Inbox: list, filters and search over {r['items']:,} items "
            f"({names[vendor]})",
            "",
            f"Run {r['run_at']} on {r['cpus']} CPUs by `python -m bench inbox_list` "
            f"(`bench/inbox_list.py`), Django test client in process, "
            f"{r['repeats']} requests per page after warm-up, load average "
            f"{r['load']} (shared machine). {r['items']:,} items in "
            f"{r['conversations']:,} conversations, one organisation, 21 channels; "
            f"{load}. Each page renders 50 rows and says how many match: from "
            "the status counts kept per channel when only a status, a network, a "
            "channel or (the desk's) administration filters; else counted, up to "
            "1,000 for the other filters (*over 1,000*, pages go on while full); "
            "a search matching over 1,000 items shows the conversations of the "
            "newest 1,000, uncounted. *Page* is "
            "the whole request (session, policy, filter form, status counts, "
            "template); *queries* is the list's own reads alone (the count and "
            "one page of rows with their latest item), what the database costs."
            + (f" *Before* is the code before this change (main), run on the "
               f"same world right after ({before[vendor]['run_at']}, load "
               f"{before[vendor]['load']}); the ratio is before / after of the "
               "page p95." if was else ""),
            "",
            "| Page | matches | page p50 ms | page p95 ms | queries p50 ms | "
            "queries p95 ms | SQL queries |"
            + (" before: page p50 ms | before: page p95 ms | before: SQL queries "
               "| p95 ratio |" if was else ""),
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
            + (" ---: | ---: | ---: | ---: |" if was else ""),
        ]
        for name, m in r["pages"].items():
            found = (f"over {m['found'] - 1:,}" if m.get("bounded")
                     else f"{m['found']:,}")
            row = (f"| {name} | {found} | {m['p50_ms']} | "
                   f"{m['p95_ms']} | {m['db_p50_ms']} | {m['db_p95_ms']} | "
                   f"{m['queries']} |")
            if name in was:
                b = was[name]
                row += (f" {b['p50_ms']} | {b['p95_ms']} | {b['queries']} | "
                        f"{b['p95_ms'] / m['p95_ms']:.1f}x |")
            lines.append(row)
        missed = [n for n, m in r["pages"].items() if m["p95_ms"] >= TARGET_MS]
        queries = sorted({m["queries"] for m in r["pages"].values()})
        lines += [
            "",
            f"- Target page p95 < {TARGET_MS} ms: **"
            + ("met on every page" if not missed else "missed on "
               + ", ".join(missed)) + "**.",
            f"- SQL queries per page: {', '.join(map(str, queries))} (a search "
            "adds one, the matching conversations' ids; a search over 1,000 "
            "items skips the count"
            + ("; three are the list's transaction: its start, the SET LOCAL that "
               "plans without parallel workers, its end" if vendor == "postgresql"
               else "")
            + "); the count does not grow with the data "
            "(`test_the_list_reads_the_same_number_of_queries_for_3_and_30_"
            "conversations`, `test_filtered_lists_read_the_same_number_of_"
            "queries_for_3_and_30`).",
            *(notes or {}).get(vendor, []),
            end,
        ]
        write_section(start, end, "\n".join(lines))


def write_from_json(path: str, before: str = "", notes: str = "") -> None:
    """Write BENCHMARKS.md from a run's printed result (``--write FILE
    [BEFORE [NOTES]]``: a run of the code before, and a JSON object of
    extra lines per vendor)."""
    write_markdown(json.loads(Path(path).read_text()),
                   json.loads(Path(before).read_text()) if before else None,
                   json.loads(Path(notes).read_text()) if notes else None)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--inner":
        inner(Path(sys.argv[2]))
    elif len(sys.argv) > 2 and sys.argv[1] == "--write":
        write_from_json(*sys.argv[2:5])
    else:
        sys.exit(run_benchmarks(sys.argv[1:]))
