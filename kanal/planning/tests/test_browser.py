"""The issue's "done when", end to end in headless Chromium."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from kanal.planning.models import Post, PostStatus
from kanal.planning.tests.factories import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pick_target(page, planned: date) -> date:
    for offset in (1, 2, -1):
        candidate = planned + timedelta(days=offset)
        if (
            candidate > timezone.localdate()
            and page.locator(f"td.day[data-date='{candidate.isoformat()}']").count()
        ):
            return candidate
    raise AssertionError("no drop target in the month grid")


def test_proposal_to_scheduled_drag_and_edit_back_to_review(
    desk, live_server, page, login, screenshot, tmp_path
):
    from playwright.sync_api import expect

    url = live_server.url
    wish = timezone.localdate() + timedelta(days=3)
    image = tmp_path / "havnebad.jpg"
    image.write_bytes(image_bytes(1080, 1080))

    # 1. A contributor (BUF) proposes.
    login(desk.contributor)
    page.goto(f"{url}/plan/forslag/nyt/")
    page.fill("#id_title", "Åbent hus i Islands Brygge Havnebad")
    page.fill("#id_text", "Kom og prøv vinterbadning med livredderne søndag!")
    page.fill("#id_reason", "Nyt tilbud til børnefamilier")
    page.fill("#id_wish_from", wish.isoformat())
    for network in ("facebook", "instagram", "x"):
        page.check(f"input[name=channels][value='{desk.channels[network].pk}']")
    page.set_input_files("#id_image", str(image))
    page.fill("#id_image_alt_text", "Livredder viser børn havnebadet i vintersol")
    page.fill("#id_event_details", "Islands Brygge Havnebad, søndag kl. 10–14")
    screenshot("proposal-form")
    page.click("main button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Forslaget er sendt")
    expect(page.locator("#post-status")).to_have_text("Forslag")
    post = Post.objects.get()

    # 2. The editor accepts it and writes variants for three networks.
    login(desk.editor)
    page.goto(f"{url}/plan/forslag/")
    screenshot("proposal-queue")
    page.click(f"text={post.title}")
    page.click("text=Accepter som kladde")
    expect(page.locator("#post-status")).to_have_text("Kladde")
    page.click("main a.button:has-text('Rediger')")
    ig = desk.channels["instagram"].pk
    x = desk.channels["x"].pk
    # The proposal's image is already on every variant.
    expect(page.locator(f"input[name='v{ig}-media']")).to_be_checked()
    expect(page.locator(f"#preview-{ig}")).to_contain_text("overholder netværkets")
    page.fill(f"#id_v{x}-text", "Vinterbadning for familier i Havnebadet søndag.")
    expect(page.locator(f"#preview-{x}")).to_contain_text("Vinterbadning for familier")
    screenshot("editor")
    page.click("main button[type=submit]:has-text('Gem')")
    expect(page.locator(".messages")).to_contain_text("Opslaget er gemt")
    page.goto(f"{url}/plan/opslag/{post.pk}/")
    page.click("text=Send til godkendelse")
    expect(page.locator("#post-status")).to_have_text("Til godkendelse")

    # 3. The approver approves; the post is scheduled.
    login(desk.approver)
    page.goto(f"{url}/plan/opslag/{post.pk}/")
    screenshot("detail-review")
    page.click("main button:has-text('Godkend')")
    expect(page.locator("#post-status")).to_have_text("Planlagt")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.variants.count() == 3

    # 4. It sits in the calendar; the editor drags it to another day.
    login(desk.editor)
    planned = timezone.localtime(post.planned_at).date()
    page.goto(f"{url}/plan/?maaned={planned:%Y-%m}")
    entry = page.locator(f"li.entry[data-post='{post.pk}']")
    expect(entry).to_be_visible()
    screenshot("calendar-month")
    target = _pick_target(page, planned)
    entry.drag_to(page.locator(f"td.day[data-date='{target.isoformat()}']"))
    expect(page.locator("#calendar-status")).to_contain_text("flyttet")
    post.refresh_from_db()
    assert timezone.localtime(post.planned_at).date() == target
    assert post.status == PostStatus.SCHEDULED
    page.reload()
    expect(
        page.locator(
            f"td.day[data-date='{target.isoformat()}'] li.entry[data-post='{post.pk}']"
        )
    ).to_be_visible()
    page.goto(f"{url}/plan/uge/?uge={target.isoformat()}")
    screenshot("calendar-week")

    # Keyboard: move it back with the date field on the post page.
    page.goto(f"{url}/plan/opslag/{post.pk}/")
    page.focus("#id_day")
    page.fill("#id_day", planned.isoformat())
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("flyttet")
    post.refresh_from_db()
    assert timezone.localtime(post.planned_at).date() == planned

    # 5. An edit after approval sends it back to review.
    page.click("main a.button:has-text('Rediger')")
    fb = desk.channels["facebook"].pk
    page.fill(f"#id_v{fb}-text", "Rettet: vinterbadning søndag kl. 10–14.")
    page.click("main button[type=submit]:has-text('Gem')")
    expect(page.locator(".messages")).to_contain_text("godkendes igen")
    page.goto(f"{url}/plan/opslag/{post.pk}/")
    expect(page.locator("#post-status")).to_have_text("Til godkendelse")
    screenshot("detail-back-to-review")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    # The contributor sees what happened to the proposal.
    login(desk.contributor)
    page.goto(f"{url}/plan/forslag/")
    expect(page.locator("main")).to_contain_text(re.compile("Taget med i planen"))


def test_calendar_is_usable_by_keyboard(desk, live_server, page, login, soon):
    from playwright.sync_api import expect

    from kanal.planning import actions

    post = actions.create_post(
        actor=desk.editor,
        title="Biblioteksnat",
        channels=[desk.channels["facebook"]],
        planned_at=soon,
    )
    login(desk.editor)
    page.goto(f"{live_server.url}/plan/?maaned={soon:%Y-%m}")
    link = page.locator(f"li.entry[data-post='{post.pk}'] a")
    for _ in range(200):
        page.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("entry never received focus")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Biblioteksnat")


def test_pages_render_and_are_screenshotted(
    desk, live_server, page, login, soon, screenshot
):
    from playwright.sync_api import expect

    from kanal.planning import actions
    from kanal.planning.tests.factories import image_upload

    asset = actions.upload_media(
        actor=desk.editor,
        upload=image_upload(),
        alt_text="Rådhuspladsen",
        credit="Foto: KK",
    )
    actions.upload_media(
        actor=desk.editor, upload=image_upload("panorama.png", 3000, 1000, "PNG")
    )
    post = actions.create_post(
        actor=desk.editor,
        title="Julemarked på Højbro Plads",
        shared_text="Julemarkedet åbner fredag.",
        channels=[desk.channels["facebook"], desk.channels["instagram"]],
        planned_at=soon,
        category="Arrangementer",
        purposes=["branding"],
    )
    ig = post.variants.get(channel__network="instagram")
    actions.update_post(
        post,
        actor=desk.editor,
        variants={ig.channel_id: {"media": [asset], "text": "Julemarked 🎄"}},
    )
    actions.add_comment(post, actor=desk.editor, body="Husk #voreskbh")
    login(desk.editor)
    base = live_server.url
    for name, path, heading in [
        ("list", "/plan/liste/", "Opslag"),
        ("media", "/plan/medier/", "Mediebibliotek"),
        ("media-detail", f"/plan/medier/{asset.pk}/", "foto.jpg"),
        ("report", "/plan/rapport/", "Strategirapport"),
        ("revisions", f"/plan/opslag/{post.pk}/revisioner/{ig.pk}/", "Revisioner"),
        ("detail", f"/plan/opslag/{post.pk}/", "Julemarked"),
        ("ical", "/plan/kalenderabonnement/", "kalender"),
        ("campaigns", "/plan/kampagner/", "Kampagner"),
        ("dashboard", "/", "Goddag"),
        ("notifications", "/notifikationer/", "Notifikationer"),
    ]:
        page.goto(base + path)
        expect(page.locator("h1")).to_contain_text(heading)
        screenshot(name)


def test_cadence_chips_follow_a_drag_and_drop(desk, live_server, page, login):
    """The chips are the server's counts again right after a move (issue 11)."""
    from datetime import datetime, time

    from playwright.sync_api import expect

    from kanal.planning import actions
    from kanal.planning.timeutil import COPENHAGEN

    day = timezone.localdate() + timedelta(days=3)
    posts = []
    for hour in (10, 12):
        post = actions.create_post(
            actor=desk.editor,
            title=f"Koncert kl. {hour}",
            shared_text="Koncert i Kulturhuset.",
            channels=[desk.channels["facebook"]],
            planned_at=datetime.combine(day, time(hour), tzinfo=COPENHAGEN),
        )
        actions.submit_post(post, actor=desk.editor)
        actions.approve_post(post, actor=desk.approver)
        posts.append(post)
    login(desk.editor)
    page.goto(f"{live_server.url}/plan/?maaned={day:%Y-%m}")
    page.locator(f"td.day[data-date='{day.isoformat()}']").scroll_into_view_if_needed()
    source = page.locator(
        f"td.day[data-date='{day.isoformat()}'] .cadence .cad[title^='Facebook']"
    )
    expect(source).to_have_attribute("title", re.compile(r"Facebook .* 2 af 2–4"))
    target = _pick_target(page, day)
    page.locator(f"li.entry[data-post='{posts[0].pk}']").drag_to(
        page.locator(f"td.day[data-date='{target.isoformat()}']")
    )
    expect(page.locator("#calendar-status")).to_contain_text("flyttet")
    expect(page.locator("table.calendar")).to_have_attribute("data-refreshed", "1")
    expect(source).to_have_attribute("title", re.compile(r"Facebook .* 1 af 2–4"))
    expect(source).to_have_class(re.compile(r"\bgap\b"))
    moved = page.locator(
        f"td.day[data-date='{target.isoformat()}'] .cadence .cad[title^='Facebook']"
    )
    expect(moved).to_have_attribute("title", re.compile(r"Facebook .* 1 af 2–4"))
    # The dragged entry is still draggable after the refresh.
    expect(
        page.locator(
            f"td.day[data-date='{target.isoformat()}'] "
            f"li.entry[data-post='{posts[0].pk}'][draggable=true]"
        )
    ).to_be_visible()


