"""Hostile query values on every GET URL of the access matrices: never a 500
(issue 10, finding 10). Dates outside the window and ids no row can have get
a Danish 400; unreadable values fall back to the page's default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kanal.core import safety
from kanal.core.tests.test_access_matrix import MATRIX, world  # noqa: F401
from kanal.planning.tests.test_permissions import CASES, objects

pytestmark = pytest.mark.django_db

#: Query parameters some Kanal page reads; each page is also asked which
#: parameters it reads (``_reads``), so a new parameter is fuzzed too.
KNOWN = [
    "maaned",
    "uge",
    "dato",
    "kanal",
    "forvaltning",
    "kampagne",
    "status",
    "side",
    "a",
    "b",
    "first_day",
    "last_day",
    "vis",
    "next",
    "date_from",
    "date_to",
]

HOSTILE = [
    "0001-01-01",
    "9999-12-31",
    "0001-01",
    "9999-12",
    "2026-02-30",
    str(2**64),
    "9" * 5000,
    "-9223372036854775809",
    "٣",
    "<script>alert(1)</script>\x00",
    "javascript:alert(1)",
    "//evil.example/",
]
#: The values that broke pages before (issue 10), one parameter at a time.
SHARP = ["0001-01-01", "9999-12-31", "9999-12", str(2**63)]


@pytest.fixture
def reads(monkeypatch):
    """The names of the GET parameters read while it is active."""
    from django.http import QueryDict

    seen: set[str] = set()
    for method in ("get", "getlist", "__getitem__", "__contains__"):
        original = getattr(QueryDict, method)

        def record(self, key, *args, _original=original, **kwargs):
            if isinstance(key, str):
                seen.add(key)
            return _original(self, key, *args, **kwargs)

        monkeypatch.setattr(QueryDict, method, record)
    return seen


def _planning_urls(desk, soon):
    objs = objects(desk, soon)
    urls = []
    for name, (method, arg_names, _data, _expected) in sorted(CASES.items()):
        if method != "get" or name == "ical_feed":
            continue
        args = [objs[arg].pk for arg in arg_names]
        urls.append(reverse(f"planning:{name}", args=args))
    return urls


def _core_urls(world):  # noqa: F811
    urls = []
    for case in MATRIX:
        if case.method != "get" or case.name.startswith("planning:"):
            continue
        kwargs = {k: world["objects"][v] for k, v in case.kwargs.items()}
        urls.append(reverse(case.name, kwargs=kwargs))
    return urls


def _fuzz(client, urls, reads):
    for url in urls:
        reads.clear()
        client.get(url, dict.fromkeys(KNOWN, "1"))
        names = sorted(reads - {"csrfmiddlewaretoken"})
        for value in HOSTILE:
            _assert_no_500(client, url, dict.fromkeys(names, value))
        for name in names:
            for value in SHARP:
                _assert_no_500(client, url, {name: value})


def _assert_no_500(client, url, params):
    response = client.get(url, params)
    assert response.status_code != 500, (url, params)
    assert response.status_code in (200, 302, 400, 403, 404), (url, params)
    return response


def test_every_planning_page_survives_hostile_query_values(
    desk, soon, client, reads
):
    client.force_login(desk.admin.user)
    _fuzz(client, _planning_urls(desk, soon), reads)


def test_every_other_page_survives_hostile_query_values(
    world,  # noqa: F811
    client,
    reads,
):
    client.force_login(world["members"]["admin"].user)
    _fuzz(client, _core_urls(world), reads)


@pytest.mark.parametrize(
    "path,params",
    [
        ("/plan/", {"maaned": "0001-01"}),
        ("/plan/", {"maaned": "9999-12"}),
        ("/plan/uge/", {"uge": "0001-01-01"}),
        ("/plan/uge/", {"uge": "9999-12-31"}),
        ("/plan/opslag/nyt/", {"dato": "9999-12-31"}),
    ],
)
def test_days_outside_the_window_get_a_danish_400(desk, client, path, params):
    client.force_login(desk.admin.user)
    response = client.get(path, params)
    assert response.status_code == 400
    assert safety.day_window_message() in response.content.decode()


@pytest.mark.parametrize("name", ["kanal", "forvaltning", "kampagne"])
@pytest.mark.parametrize("value", [str(2**63), str(2**64), "-5"])
def test_ids_no_row_can_have_get_a_danish_400(desk, client, name, value):
    client.force_login(desk.admin.user)
    for path in ("/plan/", "/plan/uge/", "/plan/liste/"):
        response = client.get(path, {name: value})
        assert response.status_code == 400, path
        assert safety.id_message() in response.content.decode()


def test_report_with_year_1_or_9999_is_a_form_error_not_500(desk, client):
    client.force_login(desk.admin.user)
    for first, last in [("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31")]:
        response = client.get("/plan/rapport/", {"first_day": first, "last_day": last})
        assert response.status_code in (200, 400)
        assert safety.day_window_message() in response.content.decode()


@pytest.mark.parametrize(
    "day",
    ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"],
)
def test_post_form_with_a_day_outside_the_window_is_a_danish_400(desk, client, day):
    client.force_login(desk.editor.user)
    response = client.post(
        "/plan/opslag/nyt/",
        {
            "title": "Langt ude i fremtiden",
            "channels": [desk.channels["facebook"].pk],
            "planned_at_0": day,
            "planned_at_1": "23:30",
            "owner_administration": desk.kff.pk,
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert safety.day_window_message() in body
    assert "Langt ude i fremtiden" in body  # nothing the user typed is lost


@pytest.mark.parametrize("value", [str(2**63), "99999999999999999999999"])
def test_post_form_with_a_channel_id_beyond_2_63_is_a_form_error(desk, client, value):
    client.force_login(desk.editor.user)
    response = client.post(
        "/plan/opslag/nyt/",
        {
            "title": "Opslag",
            "channels": [value],
            "owner_administration": desk.kff.pk,
        },
    )
    assert response.status_code == 400
    assert "Kanalen findes ikke" in response.content.decode()


@pytest.mark.parametrize("value", [str(2**63), "-3", "abc"])
def test_other_posted_ids_are_refused_without_500(desk, client, value):
    client.force_login(desk.editor.user)
    assert client.post("/plan/forhaandsvisning/", {"channel": value}).status_code in (
        400,
        404,
    )
    response = client.post("/plan/kalenderabonnement/", {"revoke": value})
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("name", ["kategori", "formaal"])
def test_a_nul_byte_in_a_text_filter_is_a_danish_400(desk, client, name):
    client.force_login(desk.admin.user)
    response = client.get("/plan/liste/", {name: "Borger\x00service"})
    assert response.status_code == 400
    assert "tegn, som Kanal ikke kan søge efter" in response.content.decode()


def test_nul_bytes_in_typed_reasons_and_comments_are_dropped_not_500(
    desk, soon, client
):
    from kanal.channels.models import Channel
    from kanal.core.models import AuditEntry
    from kanal.planning import actions
    from kanal.planning.models import Comment, Post, PostStatus

    post = actions.create_post(
        actor=desk.editor,
        title="Opslag",
        shared_text="Svømmehallen åbner",
        planned_at=soon,
        channels=[desk.channels["facebook"]],
    )
    actions.submit_post(post, actor=desk.editor)
    client.force_login(desk.approver.user)
    response = client.post(
        f"/plan/opslag/{post.pk}/retur/", {"reason": "Ret\x00 teksten\x07"}
    )
    assert response.status_code == 302
    post = Post.objects.get(pk=post.pk)
    assert post.status == PostStatus.DRAFT
    assert post.decision_reason == "Ret teksten"
    actions.submit_post(post, actor=desk.editor)
    seen = [v.current_revision_id for v in post.variants.all()]
    response = client.post(
        f"/plan/opslag/{post.pk}/godkend/",
        {"revision": seen, "comment": "God\x00 tekst\nLinje to"},
    )
    assert response.status_code == 302
    assert Comment.objects.filter(post=post, body="God tekst\nLinje to").exists()
    client.force_login(desk.admin.user)
    channel = desk.channels["x"]
    response = client.post(f"/kanaler/{channel.pk}/sluk/", {"reason": "Luk\x00ket"})
    assert response.status_code == 302
    assert Channel.objects.get(pk=channel.pk).status == "disabled"
    entry = AuditEntry.objects.filter(event="channels.channel.disabled").latest("pk")
    assert entry.changes["reason"] == "Lukket"
