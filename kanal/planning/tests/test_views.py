from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.planning import actions
from kanal.planning.models import CalendarFeed, Post, PostStatus
from kanal.planning.tests.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'


def draft(desk, soon, actor=None, title="Svømmehallen åbner", networks=("facebook",)):
    return actions.create_post(
        actor=actor or desk.editor,
        title=title,
        shared_text="Fælledbadet åbner igen lørdag. #voreskbh",
        channels=[desk.channels[n] for n in networks],
        planned_at=soon,
    )


def pages(post):
    variant = post.variants.first()
    return [
        reverse("planning:calendar"),
        reverse("planning:calendar_week"),
        reverse("planning:post_list"),
        reverse("planning:post_detail", args=[post.pk]),
        reverse("planning:revisions", args=[post.pk, variant.pk]),
        reverse("planning:proposal_list"),
        reverse("planning:media_list"),
        reverse("planning:campaign_list"),
        reverse("notifications:list"),
        reverse("planning:ical_settings"),
    ]


def test_every_page_renders_for_the_editor(desk, soon, client_for):
    post = draft(desk, soon)
    client = client_for(desk.editor)
    for url in [
        *pages(post),
        reverse("planning:post_create"),
        reverse("planning:post_edit", args=[post.pk]),
        reverse("planning:proposal_create"),
        reverse("planning:report"),
        reverse("dashboard"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url


# URL × role: (name, args-kind, {role: expected status})
MATRIX = [
    (
        "planning:calendar",
        None,
        {"editor": 200, "approver": 200, "contributor": 200, "analyst": 200},
    ),
    (
        "planning:post_create",
        None,
        {"editor": 200, "approver": 403, "contributor": 403, "analyst": 403},
    ),
    (
        "planning:post_detail",
        "post",
        {"editor": 200, "approver": 200, "contributor": 404, "analyst": 200},
    ),
    (
        "planning:post_edit",
        "post",
        {"editor": 200, "approver": 403, "contributor": 404, "analyst": 403},
    ),
    (
        "planning:proposal_create",
        None,
        {"editor": 200, "approver": 403, "contributor": 200, "analyst": 403},
    ),
    (
        "planning:report",
        None,
        {"editor": 200, "approver": 200, "contributor": 403, "analyst": 200},
    ),
    (
        "planning:media_list",
        None,
        {"editor": 200, "approver": 200, "contributor": 200, "analyst": 200},
    ),
]


@pytest.mark.parametrize("name,kind,expected", MATRIX)
def test_url_role_matrix(desk, soon, client, name, kind, expected):
    post = draft(desk, soon)
    args = [post.pk] if kind == "post" else []
    people = {
        "editor": desk.editor,
        "approver": desk.approver,
        "contributor": desk.contributor,
        "analyst": desk.analyst,
    }
    for role, status in expected.items():
        client.force_login(people[role].user)
        response = client.get(reverse(name, args=args))
        assert response.status_code == status, (name, role)


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("planning:calendar"))
    assert response.status_code == 302
    assert "/konto/log-ind/" in response["Location"]


def test_contributor_of_buf_gets_404_for_tmf_draft(desk, soon, client_for):
    proposal = actions.create_proposal(
        actor=desk.tmf_contributor, title="TMF cykel", text="Ny cykelsti"
    )
    client = client_for(desk.contributor)
    assert (
        client.get(reverse("planning:post_detail", args=[proposal.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("planning:proposal_edit", args=[proposal.pk])).status_code
        == 404
    )
    own = actions.create_proposal(actor=desk.contributor, title="BUF", text="Legeplads")
    assert client.get(reverse("planning:post_detail", args=[own.pk])).status_code == 200


def test_markup_in_titles_and_text_is_shown_as_text(desk, soon, client_for):
    post = actions.create_post(
        actor=desk.editor,
        title=f"Fest {SCRIPT}",
        shared_text=f"Tekst {SCRIPT}",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    client = client_for(desk.editor)
    local = timezone.localtime(soon)
    for url in [
        reverse("planning:post_detail", args=[post.pk]),
        reverse("planning:post_edit", args=[post.pk]),
        reverse("planning:calendar") + f"?maaned={local:%Y-%m}",
        reverse("planning:calendar_week") + f"?uge={local:%Y-%m-%d}",
        reverse("planning:post_list"),
    ]:
        body = client.get(url).content.decode()
        assert SCRIPT not in body, url
        assert "&lt;script&gt;" in body, url
    preview = client.post(
        reverse("planning:preview"),
        {
            "channel": desk.channels["facebook"].pk,
            f"v{desk.channels['facebook'].pk}-text": SCRIPT,
        },
    )
    assert SCRIPT not in preview.content.decode()
    assert "&lt;script&gt;" in preview.content.decode()


def test_editor_page_saves_variant_and_refuses_stale_form(desk, soon, client_for):
    post = draft(desk, soon)
    fb = desk.channels["facebook"]
    client = client_for(desk.editor)
    local = timezone.localtime(soon)
    form = {
        "title": "Svømmehallen åbner",
        "shared_text": "Fælles",
        "channels": [fb.pk],
        "owner_administration": desk.kff.pk,
        "version": post.version,
        f"v{fb.pk}-text": "Facebook-tekst",
        f"v{fb.pk}-link": "https://kk.dk/bad",
        f"v{fb.pk}-hashtags": "#voreskbh",
        f"v{fb.pk}-first_comment": "",
        f"v{fb.pk}-planned_at_0": local.strftime("%Y-%m-%d"),
        f"v{fb.pk}-planned_at_1": local.strftime("%H:%M"),
    }
    response = client.post(reverse("planning:post_edit", args=[post.pk]), form)
    assert response.status_code == 302
    variant = post.variants.get()
    assert variant.text == "Facebook-tekst"
    assert variant.hashtags == ["#voreskbh"]
    assert variant.current_revision.number == 2
    # Same (now stale) version again: told, nothing overwritten, input kept.
    form[f"v{fb.pk}-text"] = "Min ændring"
    response = client.post(reverse("planning:post_edit", args=[post.pk]), form)
    assert response.status_code == 409
    body = response.content.decode()
    assert "ændret af en anden" in body
    assert "Min ændring" in body
    variant.refresh_from_db()
    assert variant.text == "Facebook-tekst"


def test_over_long_and_unknown_input_gets_danish_messages(desk, soon, client_for):
    client = client_for(desk.editor)
    response = client.post(
        reverse("planning:post_create"),
        {
            "title": "x" * 201,
            "channels": [999999],
            "owner_administration": desk.kff.pk,
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "højst have 200 tegn" in body
    assert "Kanalen findes ikke" in body
    assert Post.objects.count() == 0


def test_disabled_channel_cannot_be_chosen(desk, soon, client_for):
    x = desk.channels["x"]
    x.status = "disabled"
    x.save()
    client = client_for(desk.editor)
    response = client.post(
        reverse("planning:post_create"),
        {"title": "Test", "channels": [x.pk], "owner_administration": desk.kff.pk},
    )
    assert response.status_code == 400
    assert "slået fra" in response.content.decode()


def test_past_time_in_form_is_refused(desk, client_for):
    client = client_for(desk.editor)
    past = timezone.localtime() - timedelta(days=1)
    response = client.post(
        reverse("planning:post_create"),
        {
            "title": "Test",
            "channels": [desk.channels["facebook"].pk],
            "owner_administration": desk.kff.pk,
            "planned_at_0": past.strftime("%Y-%m-%d"),
            "planned_at_1": "10:00",
        },
    )
    assert response.status_code == 400
    assert "passeret" in response.content.decode()


def test_preview_counts_the_networks_way_and_explains_problems(desk, client_for):
    client = client_for(desk.editor)
    ig = desk.channels["instagram"]
    response = client.post(
        reverse("planning:preview"),
        {"channel": ig.pk, f"v{ig.pk}-text": "Hej " + "#tag " * 31},
    )
    body = response.content.decode()
    assert "af 2.200 tegn" in body
    assert "Instagram kræver et billede" in body
    assert "hashtags" in body


def test_drag_and_drop_reschedule_endpoint(desk, soon, client_for):
    post = draft(desk, soon)
    client = client_for(desk.editor)
    new_day = (soon + timedelta(days=2)).date()
    response = client.post(
        reverse("planning:post_reschedule", args=[post.pk]),
        {"day": new_day.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "flyttet" in response.content.decode()
    post.refresh_from_db()
    assert timezone.localtime(post.planned_at).date() == new_day
    past = client.post(
        reverse("planning:post_reschedule", args=[post.pk]),
        {"day": "2020-01-01"},
        HTTP_HX_REQUEST="true",
    )
    assert past.status_code == 409
    assert "passeret" in past.content.decode()
    contributor = client_for(desk.contributor)
    assert (
        contributor.post(
            reverse("planning:post_reschedule", args=[post.pk]),
            {"day": new_day.isoformat()},
        ).status_code
        == 404
    )


def test_ical_feed_is_secret_revocable_and_escaped(desk, soon, client):
    actions.create_post(
        actor=desk.editor,
        title=f"Koncert; {SCRIPT}",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    feed = actions.create_calendar_feed(actor=desk.editor)
    url = reverse("planning:ical_feed", args=[feed.token])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body
    assert "Koncert\\; <script>" in body
    assert f"DTSTART:{soon.astimezone(UTC):%Y%m%dT%H%M%SZ}" in body
    assert client.get(reverse("planning:ical_feed", args=["gæt"])).status_code == 404
    actions.revoke_calendar_feed(feed, actor=desk.editor)
    assert client.get(url).status_code == 404
    assert CalendarFeed.objects.get().revoked_at is not None


def test_ical_feed_shows_only_what_the_member_may_see(desk, soon, client):
    actions.create_post(
        actor=desk.editor,
        title="KFF-opslag",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    feed = actions.create_calendar_feed(actor=desk.contributor)
    body = client.get(reverse("planning:ical_feed", args=[feed.token])).content
    assert b"KFF-opslag" not in body


def test_calendar_shows_cadence_against_strategy(desk, soon, client_for):
    for _ in range(5):
        draft(desk, soon)
    local = timezone.localtime(soon)
    client = client_for(desk.editor)
    body = client.get(
        reverse("planning:calendar_week") + f"?uge={local:%Y-%m-%d}"
    ).content.decode()
    weekday = ["man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."][local.weekday()]
    assert f"Facebook {weekday} 5 af 2–4" in body
    assert f"Instagram uge {local.isocalendar()[1]}: 0 af 2–3" in body


def test_calendar_filters(desk, soon, client_for):
    draft(desk, soon, title="Facebookopslag", networks=("facebook",))
    draft(desk, soon, title="X-opslag", networks=("x",))
    client = client_for(desk.editor)
    local = timezone.localtime(soon)
    url = reverse("planning:calendar_week") + f"?uge={local:%Y-%m-%d}"
    body = client.get(url + f"&kanal={desk.channels['x'].pk}").content.decode()
    assert "X-opslag" in body and "Facebookopslag" not in body
    body = client.get(url + "&status=scheduled").content.decode()
    assert "X-opslag" not in body


def test_media_detail_says_what_kanal_does_per_network(desk, client_for):
    """The page tells what Kanal will send each network, from the same plan
    the editor's preview and the engine use (no crop-based conversion)."""
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.planning.validation import capabilities_for, check_variant

    ChannelFactory(organisation=desk.organisation, owner_administration=desk.kff,
                   network="bluesky", display_name="kk.bsky.social")
    asset = MediaAssetFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        mime_type="image/png",
        width=3000,
        height=1000,
        size=1_500_000,
        original_name="panorama.png",
        alt_text="Havnen",
    )
    client = client_for(desk.editor)
    response = client.get(reverse("planning:media_detail", args=[asset.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Konvertér" not in body and "for bredt" not in body
    assert "Billedet sendes som JPEG, fordi Instagram ikke tager PNG." in body
    assert "Kanal lægger en hvid kant om det" in body
    assert "Billedet fylder 1,5 MB; Bluesky tager højst 1,0 MB." in body
    # The same words (but for the subject) as the editor sees for this image.
    instagram = desk.channels["instagram"]
    check = check_variant(instagram, text="Havnen", media=[asset])
    for said in check.adjustments:
        assert said.replace("Billede 1", "Billedet") in body
    assert capabilities_for(instagram) is not None
    # A network that takes it as it is says so.
    assert "Passer uden ændringer." in body


def test_media_detail_of_a_video_names_what_a_network_refuses(desk, client_for):
    asset = MediaAssetFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        kind="video",
        mime_type="video/webm",
        width=None,
        height=None,
        original_name="film.webm",
    )
    body = client_for(desk.editor).get(
        reverse("planning:media_detail", args=[asset.pk])).content.decode()
    assert "tager ikke denne videotype" in body
    assert "Hvad Kanal gør" not in body


def test_strategy_report_counts_per_channel(desk, soon, client_for):
    draft(desk, soon)
    post = draft(desk, soon)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHED)
    client = client_for(desk.editor)
    day = timezone.localtime(soon).date()
    response = client.get(
        reverse("planning:report"),
        {"first_day": day.isoformat(), "last_day": day.isoformat()},
    )
    report = response.context["report"]
    fb = next(r for r in report["channels"] if r["channel"].network == "facebook")
    assert (fb["planned"], fb["published"], fb["output"], fb["target"]) == (
        1,
        1,
        2,
        "2–4",
    )
    assert report["administrations"] == [
        {"code": "KFF", "posts": 2, "published": 1, "not_published": 0}
    ]


def test_calendar_query_count_does_not_grow_with_posts(desk, soon, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(desk.editor)
    local = timezone.localtime(soon)
    urls = [
        reverse("planning:calendar") + f"?maaned={local:%Y-%m}",
        reverse("planning:calendar_week") + f"?uge={local:%Y-%m-%d}",
    ]

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    draft(desk, soon)
    few = counts()
    for i in range(12):
        draft(
            desk,
            soon + timedelta(hours=i % 5),
            title=f"Opslag {i}",
            networks=("facebook", "x"),
        )
    assert counts() == few


def test_markup_in_notifications_is_text(desk, soon, client_for):
    post = actions.create_post(
        actor=desk.editor,
        title=f"Fest {SCRIPT}",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    actions.submit_post(post, actor=desk.editor)
    body = (
        client_for(desk.approver)
        .get(reverse("notifications:list"))
        .content.decode()
    )
    assert "Fest &lt;script&gt;" in body
    assert SCRIPT not in body
