"""The quarterly report, and reports by e-mail: a member subscribes; the job
renders a period's report once and sends it once per member, through the
notifications' e-mail path, however often it runs or wherever it stopped."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from kanal.core.models import AuditEntry
from kanal.insights import actions, report, tasks
from kanal.insights.models import RenderedReport, ReportDelivery, ReportSubscription
from kanal.notifications import actions as notification_actions
from kanal.notifications.actions import set_preferences
from kanal.notifications.models import Notification
from kanal.organisations.roles import Role
from kanal.publishing.periodic import PERIODIC_JOBS

from .factories import metric, published_post

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CPH)
# The job runs early in December: November (and Q3) are complete.
DECEMBER = datetime(2026, 12, 1, 6, 0, tzinfo=CPH)


@pytest.fixture
def november(script, channel):
    post = published_post(channel, published_at=NOW - timedelta(hours=2),
                          category="Borgerservice", purposes=["service"])
    script.posts[post.remote_id] = [metric("post_media_view", 12345, "views"),
                                    metric("post_reactions_like_total", 67, "likes")]
    script.account = [metric("followers_count", 43210, "followers")]
    tasks.collect_metrics(now=NOW)
    tasks.update_rollups(now=NOW)
    # The quarter before: one post in August.
    august = NOW - timedelta(days=100)
    earlier = published_post(channel, published_at=august, category="Kultur")
    script.posts = {earlier.remote_id: [metric("post_media_view", 1000, "views")]}
    tasks.collect_metrics(now=NOW + timedelta(minutes=1))
    tasks.update_rollups(now=NOW + timedelta(minutes=1))


@pytest.mark.django_db
@pytest.mark.usefixtures("november")
def test_the_quarter_report_compares_with_the_quarter_before_and_the_targets(
    organisation,
):
    pdf = report.quarterly_report(organisation, date(2026, 11, 1), compress=False)
    assert pdf.startswith(b"%PDF")
    assert b"Sociale medier: kvartalsrapport" in pdf
    assert b"4. kvartal 2026" in pdf
    assert b"3. kvartal 2026" in pdf
    assert b"Kvartalet mod kvartalet f" in pdf
    # This quarter's views against the quarter before's: +1.134,5 %.
    assert b"12.345" in pdf and b"1.000" in pdf
    assert b"+1.134,5 %" in pdf
    assert b"Strategiens m" in pdf


def test_quarters_and_last_complete_periods():
    assert report.quarter_period(date(2026, 11, 20)) == report.Period(
        date(2026, 10, 1), date(2026, 12, 31))
    assert report.quarter_period(date(2026, 2, 28)).end == date(2026, 3, 31)
    assert report.last_complete_period("quarterly", date(2026, 1, 5)) == (
        report.Period(date(2025, 10, 1), date(2025, 12, 31)))
    assert report.last_complete_period("monthly", date(2026, 3, 1)) == (
        report.Period(date(2026, 2, 1), date(2026, 2, 28)))


@pytest.mark.django_db
@pytest.mark.usefixtures("november")
def test_the_report_pages_render_as_pictures(organisation, tmp_path):
    import pypdfium2

    pdf = report.quarterly_report(organisation, date(2026, 11, 1))
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) >= 1
    for number in range(len(document)):
        image = document[number].render(scale=1.2).to_pil()
        assert image.width > 500 and image.height > 700
        # Not a blank page: dark pixels (text, bars) are there.
        dark = sum(image.convert("L").histogram()[:128])
        assert dark > 1000
        image.save(tmp_path / f"kvartal-{number + 1}.png")


@pytest.mark.django_db
@pytest.mark.usefixtures("november")
def test_the_quarter_report_downloads_as_pdf(member, client_for):
    from django.utils import timezone

    client = client_for(member(Role.ANALYST))
    response = client.get(reverse("insights:quarterly_report"), {"kvartal": "2026-4"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "kanal-kvartalsrapport-2026-4.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    # Without a quarter: the last complete one.
    last = report.last_complete_period("quarterly", timezone.localdate()).start
    response = client.get(reverse("insights:quarterly_report"))
    assert (f"kanal-kvartalsrapport-{last.year}-{(last.month + 2) // 3}.pdf"
            in response["Content-Disposition"])


@pytest.mark.django_db
@pytest.mark.parametrize("quarter", ["2026-5", "2026-0", "fjerde", "1999-1"])
def test_a_bad_quarter_is_a_danish_400(member, client_for, quarter):
    client = client_for(member(Role.EDITOR))
    response = client.get(reverse("insights:quarterly_report"), {"kvartal": quarter})
    assert response.status_code == 400
    assert "Skriv kvartalet som år-kvartal" in response.content.decode()


@pytest.mark.django_db
def test_a_member_subscribes_on_the_reports_page(member, client_for):
    analyst = member(Role.ANALYST)
    client = client_for(analyst)
    page = client.get(reverse("insights:reports"))
    assert page.status_code == 200
    assert "Rapporter på e-mail" in page.content.decode()
    response = client.post(reverse("insights:reports"),
                           {"cadences": ["monthly", "quarterly"]})
    assert response.status_code == 302
    assert set(ReportSubscription.objects.filter(membership=analyst)
               .values_list("cadence", flat=True)) == {"monthly", "quarterly"}
    client.post(reverse("insights:reports"), {"cadences": ["quarterly"]})
    assert list(ReportSubscription.objects.filter(membership=analyst)
                .values_list("cadence", flat=True)) == ["quarterly"]
    assert AuditEntry.objects.filter(
        event="insights.report_subscription.changed").count() == 2
    bad = client.post(reverse("insights:reports"), {"cadences": ["daily"]})
    assert bad.status_code == 400
    assert "Vælg månedsrapporten" in bad.content.decode()


@pytest.mark.django_db
def test_a_contributor_cannot_subscribe(member, client_for):
    client = client_for(member(Role.CONTRIBUTOR))
    response = client.post(reverse("insights:reports"), {"cadences": ["monthly"]})
    assert response.status_code == 403
    assert not ReportSubscription.objects.exists()


def subscribe(member, *cadences):
    return actions.set_report_subscriptions(actor=member, cadences=cadences)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("november")
def test_the_job_sends_each_subscriber_the_report_once(member, organisation):
    ana = member(Role.ANALYST)
    eva = member(Role.EDITOR)
    subscribe(ana, "monthly")
    subscribe(eva, "monthly", "quarterly")
    assert "insights_report_emails" in {job.name for job in PERIODIC_JOBS}
    assert tasks.send_report_emails(now=DECEMBER, dry_run=True) == 3
    assert not mail.outbox
    assert tasks.send_report_emails(now=DECEMBER) == 3
    assert sorted((m.to[0], m.attachments[0][0]) for m in mail.outbox) == sorted([
        (ana.user.email, "kanal-maanedsrapport-2026-11-01.pdf"),
        (eva.user.email, "kanal-maanedsrapport-2026-11-01.pdf"),
        (eva.user.email, "kanal-kvartalsrapport-2026-07-01.pdf"),
    ])
    monthly = next(m for m in mail.outbox if "maaned" in m.attachments[0][0])
    _name, content, mime_type = monthly.attachments[0]
    assert mime_type == "application/pdf" and content.startswith(b"%PDF")
    assert "Månedsrapport for november 2026 er klar" in monthly.subject
    # Rendered once per period, not once per member.
    assert RenderedReport.objects.count() == 2
    # Run again (the same day, or later in the month): nothing more.
    assert tasks.send_report_emails(now=DECEMBER + timedelta(hours=1)) == 0
    assert tasks.send_report_emails(now=DECEMBER + timedelta(days=20)) == 0
    assert len(mail.outbox) == 3
    assert Notification.objects.filter(kind="report_ready").count() == 3
    # The notification links to the stored report.
    note = Notification.objects.filter(recipient=ana).get()
    assert note.url == reverse("insights:stored_report",
                               args=[RenderedReport.objects.get(
                                   cadence="monthly").pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("november")
def test_a_run_that_crashes_half_way_is_finished_by_the_next_without_repeats(
    member, monkeypatch
):
    members = [member(Role.ANALYST) for _ in range(3)]
    for one in members:
        subscribe(one, "monthly")
    renders = []
    original_render = report.render_report

    def counting_render(*args, **kwargs):
        renders.append(args[1])
        return original_render(*args, **kwargs)

    monkeypatch.setattr(report, "render_report", counting_render)
    original_notify = notification_actions.notify

    def crash_on_second(recipients, **kwargs):
        if next(iter(recipients)).pk == members[1].pk:
            raise SystemExit("the worker was stopped")
        return original_notify(recipients, **kwargs)

    monkeypatch.setattr(notification_actions, "notify", crash_on_second)
    with pytest.raises(SystemExit):
        tasks.send_report_emails(now=DECEMBER)
    assert [m.to[0] for m in mail.outbox] == [members[0].user.email]
    assert ReportDelivery.objects.count() == 1
    monkeypatch.setattr(notification_actions, "notify", original_notify)
    assert tasks.send_report_emails(now=DECEMBER + timedelta(minutes=5)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        m.user.email for m in members)
    assert renders == ["monthly"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("november")
def test_a_member_who_turned_report_emails_off_gets_it_in_the_app_only(member):
    ana = member(Role.ANALYST)
    subscribe(ana, "monthly")
    set_preferences(actor=ana, email_kinds=[], language="da")
    assert tasks.send_report_emails(now=DECEMBER) == 1
    assert not mail.outbox
    assert Notification.objects.filter(recipient=ana, kind="report_ready").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("november")
def test_a_member_without_insights_gets_no_report(member):
    ana = member(Role.ANALYST)
    subscribe(ana, "monthly")
    ana.role = Role.CONTRIBUTOR
    ana.save(update_fields=["role"])
    assert tasks.send_report_emails(now=DECEMBER) == 0
    assert not mail.outbox


@pytest.mark.django_db
def test_a_stored_report_is_only_for_its_organisation(member, client_for,
                                                      organisation):
    from kanal.organisations.tests.factories import MembershipFactory

    stored = RenderedReport.objects.create(
        organisation=organisation, cadence="monthly", period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30), content=b"%PDF-1.4 x", rendered_at=NOW,
        file_name="kanal-maanedsrapport-2026-11-01.pdf")
    url = reverse("insights:stored_report", args=[stored.pk])
    response = client_for(member(Role.ANALYST)).get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 x"
    stranger = MembershipFactory(role=Role.ADMIN)
    assert client_for(stranger).get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_one_organisations_report_that_cannot_be_made_does_not_stop_the_others(
    member, organisation, monkeypatch
):
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        MembershipFactory,
        OrganisationFactory,
    )

    other = OrganisationFactory(name="Andenkommune", slug="anden")
    theirs = MembershipFactory(organisation=other, role=Role.ANALYST,
                               administration=AdministrationFactory(
                                   organisation=other, code="X"))
    ours = member(Role.ANALYST)
    subscribe(ours, "monthly")
    subscribe(theirs, "monthly")
    original_render = report.render_report

    def render(org, *args, **kwargs):
        if org.pk == organisation.pk:
            raise RecursionError("a category name the PDF cannot lay out")
        return original_render(org, *args, **kwargs)

    monkeypatch.setattr(report, "render_report", render)
    assert tasks.send_report_emails(now=DECEMBER) == 1
    assert [m.to[0] for m in mail.outbox] == [theirs.user.email]
