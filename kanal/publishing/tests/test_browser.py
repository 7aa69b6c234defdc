"""Crisis mode in a real browser: on, a crisis message to the sandbox, off."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from kanal.organisations.roles import Role
from kanal.publishing.models import Crisis, Publication, PublicationStatus
from kanal.publishing.worker import PublishingWorker

pytestmark = [pytest.mark.browser, pytest.mark.sandbox,
              pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
S = PublicationStatus


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"publishing-{name}.png"), full_page=True)


def test_crisis_on_message_to_the_sandbox_and_resume(
    browser_page, browser_login, member, organisation, queue, sandbox,
    channel,
):
    from kanal.channels import vault
    from kanal.channels.tests.factories import ChannelFactory

    account = sandbox.provision("mastodon", handle="krise", display_name="KK Krise")
    kk = ChannelFactory(
        organisation=organisation, network="mastodon", display_name="KK Mastodon",
        remote_id=account.account_id, handle=account.handle,
        base_url=sandbox.base_url("mastodon"),
        encrypted_credentials=vault.encrypt(account.tokens),
    )
    from datetime import timedelta

    from django.utils import timezone

    planned = queue(channel=kk, text="Planlagt: Kulturnat i aften",
                    planned_at=timezone.now() + timedelta(minutes=30))
    lead = member(Role.CRISIS_LEAD)
    page = browser_login(browser_page, lead)

    page.get_by_role("link", name="Krise").click()
    page.get_by_label("Årsag (skal udfyldes)").fill("Storm: hold jer inde")
    page.get_by_role("button", name="Slå krisetilstand til").click()
    banner = page.locator("#crisis-banner")
    assert "Storm: hold jer inde" in banner.inner_text()
    assert Publication.objects.get(pk=planned.pk).status == S.PAUSED
    _shot(page, "crisis-on")

    composer = page.get_by_role("region", name="Send krisebesked")
    composer.get_by_role("textbox", name="Krisebesked").fill(
        "Stormvarsel: Bliv inden døre i aften. Følg kk.dk for nyt."
    )
    # Only the sandbox's account (the fixture's other channel has no network).
    composer.get_by_label(f"Mastodon: {channel.display_name}", exact=True).uncheck()
    composer.get_by_label("Jeg bekræfter").check()
    page.get_by_role("button", name="Send krisebesked nu").click()
    _shot(page, "crisis-message-sent")
    # In main: the live region at the end of the page repeats the message.
    main = page.locator("main")
    assert main.get_by_text("Krisebeskeden sendes nu på 1 kanal.").is_visible()
    PublishingWorker(concurrency=2, name="browser").run(once=True)
    texts = [r["text"] for r in sandbox.published("mastodon", account.account_id)]
    sent = Publication.objects.filter(is_crisis=True)
    assert texts, list(sent.values_list("status", "error_detail", "channel__base_url"))
    assert texts == ["Stormvarsel: Bliv inden døre i aften. Følg kk.dk for nyt."]

    page.goto("/udgivelser/?vis=published")
    assert page.get_by_text("Krisebesked").first.is_visible()
    _shot(page, "operations-published")

    page.goto("/udgivelser/krise/")
    assert page.get_by_text("1 opslag er sat på pause").is_visible()
    page.get_by_label("Flyt", exact=True).check()
    _shot(page, "crisis-resume")
    page.get_by_role("button", name="Slå krisetilstand fra").click()
    assert page.get_by_text("Krisetilstand er slået fra.").first.is_visible()
    assert page.locator("#crisis-banner").count() == 0
    assert not Crisis.objects.filter(ended_at__isnull=True).exists()
    moved = Publication.objects.get(pk=planned.pk)
    assert moved.status == S.QUEUED
    assert moved.planned_at > timezone.now()
    # Nothing fired on resume: only the crisis message reached the network.
    assert len(sandbox.published("mastodon", account.account_id)) == 1


def test_editor_sees_failed_publication_with_reason_and_retries_it(
    browser_page, browser_login, member, queue
):
    from kanal.notifications.actions import notify

    pub = queue(text="Biblioteket holder lukket mandag")
    from django.utils import timezone

    # Tried once (so the button says "Prøv igen nu", not "Udgiv nu").
    Publication.objects.filter(pk=pub.pk).update(
        status=S.FAILED, attempts=1, first_sent_at=timezone.now(),
        error_kind="rejected",
        last_error="X afviste opslaget: teksten er for lang (300 af 280 tegn).",
    )
    editor = member(Role.EDITOR)
    notify([editor], kind="publication_failed", about=pub,
           params={"channel": "X", "why": "Teksten er for lang."})
    page = browser_login(browser_page, editor)
    main = page.locator("main")
    assert main.get_by_text("X: opslaget blev ikke udgivet.").is_visible()
    _shot(page, "dashboard-notifications")
    page.get_by_role("link", name="Udgivelser", exact=True).click()
    page.get_by_role("link", name="Fejlet (1)").click()
    assert page.get_by_text("teksten er for lang (300 af 280 tegn)").is_visible()
    _shot(page, "operations-failed")
    page.get_by_role("button", name="Prøv igen nu").click()
    assert page.locator("main").get_by_text("Udgivelsen sendes nu.").is_visible()
    assert Publication.objects.get(pk=pub.pk).status == S.QUEUED


def test_reason_and_network_answer_of_a_publication_the_engine_gave_up_on(
    browser_page, browser_login, member, queue, fake_network
):
    from kanal.channels.networks.errors import TransientError
    from kanal.publishing import conf

    from .conftest import run_once

    pub = queue(text="Svømmehallen i Valby er lukket")
    fake_network.script = [
        TransientError("Netværket havde en midlertidig fejl.", http_status=503,
                       network_message="Service Unavailable")
    ] * 10
    for _ in range(conf.get("MAX_ATTEMPTS")):
        Publication.objects.filter(pk=pub.pk).update(due_at=timezone.now())
        run_once()
    assert Publication.objects.get(pk=pub.pk).status == S.FAILED
    page = browser_login(browser_page, member(Role.EDITOR))
    page.goto("/udgivelser/?vis=failed")
    row = page.locator(f"#pub-{pub.pk}")
    assert row.get_by_text("gange i træk").is_visible()
    row.get_by_text("Hvad netværket svarede").click()
    assert row.get_by_text("HTTP 503 · Service Unavailable").is_visible()
    _shot(page, "operations-gave-up")