def test_the_editor_searches_the_library_by_keyboard(desk, live_server, page, login):
    """An older photo, not among those listed, is found by its tag and used."""
    from playwright.sync_api import expect

    from kanal.planning import actions
    from kanal.planning.selectors import MEDIA_CHOICES
    from kanal.planning.tests.factories import image_upload

    old = actions.upload_media(
        actor=desk.editor,
        upload=image_upload("havnebad.jpg"),
        alt_text="Børn bader i Islands Brygge Havnebad",
        tags=["islands brygge"],
    )
    for n in range(MEDIA_CHOICES):
        actions.upload_media(
            actor=desk.editor, upload=image_upload(f"ny-{n}.jpg"), alt_text=f"Nyt {n}"
        )
    post = actions.create_post(
        actor=desk.editor,
        title="Sommerbad",
        shared_text="Havnebadet åbner.",
        channels=[desk.channels["instagram"]],
        planned_at=timezone.now() + timedelta(days=2),
    )
    ig = desk.channels["instagram"].pk
    login(desk.editor)
    page.goto(f"{live_server.url}/plan/opslag/{post.pk}/rediger/")
    expect(page.locator(f"#preview-{ig}")).to_contain_text("Instagram kræver")
    page.locator(f"#media-search-{ig}").focus()
    page.keyboard.type("islands brygge")
    page.keyboard.press("Enter")  # must not submit the editor
    box = page.locator(f"#media-results-{ig} input[value='{old.pk}']")
    expect(box).to_be_visible()
    page.keyboard.press("Tab")
    expect(box).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator(f"#preview-{ig}")).to_contain_text("overholder netværkets")
    page.click("main button[type=submit]:has-text('Gem')")
    expect(page.locator(".messages")).to_contain_text("Opslaget er gemt")
    assert list(post.variants.get().media.all()) == [old]


