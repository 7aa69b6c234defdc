"""The issue's "done when", in a real browser against the sandbox: citizens
comment, the comments appear in the inbox without a reload, an editor
assigns one to BUF, a BUF contributor answers with a standard answer, the
answer is on the sandbox once, and a comment with a CPR number is masked,
hidden on the network and flagged. Each inbox page is checked with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kanal.core.tests import a11y
from kanal.inbox.models import InboxItem, InboxSettings, StandardAnswer
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory
from kanal.publishing.tests.conftest import sandbox_channel
from kanal.publishing.worker import PublishingWorker

pytestmark = [pytest.mark.browser, pytest.mark.sandbox,
              pytest.mark.django_db(transaction=True)]


def no_axe_violations(page):
    a11y.require_axe()
    violations = a11y.run_axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]


def worker_round():
    PublishingWorker(concurrency=2, name="browser").run(once=True)


def new_page(chromium, live_server):
    # axe is added as a script: the CSP is bypassed for the test's own script.
    context = chromium.new_context(
        locale="da-DK", timezone_id="Europe/Copenhagen", base_url=live_server.url,
        viewport={"width": 1280, "height": 900}, bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def test_citizens_comment_the_desk_assigns_buf_answers_once_cpr_is_hidden(
    chromium, live_server, browser_login, member, organisation,
    sandbox, settings,
):
    from kanal.channels.adapters import adapter_for
    from kanal.channels.networks.base import OutgoingPost

    settings.KANAL_META_APP_SECRET = sandbox.ctx.webhooks.app_secret
    sandbox.ctx.webhooks.default_url = f"{live_server.url}/webhooks/{{network}}/"
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    buf = AdministrationFactory(organisation=organisation, code="BUF",
                                name="Børne- og Ungdomsforvaltningen")
    channel = sandbox_channel(sandbox, organisation, "facebook",
                              owner_administration=kff,
                              display_name="Københavns Kommune")
    InboxSettings.objects.create(organisation=organisation, hide_personal_data=True)
    StandardAnswer.objects.create(
        organisation=organisation, title="Skolestart",
        text="Hej {fornavn}. Læs om skolestart på kk.dk/skolestart.")
    editor = member(Role.EDITOR, administration=kff)
    contributor = member(Role.CONTRIBUTOR, administration=buf)
    post = adapter_for(channel).publish(
        OutgoingPost(text="Snart starter skoleåret"), idempotency_key="post-b")
    worker_round()  # the first poll: nothing yet

    editor_context, page = new_page(chromium, live_server)
    browser_login(page, editor)
    page.goto("/indbakke/")
    expect(page.get_by_text("Der er ingen henvendelser endnu.")).to_be_visible()
    no_axe_violations(page)

    # A citizen comments; Meta's webhook reaches Kanal, the worker processes it.
    sandbox.citizen("facebook", "Hvornår starter skolen efter sommerferien?",
                    parent_id=post.remote_id, author_name="Fatima Yilmaz")
    sandbox.ctx.webhooks.drain()
    worker_round()
    row = page.locator("#inbox-rows tr", has_text="Fatima Yilmaz")
    expect(row).to_be_visible(timeout=15_000)  # no reload: the list polls
    expect(page.locator("#inbox-live")).to_contain_text("nye henvendelser")

    row.get_by_role("link", name="Fatima Yilmaz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Samtale")
    no_axe_violations(page)
    page.get_by_label("Forvaltning").select_option(
        label="BUF – Børne- og Ungdomsforvaltningen")
    page.get_by_role("button", name="Tildel").click()
    expect(page.get_by_text("Samtalen er tildelt BUF.")).to_be_visible()

    # The BUF contributor sees it and answers with the standard answer.
    context, buf_page = new_page(chromium, live_server)
    browser_login(buf_page, contributor)
    buf_page.goto("/indbakke/")
    buf_page.get_by_role("link", name="Fatima Yilmaz").click()
    buf_page.get_by_label("Standardsvar").select_option(label="Skolestart")
    buf_page.get_by_role("button", name="Send svar").click()
    expect(buf_page.get_by_text("Svaret sendes nu.")).to_be_visible()
    no_axe_violations(buf_page)
    worker_round()
    worker_round()
    buf_page.reload()
    expect(buf_page.locator(".kind-answer")).to_contain_text("Sendt")
    comment = InboxItem.objects.get(author_name="Fatima Yilmaz")
    answers = [i for i in sandbox.items("facebook")
               if i.get("parent_id") == comment.remote_id]
    assert [a["text"] for a in answers] == [
        "Hej Fatima. Læs om skolestart på kk.dk/skolestart."]
    context.close()

    # A comment with a CPR number: masked, hidden on the network, flagged.
    made = sandbox.citizen("facebook", "Mit CPR-nummer er 050505-1234, hjælp!",
                           parent_id=post.remote_id, author_name="Lars Holm")
    sandbox.ctx.webhooks.drain()
    worker_round()
    page.goto("/indbakke/")
    cpr_row = page.locator("#inbox-rows tr", has_text="Lars Holm")
    expect(cpr_row).to_contain_text("[CPR-nummer skjult]")
    expect(cpr_row).to_contain_text("Personoplysninger")
    assert "050505-1234" not in page.content()
    assert sandbox.item("facebook", made["item_id"])["hidden"] is True
    cpr_row.get_by_role("link", name="Lars Holm").click()
    expect(page.get_by_text("Skjult på netværket").first).to_be_visible()
    # Only the opened full text shows it; the reply form's choice does not.
    expect(page.get_by_label("Svar på")).not_to_contain_text("050505-1234")
    no_axe_violations(page)
    page.screenshot(path="/tmp/inbox-cpr-detail.png", full_page=True)
    editor_context.close()
