"""Writing a post's variant with a screen reader (W3-5, the post editor's
sibling of the inbox's counter): the preview was a live region, so the whole
preview was read out after every pause in typing. Now a screen reader is
told the network's verdict when it changes: a problem, and passing again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kanal.planning import actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_preview_tells_only_a_changed_verdict(desk, live_server, page, login):
    post = actions.create_post(
        actor=desk.editor, title="Sommerbad", shared_text="Havnebadet åbner.",
        channels=[desk.channels["x"]],
        planned_at=timezone.now() + timedelta(days=2),
    )
    x = desk.channels["x"].pk
    login(desk.editor)
    page.goto(f"{live_server.url}/plan/opslag/{post.pk}/rediger/")
    preview = page.locator(f"#preview-{x}")
    told = page.locator("#live-polite")
    expect(preview).to_contain_text("overholder netværkets")
    assert preview.evaluate(
        "e => e.closest('[aria-live], [role=status], [role=alert]') === null")
    text = page.locator(f"#id_v{x}-text")
    text.fill("Havnebadet åbner lørdag.")
    expect(preview).to_contain_text("Havnebadet åbner lørdag.")
    expect(told).to_have_text("")

    text.fill("Havnebadet åbner. " * 20)
    expect(preview).to_contain_text("tillader højst 280")
    expect(told).to_contain_text("tillader højst 280")
    expect(told).to_contain_text("(X (Twitter)): Teksten fylder")

    text.fill("Havnebadet åbner søndag.")
    expect(preview).to_contain_text("overholder netværkets")
    expect(told).to_contain_text("Varianten overholder netværkets regler.")