def test_media_detail_says_what_kanal_sends_each_network(
    desk, live_server, page, login, screenshot
):
    """A wide PNG: the page says, per channel, what Kanal's own rendition
    will be (JPEG for Instagram, a white border, nothing cut away), and
    offers no conversion that would crop it."""
    from playwright.sync_api import expect

    from kanal.planning import actions
    from kanal.planning.tests.factories import image_upload

    asset = actions.upload_media(
        actor=desk.editor, upload=image_upload("panorama.png", 3000, 1000, "PNG"),
        alt_text="Havnen set fra Knippelsbro",
    )
    login(desk.editor)
    page.goto(f"{live_server.url}/plan/medier/{asset.pk}/")
    instagram = page.locator("table.media-fit tr[data-network='instagram']")
    expect(instagram).to_contain_text("Billedet sendes som JPEG, fordi Instagram "
                                      "ikke tager PNG.")
    expect(instagram).to_contain_text("så intet af billedet skæres væk")
    expect(page.locator("table.media-fit tr[data-network='facebook']")) \
        .to_contain_text("Passer uden ændringer.")
    expect(page.get_by_role("button", name=re.compile("Konvertér"))).to_have_count(0)
    screenshot("media-fit")


def test_text_typed_before_the_script_arrives_is_previewed(
    desk, live_server, page, login
):
    """On a slow connection a person types before planning.js has loaded; the
    preview catches up when it arrives instead of showing the old text."""
    from playwright.sync_api import expect

    from kanal.planning import actions

    post = actions.create_post(
        actor=desk.editor,
        title="Sommerbad",
        shared_text="Havnebadet åbner.",
        channels=[desk.channels["facebook"]],
        planned_at=timezone.now() + timedelta(days=2),
    )
    fb = desk.channels["facebook"].pk
    login(desk.editor)
    held = []
    page.route("**/planning/planning.js", lambda route: held.append(route))
    page.goto(f"{live_server.url}/plan/opslag/{post.pk}/rediger/", wait_until="commit")
    text = page.locator(f"#variant-{fb} textarea").first
    text.fill("Nu med livreddere hver dag i juli.")
    assert held, "the script was not requested"
    held[0].continue_()
    expect(page.locator(f"#preview-{fb}")).to_contain_text(
        "Nu med livreddere hver dag i juli.")
